"""Temporary nbgrader course directories and student submissions, for tests that grade for real."""

import atexit
import shutil
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook

from autograder import samples
from autograder.assign.release import ASSIGNMENT, run_nbgrader
from autograder.samples import release_notebook, solved_notebook, submit, with_answer  # noqa: F401  (re-exported)

REPO = Path(__file__).resolve().parent.parent
COURSE_ID = "optimization-methods"

_built = None  # this test process's course, as nbgrader made it; never graded in


def make_course(folder):
    """A fresh course in `folder`, as `autograder.samples.make_course` makes it.

    Real ``nbgrader generate_assignment`` runs once per test process (it costs about 10 s of
    CPU, and some twenty tests need a course); each call gets its own copy of that course, gradebook
    included, which nothing shares with any other.
    """
    global _built
    if _built is None:
        scratch = Path(tempfile.mkdtemp(prefix="kit-tests-course-"))
        atexit.register(shutil.rmtree, scratch, True)
        _built = samples.make_course(scratch / "course")
    shutil.copytree(_built, folder, dirs_exist_ok=True)
    return Path(folder)


def autograde(course, student=None):
    """Run real ``nbgrader autograde`` for one student, or for every submission when none is given."""
    arguments = ["autograde", ASSIGNMENT, "--force"]
    if student is not None:
        arguments.append(f"--student={student}")
    return run_nbgrader(course, *arguments)


def scores(course):
    """{student: {grade_id: auto_score}} read through nbgrader's Gradebook API."""
    db_url = f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"
    result = {}
    with Gradebook(db_url, COURSE_ID) as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            result[submission.student_id] = {grade.name: grade.auto_score
                                             for notebook in submission.notebooks for grade in notebook.grades}
    return result
