"""The student's side in a real JupyterLab in a real browser (headless Chromium, via Playwright).

Each test copies the released assignment, and nothing else, into a scratch folder, serves it with
the kit's own ``jupyter lab`` and works through the notebook as a student does. Assertions are on
what the page shows. Screenshots are kept under ``build/browser/``.
"""

import contextlib
import json
import re
import shutil
import urllib.error
import urllib.request

import nbformat
import pytest

from autograder.assignments.optimization_methods import ASSIGNMENT
from autograder.assignments.optimization_methods.sample_class import BASE, WRONG, solved_notebook
from course import REPO
from lab import JupyterLab, NotebookPage, chromium_or_skip, launch_chromium
from published_values import PUBLISHED_ACCURACY

GRADED_FUNCTIONS = ASSIGNMENT.functions

pytestmark = pytest.mark.slow

RELEASE = REPO / "release" / "optimization_methods"
NOTEBOOK = "optimization_methods.ipynb"
TRAINING_CELLS = ("train_gd", "train_momentum", "train_adam")
WRONG_ANSWER = next(v for v in WRONG if v.id == "random_mini_batches-last_batch_dropped")


@pytest.fixture(scope="module")
def browser():
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, path)
        yield browser
        browser.close()


def student_folder(tmp_path, notebook=None):
    """A copy of the released folder, its notebook replaced by `notebook` if one is given."""
    folder = tmp_path / "student"
    shutil.copytree(RELEASE, folder)
    if notebook is not None:
        nbformat.write(notebook, folder / NOTEBOOK)
    return folder


@pytest.fixture
def open_notebook(browser, tmp_path, request):
    """open_notebook(notebook=None) -> a NotebookPage on a fresh JupyterLab serving the student's folder."""
    with contextlib.ExitStack() as stack:
        def opener(notebook=None):
            folder = student_folder(tmp_path, notebook)
            scratch = tmp_path / "lab"
            scratch.mkdir()
            lab = stack.enter_context(JupyterLab(folder, scratch))
            cells = nbformat.read(folder / NOTEBOOK, as_version=4).cells
            page = NotebookPage.open(browser, lab, NOTEBOOK, cells, request.node.name)
            stack.callback(page.page.close)
            return page

        yield opener


def test_the_lab_serves_only_the_release_on_loopback_and_only_with_its_token(tmp_path):
    folder = student_folder(tmp_path)
    (tmp_path / "lab").mkdir()
    with JupyterLab(folder, tmp_path / "lab") as lab:
        assert lab.info["url"].startswith("http://127.0.0.1:")
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(f"{lab.info['url']}api/contents")
        with urllib.request.urlopen(f"{lab.info['url']}api/contents?token={lab.token}") as answer:
            listing = json.loads(answer.read())
        assert sorted(item["name"] for item in listing["content"]) == sorted(p.name for p in RELEASE.iterdir()
                                                                              if p.name != "__pycache__")


def not_implemented_message(function):
    return re.compile(rf"^✗ {function} is not implemented yet: replace `raise NotImplementedError\(\)` in its cell")


def expected_output(view):
    """The text of an "Expected output" cell's code block."""
    return view.text.split("Expected output", 1)[1].strip()


def test_untouched_release_run_all_and_validate_say_what_is_not_written_yet(open_notebook):
    notebook = open_notebook()
    notebook.run_all()
    notebook.screenshot("run-all")
    views = {cell_id: view for cell_id, view in zip(notebook.ids, notebook.views())}
    notebook.go_to("test_update_parameters_with_gd_visible")
    notebook.screenshot("first-visible-test")

    code = {cell_id: view for cell_id, view in views.items() if view.kind == "code"}
    assert all(re.match(r"^\[\d+\]:$", view.prompt) for view in code.values()), \
        {cell_id: view.prompt for cell_id, view in code.items()}  # Run All reached every cell
    for function in GRADED_FUNCTIONS:
        assert code[function].outputs == [], f"defining the stub of {function} must work"
        [message] = code[f"test_{function}_visible"].errors
        assert not_implemented_message(function).match(message), message
    for cell_id in TRAINING_CELLS:
        [message] = code[cell_id].errors
        assert re.match(r"^✗ \w+ is not implemented yet", message), message
    assert "No training run has finished yet" in code["compare"].output_text
    expected_failures = {f"test_{function}_visible" for function in GRADED_FUNCTIONS} | set(TRAINING_CELLS)
    assert {cell_id for cell_id, view in code.items() if view.errors} == expected_failures
    assert "Traceback" not in "".join(view.output_text for view in code.values())

    report = notebook.validate()  # nbgrader's button: the same six, in the same words
    assert re.findall(r"check_visible\(\"(\w+)\"", report) == list(GRADED_FUNCTIONS), report
    for function in GRADED_FUNCTIONS:
        assert re.search(not_implemented_message(function).pattern.lstrip("^"), report), function
    assert "Traceback" not in report
    assert notebook.script_errors == []


def test_typing_a_right_then_a_wrong_answer_in_the_editor(open_notebook):
    notebook = open_notebook()
    function = "random_mini_batches"
    visible = f"test_{function}_visible"
    expected = expected_output(notebook.view(f"expected_{function}"))
    notebook.go_to("imports")
    notebook.run_and_advance("imports")  # a student starts at the top

    notebook.type_answer(function, BASE[function])
    notebook.run_and_advance(function)
    notebook.run_and_advance(visible)
    right = notebook.view(visible)
    notebook.screenshot("right-answer")
    assert right.errors == []
    assert right.output_text.strip() == f"{expected}\n✓ {function}: all visible checks passed"

    notebook.type_answer(function, WRONG_ANSWER.source)
    notebook.run_and_advance(function)
    notebook.run_and_advance(visible)
    wrong = notebook.view(visible)
    notebook.screenshot("wrong-answer")
    assert wrong.errors == [f"✗ {function}: returned 2 mini-batches; expected 3 (visible test case)"]
    assert notebook.script_errors == []


def test_solved_notebook_run_all_passes_draws_renders_math_and_validates(open_notebook):
    notebook = open_notebook(solved_notebook())
    notebook.run_all()
    views = dict(zip(notebook.ids, notebook.views()))
    notebook.go_to("compare")
    notebook.screenshot("comparison")

    code = {cell_id: view for cell_id, view in views.items() if view.kind == "code"}
    assert {cell_id: view.errors for cell_id, view in code.items() if view.errors} == {}
    for function in GRADED_FUNCTIONS:
        view = code[f"test_{function}_visible"]
        assert view.output_text.strip() == (f"{expected_output(views[f'expected_{function}'])}\n"
                                            f"✓ {function}: all visible checks passed")
    [figure] = code["compare"].images
    assert figure[0] > 1000 and figure[1] > 500, figure  # three columns of cost curve over boundary
    table = code["compare"].output_text
    for optimizer, accuracy in PUBLISHED_ACCURACY.items():
        assert f"{accuracy:.4f}" in table, (optimizer, table)
    assert code["training_setup"].images, "the moons scatter plot"

    markdown = [view for view in views.values() if view.kind == "markdown"]
    assert [view.text[:80] for view in markdown if "$" in view.text] == []
    with_math = [view for view in markdown if "$" in notebook.sources[view.index]]
    assert with_math and all(view.math for view in with_math), [(v.index, v.math) for v in with_math]

    assert notebook.validate().strip() == "Success! Your notebook passes all the tests."
    assert notebook.script_errors == []


