"""The update rules follow their formulas on networks of any depth, checked by closed forms."""

import numpy as np
import pytest

import solutions

SHAPES = [(4, 3), (5, 4), (2, 5), (1, 2)]   # a four-layer network


def deep_network(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    parameters, grads = {}, {}
    for l, (n, n_prev) in enumerate(SHAPES, start=1):
        for key, shape in ((f"W{l}", (n, n_prev)), (f"b{l}", (n, 1))):
            parameters[key] = rng.standard_normal(shape)
            grads["d" + key] = scale * rng.standard_normal(shape)
    return parameters, grads


def copy(d):
    return {key: value.copy() for key, value in d.items()}


def test_gd_updates_every_layer_of_a_deep_network():
    parameters, grads = deep_network()
    before = copy(parameters)
    after = solutions.update_parameters_with_gd(parameters, grads, 0.1)
    assert set(after) == set(before)
    for key in before:
        np.testing.assert_allclose(after[key], before[key] - 0.1 * grads["d" + key], rtol=0, atol=1e-15)


def test_momentum_two_steps_is_an_exponential_average_of_the_gradients():
    parameters, g1 = deep_network(seed=1)
    _, g2 = deep_network(seed=2)
    start = copy(parameters)
    v = solutions.initialize_velocity(parameters)
    beta, lr = 0.8, 0.5
    parameters, v = solutions.update_parameters_with_momentum(parameters, g1, v, beta, lr)
    parameters, v = solutions.update_parameters_with_momentum(parameters, g2, v, beta, lr)
    for key in start:
        d = "d" + key
        v1 = (1 - beta) * g1[d]
        v2 = beta * v1 + (1 - beta) * g2[d]
        np.testing.assert_allclose(v[d], v2, atol=1e-14)
        np.testing.assert_allclose(parameters[key], start[key] - lr * (v1 + v2), atol=1e-14)


def test_adam_with_a_constant_gradient_steps_by_lr_times_sign_every_step():
    # Bias correction makes v_hat = g and s_hat = g^2 exactly for a constant gradient, at every t,
    # so each step moves by lr * g / (|g| + eps): a wrong power of beta or missing correction shows.
    parameters, grads = deep_network(seed=3)
    start = copy(parameters)
    v, s = solutions.initialize_adam(parameters)
    lr, eps = 0.01, 1e-8
    for t in (1, 2, 3, 4):
        parameters, v, s = solutions.update_parameters_with_adam(parameters, grads, v, s, t, lr, 0.9, 0.999, eps)
    for key in start:
        g = grads["d" + key]
        np.testing.assert_allclose(parameters[key], start[key] - 4 * lr * g / (np.abs(g) + eps), rtol=1e-9)


@pytest.mark.parametrize("gradient, epsilon, expected_step", [
    (1e-10, 1e-8, 1e-10 / (1e-10 + 1e-8)),  # tiny gradient: eps inside the root would give 1e-6
    (2.0, 1.0, 2.0 / 3.0),                  # large eps: inside the root would give 2 / sqrt(5)
])
def test_adam_adds_epsilon_after_the_square_root(gradient, epsilon, expected_step):
    parameters = {"W1": np.zeros((1, 1)), "b1": np.zeros((1, 1))}
    grads = {"dW1": np.full((1, 1), gradient), "db1": np.full((1, 1), gradient)}
    v, s = solutions.initialize_adam(parameters)
    parameters, _, _ = solutions.update_parameters_with_adam(parameters, grads, v, s, 1, 1.0, 0.9, 0.999, epsilon)
    np.testing.assert_allclose(parameters["W1"], [[-expected_step]], rtol=1e-12)
    np.testing.assert_allclose(parameters["b1"], [[-expected_step]], rtol=1e-12)


def test_adam_moments_match_their_recurrences_on_a_deep_network():
    parameters, g1 = deep_network(seed=4)
    _, g2 = deep_network(seed=5)
    v, s = solutions.initialize_adam(parameters)
    b1, b2 = 0.7, 0.95
    for t, g in ((1, g1), (2, g2)):
        parameters, v, s = solutions.update_parameters_with_adam(parameters, g, v, s, t, 0.01, b1, b2, 1e-8)
    for d in g1:
        np.testing.assert_allclose(v[d], b1 * (1 - b1) * g1[d] + (1 - b1) * g2[d], atol=1e-14)
        np.testing.assert_allclose(s[d], b2 * (1 - b2) * g1[d] ** 2 + (1 - b2) * g2[d] ** 2, atol=1e-14)


def test_gradients_may_carry_extra_keys_of_a_backward_pass():
    parameters, grads = deep_network()
    grads["dA1"] = np.ones((4, 7))
    grads["dZ2"] = np.ones((5, 7))
    solutions.update_parameters_with_gd(parameters, grads, 0.1)
