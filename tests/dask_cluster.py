"""A Dask cluster on loopback, started with the ``dask`` command-line tools, for the tests and
benchmarks of grading on Dask: a scheduler and workers on 127.0.0.1, each in a process group
of its own, so that killing one takes its nanny, its worker and its grading processes along.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder.nbgrader_cli import nbgrader_environment

DASK = str(Path(sys.executable).parent / "dask")


class Cluster:
    """A Dask scheduler and workers on 127.0.0.1, each in a process group of its own."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.file = self.folder / "scheduler.json"
        self.processes, self.logs = {}, []
        self.env = nbgrader_environment()

    def _start(self, name, *arguments):
        log = (self.folder / f"{name}.log").open("w")
        self.logs.append(log)
        self.processes[name] = subprocess.Popen([DASK, *arguments], cwd=self.folder, env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, workers=2):
        """Start the scheduler and `workers` one-thread workers; wait until all have joined."""
        self._start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
                    "--scheduler-file", str(self.file))
        for _ in range(600):
            if self.file.is_file() and self.file.stat().st_size:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the Dask scheduler did not start: {(self.folder / 'scheduler.log').read_text()[-500:]}")
        self.address = json.loads(self.file.read_text())["address"]
        for number in range(workers):
            self._start(f"worker{number}", "worker", "--scheduler-file", str(self.file), "--nthreads", "1",
                        "--no-dashboard", "--memory-limit", "0", "--local-directory", str(self.folder),
                        "--name", f"worker{number}")
        from distributed import Client
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        return self

    def kill(self, name):
        """Kill a process and everything it started (a worker's nanny, the worker, its grading processes)."""
        try:
            os.killpg(self.processes[name].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.processes[name].wait()

    def stop(self):
        """Close the workers, then the scheduler, as an operator would (SIGTERM); kill what
        has not ended 20 s later."""
        for name in sorted(self.processes, key=lambda n: n == "scheduler"):
            if self.processes[name].poll() is None:
                os.killpg(self.processes[name].pid, signal.SIGTERM)
                try:
                    self.processes[name].wait(20)
                except subprocess.TimeoutExpired:
                    pass
            self.kill(name)
        for log in self.logs:
            log.close()
