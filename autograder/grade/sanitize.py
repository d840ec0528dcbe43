"""Repair a submitted notebook before nbgrader sees it, and say what was repaired.

nbgrader fails a whole submission for a duplicated graded cell and scores a deleted test cell 0;
a student who copied a cell or deleted a hidden-test placeholder still deserves the points their
code earns. Graded cells are matched to the release by ``grade_id``; what cannot be read as a
notebook at all is rejected with a reason a person understands.
"""

import copy
import json
import re

import nbformat

from ..grade_ids import cell_grade_id
from .reading import SubmissionError, read_json


def read_submission(source):
    """The notebook in `source` (bytes or a path, as `read_json` takes it) as version 4, or
    `SubmissionError`.

    It is read as `read_json` reads it: outputs, execution counts and widget state are dropped
    and only the rest counts against the size limit. An nbformat 3 notebook (``worksheets``) is
    upgraded, as nbformat does.
    """
    data = read_json(source)
    if isinstance(data, dict) and data.get("nbformat") == 3 and isinstance(data.get("worksheets"), list):
        data = _upgraded(data)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or "nbformat" not in data:
        raise SubmissionError("the file is JSON but not a Jupyter notebook (it has no cells)")
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise SubmissionError(f"the file is not a valid Jupyter notebook ({type(error).__name__})") from None
    if not notebook.cells:
        raise SubmissionError("the notebook is empty: it has no cells")
    return notebook


def _upgraded(data):
    """An nbformat 3 notebook as version 4 (nbformat's own conversion), or `SubmissionError`."""
    try:
        return json.loads(nbformat.writes(nbformat.reads(json.dumps(data), as_version=4)))
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise SubmissionError(f"the file is an old (nbformat 3) notebook that could not be converted "
                              f"({type(error).__name__})") from None


def repair(notebook, release):
    """Return (repaired notebook, list of warnings) matching `release`'s graded cells.

    - A graded cell that appears twice is kept once: the last copy of an answer cell (the
      definition Python would use), the first of any other.
    - A graded cell whose type was changed gets its type back.
    - A missing answer cell is re-attached to an unmarked cell that defines the function, or
      else restored from the release (a stub); a missing test or read-only cell is restored.
    - Changed nbgrader metadata of a graded cell is put back as released.
    - Graded cells moved out of order are put back in the release's order, each with the
      student's own cells that followed it.
    - An edited test cell is reported (nbgrader runs the original anyway).
    - nbgrader metadata on a cell the release does not have (a grade cell made up by the
      student) is removed.
    """
    notebook = copy.deepcopy(notebook)
    warnings = []
    expected = {cell_grade_id(cell): cell for cell in release.cells if cell_grade_id(cell)}
    for cell in notebook.cells:
        if "nbgrader" in cell.get("metadata", {}) and cell_grade_id(cell) not in expected:
            del cell.metadata["nbgrader"]
            if cell.cell_type == "code":
                warnings.append("a cell carried nbgrader metadata the release does not have; it was removed")

    positions = {}
    for index, cell in enumerate(notebook.cells):
        if cell_grade_id(cell) in expected:
            positions.setdefault(cell_grade_id(cell), []).append(index)
    dropped = set()
    for grade_id, places in positions.items():
        if len(places) > 1:
            answer = expected[grade_id].metadata["nbgrader"].get("solution")
            keep = places[-1] if answer else places[0]
            dropped.update(p for p in places if p != keep)
            warnings.append(f"cell {grade_id} appeared {len(places)} times; "
                            f"the {'last' if answer else 'first'} copy was graded")
    notebook.cells = [cell for i, cell in enumerate(notebook.cells) if i not in dropped]

    for cell in notebook.cells:
        grade_id = cell_grade_id(cell)
        if grade_id in expected and cell.cell_type != expected[grade_id].cell_type:
            warnings.append(f"cell {grade_id} was turned into a {cell.cell_type} cell; it was turned back")
            restored = copy.deepcopy(expected[grade_id])
            restored.source = cell.source
            cell.clear()
            cell.update(restored)

    for cell in notebook.cells:
        grade_id = cell_grade_id(cell)
        if grade_id in expected:
            released = expected[grade_id].metadata["nbgrader"]
            if {k: v for k, v in cell.metadata["nbgrader"].items() if k != "checksum"} != \
                    {k: v for k, v in released.items() if k != "checksum"}:
                warnings.append(f"the nbgrader metadata of cell {grade_id} had been changed; it was restored")
                cell.metadata["nbgrader"] = copy.deepcopy(released)
            if released.get("locked") and not released.get("solution") and cell.source != expected[grade_id].source:
                kind = "test cell" if released.get("grade") else "read-only cell"
                warnings.append(f"{kind} {grade_id} had been edited; the original was run")

    present = {cell_grade_id(cell) for cell in notebook.cells}
    for grade_id, original in expected.items():
        if grade_id in present:
            continue
        if original.metadata["nbgrader"].get("solution") and _reattach_answer(notebook, grade_id, original):
            warnings.append(f"the answer cell {grade_id} had lost its nbgrader metadata; it was restored")
            continue
        _insert_after_predecessor(notebook, release, original)
        warnings.append(f"cell {grade_id} was missing and was restored from the release")
    if _restore_order(notebook, list(expected)):
        warnings.append("graded cells had been moved; they were put back in the order of the release")
    return notebook, warnings


def _restore_order(notebook, order):
    """Sort runs of cells, each headed by a graded cell, into `order`; True if anything moved."""
    rank = {grade_id: i for i, grade_id in enumerate(order)}
    runs, current = [], (-1, [])
    for cell in notebook.cells:
        if cell_grade_id(cell) in rank:
            runs.append(current)
            current = (rank[cell_grade_id(cell)], [])
        current[1].append(cell)
    runs.append(current)
    ordered = sorted(runs, key=lambda run: run[0])
    if [run[0] for run in ordered] == [run[0] for run in runs]:
        return False
    notebook.cells = [cell for _, cells in ordered for cell in cells]
    return True


def _reattach_answer(notebook, function, original):
    definition = re.compile(rf"^def {re.escape(function)}\(", re.MULTILINE)
    candidates = [cell for cell in notebook.cells
                  if cell.cell_type == "code" and not cell_grade_id(cell) and definition.search(cell.source)]
    if not candidates:
        return False
    cell = candidates[-1]
    cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
    return True


def _insert_after_predecessor(notebook, release, original):
    """Insert a copy of `original` after the nearest earlier release cell present in `notebook`."""
    order = [cell_grade_id(cell) or cell.get("id") for cell in release.cells]
    index_in_release = order.index(cell_grade_id(original))
    here = {(cell_grade_id(cell) or cell.get("id")): i for i, cell in enumerate(notebook.cells)}
    position = 0
    for key in reversed(order[:index_in_release]):
        if key in here:
            position = here[key] + 1
            break
    restored = copy.deepcopy(original)
    restored.id = f"restored-{cell_grade_id(original)}"[:64]
    notebook.cells.insert(position, restored)
