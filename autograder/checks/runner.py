"""Run one hidden check against a student's function and report in the student's terms."""

import traceback
from pathlib import Path

import numpy as np

from opt_utils.feedback import CheckFailed, Mistake

from .registry import ASPECTS

# Frames from these folders are the checker's or a library's, never the student's; nor are
# IPython start-up files (the grading kernel's guard).
_NOT_STUDENT_CODE = (
    str(Path(__file__).resolve().parent.parent.parent),
    str(Path(np.__file__).resolve().parent.parent),
)


def run_check(function, name, namespace):
    """Check aspect `name` of the student's `function`, found in `namespace` (the notebook's globals).

    Prints ``✓ <function>: <what was checked>`` when the function passes; otherwise raises
    `CheckFailed` with a message that names the mistake, without the hidden inputs or the
    checker's code. numpy's global random state is left as it was found.

    Raises
    ------
    CheckFailed
        When the function is missing, raises, or gives a wrong result.
    """
    aspect = ASPECTS[(function, name)]
    student = namespace.get(function)
    if not callable(student):
        raise CheckFailed(function, "is not defined as a function: was it renamed or deleted?")
    random_state = np.random.get_state()
    try:
        with np.errstate(all="ignore"):
            aspect.check(student)
    except Mistake as mistake:
        raise CheckFailed(function, str(mistake)) from None
    except NotImplementedError:
        raise CheckFailed(function, "not implemented yet (it still raises NotImplementedError)") from None
    except RecursionError:
        raise CheckFailed(function, "recursed without end") from None
    except Exception as error:  # the student's code raised: say what and where, in their code
        raise CheckFailed(function, f"raised {type(error).__name__}: {error}{_where(error)}") from None
    finally:
        np.random.set_state(random_state)
    print(f"✓ {function}: {aspect.title}")


def _where(error):
    """`` (at: <line of student code>)`` for the innermost frame of the student's own code."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith(_NOT_STUDENT_CODE) and "/startup/" not in frame.filename]
    if not frames or not frames[-1].line:
        return ""
    return f" (at: {frames[-1].line.strip()})"
