"""Regenerate the pinned moons data set: ``python datasets/make_moons.py [OUT]``.

The recipe is the assignment's: seed numpy's global generator with 3, then draw
``sklearn.datasets.make_moons(n_samples=300, noise=0.2)`` (which uses that global generator),
transpose X to (2, 300) and reshape the labels to (1, 300).
"""

import sys
from pathlib import Path

import numpy as np
import sklearn.datasets

from opt_utils.data import MOONS_FILE, write_dataset

SEED = 3
N_SAMPLES = 300
NOISE = 0.2


def generate_moons():
    """Return X (2, 300) and Y (1, 300) drawn with the assignment's recipe."""
    np.random.seed(SEED)
    X, y = sklearn.datasets.make_moons(n_samples=N_SAMPLES, noise=NOISE)
    return X.T, y.reshape(1, -1)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else MOONS_FILE
    write_dataset(*generate_moons(), out)
    print(f"wrote {out}")
