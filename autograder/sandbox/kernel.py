"""A Jupyter kernel manager whose kernels start inside the grading sandbox.

The kernel talks to the grader over unix sockets in a folder of its own (the sandbox has no
network, not even loopback) and reads the grader's requests from an inbox folder it cannot write, starts in its size-capped work folder, and loads the start-up
files it is given (the kernel guard, the trusted-call harness) before any cell runs.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from .policy import Sandbox


class SandboxedKernelManager(AsyncKernelManager):
    """An `AsyncKernelManager` that wraps the kernel's command in the sandbox launcher.

    Parameters
    ----------
    sandbox : Sandbox
        Limits and files of the kernel.
    startup_files : list of Path
        IPython start-up files, run in this order before any cell.
    """

    def __init__(self, sandbox=None, startup_files=(), **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(tempfile.mkdtemp(prefix="sandboxed-kernel-"))
        self.work, self.sockets, self.inbox = self.folder / "work", self.folder / "sockets", self.folder / "inbox"
        for folder in (self.work, self.sockets, self.inbox):
            folder.mkdir()
        startup = [(path, f".ipython/profile_default/startup/{index:02d}-{Path(path).name}")
                   for index, path in enumerate(startup_files)]
        base = sandbox or Sandbox()
        self.sandbox = Sandbox(base.memory_bytes, base.processes, base.work_bytes, base.cpu_seconds,
                               list(base.files) + startup, dict(base.environment), [str(self.inbox)])
        self.transport = "ipc"
        self.ip = str(self.sockets / "kernel")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own log (start-up notes, warnings) is not the grader's to show.
        kw.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def process_limit_hits(self):
        """How often the sandbox refused a new process or thread (its pids cgroup's ``max`` events);
        0 where there is no such cgroup."""
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        events = Path(f"/sys/fs/cgroup/pids/autograder/sandbox-{process.pid}/pids.events") if process else None
        try:
            return int(events.read_text().split()[1])
        except (AttributeError, OSError, IndexError, ValueError):
            return 0

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments), self.work, self.sockets)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self.folder, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources
