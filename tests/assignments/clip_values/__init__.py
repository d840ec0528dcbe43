"""A small assignment defined only here, to show that adding one touches no engine file.

One graded function, `clip`, worth 10 points: its visible test cell (2) and two hidden aspects
(4 each). The reference is `reference`; students receive `clip_utils` beside the notebook. The
test course names this folder's parent in ``c.Kit.assignment_folders``.
"""

from pathlib import Path

import numpy as np

from autograder.assignments import Assignment, Release
from autograder.checks import Aspects

from . import reference

NAME = "clip_values"
HERE = Path(__file__).resolve().parent
VISIBLE_CASE = ([-3.0, -0.5, 0.0, 0.25, 2.0], 1.0)  # also in clip_utils: what the student sees


class Mistake(Exception):
    """What a hidden check raises with what is wrong, in the student's words."""


class CheckFailed(AssertionError):
    """A check failed in a kernel (plain nbgrader); nbgrader scores the cell 0."""

    def __init__(self, function, message):
        super().__init__(f"{function}: {message}")
        self.function, self.message = function, message


ASPECTS = Aspects()


def _expect(student, values, limit):
    returned = student(np.array(values), limit)
    if not isinstance(returned, np.ndarray) or returned.shape != (len(values),):
        raise Mistake("returns something other than an array shaped like its input")
    return returned


@ASPECTS.aspect("clip", "both_sides", 4, "values beyond the limit on either side are cut to it")
def _both_sides(student):
    values = [-7.5, -2.0, 3.0, 9.25]
    if not np.allclose(_expect(student, values, 2.0), reference.clip(np.array(values), 2.0), rtol=1e-12, atol=0):
        raise Mistake("does not cut values to [-limit, limit] on both sides (is the lower bound missing?)")


@ASPECTS.aspect("clip", "inside_kept", 4, "values within the limit are kept as they are")
def _inside_kept(student):
    values = [-0.75, 0.0, 0.125, 1.5]
    if not np.array_equal(_expect(student, values, 1.5), np.array(values)):
        raise Mistake("changes values that are within the limit")


def visible_check(function):
    """The visible cell's verdict: right on the visible case and on one the student has not seen."""
    def check(student):
        for values, limit in (VISIBLE_CASE, ([5.0, -5.0, 0.5], 0.75)):
            if not np.allclose(_expect(student, values, limit), reference.clip(np.array(values), limit)):
                raise Mistake("differs from the expected values" + ("" if values == VISIBLE_CASE[0] else
                                                                    " on inputs other than the visible case"))
    return check


RELEASE = Release(
    notebook=f"{NAME}.ipynb",
    reference=reference,
    support_package="clip_utils",
    support_folder=HERE / "clip_utils",
    student_packages=("numpy", "jupyter"),
    visible_test_source=lambda function: ("values, limit = clip_case()\nclipped = clip(values, limit)\n"
                                          "print(clipped)\ncheck_visible(clipped)"),
    expected_output_source=lambda function: "**Expected output**\n\n```\n[-1.   -0.5   0.    0.25  1.  ]\n```",
)

# name, graded functions, hidden aspects, visible points, visible check, mistake, failure, release
ASSIGNMENT = Assignment(NAME, ("clip",), ASPECTS, {"clip": 2}, visible_check, Mistake, CheckFailed, RELEASE)
