"""Workers forked from one process that has loaded them: ``python -m autograder.grade.forkserver SOCKET``.

Importing a worker (nbgrader's autograde steps pull in nbconvert and Jupyter's server, 1.5 s of
CPU) would be paid by every worker a class run starts, and again by each worker started after a
submission killed one. The fork server pays it once per coordinator: it imports `worker`, listens
on a unix socket, and forks a worker for each connection, which then grades over that connection
(`worker.serve`). It has no threads, no gradebook and no open files of the coordinator, so its
forks inherit none; it dies with the coordinator, and its workers die with it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ..sandbox import launch

READY = b"ready\n"


def die_with_parent():
    """Be killed when the process that started this one ends."""
    launch.LIBC.prctl(launch.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(path):
    from . import autograde  # noqa: F401  (nbgrader's steps, which a task imports when it grades: once, here)
    from .worker import serve
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the coordinator was gone before the line above took effect
        return
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, launch.reap_children)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            try:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                serve(connection)
            finally:
                os._exit(0)
        connection.close()


class ForkServer:
    """The coordinator's handle on its fork server, started on first use (`fork`)."""

    def __init__(self, environment):
        self.environment = environment
        self.process = self.folder = None
        self.lock = threading.Lock()  # a run's threads start their workers at the same time

    def _start(self):
        self.stop()
        self.folder = tempfile.mkdtemp(prefix="grading-forkserver-")
        self.path = str(Path(self.folder) / "socket")
        self.process = subprocess.Popen([sys.executable, "-m", __name__, self.path], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=self.environment)
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
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.process = self.folder = None


if __name__ == "__main__":
    main(sys.argv[1])
