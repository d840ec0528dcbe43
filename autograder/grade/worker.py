"""A long-lived grading worker.

A worker grades one task at a time: a task (JSON) in, a result (JSON) out, each graded with
nbgrader's autograde steps built once in the worker (`autograde`) and a sandboxed kernel of its
own forked from the worker's kernel fork server (a warm kernel), so start-up costs are paid once per worker rather
than once per submission. The memory limit applies to the worker; whoever feeds it enforces each
task's wall-clock limit by killing it and starting another.

A class run forks its workers from a worker fork server that has imported this module and
nbgrader's steps once (`worker_forkserver`; each worker then runs `serve` on a socket);
``python -m autograder.grade.worker MEMORY_BYTES`` runs one on its own, reading tasks on stdin
and writing results on stdout (`main`).
"""

import ctypes
import json
import os
import resource
import sys
import tempfile

from ..sandbox.lifetime import die_with_parent
from .task import Task, run_task
from .warm import share

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


def limit_memory(memory_bytes):
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    pin_mmap_threshold()


def grade_line(line):
    """One task's JSON in, its result's JSON out."""
    return run_task(Task(**json.loads(line))).to_json()


def serve(connection, settings, warm_control=None):
    """Be a worker forked by the worker fork server (`worker_forkserver`): grade each task received on
    `connection` (a socket, one JSON line each way) until it closes. Kernels are forked from the
    shared kernel fork server listening on `warm_control`, when there is one.

    The `settings` (the coordinator's first line, read by the worker fork server) give the memory
    limit, the scratch folder that holds everything the worker makes, and the environment. The
    worker leads a session of its own (so that killing it is the coordinator's choice), dies with
    the worker fork server, which ends with the coordinator, writes nothing to the coordinator's
    terminal, and answers with its pid."""
    stream = connection.makefile("rwb")
    os.setsid()
    die_with_parent()
    os.environ.clear()
    os.environ.update(settings["environment"], TMPDIR=settings["scratch"])
    tempfile.tempdir = None  # chosen again, from TMPDIR
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    limit_memory(settings["memory_bytes"])
    if warm_control:
        share(warm_control)
    stream.write(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    stream.flush()
    for line in stream:
        stream.write(grade_line(line.decode()).encode() + b"\n")
        stream.flush()


def main():
    limit_memory(int(sys.argv[1]))
    for line in sys.stdin:
        sys.stdout.write(grade_line(line) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
