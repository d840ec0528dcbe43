"""The network: He initialisation, and a backward pass that agrees with finite differences."""

import numpy as np
import pytest

import solutions


def test_initialization_draws_he_weights_with_seed_3():
    parameters = solutions.initialize_parameters([2, 5, 2, 1])
    np.random.seed(3)
    for l, (n, n_prev) in enumerate([(5, 2), (2, 5), (1, 2)], start=1):
        np.testing.assert_array_equal(parameters[f"W{l}"], np.random.randn(n, n_prev) * np.sqrt(2 / n_prev))
        np.testing.assert_array_equal(parameters[f"b{l}"], np.zeros((n, 1)))


@pytest.mark.parametrize("layers_dims", [[2, 5, 2, 1], [3, 4, 1], [2, 6, 5, 4, 1]])
def test_backward_pass_matches_finite_differences(layers_dims):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((layers_dims[0], 7))
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    parameters = solutions.initialize_parameters(layers_dims)
    for key in parameters:   # nonzero biases keep every ReLU away from its kink
        parameters[key] = parameters[key] + 0.1 * rng.standard_normal(parameters[key].shape)
    _, cache = solutions.forward_propagation(X, parameters)
    grads = solutions.backward_propagation(X, Y, cache)

    def cost():
        return solutions.compute_cost(solutions.forward_propagation(X, parameters)[0], Y)

    h = 1e-6
    for key, value in parameters.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + h
            up = cost()
            value[index] = original - h
            down = cost()
            value[index] = original
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads["d" + key], numeric, rtol=1e-5, atol=1e-8)


def test_predict_returns_zero_one_labels_and_prints_accuracy(capsys):
    X, Y = solutions.load_dataset()
    parameters = solutions.initialize_parameters([2, 5, 2, 1])
    predictions = solutions.predict(X, Y, parameters)
    assert predictions.shape == (1, 300)
    assert set(np.unique(predictions)) <= {0, 1}
    output, _ = capsys.readouterr()
    assert output == f"Accuracy: {np.mean(predictions == Y):.4f}\n"
    np.testing.assert_array_equal(predictions, solutions.predict_dec(parameters, X))


def test_cost_of_a_known_output():
    a = np.array([[0.8, 0.1, 0.5]])
    Y = np.array([[1, 0, 1]])
    expected = -(np.log(0.8) + np.log(0.9) + np.log(0.5)) / 3
    assert solutions.compute_cost(a, Y) == pytest.approx(expected, rel=1e-15)
