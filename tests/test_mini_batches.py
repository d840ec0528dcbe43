"""random_mini_batches partitions the examples: same permutation for X and Y, no loss, no overlap."""

import numpy as np
import pytest

from solutions import random_mini_batches


def labelled_examples(m):
    """X whose column j is (j, -j, 2j): each column names its example, and Y = j as a label."""
    j = np.arange(m, dtype=float)
    return np.vstack([j, -j, 2 * j]), j.reshape(1, m)


@pytest.mark.parametrize("m, size", [(5, 64), (64, 64), (128, 64), (130, 64), (7, 1), (10, 3), (1, 1)])
def test_batches_partition_the_examples(m, size):
    X, Y = labelled_examples(m)
    batches = random_mini_batches(X, Y, size, seed=4)
    expected_sizes = [size] * (m // size) + ([m % size] if m % size else [])
    assert [bx.shape[1] for bx, _ in batches] == expected_sizes
    assert [by.shape for _, by in batches] == [(1, n) for n in expected_sizes]
    seen = np.concatenate([by[0] for _, by in batches])
    assert sorted(seen.tolist()) == list(range(m))
    for bx, by in batches:
        np.testing.assert_array_equal(bx[0], by[0])   # X and Y were shuffled together
        np.testing.assert_array_equal(bx[1], -by[0])


def test_order_follows_numpy_permutation_of_the_seed():
    X, Y = labelled_examples(10)
    batches = random_mini_batches(X, Y, 4, seed=7)
    np.random.seed(7)
    permutation = np.random.permutation(10)
    np.testing.assert_array_equal(np.concatenate([by[0] for _, by in batches]), permutation)


def test_same_seed_same_batches_and_different_seed_different_order():
    X, Y = labelled_examples(50)
    first = random_mini_batches(X, Y, 16, seed=3)
    again = random_mini_batches(X, Y, 16, seed=3)
    other = random_mini_batches(X, Y, 16, seed=4)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))


def test_flat_labels_are_reshaped_and_input_is_left_untouched():
    X, Y = labelled_examples(9)
    X_before = X.copy()
    batches = random_mini_batches(X, Y.ravel(), 4, seed=0)
    assert [by.shape for _, by in batches] == [(1, 4), (1, 4), (1, 1)]
    np.testing.assert_array_equal(X, X_before)
