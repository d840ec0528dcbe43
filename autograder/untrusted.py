"""Text that a submission or an LMS download can influence, made inert where the instructor reads it.

Student ids and file names come from the download, reasons and warnings from what a notebook
holds or raises. In a terminal a control character in them could retitle the window, clear the
screen or forge a line (ESC sequences, a newline), and a bidi override could show text other than
what is there; in a spreadsheet a cell that starts like a formula is run as one.
"""

import unicodedata

# Control (Cc: C0 and C1, ESC, newline and tab included: one field must stay on its line), format
# (Cf: bidi marks, embeddings, overrides and isolates, zero-width characters), lone surrogates (Cs:
# a terminal cannot even encode one) and the Unicode line and paragraph separators (Zl, Zp).
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(character):
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _is_unprintable(character):
    return unicodedata.category(character) in _UNPRINTABLE_CATEGORIES


def printable(text):
    """`text` with every control, formatting, surrogate and line-separator character shown as an escape.

    Parameters
    ----------
    text : object
        What is to be printed; anything but a string is printed as `str` gives it.

    Returns
    -------
    str
        The same text on one line, each such character replaced by ``\\x1b``, ``\\u202e`` and so
        on, so that a terminal shows it instead of obeying it.
    """
    text = str(text)
    if text.isprintable():  # the common case, in C: isprintable is False for every category above
        return text
    return "".join(_escape(character) if _is_unprintable(character) else character for character in text)


def csv_cell(value):
    """`value` as a CSV cell that no spreadsheet runs as a formula.

    Parameters
    ----------
    value : object
        A cell's value. Numbers (and anything that is not a string) are left as they are.

    Returns
    -------
    object
        A string that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
        leading ``'``, which spreadsheets take as "text"; anything else is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values):
    """`values` (one CSV row) with each cell made safe by `csv_cell`."""
    return [csv_cell(value) for value in values]
