"""nbgrader's Autograde converter, run in this process on one scratch course, with trusted verdicts.

The converter is nbgrader's own (sanitizing, overwriting the read-only cells, saving grades into
the gradebook, the autograded notebook); its Execute step is replaced by `TrustedExecute`, which
runs the notebook in a sandboxed kernel and judges every graded cell here.
"""

import logging
from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata, Execute
from traitlets.config.loader import PyFileConfigLoader

from .execute import TrustedExecute

# Run in the kernel, never imported here: the guard against os._exit, then the trusted-call harness.
STARTUP_FILES = [str(Path(__file__).with_name("kernel_guard.py")),
                 str(Path(__file__).parent.parent / "judge" / "harness.py")]


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def released_files(course, assignment):
    """'host path=relative path' for every released file but the notebooks: what the kernel may read."""
    release = Path(course) / "release" / assignment
    return [f"{path}={path.relative_to(release)}" for path in sorted(release.iterdir()) if path.suffix != ".ipynb"]


def autograde_in_process(task, scratch, warnings):
    """nbgrader's autograde of `task` in the scratch course: "ok" or nbgrader's error.

    What the kernel run noticed (a cell that killed the kernel, say) is added to `warnings`.
    """
    config = PyFileConfigLoader("nbgrader_config.py", path=str(scratch)).load_config()
    config.CourseDirectory.root = str(scratch)
    config.CourseDirectory.student_id = task.student
    config.TrustedExecute.sandboxed = task.sandbox
    config.TrustedExecute.warm = task.warm
    config.TrustedExecute.memory_bytes = task.memory_bytes
    config.TrustedExecute.assignment_files = released_files(task.course, task.assignment)
    config.TrustedExecute.startup_files = STARTUP_FILES
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = task.assignment
    converter = Autograde(coursedir=coursedir, config=config)
    # `repair` has already put every graded cell's nbgrader metadata back as released and removed
    # it from any other cell, so nbgrader's schema check of every cell (twice) is redundant here.
    converter.sanitize_preprocessors = [p for p in converter.sanitize_preprocessors if p is not CheckCellMetadata]
    converter.autograde_preprocessors = [TrustedExecute if p is Execute else p
                                         for p in converter.autograde_preprocessors if p is not CheckCellMetadata]
    converter.force = True
    captured = _Captured()
    converter.log.addHandler(captured)  # nbgrader's preprocessors log to the same (traitlets) logger
    TrustedExecute.last_warnings = []
    try:
        converter.start()
    except NbGraderException:
        pass
    finally:
        converter.log.removeHandler(captured)
    warnings.extend(TrustedExecute.last_warnings)
    if (Path(scratch) / "autograded" / task.student / task.assignment / task.notebook).is_file() and \
            not any("error processing" in line for line in captured.lines):
        return "ok"
    errors = [line for line in captured.lines if "rror" in line and "Please see" not in line]
    return ((errors or captured.lines or ["nbgrader failed"])[0])[:300]
