"""What a submission carries is made inert in the autograded notebook, and what is harmless stays.

The notebooks are rendered to HTML by nbconvert's own exporter, with its sanitizer off (what
formgrader does to markdown cells whatever the configuration): the inert step alone must leave no
payload where a browser would run it. `test_instructor_browser.py` opens them in a real browser.
"""

import re
import time
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder.assignments.optimization_methods import sample_class
from autograder.grade.inert import MakeStudentContentInert
from autograder.grade.markup import MAX_RENDERED_CHARS, TAG, clean_html, inert_html, inert_markdown
from hostile_content import (PIXEL, hostile_notebook, hostile_outputs, honest_notebook, live_payloads,
                             markdown_payloads)

def text_of(html):
    """The text a browser shows of `html`, character references decoded."""
    parser = HTMLParser(convert_charrefs=True)
    parts = []
    parser.handle_data = parts.append
    parser.feed(html)
    return "".join(parts)


def made_inert(notebook):
    resources = {}
    notebook, resources = MakeStudentContentInert(sample_class.release_notebook())(notebook, resources)
    return notebook, resources["removed"]


def hostile_with_outputs():
    notebook = hostile_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("# shown", outputs=hostile_outputs()))
    return notebook


@pytest.mark.parametrize("template", ["lab", "classic"])
def test_no_payload_survives_in_the_page_nbconvert_makes(template):
    notebook = hostile_with_outputs()
    shown = nbformat.from_dict(notebook)
    for index, cell in enumerate(shown.cells):
        cell.id = f"cell-{index}"  # nbconvert would refuse the hostile id, and show nothing at all
    before, _ = HTMLExporter(template_name=template).from_notebook_node(shown)
    assert len(live_payloads(before)) > 20  # the payloads are live before
    notebook, removed = made_inert(notebook)
    after, _ = HTMLExporter(template_name=template).from_notebook_node(notebook)
    assert live_payloads(after) == []
    assert "widgets" not in notebook.metadata
    assert len(removed) == 2 and "the notebook's widget state was removed from the autograded notebook" in removed
    assert all(kind in removed[0] for kind in ("application/javascript", "image/svg+xml", "text/latex"))


def test_the_release_markdown_is_left_word_for_word():
    release = sample_class.release_notebook()
    notebook, _ = made_inert(hostile_with_outputs())
    instructors = [cell.source for cell in release.cells if cell.cell_type == "markdown"]
    kept = [cell.source for cell in notebook.cells if cell.cell_type == "markdown" and cell.source in instructors]
    assert kept == instructors


def test_honest_content_keeps_its_text_tables_images_and_math():
    notebook, removed = made_inert(honest_notebook())
    note = next(cell.source for cell in notebook.cells if "My notes." in cell.source)
    assert "<strong>My notes.</strong>" in note and "$\\alpha \\cdot v$" in note and "$0 \\lt  \\beta \\lt  1$" in note
    assert "<h2>Notes</h2>" in note and "Saved in C:\\data:" in text_of(note)
    assert "<td>0.1</td>" in note.replace("\n", "").replace(" ", "")
    assert "if a < b:\n\n    pass" in text_of(note)  # the code block, its blank line kept
    html = clean_html('<table class="dataframe"><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
                      f'<img src="data:image/png;base64,{PIXEL}" width="20"><a href="https://numpy.org">numpy</a>')
    assert "<th>a</th>" in html and "<td>1</td>" in html
    assert f'src="data:image/png;base64,{PIXEL}"' in html and 'width="20"' in html
    assert 'href="https://numpy.org"' in html
    assert removed == []


@pytest.mark.parametrize("name, source", markdown_payloads())
def test_each_markdown_payload_is_inert_and_its_text_stays(name, source):
    for html in (inert_markdown(source), inert_markdown(f"{name} {source}")):
        assert live_payloads(html) == []
        assert live_payloads(markdown2html_mistune(html)) == []  # rendered again, as formgrader does
        assert html.startswith("<div>\n") and "\n\n" not in html  # one HTML block: nothing after is markdown
        # JupyterLab pairs the $ signs of the source: none may stand in a tag, or outside a formula
        assert not [tag for tag in TAG.findall(html) if "$" in tag or "\\" in tag]
    assert name.replace("-", "") in html.replace("-", "")  # the text is still there


def test_a_link_in_the_page_keeps_its_href_and_no_other_relative_url_does():
    html = clean_html('<a href="#momentum">up</a> <a href="/api/contents">a</a> <a href="//example.org/x">b</a> '
                      '<a href=" #x">c</a> <a href="other.ipynb">d</a> <q cite="/formgrader">e</q> '
                      '<a href="javascript:alert(1)">f</a> <a href="https://numpy.org/#x">g</a>')
    assert re.findall(r'(?:href|cite)="([^"]*)"', html) == ["#momentum", "https://numpy.org/#x"], html


def test_an_image_output_keeps_only_what_an_image_needs():
    output = nbformat.v4.new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"},
                                    metadata={"image/png": {"width": 640, "height": "1 onerror=x", "unconfined": True},
                                              "filenames": {"image/png": "../../secret.png"}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot()", outputs=[output])])
    notebook, removed = made_inert(notebook)
    kept = notebook.cells[0].outputs[0]
    assert kept.data == {"image/png": PIXEL, "text/plain": "<Figure>"}
    assert kept.metadata == {"image/png": {"width": 640}}
    assert removed == []


def test_math_holds_no_character_reference_and_headings_no_bare_anchor():
    """JupyterLab takes math out of the source before it reads the HTML: ``&lt;`` would reach
    MathJax as written. A heading's anchor link, without its class, would show as a bare ¶."""
    html = inert_markdown("# Results\n\n$0 < \\beta > 1$ and $$\\begin{pmatrix} a&b \\\\ c & d \\end{pmatrix}$$")
    assert "<h1>Results</h1>" in html and "¶" not in html
    assert "$0 \\lt  \\beta \\gt  1$" in html
    assert "\\begin{pmatrix} a& b \\\\ c &  d \\end{pmatrix}" in html
    assert text_of(html).count("&") == 2 and live_payloads(html) == []


def test_active_tex_is_shown_as_text_outside_code_and_code_keeps_its_backslashes():
    html = inert_markdown("Saved in `C:\\data\\url`:\n\n```\nC:\\href\n```\n\nsee $\\href{javascript:alert(1)}{x}$ "
                          "and <code>\\html</code>")
    shown = text_of(html)
    assert "Saved in C:\\data\\url:" in shown and "C:\\href\n" in shown and "and \\html" in shown
    assert "$\\backslash{}href{javascript:alert(1)}{x}$" in html


def test_attachments_stored_as_lines_are_kept():
    html = inert_markdown("![pixel](attachment:pixel.png)", {"pixel.png": {"image/png": [PIXEL[:10], PIXEL[10:]]}})
    assert f'src="data:image/png;base64,{PIXEL}"' in html


def test_a_raw_cell_is_cleaned_only_where_it_is_shown_as_html():
    cells = [nbformat.v4.new_raw_cell("if a < b: <script>x()</script>", metadata={"raw_mimetype": kind})
             for kind in ("text/x-python", "text/latex", "text/html", "")]
    notebook, _ = made_inert(nbformat.v4.new_notebook(cells=cells))
    assert [cell.source for cell in notebook.cells] == ["if a < b: <script>x()</script>"] * 2 + ["if a &lt; b: "] * 2


def test_what_a_kernel_sends_becomes_a_notebook_nbconvert_shows():
    """Every field of an output and the execution count come from the student's kernel: one of a
    wrong type or form would make nbconvert refuse the notebook, and formgrader show nothing."""
    cell = nbformat.v4.new_code_cell("1", execution_count=1)
    cell.update(id='x" onmouseover="alert(1)', execution_count="7", metadata={"collapsed": "yes", "tags": "abc"})
    cell.outputs = [{"output_type": "stream", "name": "stdin", "text": 5},
                    {"output_type": "execute_result", "execution_count": -1, "metadata": [],
                     "data": {"text/plain": ["a", "b"], "application/javascript": "alert(1)", "application/json": 3}},
                    {"output_type": "error", "ename": 1, "evalue": None, "traceback": "x"}]
    twin = nbformat.v4.new_markdown_cell("twin", id="twin")
    strange = nbformat.from_dict({"cell_type": "strange", "source": "x", "metadata": {}, "id": "s"})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [cell, twin, nbformat.v4.new_markdown_cell("twin", id="twin"), strange]
    notebook, removed = made_inert(notebook)
    nbformat.validate(notebook)
    HTMLExporter().from_notebook_node(notebook)
    code = notebook.cells[0]
    assert code.execution_count is None and code.metadata == {"tags": []}
    assert code.outputs == [nbformat.v4.new_output("stream", name="stdout", text="5"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": "ab"}, execution_count=None),
                            nbformat.v4.new_output("error", ename="1", evalue="", traceback=[])]
    assert len({cell.id for cell in notebook.cells}) == 4
    assert text_of(notebook.cells[3].source).strip() == "[a cell that is not a valid notebook cell was removed]"
    assert removed == ["cells that nbformat does not accept were replaced by a note in the autograded notebook",
                       "outputs of type application/javascript were removed from the autograded "
                       "notebook: they could run code where the instructor opens it"]


def test_mathjax_finds_no_active_command_split_by_markup_or_in_html_outputs():
    """MathJax reads the text on both sides of a <wbr> as one; HTML outputs are read by it too."""
    for html in (inert_markdown("<p>\\(\\<wbr>href{javascript:alert(1)}{x}\\)</p>"),
                 inert_html("<p>$\\href{javascript:alert(1)}{x}$ \\style{color:red}{y}</p>")):
        shown = text_of(html)
        assert "\\href" not in shown and "\\style" not in shown and "\\\u200bhref" in shown


def test_cells_with_fields_of_other_editors_keep_their_content():
    """VS Code adds fields of its own to cells; a notebook may carry keys nbformat does not know."""
    notebook = sample_class.solved_notebook()
    answer = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    answer.update(attachments={}, outputExpanded=True)
    raw = nbformat.v4.new_raw_cell("<b>x</b>", metadata={"raw_mimetype": 5})
    notebook.cells.append(raw)
    notebook["made_by"] = "an editor"
    before = [cell.source for cell in notebook.cells]
    notebook, removed = made_inert(notebook)
    nbformat.validate(notebook)
    for template in ("lab", "classic"):
        HTMLExporter(template_name=template).from_notebook_node(notebook)
    assert [cell.source for cell in notebook.cells][:-1] == before[:-1] and "made_by" not in notebook
    assert removed == []


def test_a_huge_markdown_cell_is_shown_as_written_without_rendering_it():
    """nbconvert's markdown renderer takes time quadratic in the number of LaTeX environments."""
    source = "\\begin{x}" * (MAX_RENDERED_CHARS // 9 + 1)
    start = time.monotonic()
    html = inert_markdown(source)
    assert time.monotonic() - start < 5
    assert html.startswith("<div>\n<pre>") and text_of(html).strip() == source
