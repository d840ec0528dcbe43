"""The grader's half of the wire: arguments out as plain data, replies in as plain data.

A message is JSON plus binary frames (the arrays' raw bytes, referred to by number), decoded
without pickle under limits on its size, nesting and dtypes. Arrays come back as raw bytes of a
numeric dtype; anything that is not a number, string, array, dict,
list or tuple comes back as an `Opaque` stand-in that names its type and compares equal to
nothing. Identity within one reply is kept (``v is s``), and each array keeps the memory bounds
the kernel reported, so `shares_memory` can tell aliasing arrays apart from copies.
"""

import numpy as np

MAX_REPLY_BYTES = 96 << 20
MAX_DEPTH = 24
MAX_DIMENSIONS = 8
ALLOWED_KINDS = "biuf"


class WireError(Exception):
    """A reply that is not plain data within the limits; the message says what is wrong."""


class Opaque:
    """Stands for a returned object that is not plain data; only its type name is known."""

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _opaque(type_name):
    name = "".join(c for c in str(type_name) if c.isalnum() or c == "_")[:60] or "object"
    return type(name, (Opaque,), {})()


# id(array) -> (array, (low, high)): memory bounds the kernel reported for arrays of the replies
# of the current check; kept alive with them so that ids are not reused.
_BOUNDS = {}


def forget_bounds():
    _BOUNDS.clear()


def shares_memory(a, b):
    """True when two arrays overlap in memory: in the kernel, for arrays it sent, else here."""
    if id(a) in _BOUNDS and id(b) in _BOUNDS:
        (low_a, high_a), (low_b, high_b) = _BOUNDS[id(a)][1], _BOUNDS[id(b)][1]
        return low_a < high_b and low_b < high_a
    return bool(np.shares_memory(a, b))


def encode(value, frames):
    """Arguments as plain data: numbers, strings, arrays, dicts, lists and tuples of them; an
    array's bytes are appended to `frames` and named by their position there."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else {"t": "float", "v": repr(value)}
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        frames.append(array.reshape(-1).view(np.uint8))  # raw bytes, empty arrays too
        return {"t": "nd", "dtype": array.dtype.str, "shape": list(array.shape), "frame": len(frames) - 1}
    if isinstance(value, np.generic):
        return encode(value.item(), frames)
    if isinstance(value, dict):
        return {"t": "dict", "items": [[encode(k, frames), encode(v, frames)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "items": [encode(item, frames) for item in value]}
    raise TypeError(f"cannot send a {type(value).__name__} to the kernel")


def check_reply(reply, frames):
    """`WireError` unless `reply` is a dict and the frames are bytes within the size limit."""
    if not isinstance(reply, dict) or not isinstance(frames, list):
        raise WireError("returned a value the grader could not read")
    if sum(memoryview(frame).nbytes for frame in frames) > MAX_REPLY_BYTES:
        raise WireError("returned more data than the grader reads")


class Decoder:
    """Decodes the values of one reply, keeping identity within it; a value decoded `into` one of
    the grader's own dicts or arrays updates that object in place to mirror the kernel's."""

    def __init__(self, frames=()):
        self.objects = {}
        self.frames = list(frames)

    def decode(self, value, depth=0, into=None):
        if depth > MAX_DEPTH:
            raise WireError("returned a value nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is not dict or not isinstance(value.get("t"), str):
            raise WireError("returned a value the grader could not read")
        kind = value["t"]
        if kind == "ref":
            if value.get("id") not in self.objects:
                raise WireError("returned a value the grader could not read")
            return self.objects[value["id"]]
        if kind == "float":
            if value.get("v") not in ("nan", "inf", "-inf"):
                raise WireError("returned a value the grader could not read")
            return float(value["v"])
        if kind == "nd":
            return self._remember(value, self._array(value, into))
        if kind == "scalar":
            return self._array(dict(value, shape=[]), None)[()]
        if kind == "dict":
            target = into if isinstance(into, dict) else {}
            self._remember(value, target)
            items = value.get("items")
            if not isinstance(items, list):
                raise WireError("returned a value the grader could not read")
            decoded = {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("returned a value the grader could not read")
                key = self.decode(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("returned a dict with a key the grader could not read") from None
                decoded[key] = self.decode(pair[1], depth + 1)
            target.clear()
            target.update(decoded)
            return target
        if kind in ("list", "tuple"):
            items = value.get("items")
            if not isinstance(items, list):
                raise WireError("returned a value the grader could not read")
            if kind == "list":
                target = self._remember(value, [])
                target.extend(self.decode(item, depth + 1) for item in items)
                return target
            return self._remember(value, tuple(self.decode(item, depth + 1) for item in items))
        if kind == "other":
            return self._remember(value, _opaque(value.get("type")))
        raise WireError("returned a value the grader could not read")

    def _remember(self, value, obj):
        if "id" in value:
            self.objects[value["id"]] = obj
        return obj

    def _array(self, value, into):
        try:
            dtype = np.dtype(value["dtype"])
            shape = tuple(int(n) for n in value["shape"])
            frame = value["frame"]
            if type(frame) is not int or not 0 <= frame < len(self.frames):
                raise ValueError(frame)
            raw = memoryview(self.frames[frame])
            if raw.format != "B" or raw.ndim != 1:
                raise ValueError(frame)
        except (KeyError, TypeError, ValueError):
            raise WireError("returned an array the grader could not read") from None
        if dtype.kind not in ALLOWED_KINDS or dtype.itemsize > 8 or dtype.fields is not None:
            raise WireError(f"returned an array of dtype {dtype}, which is not a number type")
        if len(shape) > MAX_DIMENSIONS or any(n < 0 for n in shape) or int(np.prod(shape)) * dtype.itemsize != raw.nbytes:
            raise WireError("returned an array whose shape does not match its data")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if isinstance(into, np.ndarray) and into.shape == array.shape and into.dtype == array.dtype:
            into[...] = array  # mirror an argument changed in place by the student's function
            array = into
        bounds = value.get("bounds")
        if isinstance(bounds, list) and len(bounds) == 2 and all(type(b) is int for b in bounds):
            _BOUNDS[id(array)] = (array, (bounds[0], bounds[1]))
        return array
