"""What students of the clip_values test assignment receive: the visible case and its check."""

import numpy as np

EXPECTED = [-1.0, -0.5, 0.0, 0.25, 1.0]


def clip_case():
    """The visible test case: (values, limit)."""
    return np.array([-3.0, -0.5, 0.0, 0.25, 2.0]), 1.0


def check_visible(clipped):
    """Say whether `clipped` is the visible case's right answer; raise AssertionError if not."""
    if not np.allclose(clipped, EXPECTED):
        raise AssertionError(f"clip: expected {EXPECTED}, got {clipped}")
    print("✓ clip: the visible test case passes")
