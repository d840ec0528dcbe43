"""The kernel fork server of a grading process (`sandbox.warm_kernels`), and the one a worker
fork server's workers share.

A worker fork server launches one kernel fork server before it imports nbgrader, so that the two
loads run on two cores at once, and its workers fork their kernels from it (`share`). A worker
whose shared kernel fork server is gone starts one of its own.
"""

import atexit

from ..sandbox.policy import Sandbox
from ..sandbox.warm_kernels import KernelForkServer

KERNEL_ENVIRONMENT = {"NBGRADER_EXECUTION": "autograde"}
_fork_server = None
_shared = None


def launch_shared(folder):
    """Start the kernel fork server that this worker fork server's workers will share, in
    `folder`, without waiting for it; the `KernelForkServer` that owns it."""
    owner = KernelForkServer(Sandbox(environment=KERNEL_ENVIRONMENT))
    owner.launch(folder)
    return owner


def share(control):
    """Fork this process's kernels from the kernel fork server listening on `control`."""
    global _shared
    _shared = control


def kernel_fork_server():
    """This process's `KernelForkServer`, made on first use and stopped when the process exits."""
    global _fork_server
    if _fork_server is None:
        _fork_server = KernelForkServer(Sandbox(environment=KERNEL_ENVIRONMENT), shared=_shared)
        atexit.register(_fork_server.stop)
    return _fork_server
