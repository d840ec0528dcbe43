"""The 2-D "moons" data set the optimizers are compared on.

The data is read from a pinned file (``datasets/moons.csv`` beside this package, in the
repository and in the released assignment folder alike) rather than generated at run time, so
the assignment does not depend on a future scikit-learn drawing the same numbers.
"""

from pathlib import Path

import numpy as np

MOONS_FILE = Path(__file__).resolve().parent.parent / "datasets" / "moons.csv"
MOONS_COLUMNS = ("x1", "x2", "label")


def load_dataset(path=None):
    """Load the moons training set.

    Parameters
    ----------
    path : str or Path, optional
        A CSV file with the header ``x1,x2,label`` and one example per row.
        Defaults to the pinned ``datasets/moons.csv``.

    Returns
    -------
    X : ndarray of shape (2, m), float64
        One column per example.
    Y : ndarray of shape (1, m), int64
        The 0/1 labels.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If its header or its values are not those of a moons file.
    """
    path = Path(MOONS_FILE if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(f"moons data file not found: {path}")
    with path.open() as handle:
        header = tuple(handle.readline().strip().split(","))
        if header != MOONS_COLUMNS:
            raise ValueError(f"{path}: header must be {','.join(MOONS_COLUMNS)}, got {','.join(header)}")
        table = np.loadtxt(handle, delimiter=",", ndmin=2)
    labels = table[:, 2]
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{path}: labels must be 0 or 1")
    return table[:, :2].T.copy(), labels.astype(np.int64).reshape(1, -1)


def write_dataset(X, Y, path):
    """Write X (2, m) and Y (1, m) as a moons CSV file that `load_dataset` reads back exactly.

    Floats are written with ``repr`` (17 significant digits), which round-trips every float64.
    """
    rows = [",".join(MOONS_COLUMNS)]
    rows += [f"{x1!r},{x2!r},{int(label)}" for x1, x2, label in zip(X[0].tolist(), X[1].tolist(), np.ravel(Y))]
    Path(path).write_text("\n".join(rows) + "\n")
