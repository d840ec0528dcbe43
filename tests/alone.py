"""Running the suite in parallel, while the tests that must have the machine to themselves run alone.

Some tests look at the whole machine: the attack catalog's find no scratch folder, kernel or pids
cgroup left after grading, and installed files unchanged. Another test running beside them would
pass its work off as theirs. They are marked ``alone`` (conftest.py marks the users of such
fixtures). ``make test`` runs them first, by themselves, then the rest with pytest-xdist.

So that a direct ``pytest -n 2`` keeps them alone too, each test under xdist
holds a lock on the machine for its whole run, fixtures included: a shared lock for
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
