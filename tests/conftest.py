import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np


def assert_as_printed(actual, expected):
    """Assert `actual` equals `expected` as numpy prints it: 8 decimals, or 8 mantissa decimals.

    Half a unit in the last printed place is the most rounding can account for, in absolute
    terms for fixed notation and relative terms for scientific notation.
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=5e-9, atol=5e-9)
