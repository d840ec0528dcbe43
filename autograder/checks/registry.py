"""The graded aspects of each function: one hidden test cell of the notebook per aspect."""

from dataclasses import dataclass
from typing import Callable

from ..grade_ids import grade_id

ASPECTS = {}

# Points of each function's visible test cell; with the hidden aspects each function totals
# 10 (initialisations, gradient descent), 20 (mini-batches, momentum) or 30 (Adam): 100 in all.
VISIBLE_POINTS = {
    "update_parameters_with_gd": 2,
    "random_mini_batches": 2,
    "initialize_velocity": 2,
    "update_parameters_with_momentum": 3,
    "initialize_adam": 2,
    "update_parameters_with_adam": 4,
}


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
        Takes the student's function; raises `opt_utils.feedback.Mistake` when it is wrong.
    """

    function: str
    name: str
    points: int
    title: str
    check: Callable

    @property
    def grade_id(self):
        return grade_id(self.function, self.name)


def aspect(function, name, points, title):
    """Register the decorated function as the check of one aspect of `function`."""
    def register(check):
        ASPECTS[(function, name)] = Aspect(function, name, points, title, check)
        return check
    return register


def aspects_of(function):
    """The aspects of one function, in the order they were registered."""
    return [a for (f, _), a in ASPECTS.items() if f == function]
