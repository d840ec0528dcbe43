"""The instructor's side in a real browser: nothing a student submits runs where the instructor looks.

A class with a hostile submission (`hostile_content`: script in added markdown cells, a raw
cell, every kind of output, an answer cell's output, tags and widget state) and an honest one
(figures, a table, formulas) is graded by the real ``autograder grade``. Then the course's own
``jupyter lab``, with nbgrader's formgrader, serves the course on loopback, and headless
Chromium opens each autograded submission as the instructor: in formgrader, and in JupyterLab
with the notebook trusted. No payload may run (no flag set, no request sent, no dialog), no
attribute of the page may carry one, and the honest submission's figures and table still show.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbgrader.api import Gradebook

from autograder.cli import main
from course import COURSE_ID, make_course, submit
from hostile_content import MARKER, hostile_notebook, hostile_outputs, honest_notebook
from lab import JupyterLab, NotebookPage, chromium_or_skip, launch_chromium

ASSIGNMENT = "optimization_methods"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STUDENTS = ("hostile", "honest", "unsanitized")

pytestmark = pytest.mark.slow

# Every attribute of every element (frames included) that still names the marker: where script,
# handlers and URLs live. Text may name it: text does not run.
MARKED_ATTRIBUTES = """marker => {
    const found = [];
    const walk = root => root.querySelectorAll('*').forEach(element => {
        for (const attribute of element.attributes) {
            if (attribute.value.includes(marker)) found.push(`<${element.localName} ${attribute.name}="${attribute.value.slice(0, 80)}">`);
        }
        if (element.shadowRoot) walk(element.shadowRoot);
    });
    walk(document);
    return found;
}"""


# A control payload of the test's own, added last: once its error handler has run (a broken image
# fails after the page's own broken images, which are requested before it), and two frames have
# been drawn, every handler a payload of the page set has had its turn.
CONTROL = """() => new Promise(done => {
    const image = new Image();
    image.onerror = () => requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
    image.src = 'control-' + Math.random();
    document.body.appendChild(image);
    setTimeout(() => done(false), 10000);
})"""


def settle(page):
    """Wait until `page` has loaded, made no request for half a second, and run the control payload."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate(CONTROL), "the control payload's handler did not run: the page runs no handler at all"


class Witness:
    """A browser context as the instructor's, and what payloads of its pages would leave if any
    ran: requests naming the marker, dialogs, and the marker's global flag in each frame."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.requests, self.dialogs = [], []
        self.context.on("request", lambda request: MARKER in request.url and self.requests.append(request.url))
        self.context.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def new_page(self, **_options):
        """A page of this context (what `NotebookPage.open` asks a browser for)."""
        return self.context.new_page()

    def ran(self):
        """Names of the payloads that ran, by every trace they leave."""
        for page in self.context.pages:
            settle(page)
        flags = []
        for frame in (frame for page in self.context.pages for frame in page.frames):
            try:
                flags += frame.evaluate(f"() => window.{MARKER} || []")
            except Exception:
                pass  # a frame that went away, or one the page cannot reach (an opaque origin)
        return sorted(set(self.requests) | set(self.dialogs) | set(flags))

    def marked_attributes(self):
        return [found for page in self.context.pages for found in page.evaluate(MARKED_ATTRIBUTES, MARKER)]

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course, graded: a hostile, an honest and a third submission (honest, whose autograded
    notebook is then given hostile outputs that were not made inert)."""
    course = make_course(tmp_path_factory.mktemp("instructor") / "course")
    for student, notebook in zip(STUDENTS, (hostile_notebook(), honest_notebook(), honest_notebook())):
        submit(course, student, notebook)
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--no-progress"])
    assert run.exit_code == 0, run.output
    unsanitized = course / "autograded" / "unsanitized" / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(unsanitized, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("# outputs as a kernel gave them", outputs=hostile_outputs()))
    nbformat.write(notebook, unsanitized)
    return course


@pytest.fixture(scope="module")
def instructor(graded, tmp_path_factory):
    """(JupyterLab with formgrader serving the course, a Chromium) as the instructor has them."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with JupyterLab(graded, tmp_path_factory.mktemp("instructor-lab")) as lab, sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium)
        yield lab, browser
        browser.close()


def submission_id(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        return gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).id


def open_in_formgrader(instructor, course, student):
    """(the page of `student`'s submission in formgrader, its witness)."""
    lab, browser = instructor
    witness = Witness(browser)
    page = witness.new_page()
    page.goto(f"{lab.info['url']}formgrader/submissions/{submission_id(course, student)}/?token={lab.token}")
    page.wait_for_load_state("load")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    return page, witness


@pytest.mark.parametrize("student", ["hostile", "honest"])
def test_formgrader_runs_nothing_a_student_wrote(graded, instructor, student):
    page, witness = open_in_formgrader(instructor, graded, student)
    try:
        assert "update_parameters_with_gd" in page.inner_text("body")  # the submission is on the page
        assert witness.ran() == []
        assert witness.marked_attributes() == []
        page.screenshot(path=str(screenshots() / f"formgrader-{student}.png"), full_page=True)
    finally:
        witness.close()


def test_formgrader_still_shows_the_honest_figures_table_and_text(graded, instructor):
    page, witness = open_in_formgrader(instructor, graded, "honest")
    try:
        sizes = page.evaluate("""async () => Promise.all([...document.querySelectorAll('img')].map(async img => {
            await img.decode().catch(() => null); return [img.naturalWidth, img.naturalHeight, img.src.slice(0, 22)]; }))""")
        pngs = [size for size in sizes if size[2] == "data:image/png;base64,"]
        assert any(width > 100 and height > 100 for width, height, _ in pngs), sizes  # the figure
        assert [1, 1] in [[width, height] for width, height, _ in pngs]  # the student's own image
        tables = page.locator("table").all_inner_texts()
        assert any("optimizer" in text and "0.94" in text for text in tables), tables  # the student's table
        assert any("rate" in text and "0.5" in text for text in tables), tables  # the markdown note's table
        body = page.inner_text("body")
        assert "My notes." in body and "if a < b:" in body
    finally:
        witness.close()


def test_formgrader_sanitizes_outputs_that_were_not_made_inert(graded, instructor):
    """The second wall: the course's ``c.HTMLExporter.sanitize_html`` reaches formgrader."""
    page, witness = open_in_formgrader(instructor, graded, "unsanitized")
    try:
        assert "update_parameters_with_gd" in page.inner_text("body")  # the submission is on the page
        assert "outputs as a kernel gave them" in page.inner_text("body")
        assert witness.ran() == []
    finally:
        witness.close()


def trust(lab, notebook):
    """``jupyter trust`` with the lab's own home, as the instructor would."""
    subprocess.run([str(Path(sys.executable).parent / "jupyter"), "trust", str(notebook)], env=lab.environment(),
                   check=True, capture_output=True)


@pytest.mark.parametrize("student", ["hostile", "honest"])
def test_jupyterlab_runs_nothing_a_student_wrote_even_trusted(graded, instructor, student):
    lab, browser = instructor
    path = graded / "autograded" / student / ASSIGNMENT / NOTEBOOK
    trust(lab, path)
    cells = nbformat.read(path, as_version=4).cells
    witness = Witness(browser)
    try:
        notebook = NotebookPage.open(witness, lab, path.relative_to(graded).as_posix(), cells, f"instructor-{student}")
        views = notebook.views()  # every cell scrolled onto the screen, so JupyterLab renders it
        assert witness.ran() == []
        assert witness.marked_attributes() == []
        assert notebook.script_errors == []
        if student == "honest":
            assert any(width > 100 and height > 100 for view in views for width, height in view.images)
            assert any("optimizer" in view.output_text and "0.94" in view.output_text for view in views)
            note = next(view for view in views if "My notes." in view.text)
            assert note.math == 3, note  # every formula typeset, from the TeX the student wrote
            assert notebook.page.locator("mjx-merror").count() == 0
            assert "C:\\data" in note.text
            assert not [shown for shown in ("&lt;", "&amp;", "\\lt", "\\backslash") if shown in note.text], note.text
    finally:
        witness.close()


def screenshots():
    folder = Path(__file__).resolve().parent.parent / "build" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_hostile_submission_kept_its_points_and_was_warned(graded):
    result = json.loads((graded / ".autograder" / ASSIGNMENT / "results" / "hostile.json").read_text())
    assert sum(result["scores"].values()) == 100
    assert any("were removed" in warning for warning in result["warnings"])
    honest = json.loads((graded / ".autograder" / ASSIGNMENT / "results" / "honest.json").read_text())
    assert sum(honest["scores"].values()) == 100 and honest["warnings"] == []
