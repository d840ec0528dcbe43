"""Every answer of the mutation catalog, autograded by real nbgrader in temporary course directories.

A wrong answer must lose points on its own function and nowhere else, with feedback that names the
mistake; a correct one keeps full marks; the solution scores 100 and the untouched release 0.
The catalog is graded by ``autograder grade`` (verdicts made outside the student's kernel, in the
sandbox, two workers); a sample is also graded by plain ``nbgrader autograde``, which must agree.
"""

import nbformat
import pytest

from course import autograde, make_course, release_notebook, scores, solved_notebook, submit, with_answer
from autograder.course import Course
from autograder.grade.batch import grade_assignment
from autograder.assignments.optimization_methods.sample_class import CORRECT, VARIANTS, WRONG

pytestmark = pytest.mark.slow

RESEED = "np.random.seed(2024)\n_ = np.random.rand(5)\n"


def reseeding_notebook():
    """The solution with every answer cell reseeding numpy's global generator first."""
    notebook = solved_notebook()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = RESEED + cell.source
    return notebook


def submissions():
    students = {"solved": solved_notebook(), "blank": release_notebook(), "reseeding": reseeding_notebook()}
    for variant in VARIANTS:
        students[variant.id] = with_answer(solved_notebook(), variant.function, variant.source)
    return students


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: (course, scores)} of the whole catalog, graded by ``autograder grade`` (trusted
    verdicts, sandboxed kernels)."""
    course = make_course(tmp_path_factory.mktemp("trusted"))
    for student, notebook in submissions().items():
        submit(course, student, notebook)
    grade_assignment(Course.open(course), "optimization_methods", jobs=2, progress=False)
    return {student: (course, cells) for student, cells in scores(course).items()}


@pytest.fixture(scope="module")
def max_points():
    return {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
            for cell in release_notebook().cells if cell.metadata.get("nbgrader", {}).get("grade")}


def autograded_cells(course, student):
    path = course / "autograded" / student / "optimization_methods" / "optimization_methods.ipynb"
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nbformat.read(path, as_version=4).cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def lost(cells, max_points):
    return {cell: max_points[cell] - score for cell, score in cells.items() if score != max_points[cell]}


def test_catalog_has_at_least_40_variants():
    assert len(VARIANTS) >= 40


def test_solution_scores_full_marks(graded, max_points):
    _, cells = graded["solved"]
    assert lost(cells, max_points) == {}
    assert sum(cells.values()) == 100


def test_untouched_release_scores_zero(graded):
    _, cells = graded["blank"]
    assert set(cells.values()) == {0}


def test_reseeding_numpy_changes_no_score(graded, max_points):
    _, cells = graded["reseeding"]
    assert lost(cells, max_points) == {}


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.id)
def test_correct_answer_keeps_full_marks(graded, max_points, variant):
    _, cells = graded[variant.id]
    assert lost(cells, max_points) == {}


@pytest.mark.parametrize("variant", WRONG, ids=lambda v: v.id)
def test_wrong_answer_loses_points_on_its_function_only(graded, max_points, variant):
    course, cells = graded[variant.id]
    losses = lost(cells, max_points)
    assert losses, "no points lost"
    assert all(cell.startswith(f"test_{variant.function}_") for cell in losses), losses
    feedback = []
    for grade_id in losses:
        for output in autograded_cells(course, variant.id)[grade_id].outputs:
            if output.output_type == "error":
                text = "\n".join(output.traceback)
                if not grade_id.endswith("_visible"):  # a hidden check speaks in one line, no traceback
                    assert "Traceback" not in text and "autograder" not in text and "AssertionError" not in text
                feedback.append(text)
    assert any(variant.diagnosis in text for text in feedback), feedback


def plain_sample():
    """Students whose plain ``nbgrader autograde`` must agree with the trusted grader: the solution,
    the release, a reseeding student, the partial-credit cases and one mistake per function."""
    sample = ["solved", "blank", "reseeding", "update_parameters_with_adam-epsilon_inside_root",
              "update_parameters_with_adam-beta2_for_first_moment", "update_parameters_with_momentum-steps_with_gradient"]
    for function in sorted({v.function for v in WRONG}):
        sample.append(next(v.id for v in WRONG if v.function == function and v.id not in sample))
    return sample


def test_plain_nbgrader_gives_the_same_scores(graded, tmp_path):
    """The source notebook's hidden cells (checks in the student's kernel) and the trusted grader
    agree on honest submissions, as they must for the benchmark's comparison."""
    students = submissions()
    course = make_course(tmp_path / "plain")
    for student in plain_sample():
        submit(course, student, students[student])
    autograde(course)
    plain = scores(course)
    assert {s: plain[s] for s in plain_sample()} == {s: graded[s][1] for s in plain_sample()}


def test_without_the_warning_filter_a_numpy_warning_would_cost_points(tmp_path, max_points):
    # The same correct answer as in the catalog, graded by a course that leaves stderr unfiltered:
    # its visible test cell scores 0, which is what the kit's IgnorePattern setting prevents.
    variant = next(v for v in CORRECT if v.name == "with_a_numpy_runtime_warning")
    course = make_course(tmp_path / "unfiltered")
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.IgnorePattern.enabled = False\n")
    submit(course, "warns", with_answer(solved_notebook(), variant.function, variant.source))
    autograde(course)
    cells = scores(course)["warns"]
    assert lost(cells, max_points) == {"test_update_parameters_with_gd_visible": 2}


@pytest.mark.parametrize("variant_id, lost_cells", [
    # ε in the wrong place: only the ε aspect is lost; moments, bias correction, deep network stay.
    ("update_parameters_with_adam-epsilon_inside_root", {"test_update_parameters_with_adam_epsilon"}),
    # Wrong first moment, right update rule: the update is judged on the student's own moments.
    ("update_parameters_with_adam-beta2_for_first_moment",
     {"test_update_parameters_with_adam_visible", "test_update_parameters_with_adam_moments",
      "test_update_parameters_with_adam_deep_network"}),
    # Right velocity, wrong step: the velocity's points are kept.
    ("update_parameters_with_momentum-steps_with_gradient",
     {"test_update_parameters_with_momentum_visible", "test_update_parameters_with_momentum_parameters",
      "test_update_parameters_with_momentum_deep_network"}),
])
def test_partial_credit_where_one_part_is_right(graded, max_points, variant_id, lost_cells):
    _, cells = graded[variant_id]
    assert set(lost(cells, max_points)) == lost_cells
