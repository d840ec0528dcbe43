"""A graded cell and its verdict: which cells are graded, and the outputs that say how a
function did, from which nbgrader's own grading scores the cell."""

from datetime import datetime, timezone

import nbformat

from ..grade_ids import VISIBLE, cell_grade_id, parse_grade_id

STOPPED = "stopped the Python kernel (a crash, a killed process or running out of memory)"
TOO_SLOW = "did not finish in the time allowed for one cell: an endless loop, or very slow code?"


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


def write_verdict(cell, function, title, message, started=None):
    """Make the verdict `message` (None when `function` passed, else the mistake) `cell`'s
    outputs; with `started` (when judging began, `now()`), also how long judging took, where
    nbclient puts a cell's timing."""
    cell.outputs = verdict_outputs(function, title, message)
    if started is not None:
        cell.metadata["execution"] = {"iopub.execute_input": started, "shell.execute_reply": now()}


def now():
    """The time as nbclient writes it in a cell's timing."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
