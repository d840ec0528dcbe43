"""nbgrader's autograde steps for one assignment, built once per worker and run on each submission in memory.

nbgrader's ``Autograde`` converter, run for every submission, copies a course, opens the
gradebook about ten times, writes and reads the notebook twice and commits each grade on its
own: most of a submission's cost once its kernel is warm. `Autograder` keeps what decides a
grade and drops the rest. It runs the converter's own preprocessors, in the converter's order
and with the course's configuration (``c.Autograde.sanitize_preprocessors`` and
``autograde_preprocessors`` included), with these changes:

- ``Execute`` is `TrustedExecute`: a sandboxed kernel, verdicts made here;
- ``OverwriteCells`` and ``OverwriteKernelspec`` read the assignment's cells from a gradebook
  opened once per worker (`AssignmentCells`), not once per notebook;
- ``SaveAutoGrades`` and ``AssignLatePenalties``, which write into the gradebook, are left to the
  coordinator, the gradebook's only writer (`store`): a graded cell's score is nbgrader's own
  ``determine_grade``, the very value SaveAutoGrades stores;
- ``CheckCellMetadata`` is redundant: `repair` has already put every graded cell's metadata
  back as released;
- once the scores are made, `MakeStudentContentInert` makes what the student's markdown and
  outputs could run inert before formgrader or JupyterLab shows the notebook to the instructor.
"""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, NbGraderPreprocessor,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from ..course import Course
from ..defaults import SUBMISSION_MEMORY_BYTES
from .execute import TrustedExecute
from .inert import MakeStudentContentInert
from .kernels import file_pairs
from .warm import KERNEL_ENVIRONMENT

# Run in the kernel, never imported here: the guard against os._exit, then the trusted-call harness.
STARTUP_FILES = [str(Path(__file__).with_name("kernel_guard.py")),
                 str(Path(__file__).parent.parent / "judge" / "harness.py")]
LEFT_TO_THE_COORDINATOR = (SaveAutoGrades, AssignLatePenalties, CheckCellMetadata)
LOG = logging.getLogger("autograder")


def released_files(course, assignment):
    """'host path=relative path' for every released file but the notebooks: what the kernel may read."""
    release = Path(course) / "release" / assignment
    return [f"{path}={path.relative_to(release)}" for path in sorted(release.iterdir()) if path.suffix != ".ipynb"]


class AssignmentCells:
    """The assignment's notebooks and cells as the gradebook holds them, each looked up once:
    what OverwriteCells and OverwriteKernelspec ask a gradebook for. The gradebook stays open."""

    def __init__(self, db_url, course_id):
        self.gradebook = Gradebook(db_url, course_id)
        self.found = {}

    def _found(self, method, *key):
        if (method, key) not in self.found:
            try:
                self.found[method, key] = getattr(self.gradebook, method)(*key), None
            except MissingEntry as missing:
                self.found[method, key] = None, missing
        found, missing = self.found[method, key]
        if missing is not None:
            raise missing
        return found

    def find_notebook(self, notebook, assignment):
        return self._found("find_notebook", notebook, assignment)

    def find_source_cell(self, name, notebook, assignment):
        return self._found("find_source_cell", name, notebook, assignment)

    def find_graded_cell(self, name, notebook, assignment):
        return self._found("find_graded_cell", name, notebook, assignment)

    def find_task_cell(self, name, notebook, assignment):
        return self._found("find_task_cell", name, notebook, assignment)

    def close(self):
        self.gradebook.close()


class SharedOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, reading the worker's `AssignmentCells`."""

    cells = None

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.cells
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


class SharedOverwriteKernelspec(OverwriteKernelspec):
    """nbgrader's OverwriteKernelspec, reading the worker's `AssignmentCells`."""

    cells = None

    def preprocess(self, nb, resources):
        kernelspec = self.cells.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"]).kernelspec
        if kernelspec:
            nb.metadata["kernelspec"] = json.loads(kernelspec)
        return nb, resources


REPLACED = {Execute: TrustedExecute, OverwriteCells: SharedOverwriteCells, OverwriteKernelspec: SharedOverwriteKernelspec}


class Autograder:
    """Autograde one assignment's submissions, one notebook at a time, in this process.

    Parameters
    ----------
    course : str
        The course directory (its ``nbgrader_config.py`` and ``release/`` are read).
    course_id, assignment, notebook : str
        Whose cells to look up, and the notebook's file name.
    gradebook : str
        A gradebook file holding the assignment (a snapshot of the course's).
    sandboxed, warm : bool
        Kernels in the sandbox; forked from the worker's warm process.
    memory_bytes : int
        Address-space limit of the kernel.
    """

    def __init__(self, course, course_id, assignment, notebook, gradebook, sandboxed=True, warm=True,
                 memory_bytes=SUBMISSION_MEMORY_BYTES):
        self.course, self.assignment, self.notebook_id = Path(course), assignment, Path(notebook).stem
        Course.open(course)  # makes the course's own assignment plug-ins known (c.Kit.assignment_folders)
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        self.config.TrustedExecute.sandboxed = sandboxed
        self.config.TrustedExecute.warm = warm
        self.config.TrustedExecute.memory_bytes = memory_bytes
        self.config.TrustedExecute.assignment_files = released_files(course, assignment)
        self.config.TrustedExecute.startup_files = STARTUP_FILES
        self.db_url, self.course_id = f"sqlite:///{gradebook}", course_id
        self.cells = AssignmentCells(self.db_url, course_id)
        self.steps = [self._step(kind) for kind in self._kinds("sanitize_preprocessors")]
        self.grading = [self._step(kind) for kind in self._kinds("autograde_preprocessors")]
        release = nbformat.read(self.course / "release" / assignment / notebook, as_version=4)
        self.display = MakeStudentContentInert(release)

    def _kinds(self, name):
        configured = self.config.Autograde.get(name)
        kinds = configured if configured is not None else Autograde.class_traits()[name].default()
        kinds = [import_item(kind) if isinstance(kind, str) else kind for kind in kinds]
        return [REPLACED.get(kind, kind) for kind in kinds if kind not in LEFT_TO_THE_COORDINATOR]

    def _step(self, kind):
        step = kind(config=self.config)
        if hasattr(step, "cells"):
            step.cells = self.cells
        return step

    def grade(self, notebook, student):
        """(the autograded notebook, {grade_id: score}, warnings) of `notebook`, submitted by `student`."""
        with tempfile.TemporaryDirectory(prefix="autograde-") as folder:
            if not self.config.TrustedExecute.sandboxed:
                self._released_copy(folder)
            resources = {"unique_key": self.notebook_id, "output_files_dir": f"{self.notebook_id}_files",
                         "metadata": {"name": self.notebook_id, "path": folder},
                         "nbgrader": {"student": student, "assignment": self.assignment,
                                      "notebook": self.notebook_id, "db_url": self.db_url},
                         "warnings": []}  # what the steps noticed (TrustedExecute: a kernel that died, say)
            for step in self.steps:
                notebook, resources = step(notebook, resources)
            with utils.setenv(**KERNEL_ENVIRONMENT):  # as nbgrader's converter runs the autograde steps
                for step in self.grading:
                    notebook, resources = step(notebook, resources)
        scores = {cell.metadata.nbgrader["grade_id"]: float(utils.determine_grade(cell, LOG)[0] or 0.0)
                  for cell in notebook.cells if utils.is_grade(cell)}
        # Only what the instructor is shown changes from here on: the scores are made.
        notebook, resources = self.display(notebook, resources)
        return notebook, scores, resources["warnings"] + resources["removed"]

    def _released_copy(self, folder):
        """A folder holding the released files, where an unsandboxed kernel starts (a sandboxed
        one gets its own copy in its work folder)."""
        for source, relative in file_pairs(self.config.TrustedExecute.assignment_files):
            copy = shutil.copytree if os.path.isdir(source) else shutil.copyfile
            copy(source, os.path.join(folder, relative))
        return folder

    def close(self):
        self.cells.close()


_current = {}


def autograder_for(task):
    """This process's `Autograder` for `task`'s assignment and options, built on first use."""
    key = (task.course, task.course_id, task.assignment, task.notebook, task.gradebook, task.sandbox, task.warm,
           task.memory_bytes)
    if key not in _current:
        for stale in _current.values():
            stale.close()
        _current.clear()
        _current[key] = Autograder(task.course, task.course_id, task.assignment, task.notebook,
                                   task.gradebook or str(Path(task.course) / "gradebook.db"),
                                   task.sandbox, task.warm, task.memory_bytes)
    return _current[key]
