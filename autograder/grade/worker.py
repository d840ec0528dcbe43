"""A long-lived grading worker: ``python -m autograder.grade.worker MEMORY_BYTES``.

It reads one task (JSON) per line on stdin and writes one result (JSON) per line on stdout,
grading each with nbgrader's autograde steps built once in this process (`autograde`), and a
sandboxed kernel of its own forked from the worker's warm process, so start-up costs are paid
once per worker rather than once per submission. The memory limit applies to the worker; the
batch that feeds it enforces each task's wall-clock limit by killing the worker and starting another.
"""

import ctypes
import json
import resource
import sys

from .task import Task, run_task


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD = 128 << 10  # glibc's default starting value


def pin_mmap_threshold():
    """Keep glibc's malloc giving every large block (an array, a message frame) its own mapping,
    which goes back to the system when freed.

    By default glibc raises the threshold to the size of the largest block freed so far, after
    which blocks of megabytes come from the heap, where one small block left alive between them
    keeps their pages: a worker grew by 14 MiB at a time, to 60 MiB over 400 submissions. A fixed
    threshold keeps it flat. Returns False where the C library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1


def main():
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    pin_mmap_threshold()
    for line in sys.stdin:
        task = Task(**json.loads(line))
        result = run_task(task)
        sys.stdout.write(result.to_json() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
