"""Temporary nbgrader course directories and student submissions, for tests that grade for real."""

from pathlib import Path

from nbgrader.api import Gradebook

from autograder.assign.release import ASSIGNMENT, run_nbgrader
from autograder.samples import (  # noqa: F401  (re-exported for the tests)
    make_course, release_notebook, solved_notebook, submit, with_answer)

REPO = Path(__file__).resolve().parent.parent
COURSE_ID = "optimization-methods"


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
