"""The second assignment's reference (solutions/schedules.py) against the published values."""

import numpy as np
import pytest

from published_values import RMSPROP_S, RMSPROP_W, SCHEDULE_LR_DECAY, UPDATE_LR
from solutions.schedules import initialize_rmsprop, schedule_lr_decay, update_lr, update_parameters_with_rmsprop


@pytest.mark.parametrize("arguments, expected", UPDATE_LR.items())
def test_update_lr_gives_the_published_rate(arguments, expected):
    assert update_lr(*arguments) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("arguments, expected", SCHEDULE_LR_DECAY.items())
def test_schedule_lr_decay_gives_the_published_rate(arguments, expected):
    assert schedule_lr_decay(*arguments) == pytest.approx(expected, rel=1e-12)


def test_the_schedule_falls_in_steps_with_its_default_interval():
    """α₀ for the first 1000 epochs, then α₀/2 until 2000 (decay_rate 1), called positionally as the loop does."""
    rates = [schedule_lr_decay(0.1, epoch, 1) for epoch in (0, 999, 1000, 1999, 2000)]
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.1 / 3], rel=1e-12)


def cs231n_case():
    W = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    parameters, grads = {"W1": W, "b1": np.zeros((4, 1))}, {"dW1": np.linspace(-0.6, 0.4, 20).reshape(4, 5),
                                                            "db1": np.zeros((4, 1))}
    s = {"dW1": np.linspace(0.6, 0.9, 20).reshape(4, 5), "db1": np.zeros((4, 1))}
    return parameters, grads, s


def test_one_rmsprop_step_gives_the_published_values():
    parameters, s = update_parameters_with_rmsprop(*cs231n_case(), 0.01, 0.99, 1e-8)
    for (i, j), expected in RMSPROP_W.items():
        assert parameters["W1"][i, j] == pytest.approx(expected, abs=5e-9)
    for (i, j), expected in RMSPROP_S.items():
        assert s["dW1"][i, j] == pytest.approx(expected, abs=5e-9)
    assert np.array_equal(parameters["b1"], np.zeros((4, 1)))  # a zero gradient moves nothing (ε after the root)


def test_rmsprop_state_starts_at_zero_for_any_depth():
    rng = np.random.default_rng(0)
    parameters = {f"{kind}{l}": rng.standard_normal(shape) for l, (n, m) in enumerate([(3, 2), (4, 3), (1, 4)], 1)
                  for kind, shape in (("W", (n, m)), ("b", (n, 1)))}
    s = initialize_rmsprop(parameters)
    assert sorted(s) == sorted("d" + key for key in parameters)
    assert all(s["d" + key].shape == value.shape and not s["d" + key].any() for key, value in parameters.items())
