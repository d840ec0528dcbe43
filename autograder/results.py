"""One view of a graded assignment, per student, per function and per test, for every report.

Scores come from nbgrader's gradebook (so an instructor's manual override counts), statuses and
the hidden tests' messages from the grading ledger.
"""

from dataclasses import dataclass, field

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import assignments
from .grade_ids import VISIBLE, parse_grade_id
from .grade.store import Ledger
from .grade.task import graded_points

@dataclass
class TestView:
    grade_id: str
    function: str
    title: str
    score: float
    max_score: float
    message: str
    visible: bool = False  # the function's visible test cell (its message repeats the hidden tests')

    @property
    def passed(self):
        return self.score >= self.max_score


@dataclass
class StudentView:
    student: str
    status: str
    reason: str = ""
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    tests: list = field(default_factory=list)
    timestamp: object = None
    sandboxed: bool = True

    @property
    def total(self):
        return sum(test.score for test in self.tests)

    @property
    def max_total(self):
        return sum(test.max_score for test in self.tests)

    def function_score(self, function):
        tests = [t for t in self.tests if t.function == function]
        return sum(t.score for t in tests), sum(t.max_score for t in tests)


@dataclass(frozen=True)
class GradedCell:
    """A graded cell of a released notebook, as every report names it."""

    grade_id: str
    points: float
    function: str = ""  # the graded function it tests; "" for a cell that is not the kit's test cell
    title: str = ""  # what it checks, in a student's words
    visible: bool = False


def graded_cell(grade_id, points, assignment):
    """The `GradedCell` of `grade_id` in `assignment`: a cell that is not the kit's test cell of a
    graded function is named by its grade_id."""
    parsed = parse_grade_id(grade_id, assignment.functions)
    if parsed is None:
        return GradedCell(grade_id, points, "", grade_id)
    function, aspect = parsed
    if aspect == VISIBLE:
        return GradedCell(grade_id, points, function, "the visible test case", True)
    known = assignment.aspects.get(parsed)
    return GradedCell(grade_id, points, function, known.title if known else aspect)


def graded_cells(course, assignment):
    """The `GradedCell` of each graded cell of `assignment`'s released notebook, in notebook order."""
    release = nbformat.read(course.root / "release" / assignment / course.notebook_name(assignment), as_version=4)
    found = assignments.get(assignment)
    return [graded_cell(grade_id, points, found) for grade_id, points in graded_points(release)]


def student_view(result, cells, stored=None, timestamp=None):
    """The `StudentView` of one grading `result`; `stored` scores (the gradebook's) win over its own."""
    scores = result.scores if stored is None else stored
    view = StudentView(result.student, result.status, result.reason, list(result.warnings), result.seconds,
                       timestamp=timestamp, sandboxed=result.sandboxed)
    for cell in cells:
        view.tests.append(TestView(cell.grade_id, cell.function, cell.title, float(scores.get(cell.grade_id) or 0.0),
                                   cell.points, result.messages.get(cell.grade_id, ""), cell.visible))
    return view


def student_views(course, assignment):
    """A `StudentView` for every student with a stored result, sorted by student."""
    cells = graded_cells(course, assignment)
    views = []
    with Gradebook(course.db_url, course.course_id) as gradebook:
        for result in Ledger(course, assignment).all():
            try:
                submission = gradebook.find_submission(assignment, result.student)
                stored = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
                views.append(student_view(result, cells, stored, submission.timestamp))
            except MissingEntry:
                views.append(student_view(result, cells, {}))
    return sorted(views, key=lambda v: v.student)


def diagnosis(test):
    """The mistake named in a failed `test`'s message, without the function's name."""
    text = test.message[2:] if test.message.startswith("✗ ") else test.message
    function, _, rest = text.partition(": ")
    return rest if function and function == test.function else text
