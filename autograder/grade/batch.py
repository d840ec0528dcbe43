"""Grade every submission of an assignment with several workers, resumably.

Worker processes (`workers.Worker`) grade one task at a time, each with kernels and a scratch
folder of its own, so they share nothing; this thread alone stores results, so nbgrader's SQLite gradebook never has two
writers. A worker that overruns a task's time is killed and replaced.
"""

import csv
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from ..course import CourseError
from ..defaults import SUBMISSION_MEMORY_BYTES, SUBMISSION_SECONDS, default_jobs
from ..untrusted import csv_row
from .cluster import grade_on_cluster
from .store import Ledger, store
from .task import Task, submission_path
from .workers import Worker, remove_orphaned_scratch, stop_fork_server


def check_assignment_in_gradebook(course, assignment):
    if not course.gradebook_exists():
        raise CourseError(f"the gradebook {course.gradebook_name} does not exist yet: "
                          f"run `nbgrader generate_assignment {assignment}` first")
    with Gradebook(course.db_url, course.course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise CourseError(f"the gradebook has no assignment {assignment!r}: run "
                              f"`nbgrader generate_assignment {assignment}` first") from None


def grade_assignment(course, assignment, students=None, jobs=None, force=False, timeout=SUBMISSION_SECONDS,
                     memory_bytes=SUBMISSION_MEMORY_BYTES, progress=True, sandbox=True, warm=True, scheduler=None):
    """Grade the submissions of `students` (all by default); return the results of this run and
    the students skipped because their current submission was already graded. Kernels are
    forked from a kernel fork server (warm) unless `warm` is False. With `scheduler` (a Dask scheduler's
    address) the submissions are graded on that cluster's workers instead of `jobs` local ones."""
    check_assignment_in_gradebook(course, assignment)
    notebook = course.notebook_name(assignment)
    known = course.students_with_submissions(assignment)
    students = known if not students else list(students)
    unknown = [s for s in students if s not in known]
    if unknown:
        raise CourseError(f"no submission of {assignment} for {', '.join(unknown)} in submitted/")
    remove_orphaned_scratch()
    ledger = Ledger(course, assignment)
    snapshot = course.snapshot_gradebook(course.gradebook_snapshot(assignment))
    tasks = [Task(str(course.root), course.course_id, assignment, notebook, student, timeout, memory_bytes,
                  str(snapshot), sandbox, warm) for student in students]
    skipped = [t.student for t in tasks if not force and ledger.is_current(t.student, submission_path(t))]
    with Gradebook(course.db_url, course.course_id) as gradebook:
        for student in skipped:  # storing is idempotent: this heals a run killed between ledger and gradebook
            store(course, assignment, notebook, ledger.load(student), gradebook)
        pending = [t for t in tasks if t.student not in skipped]
        keep = lambda result: _keep(course, assignment, notebook, ledger, result, gradebook)  # noqa: E731
        try:
            if scheduler:
                results = _with_progress(pending, progress, grade_on_cluster(
                    scheduler, course, assignment, pending, keep))
            else:
                results = _grade_pending(pending, jobs, memory_bytes, progress, keep)
        finally:
            stop_fork_server()  # a process that grades now and then keeps no idle workers
    return results, skipped


def _keep(course, assignment, notebook, ledger, result, gradebook):
    """Store one result: ledger first, then the manifest, the gradebook and autograded/. The
    autograded notebook is then dropped from the result kept in memory (it is in the ledger and
    in autograded/), so that a run's memory does not grow with the class."""
    ledger.save(result)
    record_in_manifest(course, assignment, result)
    store(course, assignment, notebook, result, gradebook)
    result.autograded_notebook = ""


def _grade_pending(pending, jobs, memory_bytes, progress, keep):
    """Grade `pending` tasks with `jobs` workers, calling `keep` on each result in this thread."""
    results = []
    jobs = jobs or default_jobs()
    workers = queue.Queue()
    for _ in range(jobs):
        workers.put(Worker(memory_bytes))

    def grade(task):
        worker = workers.get()
        try:
            return worker.grade(task)
        finally:
            workers.put(worker)

    with ThreadPoolExecutor(max_workers=jobs) as pool, \
            tqdm(total=len(pending), disable=not progress, unit="submission",
                 desc=f"grading {pending[0].assignment}" if pending else "grading") as bar:
        futures = {pool.submit(grade, task): task for task in pending}
        for future in as_completed(futures):
            result = future.result()
            keep(result)
            results.append(result)
            bar.update()
            bar.set_postfix_str(status_counts(results))
    while not workers.empty():
        workers.get().stop()
    return results


def _with_progress(pending, progress, results):
    """Collect `results` (an iterator of kept results) under a progress bar."""
    collected = []
    with tqdm(total=len(pending), disable=not progress, unit="submission",
              desc=f"grading {pending[0].assignment}" if pending else "grading") as bar:
        for result in results:
            collected.append(result)
            bar.update()
            bar.set_postfix_str(status_counts(collected))
    return collected


def record_in_manifest(course, assignment, result):
    """One line per grading in ``grade-manifest.csv``: when, whom, the outcome, and whether the
    sandbox was on."""
    path = course.grade_manifest(assignment)
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["graded_at", "student", "status", "total", "sandbox", "submission_sha256"])
        writer.writerow(csv_row([datetime.now(timezone.utc).isoformat(timespec="seconds"), result.student,
                                 result.status, f"{result.total:g}", "yes" if result.sandboxed else "no (--no-sandbox)",
                                 result.submission_sha256]))


def status_counts(results):
    """"3 failed, 26 graded, …": how many results have each status."""
    counts = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
