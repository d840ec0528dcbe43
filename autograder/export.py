"""Export grades: per assignment ``grades.csv`` with nbgrader's columns plus one per function and
the status, and per student a Gradescope-style ``results.json``; for the whole course
``course-grades.csv``, a row per student and columns per assignment and per function."""

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


def submission_scores(gradebook, assignment, student):
    """(timestamp, raw score, late penalty, score) as `nbgrader export` computes them; a student
    who did not submit scores 0."""
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return "", 0.0, 0.0, 0.0
    penalty = submission.late_submission_penalty
    return submission.timestamp, submission.score, penalty, max(0.0, submission.score - penalty)


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
            row = [student.id, student.last_name, student.first_name, student.email]
            timestamp, *scores = submission_scores(gradebook, assignment, student.id)
            view = by_student.get(student.id)
            per_function = [view.function_score(f)[0] if view else "" for f in functions]
            writer.writerow(csv_row([assignment, record.duedate, timestamp, *row, *scores, record.max_score,
                                     *per_function, view.status if view else Status.NOT_SUBMITTED]))
    return output.getvalue()


STUDENT_COLUMNS = ["student_id", "last_name", "first_name", "email"]


def _functions_of(name):
    """The graded functions of the assignment `name`; none for one no plug-in defines (a plain
    nbgrader assignment of the course)."""
    try:
        return assignments.get(name).functions
    except assignments.UnknownAssignment:
        return ()


def course_csv(course):
    """The course's table: a row per student; per assignment of the gradebook (in its order), its
    score (as `nbgrader export` computes it), its maximum, the grading status, and the score of
    each graded function; then the course total and its maximum."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    with Gradebook(course.db_url, course.course_id) as gradebook:
        records = list(gradebook.assignments)
        functions = {record.name: _functions_of(record.name) for record in records}
        graded = {record.name: {view.student: view for view in student_views(course, record.name)}
                  if functions[record.name] else {} for record in records}
        header = list(STUDENT_COLUMNS)
        for record in records:
            header += [record.name, f"{record.name} max_score", f"{record.name} status"]
            header += [f"{record.name}: {function}" for function in functions[record.name]]
        writer.writerow(header + ["total", "max_total"])
        for student in gradebook.students:
            row, total, max_total = [student.id, student.last_name, student.first_name, student.email], 0.0, 0.0
            for record in records:
                score = submission_scores(gradebook, record.name, student.id)[3]
                view = graded[record.name].get(student.id)
                row += [score, record.max_score, view.status if view else Status.NOT_SUBMITTED]
                row += [view.function_score(f)[0] if view else "" for f in functions[record.name]]
                total, max_total = total + score, max_total + record.max_score
            writer.writerow(csv_row(row + [total, max_total]))
    return output.getvalue()


def export_course(course, out=None):
    """Write the course's table, ``course-grades.csv``, in `out` (``exports/`` by default); its path."""
    path = (Path(out) if out else course.root / "exports") / "course-grades.csv"
    atomic_write(path, course_csv(course))
    return path


def export(course, assignment, out=None):
    """Write grades.csv and results/<student>.json under `out`; return the folder."""
    out = Path(out) if out else course.root / "exports" / assignment
    views = student_views(course, assignment)
    functions = assignments.get(assignment).functions
    atomic_write(out / "grades.csv", grades_csv(course, assignment, views))
    for view in views:
        atomic_write(out / "results" / f"{view.student}.json", json.dumps(gradescope_results(view, functions), indent=1))
    return out
