"""Name the mistake behind a wrong result by matching it against models of common mistakes."""

import numpy as np

from opt_utils.compare import expect_dict, values_close
from opt_utils.feedback import Mistake


def expect_dict_or_diagnose(actual, expected, name, mistakes=(), original=None):
    """Check a dict of arrays; when it is wrong, say which known mistake explains it.

    Parameters
    ----------
    actual : object
        The student's result.
    expected : dict
        The right result.
    name : str
        What the result is called (``"parameters"``, ``"v"``), for messages.
    mistakes : sequence of (str, dict)
        Each a description of a mistake and the result that mistake gives on the same inputs.
    original : dict, optional
        The values before the update, to recognise entries the student left unchanged.

    Raises
    ------
    Mistake
        Described by the first mistake that reproduces the student's first wrong entry, else by
        what is wrong with that entry.
    """
    try:
        expect_dict(actual, expected, name)
    except Mistake as mismatch:
        if not isinstance(actual, dict):
            raise
        wrong = [key for key in expected if key in actual and type(actual[key]) is np.ndarray
                 and actual[key].shape == expected[key].shape
                 and not values_close(actual[key], expected[key])]
        if not wrong:
            raise
        key = wrong[0]
        # A mistake that divides by zero is recognised by its NaN pattern, but a result that is
        # NaN throughout would match any such mistake, so it names none.
        if np.isfinite(actual[key]).any():
            for description, alternative in mistakes:
                if key in alternative and values_close(actual[key], alternative[key], equal_nan=True):
                    raise Mistake(description) from None
        if original is not None:
            unchanged = [k for k in wrong if values_close(actual[k], original[k], atol=0, rtol=0)]
            if unchanged:
                raise Mistake(_unchanged_message(name, unchanged, expected)) from None
        if not np.isfinite(actual[key]).all():
            raise Mistake(f"{name}[{key!r}] holds NaN or infinite values: is something divided by zero, "
                          "or a square root taken of a negative number?") from None
        raise Mistake(f"{name}[{key!r}] has the right shape but wrong values") from mismatch


def _unchanged_message(name, unchanged, expected):
    listed = ", ".join(f"{name}[{k!r}]" for k in unchanged)
    layers = sorted({int(k.lstrip("dWb")) for k in unchanged})
    last = max(int(k.lstrip("dWb")) for k in expected)
    hint = ""
    if layers == [last]:
        hint = ": does your loop reach the last layer? Layers are numbered 1 … L"
    elif all(k.lstrip("d").startswith("b") for k in unchanged):
        hint = ": the biases need updating too"
    return f"{listed} {'was' if len(unchanged) == 1 else 'were'} not updated{hint}"


def alternatives(rules, apply):
    """[(description, apply(rule))] for each (description, rule) in `rules`."""
    return [(description, apply(rule)) for description, rule in rules]
