"""The graded aspects of an assignment's functions: one hidden test cell of the notebook per aspect."""

from dataclasses import dataclass
from typing import Callable

from ..grade_ids import grade_id

@dataclass(frozen=True)
class Aspect:
    """One hidden test of one graded function.

    Attributes
    ----------
    function : str
        The graded function's name.
    name : str
        Short identifier; the notebook cell's grade_id is ``test_<function>_<name>``
        (`autograder.grade_ids.grade_id`).
    points : int
        What the cell is worth.
    title : str
        What the test checks, in a student's words (shown when it passes).
    check : callable
        Takes the student's function; raises the assignment's ``mistake`` when it is wrong.
    """

    function: str
    name: str
    points: int
    title: str
    check: Callable

    @property
    def grade_id(self):
        return grade_id(self.function, self.name)


class Aspects(dict):
    """An assignment's hidden checks, {(function, aspect name): `Aspect`}, in registration order."""

    def aspect(self, function, name, points, title):
        """Register the decorated function as the check of aspect `name` of `function`."""
        def register(check):
            self[(function, name)] = Aspect(function, name, points, title, check)
            return check
        return register

    def of(self, function):
        """The aspects of one function, in the order they were registered."""
        return [a for (f, _), a in self.items() if f == function]
