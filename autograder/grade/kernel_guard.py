"""Started in every grading kernel (as an IPython start-up file): calls that would end the
kernel process become ordinary errors, so one bad line costs the cells that run it and no more."""

import os as _os


def _refuse_to_exit(*args, **kwargs):
    raise RuntimeError("this code tried to end the Python process (os._exit or os.abort); "
                       "it was stopped so that grading could go on")


_os._exit = _refuse_to_exit
_os.abort = _refuse_to_exit
del _os
