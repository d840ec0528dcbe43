"""The release: reproducible from source, free of anything hidden, and runnable by a student."""

import ast
import re
import filecmp
import inspect
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

import opt_utils.checks
import solutions
from autograder.assign.notebook import solution_source
from autograder.assignments.optimization_methods import ASSIGNMENT
from course import REPO, release_notebook, solved_notebook

ASPECTS, GRADED_FUNCTIONS = ASSIGNMENT.aspects, ASSIGNMENT.functions
CHECKS = [name for name, value in vars(opt_utils.checks).items() if inspect.isfunction(value)]
PRESCRIBED = {"np.random.seed(seed)"}  # the notebook's instructions spell this call out
RELEASE = REPO / "release" / "optimization_methods"
SOURCE = REPO / "source" / "optimization_methods"
HIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                  "run_check", "autograder", "import solutions", "from solutions")


def release_texts():
    return {path.relative_to(RELEASE): path.read_text() for path in RELEASE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def solution_body_lines(function):
    """The computing lines of the reference body (not its input checks, nor a bare loop header or
    ``return name, …``, nor a fragment under 12 characters): what must never reach a student."""
    source = textwrap.dedent(inspect.getsource(getattr(solutions, function)))
    definition = ast.parse(source).body[0]
    lines = [line.strip() for line in source.split("\n")[definition.body[1].lineno - 1:definition.end_lineno]]
    return [line for line in lines if len(line) >= 12 and line not in PRESCRIBED
            and not re.match(rf"({'|'.join(CHECKS)})\(", line)
            and not re.fullmatch(r"return [\w, ]+|for \w+ in \w+:", line)]


def test_release_holds_only_the_notebook_support_code_and_data():
    files = {str(path) for path in release_texts()}
    support = {f"opt_utils/{path.name}" for path in (REPO / "opt_utils").glob("*.py")}
    assert files == {"optimization_methods.ipynb", "requirements.txt", "datasets/moons.csv",
                     "opt_utils/expected_outputs.json"} | support


def test_release_support_files_are_the_repository_files():
    for path in (REPO / "opt_utils").iterdir():
        if path.is_file():
            assert filecmp.cmp(path, RELEASE / "opt_utils" / path.name, shallow=False), path.name
    assert filecmp.cmp(REPO / "datasets" / "moons.csv", RELEASE / "datasets" / "moons.csv", shallow=False)


@pytest.mark.parametrize("marker", HIDDEN_MARKERS)
def test_no_hidden_marker_in_any_released_file(marker):
    for path, text in release_texts().items():
        assert marker not in text, f"{marker!r} in {path}"


@pytest.mark.parametrize("function", GRADED_FUNCTIONS)
def test_no_line_of_the_reference_solution_is_released(function):
    texts = release_texts()
    assert solution_body_lines(function)
    for line in solution_body_lines(function):
        for path, text in texts.items():
            assert line not in text, f"{function}: {line!r} in {path}"


def test_release_notebook_has_stubs_no_outputs_and_every_graded_cell():
    notebook = release_notebook()
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if "nbgrader" in cell.metadata]
    assert len(grade_ids) == len(set(grade_ids))
    for function in GRADED_FUNCTIONS:
        [answer] = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == function]
        assert answer.metadata["nbgrader"]["solution"] is True
        assert answer.source.endswith("# YOUR CODE HERE\n    raise NotImplementedError()")
        tests = [g for g in grade_ids if g.startswith(f"test_{function}_")]
        assert tests[0] == f"test_{function}_visible" and len(tests) >= 3
    assert {a.grade_id for a in ASPECTS.values()} <= set(grade_ids)
    points = sum(cell.metadata["nbgrader"].get("points", 0) for cell in notebook.cells
                 if cell.metadata.get("nbgrader", {}).get("grade"))
    assert points == 100
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_run_all_goes_past_exactly_the_cells_that_check_or_train_student_code():
    """Jupyter's raises-exception tag: on the visible tests and training runs, which fail while an
    exercise is unfinished or wrong, and nowhere else (an error in the kit's own cells must stop)."""
    tagged = {cell.id for cell in release_notebook().cells if "raises-exception" in cell.metadata.get("tags", [])}
    assert tagged == {f"test_{function}_visible" for function in GRADED_FUNCTIONS} | {
        "train_gd", "train_momentum", "train_adam"}


def test_source_solutions_are_the_reference_code():
    source = nbformat.read(SOURCE / "optimization_methods.ipynb", as_version=4)
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in source.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    assert answers == {function: solution_source(solutions, function) for function in GRADED_FUNCTIONS}


@pytest.mark.slow
def test_committed_build_matches_a_fresh_build():
    done = subprocess.run([sys.executable, "-m", "autograder.assign", "--check", "--root", str(REPO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_release_runs_top_to_bottom_in_a_fresh_kernel(tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(RELEASE, folder)
    notebook = nbformat.read(folder / "optimization_methods.ipynb", as_version=4)
    NotebookClient(notebook, timeout=60, allow_errors=True, resources={"metadata": {"path": str(folder)}},
                   kernel_name="python3").execute()
    errors = {cell.id: [o for o in cell.outputs if o.output_type == "error"]
              for cell in notebook.cells if cell.cell_type == "code"}
    for function in GRADED_FUNCTIONS:
        assert errors[function] == [], "defining the stub must work"
        [error] = errors[f"test_{function}_visible"]
        assert error.ename == "NotImplementedError"
    for cell_id in ("imports", "training_setup", "compare", "training_code"):
        assert errors[cell_id] == [], cell_id
    assert [o.ename for o in errors["train_adam"]] == ["NotImplementedError"]
    stderr = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == []


@pytest.mark.slow
def test_the_released_folder_runs_in_a_venv_made_from_its_requirements_alone(tmp_path):
    """A student's fresh environment: a venv with nothing but requirements.txt installed (no kit,
    no nbgrader) runs the release, answers filled in, from top to bottom with every visible check
    passing and the comparison drawn."""
    folder = tmp_path / "student"
    shutil.copytree(RELEASE, folder)
    nbformat.write(solved_notebook(), folder / "optimization_methods.ipynb")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # --no-compile: the packages' byte code is compiled as the run imports them, not all of it
    # ahead (14 of 42 s); what gets installed is the same.
    installed = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", "-r",
                                folder / "requirements.txt"], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-2000:]
    listed = subprocess.run([venv / "bin" / "python", "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True).stdout.lower()
    assert "nbgrader" not in listed and "optimization-methods-kit" not in listed
    done = subprocess.run([venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.timeout=600", "--output", "ran.ipynb", "optimization_methods.ipynb"],
                          cwd=folder, capture_output=True, text=True, env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin",
                                                                            "HOME": str(tmp_path), "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-3000:]
    ran = nbformat.read(folder / "ran.ipynb", as_version=4)
    outputs = [o for cell in ran.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for function in GRADED_FUNCTIONS:
        assert f"✓ {function}: all visible checks passed" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the comparison's figures
