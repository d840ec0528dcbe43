"""Reference shuffling and partitioning of a training set into mini-batches."""

import numpy as np

from opt_utils.checks import check_examples, check_positive_integer


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Shuffle the examples and cut them into consecutive mini-batches.

    Seeds numpy's global generator with `seed`, draws one permutation of the m examples, reorders
    the columns of X and Y with it, then slices ``mini_batch_size`` columns at a time. When m is
    not a multiple of the size, the last mini-batch holds the remaining ``m mod mini_batch_size``
    examples: every example lands in exactly one mini-batch and none is empty.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
        One column per example.
    Y : ndarray of shape (1, m)
        The labels (an array of m elements is reshaped to (1, m)).
    mini_batch_size : int, default 64
    seed : int, default 0

    Returns
    -------
    list of tuple
        ``(mini_batch_X, mini_batch_Y)`` of shapes (n_x, size) and (1, size), in order.
    """
    m = check_examples(X, Y)
    check_positive_integer(mini_batch_size, "mini_batch_size")
    np.random.seed(seed)
    permutation = np.random.permutation(m)
    shuffled_X = np.asarray(X)[:, permutation]
    shuffled_Y = np.reshape(Y, (1, m))[:, permutation]
    return [
        (shuffled_X[:, start:start + mini_batch_size], shuffled_Y[:, start:start + mini_batch_size])
        for start in range(0, m, mini_batch_size)
    ]
