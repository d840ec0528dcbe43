"""The lock that lets `alone` tests have the machine to themselves in a parallel run (alone.py)."""

import threading
import time
from types import SimpleNamespace

import pytest

from alone import MachineLock, after_test, before_test

ALONE = SimpleNamespace(get_closest_marker=lambda name: pytest.mark.alone if name == "alone" else None)
ORDINARY = SimpleNamespace(get_closest_marker=lambda name: None)


def hold(lock, alone, events, name, seconds=0.0):
    """In a thread: hold `lock` as an alone or ordinary test would for `seconds`, noting when."""
    def run():
        lock.acquire(alone)
        events.append(f"{name} in")
        time.sleep(seconds)
        events.append(f"{name} out")
        lock.release()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_ordinary_tests_run_together(tmp_path):
    events = []
    first, second = MachineLock(tmp_path), MachineLock(tmp_path)
    first.acquire(alone=False)
    hold(second, False, events, "second").join(timeout=5)
    first.release()
    assert events == ["second in", "second out"]


def test_an_alone_test_waits_for_running_tests_and_stops_new_ones(tmp_path):
    events = []
    running, alone, newcomer = MachineLock(tmp_path), MachineLock(tmp_path), MachineLock(tmp_path)
    running.acquire(alone=False)
    waiting = hold(alone, True, events, "alone", seconds=0.3)
    time.sleep(0.3)  # the alone test is now waiting for the running one
    late = hold(newcomer, False, events, "newcomer")
    time.sleep(0.3)
    events.append("running out")
    running.release()
    waiting.join(timeout=5)
    late.join(timeout=5)
    assert events == ["running out", "alone in", "alone out", "newcomer in", "newcomer out"]


def test_a_worker_keeps_the_machine_from_one_alone_test_to_the_next(tmp_path):
    worker, other = MachineLock(tmp_path), MachineLock(tmp_path)
    events = []
    before_test(worker, ALONE)
    after_test(worker, ALONE, nextitem=ALONE)
    late = hold(other, False, events, "other")
    time.sleep(0.3)
    assert events == [] and worker.alone is True  # still held: the other worker waits
    before_test(worker, ALONE)
    after_test(worker, ALONE, nextitem=ORDINARY)
    late.join(timeout=5)
    assert events == ["other in", "other out"] and worker.alone is None


def test_an_ordinary_test_lets_go_at_once(tmp_path):
    lock = MachineLock(tmp_path)
    before_test(lock, ORDINARY)
    assert lock.alone is False
    after_test(lock, ORDINARY, nextitem=ORDINARY)
    assert lock.alone is None
