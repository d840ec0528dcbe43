"""Temporary nbgrader course directories and student submissions, for tests (and benchmarks) that
grade for real. The notebooks are the demo's sample class (`autograder.assignments.optimization_methods.sample_class`)."""

import atexit
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT, sample_class
from autograder.assignments.optimization_methods.sample_class import (  # noqa: F401  (re-exported)
    WRONG, release_notebook, solved_notebook, with_answer)
from autograder.nbgrader_cli import run_nbgrader

REPO = Path(__file__).resolve().parent.parent
COURSE_ID = "optimization-methods"

_built = None  # this test process's course, as nbgrader made it; never graded in


def make_course(folder):
    """A fresh course in `folder`, as `sample_class.make_course` makes it.

    Real ``nbgrader generate_assignment`` runs once per test process (it costs about 10 s of
    CPU, and some twenty tests need a course); each call gets its own copy of that course, gradebook
    included, which nothing shares with any other.
    """
    global _built
    if _built is None:
        scratch = Path(tempfile.mkdtemp(prefix="kit-tests-course-"))
        atexit.register(shutil.rmtree, scratch, True)
        _built = sample_class.make_course(scratch / "course")
    shutil.copytree(_built, folder, dirs_exist_ok=True)
    return Path(folder)


def submit(course, student, notebook):
    """Place `notebook` as `student`'s submission, as nbgrader's collect would."""
    folder = Path(course) / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return folder


def submit_right_wrong_blank(course):
    """Submit three notebooks: "right" (the reference), "wrong" (a wrong Adam update) and "blank"
    (the release untouched); their student names."""
    wrong = solved_notebook()
    variant = next(v for v in WRONG if v.function == "update_parameters_with_adam")
    with_answer(wrong, variant.function, variant.source)
    for student, notebook in (("right", solved_notebook()), ("wrong", wrong), ("blank", release_notebook())):
        submit(course, student, notebook)
    return ["right", "wrong", "blank"]


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
