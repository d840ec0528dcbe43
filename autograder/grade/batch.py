"""Grade every submission of an assignment with several workers, resumably.

Workers only run `run_task` (each in its own scratch course, so they share nothing); this
thread alone stores results, so nbgrader's SQLite gradebook never has two writers.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from ..course import CourseError
from .store import Ledger, store
from .task import FAILED, Result, Task, run_task, submission_path


def check_assignment_in_gradebook(course, assignment):
    if not course.gradebook.is_file():
        raise CourseError(f"{course.root} has no gradebook.db: run `nbgrader generate_assignment {assignment}` first")
    with Gradebook(course.db_url, course.course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise CourseError(f"the gradebook has no assignment {assignment!r}: run "
                              f"`nbgrader generate_assignment {assignment}` first") from None


def grade_assignment(course, assignment, students=None, jobs=None, force=False, timeout=300.0,
                     memory_bytes=4 << 30, progress=True):
    """Grade the submissions of `students` (all by default); return the results of this run and
    the students skipped because their current submission was already graded."""
    check_assignment_in_gradebook(course, assignment)
    notebook = course.notebook_name(assignment)
    known = course.students_with_submissions(assignment)
    students = known if not students else list(students)
    unknown = [s for s in students if s not in known]
    if unknown:
        raise CourseError(f"no submission of {assignment} for {', '.join(unknown)} in submitted/")
    ledger = Ledger(course, assignment)
    snapshot = course.snapshot_gradebook(course.work(assignment) / "gradebook-snapshot.db")
    tasks = [Task(str(course.root), course.course_id, assignment, notebook, student, timeout, memory_bytes,
                  str(snapshot)) for student in students]
    skipped = [t.student for t in tasks if not force and ledger.is_current(t.student, submission_path(t))]
    for student in skipped:  # storing is idempotent: this heals a run killed between ledger and gradebook
        store(course, assignment, notebook, ledger.load(student))
    pending = [t for t in tasks if t.student not in skipped]
    results = []
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool, \
            tqdm(total=len(pending), disable=not progress, unit="submission", desc=f"grading {assignment}") as bar:
        futures = {pool.submit(_run_safely, task): task for task in pending}
        for future in as_completed(futures):
            result = future.result()
            ledger.save(result)
            store(course, assignment, notebook, result)
            results.append(result)
            bar.update()
            bar.set_postfix_str(_counts(results))
    return results, skipped


def _run_safely(task):
    """`run_task`, turning a failure of the grader itself into a failed result for this submission."""
    start = time.monotonic()
    try:
        return run_task(task)
    except Exception as error:  # one submission's trouble must not stop the batch
        return Result(task.student, FAILED, reason=f"the grader failed on this submission: "
                      f"{type(error).__name__}: {error}", seconds=round(time.monotonic() - start, 3),
                      submission_sha256="")


def _counts(results):
    counts = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())
