"""Started in every grading kernel (as an IPython start-up file): calls that would end the
kernel process from the notebook's code become ordinary errors, so one bad line costs the cells
that run it and no more. The kernel's own machinery (ipykernel ends the kernel with os._exit when
its parent process dies) keeps the real calls, and so does a child the notebook forked: a child
that could not end would carry on as a second kernel on the same sockets."""

import os as _os
import sys as _sys

_real_exit, _real_abort = _os._exit, _os.abort
_KERNEL_MACHINERY = ("ipykernel", "IPython", "jupyter_client", "zmq", "tornado", "asyncio", "threading")


def _guarded(real, caller_frame=_sys._getframe, getpid=_os.getpid, kernel=_os.getpid()):
    def call(*args, **kwargs):
        caller = caller_frame(1).f_globals.get("__name__", "")
        if getpid() != kernel or caller.split(".")[0] in _KERNEL_MACHINERY:
            return real(*args, **kwargs)
        raise RuntimeError("this code tried to end the Python process (os._exit or os.abort); "
                           "it was stopped so that grading could go on")
    return call


_os._exit = _guarded(_real_exit)
_os.abort = _guarded(_real_abort)
del _os, _sys
