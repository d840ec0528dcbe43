"""Repairing submitted notebooks before grading: what is fixed, what is said, what is refused."""

import copy
import json
import random
import time

import nbformat
import pytest

from autograder.grade.reading import _CLOSED_STRINGS, MAX_FILE_BYTES, MAX_NOTEBOOK_BYTES, MAX_VALUES, _whole_strings
from autograder.grade.sanitize import SubmissionError, read_submission, repair
from big_outputs import write_with_outputs
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


def test_a_file_over_the_hard_cap_is_refused_by_its_size_unread(tmp_path):
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as handle:  # sparse: zeros, which reading would call "not even JSON"
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(SubmissionError, match="the file is 1,025 MiB, more than the 1,024 MiB a submitted notebook "
                                              "may be, outputs included"):
        read_submission(path)


def test_outputs_are_dropped_while_read_and_do_not_count(tmp_path):
    """A solved notebook with 48 MiB of printed rows, figures, execution counts and widget state
    (the file over the 32 MiB limit) reads as the same notebook with no outputs."""
    path = write_with_outputs(solved_notebook(), tmp_path / "printed.ipynb", 48 << 20)
    assert path.stat().st_size > MAX_NOTEBOOK_BYTES
    notebook = read_submission(path)
    expected = solved_notebook()
    assert [cell.source for cell in notebook.cells] == [cell.source for cell in expected.cells]
    assert [cell.metadata for cell in notebook.cells] == [cell.metadata for cell in expected.cells]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in notebook.metadata


def test_code_and_text_over_the_limit_are_refused_with_the_reason():
    notebook = solved_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("pasted data " * (3 << 20)))  # 36 MiB of text
    with pytest.raises(SubmissionError, match=r"the notebook's code and text are 36\.\d MiB, more than the 32 MiB a "
                                              r"notebook may have \(its outputs are not counted\)"):
        read_submission(nbformat.writes(notebook).encode())


@pytest.mark.parametrize("size", [MAX_NOTEBOOK_BYTES + (1 << 20), 3 * MAX_NOTEBOOK_BYTES])
def test_one_string_too_long_to_keep_is_refused_quickly_and_counted_whole(size):
    """yajl would scan such a string again at every read (minutes for 100 MB): it is cut first."""
    notebook = solved_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("x" * size))
    start = time.monotonic()
    with pytest.raises(SubmissionError, match=f"code and text are {size / (1 << 20) + 0.05:.1f} MiB"):
        read_submission(nbformat.writes(notebook).encode())
    assert time.monotonic() - start < 20


def test_a_long_string_in_an_output_is_dropped_without_cost():
    notebook = solved_notebook()
    notebook.cells[-1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "kit-figure"})]
    raw = nbformat.writes(notebook).encode().replace(b"kit-figure", b"A" * (200 << 20))
    start = time.monotonic()
    assert read_submission(raw).cells[-1].outputs == []
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf" + nbformat.writes(nbformat.v4.new_notebook(
                                     cells=[nbformat.v4.new_code_cell("x = 1")])).encode()])
def test_a_byte_order_mark_is_allowed(raw):
    assert read_submission(raw).cells[0].source == "x = 1"


@pytest.mark.parametrize("raw", [b'{"cells": [], "nbformat": 4} trailing',
                                 b'{"cells": [], "nbformat": ' + b"1" * (200 << 10) + b"}"],
                         ids=["trailing_bytes", "number_of_200k_digits"])
def test_what_is_not_a_notebook_is_refused(raw):
    with pytest.raises(SubmissionError, match="not even JSON"):
        read_submission(raw)


@pytest.mark.slow
def test_too_many_values_are_refused_within_seconds():
    """Values in outputs are dropped but still parsed, each costing about 1 µs: bounded."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(0)")])
    notebook.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"application/json": "kit-many"})]
    raw = nbformat.writes(notebook).encode().replace(b'"kit-many"', b"[" + b"0," * (MAX_VALUES + 1) + b"0]")
    start = time.monotonic()
    with pytest.raises(SubmissionError, match="more than 20,000,000 values"):
        read_submission(raw)
    assert time.monotonic() - start < 60


def test_an_nbformat_3_notebook_loses_its_outputs_too():
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
           "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "prompt_number": 3,
                                      "outputs": [{"output_type": "stream", "stream": "stdout", "text": "1\n"}],
                                      "metadata": {}}], "metadata": {}}]}
    notebook = read_submission(json.dumps(old).encode())
    assert notebook.cells[0].outputs == [] and notebook.cells[0].execution_count is None


def _pieces(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


def test_strings_are_handed_to_the_parser_whole_and_unchanged():
    """However the file is split into reads, and wherever an escape falls, the parser gets the
    same bytes, and never a string split between two pieces."""
    chooser = random.Random(18)
    texts = ['"a\\\\"', '"\\""', '["x\\\\\\"y", "é\\u202e", 12.5e3, true, null]',
             nbformat.writes(nbformat.v4.new_notebook(cells=solved_notebook().cells[:8]))]
    for text in [t.encode() for t in texts]:
        for size in (1, 2, 3, 7, chooser.randint(1, 50)):
            pieces = list(_whole_strings(_pieces(text, size)))
            assert b"".join(pieces) == text
            for piece in pieces:
                assert _CLOSED_STRINGS.fullmatch(piece), (text, size, piece)


def test_a_file_that_is_not_utf_8_is_refused_as_not_a_notebook():
    """yajl fails on a lone surrogate in UTF-8 with a decoding error, not a JSON one; a refusal all the same."""
    with pytest.raises(SubmissionError, match="not even JSON"):
        read_submission(b'{"cells": [], "metadata": {"a": "\xed\xa0\x80"}}')
