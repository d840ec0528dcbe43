"""The course's assignments: what one is to the engine, and where the engine finds it by name.

An assignment is a plug-in: a package that defines ``ASSIGNMENT``, an `Assignment`. The kit's
own are the packages in this folder; a course adds its own by naming, in its
``nbgrader_config.py``, the folders that hold theirs (``c.Kit.assignment_folders = [...]``, read
by `autograder.course.Course`), which `use_folders` puts on the search path. The engine (grading,
judging, feedback, reports, exports, Gradescope, Dask) imports no assignment: it asks `get` for
one by its nbgrader name.
"""

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..checks.registry import Aspects
from ..checks.runner import judge

VISIBLE_TITLE = "all visible checks passed"  # what a passed visible test cell says


class UnknownAssignment(LookupError):
    """No plug-in defines the assignment asked for; the message lists those that exist."""


@dataclass(frozen=True)
class Release:
    """How an assignment's source notebook and release are built (`autograder.assign`).

    Attributes
    ----------
    notebook : str
        The notebook's file name in ``source/<name>/`` and ``release/<name>/``.
    reference : module
        Where the reference functions are (in `solutions`); a solution cell is its function's source.
    support_package : str
        The package of given code students receive beside the notebook.
    support_folder : Path, optional
        Where that package is copied from: ``<repository root>/<support_package>`` by default.
    data_files : tuple of str
        Files of the repository copied beside the notebook, at the same relative paths.
    student_packages : tuple of str
        What a student's ``requirements.txt`` lists, with the kit's ranges.
    visible_test_source, expected_output_source : callable
        A graded function's name -> the source of its visible test cell, of its expected output (markdown).
    generated_cells : dict
        {role: callable returning a code cell's source} for the other cells the build writes
        (a cell with ``metadata.kit.role`` equal to one of them is rewritten; its grade_id is the role).
    generated_files : tuple of str
        Files of the repository the build writes (expected outputs, say), relative to its root.
    write_generated_files : callable
        root -> None: writes `generated_files` under the repository's root.
    """

    notebook: str
    reference: object
    support_package: str
    support_folder: Path = None
    data_files: tuple = ()
    student_packages: tuple = ()
    visible_test_source: Callable = None
    expected_output_source: Callable = None
    generated_cells: dict = field(default_factory=dict)
    generated_files: tuple = ()
    write_generated_files: Callable = lambda root: None


@dataclass(frozen=True)
class Assignment:
    """One assignment, as the engine sees it.

    Attributes
    ----------
    name : str
        Its nbgrader name: the folder under ``source/`` and ``release/``.
    functions : tuple of str
        The graded functions, in the notebook's order.
    aspects : Aspects
        The hidden checks: one test cell per aspect of a function.
    visible_points : dict
        {function: points of its visible test cell}.
    visible_check : callable
        function -> the check that judges its visible test cell (raises `mistake`).
    mistake : type
        The exception its checks raise with what is wrong, in the student's words.
    failure : type
        What `autograder.checks.run_check` raises in a kernel when a check fails (an
        AssertionError, so that plain nbgrader scores the cell 0); built as ``failure(function, message)``.
    release : Release
        How its notebook and release are built.
    """

    name: str
    functions: tuple
    aspects: Aspects
    visible_points: dict
    visible_check: Callable
    mistake: type
    failure: type
    release: Release

    def aspects_of(self, function):
        """The aspects of `function`, in the order they were registered."""
        return self.aspects.of(function)

    @property
    def points(self):
        """What the assignment is worth: its visible and hidden test cells."""
        return sum(self.visible_points.values()) + sum(aspect.points for aspect in self.aspects.values())


_found = {}  # name -> Assignment, once discovered
_homes = {}  # name -> the folder of its plug-in package
_folders = []  # the course's plug-in folders, searched after the kit's own


def use_folders(folders):
    """Also look for plug-ins in `folders` (each holding one package per assignment)."""
    for folder in map(str, folders):
        if folder not in _folders:
            _folders.append(folder)
            _found.clear()
            _homes.clear()


def _packages():
    """(module name, folder) of every plug-in package: the kit's, then the course's."""
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            yield f"{__name__}.{module.name}", None
    for folder in _folders:
        for module in pkgutil.iter_modules([folder]):
            if module.ispkg:
                yield module.name, folder


def _discover():
    if _found:
        return _found
    for module_name, folder in _packages():
        if folder is not None and folder not in sys.path:
            sys.path.append(folder)
        module = importlib.import_module(module_name)
        assignment = getattr(module, "ASSIGNMENT", None)
        if isinstance(assignment, Assignment) and assignment.name not in _found:
            _found[assignment.name] = assignment
            _homes[assignment.name] = Path(module.__file__).parent
    return _found


def names():
    """The names of every known assignment, sorted."""
    return sorted(_discover())


def home(name):
    """The folder of the plug-in package that defines the assignment `name`."""
    get(name)
    return _homes[name]


def get(name):
    """The assignment called `name`.

    Raises
    ------
    UnknownAssignment
        When no plug-in defines it; the message lists the known ones.
    """
    found = _discover()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise UnknownAssignment(f"no assignment is called {name!r}; the known ones are: {known}")
    return found[name]


def run_check(assignment, function, name, namespace):
    """Check aspect `name` of the student's `function`, found in `namespace` (the notebook's globals).

    Prints ``✓ <function>: <what was checked>`` when the function passes; otherwise raises the
    assignment's ``failure`` with a message that names the mistake, without the hidden inputs or
    the checker's code.

    Parameters
    ----------
    assignment : str
        The assignment's name (`autograder.assignments.get`).
    function, name : str
        The graded function and the aspect.
    namespace : dict

    Raises
    ------
    Assignment.failure
        When the function is missing, raises, or gives a wrong result.
    """
    found = get(assignment)
    aspect = found.aspects[(function, name)]
    message = judge(aspect.check, namespace.get(function), found.mistake)
    if message is not None:
        raise found.failure(function, message)
    print(f"✓ {function}: {aspect.title}")
