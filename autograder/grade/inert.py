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
from nbconvert.preprocessors import Preprocessor
from nbformat.corpus.words import generate_corpus_id

from .markup import IMAGE_TYPES, inert_html, inert_markdown, joined_text

# What of an output is kept; text/html and text/markdown only once cleaned. SVG (inline markup
# in nbconvert's page), JavaScript, widgets and LaTeX (handed to MathJax) are dropped.
KEPT_OUTPUT_TYPES = ("text/plain", "text/html", "text/markdown", "application/json") + IMAGE_TYPES
# Raw cells of these formats are written into nbconvert's HTML page (its `raw_mimetypes` for
# HTML, and "" for none given); raw cells of any other format are never shown as HTML.
HTML_RAW_FORMATS = ("", "text/html", "text/markdown")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
CELL_TAG = re.compile(r"[\w-]+")  # a cell tag that is a word: renderers turn tags into CSS classes
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's, without which nbconvert refuses the notebook
# The fields nbformat 4.5 allows, of the notebook and of each kind of cell: an editor's own
# (VS Code's, say) would make nbconvert refuse the notebook.
NOTEBOOK_KEYS = ("cells", "metadata", "nbformat", "nbformat_minor")
CELL_KEYS = {"code": ("id", "cell_type", "metadata", "source", "outputs", "execution_count"),
             "markdown": ("id", "cell_type", "metadata", "source", "attachments"),
             "raw": ("id", "cell_type", "metadata", "source", "attachments")}
REMOVED_OUTPUT = "[output removed: it could run code where the instructor opens this notebook]"
REMOVED_CELL = "[a cell that is not a valid notebook cell was removed]"


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
        kept["text/html"] = inert_html(kept["text/html"])
    if "text/markdown" in kept:
        kept["text/markdown"] = inert_markdown(kept["text/markdown"])
    return kept or {"text/plain": REMOVED_OUTPUT}, dropped


def execution_count(value):
    """`value` if it is an execution count nbformat takes (an int, 0 or more), else None."""
    return value if type(value) is int and value >= 0 else None


def _text(value):
    """A field of the kernel's meant to be text, as text."""
    return "" if value is None else joined_text(value)


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
        nb, removed_cells = _made_well_formed(nb)
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
        nb, refused = _made_valid(nb)
        if removed_cells or refused:
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
            return
        if not isinstance(cell.metadata.get("raw_mimetype", ""), str):
            del cell.metadata["raw_mimetype"]  # nbconvert's templates would fail on it
        if cell.metadata.get("raw_mimetype", "").lower() in HTML_RAW_FORMATS:
            cell.source = inert_html(cell.source)
        # A raw cell of another format is shown as text, never as HTML: it keeps what it says.

    @staticmethod
    def _rebuild_outputs(cell):
        """A code cell's outputs and execution count as nbformat allows them; the MIME types dropped."""
        cell.execution_count = execution_count(cell.get("execution_count"))
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        rebuilt = [inert_output(output) for output in outputs if isinstance(output, dict)]
        cell.outputs = [output for output, _ in rebuilt]
        return set().union(*(dropped for _, dropped in rebuilt))


def _made_well_formed(nb):
    """`nb` with only the fields nbformat allows, a text source and a dict of metadata in each
    cell, and unique cell ids of nbformat's form; and whether a cell of no known kind was replaced."""
    for key in set(nb) - set(NOTEBOOK_KEYS):
        del nb[key]
    nb.metadata = nb.metadata if isinstance(nb.get("metadata"), dict) else nbformat.NotebookNode()
    nb.nbformat, nb.nbformat_minor = nbformat.v4.nbformat, nbformat.v4.nbformat_minor
    replaced, seen = False, set()
    for index, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_KEYS:
            nb.cells[index], replaced = nbformat.v4.new_markdown_cell(REMOVED_CELL), True
            cell = nb.cells[index]
        for key in set(cell) - set(CELL_KEYS[cell.cell_type]):
            del cell[key]
        cell.source = _text(cell.get("source"))
        cell.metadata = cell.metadata if isinstance(cell.get("metadata"), dict) else nbformat.NotebookNode()
        if not (isinstance(cell.get("id"), str) and CELL_ID.fullmatch(cell.id)) or cell.id in seen:
            cell.id = generate_corpus_id()
        seen.add(cell.id)
    return nb, replaced


def _made_valid(nb):
    """`nb` as nbformat validates it (formgrader shows no notebook that nbformat refuses):
    metadata of the types the schema gives, and a note in place of any cell still refused; and
    whether a cell was replaced."""
    nb = nbformat.from_dict(nbformat.validator.normalize(nb, strip_invalid_metadata=True)[1])
    refused = {error.absolute_path[1] for error in nbformat.validator.iter_validate(nb)
               if len(error.absolute_path) > 1 and error.absolute_path[0] == "cells"}
    for index in refused:
        nb.cells[index] = nbformat.v4.new_markdown_cell(REMOVED_CELL, id=generate_corpus_id())
    return nb, bool(refused)
