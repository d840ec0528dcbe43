"""The lock that lets `alone` tests have the machine to themselves in a parallel run (alone.py)."""

import threading
import time

from alone import MachineLock


def hold(lock, alone, events, name, seconds=0.0):
    def run():
        with lock.held(alone):
            events.append(f"{name} in")
            time.sleep(seconds)
            events.append(f"{name} out")
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_ordinary_tests_run_together(tmp_path):
    events = []
    first, second = MachineLock(tmp_path), MachineLock(tmp_path)
    with first.held(alone=False):
        hold(second, False, events, "second").join(timeout=5)
    assert events == ["second in", "second out"]


def test_an_alone_test_waits_for_running_tests_and_stops_new_ones(tmp_path):
    events = []
    running, alone, newcomer = MachineLock(tmp_path), MachineLock(tmp_path), MachineLock(tmp_path)
    with running.held(alone=False):
        waiting = hold(alone, True, events, "alone", seconds=0.3)
        time.sleep(0.3)  # the alone test is now waiting for the running one
        late = hold(newcomer, False, events, "newcomer")
        time.sleep(0.3)
        events.append("running out")
    waiting.join(timeout=5)
    late.join(timeout=5)
    assert events == ["running out", "alone in", "alone out", "newcomer in", "newcomer out"]
