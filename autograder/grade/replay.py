"""Crash and replay: when a cell or a trusted call loses the kernel (it died, or stopped
answering), a fresh kernel replays the cells that ran before, without that cell, and the run
goes on from the next one. Only what that cell feeds loses points. A function whose tests
killed the kernel is blamed once: from then on it is a stub that raises, and its other tests
fail without running."""

import nbformat

from ..grade_ids import cell_grade_id
from .verdicts import STOPPED, graded_cell, verdict_outputs

STOPPED_FUNCTION = ("def {name}(*args, **kwargs):\n"
                    "    raise RuntimeError(\"When this notebook was graded, {name} stopped the Python kernel "
                    "(a crash, a killed process or running out of memory), so it was replaced by this error.\")")
MAX_RESTARTS = 6


class Recovery:
    """What one notebook's run keeps to survive lost kernels; warnings go to `warnings`."""

    def __init__(self, nb, assignment, warnings):
        self.nb, self.assignment, self.warnings = nb, assignment, warnings
        self.ran = []  # the cells that ran in the kernel, in order: a fresh kernel replays them
        self.killers = set()  # the functions that stopped a kernel
        self.judged = set()  # the graded cells judged already
        self.restarts = 0

    def replay(self):
        """The (cell, index) pairs a fresh kernel runs first, each to be executed aside in place of
        cell `index`: the cells that ran, without their outputs, then a stub for every killer."""
        for index in self.ran:
            yield nbformat.from_dict(dict(self.nb.cells[index], outputs=[])), index
        for function in sorted(self.killers):
            yield nbformat.v4.new_code_cell(STOPPED_FUNCTION.format(name=function)), 0

    def blame(self, function):
        """From now on `function` is a stub that raises: it killed the kernel once already."""
        self.killers.add(function)
        self.warnings.append(f"{function} stopped the Python kernel when its tests ran; it was graded as not working")

    def lost(self, position, stopped=STOPPED):
        """Cell `position` lost the kernel (`stopped` says how): mark it; the position to go on from."""
        self.restarts += 1
        if position >= len(self.nb.cells):
            return position
        cell = self.nb.cells[position]
        if position not in self.judged:
            graded = graded_cell(cell, self.assignment)
            if graded:  # a visible test cell: it calls the function, which is to blame
                self.blame(graded[0])
                cell.outputs = verdict_outputs(graded[0], "", stopped)
            else:
                label = cell_grade_id(cell) or f"{position + 1}"
                self.warnings.append(f"cell {label} {stopped.split(' (')[0]}; it was not run")
                cell.outputs = [nbformat.v4.new_output("error", ename="KernelStopped", evalue=stopped,
                                                       traceback=[f"When this notebook was graded, this cell {stopped}."])]
        return position + 1

    @property
    def spent(self):
        """True once the kernel was lost more often than `MAX_RESTARTS`."""
        return self.restarts > MAX_RESTARTS

    def give_up(self, position):
        """Fail every graded cell from `position` on: the kernel kept dying."""
        self.warnings.append("the Python kernel kept dying; the rest of the notebook was not run")
        for cell in self.nb.cells[position:]:
            graded = graded_cell(cell, self.assignment)
            if graded:
                cell.outputs = verdict_outputs(graded[0], "", "not run: the Python kernel kept dying")
