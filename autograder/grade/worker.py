"""A long-lived grading worker: ``python -m autograder.grade.worker MEMORY_BYTES``.

It reads one task (JSON) per line on stdin and writes one result (JSON) per line on stdout,
grading each with nbgrader's ``Autograde`` converter in this process, so nbgrader's start-up is
paid once per worker rather than once per submission. Each task still gets a scratch course of
its own. The memory limit applies to the worker and the kernels it starts; the batch that feeds
it enforces each task's wall-clock limit by killing the worker and starting another.
"""

import json
import logging
import resource
import sys
import tempfile
from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata
from nbgrader.converters.base import NbGraderException
from traitlets.config.loader import PyFileConfigLoader

from .task import KERNEL_DIED, Task, install_kernel_guard, run_task


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def autograde_in_process(task, scratch):
    """nbgrader's autograde of `task` in the scratch course: "ok", KERNEL_DIED or the error."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(scratch)).load_config()
    config.CourseDirectory.root = str(scratch)
    config.CourseDirectory.student_id = task.student
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = task.assignment
    converter = Autograde(coursedir=coursedir, config=config)
    # `repair` has already put every graded cell's nbgrader metadata back as released and removed
    # it from any other cell, so nbgrader's schema check of every cell (twice) is redundant here.
    converter.sanitize_preprocessors = [p for p in converter.sanitize_preprocessors if p is not CheckCellMetadata]
    converter.autograde_preprocessors = [p for p in converter.autograde_preprocessors if p is not CheckCellMetadata]
    converter.force = True
    captured = _Captured()
    converter.log.addHandler(captured)  # nbgrader's preprocessors log to the same (traitlets) logger
    try:
        converter.start()
    except NbGraderException:
        pass
    finally:
        converter.log.removeHandler(captured)
    if (Path(scratch) / "autograded" / task.student / task.assignment / task.notebook).is_file() and \
            not any("error processing" in line for line in captured.lines):
        return "ok"
    log = "\n".join(captured.lines)
    if KERNEL_DIED in log or "DeadKernelError" in log:
        return KERNEL_DIED
    return (captured.lines[0] if captured.lines else "nbgrader failed")[:300]


def main():
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    install_kernel_guard(tempfile.mkdtemp(prefix="grading-worker-"))
    for line in sys.stdin:
        task = Task(**json.loads(line))
        result = run_task(task, autograde=autograde_in_process)
        sys.stdout.write(result.to_json() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
