"""Grading workers as the process that feeds them sees them: a `Worker` is one worker process
(`worker.serve`), forked on first use by this process's worker fork server (`fork_server`,
`worker_forkserver`), fed one task at a time, and killed and replaced when a task overruns its
time or the worker dies. A class run's coordinator (`batch`) and a Dask worker (`cluster`) both
grade through them.

Every process of a run names the run's scratch folders in its command line, or was forked from
one that does; a run whose coordinator was killed is cleared away by the next
(`remove_orphaned_scratch`).
"""

import atexit
import json
import os
import select
import shutil
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psutil

from ..nbgrader_cli import nbgrader_environment
from ..sandbox.lifetime import kill_all, kill_tree, processes_naming
from .task import Result, Status
from .worker_forkserver import FORK_SERVER_PREFIX, WorkerForkServer


SCRATCH_PREFIX = "grading-worker-"


def run_folder_prefixes(coordinator):
    """How the scratch folders of the run whose coordinator is process `coordinator` (a pid)
    begin: its workers' and its worker fork server's. Every process of that run names one of them
    in its command line, or was forked from a process that does."""
    return tuple(f"{prefix}{coordinator}-" for prefix in (SCRATCH_PREFIX, FORK_SERVER_PREFIX))


def remove_orphaned_scratch():
    """Remove what runs whose coordinator was killed before it could clear away left behind:
    their scratch folders (named ``PREFIX<the coordinator's pid>-…``), after killing the
    processes still using them.

    A killed run's worker fork server, workers, kernel fork server and kernels die with it, but
    not at once: each learns of its parent's death by a signal of its own, and a kernel starting
    meanwhile still writes in its worker's folder. Removed under it, that folder would stay."""
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
    """One worker process (`worker.serve`), forked on first use by this process's worker fork
    server, and again after it was killed or died."""

    def __init__(self, memory_bytes):
        self.memory_bytes = memory_bytes
        self.process = self.connection = self.stream = self.scratch = None

    def _start(self):
        # Everything the worker makes (kernels' folders, its kernel fork server's) goes in a
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
    """This process's `WorkerForkServer`, made on first use in a class run and stopped at its end
    (or when the process exits)."""
    global _fork_server
    with _making_fork_server:  # a run's threads start their workers at the same time: one server
        if _fork_server is None:
            remove_orphaned_scratch()  # a Dask worker starts its worker fork server here, never in grade_assignment
            _fork_server = WorkerForkServer(nbgrader_environment())
            atexit.register(stop_fork_server)
    return _fork_server


def stop_fork_server():
    """Stop this process's worker fork server, if it runs; the next run starts another."""
    if _fork_server is not None:
        _fork_server.stop()
