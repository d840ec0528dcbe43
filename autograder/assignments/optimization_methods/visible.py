"""The visible test cell's verdict, made by the grader.

The visible test case's inputs and expected results ship with the assignment, so a function
could return them hard-coded. Its points go to a function that is right on the visible case and
on the same case changed in ways the student has not seen (fewer layers or examples, scaled
values), judged against the reference.
"""

import functools

import numpy as np

import solutions
from opt_utils import test_cases
from opt_utils.compare import expect_dict, expect_tuple
from opt_utils.feedback import Mistake
from opt_utils.visible import RESULT_NAMES, expect_visible

from .checks.cases import copied

TITLE = "all visible checks passed"


@functools.cache
def _case(function):
    case = getattr(test_cases, f"{function}_test_case")()
    return case if isinstance(case, tuple) else (case,)


def _arguments(function):
    """The visible case's arguments, fresh copies (it is built once: the mini-batch one is 14 MB of draws)."""
    return tuple(_copy(argument) for argument in _case(function))


def _results(function, returned):
    return expect_tuple(returned, RESULT_NAMES[function])


def _unseen(value):
    """The visible case's argument changed: layer 1 only, values scaled; fewer features and examples."""
    if isinstance(value, dict):
        return {key: 1.3 * item for key, item in value.items() if key.lstrip("dWb") == "1"}
    if isinstance(value, np.ndarray):
        return 1.3 * value[:7, :-13] + 0.5
    return value


def _copy(value):
    return copied(value) if isinstance(value, dict) else value.copy() if isinstance(value, np.ndarray) else value


def _expect_same(function, results, expected):
    if function == "random_mini_batches":
        batches, right = results[0], expected[0]
        if not isinstance(batches, (list, tuple)) or len(batches) != len(right):
            raise Mistake("returns another number of mini-batches")
        for (x, y), (rx, ry) in zip(batches, right):
            for array, reference in ((x, rx), (y, ry)):
                if type(array) is not np.ndarray or array.shape != reference.shape or not np.array_equal(array, reference):
                    raise Mistake("returns other mini-batches than expected")
        return
    for name, actual, right in zip(RESULT_NAMES[function], results, expected):
        expect_dict(actual, right, name)


def visible_check(function):
    """The check of `function`'s visible test cell: a callable taking the student's function."""
    def check(student):
        try:
            expect_visible(function, *_results(function, student(*_arguments(function))))
        except Mistake as mistake:
            raise Mistake(f"{mistake} (visible test case)") from None
        unseen = tuple(_unseen(argument) for argument in _arguments(function))
        expected = _results(function, getattr(solutions, function)(*(_copy(a) for a in unseen)))
        try:
            _expect_same(function, _results(function, student(*unseen)), expected)
        except Mistake as mistake:
            raise Mistake(f"passes the visible test case, but not the same test on other inputs "
                          f"(is the result hard-coded?): {mistake}") from None
    return check
