"""How a failed check speaks to a student: one clear message, no traceback into the checker."""


def crossed(function):
    """``✗ function`` in red, as Jupyter shows a failure line."""
    return f"\x1b[0;31m✗ {function}\x1b[0m"


class CheckFailed(AssertionError):
    """A check of a student's function failed; the message says what is wrong.

    Jupyter shows only the message (IPython calls `_render_traceback_`), so a failing check
    never prints the checker's code or inputs. It subclasses AssertionError so that test
    runners and nbgrader treat it as a failed test.
    """

    def __init__(self, function, message):
        super().__init__(f"{function}: {message}")
        self.function = function
        self.message = message

    def _render_traceback_(self):
        return [f"{crossed(self.function)}: {self.message}"]


class Mistake(Exception):
    """Raised inside a check with the student-facing description of what is wrong."""


def report_unfinished_exercises(shell=None):
    """Show an unfinished exercise as one line that names it, instead of a traceback.

    A graded function still holding nbgrader's stub raises ``NotImplementedError()``, and
    IPython would print a traceback through the test or training code that called it. With
    this handler the cell says which function is not written yet and what to do. Any other
    ``NotImplementedError`` keeps IPython's usual traceback. Outside IPython this does nothing.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell, optional
        The shell to install the handler in; the running one by default.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NotImplementedError,), _show_unfinished_exercise)


def unfinished_function(shell, tb):
    """The name of the notebook function that raised, if the innermost frame is one.

    A frame counts when the name it runs under in the notebook's namespace is a function whose
    code is that frame's code: a function the student defined in a cell, not library code.
    """
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    defined = shell.user_ns.get(code.co_name)
    return code.co_name if getattr(defined, "__code__", None) is code else None


def _show_unfinished_exercise(shell, etype, value, tb, tb_offset=None):
    function = unfinished_function(shell, tb)
    if function is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    stb = [f"{crossed(function)} is not implemented yet: replace `raise NotImplementedError()` "
           f"in its cell with your code, run that cell, then run this one again."]
    # IPython leaves displaying to a custom handler; _showtraceback is how a kernel sends it.
    shell._showtraceback(etype, value, stb)
    return stb
