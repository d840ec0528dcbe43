"""What a submission carries is made inert in the autograded notebook, and what is harmless stays.

The notebooks are rendered to HTML by nbconvert's own exporter, with its sanitizer off (what
formgrader does to markdown cells whatever the configuration): the inert step alone must leave no
payload where a browser would run it. `test_instructor_browser.py` opens them in a real browser.
"""

from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder import samples
from autograder.grade.inert import MakeStudentContentInert, clean_html, inert_markdown
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
    notebook, resources = MakeStudentContentInert(samples.release_notebook())(notebook, resources)
    return notebook, resources["removed"]


def hostile_with_outputs():
    notebook = hostile_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("# shown", outputs=hostile_outputs()))
    return notebook


@pytest.mark.parametrize("template", ["lab", "classic"])
def test_no_payload_survives_in_the_page_nbconvert_makes(template):
    notebook = hostile_with_outputs()
    before, _ = HTMLExporter(template_name=template).from_notebook_node(notebook)
    assert len(live_payloads(before)) > 20  # the payloads are live before
    notebook, removed = made_inert(notebook)
    after, _ = HTMLExporter(template_name=template).from_notebook_node(notebook)
    assert live_payloads(after) == []
    assert "widgets" not in notebook.metadata
    assert removed == ["outputs that could run code where the instructor opens the notebook "
                       "(JavaScript, SVG, widgets, LaTeX) were removed from the autograded notebook",
                       "the notebook's widget state was removed from the autograded notebook"]


def test_the_release_markdown_is_left_word_for_word():
    release = samples.release_notebook()
    notebook, _ = made_inert(hostile_with_outputs())
    instructors = [cell.source for cell in release.cells if cell.cell_type == "markdown"]
    kept = [cell.source for cell in notebook.cells if cell.cell_type == "markdown" and cell.source in instructors]
    assert kept == instructors


def test_honest_content_keeps_its_text_tables_images_and_math():
    notebook, removed = made_inert(honest_notebook())
    note = next(cell.source for cell in notebook.cells if "My notes." in cell.source)
    assert "<strong>My notes.</strong>" in note and "$\\alpha \\cdot v$" in note
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
    assert name.replace("-", "") in html.replace("-", "")  # the text is still there


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
