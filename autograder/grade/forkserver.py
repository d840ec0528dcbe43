"""Workers forked from one process that has loaded them: ``python -m autograder.grade.forkserver SOCKET``.

Importing a worker (nbgrader's autograde steps pull in nbconvert and Jupyter's server, 1.5 s of
CPU) would be paid by every worker a class run starts, and again by each worker started after a
submission killed one. The fork server pays it once per class run: it imports `worker`, listens
on a unix socket, and forks a worker for each connection of the coordinator, which then grades
over that connection (`worker.serve`). It also starts the warm-kernel process its workers share
(`warm`), which loads while it imports. It has no threads, no gradebook and no open files of the
coordinator, so its forks inherit none; it ends when the coordinator does (the pipe on its stdin
closes), and its workers die with it.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ..sandbox import launch
from ..sandbox.pool import PoolError
from .task import kill_tree
from .warm import launch_shared

READY = b"ready\n"
FORK_SERVER_PREFIX = "grading-forkserver-"
MAX_SETTINGS_BYTES = 1 << 20  # its folder: this prefix, the coordinator's pid, a dash


def die_with_parent():
    """Be killed when the process that started this one ends."""
    launch.LIBC.prctl(launch.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(path):
    parent = os.getppid()
    # The workers' shared warm-kernel process loads numpy, matplotlib and ipykernel while this
    # process imports nbgrader: two loads of about 1.5 s of CPU each, on two cores at once.
    warm = launch_shared(os.path.dirname(path))
    from . import autograde  # noqa: F401  (nbgrader's steps, which a task imports when it grades: once, here)
    from .worker import serve
    try:
        warm.wait_ready()
        control = str(warm.control)
    except PoolError:
        control = None  # each worker starts a warm process of its own
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, launch.reap_children)
    # Stopping a process group (a Dask worker's, by its service manager) must not end this
    # process before its workers and folders are cleared: it ends when its coordinator does.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    workers = {}  # pidfd → the worker's scratch folder
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            # The coordinator process ended (its end of this pipe closes only then, whichever of
            # its threads started this one; a parent-death signal would follow that thread).
            clear_away(workers, os.path.dirname(path))
            os._exit(0)
        if listener not in ready:
            continue
        connection, _ = listener.accept()
        settings = read_settings(connection) if launch.peer_pid(connection) == parent else None
        if settings is None:  # a worker only for the coordinator, not for a kernel
            connection.close()
            continue
        forget_ended(workers)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # no reaping before the pidfd is open
        try:
            pid = os.fork()
            if pid == 0:
                try:
                    signal.pthread_sigmask(signal.SIG_SETMASK, set())
                    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                        signal.signal(signum, signal.SIG_DFL)
                    listener.close()
                    warm.process.stdout.close()
                    for pidfd in workers:
                        os.close(pidfd)
                    serve(connection, settings, control)
                finally:
                    os._exit(0)
            workers[os.pidfd_open(pid)] = settings.get("scratch")
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        connection.close()


def read_settings(connection):
    """The worker's settings, the first line the coordinator sends (it then waits for the reply,
    so nothing after the line is read here); None when it sends none in 30 s."""
    connection.settimeout(30)
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < MAX_SETTINGS_BYTES:
            chunk = connection.recv(MAX_SETTINGS_BYTES)
            if not chunk:
                return None
            data += chunk
        return json.loads(data)
    except (OSError, ValueError):
        return None
    finally:
        connection.settimeout(None)


def forget_ended(workers):
    for pidfd in [fd for fd in workers if select.select([fd], [], [], 0)[0]]:
        os.close(pidfd)
        del workers[pidfd]


def clear_away(workers, folder):
    """Kill the workers still running, then remove their scratch folders and this server's folder."""
    for pidfd in workers:
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pidfd, scratch in workers.items():
        select.select([pidfd], [], [], 5)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


class ForkServer:
    """The coordinator's handle on its fork server, started on first use (`fork`)."""

    def __init__(self, environment):
        self.environment = environment
        self.process = self.folder = None
        self.lock = threading.Lock()  # a run's threads start their workers at the same time

    def _start(self):
        self.stop()
        self.folder = tempfile.mkdtemp(prefix=f"{FORK_SERVER_PREFIX}{os.getpid()}-")
        self.path = str(Path(self.folder) / "socket")
        self.process = subprocess.Popen([sys.executable, "-m", __name__, self.path], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, stdin=subprocess.PIPE, env=self.environment)
        if self.process.stdout.readline() != READY:
            self.stop()
            raise RuntimeError("the grading fork server did not start")

    def fork(self, settings):
        """A new worker: (its pid, a socket connected to it). `settings` is what `worker.serve` reads first."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._start()
            path = self.path
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(path)
        stream = connection.makefile("rwb")
        stream.write(json.dumps(settings).encode() + b"\n")
        stream.flush()
        reply = stream.readline()
        if not reply:
            connection.close()
            raise RuntimeError("the grading fork server could not start a worker")
        return json.loads(reply)["pid"], connection, stream

    def stop(self):
        """End the fork server with its workers, its warm process and their kernels."""
        if self.process is not None:
            kill_tree(self.process)
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.process = self.folder = None


if __name__ == "__main__":
    main(sys.argv[1])
