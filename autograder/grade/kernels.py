"""Where a grading worker's kernels come from: in the sandbox, forked warm from the worker's
kernel fork server (or started cold) with a spare forked ahead; without it, a plain local
kernel with an IPython directory of its own.

Each kernel serves one submission (or what is left of one after a crash) and gets a call socket
(`manager.call_socket`) for the grader's trusted calls.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..judge.channel import CALL_SOCKET
from ..sandbox.kernel import SandboxedKernelManager
from ..sandbox.policy import Sandbox
from .warm import KERNEL_ENVIRONMENT, kernel_fork_server

KERNEL_NAME = "python3"
# A grading kernel lives for one notebook: IPython's input history database (an SQLite write per
# cell, from a thread of its own) would outlive nothing. ``In`` and ``Out`` work without it.
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


def file_pairs(assignment_files):
    """`TrustedExecute.assignment_files` ('host path=relative path') as (host path, relative path) pairs."""
    return [tuple(pair.split("=", 1)) for pair in assignment_files]


class Kernels:
    """The kernel managers of one grading process, one per kernel.

    Parameters
    ----------
    config : traitlets Config
        Given to every kernel manager.
    startup_files : list of str
        IPython start-up files every kernel runs first.
    sandbox : dict or None
        The keyword arguments of each kernel's `Sandbox` (a fresh one per kernel); None for
        kernels outside the sandbox.
    warm : bool
        Fork sandboxed kernels from this process's kernel fork server, and fork a spare ahead.
    """

    def __init__(self, config, startup_files, sandbox=None, warm=True):
        self.config, self.startup_files, self.sandbox, self.warm = config, list(startup_files), sandbox, warm
        # A kernel forked ahead, while the current one runs, for this process's next kernel: its
        # start then overlaps other work. It is fresh like any other kernel and serves one submission.
        self.spare = None
        self._spare_exit = None
        self._ipython_folder = None  # an unsandboxed kernel's IPython directory, removed when it ends

    def manager(self):
        """The next kernel's manager, not started unless it is the spare."""
        if self.sandbox is None:
            folder = self._ipython_folder = _ipython_dir(self.startup_files)
            os.environ["IPYTHONDIR"] = str(folder)
            os.environ[CALL_SOCKET] = str(folder / "calls")
            manager = AsyncKernelManager(kernel_name=KERNEL_NAME, config=self.config)
            manager.call_socket = folder / "calls"
            return manager
        spare, self.spare = self.spare, None
        if spare is not None and spare.provisioner.process.poll() is None:
            return spare
        _discard(spare)
        return self._sandboxed_manager()

    def _sandboxed_manager(self):
        sandbox = Sandbox(environment=KERNEL_ENVIRONMENT, **self.sandbox)
        manager = SandboxedKernelManager(sandbox=sandbox, startup_files=self.startup_files,
                                         fork_server=kernel_fork_server() if self.warm else None,
                                         kernel_name=KERNEL_NAME, config=self.config)
        manager.call_socket = manager.sockets / "calls"
        manager.sandbox.environment[CALL_SOCKET] = str(manager.call_socket)
        return manager

    async def fork_spare(self, extra_arguments):
        """Start the spare kernel, when kernels are forked warm and there is none."""
        if self.sandbox is None or not self.warm or self.spare is not None:
            return
        spare = self._sandboxed_manager()
        try:
            await spare.start_kernel(extra_arguments=extra_arguments)
        except Exception:  # noqa: BLE001 (no spare: the next kernel is forked when it is needed)
            _discard(spare)
            return
        if self._spare_exit is None:  # one exit handler per instance, whatever the spare then
            self._spare_exit = lambda: _discard(self.spare)
            atexit.register(self._spare_exit)
        self.spare = spare

    def kernel_ended(self):
        """Remove what the kernel that just ended leaves behind here (an unsandboxed kernel's IPython directory)."""
        if self._ipython_folder is not None:
            shutil.rmtree(self._ipython_folder, ignore_errors=True)
            self._ipython_folder = None


def _discard(manager):
    """Kill a kernel that was never used and remove its folder."""
    if manager is None:
        return
    process = getattr(manager.provisioner, "process", None) if manager.provisioner else None
    if process is not None:
        process.kill()
    shutil.rmtree(manager.folder, ignore_errors=True)


def _ipython_dir(startup_files):
    """A fresh IPython directory whose start-up folder holds `startup_files`, in order."""
    folder = Path(tempfile.mkdtemp(prefix="kernel-ipython-"))
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True)
    for index, path in enumerate(startup_files):
        shutil.copyfile(path, startup / f"{index:02d}-{Path(path).name}")
    return folder
