"""The worker fork server: grading workers forked from one process that has loaded them,
``python -m autograder.grade.worker_forkserver SOCKET``, and the coordinator's handle on it
(`WorkerForkServer`).

Importing a worker (nbgrader's autograde steps pull in nbconvert and Jupyter's server, 1.5 s of
CPU) would be paid by every worker a class run starts, and again by each worker started after a
submission killed one. The worker fork server pays it once per class run: it imports `worker`,
listens on a unix socket (a `sandbox.prefork.PreforkServer`, which only the coordinator may
use), and forks a worker for each connection of the coordinator, which then grades over that
connection (`worker.serve`). It also starts the kernel fork server its workers share (`warm`),
which loads while it imports. It has no threads, no gradebook and no open files of the
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

from ..sandbox.lifetime import kill_tree
from ..sandbox.prefork import PreforkServer
from ..sandbox.warm_kernels import KernelForkServerError
from .warm import launch_shared

READY = b"ready\n"
FORK_SERVER_PREFIX = "grading-forkserver-"
MAX_SETTINGS_BYTES = 1 << 20  # its folder: this prefix, the coordinator's pid, a dash


def main(path):
    parent = os.getppid()
    # The workers' shared kernel fork server loads numpy, matplotlib and ipykernel while this
    # process imports nbgrader: two loads of about 1.5 s of CPU each, on two cores at once.
    kernels = launch_shared(os.path.dirname(path))
    from . import autograde  # noqa: F401  (nbgrader's steps, which a task imports when it grades: once, here)
    from .worker import serve
    try:
        kernels.wait_ready()
        control = str(kernels.control)
    except KernelForkServerError:
        control = None  # each worker starts a kernel fork server of its own
    server = PreforkServer(path, lambda pid: pid == parent)  # a worker only for the coordinator, not for a kernel
    # Stopping a process group (a Dask worker's, by its service manager) must not end this
    # process before its workers and folders are cleared: it ends when its coordinator does.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([server.listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            # The coordinator process ended (its end of this pipe closes only then, whichever of
            # its threads started this one; a parent-death signal would follow that thread).
            clear_away(server, os.path.dirname(path))
            os._exit(0)
        if server.listener not in ready:
            continue
        connection = server.accept()
        if connection is None:
            continue
        settings = read_settings(connection)
        if settings is None:
            connection.close()
            continue
        server.forget_ended()
        server.fork(lambda: work(connection, settings, control, serve), value=settings.get("scratch"),
                    close=[kernels.process.stdout])
        connection.close()


def work(connection, settings, control, serve):
    """In a forked child: be a worker (`worker.serve`) on `connection`; the exit status."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    serve(connection, settings, control)
    return 0


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


def clear_away(server, folder):
    """Kill the workers still running, then remove their scratch folders and this server's folder."""
    for scratch in server.kill(wait=5):
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


class WorkerForkServer:
    """The coordinator's handle on its worker fork server, started on first use (`fork`)."""

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
        """End the worker fork server with its workers, its kernel fork server and their kernels."""
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
