"""The reference reproduces every published expected value of the visible test cases."""

import numpy as np
import pytest

import published_values as published
import solutions
from conftest import assert_as_printed


def assert_dict_as_printed(actual, expected):
    assert set(actual) == set(expected)
    for key in expected:
        assert_as_printed(actual[key], expected[key])


def test_gradient_descent_step():
    parameters = solutions.update_parameters_with_gd(*solutions.update_parameters_with_gd_test_case())
    assert_dict_as_printed(parameters, published.GD)


def test_mini_batches():
    X, Y, size = solutions.random_mini_batches_test_case()
    batches = solutions.random_mini_batches(X, Y, size)
    assert [bx.shape for bx, _ in batches] == published.MINI_BATCH_X_SHAPES
    assert [by.shape for _, by in batches] == published.MINI_BATCH_Y_SHAPES
    assert_as_printed(batches[0][0][0, :3], published.FIRST_MINI_BATCH_X_ROW0)


@pytest.mark.parametrize("initialize", [solutions.initialize_velocity, lambda p: solutions.initialize_adam(p)[0],
                                        lambda p: solutions.initialize_adam(p)[1]],
                         ids=["velocity", "adam v", "adam s"])
def test_initial_state_is_zeros_shaped_like_parameters(initialize):
    parameters = solutions.initialize_velocity_test_case()
    state = initialize(parameters)
    assert set(state) == {"dW1", "db1", "dW2", "db2"}
    for key, value in parameters.items():
        assert state["d" + key].shape == value.shape
        assert not state["d" + key].any()


def test_adam_moments_are_separate_arrays():
    v, s = solutions.initialize_adam(solutions.initialize_adam_test_case())
    assert all(v[key] is not s[key] for key in v)


def test_momentum_step():
    parameters, v = solutions.update_parameters_with_momentum(
        *solutions.update_parameters_with_momentum_test_case())
    assert_dict_as_printed(parameters, published.MOMENTUM_PARAMETERS)
    assert_dict_as_printed(v, published.MOMENTUM_V)


def test_adam_step_with_epsilon_after_the_root():
    parameters, v, s = solutions.update_parameters_with_adam(
        *solutions.update_parameters_with_adam_test_case())
    assert_dict_as_printed(parameters, published.ADAM_PARAMETERS)
    assert_dict_as_printed(v, published.ADAM_V)
    assert_dict_as_printed(s, published.ADAM_S)


def test_test_cases_are_fresh_on_every_call():
    first, _, _ = solutions.update_parameters_with_gd_test_case()
    solutions.update_parameters_with_gd(*solutions.update_parameters_with_gd_test_case())
    again, _, _ = solutions.update_parameters_with_gd_test_case()
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
