"""Strict comparison of a student's results with the expected ones.

Every comparison checks the type and shape first, so an object whose ``==`` is always true, a
list in place of an array, or an array of the wrong shape that would broadcast is caught before
any value is compared. Mismatches raise `Mistake` with a message in the student's terms.
"""

import numpy as np

from .feedback import Mistake

RTOL = 1e-6
ATOL = 1e-10


def describe(value):
    """A short description of a value's type, for messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def expect_tuple(result, names):
    """Check that `result` is a tuple (or list) of len(names) items and return them.

    `names` is what the function should return, e.g. ``("parameters", "v", "s")``.
    """
    if len(names) == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        count = len(result) if isinstance(result, (tuple, list)) else 1
        raise Mistake(f"should return ({', '.join(names)}), {len(names)} values, but returned "
                      f"{count} value{'s' if count != 1 else ''}: {describe(result)}")
    return tuple(result)


def expect_array(actual, expected, name, rtol=RTOL, atol=ATOL):
    """Check that `actual` is a float ndarray of `expected`'s shape with close values.

    Returns
    -------
    bool
        True. Raises `Mistake` otherwise.
    """
    if type(actual) is not np.ndarray:
        raise Mistake(f"{name} should be a numpy array but is {describe(actual)}")
    if actual.shape != expected.shape:
        raise Mistake(f"{name} has shape {actual.shape} but should have shape {expected.shape}")
    if not np.issubdtype(actual.dtype, np.floating) and expected.dtype.kind == "f":
        raise Mistake(f"{name} should hold floats but has dtype {actual.dtype}")
    if not values_close(actual, expected, rtol, atol):
        raise Mistake(f"{name} has the right shape but wrong values")
    return True


def values_close(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=False):
    """True where two same-shaped arrays agree elementwise within the tolerances.

    Infinities agree with equal infinities; NaN agrees with NaN only when `equal_nan` is true
    (used to recognise a mistake that divides by zero, never to accept a result).
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        return False
    return bool(np.all(np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def expect_dict(actual, expected, name, rtol=RTOL, atol=ATOL):
    """Check that `actual` is a dict with exactly `expected`'s keys and arrays close to its arrays."""
    if not isinstance(actual, dict):
        raise Mistake(f"{name} should be a dict but is {describe(actual)}")
    missing = [key for key in expected if key not in actual]
    extra = [key for key in actual if key not in expected]
    if missing:
        raise Mistake(f"{name} is missing the key{'s' if len(missing) > 1 else ''} "
                      f"{', '.join(map(repr, missing))}")
    if extra:
        raise Mistake(f"{name} has unexpected key{'s' if len(extra) > 1 else ''} "
                      f"{', '.join(map(repr, extra))}")
    for key in expected:
        expect_array(actual[key], expected[key], f"{name}[{key!r}]", rtol, atol)
    return True


def same_structure(actual, expected):
    """True when `actual` is a dict with `expected`'s keys holding float arrays of its shapes."""
    return (isinstance(actual, dict) and set(actual) == set(expected)
            and all(type(actual[k]) is np.ndarray and actual[k].shape == expected[k].shape
                    and np.issubdtype(actual[k].dtype, np.floating) for k in expected))
