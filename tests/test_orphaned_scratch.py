"""A run killed with its coordinator leaves scratch folders and dying processes; the next run
kills what still uses them, then removes them."""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from autograder.grade.workers import remove_orphaned_scratch, run_folder_prefixes

# Keeps making the folder it names and a file in it, as a kernel that is still starting would.
WRITER = ("import os, sys, time\n"
          "while True:\n"
          "    os.makedirs(sys.argv[1] + '/sandboxed-kernel', exist_ok=True)\n"
          "    open(sys.argv[1] + '/sandboxed-kernel/connection.json', 'w').close()\n"
          "    time.sleep(0.001)\n")


def dead_pid():
    """A pid no process can have: the kernel hands out pids below pid_max."""
    return int(Path("/proc/sys/kernel/pid_max").read_text())


def test_the_folders_of_a_dead_coordinator_go_with_the_processes_still_writing_in_them():
    owner = dead_pid()
    folders = [Path(tempfile.mkdtemp(prefix=prefix)) for prefix in run_folder_prefixes(owner)]
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder)]) for folder in folders]
    try:
        deadline = time.monotonic() + 30
        while not all((folder / "sandboxed-kernel").is_dir() for folder in folders) and time.monotonic() < deadline:
            time.sleep(0.01)
        remove_orphaned_scratch()
        # Killed and waited for (psutil reaps its children, so the exit status is its to see).
        assert [writer.pid for writer in writers if psutil.pid_exists(writer.pid)] == []
        assert [folder for folder in folders if folder.exists()] == []
    finally:
        for writer in writers:
            writer.kill()


def test_a_live_coordinators_folders_and_processes_are_left_alone():
    owner = psutil.Process().pid
    folder = Path(tempfile.mkdtemp(prefix=run_folder_prefixes(owner)[0]))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)])
    try:
        remove_orphaned_scratch()
        assert writer.poll() is None
        assert folder.is_dir()
    finally:
        writer.kill()
        writer.wait()

        shutil.rmtree(folder, ignore_errors=True)
