"""nbgrader's Execute step with trusted verdicts: the notebook runs in a sandboxed kernel, every
graded cell is judged in this process.

The kernel runs the student's cells and the released read-only cells, as nbgrader would. It
never runs a hidden test cell and never holds a check, a reference or an expected value: at each
graded cell this process calls the student's function in the kernel (`RemoteFunction`) on inputs
it chose, judges the plain data that comes back, and writes the verdict as the cell's output
(`verdicts`), from which nbgrader's own SaveAutoGrades scores it. When a cell or a call kills the
kernel (or leaves it deaf to interrupts), a fresh kernel replays the cells that ran before,
without that cell, and the run goes on (`replay`): only what that cell feeds loses points.

`TrustedExecute` is the preprocessor nbgrader's configuration names; its pieces live in modules
of their own: where kernels come from (`kernels`), waiting on a kernel outside nbclient's event
loop (`polling`), the output budget (`output_budget`). What the run noticed (a kernel that died,
output that was dropped) is listed in ``resources["warnings"]`` for the grading task to report.
"""

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode, default

from .. import assignments
from ..assignments import VISIBLE_TITLE
from ..checks.runner import judge
from ..defaults import (KERNEL_MEMORY_BYTES, KERNEL_PROCESSES, KERNEL_WORK_BYTES, MAX_OUTPUT_BYTES,
                        SUBMISSION_SECONDS)
from ..grade_ids import VISIBLE
from ..judge.channel import CallChannel
from ..judge.remote import KernelStopped, RemoteFunction
from .kernels import KERNEL_ARGUMENTS, KERNEL_NAME, Kernels, file_pairs
from .output_budget import OutputBudget
from .polling import SETTLE_SECONDS, TIMED_OUT, KernelUnresponsive, call_in_kernel, settles
from .replay import Recovery
from .verdicts import STOPPED, TOO_SLOW, graded_cell, now, write_verdict


class ProcessLimitHit(KernelUnresponsive):
    """A cell started more processes than the sandbox allows. A kernel whose sandbox is full
    cannot be trusted to work (it needs threads of its own), so it is replaced."""


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
    warm = Bool(True, help="Fork sandboxed kernels from this process's kernel fork server, "
                           "which has loaded numpy, matplotlib and ipykernel once.").tag(config=True)

    _kernels = None  # this process's `Kernels`, made from the traits on first use (it keeps the spare)
    channel = None  # the current kernel's `CallChannel`

    @default("extra_arguments")
    def _default_extra_arguments(self):
        return list(KERNEL_ARGUMENTS)

    @property
    def kernels(self):
        if self._kernels is None:
            sandbox = dict(memory_bytes=self.memory_bytes, processes=self.processes, work_bytes=self.work_bytes,
                           files=file_pairs(self.assignment_files)) if self.sandboxed else None
            self._kernels = Kernels(self.config, self.startup_files, sandbox=sandbox, warm=self.warm)
        return self._kernels

    # nbclient's hooks for starting a kernel: `setup_kernel` calls them.

    def create_kernel_manager(self):
        self.kernel_name = KERNEL_NAME
        if self.sandboxed:
            # Nothing of a sandboxed kernel outlives it, so a graceful shutdown (IPython's exit
            # hooks, the interpreter's teardown: a quarter of a second of CPU) would buy nothing.
            self.shutdown_kernel = "immediate"
        self.km = self.kernels.manager()
        self._close_channel()
        self.channel = CallChannel(self.km.call_socket)
        return self.km

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        await self.kernels.fork_spare(self.extra_arguments)
        return client

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # what setup_kernel calls

    def _close_channel(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    # Running a notebook: nbconvert's ExecutePreprocessor.preprocess once per kernel. It readies
    # the client for the notebook (its own NotebookClient.__init__ call), starts the kernel and
    # calls `preprocess_cell` for each cell: these public hooks suffice, so nothing here calls
    # nbclient's internals.

    def preprocess(self, nb, resources=None, km=None):
        """Run `nb`: each pass of nbconvert's `preprocess` (a fresh kernel, then `preprocess_cell`
        for every cell) goes on from `self.position`, until a pass ends or the kernel was lost too
        often."""
        self.assignment = assignments.get(resources["nbgrader"]["assignment"])
        warnings = resources.setdefault("warnings", [])
        self.recovery = Recovery(nb, self.assignment, warnings)
        self.budget = OutputBudget(self.max_output_bytes, warnings)
        self.position = 0  # the next cell to run or judge
        while self.position < len(nb.cells):
            try:
                nb, resources = super().preprocess(nb, resources, km)
            except (DeadKernelError, KernelUnresponsive) as loss:
                self.km = self.kc = None
                stopped = self._too_many_processes() if isinstance(loss, ProcessLimitHit) else STOPPED
                self.position = self.recovery.lost(self.position, stopped)
                if self.recovery.spent:
                    self.recovery.give_up(self.position)
                    break
            finally:
                km = None  # a kernel manager given to this run serves its first kernel only
                self._close_channel()
                self.kernels.kernel_ended()
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        """On a fresh kernel, first replay what ran on the lost ones; then run or judge cell
        `index`, unless an earlier pass did."""
        if index == 0:
            for replayed, place in self.recovery.replay():
                self._execute_aside(replayed, place)
        if index >= self.position:
            if self._process(index):
                self.recovery.ran.append(index)
            self.position = index + 1
        return cell, resources

    def set_widgets_metadata(self):
        """Keep no widget state in the notebook: it would escape the output budget."""

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
        if _timed_out(cell) and not settles(self.kc, SETTLE_SECONDS):
            raise KernelUnresponsive()
        if graded:
            self._judge(index, graded[0], VISIBLE_TITLE, self.assignment.visible_check(graded[0]))
        return True

    def _execute_aside(self, cell, index):
        """Execute `cell` in the kernel without storing it in the notebook (nbclient would put it
        in place of cell `index`)."""
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            self.nb.cells[index] = original

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's hook for each output: kept while the notebook's output stays within its budget."""
        if self.budget.keeps(msg["content"], outs, cell_index):
            return super().output(outs, msg, display_id, cell_index)
        return None

    # Judging a graded cell: trusted calls into the kernel.

    def _judge(self, index, function, title, check):
        cell = self.nb.cells[index]
        self.kernel_lost = False
        started = now()
        if function in self.recovery.killers:
            message = f"{STOPPED} when its tests ran, so it was graded as not working"
        else:
            message = judge(check, RemoteFunction(function, self._call), self.assignment.mistake)
        hidden = graded_cell(cell, self.assignment)[1] != VISIBLE  # never runs: its timing is how long judging took
        write_verdict(cell, function, title, message, started if hidden else None)
        self.recovery.judged.add(index)
        if self.kernel_lost:
            self.recovery.blame(function)
            raise DeadKernelError("the kernel stopped during a trusted call")

    def _call(self, request, frames):
        """Run one trusted call in the kernel: its (reply, frames), or None when it gave none."""
        limit = self.timeout if self.timeout and self.timeout > 0 else SUBMISSION_SECONDS  # no cell limit
        hits = self._limit_hits()
        try:
            answer = call_in_kernel(self.kc, self.km, self.channel, request, frames, limit)
            if self._limit_hits() > hits:
                self.kernel_lost = True
                raise KernelStopped(self._too_many_processes()) from None
        except (DeadKernelError, KernelUnresponsive):
            self.kernel_lost = True
            raise KernelStopped(STOPPED) from None
        if answer is TIMED_OUT:
            if not settles(self.kc, SETTLE_SECONDS):  # still printing, or deaf: this kernel is spent
                self.kernel_lost = True
            raise KernelStopped(TOO_SLOW)
        return answer

    def _too_many_processes(self):
        return f"started more processes than the {self.processes} allowed"

    def _limit_hits(self):
        return self.km.process_limit_hits() if hasattr(self.km, "process_limit_hits") else 0


def _timed_out(cell):
    return any(output.output_type == "error" and output.get("ename") == "CellTimeoutError" for output in cell.outputs)
