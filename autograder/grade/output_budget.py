"""The output budget of one notebook: its cells keep their output (text, data, tracebacks) while
the notebook's total stays under a limit, and the rest is dropped, with a note in each cell that
lost some and one warning. A submission that prints gigabytes would otherwise fill the grader's
memory and the course's disk (the autograded notebook)."""

import json

import nbformat

OUTPUT_DROPPED = ("[The grader kept no more of this notebook's output: its cells had printed or shown more than "
                  "{limit} MiB.]\n")


class OutputBudget:
    """What is left of one notebook's `limit` bytes of output; warnings go to `warnings`."""

    def __init__(self, limit, warnings):
        self.limit, self.warnings = limit, warnings
        self.used, self.cells_cut = 0, set()

    def keeps(self, content, outs, cell_index):
        """True when the output message `content` of cell `cell_index` fits in what is left, else
        False, after noting the cut in `outs` (the cell's outputs) the first time the cell loses some."""
        self.used += output_size(content)
        if self.used <= self.limit:
            return True
        if not self.cells_cut:
            self.warnings.append(f"the notebook's cells printed or showed more than "
                                 f"{self.limit >> 20} MiB; the rest of their output was not kept")
        if cell_index not in self.cells_cut:
            self.cells_cut.add(cell_index)
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=OUTPUT_DROPPED.format(limit=self.limit >> 20)))
        return False


def output_size(content):
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
