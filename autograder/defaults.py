"""The default limits of a grading, each defined here once; the command line, the tasks, the
nbgrader steps and the sandbox take them from here.

A submission is graded by one worker process within `SUBMISSION_SECONDS` of wall-clock time and
`SUBMISSION_MEMORY_BYTES` of address space (``autograder grade --timeout`` and
``--memory-limit``), which its `TrustedExecute` also gives its kernels. A sandbox made with no
memory limit of its own (`autograder.sandbox.policy.Sandbox()`: the warm process, say), and a
`TrustedExecute` no task configures, get `KERNEL_MEMORY_BYTES`. The launcher
(`autograder.sandbox.launch`) runs before the kit is importable and may import nothing of it, so
the default number of processes is its own `cgroups.PROCESSES`, re-exported here as
`KERNEL_PROCESSES`.

A limit that only one module knows of stays with it (`autograder.grade.reading`'s on the files
read, `autograder.judge.wire`'s and `autograder.judge.channel`'s on replies,
`autograder.grade.cluster.IN_FLIGHT_BYTES`, the waits of `autograder.sandbox.warm_kernels`).
"""

import os

from .sandbox.cgroups import PROCESSES as KERNEL_PROCESSES

SUBMISSION_SECONDS = 300.0  # wall-clock time for one submission
SUBMISSION_MEMORY_BYTES = 4 << 30  # address space of the worker grading one submission, and of its kernels

KERNEL_MEMORY_BYTES = 2 << 30  # address space of each process of a sandbox given no other
KERNEL_WORK_BYTES = 64 << 20  # the kernel's writable work folder (a tmpfs), and the largest file it may write
KERNEL_CPU_SECONDS = 900  # CPU time of each process of a sandboxed kernel
KERNEL_OPEN_FILES = 1024  # files each process of a sandboxed kernel may hold open

MAX_OUTPUT_BYTES = 4 << 20  # output (text, data, tracebacks) a notebook's cells keep; the rest is dropped


def default_jobs():
    """How many submissions a local run grades at the same time unless told: one per core."""
    return os.cpu_count() or 1


__all__ = ["KERNEL_CPU_SECONDS", "KERNEL_MEMORY_BYTES", "KERNEL_OPEN_FILES", "KERNEL_PROCESSES", "KERNEL_WORK_BYTES",
           "MAX_OUTPUT_BYTES", "SUBMISSION_MEMORY_BYTES", "SUBMISSION_SECONDS", "default_jobs"]
