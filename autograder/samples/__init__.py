"""Sample student work: the mutation catalog of answers, and notebooks filled in with them.

Used by the test suite (every answer is graded for real) and by ``make demo`` (a sample class).
"""

import shutil
from pathlib import Path

import nbformat

from .catalog import CORRECT, VARIANTS, WRONG, Variant  # noqa: F401

REPO = Path(__file__).resolve().parent.parent.parent
ASSIGNMENT = "optimization_methods"
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
    from autograder.assign.release import run_nbgrader

    folder = Path(folder)
    shutil.copytree(Path(root) / "source", folder / "source", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(Path(root) / "nbgrader_config.py", folder / "nbgrader_config.py")
    run_nbgrader(folder, "generate_assignment", ASSIGNMENT, "--force")
    return folder


def submit(course, student, notebook):
    """Place `notebook` as `student`'s submission, as nbgrader's collect would."""
    folder = Path(course) / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return folder


def submit_right_wrong_blank(course):
    """Submit three notebooks: "right" (the reference), "wrong" (a wrong Adam update) and "blank"
    (the release untouched); their student names."""
    wrong = solved_notebook()
    variant = next(v for v in WRONG if v.function == "update_parameters_with_adam")
    with_answer(wrong, variant.function, variant.source)
    for student, notebook in (("right", solved_notebook()), ("wrong", wrong), ("blank", release_notebook())):
        submit(course, student, notebook)
    return ["right", "wrong", "blank"]
