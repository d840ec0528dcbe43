"""Warm kernels for a grading worker: its handle on a kernel fork server (`KernelForkServer`,
the process is `kernel_forkserver`), which forks a fresh, sandboxed kernel per request, and the
kernels it forks (`ForkedKernel`).

Starting a kernel costs a Python start, ipykernel's import and the notebook's imports (numpy,
matplotlib) in every submission; a kernel fork server pays them once per worker, or once for all
the workers of a worker fork server when they share one, and then forks. Each warm kernel is as
fresh as a cold one, started by the launcher (it serves one submission, in namespaces, a work
folder and a Landlock domain of its own, and ends), so nbgrader's rule of a fresh kernel per
submission holds. When the kernel fork server dies the next request starts another.
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
import time
from pathlib import Path

from .launch import KERNEL_FORK_SERVER
from .lifetime import kill_tree
from .policy import LAUNCHER, Sandbox, pids_group

START_SECONDS = 120  # a cold machine may need long to load numpy and matplotlib from disk
FORK_SECONDS = 30


class KernelForkServerError(Exception):
    """The kernel fork server could not be started or did not answer."""


class ForkedKernel:
    """A forked kernel's process group leader, with the part of `subprocess.Popen`'s interface
    that jupyter_client's provisioner uses. It is not this process's child: it is watched and
    signalled through a pidfd, so a recycled pid is never signalled. Its exit status belongs to
    the kernel fork server, which reaps it; `returncode` is 0 once it ended, or -SIGKILL when killed here."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.returncode = None
        self.killed = False

    def poll(self):
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL if self.killed else 0
            os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            select.select([self.pidfd], [], [], left)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            self.killed = self.killed or signum == signal.SIGKILL
            try:
                signal.pidfd_send_signal(self.pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class KernelForkServer:
    """A worker's handle on a kernel fork server: one of its own, started on first use and again
    after it died, or one shared with the other workers of a worker fork server (`shared`).

    Requests go over a unix socket to the kernel fork server (see `kernel_forkserver`); closing
    it kills the kernels forked for it, so a worker that dies takes its kernels along even when
    the kernel fork server is shared. A shared one that died is replaced by one of this worker's
    own.

    Parameters
    ----------
    sandbox : Sandbox
        The limits of the kernel fork server's namespaces (its environment is the kernels').
    preload : list of str, optional
        Modules to load once; `kernel_forkserver.PRELOAD` by default.
    shared : str, optional
        The control socket of a running kernel fork server to use first.
    """

    def __init__(self, sandbox=None, preload=None, shared=None):
        self.sandbox = sandbox or Sandbox()
        self.preload = preload
        self.shared = shared
        self.process = self.folder = self.connection = self.stream = None
        self.starts = 0
        self.kernels = []

    def launch(self, parent=None):
        """Start the kernel fork server, in a new folder in `parent` (the temporary folder by default),
        without waiting for it to be ready (`wait_ready`)."""
        self.folder = Path(tempfile.mkdtemp(prefix="kernel-forkserver-", dir=parent))
        home, sockets = self.folder / "home", self.folder / "sockets"
        home.mkdir()
        sockets.mkdir()
        spec = self.sandbox.spec(home, sockets)
        spec["control"] = str(self.control)
        if self.preload is not None:
            spec["preload"] = list(self.preload)
        spec_file = self.folder / "kernel-fork-server.json"
        spec_file.write_text(json.dumps(spec))
        self.process = subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), str(spec_file), "--",
                                         KERNEL_FORK_SERVER],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        self.starts += 1

    @property
    def control(self):
        """The kernel fork server's control socket (this handle's own)."""
        return self.folder / "control"

    def wait_ready(self):
        """Wait until the launched kernel fork server listens; `KernelForkServerError` if it does not."""
        ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        line = self.process.stdout.readline() if ready else ""
        try:
            answer = json.loads(line) if line else {}
        except ValueError:
            answer = {}
        if not answer.get("ready"):
            self.stop()
            raise KernelForkServerError("the kernel fork server did not start")

    def _start(self):
        self.launch()
        self.wait_ready()
        self._connect(self.control)

    def _connect(self, path):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(str(path))
        except OSError:
            connection.close()
            raise
        self.connection, self.stream = connection, connection.makefile("rb")

    def _ensure_connected(self):
        if self.connection is not None:
            return
        if self.shared is not None and self.process is None:
            try:
                return self._connect(self.shared)
            except OSError:
                self.shared = None  # gone: from now on a kernel fork server of this worker's own
        self.stop()
        self._start()

    def _disconnect(self):
        for handle in (self.stream, self.connection):
            if handle is not None:
                handle.close()
        self.connection = self.stream = None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def fork(self, spec, argv):
        """A `ForkedKernel` running the kernel command `argv` in a sandbox made from `spec`
        (the kit's folders stay hidden as in the kernel fork server)."""
        request = json.dumps({"spec": dict(spec, hide=[]), "argv": list(argv)}).encode() + b"\n"
        for attempt in (1, 2):  # a kernel fork server that died is replaced once
            if self.process is not None and not self.alive():
                self._disconnect()
            self._ensure_connected()
            try:
                self.connection.sendall(request)
                ready, _, _ = select.select([self.connection], [], [], FORK_SECONDS)
                line = self.stream.readline() if ready else b""
                answer = json.loads(line) if line else {}
            except (OSError, ValueError):
                answer = {}
            if "pid" in answer:
                kernel = ForkedKernel(answer["pid"])
                self.kernels = [k for k in self.kernels if k.poll() is None] + [kernel]
                return kernel
            if "error" in answer:
                raise KernelForkServerError(f"the kernel fork server could not fork a kernel: {answer['error']}")
            self._disconnect()
            if self.process is None:
                self.shared = None  # the shared kernel fork server did not answer: use one of this worker's own
        raise KernelForkServerError("the kernel fork server died twice in a row")

    def stop(self):
        """End every kernel this handle forked, and its own kernel fork server; remove what it left."""
        for kernel in self.kernels:
            kernel.kill()
        self.kernels = []
        self._disconnect()
        if self.process is not None:
            group = pids_group(self.process.pid)  # each kernel it forked had one of its own
            kill_tree(self.process)
            self.process.wait()
            try:
                self.process.stdout.close()
            except OSError:
                pass
            try:
                group and group.rmdir()
            except OSError:
                pass
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.process = self.folder = None
