"""The grading worker's process: forked from a fork server, and a memory that stays flat."""

import os
import subprocess
import sys

import psutil
import pytest

from autograder.assign.release import nbgrader_environment
from autograder.grade.forkserver import ForkServer

# Frees a 14 MiB block (the size of the visible mini-batch case), allocates one again, and
# prints whether the second landed in the heap, where freed pages stay with the process.
SECOND_BLOCK_IN_HEAP = """
import ctypes, sys
from autograder.grade.worker import pin_mmap_threshold
if sys.argv[1] == "pinned":
    assert pin_mmap_threshold()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
libc.free(libc.malloc(14 << 20))
block = libc.malloc(14 << 20)
heaps = [[int(end, 16) for end in line.split()[0].split("-")]
         for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
print(any(low <= block < high for low, high in heaps))
"""


def second_block_in_heap(mode):
    run = subprocess.run([sys.executable, "-c", SECOND_BLOCK_IN_HEAP, mode], capture_output=True, text=True, check=True)
    return run.stdout.strip() == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_a_worker_gives_large_blocks_back_to_the_system():
    # glibc's default moves large blocks into the heap once one has been freed (how workers grew)...
    assert second_block_in_heap("default")
    # ...the worker pins the threshold, so they keep a mapping of their own, unmapped when freed.
    assert not second_block_in_heap("pinned")


def test_workers_are_forked_from_one_server_and_die_with_it(tmp_path):
    server = ForkServer(nbgrader_environment())
    try:
        workers = [server.fork({"memory_bytes": 4 << 30, "scratch": str(tmp_path), "environment": dict(os.environ)})
                   for _ in range(2)]
        pids = [pid for pid, _, _ in workers]
        assert len(set(pids)) == 2
        for pid in pids:
            process = psutil.Process(pid)
            assert process.ppid() == server.process.pid  # forked, not started: nothing imported again
            assert os.getsid(pid) == pid  # a session of its own, which the coordinator kills as a whole
        server.process.kill()
        server.process.wait()
        gone, alive = psutil.wait_procs([psutil.Process(pid) for pid in pids], timeout=10)
        assert alive == []
    finally:
        server.stop()
