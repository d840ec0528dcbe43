"""Running the suite in parallel, while the tests that must have the machine to themselves run alone.

``make test`` spreads the tests over the machine's cores with pytest-xdist. A few tests look at
the whole machine (no kernel, worker or scratch folder left behind, no pids cgroup in use, no
kernel started since a moment) or hold a submission to a few seconds: another test running beside
them would fail them. They are marked ``alone``.

Each test holds a lock on the machine for its whole run, fixtures included: a shared lock for
ordinary tests, an exclusive one for ``alone`` tests. A turnstile, taken before either, lets a
test that waits for the exclusive lock stop new shared holders, so that a stream of short tests
on the other workers cannot starve it. A worker keeps the exclusive lock from one ``alone`` test
to the next (a module's, typically), so that no other test slips in between and makes the next
one wait for it again.
"""

import fcntl
from pathlib import Path


class MachineLock:
    """The readers-writer lock on the machine that the workers of one test run share.

    Parameters
    ----------
    folder : path-like
        Where the two lock files live; every worker of the run must name the same folder.
    """

    def __init__(self, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.turnstile = open(folder / "turnstile.lock", "a")
        self.machine = open(folder / "machine.lock", "a")
        self.alone = None  # None: not held; else whether it is held exclusively

    def acquire(self, alone):
        """Hold the machine: exclusively if `alone`, else shared with other ordinary tests."""
        fcntl.flock(self.turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.machine, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self.turnstile, fcntl.LOCK_UN)
        self.alone = alone

    def release(self):
        fcntl.flock(self.machine, fcntl.LOCK_UN)
        self.alone = None

    def close(self):
        self.turnstile.close()
        self.machine.close()


def runs_alone(item):
    return item is not None and item.get_closest_marker("alone") is not None


def before_test(lock, item):
    """Take the machine as `item` needs it, unless this worker already holds it that way."""
    alone = runs_alone(item)
    if lock.alone is not alone:
        if lock.alone is not None:
            lock.release()
        lock.acquire(alone)


def after_test(lock, item, nextitem):
    """Let the machine go, except from one alone test to the next."""
    if not (runs_alone(item) and runs_alone(nextitem)):
        lock.release()
