"""Export grades: ``grades.csv`` with nbgrader's columns plus one per function and the status, and
per student a Gradescope-style ``results.json``."""

import csv
import io
import json
from enum import StrEnum
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import assignments
from .grade.store import atomic_write
from .grade.task import Status
from .results import student_views
from .untrusted import csv_row

NBGRADER_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score"]


class TestStatus(StrEnum):
    """A test's status in Gradescope's results.json (one test per graded function)."""

    PASSED = "passed"
    FAILED = "failed"


def gradescope_results(view, functions):
    """A student's result in Gradescope's results.json format: one test per graded function of `functions`."""
    tests = []
    for number, function in enumerate(functions, start=1):
        own = [t for t in view.tests if t.function == function]
        score, max_score = sum(t.score for t in own), sum(t.max_score for t in own)
        lines = [f"✓ {t.title}" if t.passed else f"✗ {t.title}" + (f"\n    {t.message}" if t.message else "")
                 for t in own]
        tests.append({"name": function, "number": str(number), "score": score, "max_score": max_score,
                      "status": TestStatus.PASSED if score >= max_score else TestStatus.FAILED,
                      "output": "\n".join(lines), "output_format": "text", "visibility": "visible"})
    notes = ([f"This submission could not be graded: {view.reason}."] if view.status == Status.FAILED else []) + \
        [f"Note: {warning}." for warning in view.warnings]
    # Gradescope's default format lets some HTML through, and messages quote what a notebook raised:
    # plain text everywhere, so that nothing of a submission is rendered as markup.
    return {"score": sum(t["score"] for t in tests), "execution_time": round(view.seconds, 1),
            "output": "\n".join(notes), "output_format": "text", "test_output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def grades_csv(course, assignment, views):
    """nbgrader's export columns, computed as `nbgrader export` does, then per-function scores and status."""
    by_student = {view.student: view for view in views}
    functions = assignments.get(assignment).functions
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(NBGRADER_COLUMNS + list(functions) + ["status"])
    with Gradebook(course.db_url, course.course_id) as gradebook:
        record = gradebook.find_assignment(assignment)
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(assignment, student.id)
                penalty = submission.late_submission_penalty
                row = [submission.timestamp, student.id, student.last_name, student.first_name, student.email,
                       submission.score, penalty, max(0.0, submission.score - penalty)]
            except MissingEntry:
                row = ["", student.id, student.last_name, student.first_name, student.email, 0.0, 0.0, 0.0]
            view = by_student.get(student.id)
            scores = [view.function_score(f)[0] if view else "" for f in functions]
            writer.writerow(csv_row([assignment, record.duedate, *row, record.max_score, *scores,
                                     view.status if view else Status.NOT_SUBMITTED]))
    return output.getvalue()


def export(course, assignment, out=None):
    """Write grades.csv and results/<student>.json under `out`; return the folder."""
    out = Path(out) if out else course.root / "exports" / assignment
    views = student_views(course, assignment)
    functions = assignments.get(assignment).functions
    atomic_write(out / "grades.csv", grades_csv(course, assignment, views))
    for view in views:
        atomic_write(out / "results" / f"{view.student}.json", json.dumps(gradescope_results(view, functions), indent=1))
    return out
