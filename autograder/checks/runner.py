"""Run one hidden check against a student's function and say what is wrong in the student's terms.

`judge` is the one place a check's outcome becomes a message, for every assignment. The grader calls it with a
`RemoteFunction` (the function runs in the sandboxed kernel, the check here);
`autograder.assignments.run_check` calls it inside a kernel, for plain ``nbgrader autograde``
runs of the source notebook.
"""

import re
import traceback
from pathlib import Path

import numpy as np

from ..judge.remote import FunctionMissing, KernelStopped, StudentRaised
from ..judge.wire import WireError, forget_bounds

# Frames from these folders are the checker's or a library's, never the student's; nor are
# IPython start-up files (the grading kernel's guard).
_NOT_STUDENT_CODE = (
    str(Path(__file__).resolve().parent.parent.parent),
    str(Path(np.__file__).resolve().parent.parent),
)
NOT_DEFINED = "is not defined as a function: was it renamed or deleted?"
_LONG_NUMBER = re.compile(r"\d*\.\d{3,}(?:e[-+]?\d+)?|\d{5,}")
NOT_IMPLEMENTED = "not implemented yet (it still raises NotImplementedError)"


def judge(check, student, mistake):
    """Run `check(student)`; None when the student's function passes, else what is wrong.

    Parameters
    ----------
    check : callable
        An aspect's check, or a visible test cell's.
    student : callable or None
        The student's function (a `RemoteFunction` on the grader), None where it is missing.
    mistake : type
        The exception the assignment's checks raise with what is wrong (`Assignment.mistake`).

    numpy's global random state is left as it was found.
    """
    if not callable(student):
        return NOT_DEFINED
    random_state = np.random.get_state()
    forget_bounds()
    try:
        with np.errstate(all="ignore"):
            check(student)
    except mistake as found:
        return str(found)
    except FunctionMissing:
        return NOT_DEFINED
    except StudentRaised as raised:
        return _raised_message(raised.type_name, raised.message, raised.where)
    except (KernelStopped, WireError) as stopped:
        return str(stopped)
    except Exception as error:  # the student's code raised (in this process): say what and where
        return _raised_message(type(error).__name__, str(error), _where(error))
    finally:
        np.random.set_state(random_state)
        forget_bounds()
    return None


def _raised_message(type_name, message, where):
    if type_name == "NotImplementedError":
        return NOT_IMPLEMENTED
    if type_name == "RecursionError":
        return "recursed without end"
    return f"raised {type_name}: {_quoted(message)}" + (f" (at: {where})" if where else "")


def _quoted(message):
    """The student's exception text for the feedback: cut short, long numbers masked, because a
    function could put the hidden inputs it was called with into its message."""
    return _LONG_NUMBER.sub("…", str(message))[:200]


def _where(error):
    """The innermost line of the student's own code in `error`'s traceback, or ''."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith(_NOT_STUDENT_CODE) and "/startup/" not in frame.filename]
    if not frames or not frames[-1].line:
        return ""
    return frames[-1].line.strip()
