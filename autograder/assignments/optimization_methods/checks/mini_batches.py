"""Hidden tests of random_mini_batches.

The inputs make every example recognisable: column j of X is (j, −j, 1000 + j) and the label
of example j is j, so the checks can tell which examples landed where and whether X and Y stayed
paired, without assuming anything about the order beyond what the assignment fixes.
"""

import numpy as np

from opt_utils.compare import describe
from opt_utils.feedback import Mistake

from solutions import random_mini_batches as reference

from . import aspect

FUNCTION = "random_mini_batches"


def numbered_examples(m):
    j = np.arange(m, dtype=float)
    return np.vstack([j, -j, 1000 + j]), j.reshape(1, m)


def _batches(student, m, size, seed):
    """Call the student's function and check the structure of what it returns."""
    X, Y = numbered_examples(m)
    result = student(X, Y, size, seed)
    if not isinstance(result, (list, tuple)):
        raise Mistake(f"should return a list of (mini_batch_X, mini_batch_Y) pairs, but returned {describe(result)}")
    for i, pair in enumerate(result):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Mistake(f"mini-batch {i} should be a pair (mini_batch_X, mini_batch_Y), but is {describe(pair)}")
        for part, array, rows in (("mini_batch_X", pair[0], 3), ("mini_batch_Y", pair[1], 1)):
            if type(array) is not np.ndarray:
                raise Mistake(f"{part} of mini-batch {i} should be a numpy array, but is {describe(array)}")
            if array.ndim != 2 or array.shape[0] != rows:
                raise Mistake(f"{part} of mini-batch {i} has shape {array.shape}; it should have "
                              f"{rows} row{'s' if rows > 1 else ''} and one column per example")
        if pair[0].shape[1] != pair[1].shape[1]:
            raise Mistake(f"mini-batch {i} has {pair[0].shape[1]} examples in X but {pair[1].shape[1]} in Y")
    return result


def _check_sizes(batches, m, size, situation):
    situation = f" {situation}" if situation else ""
    sizes = [pair[0].shape[1] for pair in batches]
    complete, rest = divmod(m, size)
    expected = [size] * complete + ([rest] if rest else [])
    if sizes == expected:
        return
    if 0 in sizes:
        raise Mistake(f"returns an empty mini-batch{situation}: no mini-batch may be empty")
    if rest and sizes == expected[:-1]:
        raise Mistake(f"drops the last, smaller mini-batch{situation}: the remaining "
                      "m − size·⌊m/size⌋ examples form one more mini-batch")
    if sum(sizes) > m:
        raise Mistake(f"puts some examples in two mini-batches{situation}: do the slices overlap? "
                      "Mini-batch k holds columns k·size to (k+1)·size, the last one the columns left over")
    if sum(sizes) < m:
        raise Mistake(f"leaves some examples out of every mini-batch{situation}: "
                      "the last mini-batch must hold all the columns left over")
    raise Mistake(f"cuts the mini-batches to the wrong sizes{situation}: all but the last should hold "
                  "mini_batch_size examples, the last one the rest")


def _check_partition(batches, m, situation):
    labels = np.concatenate([pair[1][0] for pair in batches]) if batches else np.array([])
    if sorted(labels.tolist()) != list(range(m)):
        raise Mistake(f"does not place every example in exactly one mini-batch {situation}")


def _check_pairing(batches):
    for i, (bx, by) in enumerate(batches):
        if not np.array_equal(bx[0], by[0]):
            if np.array_equal(np.sort(bx[0]), np.sort(by[0])):
                raise Mistake("keeps each example's label but in another order than its X column: "
                              "reorder X and Y with the same permutation")
            raise Mistake("shuffles X and Y differently, so examples lose their labels: "
                          "draw one permutation and reorder the columns of both X and Y with it")
        if not np.array_equal(bx[1], -bx[0]) or not np.array_equal(bx[2], 1000 + bx[0]):
            raise Mistake("mixes values of different examples within a column of X: "
                          "reorder whole columns (X[:, permutation]), not rows or single values")


def _partition_aspect(student, cases):
    for m, size, situation in cases:
        batches = _batches(student, m, size, seed=2)
        _check_sizes(batches, m, size, situation)
        _check_pairing(batches)
        _check_partition(batches, m, situation)


@aspect(FUNCTION, "partition", 5, "when m is not a multiple of the size, the examples are split into "
                                  "full mini-batches and one smaller last one")
def partition(student):
    _partition_aspect(student, [(10, 3, "when m is not a multiple of mini_batch_size"),
                                (130, 64, "when m is not a multiple of mini_batch_size"),
                                (147, 16, "when m is not a multiple of mini_batch_size")])


@aspect(FUNCTION, "edge_sizes", 4, "m smaller than, equal to, or a multiple of the mini-batch size")
def edge_sizes(student):
    _partition_aspect(student, [(5, 64, "when m is smaller than mini_batch_size"),
                                (64, 64, "when m equals mini_batch_size"),
                                (128, 32, "when m is a multiple of mini_batch_size"),
                                (1, 1, "when there is a single example")])


@aspect(FUNCTION, "same_permutation", 4, "X and Y are shuffled with the same permutation")
def same_permutation(student):
    for m, size in ((40, 8), (75, 16)):
        batches = _batches(student, m, size, seed=5)
        _check_pairing(batches)
        # Examples left in their order were never shuffled: pairs that stay together prove nothing.
        labels = np.concatenate([pair[1][0] for pair in batches]) if batches else np.array([])
        if np.array_equal(labels, np.arange(m)):
            raise Mistake("does not shuffle the examples, so X and Y are not shuffled together: reorder the "
                          "columns of both with one np.random.permutation(m)")


@aspect(FUNCTION, "order", 5, "the order follows np.random.permutation(m) right after np.random.seed(seed)")
def order(student):
    for m, size, seed in ((50, 16, 7), (33, 10, 123)):
        batches = _batches(student, m, size, seed)
        _check_sizes(batches, m, size, "")
        X, Y = numbered_examples(m)
        expected = np.concatenate([pair[1][0] for pair in reference(X, Y, size, seed)])
        actual = np.concatenate([pair[1][0] for pair in batches])
        if np.array_equal(actual, expected):
            continue
        if np.array_equal(actual, np.arange(m)):
            raise Mistake("does not shuffle the examples: reorder the columns with np.random.permutation(m)")
        if np.array_equal(actual, np.concatenate([p[1][0] for p in reference(X, Y, size, 0)])):
            raise Mistake("ignores the seed argument: call np.random.seed(seed) with the seed it is given")
        raise Mistake("shuffles the examples in another order than expected: call np.random.seed(seed), "
                      "then draw exactly one np.random.permutation(m) and use it for X and Y")
