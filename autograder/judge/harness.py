"""The kernel's half of a trusted call; loaded as an IPython start-up file, before any cell runs.

It knows nothing of the checks: it decodes the arguments the grader chose, calls the notebook's
function, and publishes what came back (the return value and the arguments as they are after
the call) as plain data: numbers, strings, and arrays as raw bytes with their dtype, shape and
memory bounds. Whatever it publishes is only the student's word; the grader judges it as data.
The grader's request (the function's name and its arguments) is a JSON file in the folder
named by ``KIT_INBOX``, which the kernel may read but not write. It uses the standard library and numpy only, and keeps its own references to what it uses, so
that a notebook patching json or numpy does not break it by accident.
"""


def _install():
    import base64
    import json
    import os
    import traceback

    import numpy
    from IPython import get_ipython
    from IPython.display import publish_display_data

    mime, ndarray, generic = "text/x-kit-reply", numpy.ndarray, numpy.generic
    ECHO_LIMIT = 100_000  # larger array arguments are not sent back: no check looks at their changes
    b64encode, b64decode, dumps, loads = base64.b64encode, base64.b64decode, json.dumps, json.loads
    frombuffer, ascontiguousarray, dtype_of = numpy.frombuffer, numpy.ascontiguousarray, numpy.dtype
    namespace = get_ipython().user_ns
    request_file = os.path.join(os.environ.get("KIT_INBOX", "."), "request.json")
    read_text = open

    def bounds(array):
        low = high = array.__array_interface__["data"][0]
        for size, stride in zip(array.shape, array.strides):
            if size == 0:
                return [low, low]
            (low, high) = (low + stride * (size - 1), high) if stride < 0 else (low, high + stride * (size - 1))
        return [low, high + array.itemsize]

    def encode(value, memo):
        if value is None or type(value) in (bool, int, str):
            return value if type(value) is not str else value[:2000]
        if type(value) is float:
            return value if value == value and abs(value) != float("inf") else {"t": "float", "v": repr(value)}
        if id(value) in memo:
            return {"t": "ref", "id": memo[id(value)][0]}
        memo[id(value)] = (len(memo), value)  # the value is kept alive so that its id stays its own
        number = memo[id(value)][0]
        kind = type(value)
        if kind is ndarray and value.dtype.kind in "biuf":
            data = b64encode(ndarray.tobytes(ascontiguousarray(value))).decode()
            return {"t": "nd", "id": number, "dtype": value.dtype.str, "shape": list(value.shape), "data": data,
                    "bounds": bounds(value)}
        if isinstance(value, generic) and not isinstance(value, ndarray) and value.dtype.kind in "biuf":
            return {"t": "scalar", "dtype": value.dtype.str, "data": b64encode(value.tobytes()).decode()}
        if kind is dict:
            return {"t": "dict", "id": number, "items": [[encode(k, memo), encode(v, memo)] for k, v in value.items()]}
        if kind in (list, tuple):
            return {"t": kind.__name__, "id": number, "items": [encode(item, memo) for item in value]}
        return {"t": "other", "type": getattr(kind, "__name__", "object")[:60]}

    def decode(value):
        if not isinstance(value, dict):
            return value
        if value["t"] == "nd":
            raw = b64decode(value["data"])
            return frombuffer(raw, dtype=dtype_of(value["dtype"])).reshape(value["shape"]).copy()
        if value["t"] == "float":
            return float(value["v"])
        if value["t"] == "dict":
            return {decode(k): decode(v) for k, v in value["items"]}
        items = [decode(item) for item in value["items"]]
        return tuple(items) if value["t"] == "tuple" else items

    def where(error):
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(("<ipython", "/tmp/ipykernel"))
                  or "ipykernel_" in f.filename]
        return frames[-1].line.strip() if frames and frames[-1].line else ""

    def call():
        with read_text(request_file, encoding="utf-8") as handle:
            request = loads(handle.read())
        function = namespace.get(request["function"])
        if not callable(function):
            reply = {"missing": True}
        else:
            arguments = [decode(argument) for argument in request["args"]]
            try:
                returned = function(*arguments)
            except BaseException as error:  # the student's code raised: say what, and where in it
                if type(error) is KeyboardInterrupt:
                    raise
                try:
                    message = str(error)[:500]
                except BaseException:  # an exception whose __str__ raises says nothing more
                    message = ""
                reply = {"raised": {"type": type(error).__name__[:60], "message": message,
                                    "where": where(error)[:200]}}
            else:
                memo = {}
                reply = {"args": [None if type(argument) is ndarray and argument.size > ECHO_LIMIT
                                  else encode(argument, memo) for argument in arguments],
                         "returned": encode(returned, memo)}
        publish_display_data({mime: dumps(reply)})

    namespace["__kit_call__"] = call


_install()
del _install
