"""A Jupyter kernel manager whose kernels start inside the grading sandbox.

The kernel talks to the grader over unix sockets in a folder of its own (the sandbox has no
network, not even loopback), starts in its size-capped work folder, and loads the start-up
files it is given (the kernel guard, the trusted-call harness) before any cell runs. It is started
through the sandbox launcher (a cold kernel), or forked from a kernel fork server (a warm kernel,
`warm_kernels.KernelForkServer`) when one is given.
"""

import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from .policy import Sandbox, pids_group


class QuickReadyClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, checking that a kernel answers in shorter steps.

    A new client's IOPub subscription may miss the kernel's first status messages; the stock
    check then waits 0.2 s before asking again, which was most of the time a forked kernel took
    to be ready. This one asks again after 20 ms.
    """

    async def _async_wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=0.25)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.02)  # IOPub is connected
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    wait_for_ready = _async_wait_for_ready


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the kernel forked by the manager's kernel fork
    server (`fork_server`, a `KernelForkServer`) instead of started as a new process."""

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        self.process = km.fork_server.fork(km.sandbox.spec(km.work, km.sockets), cmd)
        self.pid = self.pgid = self.process.pid  # it leads a process group of its own
        return self.connection_info

    async def cleanup(self, restart=False):
        await super().cleanup(restart)
        group = pids_group(self.pid) if self.pid else None
        try:  # killed outright, the kernel's first process could not remove its pids cgroup
            group and group.rmdir()
        except OSError:
            pass


class SandboxedKernelManager(AsyncKernelManager):
    """An `AsyncKernelManager` that wraps the kernel's command in the sandbox launcher.

    Parameters
    ----------
    sandbox : Sandbox
        Limits and files of the kernel.
    startup_files : list of Path
        IPython start-up files, run in this order before any cell.
    fork_server : KernelForkServer, optional
        Fork the kernel from this kernel fork server instead of starting one.
    """

    def __init__(self, sandbox=None, startup_files=(), fork_server=None, **kwargs):
        super().__init__(**kwargs)
        self.fork_server = fork_server
        self.client_factory = QuickReadyClient
        self.folder = Path(tempfile.mkdtemp(prefix="sandboxed-kernel-"))
        self.work, self.sockets = self.folder / "work", self.folder / "sockets"
        for folder in (self.work, self.sockets):
            folder.mkdir()
        startup = [(path, f".ipython/profile_default/startup/{index:02d}-{Path(path).name}")
                   for index, path in enumerate(startup_files)]
        base = sandbox or Sandbox()
        self.sandbox = replace(base, files=list(base.files) + startup, environment=dict(base.environment),
                               readable=list(base.readable))
        self.transport = "ipc"
        self.ip = str(self.sockets / "kernel")

    async def _async_pre_start_kernel(self, **kw):
        if self.fork_server is not None and self.provisioner is None:
            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            self.provisioner = ForkedProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own log (start-up notes, warnings) is not the grader's to show.
        kw.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def process_limit_hits(self):
        """How often the sandbox refused a new process or thread (its pids cgroup's ``max`` events);
        0 where there is no such cgroup."""
        process = getattr(self.provisioner, "process", None) if self.provisioner else None
        group = pids_group(process.pid) if process else None
        try:
            return int((group / "pids.events").read_text().split()[1])
        except (TypeError, OSError, IndexError, ValueError):
            return 0

    def format_kernel_cmd(self, extra_arguments=None):
        if self.fork_server is not None:
            return super().format_kernel_cmd(extra_arguments)
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments), self.work, self.sockets)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self.folder, ignore_errors=True)
            if self.folder.exists():  # not the grader's to remove: the kernel was given a folder
                self.log.warning("sandbox: could not remove the kernel's folder %s", self.folder)

    cleanup_resources = _async_cleanup_resources
