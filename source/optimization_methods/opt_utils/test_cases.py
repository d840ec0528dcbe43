"""The visible test cases: the inputs students run their functions on in the notebook.

Each ``<function name>_test_case()`` returns the arguments to call that function with (a tuple,
or the single argument), built fresh on every call from the assignment's seeds and draw order.
"""

import numpy as np

LEARNING_RATE = 0.01
MOMENTUM_BETA = 0.9
ADAM_STEP = 2


def _parameters_and_grads():
    """Seed 1, then W1 (2,3), b1 (2,1), W2 (3,3), b2 (3,1), dW1, db1, dW2, db2 in that order."""
    np.random.seed(1)
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 3), "b2": (3, 1)}
    parameters = {key: np.random.randn(*shape) for key, shape in shapes.items()}
    grads = {"d" + key: np.random.randn(*shape) for key, shape in shapes.items()}
    return parameters, grads


def _zeros_like_grads(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}


def update_parameters_with_gd_test_case():
    """Return ``(parameters, grads, learning_rate)``."""
    parameters, grads = _parameters_and_grads()
    return parameters, grads, LEARNING_RATE


def random_mini_batches_test_case():
    """Return ``(X, Y, mini_batch_size)``: 148 examples of 12,288 features, batches of 64.

    The function's default ``seed=0`` completes the case.
    """
    np.random.seed(1)
    X = np.random.randn(12288, 148)
    Y = np.random.randn(1, 148) < 0.5
    return X, Y, 64


def initialize_velocity_test_case():
    """Return ``parameters``."""
    return _parameters_and_grads()[0]


def update_parameters_with_momentum_test_case():
    """Return ``(parameters, grads, v, beta, learning_rate)`` with zero velocity."""
    parameters, grads = _parameters_and_grads()
    return parameters, grads, _zeros_like_grads(parameters), MOMENTUM_BETA, LEARNING_RATE


def initialize_adam_test_case():
    """Return ``parameters``."""
    return _parameters_and_grads()[0]


def update_parameters_with_adam_test_case():
    """Return ``(parameters, grads, v, s, t)`` with zero moments and t = 2; other arguments default."""
    parameters, grads = _parameters_and_grads()
    return parameters, grads, _zeros_like_grads(parameters), _zeros_like_grads(parameters), ADAM_STEP
