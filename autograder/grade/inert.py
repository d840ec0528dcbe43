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

import nbformat
import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat.corpus.words import generate_corpus_id

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
# What of an output is kept; text/html and text/markdown only once cleaned. SVG (inline markup
# in nbconvert's page), JavaScript, widgets and LaTeX (handed to MathJax) are dropped.
KEPT_OUTPUT_TYPES = ("text/plain", "text/html", "text/markdown", "application/json") + IMAGE_TYPES
# Raw cells of these formats are written into nbconvert's HTML page (its `raw_mimetypes` for
# HTML, and "" for none given); raw cells of any other format are never shown as HTML.
HTML_RAW_FORMATS = ("", "text/html", "text/markdown")

HTML_TAGS = nh3.ALLOWED_TAGS - {"area", "map"} | {"tfoot", "th"}
ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items() if tag in HTML_TAGS},
              "img": {"src", "alt", "title", "width", "height"}, "a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "data"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]*)")
# MathJax commands that make links, set ids, classes or styles, or load extensions: in a
# student's text they are shown as text instead, wherever MathJax could read them as TeX.
ACTIVE_TEX = re.compile(r"\\(href|url|class|cssId|style|unicode|require|html|data)\b")
# What MathJax never reads as TeX (its skipHtmlTags): in the cleaned HTML every such element is
# closed, so the first closing tag ends at most the element itself.
CODE_ELEMENT = re.compile(r"<(pre|code)>.*?</\1>", re.DOTALL)
BLANK_LINE = re.compile(r"\n[ \t]*\n")
# White space a markdown parser may read as a line break or a blank line (\r, \f, \v, \x85,
# \u2028 …; nh3 writes out what a character reference like &#13; stands for): kept as references.
ODD_SPACE = re.compile(r"[^\S \t\n]")
CELL_TAG = re.compile(r"[\w-]+")  # a cell tag that is a word: renderers turn tags into CSS classes
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's, without which nbconvert refuses the notebook
# Stands for an ampersand of the student's math until the HTML is clean (see `_MathRenderer`).
MATH_AMPERSAND = "\ue000"
REMOVED_OUTPUT = "[output removed: it could run code where the instructor opens this notebook]"


def _keep_attribute(tag, attribute, value):
    """nh3's attribute filter: an image shows only what it carries (a ``data:`` URL of a raster
    image: a remote one would tell its server when the instructor looks, or send the
    instructor's server a request), and a ``data:`` URL is nothing else's."""
    if tag == "img" and attribute == "src":
        return value if DATA_IMAGE.fullmatch(value.strip()) else None
    return None if value.lstrip().lower().startswith("data:") else value


def clean_html(html):
    """`html` with only inert markup left.

    Parameters
    ----------
    html : str
        HTML that a submission wrote or displayed.

    Returns
    -------
    str
        Its text, formatting, tables, links (``http``, ``https``, ``mailto``) and raster images
        carried as ``data:`` URLs; no script, handler, style, frame, form, SVG or remote image.
    """
    return nh3.clean(html, tags=HTML_TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, url_relative="deny",
                     attribute_filter=_keep_attribute, clean_content_tags={"script", "style"})


def _without_active_tex(html):
    r"""`html` (clean) with MathJax's active commands shown as text outside code, where MathJax
    reads TeX; a path like ``C:\data`` in code stays as written."""
    parts, end = [], 0
    for code in CODE_ELEMENT.finditer(html):
        parts += [ACTIVE_TEX.sub(r"\\backslash{}\1", html[end:code.start()]), code.group()]
        end = code.end()
    return "".join(parts + [ACTIVE_TEX.sub(r"\\backslash{}\1", html[end:])])


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


class _MathRenderer(IPythonRenderer):
    r"""nbconvert's renderer, with math written so that formgrader and JupyterLab read the same TeX.

    JupyterLab takes a markdown cell's math out of its source before it reads the HTML, so math
    must hold no character reference: ``<`` and ``>`` are written as TeX's ``\lt`` and ``\gt``,
    and ``&`` as an ampersand followed by a space (which HTML reads as itself, and TeX ignores).
    Headings get no anchor link: without its class and target it would show as a bare "¶".
    """

    def __init__(self, attachments):
        super().__init__(escape=False, attachments=attachments, exclude_anchor_links=True)

    def escape_html(self, text):
        return text.replace("<", r"\lt ").replace(">", r"\gt ").replace("&", MATH_AMPERSAND)


def inert_markdown(source, attachments=None):
    """A markdown text as inert HTML that renders as the markdown did.

    Parameters
    ----------
    source : str
        The markdown of a cell or an output, math included.
    attachments : dict, optional
        The cell's attachments ({name: {MIME type: base64 data}}): raster images are kept.

    Returns
    -------
    str
        One HTML block, cleaned by `clean_html`, that every markdown renderer passes through.
    """
    images = _Images({name: kept for name, bundle in (attachments or {}).items()
                      if isinstance(bundle, dict) and (kept := {kind: _text(data) for kind, data in bundle.items() if kind in IMAGE_TYPES})})
    html = MarkdownWithMath(renderer=_MathRenderer(images)).render(source.replace(MATH_AMPERSAND, "&"))
    return _one_html_block(_without_active_tex(clean_html(html))).replace(MATH_AMPERSAND, "& ")


def inert_output(output):
    """An output of the student's kernel, rebuilt from what nbformat allows, with only inert data.

    Parameters
    ----------
    output : dict
        An output as the kernel sent it: any of its fields may hold anything.

    Returns
    -------
    (nbformat.NotebookNode, set of str)
        A valid nbformat output, and the MIME types dropped from it.
    """
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_text(output.get("text", ""))), set()
    if kind == "error":
        traceback = output.get("traceback") if isinstance(output.get("traceback"), list) else []
        return nbformat.v4.new_output("error", ename=_text(output.get("ename", "")), evalue=_text(output.get("evalue", "")),
                                      traceback=[_text(line) for line in traceback]), set()
    data, dropped = _inert_data(output.get("data") if isinstance(output.get("data"), dict) else {})
    if kind != "execute_result":
        return nbformat.v4.new_output("display_data", data=data, metadata=_image_sizes(output.get("metadata"))), dropped
    return nbformat.v4.new_output("execute_result", data=data, metadata=_image_sizes(output.get("metadata")),
                                  execution_count=execution_count(output.get("execution_count"))), dropped


def _inert_data(data):
    """(inert copy of an output's MIME bundle, the MIME types dropped from it)."""
    dropped = {kind for kind in data if kind not in KEPT_OUTPUT_TYPES or (kind in IMAGE_TYPES and not _is_base64(data[kind]))}
    kept = {kind: value if kind == "application/json" else _text(value) for kind, value in data.items() if kind not in dropped}
    if "application/json" in kept and not isinstance(kept["application/json"], dict):
        del kept["application/json"]  # nbformat takes a JSON object only
    if "text/html" in kept:
        kept["text/html"] = clean_html(kept["text/html"])
    if "text/markdown" in kept:
        kept["text/markdown"] = inert_markdown(kept["text/markdown"])
    return kept or {"text/plain": REMOVED_OUTPUT}, dropped


def execution_count(value):
    """`value` if it is an execution count nbformat takes (an int, 0 or more), else None."""
    return value if type(value) is int and value >= 0 else None


def _text(value):
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else "" if value is None else str(value)


def _is_base64(value):
    return isinstance(value, (str, list)) and BASE64.fullmatch(_text(value)) is not None


def _image_sizes(metadata):
    """Of an output's metadata, only the numeric width and height of its images (nbconvert turns
    other keys into an iframe, a file link or a class)."""
    kept = {}
    for kind in IMAGE_TYPES:
        given = metadata.get(kind) if isinstance(metadata, dict) else None
        sizes = {key: value for key, value in (given if isinstance(given, dict) else {}).items()
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
        removed, dropped_types = set(), set()
        for cell in nb.cells:
            self._make_text_inert(cell)
            tags = cell.metadata.get("tags")
            if tags is not None:
                cell.metadata.tags = [tag for tag in (tags if isinstance(tags, list) else [])
                                      if isinstance(tag, str) and CELL_TAG.fullmatch(tag)]
            if cell.cell_type == "code":
                dropped_types |= self._rebuild_outputs(cell)
        if dropped_types:
            removed.add(f"outputs of type {', '.join(sorted(dropped_types))} were removed from the autograded "
                        "notebook: they could run code where the instructor opens it")
        if nb.metadata.pop("widgets", None) is not None:
            removed.add("the notebook's widget state was removed from the autograded notebook")
        nb, replaced = _made_valid(nb)
        if replaced:
            removed.add("cells that nbformat does not accept were replaced by a note in the autograded notebook")
        resources["removed"] = sorted(removed)
        return nb, resources

    def _make_text_inert(self, cell):
        """A markdown or raw cell that is not the instructor's, made inert."""
        if cell.cell_type not in ("markdown", "raw") or cell.source in self.instructors:
            return
        if cell.cell_type == "markdown":
            cell.source = inert_markdown(cell.source, cell.get("attachments"))
            cell.pop("attachments", None)  # the images kept are inside the HTML now
        elif str(cell.metadata.get("raw_mimetype", "")).lower() in HTML_RAW_FORMATS:
            cell.source = clean_html(cell.source)
        # A raw cell of another format is shown as text, never as HTML: it keeps what it says.

    @staticmethod
    def _rebuild_outputs(cell):
        """A code cell's outputs and execution count as nbformat allows them; the MIME types dropped."""
        cell.execution_count = execution_count(cell.get("execution_count"))
        rebuilt = [inert_output(output) for output in cell.get("outputs", []) if isinstance(output, dict)]
        cell.outputs = [output for output, _ in rebuilt]
        return set().union(*(dropped for _, dropped in rebuilt))


def _made_valid(nb):
    """`nb` with what nbconvert needs to show it (formgrader shows no notebook that nbformat
    refuses): unique cell ids of nbformat's form, metadata of the types the schema gives, and a
    note in place of any cell still refused; and whether a cell was replaced."""
    seen = set()
    for cell in nb.cells:
        if not (isinstance(cell.get("id"), str) and CELL_ID.fullmatch(cell.id)) or cell.id in seen:
            cell.id = generate_corpus_id()
        seen.add(cell.id)
    nb.nbformat, nb.nbformat_minor = nbformat.v4.nbformat, nbformat.v4.nbformat_minor
    nb = nbformat.from_dict(nbformat.validator.normalize(nb, strip_invalid_metadata=True)[1])
    refused = {error.absolute_path[1] for error in nbformat.validator.iter_validate(nb)
               if len(error.absolute_path) > 1 and error.absolute_path[0] == "cells"}
    for index in refused:
        nb.cells[index] = nbformat.v4.new_markdown_cell(
            "[a cell that is not a valid notebook cell was removed]", id=generate_corpus_id())
    nbformat.validate(nb)
    return nb, bool(refused)
