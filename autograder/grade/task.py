"""Grade one submission: a notebook in; scores, messages and a status out.

The task is self-contained so that it can run anywhere the kit is installed: it repairs the
notebook, runs nbgrader's autograde steps on it with trusted verdicts and a sandboxed kernel
(`autograde`), and returns the scores, messages and autograded notebook as data. It never writes
to the instructor's course; the batch that runs it enforces the wall-clock limit.
"""

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import nbformat

from ..checks.runner import NOT_IMPLEMENTED
from ..defaults import SUBMISSION_MEMORY_BYTES, SUBMISSION_SECONDS
from ..grade_ids import cell_grade_id
from .sanitize import SubmissionError, read_submission, repair

ANSI = re.compile(r"\x1b\[[0-9;]*m")
REASON_CHARS = 300  # a reason that quotes an exception is cut to this length


class Status(StrEnum):
    """How the grading of one submission ended (`Result.status`).

    Each member is its string, which is what the ledger, ``grade-manifest.csv``, ``grades.csv``,
    the terminal and the pages write; a result read back from the ledger holds the plain string,
    which compares equal to its member.
    """

    GRADED = "graded"
    WARNINGS = "graded with warnings"
    FAILED = "failed"
    NOT_SUBMITTED = "not submitted"  # never a result's: what grades.csv says of a student with none


@dataclass
class Task:
    """What one grading needs: where the course is and whose submission to grade."""

    course: str
    course_id: str
    assignment: str
    notebook: str
    student: str
    timeout: float = SUBMISSION_SECONDS
    memory_bytes: int = SUBMISSION_MEMORY_BYTES
    gradebook: str = ""  # a gradebook file holding the assignment; the course's by default
    sandbox: bool = True  # False only when the instructor chose --no-sandbox
    warm: bool = True  # fork sandboxed kernels from the worker's kernel fork server; False: start each cold


@dataclass
class Result:
    """What grading one submission produced."""

    student: str
    status: str
    reason: str = ""
    warnings: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    seconds: float = 0.0
    submission_sha256: str = ""
    autograded_notebook: str = ""
    sandboxed: bool = True

    def to_json(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))

    @property
    def total(self):
        return sum(self.scores.values())


def submission_path(task):
    return Path(task.course) / "submitted" / task.student / task.assignment / task.notebook


def fingerprint(path):
    """SHA-256 of a submitted file: a changed submission is graded again, an unchanged one is not."""
    if not Path(path).is_file():
        return ""
    with open(path, "rb") as handle:  # in chunks: a file too large to grade is not read whole
        return hashlib.file_digest(handle, "sha256").hexdigest()


def graded_points(release):
    """[(grade_id, points)] of a released notebook's graded cells, in notebook order."""
    return [(cell.metadata["nbgrader"]["grade_id"], float(cell.metadata["nbgrader"]["points"]))
            for cell in release.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def run_task(task):
    """Grade `task`'s submission and return a `Result`; never raises for a bad submission."""
    start = time.monotonic()
    course = Path(task.course)
    release = nbformat.read(course / "release" / task.assignment / task.notebook, as_version=4)
    result = Result(task.student, Status.GRADED, max_scores=dict(graded_points(release)), sandboxed=task.sandbox)
    path = submission_path(task)
    result.submission_sha256 = fingerprint(path)
    try:
        if not path.is_file():
            raise SubmissionError(f"no {task.notebook} in the submission")
        notebook, result.warnings = repair(read_submission(path), release)  # streamed, outputs dropped
        _grade(task, notebook, result)
    except SubmissionError as error:
        result.status, result.reason = Status.FAILED, str(error)
    if result.status == Status.FAILED:
        result.scores = {grade_id: 0.0 for grade_id in result.max_scores}
    elif result.warnings:
        result.status = Status.WARNINGS
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _grade(task, notebook, result):
    """Autograde `notebook` with this process's `Autograder` and keep what it found."""
    from .autograde import autograder_for  # nbgrader's preprocessors: imported only when grading
    try:
        autograded, result.scores, warnings = autograder_for(task).grade(notebook, task.student)
    except Exception as error:  # noqa: BLE001 (nbgrader's converter logs and skips such a notebook too)
        raise SubmissionError(f"nbgrader could not grade it: {type(error).__name__}: {error}"[:REASON_CHARS]) from None
    result.warnings.extend(warnings)
    result.autograded_notebook = nbformat.writes(autograded)
    for cell in autograded.cells:
        grade_id = cell_grade_id(cell)
        if grade_id in result.max_scores and cell.cell_type == "code":
            result.messages[grade_id] = cell_message(cell)


def cell_message(cell):
    """What a graded cell said: its error's last line, or the ✓ lines it printed."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename in ("KeyboardInterrupt", "CellTimeoutError"):  # nbgrader's per-cell time limit
                return "did not finish in the time allowed for one cell: an endless loop, or very slow code?"
            if output.ename == "NotImplementedError":
                return NOT_IMPLEMENTED
            lines = [ANSI.sub("", line) for line in output.traceback if line.strip()]
            return lines[-1] if lines else f"{output.ename}: {output.evalue}"
    printed = "".join(output.get("text", "") for output in cell.get("outputs", [])
                      if output.output_type == "stream" and output.name == "stdout")
    return "\n".join(line for line in printed.splitlines() if line.startswith("✓"))
