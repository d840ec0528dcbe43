"""Store grading results: the only writer of the gradebook, the results ledger and autograded/.

Every result is first written to the ledger (``.autograder/<assignment>/results/``) with an
atomic rename, then copied into nbgrader's gradebook and ``autograded/``. Storing is idempotent,
so a run killed at any point is finished by the next one without grading anything again.
"""

import os
import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning

from .task import Result, fingerprint


def atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


class Ledger:
    """The results of one assignment's grading, one JSON file per student."""

    def __init__(self, course, assignment):
        self.folder = course.work(assignment) / "results"
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, student):
        return self.folder / f"{student}.json"

    def load(self, student):
        path = self.path(student)
        return Result.from_json(path.read_text()) if path.is_file() else None

    def save(self, result):
        atomic_write(self.path(result.student), result.to_json())

    def is_current(self, student, submission):
        """True when the stored result is of this very submission file."""
        result = self.load(student)
        return result is not None and result.submission_sha256 == fingerprint(submission)

    def all(self):
        return [Result.from_json(path.read_text()) for path in sorted(self.folder.glob("*.json"))]


def store(course, assignment, notebook, result):
    """Write `result` into the gradebook and autograded/ (the ledger must already hold it)."""
    _store_grades(course, assignment, result)
    if result.autograded_notebook:
        _store_autograded(course, assignment, notebook, result)


def _timestamp(course, assignment, student):
    path = course.submitted(assignment, student) / "timestamp.txt"
    return parse_utc(path.read_text().strip()) if path.is_file() else None


def _store_grades(course, assignment, result):
    # nbgrader's own gradebook code makes SQLAlchemy 2 warn about its session use; the warnings
    # are nbgrader's, not ours, and would only break up the progress bar.
    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(result.student)
        timestamp = _timestamp(course, assignment, result.student)
        submission = gradebook.update_or_create_submission(
            assignment, result.student, **({"timestamp": timestamp} if timestamp else {}))
        for submitted in submission.notebooks:
            for grade in submitted.grades:
                grade.auto_score = float(result.scores.get(grade.name, 0.0))
                grade.needs_manual_grade = False
        gradebook.db.commit()


def _store_autograded(course, assignment, notebook, result):
    folder = course.root / "autograded" / result.student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    source = course.root / "source" / assignment
    for path in source.rglob("*"):
        if path.is_file() and path.suffix != ".ipynb" and "__pycache__" not in path.parts:
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    nbformat.validate(nbformat.reads(result.autograded_notebook, as_version=4))
    atomic_write(folder / notebook, result.autograded_notebook)
