"""An unfinished exercise says so in one line, in a real kernel; other errors keep their traceback."""

import subprocess
import sys

import nbformat
from nbclient import NotebookClient

from course import REPO

INSTALL = "from opt_utils.feedback import report_unfinished_exercises\nreport_unfinished_exercises()"
STUB = "def update_parameters_with_gd(parameters, grads, learning_rate):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def run_cells(*sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(notebook, timeout=60, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    return [[output for output in cell.outputs if output.output_type == "error"] for cell in notebook.cells]


def test_a_stub_called_through_other_code_is_named_in_one_line():
    errors = run_cells(INSTALL, STUB, "def train():\n    return update_parameters_with_gd({}, {}, 0.1)", "train()")
    [error] = errors[3]
    assert error.ename == "NotImplementedError"  # nbgrader and nbclient still see the failure
    [line] = error.traceback
    assert "✗ update_parameters_with_gd\x1b[0m is not implemented yet" in line
    assert "replace `raise NotImplementedError()` in its cell with your code" in line


def test_a_not_implemented_error_from_library_code_keeps_its_traceback():
    library = ("import types\nlibrary = types.ModuleType('library')\n"
               "exec('def update_parameters_with_gd():\\n    raise NotImplementedError(\"abstract\")', library.__dict__)")
    errors = run_cells(INSTALL, STUB, library, "library.update_parameters_with_gd()")
    [error] = errors[3]
    assert len(error.traceback) > 1 and "not implemented yet" not in "".join(error.traceback)
    assert "abstract" in error.traceback[-1]


def test_other_errors_are_left_alone():
    [_, [error]] = run_cells(INSTALL, "1 / 0")
    assert error.ename == "ZeroDivisionError" and len(error.traceback) > 1


def test_outside_ipython_it_does_nothing():
    done = subprocess.run([sys.executable, "-c", INSTALL + "\nprint('ok')"], cwd=REPO, capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
