"""Text that a submission or an LMS download can influence, made inert where the instructor reads it.

Student ids and file names come from the download, reasons and warnings from what a notebook
holds or raises. In a terminal a control character in them could retitle the window, clear the
screen or forge a line (ESC sequences, a newline), and a bidi override could show text other than
what is there; in a spreadsheet a cell that starts like a formula is run as one.
"""

import re

# C0 and C1 controls (ESC, newline and tab included: one field must stay on its line), DEL, the
# bidi marks, embeddings, overrides and isolates, and the Unicode line and paragraph separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text):
    """`text` with every control and bidi-formatting character shown as an escape.

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
    return _UNPRINTABLE.sub(_escape, str(text))


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
