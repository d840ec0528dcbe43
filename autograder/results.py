"""One view of a graded assignment, per student, per function and per test, for every report.

Scores come from nbgrader's gradebook (so an instructor's manual override counts), statuses and
the hidden tests' messages from the grading ledger.
"""

from dataclasses import dataclass, field

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .checks import ASPECTS, GRADED_FUNCTIONS
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


def function_of(grade_id):
    """The graded function a test cell belongs to (``test_<function>_<aspect>``), or ""."""
    parsed = parse_grade_id(grade_id)
    return parsed[0] if parsed else ""


def title_of(grade_id):
    """What a test cell checks, in a student's words; a cell that is not the kit's test cell
    of a graded function is named by its grade_id."""
    parsed = parse_grade_id(grade_id)
    if parsed is None:
        return grade_id
    if parsed[1] == VISIBLE:
        return "the visible test case"
    return ASPECTS[parsed].title if parsed in ASPECTS else parsed[1]


def graded_cells(course, assignment):
    """[(grade_id, points)] of the released notebook, in notebook order."""
    return graded_points(nbformat.read(course.root / "release" / assignment / course.notebook_name(assignment),
                                       as_version=4))


def student_view(result, cells, stored=None, timestamp=None):
    """The `StudentView` of one grading `result`; `stored` scores (the gradebook's) win over its own."""
    scores = result.scores if stored is None else stored
    view = StudentView(result.student, result.status, result.reason, list(result.warnings), result.seconds,
                       timestamp=timestamp, sandboxed=result.sandboxed)
    for grade_id, points in cells:
        view.tests.append(TestView(grade_id, function_of(grade_id), title_of(grade_id),
                                   float(scores.get(grade_id) or 0.0), points, result.messages.get(grade_id, "")))
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


def diagnosis(message):
    """The mistake named in a failed test's message, without the function's name."""
    text = message[2:] if message.startswith("✗ ") else message
    function, _, rest = text.partition(": ")
    return rest if function in GRADED_FUNCTIONS else text
