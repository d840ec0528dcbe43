"""The grading worker's process: forked from a fork server, and a memory that stays flat."""

import os
import subprocess
import sys

import psutil
import pytest

from autograder.nbgrader_cli import nbgrader_environment
from autograder.grade.worker_forkserver import WorkerForkServer

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
    server = WorkerForkServer(nbgrader_environment())
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


def test_the_fork_server_outlives_the_thread_that_started_it_and_ends_with_its_process(tmp_path):
    started = {}
    coordinator = subprocess.Popen(
        [sys.executable, "-c", "import os, threading, time\n"
         "from autograder.nbgrader_cli import nbgrader_environment\n"
         "from autograder.grade.worker_forkserver import WorkerForkServer\n"
         "server = WorkerForkServer(nbgrader_environment())\n"
         f"settings = {{'memory_bytes': 4 << 30, 'scratch': {str(tmp_path)!r}, 'environment': dict(os.environ)}}\n"
         "thread = threading.Thread(target=lambda: server.fork(settings))\n"
         "thread.start(); thread.join()\n"  # as a class run's threads start their workers
         "print(server.process.pid, os.path.dirname(server.path), flush=True)\n"
         "time.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
    try:
        pid, folder = coordinator.stdout.readline().split()
        started["server"] = psutil.Process(int(pid))
        assert started["server"].is_running()  # not gone with the thread that started it
        coordinator.kill()
        coordinator.wait()
        gone, alive = psutil.wait_procs([started["server"]], timeout=10)
        assert alive == []  # gone with the process
        assert not os.path.exists(folder)  # and its folder with it
    finally:
        coordinator.kill()
        for process in started.values():
            if process.is_running():
                process.kill()


def test_the_fork_server_forks_workers_for_its_coordinator_only(tmp_path):
    server = WorkerForkServer(nbgrader_environment())
    try:
        worker = server.fork({"memory_bytes": 4 << 30, "scratch": str(tmp_path), "environment": dict(os.environ)})
        stranger = subprocess.run(
            [sys.executable, "-c", "import socket, sys\n"
             "client = socket.socket(socket.AF_UNIX); client.connect(sys.argv[1]); client.settimeout(10)\n"
             "try:\n    client.sendall(b'{}\\n'); print(repr(client.recv(100)))\n"
             "except OSError as error:\n    print(type(error).__name__)\n",
             server.path], capture_output=True, text=True, timeout=30)
        assert stranger.stdout.strip() in ("b''", "ConnectionResetError", "BrokenPipeError"), stranger
        children = {child.pid for child in psutil.Process(server.process.pid).children()}
        assert len(children) == 2 and worker[0] in children  # its worker and its kernel fork server, no other
    finally:
        server.stop()


def test_the_threads_of_a_run_share_one_fork_server():
    from concurrent.futures import ThreadPoolExecutor

    from autograder.grade.workers import fork_server, stop_fork_server

    stop_fork_server()
    try:
        with ThreadPoolExecutor(max_workers=4) as threads:
            servers = list(threads.map(lambda _: fork_server(), range(4)))
        assert len({id(server) for server in servers}) == 1
    finally:
        stop_fork_server()
