"""A submission's markup (HTML and markdown it wrote or displayed) as inert HTML that reads the same.

Three readers see what is kept, and each must find nothing active in it:

- the browser: Ammonia (`nh3`) keeps text, formatting, tables, links and raster images carried
  as ``data:`` URLs, and nothing that runs or loads (`clean_html`);
- JupyterLab's markdown renderer, which takes math out of a cell's source by pairing ``$`` signs
  before it reads the HTML, and puts it back with only ``& < >`` escaped: a ``$`` in an attribute
  paired with one in the text would let the text after it become attributes. So every ``$`` and
  ``\\`` outside the student's formulas is written as a character reference, which that step
  does not see and the browser reads as the character;
- MathJax (formgrader's and JupyterLab's), which reads TeX in the page's text outside code: its
  commands that make links, set ids, classes or styles, or load extensions are shown as text.

Markdown is rendered with nbconvert's own renderer and stored as one HTML block, which every
markdown renderer passes through as it is.
"""

import html as html_text
import re

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
# <wbr> is not kept: MathJax reads the text on both sides of one as a single string.
HTML_TAGS = nh3.ALLOWED_TAGS - {"area", "map", "wbr"} | {"tfoot", "th"}
ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items() if tag in HTML_TAGS},
              "img": {"src", "alt", "title", "width", "height"}, "a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "data"}
# A URL with a scheme; one without is relative (a path of the instructor's server, or, from //,
# another host) and kept only as an in-page link: #name.
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
URL_ATTRIBUTES = {"href", "src", "cite"}
DATA_IMAGE = re.compile(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]*)")
# MathJax commands that make links, set ids, classes, styles or attributes, or load extensions.
ACTIVE_TEX = re.compile(r"\\(href|url|class|cssId|style|unicode|require|html|data|bbox|mmlToken)\b")
# A tag of nh3's output: its attribute values are always in double quotes, with " escaped.
TAG = re.compile(r'<[^"<>]*(?:"[^"]*"[^"<>]*)*>')
CODE_TAG = re.compile(r"<(/?)(pre|code)\b")  # MathJax reads no TeX inside these (its skipHtmlTags)
BLANK_LINE = re.compile(r"\n[ \t]*\n")
# White space a markdown parser may read as a line break or a blank line (\r, \f, \v, \x85,
# \u2028 …; nh3 writes out what a character reference like &#13; stands for): kept as references.
ODD_SPACE = re.compile(r"[^\S \t\n]")
FORMULA = "\ue000"  # brackets the number of a student's formula until the HTML is clean
FORMULA_MARK = re.compile(FORMULA + "([0-9]+)" + FORMULA)
# Rendering markdown with LaTeX environments takes time quadratic in their number (mistune): a
# longer text is shown as it was written, in a <pre>.
MAX_RENDERED_CHARS = 256 << 10


def _keep_attribute(tag, attribute, value):
    """nh3's attribute filter: an image shows only what it carries (a ``data:`` URL of a raster
    image: a remote one would tell its server when the instructor looks, or send the
    instructor's server a request), and a ``data:`` URL is nothing else's."""
    if tag == "img" and attribute == "src":
        return value if DATA_IMAGE.fullmatch(value.strip()) else None
    if attribute in URL_ATTRIBUTES and not SCHEME.match(value) and not value.startswith("#"):
        return None
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
        Its text, formatting, tables, links (``http``, ``https``, ``mailto``, and ``#name`` in the
        page; no other relative URL: it would name the instructor's server) and raster images
        carried as ``data:`` URLs; no script, handler, style, frame, form, SVG or remote image.
    """
    return nh3.clean(html, tags=HTML_TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, url_relative="pass_through",
                     attribute_filter=_keep_attribute, clean_content_tags={"script", "style"})


def inert_html(html):
    """HTML a submission displayed, cleaned and safe for every reader (see the module's text).

    Parameters
    ----------
    html : str
        The HTML of an output.

    Returns
    -------
    str
        `clean_html` of it, with MathJax's active commands and JupyterLab's math delimiters
        written so that neither acts on them.
    """
    return _for_math_readers(clean_html(html.replace(FORMULA, "")), [])


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
        One HTML block that every markdown renderer passes through, safe for every reader.
    """
    source = source.replace(FORMULA, "")
    if len(source) > MAX_RENDERED_CHARS:
        return _one_html_block(_for_math_readers(f"<pre>{html_text.escape(source, quote=False)}</pre>", []))
    renderer = _FormulaRenderer(_Images(_raster_images(attachments)))
    rendered = MarkdownWithMath(renderer=renderer).render(source)
    return _one_html_block(_for_math_readers(clean_html(rendered), renderer.formulas))


def _raster_images(attachments):
    """Of a cell's attachments, the raster images, each as one base64 string."""
    images = {}
    for name, bundle in (attachments or {}).items():
        kept = {kind: joined_text(data) for kind, data in (bundle if isinstance(bundle, dict) else {}).items()
                if kind in IMAGE_TYPES}
        if kept:
            images[name] = kept
    return images


def joined_text(value):
    """nbformat's multi-line string (a string or a list of lines) as one string."""
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


class _Images(dict):
    """A markdown cell's attachments as nbconvert's renderer reads them: the raster images it
    carries, and an empty image for any other name (the renderer raises for a missing one)."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        return {"image/png": ""}


class _FormulaRenderer(IPythonRenderer):
    """nbconvert's renderer, with each formula kept aside (in `formulas`) and a numbered mark in
    its place until the HTML is clean. Headings get no anchor link: without its class and target
    it would show as a bare "¶"."""

    def __init__(self, attachments):
        super().__init__(escape=False, attachments=attachments, exclude_anchor_links=True)
        self.formulas = []

    def _formula(self, tex):
        self.formulas.append(tex)
        return f"{FORMULA}{len(self.formulas) - 1}{FORMULA}"

    def block_math(self, body):
        return self._formula(f"$${_tex(body)}$$")

    def inline_math(self, body):
        return self._formula(f"${_tex(body)}$")

    def latex_environment(self, name, body):
        return self._formula(f"\\begin{{{_tex(name)}}}{_tex(body)}\\end{{{_tex(name)}}}")


def _tex(text):
    r"""A formula's TeX as HTML text that JupyterLab hands MathJax unchanged: no character
    reference (``<`` and ``>`` as ``\lt`` and ``\gt``, ``&`` followed by a space, which HTML
    reads as itself and TeX ignores; a no-break space as a space), and MathJax's active
    commands shown as text."""
    text = text.replace("\xa0", " ").replace("<", r"\lt ").replace(">", r"\gt ").replace("&", "& ")
    return ACTIVE_TEX.sub(r"\\backslash{}\1", text)


def _for_math_readers(html, formulas):
    """Clean `html` with every ``$`` and ``\\`` written as a reference, MathJax's active commands
    outside code broken by a zero-width space, and each formula mark replaced by its formula
    (in an attribute, by the formula's text)."""
    parts, in_code, end = [], 0, 0
    for tag in TAG.finditer(html):
        parts.append(_text_for_math_readers(html[end:tag.start()], formulas, in_code))
        parts.append(_references(FORMULA_MARK.sub(lambda mark: html_text.escape(formulas[int(mark[1])]), tag[0])))
        code = CODE_TAG.match(tag[0])
        in_code = max(0, in_code + (-1 if code[1] else 1)) if code else in_code
        end = tag.end()
    parts.append(_text_for_math_readers(html[end:], formulas, in_code))
    return "".join(parts)


def _text_for_math_readers(text, formulas, in_code):
    """A text between tags for `_for_math_readers`; `in_code` when MathJax does not read it."""
    if not in_code:  # a zero-width space after the backslash: it reads the same, and is no command
        text = ACTIVE_TEX.sub(lambda command: f"&#92;&#8203;{command[1]}", text)
    return FORMULA_MARK.sub(lambda mark: formulas[int(mark[1])], _references(text))


def _references(html):
    """`html` with each ``$`` and ``\\`` as a character reference."""
    return re.sub(r"[$\\]", lambda match: f"&#{ord(match[0])};", html)


def _one_html_block(html):
    """`html` as a single markdown HTML block: no blank line ends it early (a newline kept in a
    ``<pre>`` as a character reference), so nothing after one is read as markdown."""
    html = ODD_SPACE.sub(lambda match: f"&#{ord(match.group())};", html)
    while BLANK_LINE.search(html):
        html = BLANK_LINE.sub("\n&#10;", html)
    return f"<div>\n{html.strip()}\n</div>" if html.strip() else ""
