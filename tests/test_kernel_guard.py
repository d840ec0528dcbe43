"""The grading kernel's guard: the notebook's code cannot end the kernel, the kernel itself can."""

import os
import runpy
from pathlib import Path

import pytest

import autograder.grade.task

GUARD = Path(autograder.grade.task.__file__).with_name("kernel_guard.py")


@pytest.fixture
def guarded(monkeypatch):
    """Install the guard over recording stand-ins for os._exit and os.abort; return the calls."""
    calls = []
    monkeypatch.setattr(os, "_exit", lambda code: calls.append(("_exit", code)))
    monkeypatch.setattr(os, "abort", lambda: calls.append(("abort",)))
    runpy.run_path(str(GUARD))
    return calls


def call_from(module_name, source):
    exec(compile(source, f"<{module_name}>", "exec"), {"__name__": module_name, "os": os})


@pytest.mark.parametrize("source", ["os._exit(0)", "os.abort()"])
def test_the_notebooks_code_gets_an_error_instead(guarded, source):
    with pytest.raises(RuntimeError, match="tried to end the Python process"):
        call_from("__main__", source)
    assert guarded == []


def test_ipykernel_still_ends_the_kernel_when_its_parent_dies(guarded):
    call_from("ipykernel.parentpoller", "os._exit(1)")
    assert guarded == [("_exit", 1)]


def test_a_child_the_notebook_forked_still_ends():
    """A forked child that could not end would carry on as a second kernel on the same sockets."""
    real_exit, real_abort = os._exit, os.abort
    runpy.run_path(str(GUARD))
    try:
        pid = os.fork()
        if pid == 0:
            try:
                call_from("__main__", "os._exit(7)")
            finally:
                real_exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 7
        with pytest.raises(RuntimeError, match="tried to end the Python process"):
            call_from("__main__", "os._exit(0)")
    finally:
        os._exit, os.abort = real_exit, real_abort
