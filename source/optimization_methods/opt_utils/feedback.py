"""How a failed check speaks to a student: one clear message, no traceback into the checker."""


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
        return [f"\x1b[0;31m✗ {self.function}\x1b[0m: {self.message}"]


class Mistake(Exception):
    """Raised inside a check with the student-facing description of what is wrong."""
