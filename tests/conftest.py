import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np


def assert_as_printed(actual, expected):
    """Assert `actual` equals `expected` as numpy prints it: 8 decimals, or 8 mantissa decimals.

    Half a unit in the last printed place is the most rounding can account for, in absolute
    terms for fixed notation and relative terms for scientific notation.
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=5e-9, atol=5e-9)


# --- parallel runs (pytest-xdist): tests marked `alone` get the machine to themselves (alone.py) ---

import pytest  # noqa: E402

from alone import MachineLock  # noqa: E402

MACHINE_LOCK = pytest.StashKey[MachineLock]()


# The tests of these fixtures check the whole machine (test_attacks: no scratch folder, kernel or pids
# cgroup left after grading the attacks) or grade with 5 s per cell (test_grade_batch's class); the
# fixture is built inside the first test that uses it, so every test that uses it runs alone.
ALONE_FIXTURES = {"attacked", "graded_class"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ALONE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.alone)


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.stash[MACHINE_LOCK] = MachineLock(config.rootpath / "build" / "test-locks")


def pytest_unconfigure(config):
    if MACHINE_LOCK in config.stash:
        config.stash[MACHINE_LOCK].close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    lock = item.config.stash.get(MACHINE_LOCK, None)
    if lock is None:
        return (yield)
    with lock.held(alone=item.get_closest_marker("alone") is not None):
        return (yield)
