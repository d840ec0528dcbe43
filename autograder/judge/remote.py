"""Call a notebook's function from the grader: arguments out, plain data back.

`RemoteFunction` looks like the student's function to the checks: called with the grader's
inputs, it returns what the function returned, decoded as plain data, and it changes the
grader's argument dicts and arrays as the function changed its own copies (so in-place updates
and aliasing are judged as they happened in the kernel). It raises `StudentRaised` when the
function raised, `FunctionMissing` when there is no such function, `KernelStopped` when the
kernel did not answer, and `WireError` when the answer is not plain data.
"""

from .wire import Decoder, WireError, check_reply, encode


class FunctionMissing(Exception):
    """The notebook defines no callable of that name."""


class KernelStopped(Exception):
    """The kernel died or did not answer in time; the message says which."""


class StudentRaised(Exception):
    """The student's function raised; `type_name`, `message` and `where` describe it."""

    def __init__(self, type_name, message, where):
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.message, self.where = type_name, message, where


class RemoteFunction:
    """The notebook function `name`, called through ``send(request, frames)``, which returns
    the kernel's (reply, frames), or None when it did not answer."""

    def __init__(self, name, send):
        self.name = name
        self._send = send

    def __call__(self, *args):
        frames = []
        request = {"function": self.name, "args": [encode(argument, frames) for argument in args]}
        answer = self._send(request, frames)
        if answer is None:
            raise WireError("did not answer the grader's call (was the kernel's call handler replaced?)")
        reply, frames = answer
        check_reply(reply, frames)
        if reply.get("missing") is True:
            raise FunctionMissing(self.name)
        if isinstance(reply.get("raised"), dict):
            raised = reply["raised"]
            raise StudentRaised(*(str(raised.get(key, ""))[:500] for key in ("type", "message", "where")))
        after = reply.get("args")
        if not isinstance(after, list) or len(after) != len(args) or "returned" not in reply:
            raise WireError("returned a value the grader could not read")
        decoder = Decoder(frames)
        for argument, state in zip(args, after):
            if state is not None:  # None: a large array argument, not sent back
                decoder.decode(state, into=argument)
        return decoder.decode(reply["returned"])
