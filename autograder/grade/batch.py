"""Grade every submission of an assignment with several workers, resumably.

Worker processes (`worker`) grade one task at a time, each with kernels and a scratch folder of
its own, so they share nothing; this thread alone stores results, so nbgrader's SQLite gradebook never has two
writers. A worker that overruns a task's time is killed and replaced.
"""

import atexit
import csv
import json
import os
import queue
import select
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from dataclasses import asdict
from pathlib import Path

import psutil
from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from ..nbgrader_cli import nbgrader_environment
from ..course import CourseError
from ..defaults import SUBMISSION_MEMORY_BYTES, SUBMISSION_SECONDS, default_jobs
from ..untrusted import csv_row
from .cluster import grade_on_cluster
from .forkserver import FORK_SERVER_PREFIX, ForkServer
from .store import Ledger, store
from .task import Result, Status, Task, kill_all, kill_tree, processes_naming, submission_path


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
    forked from a warm process unless `warm` is False. With `scheduler` (a Dask scheduler's
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


SCRATCH_PREFIX = "grading-worker-"


def run_folder_prefixes(coordinator):
    """How the scratch folders of the run whose coordinator is process `coordinator` (a pid)
    begin: its workers' and its fork server's. Every process of that run names one of them in
    its command line, or was forked from a process that does."""
    return tuple(f"{prefix}{coordinator}-" for prefix in (SCRATCH_PREFIX, FORK_SERVER_PREFIX))


def remove_orphaned_scratch():
    """Remove what runs whose coordinator was killed before it could clear away left behind:
    their scratch folders (named ``PREFIX<the coordinator's pid>-…``), after killing the
    processes still using them.

    A killed run's fork server, workers, warm process and kernels die with it, but not at once:
    each learns of its parent's death by a signal of its own, and a kernel starting meanwhile
    still writes in its worker's folder. Removed under it, that folder would stay."""
    dead, folders = set(), []
    for prefix in (SCRATCH_PREFIX, FORK_SERVER_PREFIX):
        for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
            owner = folder.name[len(prefix):].split("-")[0]
            if owner.isdigit() and not psutil.pid_exists(int(owner)):
                dead.add(owner)
                folders.append(folder)
    if dead:
        kill_all(processes_naming(*(prefix for owner in dead for prefix in run_folder_prefixes(owner))))
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


class Worker:
    """One worker process (`worker.serve`), forked on first use by the run's fork server, and
    again after it was killed or died."""

    def __init__(self, memory_bytes):
        self.memory_bytes = memory_bytes
        self.process = self.connection = self.stream = self.scratch = None

    def _start(self):
        # Everything the worker makes (kernels' folders, the warm-kernel process's) goes in a
        # folder of its own, removed when it stops: a worker killed mid-task leaves nothing behind.
        self.scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        pid, self.connection, self.stream = fork_server().fork(
            {"memory_bytes": self.memory_bytes, "scratch": self.scratch, "environment": nbgrader_environment()})
        self.process = psutil.Process(pid)

    def grade(self, task):
        """The task's result; a failed one when it overruns its time or the worker dies."""
        start = time.monotonic()
        if self.process is None or not self.process.is_running():
            self.stop()
            self._start()
        ready = [self.connection]  # unless the wait below runs out
        try:
            self.stream.write(json.dumps(asdict(task)).encode() + b"\n")
            self.stream.flush()
            ready, _, _ = select.select([self.connection], [], [], task.timeout + 10)
            line = self.stream.readline() if ready else b""
        except OSError:
            line = b""
        if line:
            return Result.from_json(line.decode())
        reason = (f"grading took longer than the {task.timeout:.0f} s allowed for one submission" if not ready else
                  "the grading process died on this submission (out of memory, or killed)")
        self.stop()
        return Result(task.student, Status.FAILED, reason=reason, seconds=round(time.monotonic() - start, 3))

    def stop(self):
        for handle in (self.stream, self.connection):
            if handle is not None:
                handle.close()
        if self.process is not None:
            kill_tree(self.process)
            try:
                self.process.wait(10)
            except psutil.Error:
                pass
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.process = self.connection = self.stream = self.scratch = None


_fork_server = None
_making_fork_server = threading.Lock()


def fork_server():
    """This process's `ForkServer`, made on first use in a class run and stopped at its end (or
    when the process exits)."""
    global _fork_server
    with _making_fork_server:  # a run's threads start their workers at the same time: one server
        if _fork_server is None:
            remove_orphaned_scratch()  # a Dask worker starts its fork server here, and never runs grade_assignment
            _fork_server = ForkServer(nbgrader_environment())
            atexit.register(stop_fork_server)
    return _fork_server


def stop_fork_server():
    """Stop this process's fork server, if it runs; the next run starts another."""
    if _fork_server is not None:
        _fork_server.stop()


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
