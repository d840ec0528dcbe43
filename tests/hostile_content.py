"""Submissions whose markdown and outputs try to run script where the instructor looks at them.

Every payload, if it ever runs, leaves a trace a test can see from outside the page: it calls
`PWN` (a global flag and a request to `MARKER_URL`, a loopback address nothing listens on), or
loads something from `MARKER_URL` itself (an image, a style sheet, a refresh). Payload names
carry `MARKER`; a test also checks that no attribute of the page (where script, URLs and
handlers live) still holds it.
"""

import base64
from html.parser import HTMLParser

import nbformat

from autograder.assignments.optimization_methods import sample_class

MARKER = "kitpwn"
MARKER_URL = f"http://127.0.0.1:9/{MARKER}"


ACTIVE_ELEMENTS = {"script", "style", "iframe", "object", "embed", "svg", "base", "meta", "form", "link", "math"}


class _Payloads(HTMLParser):
    """Where an HTML page still holds `marker` in a place that runs: an attribute, or the
    content of an active element."""

    def __init__(self, marker):
        super().__init__(convert_charrefs=True)
        self.marker, self.found, self.open = marker, [], []

    def handle_starttag(self, tag, attrs):
        self.found += [f"<{tag} {name}>" for name, value in attrs if value and self.marker in value]
        if tag in ACTIVE_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            self.open.remove(tag)

    def handle_data(self, data):
        if self.open and self.marker in data:
            self.found.append(f"<{self.open[-1]}> {data[:60]}")


def live_payloads(html, marker=MARKER):
    """The places of an HTML page where a payload naming `marker` would still run."""
    parser = _Payloads(marker)
    parser.feed(html)
    return parser.found


def pwn(name):
    """JavaScript that records that payload `name` ran."""
    return (f"(window.{MARKER}=window.{MARKER}||[]).push('{name}');"
            f"fetch('{MARKER_URL}/{name}').catch(function(){{}})")


def _svg(name):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{pwn(name + "-onload")}" width="10" height="10">'
            f'<script>{pwn(name + "-script")}</script><circle r="5"/></svg>')


def markdown_payloads():
    """(name, markdown) of cells a student adds."""
    js = pwn
    return [
        ("md-img-onerror", f'<img src=x onerror="{js("md-img-onerror")}">'),
        ("md-script", f"<script>{js('md-script')}</script>"),
        ("md-iframe-srcdoc", f'<iframe srcdoc="<script>{js("md-iframe-srcdoc")}</script>"></iframe>'),
        ("md-iframe-js", f'<iframe src="javascript:{js("md-iframe-js")}"></iframe>'),
        ("md-iframe-data", "<iframe src=\"data:text/html;base64,"
         + base64.b64encode(f"<script>{js('md-iframe-data')}</script>".encode()).decode() + '"></iframe>'),
        ("md-svg", _svg("md-svg")),
        ("md-object", f'<object data="javascript:{js("md-object")}"></object><embed src="{MARKER_URL}/md-embed">'),
        ("md-links", f"[a markdown link](javascript:{js('md-link')}) "
         f'<a href=" JaVaScRiPt:{js("md-a")}">an html link</a>'),
        ("md-form", f'<form action="javascript:{js("md-form")}"><input autofocus onfocus="{js("md-input")}">'
         f'<button formaction="javascript:{js("md-button")}">go</button></form>'),
        ("md-details", f'<details open ontoggle="{js("md-details")}"><summary>s</summary>d</details>'),
        ("md-mutation", f'<math><mtext><table><mglyph><style><img src=x onerror="{js("md-mutation")}">'),
        ("md-meta", f'<meta http-equiv="refresh" content="0;url={MARKER_URL}/md-meta">'),
        ("md-style", f"<style>@import url({MARKER_URL}/md-style-import);</style>"
         f'<div style="background:url({MARKER_URL}/md-style-attr)">styled</div>'),
        ("md-base", f'<base href="{MARKER_URL}/md-base/">'),
        ("md-remote-image", f"![remote]({MARKER_URL}/md-remote-image)"),
        ("md-math", f"$\\href{{javascript:{js('md-tex')}}}{{x}}$ and $$\\unicode{{x{MARKER}}}$$"),
        # Line breaks as character references, which nh3 writes out as the characters: each would
        # end the HTML block the step stores, and what follows would be markdown again.
        ("md-block-ended", f"<p>x&#13;&#13;[cr](javascript:{MARKER}) ![cr]({MARKER_URL}/md-cr)</p>"
         f"<p>y&#10;&#12;&#10;[ff](javascript:{MARKER}) ![ff]({MARKER_URL}/md-ff)</p>"
         f"<p>z&#11;&#11;&#x2028;&#x2028;[vt](javascript:{MARKER})</p>"),
        # JupyterLab pairs $ signs in a cell's source before it reads the HTML, and cuts out what
        # lies between: a $ in an attribute and one in the text make the text after it attributes.
        ("md-dollar-split", _dollar_split("md-dollar-split")),
        ("md-attachment", "![svg attachment](attachment:kitpwn.svg)"),
    ]


def _dollar_split(name):
    return (f'<img alt="$">$" src=x onerror="{pwn(name)}" x=y <br> '
            f'<a href="https://example.com/$">x</a>$" style="background:url(//127.0.0.1:9/{MARKER}/{name}-style)" x=y <br>')


def output_bundles():
    """(data, metadata) of outputs that try to run script, one per display type."""
    widget = {"model_id": MARKER, "version_major": 2, "version_minor": 0}
    return [
        ({"text/html": f'<img src=x onerror="{pwn("out-html")}"><b>bold stays</b>'}, {}),
        ({"text/html": f"<script>{pwn('out-html-isolated')}</script>"}, {"text/html": {"isolated": True}}),
        ({"application/javascript": pwn("out-js")}, {}),
        ({"image/svg+xml": _svg("out-svg")}, {}),
        ({"text/markdown": f'<img src=x onerror="{pwn("out-markdown")}"> [l](javascript:{pwn("out-md-link")})'}, {}),
        ({"text/latex": f"$\\href{{javascript:{pwn('out-latex')}}}{{x}}$"}, {}),
        ({"application/vnd.jupyter.widget-view+json": widget, "text/plain": "a widget"}, {}),
        ({"image/png": f'x" onerror="{pwn("out-png-attribute")}'}, {}),
        ({"image/png": PIXEL}, {"image/png": {"width": f'1" onerror="{pwn("out-png-width")}'}}),
        ({"text/html": f'<a href="javascript:{pwn("out-html-link")}">l</a>'}, {}),
        ({"text/markdown": _dollar_split("out-md-dollar-split")}, {}),
    ]


def output_payloads():
    """A code cell a student adds that displays every one of `output_bundles`."""
    lines = ["from IPython.display import display"]
    lines += [f"display({data!r}, raw=True, metadata={metadata!r})" for data, metadata in output_bundles()]
    return "\n".join(lines)


def hostile_outputs():
    """`output_bundles` as the outputs a kernel would have given them."""
    return [nbformat.v4.new_output("display_data", data=data, metadata=metadata) for data, metadata in output_bundles()]


# A 1×1 PNG, so that an image output the student made is still an image.
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
HONEST_TABLE = "<table><thead><tr><th>optimizer</th><th>accuracy</th></tr></thead><tbody><tr><td>Adam</td><td>0.94</td></tr></tbody></table>"
ANSWER_HTML = f'<img src=x onerror="{pwn("answer-html")}">answer output'
ANSWER_OUTPUT = f"\nfrom IPython.display import HTML, display\ndisplay(HTML({ANSWER_HTML!r}))\n"


def hostile_notebook():
    """The solved notebook with hostile markdown cells, a raw cell, a code cell of hostile
    outputs, an answer cell that displays hostile HTML, hostile tags and widget state."""
    notebook = sample_class.solved_notebook()
    imports = next(i for i, cell in enumerate(notebook.cells)
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    added = [nbformat.v4.new_markdown_cell(f"### {name}\n\n{source}") for name, source in markdown_payloads()]
    added[-1].attachments = {"kitpwn.svg": {"image/svg+xml": base64.b64encode(_svg("md-attachment").encode()).decode()}}
    raw = nbformat.v4.new_raw_cell(f'<img src=x onerror="{pwn("raw-html")}">')
    raw.metadata["raw_mimetype"] = "text/html"
    code = nbformat.v4.new_code_cell(output_payloads())
    code.metadata["tags"] = [f'x" onmouseover="{pwn("tag")}']
    added[0]["id"] = f'x" onmouseover="{pwn("cell-id")}'  # nbformat refuses the id: nbconvert would too
    # From here on the kernel reports execution counts that are not whole numbers (nbformat refuses them).
    counts = nbformat.v4.new_code_cell("get_ipython().execution_count = 0.5")
    notebook.cells[imports + 1:imports + 1] = added + [raw, code, counts]
    answer = next(cell for cell in notebook.cells
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "update_parameters_with_gd")
    answer.source += ANSWER_OUTPUT
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0, "note": f"</script><script>{pwn('widget-state')}</script>"}}
    return notebook


# A student's notes: formulas with <, > and & (which HTML escapes and TeX must not see escaped), a
# heading, a table, a path in code and a code block with a blank line.
NOTE = ("## Notes\n\n**My notes.** The step is $\\alpha \\cdot v$ with $0 < \\beta < 1$, and "
        "$$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} > 0$$\n\n"
        "| rate | cost |\n|---|---|\n| 0.1 | 0.5 |\n\nSaved in `C:\\data`:\n\n```python\nif a < b:\n\n    pass\n```")


def honest_notebook():
    """The solved notebook with a markdown note, a table, an image and a figure of the student's own."""
    notebook = sample_class.solved_notebook()
    imports = next(i for i, cell in enumerate(notebook.cells)
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    note = nbformat.v4.new_markdown_cell(NOTE)
    shown = nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n"
                                      "from IPython.display import HTML, display\n"
                                      f"display(HTML({HONEST_TABLE!r}))\n"
                                      f"display({{'image/png': {PIXEL!r}}}, raw=True)\n"
                                      "plt.plot([0, 1, 2], [3, 1, 2])\nplt.title('my own figure')\nplt.show()")
    notebook.cells[imports + 1:imports + 1] = [note, shown]
    return notebook
