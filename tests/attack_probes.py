"""What the attack catalog would reach or leave if a wall gave way: a listener on loopback it
would connect to, files it would poison, and the processes, files and scratch folders it would
leave behind. Shared by the tests that grade the catalog (locally, on Dask, in the Gradescope image).

Run as a script (``python attack_probes.py OUT``, the marker in ``KIT_ATTACK_MARKER``), it writes
to OUT, as JSON, what `leftovers`, `scratch_folders` and `strays` find on the machine it runs on:
the Gradescope image test runs it inside the image right after a grading, since the image's
``/tmp`` and processes end with the command. The marker travels in the environment so that the
probe's own command line does not name it.
"""

import hashlib
import json
import os
import socket
import sys
import threading
from pathlib import Path

import psutil

from autograder.sandbox.lifetime import processes_naming
from leftovers import files_naming


class Listener:
    """A TCP listener on loopback and an abstract unix socket, recording whatever connects."""

    def __init__(self, marker):
        self.connections = []
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(f"\0kit-{marker}")
        self.port = self.tcp.getsockname()[1]
        self.running = True
        self.threads = [threading.Thread(target=self._accept, args=(s,), daemon=True) for s in (self.tcp, self.unix)]
        for server, thread in zip((self.tcp, self.unix), self.threads):
            server.listen()
            server.settimeout(0.2)
            thread.start()

    def _accept(self, server):
        while self.running:
            try:
                self.connections.append(server.accept())
            except OSError:
                pass

    def close(self):
        self.running = False
        for thread in self.threads:
            thread.join()
        self.tcp.close()
        self.unix.close()


def fingerprints(files, site):
    """SHA-256 of `files`, which an attack would poison, and the names in the folder `site`."""
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in files} | {"site": sorted(os.listdir(site))}


def scratch_folders():
    """Folders that workers and sandboxed kernels make in the machine's temporary folder."""
    return {p for pattern in ("sandboxed-kernel-*", "grading-worker-*", "grading-forkserver-*", "grade-*", "kernel-*")
            for p in Path("/tmp").glob(pattern)}


def leftovers(marker):
    """The pids of the processes and the temporary files whose names hold `marker`."""
    processes = [p.pid for p in processes_naming(marker)]
    return processes, files_naming(marker)


def strays():
    """The pids of live processes other than this one and its parent: in a pid namespace where
    these two are all that should be left, whatever else runs was left by someone (a fork bomb's
    children name no marker)."""
    me = psutil.Process()
    return [p.pid for p in psutil.process_iter(["status"])
            if p.pid not in (me.pid, me.ppid()) and p.info["status"] != psutil.STATUS_ZOMBIE]


if __name__ == "__main__":
    processes, files = leftovers(os.environ["KIT_ATTACK_MARKER"])
    Path(sys.argv[1]).write_text(json.dumps({"processes": processes, "files": files, "strays": strays(),
                                             "scratch": sorted(map(str, scratch_folders()))}))
