"""The grader's end of the call channel: a unix socket of the kernel's, one call at a time.

The kernel's harness listens on a unix socket in the kernel's socket folder (its path is the
kernel's ``KIT_CALL_SOCKET``), in the kernel's main thread. A message either way is a header
(the JSON's length and the number of binary frames), the JSON, then each frame as its length and
its bytes. A request's JSON carries an ``id``; the reply to it carries the same. This costs a
fraction of what a Jupyter message costs a kernel (signing, status messages on iopub, flushing
the output streams, a hop through ipykernel's shell thread): about 0.05 ms of kernel time per
call instead of 4 ms.

Everything read here comes from the student's process: a message is read within limits on its
size, and a message that breaks them, or a stream that is not messages, breaks the channel for
the rest of the kernel's life (its calls then get no answer).
"""

import errno
import json
import os
import socket
import struct

from .wire import MAX_REPLY_BYTES, WireError

CALL_SOCKET = "KIT_CALL_SOCKET"  # the kernel's environment variable naming its call socket's path
HEADER = struct.Struct("<II")  # the JSON's length in bytes, the number of frames
FRAME = struct.Struct("<Q")  # a frame's length in bytes
MAX_JSON_BYTES = 16 << 20
MAX_FRAMES = 1 << 16
CHUNK = 1 << 20


class ChannelClosed(Exception):
    """The kernel's end is gone: closed, or never there."""


def pack(message, frames):
    """The bytes of one message: header, JSON, and each frame with its length."""
    text = json.dumps(message).encode()
    parts = [HEADER.pack(len(text), len(frames)), text]
    for frame in frames:
        view = memoryview(frame).cast("B")
        parts += [FRAME.pack(view.nbytes), view]
    return parts


MAX_SOCKET_PATH = 107  # bytes of a unix socket's path (sun_path holds 108, with the closing zero)


class CallChannel:
    """A connection to one kernel's call socket at `path`: `send` a request, `receive` what the
    kernel sends back as it arrives, `reply_to` a request once its reply is all there."""

    def __init__(self, path):
        self.path = str(path)
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            # The kernel could not listen there, and every call would go unanswered.
            raise ValueError(f"the kernel's call socket {self.path} is {len(os.fsencode(self.path))} bytes long, more "
                             f"than the {MAX_SOCKET_PATH} a unix socket's path may be: set TMPDIR to a shorter folder")
        self.socket = None
        self.buffer = bytearray()
        self.calls = 0

    def connect(self):
        """Connect when not connected yet; `ChannelClosed` when the kernel does not listen."""
        if self.socket is not None:
            return
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.path)
        except OSError as error:
            connection.close()
            raise ChannelClosed(f"no call socket ({errno.errorcode.get(error.errno, error)})") from None
        self.socket = connection

    def send(self, request, frames, timeout):
        """Send `request` (JSON-able, without its id) and `frames`; the request's id."""
        self.connect()
        self.calls += 1
        message = dict(request, id=self.calls)
        self.socket.settimeout(timeout)  # a kernel that stops reading must not hold the grader
        try:
            self._send_all(pack(message, frames))
        except (OSError, TimeoutError) as error:
            self.close()
            raise ChannelClosed(f"the request could not be sent ({type(error).__name__})") from None
        finally:
            if self.socket is not None:
                self.socket.setblocking(False)
        return self.calls

    def _send_all(self, parts):
        for part in parts:
            self.socket.sendall(part)

    def fileno(self):
        return self.socket.fileno()

    def receive(self):
        """Read what the kernel has sent so far, without waiting; `ChannelClosed` at its end."""
        while True:
            try:
                chunk = self.socket.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                raise ChannelClosed("the kernel closed the call socket")
            self.buffer += chunk
            if len(self.buffer) > MAX_JSON_BYTES + MAX_REPLY_BYTES + 8 * MAX_FRAMES + HEADER.size:
                self.close()
                raise WireError("sent more than any reply may hold")

    def started(self):
        """True when part of a message has arrived."""
        return bool(self.buffer)

    def reply_to(self, call_id):
        """(reply, frames) of request `call_id` once it has all arrived, else None; replies to
        other requests are skipped. `WireError` (and the channel closed) for a malformed message."""
        while True:
            message = self._next_message()
            if message is None:
                return None
            reply, frames = message
            if isinstance(reply, dict) and reply.get("id") == call_id and type(reply.get("id")) is int:
                return reply, frames

    def _next_message(self):
        buffer = self.buffer
        if len(buffer) < HEADER.size:
            return None
        size, count = HEADER.unpack_from(buffer)
        if size > MAX_JSON_BYTES or count > MAX_FRAMES:
            self._break("sent a reply over the size limits")
        offset, ends = HEADER.size + size, []
        for _ in range(count):
            if len(buffer) < offset + FRAME.size:
                return None
            (length,) = FRAME.unpack_from(buffer, offset)
            if length > MAX_REPLY_BYTES:
                self._break("sent a reply over the size limits")
            offset += FRAME.size
            ends.append((offset, offset + length))
            offset += length
        if len(buffer) < offset:
            return None
        try:
            reply = json.loads(bytes(buffer[HEADER.size:HEADER.size + size]))
        except (ValueError, RecursionError):
            self._break("sent a reply that is not JSON")
        frames = [bytes(buffer[start:end]) for start, end in ends]
        del buffer[:offset]
        return reply, frames

    def _break(self, why):
        self.close()
        raise WireError(why)

    def close(self):
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        self.buffer = bytearray()
