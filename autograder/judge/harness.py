"""The kernel's half of a trusted call; loaded as an IPython start-up file, before any cell runs.

It knows nothing of the checks: it decodes the arguments the grader chose, calls the notebook's
function, and sends back what came of it (the return value and the arguments as they are after
the call) as plain data: numbers, strings, and arrays as raw bytes with their dtype, shape and
memory bounds. Whatever it sends is only the student's word; the grader judges it as data.

Calls travel as Jupyter messages of their own on the shell channel: a ``kit_call_request``
(the function's name and its arguments as JSON, the arrays' bytes as binary frames) answered
by a ``kit_call_reply`` built the same way. This skips what an executed cell costs (compiling,
history, output hooks, base64) while keeping the kernel's interrupt handling, and the call runs
in the kernel's main thread like any cell. It uses the standard library and numpy only, and keeps
its own references to what it uses, so that a notebook patching json or numpy does not break it
by accident.
"""


def _install():
    import traceback

    import numpy
    from IPython import get_ipython

    ndarray, generic, uint8 = numpy.ndarray, numpy.generic, numpy.uint8
    ECHO_LIMIT = 100_000  # larger array arguments are not sent back: no check looks at their changes
    frombuffer, ascontiguousarray, dtype_of = numpy.frombuffer, numpy.ascontiguousarray, numpy.dtype
    shell = get_ipython()
    namespace, kernel = shell.user_ns, shell.kernel

    def bounds(array):
        low = high = array.__array_interface__["data"][0]
        for size, stride in zip(array.shape, array.strides):
            if size == 0:
                return [low, low]
            (low, high) = (low + stride * (size - 1), high) if stride < 0 else (low, high + stride * (size - 1))
        return [low, high + array.itemsize]

    def encode(value, memo, frames):
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
            frames.append(ascontiguousarray(value).reshape(-1).view(uint8))  # raw bytes, empty arrays too
            return {"t": "nd", "id": number, "dtype": value.dtype.str, "shape": list(value.shape),
                    "frame": len(frames) - 1, "bounds": bounds(value)}
        if isinstance(value, generic) and not isinstance(value, ndarray) and value.dtype.kind in "biuf":
            frames.append(value.tobytes())
            return {"t": "scalar", "dtype": value.dtype.str, "frame": len(frames) - 1}
        if kind is dict:
            return {"t": "dict", "id": number,
                    "items": [[encode(k, memo, frames), encode(v, memo, frames)] for k, v in value.items()]}
        if kind in (list, tuple):
            return {"t": kind.__name__, "id": number, "items": [encode(item, memo, frames) for item in value]}
        return {"t": "other", "type": getattr(kind, "__name__", "object")[:60]}

    def decode(value, frames):
        if not isinstance(value, dict):
            return value
        if value["t"] == "nd":
            raw = frames[value["frame"]]
            return frombuffer(raw, dtype=dtype_of(value["dtype"])).reshape(value["shape"]).copy()
        if value["t"] == "float":
            return float(value["v"])
        if value["t"] == "dict":
            return {decode(k, frames): decode(v, frames) for k, v in value["items"]}
        items = [decode(item, frames) for item in value["items"]]
        return tuple(items) if value["t"] == "tuple" else items

    def where(error):
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(("<ipython", "/tmp/ipykernel"))
                  or "ipykernel_" in f.filename]
        return frames[-1].line.strip() if frames and frames[-1].line else ""

    def call(request, frames):
        """The reply to one request, and its binary frames."""
        function = namespace.get(request["function"])
        if not callable(function):
            return {"missing": True}, []
        arguments = [decode(argument, frames) for argument in request["args"]]
        try:
            returned = function(*arguments)
        except BaseException as error:  # the student's code raised: say what, and where in it
            if type(error) is KeyboardInterrupt:
                raise
            try:
                message = str(error)[:500]
            except BaseException:  # an exception whose __str__ raises says nothing more
                message = ""
            return {"raised": {"type": type(error).__name__[:60], "message": message, "where": where(error)[:200]}}, []
        memo, out = {}, []
        return {"args": [None if type(argument) is ndarray and argument.size > ECHO_LIMIT
                         else encode(argument, memo, out) for argument in arguments],
                "returned": encode(returned, memo, out)}, out

    def handle(stream, ident, parent):
        try:
            reply, frames = call(parent["content"], parent.get("buffers") or [])
        except KeyboardInterrupt:  # the grader's time for the call ran out
            reply, frames = {"interrupted": True}, []
        except Exception as error:  # what came back could not be sent: say so rather than stay silent
            reply, frames = {"unsendable": type(error).__name__[:60]}, []
        kernel.session.send(stream, "kit_call_reply", reply, parent, ident=ident, buffers=frames)

    kernel.shell_handlers["kit_call_request"] = handle


_install()
del _install
