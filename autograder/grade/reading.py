"""Read a submitted notebook from its file, streamed, without its outputs.

nbgrader clears every output before it runs a notebook, so a student who printed big arrays
should not be refused for them: outputs, execution counts and widget state are dropped while the
file is parsed (`ijson`), only the rest counts against `MAX_NOTEBOOK_BYTES`, and the file is never
held whole in memory. yajl, ijson's parser, scans a token again from its start each time more
input arrives, which makes one long string quadratic in its length; so strings are handed to it
whole, and one longer than `MAX_NOTEBOOK_BYTES` (too much to keep whatever it is) is replaced by a
stand-in that names its length before yajl sees it.
"""

import io
import math
import os
import re

import ijson

# What grading uses (code, text, metadata) is well under 1 MiB for this assignment.
MAX_NOTEBOOK_BYTES = 32 << 20
# Beyond this a file is refused by its size alone, unread, however much of it is outputs.
MAX_FILE_BYTES = 1 << 30
MAX_NESTING = 64  # a notebook's JSON is nested about 8 deep
# Each JSON value costs about 1 µs in Python: this bounds reading a file at some 20 s. A
# notebook of 1 GiB of printed array rows has about 10 million.
MAX_VALUES = 20_000_000
# A number or literal split between two reads is scanned again by yajl; none in a notebook is long.
MAX_BARE_TOKEN = 1 << 16
_READ_BYTES = 1 << 20

_ITEM = object()  # in a path through the JSON: any item of an array
# Execution leftovers, each replaced while the file is read. A path maps to the events standing
# in for its value (none: the key goes too).
_EMPTY_LIST, _NULL, _GONE = (("start_array", None), ("end_array", None)), (("null", None),), ()
_LEFTOVERS = {
    ("cells", _ITEM, "outputs"): _EMPTY_LIST,
    ("cells", _ITEM, "execution_count"): _NULL,
    ("cells", _ITEM, "metadata", "execution"): _GONE,  # JupyterLab's timings of the last run
    ("metadata", "widgets"): _GONE,  # the state of ipywidgets' outputs
    ("worksheets", _ITEM, "cells", _ITEM, "outputs"): _EMPTY_LIST,  # nbformat 3
    ("worksheets", _ITEM, "cells", _ITEM, "prompt_number"): _GONE,
}
_STARTS, _ENDS = ("start_map", "start_array"), ("end_map", "end_array")

# Possessive: a read is scanned once, whatever it holds.
_BODY = rb'[^"\\]*+(?:\\.[^"\\]*+)*+'  # a string's text, up to its closing quote
_STRING_BODY = re.compile(_BODY, re.DOTALL)
_CLOSED_STRINGS = re.compile(rb'(?:[^"]*+"' + _BODY + rb'")*+[^"]*+', re.DOTALL)  # stops where one stays open
_BACKSLASH = ord("\\")
_BARE = bytes(b for b in range(256) if b not in b' \t\r\n,:[]{}"')  # what a number or literal is made of
_BARE_RUN = re.compile(b"[" + re.escape(_BARE) + b"]*")
_CUT = "\x00cut string of {} bytes"  # in JSON: "\u0000cut string of 123 bytes"
_CUT_LENGTH = re.compile("\x00cut string of ([0-9]{1,12}) bytes")
NOT_JSON = "the file is not a notebook: it is not even JSON (damaged, or another kind of file)"


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message says why."""


def too_large(size):
    """The reason a file of `size` bytes is refused unread, or "" when it may be read."""
    if size <= MAX_FILE_BYTES:
        return ""
    return (f"the file is {math.ceil(size / (1 << 20)):,} MiB, more than the {MAX_FILE_BYTES >> 20:,} MiB a "
            "submitted notebook may be, outputs included: clear its outputs (Kernel → Restart & Clear Output) "
            "and submit again")


def sources_too_large(size):
    """The reason a notebook whose code and text are `size` bytes (outputs left out) is refused."""
    return (f"the notebook's code and text are {size / (1 << 20):,.1f} MiB, more than the "
            f"{MAX_NOTEBOOK_BYTES >> 20} MiB a notebook may have (its outputs are not counted): remove what "
            "was pasted into its cells (data, long text, images) and submit again")


def read_json(source):
    """The JSON value of a submitted file, execution leftovers dropped, or `SubmissionError`.

    Parameters
    ----------
    source : bytes or path-like
        The file's bytes, or where it is. A file larger than `MAX_FILE_BYTES` is refused unread.

    Returns
    -------
    object
        What `json.loads` would give, less the values at the paths of `_LEFTOVERS` (outputs
        become empty lists, execution counts null). Memory holds what is kept and about one read.
    """
    if isinstance(source, (bytes, bytearray)):
        size, opened = len(source), lambda: io.BytesIO(source)
    else:
        size, opened = os.stat(source).st_size, lambda: open(source, "rb")
    if too_large(size):
        raise SubmissionError(too_large(size))
    with opened() as handle:
        return _kept(_without_leftovers(_events(_whole_strings(_reads(handle)))))


def _reads(handle):
    """The bytes of binary file `handle`, a read at a time, without a UTF-8 byte-order mark."""
    first = handle.read(_READ_BYTES)
    yield first[3:] if first.startswith(b"\xef\xbb\xbf") else first
    while chunk := handle.read(_READ_BYTES):
        yield chunk


def _whole_strings(reads):
    """`reads` again, cut where no JSON string spans two pieces; a string longer than
    `MAX_NOTEBOOK_BYTES` comes as a stand-in naming its length. `SubmissionError` for a number
    or literal that runs on over `MAX_BARE_TOKEN` bytes across two reads."""
    held, length, escaped, bare = None, 0, False, 0  # held: the string that the last read left open
    for chunk in reads:
        out, start = [], 0
        if held is not None:  # that string goes on
            end, escaped = _string_end(chunk, int(escaped))
            length += len(chunk) if end is None else end
            if end is None:
                held = [] if length > MAX_NOTEBOOK_BYTES else [*held, chunk]
                continue
            out, held, start = [_stand_in(length)] if length > MAX_NOTEBOOK_BYTES else [*held, chunk[:end]], None, end
        elif bare and bare + _BARE_RUN.match(chunk).end() > MAX_BARE_TOKEN:
            raise SubmissionError(NOT_JSON)
        opened = _CLOSED_STRINGS.match(chunk, start).end()  # where a string left open begins, if one is
        out.append(chunk[start:opened])
        if opened < len(chunk):
            _, escaped = _string_end(chunk, opened + 1)
            held, length, bare = [chunk[opened:]], len(chunk) - opened, 0
        else:
            tail = len(chunk) - len(chunk.rstrip(_BARE))
            bare = bare + tail if tail == len(chunk) else tail
        yield b"".join(out)
    if held:
        yield b"".join(held)  # a string the file never closes: the parser says it is not JSON


def _string_end(chunk, pos):
    """(where the string whose body goes on at `pos` ends, just past its closing quote; whether
    `chunk` ends in the middle of an escape), the end None when the string goes on past `chunk`."""
    end = _STRING_BODY.match(chunk, pos).end()
    if end == len(chunk) or chunk[end] == _BACKSLASH:
        return None, end < len(chunk)
    return end + 1, False


def _stand_in(length):
    """What a JSON string of `length` bytes, too long to keep, is given to the parser as."""
    return ('"' + _CUT.format(length).replace("\x00", "\\u0000") + '"').encode()


def _events(pieces):
    """ijson's basic events for the JSON text in `pieces`; `SubmissionError` for what is not
    JSON, or holds more than `MAX_VALUES` values."""
    events, count = ijson.sendable_list(), 0
    parser = ijson.basic_parse_coro(events, use_float=True)
    try:
        for piece in pieces:
            parser.send(piece)
            count += len(events)
            if count > MAX_VALUES:
                raise SubmissionError(f"the file holds more than {MAX_VALUES:,} values, more than any notebook has")
            yield from events
            del events[:]
        parser.close()
    except (ijson.JSONError, UnicodeDecodeError):  # yajl decodes the strings it passes on
        raise SubmissionError(NOT_JSON) from None
    yield from events


def _without_leftovers(events):
    """`events` without the values at `_LEFTOVERS`' paths, each replaced by its stand-in;
    `SubmissionError` where what is kept nests deeper than `MAX_NESTING`."""
    path = []  # the key of the value being read in each open container: a map key, or _ITEM
    events = iter(events)
    for event, value in events:
        if event == "map_key":
            path[-1] = value
            stand_in = _LEFTOVERS.get(tuple(path))
            if stand_in is not None:
                _skip_value(events)
                if stand_in:
                    yield event, value
                    yield from stand_in
                continue
        yield event, value
        if event in _STARTS:
            path.append(_ITEM if event == "start_array" else None)
            if len(path) > MAX_NESTING:
                raise SubmissionError(f"the file is JSON nested more than {MAX_NESTING} levels deep, "
                                      "which no notebook is")
        elif event in _ENDS:
            path.pop()


def _skip_value(events):
    """Consume the events of the next value of `events`, however deeply it nests."""
    depth = 0
    for event, _ in events:
        depth += (event in _STARTS) - (event in _ENDS)
        if depth == 0:
            return


def _kept(events):
    """The value `events` build, or `SubmissionError` when it takes more than `MAX_NOTEBOOK_BYTES`
    as JSON (counted on to the end, to say how much, without keeping any more of it)."""
    builder, size = ijson.ObjectBuilder(), 0
    for event, value in events:
        size += _json_size(event, value)
        if size <= MAX_NOTEBOOK_BYTES:
            builder.event(event, value)
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(sources_too_large(size))
    return builder.value


def _json_size(event, value):
    """About how many bytes an event takes in compact JSON (escapes not counted)."""
    if event in ("string", "map_key"):
        cut = _CUT_LENGTH.fullmatch(value)
        return int(cut[1]) + 1 if cut else len(value.encode("utf-8", "surrogatepass")) + 3  # quotes, separator
    return 2 if event in _STARTS or event in _ENDS else len(str(value)) + 1
