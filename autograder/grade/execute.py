"""nbgrader's Execute step with trusted verdicts: the notebook runs in a sandboxed kernel, every
graded cell is judged in this process.

The kernel runs the student's cells and the released read-only cells, as nbgrader would. It
never runs a hidden test cell and never holds a check, a reference or an expected value: at each
graded cell this process calls the student's function in the kernel (`RemoteFunction`) on inputs
it chose, judges the plain data that comes back, and writes the verdict as the cell's output,
from which nbgrader's own SaveAutoGrades scores it. When a cell or a call kills the kernel (or
leaves it deaf to interrupts), a fresh kernel replays the cells that ran before, without that
cell, and the run goes on: only what that cell feeds loses points.
"""

import atexit
import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import zmq
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode, default

from .. import assignments
from ..assignments import VISIBLE_TITLE
from ..checks.runner import judge
from ..defaults import (KERNEL_MEMORY_BYTES, KERNEL_PROCESSES, KERNEL_WORK_BYTES, MAX_OUTPUT_BYTES,
                        SUBMISSION_SECONDS)
from ..grade_ids import VISIBLE, cell_grade_id, parse_grade_id
from ..judge.channel import CALL_SOCKET, CallChannel, ChannelClosed
from ..judge.remote import KernelStopped, RemoteFunction
from ..sandbox.kernel import SandboxedKernelManager
from ..sandbox.policy import Sandbox
from .warm import KERNEL_ENVIRONMENT, warm_pool

OUTPUT_DROPPED = ("[The grader kept no more of this notebook's output: its cells had printed or shown more than "
                  "{limit} MiB.]\n")
STOPPED = "stopped the Python kernel (a crash, a killed process or running out of memory)"
TOO_SLOW = "did not finish in the time allowed for one cell: an endless loop, or very slow code?"
STOPPED_FUNCTION = ("def {name}(*args, **kwargs):\n"
                    "    raise RuntimeError(\"When this notebook was graded, {name} stopped the Python kernel "
                    "(a crash, a killed process or running out of memory), so it was replaced by this error.\")")
MAX_RESTARTS = 6
SETTLE_SECONDS = 10  # for a kernel to answer again after an interrupt
QUIET_SECONDS = 0.3  # a kernel's output is flushed every 0.2 s (ipykernel's OutStream)
PROBE_AFTER = 0.25  # seconds without a reply before asking whether the kernel is running the call at all
TIMED_OUT = object()
DELIMITER = b"<IDS|MSG>"  # between a Jupyter message's routing frames and its own
HEADER_LIMIT = 1 << 16  # bytes: a header, parent header or status bigger than this is not read
DROP_AT_ONCE = 1000  # output messages dropped before the grader looks at its clock again
# A grading kernel lives for one notebook: IPython's input history database (an SQLite write per
# cell, from a thread of its own) would outlive nothing. ``In`` and ``Out`` work without it.
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


class KernelUnresponsive(Exception):
    """The kernel did not answer after an interrupt."""


class ProcessLimitHit(KernelUnresponsive):
    """A cell started more processes than the sandbox allows. A kernel whose sandbox is full
    cannot be trusted to work (it needs threads of its own), so it is replaced."""


def graded_cell(cell, assignment):
    """(function, aspect) of a hidden test cell of `assignment`, (function, "visible") of a
    visible one, else None."""
    parsed = parse_grade_id(cell_grade_id(cell) or "", assignment.functions) if cell.cell_type == "code" else None
    return parsed if parsed and (parsed[1] == VISIBLE or parsed in assignment.aspects) else None


def verdict_outputs(function, title, message):
    """A graded cell's outputs: ``✓ function: title`` printed, or an error naming the mistake."""
    if message is None:
        return [nbformat.v4.new_output("stream", name="stdout", text=f"✓ {function}: {title}\n")]
    return [nbformat.v4.new_output("error", ename="CheckFailed", evalue=message,
                                   traceback=[f"\x1b[0;31m✗ {function}\x1b[0m: {message}"])]


class TrustedExecute(Execute):
    """Execute with a sandboxed kernel and grader-side verdicts (see the module docstring)."""

    sandboxed = Bool(True, help="Start kernels in the grading sandbox.").tag(config=True)
    memory_bytes = Integer(KERNEL_MEMORY_BYTES, help="Address-space limit of the kernel's processes.").tag(config=True)
    processes = Integer(KERNEL_PROCESSES, help="Most processes alive at once in the kernel's sandbox.").tag(config=True)
    work_bytes = Integer(KERNEL_WORK_BYTES, help="Size of the kernel's writable work folder.").tag(config=True)
    assignment_files = List(Unicode(), help="Released files copied into the kernel's work folder, "
                                             "as 'host path=relative path'.").tag(config=True)
    startup_files = List(Unicode(), help="IPython start-up files the kernel runs first.").tag(config=True)
    max_output_bytes = Integer(MAX_OUTPUT_BYTES, help="Most output (text, data, tracebacks) the notebook's cells keep; "
                                             "the rest is dropped, with a note and a warning.").tag(config=True)
    warm = Bool(True, help="Fork sandboxed kernels from this process's warm-kernel pool, "
                           "which has loaded numpy, matplotlib and ipykernel once.").tag(config=True)

    # What the last run noticed (a kernel that died, say), for the grading task to report.
    last_warnings = []

    # A kernel forked ahead, while the current one runs, for this worker's next kernel: its start
    # then overlaps other work. It is fresh like any other kernel and serves one submission.
    _spare = None
    _spare_exit = None
    channel = None  # the current kernel's `CallChannel`
    _ipython_folder = None  # an unsandboxed kernel's IPython directory, removed when it ends

    @default("extra_arguments")
    def _default_extra_arguments(self):
        return list(KERNEL_ARGUMENTS)

    def create_kernel_manager(self):
        self.kernel_name = "python3"
        if self.sandboxed:
            # Nothing of a sandboxed kernel outlives it, so a graceful shutdown (IPython's exit
            # hooks, the interpreter's teardown: a quarter of a second of CPU) would buy nothing.
            self.shutdown_kernel = "immediate"
            spare, self._spare = self._spare, None
            if spare is not None and spare.provisioner.process.poll() is None:
                self.km = spare
            else:
                _discard(spare)
                self.km = self._sandboxed_manager()
        else:
            folder = self._ipython_folder = _ipython_dir(self.startup_files)
            os.environ["IPYTHONDIR"] = str(folder)
            os.environ[CALL_SOCKET] = str(folder / "calls")
            self.km = AsyncKernelManager(kernel_name=self.kernel_name, config=self.config)
            self.km.call_socket = folder / "calls"
        self._close_channel()
        self.channel = CallChannel(self.km.call_socket)
        return self.km

    def _close_channel(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def _sandboxed_manager(self):
        files = file_pairs(self.assignment_files)
        sandbox = Sandbox(memory_bytes=self.memory_bytes, processes=self.processes, work_bytes=self.work_bytes,
                          files=files, environment=KERNEL_ENVIRONMENT)
        manager = SandboxedKernelManager(sandbox=sandbox, startup_files=self.startup_files,
                                         pool=warm_pool() if self.warm else None,
                                         kernel_name=self.kernel_name, config=self.config)
        manager.call_socket = manager.sockets / "calls"
        manager.sandbox.environment[CALL_SOCKET] = str(manager.call_socket)
        return manager

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        if self.sandboxed and self.warm and self._spare is None:
            spare = self._sandboxed_manager()
            try:
                await spare.start_kernel(extra_arguments=self.extra_arguments)
            except Exception:  # noqa: BLE001 (no spare: the next kernel is forked when it is needed)
                _discard(spare)
            else:
                if self._spare_exit is None:  # one exit handler per instance, whatever the spare then
                    self._spare_exit = lambda: _discard(self._spare)
                    atexit.register(self._spare_exit)
                self._spare = spare
        return client

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # what setup_kernel calls

    def preprocess(self, nb, resources=None, km=None):
        NotebookClient.__init__(self, nb, km)  # as ExecutePreprocessor.preprocess does
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.assignment = assignments.get(self.resources["nbgrader"]["assignment"])
        self.warnings, self.killers, self.judged = [], set(), set()
        self.output_bytes, self.cells_cut = 0, set()
        TrustedExecute.last_warnings = self.warnings
        ran, position, restarts = [], 0, 0
        while position < len(self.nb.cells):
            try:
                with self.setup_kernel():
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for index in ran:
                        self._execute_aside(nbformat.from_dict(dict(self.nb.cells[index], outputs=[])), index)
                    for function in sorted(self.killers):
                        self._execute_aside(nbformat.v4.new_code_cell(STOPPED_FUNCTION.format(name=function)), 0)
                    while position < len(self.nb.cells):
                        if self._process(position):
                            ran.append(position)
                        position += 1
            except (DeadKernelError, KernelUnresponsive) as loss:
                self.km = self.kc = None
                position = self._after_kernel_loss(position, loss)
                restarts += 1
                if restarts > MAX_RESTARTS:
                    self._give_up(position)
                    break
            finally:
                self._close_channel()
                self._remove_ipython_folder()
        return self.nb, self.resources

    def _remove_ipython_folder(self):
        if self._ipython_folder is not None:
            shutil.rmtree(self._ipython_folder, ignore_errors=True)
            self._ipython_folder = None

    def _process(self, index):
        """Run or judge cell `index`; True when it ran in the kernel and must be replayed after a restart."""
        cell = self.nb.cells[index]
        if cell.cell_type != "code":
            return False
        graded = graded_cell(cell, self.assignment)
        if graded and graded[1] != VISIBLE:
            aspect = self.assignment.aspects[graded]
            self._judge(index, graded[0], aspect.title, aspect.check)
            return False
        hits = self._limit_hits()
        try:
            self.execute_cell(cell, index, store_history=True)
        except CellTimeoutError:  # its output stopped half-way: the kernel is broken (raised only by nbclient)
            raise KernelUnresponsive() from None
        if self._limit_hits() > hits:
            raise ProcessLimitHit()
        if _timed_out(cell) and not self._settles(SETTLE_SECONDS):
            raise KernelUnresponsive()
        if graded:
            self._judge(index, graded[0], VISIBLE_TITLE, self.assignment.visible_check(graded[0]))
        return True

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's output while the notebook's outputs stay under `max_output_bytes`: a
        submission that prints gigabytes would otherwise fill this process's memory and the
        course's disk (the autograded notebook)."""
        self.output_bytes += _output_size(msg["content"])
        if self.output_bytes <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if not self.cells_cut:
            self.warnings.append(f"the notebook's cells printed or showed more than "
                                 f"{self.max_output_bytes >> 20} MiB; the rest of their output was not kept")
        if cell_index not in self.cells_cut:
            self.cells_cut.add(cell_index)
            outs.append(nbformat.v4.new_output("stream", name="stdout",
                                               text=OUTPUT_DROPPED.format(limit=self.max_output_bytes >> 20)))
        return None

    def _judge(self, index, function, title, check):
        cell = self.nb.cells[index]
        self.kernel_lost = False
        started = _now()
        if function in self.killers:
            message = f"{STOPPED} when its tests ran, so it was graded as not working"
        else:
            message = judge(check, RemoteFunction(function, self._call), self.assignment.mistake)
        cell.outputs = verdict_outputs(function, title, message)
        if graded_cell(cell, self.assignment)[1] != VISIBLE:  # how long judging took, where nbclient puts a cell's timing
            cell.metadata["execution"] = {"iopub.execute_input": started, "shell.execute_reply": _now()}
        self.judged.add(index)
        if self.kernel_lost:
            self._blame(function)
            raise DeadKernelError("the kernel stopped during a trusted call")

    def _blame(self, function):
        """From now on `function` is a stub that raises: it killed the kernel once already."""
        self.killers.add(function)
        self.warnings.append(f"{function} stopped the Python kernel when its tests ran; it was graded as not working")

    def _call(self, request, frames):
        """Run one trusted call in the kernel: its (reply, frames), or None when it gave none."""
        hits = self._limit_hits()
        try:
            answer = self._call_in_kernel(request, frames)
            if self._limit_hits() > hits:
                self.kernel_lost = True
                raise KernelStopped(self._too_many_processes()) from None
        except (DeadKernelError, KernelUnresponsive):
            self.kernel_lost = True
            raise KernelStopped(STOPPED) from None
        if answer is TIMED_OUT:
            if not self._settles(SETTLE_SECONDS):  # still printing, or deaf: this kernel is spent
                self.kernel_lost = True
            raise KernelStopped(TOO_SLOW)
        return answer

    def _call_in_kernel(self, request, frames):
        """Send a call over the kernel's call channel; wait for its reply within the cell time
        limit, interrupting the kernel when it runs out (`TIMED_OUT`). None when the kernel does
        not serve its channel; `KernelUnresponsive` when it ignores the interrupt."""
        limit = self.timeout if self.timeout and self.timeout > 0 else SUBMISSION_SECONDS  # no cell limit
        try:
            call_id = self.channel.send(request, frames, timeout=limit)
            answer = self._reply_to(call_id, time.monotonic() + limit)
            if answer is not TIMED_OUT:
                return answer
            run_sync(self.km.interrupt_kernel)()
            if self._reply_to(call_id, time.monotonic() + SETTLE_SECONDS) is TIMED_OUT:
                raise KernelUnresponsive()
            return TIMED_OUT
        except ChannelClosed:
            if not run_sync(self.km.is_alive)():
                raise DeadKernelError("the kernel died during a trusted call") from None
            return None

    def _reply_to(self, call_id, deadline):
        """The (reply, frames) to call `call_id`, None when the kernel is idle without having
        sent it, or `TIMED_OUT` at `deadline`.

        A call runs in the kernel's main thread, as a kernel_info request does. So once two
        kernel_info requests sent while waiting are answered with nothing of the reply in
        between, the kernel is not running the call (a notebook removed the handler): two, as
        the first may have been handled just before a call that was waiting with it.

        What the call prints is read and dropped as it comes (`_drop_output`): no verdict uses
        it, and left queued it would delay the next cell's output past nbclient's time limit."""
        shell, iopub = _raw_socket(self.kc.shell_channel), _raw_socket(self.kc.iopub_channel)
        poller = zmq.Poller()
        poller.register(self.channel.fileno(), zmq.POLLIN)
        poller.register(shell, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        probe, answered, quiet_since = None, 0, time.monotonic()
        while True:
            answer = self.channel.reply_to(call_id)
            if answer is not None:
                return answer
            now = time.monotonic()
            if now >= deadline:
                return TIMED_OUT
            if probe is None and now - quiet_since >= PROBE_AFTER:
                probe = self.kc.kernel_info()
            events = dict(poller.poll(int(1000 * min(1.0, deadline - now, PROBE_AFTER))))
            if not events and not run_sync(self.km.is_alive)():
                raise DeadKernelError("the kernel died during a trusted call")
            if iopub in events:
                _drop_output(iopub)
            if self.channel.fileno() in events:
                self.channel.receive()
                answered, quiet_since = 0, time.monotonic()
            if shell in events and self._answered(shell, probe):
                probe, answered = None, answered + 1
                self.channel.receive()
                if answered >= 2 and not self.channel.started():
                    return None

    def _answered(self, shell, probe):
        """True when a message waiting on the shell socket is the reply to `probe`."""
        while True:
            try:
                _idents, message = self.kc.session.recv(shell, mode=zmq.NOBLOCK)
            except (ValueError, RecursionError, KeyError, TypeError):  # a kernel may send anything
                continue
            if message is None:
                return False
            if probe is not None and message.get("parent_header", {}).get("msg_id") == probe:
                return True

    def _too_many_processes(self):
        return f"started more processes than the {self.processes} allowed"

    def _limit_hits(self):
        return self.km.process_limit_hits() if hasattr(self.km, "process_limit_hits") else 0

    def _execute_aside(self, cell, index):
        """Execute `cell` in the kernel without storing it in the notebook (nbclient would put it
        in place of cell `index`)."""
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            self.nb.cells[index] = original

    def _settles(self, seconds):
        """True when, within `seconds`, the kernel answers a kernel_info request and then stays
        quiet on its output channel for `QUIET_SECONDS`.

        Called after a cell or a call ran out of time and was interrupted. Everything the kernel
        printed before is read and dropped here: a flood left queued (gigabytes, from a function
        that prints in a loop) would hold back the next cell's output until nbclient gave up on
        it, and that cell would be blamed for a kernel the timed-out code broke. A kernel still
        printing after the interrupt (a thread, say) or not answering does not settle."""
        shell, iopub = _raw_socket(self.kc.shell_channel), _raw_socket(self.kc.iopub_channel)
        poller = zmq.Poller()
        poller.register(shell, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        probe = self.kc.kernel_info()
        deadline = time.monotonic() + seconds
        answered = caught_up = False
        quiet_since = None  # when output last came; read only once caught up
        while True:
            now = time.monotonic()
            if answered and caught_up and now - quiet_since >= QUIET_SECONDS:
                return True
            if now >= deadline:
                return False
            events = dict(poller.poll(int(1000 * min(deadline - now, QUIET_SECONDS)) + 1))
            if shell in events and not answered:
                answered = self._answered(shell, probe)
            if iopub in events:
                caught_up = _drop_output(iopub, until=probe) or caught_up
                quiet_since = time.monotonic()

    def _after_kernel_loss(self, position, loss):
        """Mark the cell that lost the kernel; the position to go on from."""
        stopped = self._too_many_processes() if isinstance(loss, ProcessLimitHit) else STOPPED
        if position >= len(self.nb.cells):
            return position
        cell = self.nb.cells[position]
        if position not in self.judged:
            graded = graded_cell(cell, self.assignment)
            if graded:  # a visible test cell: it calls the function, which is to blame
                self._blame(graded[0])
                cell.outputs = verdict_outputs(graded[0], "", stopped)
            else:
                label = cell_grade_id(cell) or f"{position + 1}"
                self.warnings.append(f"cell {label} {stopped.split(' (')[0]}; it was not run")
                cell.outputs = [nbformat.v4.new_output("error", ename="KernelStopped", evalue=stopped,
                                                       traceback=[f"When this notebook was graded, this cell {stopped}."])]
        return position + 1

    def _give_up(self, position):
        self.warnings.append("the Python kernel kept dying; the rest of the notebook was not run")
        for cell in self.nb.cells[position:]:
            graded = graded_cell(cell, self.assignment)
            if graded:
                cell.outputs = verdict_outputs(graded[0], "", "not run: the Python kernel kept dying")


def _raw_socket(channel):
    """A blocking view of a kernel client channel's ZeroMQ socket, for polling and reading it
    here without nbclient's event loop."""
    return zmq.Socket.shadow(channel.socket.underlying)


def _drop_output(iopub, until=None, most=DROP_AT_ONCE):
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
            seen = _is_idle_after(frames, until)
    return seen


def _is_idle_after(frames, request):
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


def _output_size(content):
    """About how many bytes an output message carries: its text, data and traceback."""
    return sum(_length(content.get(key)) for key in ("text", "traceback")) + sum(
        _length(value) for value in (content.get("data") or {}).values()) if isinstance(content, dict) else 0


def _length(value):
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return sum(map(len, value))
    return len(json.dumps(value, default=str))


def file_pairs(assignment_files):
    """`TrustedExecute.assignment_files` as (host path, relative path) pairs."""
    return [tuple(pair.split("=", 1)) for pair in assignment_files]


def _discard(manager):
    """Kill a kernel that was never used and remove its folder."""
    if manager is None:
        return
    process = getattr(manager.provisioner, "process", None) if manager.provisioner else None
    if process is not None:
        process.kill()
    shutil.rmtree(manager.folder, ignore_errors=True)


def _ipython_dir(startup_files):
    """A fresh IPython directory whose start-up folder holds `startup_files`, in order."""
    folder = Path(tempfile.mkdtemp(prefix="kernel-ipython-"))
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True)
    for index, path in enumerate(startup_files):
        shutil.copyfile(path, startup / f"{index:02d}-{Path(path).name}")
    return folder


def _now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _timed_out(cell):
    return any(output.output_type == "error" and output.get("ename") == "CellTimeoutError" for output in cell.outputs)
