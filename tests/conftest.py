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

from alone import MachineLock, after_test, before_test  # noqa: E402

MACHINE_LOCK = pytest.StashKey[MachineLock]()


# The attack catalog's tests check the whole machine (no scratch folder, kernel or pids cgroup left
# after grading the attacks, installed files unchanged); their fixture is built inside the first test
# that uses it, so every test that uses it runs alone.
ALONE_FIXTURES = {"attacked"}


@pytest.hookimpl(tryfirst=True)  # the marks must be on before `-m alone` / `-m "not alone"` selects by them
def pytest_collection_modifyitems(config, items):
    for item in items:
        if ALONE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.alone)
    # A module's tests stay together and in their order; the modules go longest first, then the
    # others with slow tests, then the rest, which fill the workers' ends in a parallel run.
    slow = {item.module for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: start_order(item.module.__name__.rpartition(".")[2], item.module in slow))


# The modules that take longest in a parallel run (CI's 2 cores, 2026-11-29: 110 to 165 s each),
# longest first. A worker that took one of them last would finish long after the others.
LONGEST = ("test_gradescope_image", "test_student_browser", "test_instructor_browser", "test_grade_batch",
           "test_mutation_autograde", "test_release")


def start_order(module, has_slow_tests):
    return (LONGEST.index(module) if module in LONGEST else len(LONGEST), not has_slow_tests)


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
    before_test(lock, item)
    try:
        return (yield)
    finally:
        after_test(lock, item, nextitem)
