"""Warm kernels for a grading worker: one preloaded process (`zygote`) that forks a fresh,
sandboxed kernel per request.

Starting a kernel costs a Python start, ipykernel's import and the notebook's imports (numpy,
matplotlib) in every submission; a `KernelPool` pays them once per worker and then forks. Each
forked kernel is as fresh as a started one (it serves one submission, in namespaces, a work
folder and a Landlock domain of its own, and ends), so nbgrader's rule of a fresh kernel per
submission holds. When the warm process dies the next request starts another.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from .policy import LAUNCHER, Sandbox, pids_group

START_SECONDS = 120  # a cold machine may need long to load numpy and matplotlib from disk
FORK_SECONDS = 30


class PoolError(Exception):
    """The warm-kernel process could not be started or did not answer."""


class ForkedKernel:
    """A forked kernel's process group leader, with the part of `subprocess.Popen`'s interface
    that jupyter_client's provisioner uses. It is not this process's child: it is watched and
    signalled through a pidfd, so a recycled pid is never signalled. Its exit status belongs to
    the warm process, which reaps it; `returncode` is 0 once it ended, or -SIGKILL when killed here."""

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


class KernelPool:
    """One worker's warm-kernel process, started on first use and again after it died.

    Parameters
    ----------
    sandbox : Sandbox
        The limits of the warm process's namespaces (its environment is the kernels').
    preload : list of str, optional
        Modules to load once; `zygote.PRELOAD` by default.
    """

    def __init__(self, sandbox=None, preload=None):
        self.sandbox = sandbox or Sandbox()
        self.preload = preload
        self.process = None
        self.folder = None
        self.starts = 0

    def _start(self):
        self.folder = Path(tempfile.mkdtemp(prefix="kernel-pool-"))
        home, sockets = self.folder / "home", self.folder / "sockets"
        home.mkdir()
        sockets.mkdir()
        spec = self.sandbox.spec(home, sockets)
        if self.preload is not None:
            spec["preload"] = list(self.preload)
        spec_file = self.folder / "zygote.json"
        spec_file.write_text(json.dumps(spec))
        self.process = subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), str(spec_file), "--", "zygote"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        self.starts += 1
        if not self._answer(START_SECONDS).get("ready"):
            self.stop()
            raise PoolError("the warm-kernel process did not start")

    def _answer(self, seconds):
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        line = self.process.stdout.readline() if ready else ""
        try:
            return json.loads(line) if line else {}
        except ValueError:
            return {}

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def fork(self, spec, argv):
        """A `ForkedKernel` running the kernel command `argv` in a sandbox made from `spec`
        (the kit's folders stay hidden as in the warm process)."""
        for attempt in (1, 2):  # a warm process that died is replaced once
            if not self.alive():
                self.stop()
                self._start()
            try:
                self.process.stdin.write(json.dumps({"spec": dict(spec, hide=[]), "argv": list(argv)}) + "\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                continue
            answer = self._answer(FORK_SECONDS)
            if "pid" in answer:
                return ForkedKernel(answer["pid"])
            if "error" in answer:
                raise PoolError(f"the warm-kernel process could not fork a kernel: {answer['error']}")
        raise PoolError("the warm-kernel process died twice in a row")

    def stop(self):
        """End the warm process and every kernel it forked; remove what it left."""
        if self.process is not None:
            group = pids_group(self.process.pid)  # each kernel it forked had one of its own
            try:
                family = psutil.Process(self.process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                family = []
            for member in [*family]:
                try:
                    member.kill()
                except psutil.NoSuchProcess:
                    pass
            self.process.kill()
            self.process.wait()
            psutil.wait_procs(family, timeout=5)
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                group.rmdir()
            except OSError:
                pass
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.process = self.folder = None

