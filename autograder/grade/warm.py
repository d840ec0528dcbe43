"""The warm-kernel pool of a grading process (`sandbox.pool`), and the one a fork server shares.

A fork server launches one warm-kernel process before it imports nbgrader, so that the two
loads run on two cores at once, and its workers fork their kernels from it (`share`). A worker
whose shared warm process is gone starts one of its own.
"""

import atexit

from ..sandbox.policy import Sandbox
from ..sandbox.pool import KernelPool

KERNEL_ENVIRONMENT = {"NBGRADER_EXECUTION": "autograde"}
_pool = None
_shared = None


def launch_shared(folder):
    """Start the warm process that this fork server's workers will share, in `folder`, without
    waiting for it; the `KernelPool` that owns it."""
    owner = KernelPool(Sandbox(environment=KERNEL_ENVIRONMENT))
    owner.launch(folder)
    return owner


def share(control):
    """Fork this process's kernels from the warm process listening on `control`."""
    global _shared
    _shared = control


def warm_pool():
    """This process's `KernelPool`, made on first use and stopped when the process exits."""
    global _pool
    if _pool is None:
        _pool = KernelPool(Sandbox(environment=KERNEL_ENVIRONMENT), shared=_shared)
        atexit.register(_pool.stop)
    return _pool
