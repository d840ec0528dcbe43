"""Waiting on a grading kernel outside nbclient's event loop, by polling its ZeroMQ sockets and
its call channel: a trusted call's reply (`call_in_kernel`), and a kernel settling after an
interrupt (`settles`).

What the kernel prints meanwhile is read and dropped as raw frames, never decoded
(`drop_output`): no verdict uses it, a message may be hundreds of megabytes, and left queued it
would delay the next cell's output past nbclient's time limit.
"""

import json
import time

import zmq
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError

from ..judge.channel import ChannelClosed

SETTLE_SECONDS = 10  # for a kernel to answer again after an interrupt
QUIET_SECONDS = 0.3  # a kernel's output is flushed every 0.2 s (ipykernel's OutStream)
PROBE_AFTER = 0.25  # seconds without a reply before asking whether the kernel is running the call at all
TIMED_OUT = object()
DELIMITER = b"<IDS|MSG>"  # between a Jupyter message's routing frames and its own
HEADER_LIMIT = 1 << 16  # bytes: a header, parent header or status bigger than this is not read
DROP_AT_ONCE = 1000  # output messages dropped before the grader looks at its clock again


class KernelUnresponsive(Exception):
    """The kernel did not answer after an interrupt."""


def call_in_kernel(kc, km, channel, request, frames, limit):
    """Send a call over the kernel's call `channel`; wait for its (reply, frames) within `limit`
    seconds, interrupting the kernel when they run out (`TIMED_OUT`). None when the kernel does
    not serve its channel; `KernelUnresponsive` when it ignores the interrupt; `DeadKernelError`
    when it died."""
    try:
        call_id = channel.send(request, frames, timeout=limit)
        answer = reply_to(kc, km, channel, call_id, time.monotonic() + limit)
        if answer is not TIMED_OUT:
            return answer
        run_sync(km.interrupt_kernel)()
        if reply_to(kc, km, channel, call_id, time.monotonic() + SETTLE_SECONDS) is TIMED_OUT:
            raise KernelUnresponsive()
        return TIMED_OUT
    except ChannelClosed:
        if not run_sync(km.is_alive)():
            raise DeadKernelError("the kernel died during a trusted call") from None
        return None


def reply_to(kc, km, channel, call_id, deadline):
    """The (reply, frames) to call `call_id`, None when the kernel is idle without having sent
    it, or `TIMED_OUT` at `deadline`.

    A call runs in the kernel's main thread, as a kernel_info request does. So once two
    kernel_info requests sent while waiting are answered with nothing of the reply in between,
    the kernel is not running the call (a notebook removed the handler): two, as the first may
    have been handled just before a call that was waiting with it."""
    shell, iopub = raw_socket(kc.shell_channel), raw_socket(kc.iopub_channel)
    poller = zmq.Poller()
    poller.register(channel.fileno(), zmq.POLLIN)
    poller.register(shell, zmq.POLLIN)
    poller.register(iopub, zmq.POLLIN)
    probe, answered_probes, quiet_since = None, 0, time.monotonic()
    while True:
        answer = channel.reply_to(call_id)
        if answer is not None:
            return answer
        now = time.monotonic()
        if now >= deadline:
            return TIMED_OUT
        if probe is None and now - quiet_since >= PROBE_AFTER:
            probe = kc.kernel_info()
        events = dict(poller.poll(int(1000 * min(1.0, deadline - now, PROBE_AFTER))))
        if not events and not run_sync(km.is_alive)():
            raise DeadKernelError("the kernel died during a trusted call")
        if iopub in events:
            drop_output(iopub)
        if channel.fileno() in events:
            channel.receive()
            answered_probes, quiet_since = 0, time.monotonic()
        if shell in events and answered(kc.session, shell, probe):
            probe, answered_probes = None, answered_probes + 1
            channel.receive()
            if answered_probes >= 2 and not channel.started():
                return None


def settles(kc, seconds):
    """True when, within `seconds`, the kernel answers a kernel_info request and then stays
    quiet on its output channel for `QUIET_SECONDS`.

    Called after a cell or a call ran out of time and was interrupted. Everything the kernel
    printed before is read and dropped here: a flood left queued (gigabytes, from a function
    that prints in a loop) would hold back the next cell's output until nbclient gave up on it,
    and that cell would be blamed for a kernel the timed-out code broke. A kernel still printing
    after the interrupt (a thread, say) or not answering does not settle."""
    shell, iopub = raw_socket(kc.shell_channel), raw_socket(kc.iopub_channel)
    poller = zmq.Poller()
    poller.register(shell, zmq.POLLIN)
    poller.register(iopub, zmq.POLLIN)
    probe = kc.kernel_info()
    deadline = time.monotonic() + seconds
    replied = caught_up = False
    quiet_since = None  # when output last came; read only once caught up
    while True:
        now = time.monotonic()
        if replied and caught_up and now - quiet_since >= QUIET_SECONDS:
            return True
        if now >= deadline:
            return False
        events = dict(poller.poll(int(1000 * min(deadline - now, QUIET_SECONDS)) + 1))
        if shell in events and not replied:
            replied = answered(kc.session, shell, probe)
        if iopub in events:
            caught_up = drop_output(iopub, until=probe) or caught_up
            quiet_since = time.monotonic()


def answered(session, shell, probe):
    """True when a message waiting on the `shell` socket is the reply to request `probe`; the
    other messages waiting there are read and dropped."""
    while True:
        try:
            _idents, message = session.recv(shell, mode=zmq.NOBLOCK)
        except (ValueError, RecursionError, KeyError, TypeError):  # a kernel may send anything
            continue
        if message is None:
            return False
        if probe is not None and message.get("parent_header", {}).get("msg_id") == probe:
            return True


def raw_socket(channel):
    """A blocking view of a kernel client channel's ZeroMQ socket, for polling and reading it
    here without nbclient's event loop."""
    return zmq.Socket.shadow(channel.socket.underlying)


def drop_output(iopub, until=None, most=DROP_AT_ONCE):
    """Read and drop the messages waiting on the kernel's output channel (at most `most`, so
    that a kernel sending without end cannot keep the caller here), without decoding their
    contents (a message may be hundreds of megabytes). True when one of them was the kernel's
    "idle" status after request `until`."""
    seen = False
    for _ in range(most):
        try:
            frames = iopub.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            break
        if until is not None and not seen:
            seen = is_idle_after(frames, until)
    return seen


def is_idle_after(frames, request):
    """True when a raw output-channel message is the "idle" status after request `request`.
    Only its small header frames are read; a kernel can send anything, so anything odd is no."""
    for index, frame in enumerate(frames):
        if len(frame) == len(DELIMITER) and frame.bytes == DELIMITER:
            break
    else:
        return False
    small = frames[index + 2:index + 4] + frames[index + 5:index + 6]  # header, parent header, content
    if len(small) < 3 or any(len(frame) >= HEADER_LIMIT for frame in small):
        return False
    try:
        header, parent, content = (json.loads(frame.bytes) for frame in small)
        return (header.get("msg_type") == "status" and parent.get("msg_id") == request
                and content.get("execution_state") == "idle")
    except (ValueError, AttributeError, TypeError, RecursionError):
        return False
