"""Store grading results: the only writer of the gradebook, the results ledger and autograded/.

Every result is first written to the ledger (``.autograder/<assignment>/results/``) with an
atomic rename, then copied into nbgrader's gradebook and ``autograded/``. Storing is idempotent,
so a run killed at any point is finished by the next one without grading anything again.
"""

import hashlib
import hmac
import json
import os
import secrets
import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import BaseCell, Grade, Gradebook, SubmittedNotebook
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
    """The results of one assignment's grading, one JSON file per student.

    Each file carries an HMAC-SHA256 of its content under a key of the course's
    (``.autograder/ledger.key``, readable only by its owner). An entry changed outside the kit
    fails the check: it counts as absent, so its submission is graded again and the forged
    result is never stored into the gradebook.
    """

    def __init__(self, course, assignment):
        self.folder = course.ledger_folder(assignment)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.key = _ledger_key(course.ledger_key)

    def path(self, student):
        return self.folder / f"{student}.json"

    def _signature(self, fields):
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=True)
        return hmac.new(self.key, canonical.encode(), hashlib.sha256).hexdigest()

    def _verified(self, path):
        """The result stored at `path`, or None when it is missing, unreadable or not signed by the kit."""
        try:
            fields = json.loads(path.read_text())
            signature = fields.pop("signature", "")
            if not hmac.compare_digest(str(signature), self._signature(fields)):
                return None
            return Result(**fields)
        except (OSError, ValueError, TypeError):
            return None

    def load(self, student):
        return self._verified(self.path(student))

    def save(self, result):
        fields = json.loads(result.to_json())
        atomic_write(self.path(result.student), json.dumps({**fields, "signature": self._signature(fields)}))

    def is_current(self, student, submission):
        """True when the stored result is the kit's own and of this very submission file."""
        result = self.load(student)
        return result is not None and result.submission_sha256 == fingerprint(submission)

    def tampered(self):
        """Students whose stored result fails the signature check."""
        return [path.stem for path in sorted(self.folder.glob("*.json")) if self._verified(path) is None]

    def all(self):
        """Every stored result that passes the signature check."""
        results = (self._verified(path) for path in sorted(self.folder.glob("*.json")))
        return [result for result in results if result is not None]


def _ledger_key(path):
    """The course's ledger key, made on first use (32 random bytes, mode 0600)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(temporary, path)  # never replace a key already made
        except FileExistsError:
            pass
        os.unlink(temporary)
    return path.read_bytes()


def store(course, assignment, notebook, result, gradebook=None):
    """Write `result` into the gradebook and autograded/ (the ledger must already hold it).

    `gradebook`: an open `Gradebook` of the course to use (a run storing many results keeps one
    open); by default one is opened for this result.
    """
    if gradebook is None:
        with Gradebook(course.db_url, course.course_id) as opened:
            _store_grades(course, assignment, result, opened)
    else:
        _store_grades(course, assignment, result, gradebook)
    if result.autograded_notebook:
        _store_autograded(course, assignment, notebook, result)


def _timestamp(course, assignment, student):
    path = course.submitted(assignment, student) / "timestamp.txt"
    return parse_utc(path.read_text().strip()) if path.is_file() else None


def _store_grades(course, assignment, result, gradebook):
    # nbgrader's own gradebook code makes SQLAlchemy 2 warn about its session use; the warnings
    # are nbgrader's, not ours, and would only break up the progress bar.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        try:
            gradebook.update_or_create_student(result.student)
            timestamp = _timestamp(course, assignment, result.student)
            submission = gradebook.update_or_create_submission(
                assignment, result.student, **({"timestamp": timestamp} if timestamp else {}))
            for grade, name in _grades_with_names(gradebook, submission):
                grade.auto_score = float(result.scores.get(name, 0.0))
                grade.needs_manual_grade = False
            gradebook.db.commit()
        except BaseException:
            gradebook.db.rollback()  # the open gradebook stays usable for the next result
            raise


def _grades_with_names(gradebook, submission):
    """[(grade, its cell's name)] of a submission, in one query rather than two per grade (which
    is what reading ``grade.name`` through nbgrader's model costs)."""
    return (gradebook.db.query(Grade, BaseCell.name)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .filter(SubmittedNotebook.assignment_id == submission.id)
            .all())


def _store_autograded(course, assignment, notebook, result):
    folder = course.root / "autograded" / result.student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    source = course.root / "source" / assignment
    for path in source.rglob("*"):
        if path.is_file() and path.suffix != ".ipynb" and "__pycache__" not in path.parts:
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    nbformat.validate(nbformat.from_dict(json.loads(result.autograded_notebook)))  # nothing broken is stored
    atomic_write(folder / notebook, result.autograded_notebook)
