"""The kernel's half of a trusted call; loaded as an IPython start-up file, before any cell runs.

It knows nothing of the checks: it decodes the arguments the grader chose, calls the notebook's
function, and sends back what came of it (the return value and the arguments as they are after
the call) as plain data: numbers, strings, and arrays as raw bytes with their dtype, shape and
memory bounds. Whatever it sends is only the student's word; the grader judges it as data.

Calls come on a unix socket of the kernel's own (``KIT_CALL_SOCKET``), served in the kernel's
main thread by its event loop, like any cell: a request is a header (the JSON's length and the
number of frames), the JSON (the call's id, the function's name and its arguments), and the
arrays' bytes as frames; the reply is built the same way and carries the request's id. This
skips what a Jupyter message costs the kernel (signing, status messages, flushing its output
streams), and interrupts reach the call as they reach a cell. It uses the standard library,
numpy and the kernel's event loop only, and keeps its own references to what it uses, so that a
notebook patching json or numpy does not break it by accident.
"""


def _install():
    import json
    import os
    import signal
    import socket
    import struct
    import traceback

    import numpy
    from IPython import get_ipython
    from tornado.ioloop import IOLoop

    ndarray, generic, uint8 = numpy.ndarray, numpy.generic, numpy.uint8
    ECHO_LIMIT = 100_000  # larger array arguments are not sent back: no check looks at their changes
    frombuffer, ascontiguousarray, dtype_of = numpy.frombuffer, numpy.ascontiguousarray, numpy.dtype
    namespace = get_ipython().user_ns
    header, frame_length = struct.Struct("<II"), struct.Struct("<Q")
    loads, dumps = json.loads, json.dumps

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

    def answer(request, frames):
        """`call` with interrupts on, as ipykernel turns them on for a cell."""
        saved = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            try:
                return call(request, frames)
            finally:
                signal.signal(signal.SIGINT, saved)
        except KeyboardInterrupt:  # the grader's time for the call ran out
            signal.signal(signal.SIGINT, saved)
            return {"interrupted": True}, []
        except Exception as error:  # what came back could not be encoded: say so rather than stay silent
            return {"unsendable": type(error).__name__[:60]}, []

    def read_exactly(connection, size):
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            count = connection.recv_into(view[got:])
            if count == 0:
                raise EOFError
            got += count
        return data

    def receive(connection):
        size, count = header.unpack(read_exactly(connection, header.size))
        request = loads(read_exactly(connection, size))
        frames = [read_exactly(connection, frame_length.unpack(read_exactly(connection, frame_length.size))[0])
                  for _ in range(count)]
        return request, frames

    def send(connection, reply, frames):
        try:
            text = dumps(reply).encode()
        except (TypeError, ValueError, RecursionError) as error:
            text, frames = dumps({"id": reply.get("id"), "unsendable": type(error).__name__}).encode(), []
        connection.sendall(header.pack(len(text), len(frames)) + text)
        for frame in frames:
            view = memoryview(frame).cast("B")
            connection.sendall(frame_length.pack(view.nbytes))
            connection.sendall(view)

    def serve(connection):
        def handle(fd, events):
            try:
                request, frames = receive(connection)
            except (EOFError, OSError, ValueError, struct.error):  # the grader is gone
                loop.remove_handler(fd)
                connection.close()
                return
            reply, out = answer(request, frames)
            reply["id"] = request.get("id")
            try:
                send(connection, reply, out)
            except OSError:
                loop.remove_handler(fd)
                connection.close()
        return handle

    def accept(fd, events):
        try:
            connection, _ = server.accept()
        except OSError:
            return
        connection.setblocking(True)
        loop.add_handler(connection.fileno(), serve(connection), IOLoop.READ)

    path = os.environ.get("KIT_CALL_SOCKET")
    if not path:
        return
    loop = IOLoop.current()  # the kernel's main event loop, which runs once start-up files have run
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.setblocking(False)
    loop.add_handler(server.fileno(), accept, IOLoop.READ)


_install()
del _install
