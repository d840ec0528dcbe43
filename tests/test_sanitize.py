"""Repairing submitted notebooks before grading: what is fixed, what is said, what is refused."""

import copy
import json

import nbformat
import pytest

from autograder.grade.sanitize import SubmissionError, read_submission, repair
from course import release_notebook, solved_notebook


def grade_ids(notebook):
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]


def find(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("raw, reason", [
    (b"\x89PNG\r\n", "not even JSON"),
    (b"print('hello')", "not even JSON"),
    (b'{"hello": 1}', "JSON but not a Jupyter notebook"),
    (b"[1, 2, 3]", "JSON but not a Jupyter notebook"),
    (nbformat.writes(nbformat.v4.new_notebook()).encode(), "the notebook is empty"),
])
def test_unreadable_submissions_are_refused_with_a_reason(raw, reason):
    with pytest.raises(SubmissionError, match=reason):
        read_submission(raw)


def test_untouched_solution_needs_no_repair():
    notebook, warnings = repair(solved_notebook(), release_notebook())
    assert warnings == []
    assert grade_ids(notebook) == grade_ids(release_notebook())


def test_duplicated_answer_keeps_the_last_copy():
    notebook = solved_notebook()
    answer = notebook.cells[find(notebook, "update_parameters_with_gd")]
    second = copy.deepcopy(answer)
    second.source = answer.source.replace("learning_rate *", "learning_rate * 1.0 *")
    notebook.cells.insert(find(notebook, "update_parameters_with_gd") + 1, second)
    repaired, warnings = repair(notebook, release_notebook())
    assert grade_ids(repaired) == grade_ids(release_notebook())
    assert "1.0 *" in repaired.cells[find(repaired, "update_parameters_with_gd")].source
    assert warnings == ["cell update_parameters_with_gd appeared 2 times; the last copy was graded"]


def test_deleted_test_cell_is_restored_in_place():
    notebook = solved_notebook()
    del notebook.cells[find(notebook, "test_initialize_adam_deep_network")]
    repaired, warnings = repair(notebook, release_notebook())
    assert grade_ids(repaired) == grade_ids(release_notebook())
    assert warnings == ["cell test_initialize_adam_deep_network was missing and was restored from the release"]


def test_answer_that_lost_its_metadata_is_reattached():
    notebook = solved_notebook()
    del notebook.cells[find(notebook, "initialize_adam")].metadata["nbgrader"]
    repaired, warnings = repair(notebook, release_notebook())
    assert "def initialize_adam(" in repaired.cells[find(repaired, "initialize_adam")].source
    assert "NotImplementedError" not in repaired.cells[find(repaired, "initialize_adam")].source
    assert warnings == ["the answer cell initialize_adam had lost its nbgrader metadata; it was restored"]


def test_moved_answer_is_put_back_before_its_tests():
    notebook = solved_notebook()
    notebook.cells.append(notebook.cells.pop(find(notebook, "update_parameters_with_adam")))
    repaired, warnings = repair(notebook, release_notebook())
    assert grade_ids(repaired) == grade_ids(release_notebook())
    assert warnings == ["graded cells had been moved; they were put back in the order of the release"]


def test_changed_metadata_and_edited_tests_are_restored_and_reported():
    notebook = solved_notebook()
    notebook.cells[find(notebook, "test_initialize_adam_deep_network")].metadata["nbgrader"]["points"] = 50
    notebook.cells[find(notebook, "test_initialize_adam_visible")].source = "pass"
    notebook.cells[find(notebook, "test_random_mini_batches_order")].cell_type = "markdown"
    repaired, warnings = repair(nbformat.from_dict(notebook), release_notebook())
    assert repaired.cells[find(repaired, "test_initialize_adam_deep_network")].metadata["nbgrader"]["points"] == 4
    assert repaired.cells[find(repaired, "test_random_mini_batches_order")].cell_type == "code"
    assert sorted(warnings) == sorted([
        "cell test_random_mini_batches_order was turned into a markdown cell; it was turned back",
        "the nbgrader metadata of cell test_initialize_adam_deep_network had been changed; it was restored",
        "test cell test_initialize_adam_visible had been edited; the original was run",
    ])


def test_a_made_up_grade_cell_loses_its_nbgrader_metadata():
    notebook = solved_notebook()
    fake = nbformat.v4.new_code_cell("print('free points')")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "locked": False,
                                 "solution": False, "schema_version": 3}
    notebook.cells.append(fake)
    repaired, warnings = repair(notebook, release_notebook())
    assert "nbgrader" not in repaired.cells[-1].metadata
    assert warnings == ["a cell carried nbgrader metadata the release does not have; it was removed"]


def test_an_nbformat_3_notebook_is_upgraded():
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
           "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": [],
                                      "metadata": {}}], "metadata": {}}]}
    notebook = read_submission(json.dumps(old).encode())
    assert notebook.nbformat == 4 and [cell.source for cell in notebook.cells] == ["x = 1"]


def deep(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("raw", [b"[" * 200_000 + b"]" * 200_000,
                                 json.dumps({"cells": [], "nbformat": 4, "x": deep(80)}).encode()],
                         ids=["parser_limit", "deep_but_parsable"])
def test_a_nesting_bomb_is_refused_with_its_own_reason(raw):
    with pytest.raises(SubmissionError, match="nested more than 64 levels"):
        read_submission(raw)


def test_an_oversized_file_is_refused():
    with pytest.raises(SubmissionError, match="more than the 32 MiB a notebook may have"):
        read_submission(b" " * (33 << 20))
