"""Bad input is rejected with an error that names the problem."""

import numpy as np
import pytest

import solutions


def two_layers():
    parameters, grads, _ = solutions.update_parameters_with_gd_test_case()
    return parameters, grads


def test_gradient_missing_for_a_parameter():
    parameters, grads = two_layers()
    del grads["db2"]
    with pytest.raises(ValueError, match=r"grads has no 'db2'"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_gradient_with_another_shape():
    parameters, grads = two_layers()
    grads["dW2"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"grads\['dW2'\] has shape \(3, 4\) but parameters\['W2'\] has shape \(3, 3\)"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_transposed_bias_gradient_that_would_broadcast():
    parameters, grads = two_layers()
    grads["db1"] = grads["db1"].T
    with pytest.raises(ValueError, match=r"grads\['db1'\] has shape \(1, 2\)"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_gradient_for_a_layer_the_network_does_not_have():
    parameters, grads = two_layers()
    grads["dW3"] = np.zeros((1, 3))
    with pytest.raises(ValueError, match=r"grads has 'dW3' but parameters only has layers 1 … 2"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_parameters_with_a_missing_bias():
    parameters, grads = two_layers()
    del parameters["b2"]
    with pytest.raises(ValueError, match=r"missing \['b2'\], unexpected nothing"):
        solutions.initialize_velocity(parameters)


def test_parameters_with_a_stray_key():
    parameters, grads = two_layers()
    parameters["W0"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"missing nothing, unexpected \['W0'\]"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_parameters_that_are_not_a_dict():
    with pytest.raises(TypeError, match="parameters must be a dict, got list"):
        solutions.initialize_adam([np.zeros((2, 2))])


def test_gradients_that_are_not_arrays():
    parameters, grads = two_layers()
    grads["dW1"] = grads["dW1"].tolist()
    with pytest.raises(TypeError, match=r"grads\['dW1'\] must be a numpy array, got list"):
        solutions.update_parameters_with_gd(parameters, grads, 0.01)


def test_velocity_with_another_shape():
    parameters, grads, v, beta, lr = solutions.update_parameters_with_momentum_test_case()
    v["db2"] = np.zeros((3,))
    with pytest.raises(ValueError, match=r"v\['db2'\] has shape \(3,\)"):
        solutions.update_parameters_with_momentum(parameters, grads, v, beta, lr)


def test_adam_second_moment_missing():
    parameters, grads, v, s, t = solutions.update_parameters_with_adam_test_case()
    del s["dW1"]
    with pytest.raises(ValueError, match=r"s has no 'dW1'"):
        solutions.update_parameters_with_adam(parameters, grads, v, s, t)


@pytest.mark.parametrize("t, error, message", [
    (0, ValueError, "the Adam step t must be at least 1, got 0"),
    (-3, ValueError, "the Adam step t must be at least 1, got -3"),
    (1.5, TypeError, "the Adam step t must be an integer, got 1.5"),
    (True, TypeError, "the Adam step t must be an integer, got True"),
])
def test_adam_step_below_one_or_not_an_integer(t, error, message):
    parameters, grads, v, s, _ = solutions.update_parameters_with_adam_test_case()
    with pytest.raises(error, match=message):
        solutions.update_parameters_with_adam(parameters, grads, v, s, t)


def test_adam_step_may_be_a_numpy_integer():
    parameters, grads, v, s, _ = solutions.update_parameters_with_adam_test_case()
    solutions.update_parameters_with_adam(parameters, grads, v, s, np.int64(2))


def test_x_and_y_with_different_numbers_of_examples():
    X, Y = np.zeros((3, 10)), np.zeros((1, 9))
    with pytest.raises(ValueError, match="X has 10 examples .columns. but Y has 9"):
        solutions.random_mini_batches(X, Y, 4)


def test_y_with_several_rows():
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\), got shape \(2, 5\)"):
        solutions.random_mini_batches(np.zeros((3, 5)), np.zeros((2, 5)), 4)


def test_no_examples():
    with pytest.raises(ValueError, match="X has no examples"):
        solutions.random_mini_batches(np.zeros((3, 0)), np.zeros((1, 0)), 4)


@pytest.mark.parametrize("size, error, message", [
    (0, ValueError, "mini_batch_size must be at least 1, got 0"),
    (-64, ValueError, "mini_batch_size must be at least 1, got -64"),
    (6.4, TypeError, "mini_batch_size must be an integer, got 6.4"),
])
def test_mini_batch_size_below_one(size, error, message):
    with pytest.raises(error, match=message):
        solutions.random_mini_batches(np.zeros((3, 5)), np.zeros((1, 5)), size)


def test_unknown_optimizer_name():
    X, Y = solutions.load_dataset()
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop': choose one of gd, momentum, adam"):
        solutions.model(X, Y, [2, 5, 2, 1], "rmsprop", num_epochs=1)


def test_training_with_mismatched_examples():
    X, Y = solutions.load_dataset()
    with pytest.raises(ValueError, match="X has 300 examples"):
        solutions.model(X, Y[:, :-1], [2, 5, 2, 1], "gd", num_epochs=1)


def test_network_without_layers():
    with pytest.raises(ValueError, match="layers_dims needs the input size and at least one layer"):
        solutions.initialize_parameters([2])
