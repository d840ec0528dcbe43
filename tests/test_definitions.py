"""One concept, one definition: the grade-id scheme, the statuses, the default limits and the
``.autograder/`` layout are each defined once, and everything that uses them agrees with it."""

from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder import cli, defaults, grade_ids, results
from autograder.assignments.optimization_methods import ASSIGNMENT
from autograder.collect import EntryStatus
from autograder.course import Course
from autograder.feedback import feedback_page
from autograder.grade.execute import TrustedExecute, graded_cell
from autograder.grade.store import Ledger
from autograder.grade.task import Result, Status, Task
from autograder.results import StudentView, graded_cell as named_cell
from autograder.sandbox import cgroups
from autograder.sandbox.policy import Sandbox

RELEASE = Path(__file__).resolve().parents[1] / "release" / "optimization_methods" / "optimization_methods.ipynb"


ASPECTS, GRADED_FUNCTIONS = ASSIGNMENT.aspects, ASSIGNMENT.functions


def function_of(grade_id):
    return named_cell(grade_id, 1.0, ASSIGNMENT).function


def title_of(grade_id):
    return named_cell(grade_id, 1.0, ASSIGNMENT).title


def course_at(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'x'\n")
    return Course.open(tmp_path)


# --- the grade-id scheme ---

@pytest.mark.parametrize("function, aspect", [*ASPECTS, *((f, grade_ids.VISIBLE) for f in GRADED_FUNCTIONS)])
def test_every_test_cell_id_reads_back_as_its_function_and_aspect(function, aspect):
    made = grade_ids.grade_id(function, aspect)
    assert made == f"test_{function}_{aspect}"  # the scheme the released notebooks and gradebooks hold
    assert grade_ids.parse_grade_id(made, GRADED_FUNCTIONS) == (function, aspect)
    assert function_of(made) == function
    assert grade_ids.is_visible(made, GRADED_FUNCTIONS) == (aspect == grade_ids.VISIBLE)


def test_aspects_name_their_cells_by_the_scheme():
    for (function, name), aspect in ASPECTS.items():
        assert aspect.grade_id == grade_ids.grade_id(function, name)
        assert title_of(aspect.grade_id) == aspect.title
    assert all("_" in f for f in GRADED_FUNCTIONS) and any("_" in a for _, a in ASPECTS)  # the hard case


def test_ids_that_are_not_test_cells_do_not_parse():
    others = [grade_ids.TRAINING_CODE, "test_", "test_unknown_function_x", "extra_credit"]
    others += [grade_ids.answer_id(f) for f in GRADED_FUNCTIONS]
    others += [grade_ids.expected_output_id(f) for f in GRADED_FUNCTIONS]
    for other in others:
        assert grade_ids.parse_grade_id(other, GRADED_FUNCTIONS) is None, other
        assert function_of(other) == "" and title_of(other) == other


def test_of_two_functions_one_a_prefix_of_the_other_the_longer_wins():
    functions = ("update", "update_twice")
    assert grade_ids.parse_grade_id("test_update_twice_shape", functions) == ("update_twice", "shape")
    assert grade_ids.parse_grade_id("test_update_shape", functions) == ("update", "shape")


def test_the_released_notebook_holds_exactly_the_ids_the_scheme_makes():
    release = nbformat.read(RELEASE, as_version=4)
    graded = [grade_ids.cell_grade_id(c) for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    expected = [i for f in GRADED_FUNCTIONS
                for i in [grade_ids.visible_id(f)] + [a.grade_id for (g, _), a in ASPECTS.items() if g == f]]
    assert sorted(graded) == sorted(expected)
    answers = {grade_ids.cell_grade_id(c) for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")}
    assert answers == {grade_ids.answer_id(f) for f in GRADED_FUNCTIONS}
    for cell in release.cells:
        parsed = grade_ids.parse_grade_id(grade_ids.cell_grade_id(cell) or "", GRADED_FUNCTIONS)
        assert graded_cell(cell, ASSIGNMENT) == (parsed if cell.cell_type == "code" and parsed else None)


# --- statuses ---

def test_statuses_are_written_as_before():
    assert [s.value for s in Status] == ["graded", "graded with warnings", "failed", "not submitted"]
    assert [s.value for s in EntryStatus] == ["imported", "superseded", "rejected"]
    with_enum = Result("alice", Status.WARNINGS, scores={"t": 1.0})
    with_text = Result("alice", "graded with warnings", scores={"t": 1.0})
    assert with_enum.to_json() == with_text.to_json()
    assert Result.from_json(with_enum.to_json()).status == Status.WARNINGS
    assert f"{Status.FAILED:8s}|" == "failed  |" and str(Status.WARNINGS) == "graded with warnings"


def test_a_ledger_entry_is_byte_for_byte_the_same_with_the_enum(tmp_path):
    ledger = Ledger(course_at(tmp_path), "a1")
    ledger.save(Result("alice", "failed", reason="r"))
    as_text = ledger.path("alice").read_bytes()
    ledger.save(Result("alice", Status.FAILED, reason="r"))
    assert ledger.path("alice").read_bytes() == as_text and b'"status": "failed"' in as_text
    assert ledger.load("alice").status == Status.FAILED


def test_the_feedback_page_tells_a_failed_submission_from_a_graded_one():
    tests = [results.TestView("test_f_visible", "f", "the visible test case", 0.0, 2.0, "")]
    failed = feedback_page("a1", StudentView("alice", "failed", "no notebook", tests=tests))
    graded = feedback_page("a1", StudentView("alice", Status.GRADED, tests=tests))
    assert "could not be graded: no notebook" in failed and "could not be graded" not in graded


# --- default limits ---

def test_every_default_limit_comes_from_one_place():
    task = Task("course", "id", "a1", "n.ipynb", "alice")
    assert (task.timeout, task.memory_bytes) == (defaults.SUBMISSION_SECONDS, defaults.SUBMISSION_MEMORY_BYTES)
    sandbox = Sandbox()
    assert (sandbox.memory_bytes, sandbox.processes, sandbox.work_bytes, sandbox.cpu_seconds) == (
        defaults.KERNEL_MEMORY_BYTES, defaults.KERNEL_PROCESSES, defaults.KERNEL_WORK_BYTES,
        defaults.KERNEL_CPU_SECONDS)
    spec = sandbox.spec("/work", "/sockets")
    assert (spec["open_files"], spec["file_bytes"]) == (defaults.KERNEL_OPEN_FILES, defaults.KERNEL_WORK_BYTES)
    assert defaults.KERNEL_PROCESSES == cgroups.PROCESSES  # the launcher's own copy is the source
    traits = TrustedExecute.class_traits()
    assert [traits[name].default() for name in ("memory_bytes", "processes", "work_bytes", "max_output_bytes")] == [
        defaults.KERNEL_MEMORY_BYTES, defaults.KERNEL_PROCESSES, defaults.KERNEL_WORK_BYTES, defaults.MAX_OUTPUT_BYTES]


def test_the_command_line_shows_and_uses_the_same_defaults():
    options = {p.name: p for p in cli.grade.params}
    assert options["timeout"].default == defaults.SUBMISSION_SECONDS
    assert cli.parse_size(options["memory_limit"].default) == defaults.SUBMISSION_MEMORY_BYTES
    assert options["memory_limit"].default == "4G" and options["jobs"].default == defaults.default_jobs()
    shown = CliRunner().invoke(cli.main, ["grade", "--help"]).output
    assert "[default: 300.0; x>=1]" in shown and "[default: 4G]" in shown
    for size in (1, 3 << 10, 512 << 20, 1536 << 20, 4 << 30):
        assert cli.parse_size(cli.format_size(size)) == size


# --- the .autograder/ layout ---

def test_the_kits_folder_is_laid_out_by_the_course(tmp_path):
    course = course_at(tmp_path)
    assert course.ledger_folder("a1") == tmp_path / ".autograder" / "a1" / "results"
    assert not (tmp_path / ".autograder").exists()  # asking where the ledger is makes nothing
    ledger = Ledger(course, "a1")
    assert ledger.folder == course.ledger_folder("a1") and ledger.folder.is_dir()
    assert course.ledger_key == tmp_path / ".autograder" / "ledger.key" and course.ledger_key.is_file()
    work = tmp_path / ".autograder" / "a1"
    assert [course.collect_manifest("a1"), course.grade_manifest("a1"), course.gradebook_snapshot("a1"),
            course.assignment_gradebook("a1")] == [work / "collect-manifest.csv", work / "grade-manifest.csv",
                                                   work / "gradebook-snapshot.db", work / "assignment-gradebook.db"]
