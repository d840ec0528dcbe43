"""Make what a submission carries inert before an instructor opens the autograded notebook.

Formgrader renders the autograded notebook on the instructor's own Jupyter server (nbconvert's
``HTMLExporter``, whose markdown cells nbgrader's ``formgrade`` template never sanitizes), and
JupyterLab shows it under the instructor's login: a script there acts as the instructor. Every
markdown or raw cell that is not word for word one of the release's, and every output (all of
them come from the student's kernel), keeps its text, its PNG, JPEG and GIF images and harmless
HTML, and loses what is active: scripts, event handlers, ``javascript:`` URLs, iframes, objects,
forms, styles, SVG, JavaScript and widget outputs, widget state.

Markdown is rendered to HTML with nbconvert's own renderer (math kept for MathJax), cleaned by
Ammonia (`nh3`), and stored as one HTML block, which every markdown renderer passes through as it
is: the text reads the same in formgrader and JupyterLab, and nothing in it is markdown any more.
"""

import re

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
# What of an output is kept; text/html and text/markdown only once cleaned. SVG (inline markup
# in nbconvert's page), JavaScript, widgets and LaTeX (handed to MathJax) are dropped.
KEPT_OUTPUT_TYPES = ("text/plain", "text/html", "text/markdown", "application/json") + IMAGE_TYPES

HTML_TAGS = nh3.ALLOWED_TAGS - {"area", "map"} | {"tfoot", "th"}
ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items() if tag in HTML_TAGS},
              "img": {"src", "alt", "title", "width", "height"}, "a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "data"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]*)")
# MathJax commands that make links, set ids, classes or styles, or load extensions: in a
# student's math they are shown as text instead.
ACTIVE_TEX = re.compile(r"\\(href|url|class|cssId|style|unicode|require|html|data)\b")
BLANK_LINE = re.compile(r"\n[ \t]*\n")
# White space a markdown parser may read as a line break or a blank line (\r, \f, \v, \x85,
# \u2028 …; nh3 writes out what a character reference like &#13; stands for): kept as references.
ODD_SPACE = re.compile(r"[^\S \t\n]")
CELL_TAG = re.compile(r"[\w-]+")  # a cell tag that is a word: renderers turn tags into CSS classes


def _keep_attribute(tag, attribute, value):
    """nh3's attribute filter: an image shows only what it carries (a ``data:`` URL of a raster
    image: a remote one would tell its server when the instructor looks, or send the
    instructor's server a request), and a ``data:`` URL is nothing else's."""
    if tag == "img" and attribute == "src":
        return value if DATA_IMAGE.fullmatch(value.strip()) else None
    return None if value.lstrip().lower().startswith("data:") else value


def clean_html(html):
    """`html` with only inert markup left (text, formatting, tables, links, raster images)."""
    return nh3.clean(html, tags=HTML_TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, url_relative="deny",
                     attribute_filter=_keep_attribute, clean_content_tags={"script", "style"})


def _one_html_block(html):
    """`html` as a single markdown HTML block: no blank line ends it early (a newline kept in a
    ``<pre>`` as a character reference), so nothing after one is read as markdown."""
    html = ODD_SPACE.sub(lambda match: f"&#{ord(match.group())};", html)
    while BLANK_LINE.search(html):
        html = BLANK_LINE.sub("\n&#10;", html)
    return f"<div>\n{html.strip()}\n</div>" if html.strip() else ""


class _Images(dict):
    """A markdown cell's attachments as nbconvert's renderer reads them: the raster images it
    carries, and an empty image for any other name (the renderer raises for a missing one)."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        return {"image/png": ""}


def inert_markdown(source, attachments=None):
    """A markdown text as inert HTML that renders as the markdown did."""
    source = ACTIVE_TEX.sub(r"\\backslash{}\1", source)
    images = _Images({name: kept for name, bundle in (attachments or {}).items()
                      if (kept := {kind: data for kind, data in bundle.items() if kind in IMAGE_TYPES})})
    html = MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=images)).render(source)
    return _one_html_block(clean_html(html))


def inert_output(output):
    """An output of the student's kernel, made inert in place; True when something was dropped."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False  # a stream or an error is text, escaped by every renderer
    data, dropped = output.get("data", {}), False
    for kind in list(data):
        if kind not in KEPT_OUTPUT_TYPES or (kind in IMAGE_TYPES and not _is_base64(data[kind])):
            del data[kind]
            dropped = True
    if "text/html" in data:
        data["text/html"] = clean_html(_text(data["text/html"]))
    if "text/markdown" in data:
        data["text/markdown"] = inert_markdown(_text(data["text/markdown"]))
    if not data:
        data["text/plain"] = "[output removed: it could run code where the instructor opens this notebook]"
    output["metadata"] = _image_sizes(output.get("metadata", {}))
    return dropped


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _is_base64(value):
    return isinstance(value, str) and BASE64.fullmatch(value) is not None


def _image_sizes(metadata):
    """Of an output's metadata, only the numeric width and height of its images (nbconvert turns
    other keys into an iframe, a file link or a class)."""
    kept = {}
    for kind in IMAGE_TYPES:
        sizes = {key: value for key, value in (metadata.get(kind) or {}).items()
                 if key in ("width", "height") and isinstance(value, (int, float)) and not isinstance(value, bool)}
        if sizes:
            kept[kind] = sizes
    return kept


class MakeStudentContentInert(Preprocessor):
    """The last autograde step: the student's content of the autograded notebook made inert.

    Markdown and raw cells that are not word for word the release's are rendered inert; every
    output is filtered (they all come from the student's kernel); the notebook's widget state is
    dropped. What was removed is listed in ``resources["removed"]``, for the grading warnings.

    Parameters
    ----------
    release : nbformat.NotebookNode
        The released notebook: its markdown and raw cells are the instructor's and stay as they are.
    """

    def __init__(self, release, **kwargs):
        super().__init__(enabled=True, **kwargs)
        self.instructors = {cell.source for cell in release.cells if cell.cell_type in ("markdown", "raw")}

    def preprocess(self, nb, resources):
        removed = set()
        for cell in nb.cells:
            self._make_text_inert(cell)
            if "tags" in cell.metadata:
                cell.metadata.tags = [tag for tag in cell.metadata.tags if isinstance(tag, str) and CELL_TAG.fullmatch(tag)]
            if any([inert_output(output) for output in cell.get("outputs", [])]):
                removed.add("outputs that could run code where the instructor opens the notebook "
                            "(JavaScript, SVG, widgets, LaTeX) were removed from the autograded notebook")
        if nb.metadata.pop("widgets", None) is not None:
            removed.add("the notebook's widget state was removed from the autograded notebook")
        resources["removed"] = sorted(removed)
        return nb, resources

    def _make_text_inert(self, cell):
        """A markdown or raw cell that is not the instructor's, made inert."""
        if cell.cell_type not in ("markdown", "raw") or cell.source in self.instructors:
            return
        if cell.cell_type == "markdown":
            cell.source = inert_markdown(cell.source, cell.get("attachments"))
            cell.pop("attachments", None)  # the images kept are inside the HTML now
        else:
            cell.source = clean_html(cell.source)
