"""``make demo``'s sample class of Optimization Methods: the mutation catalog of student answers
(`catalog`), and notebooks filled in with them.

The demo makes its class of students from these; the test suite and the benchmarks grade them too
(what only the tests use, such as placing a submission or the attack catalog, is under ``tests/``).
Not part of the Gradescope zip: grading needs none of it.
"""

import shutil
from pathlib import Path

import nbformat

from autograder.nbgrader_cli import run_nbgrader

from .. import NAME as ASSIGNMENT
from .catalog import BASE, CORRECT, VARIANTS, WRONG, Variant  # noqa: F401

REPO = Path(__file__).resolve().parents[4]
DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def release_notebook(root=REPO):
    return nbformat.read(Path(root) / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def solved_notebook(root=REPO):
    """The release notebook with every answer cell holding the reference answer, as a student types it."""
    source = nbformat.read(Path(root) / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in source.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    notebook = release_notebook(root)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(line for line in answers[cell.metadata["nbgrader"]["grade_id"]].split("\n")
                                    if line.strip() not in DELIMITERS)
    return notebook


def with_answer(notebook, function, source):
    """`notebook` with the answer cell of `function` replaced by `source`."""
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == function:
            cell.source = source.strip()
            return notebook
    raise KeyError(function)


def make_course(folder, root=REPO):
    """A course directory with the kit's source and nbgrader configuration, its release and
    gradebook made by real ``nbgrader generate_assignment``."""
    folder = Path(folder)
    shutil.copytree(Path(root) / "source", folder / "source", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(Path(root) / "nbgrader_config.py", folder / "nbgrader_config.py")
    run_nbgrader(folder, "generate_assignment", ASSIGNMENT, "--force")
    return folder
