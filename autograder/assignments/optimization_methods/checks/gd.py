"""Hidden tests of update_parameters_with_gd."""

from opt_utils.compare import expect_tuple

from solutions import update_parameters_with_gd as reference

from . import aspect
from .cases import FOUR_LAYERS, TWO_LAYERS, copied, network, per_array, state_like
from .diagnosis import alternatives, expect_dict_or_diagnose

FUNCTION = "update_parameters_with_gd"

MISTAKES = [
    ("moves the parameters up the gradient: subtract learning_rate * dW, do not add it",
     lambda W, dW, lr: W + lr * dW),
    ("ignores the learning rate: the step is learning_rate * dW", lambda W, dW, lr: W - dW),
    ("uses a fixed learning rate of 0.01 instead of the learning_rate argument",
     lambda W, dW, lr: W - 0.01 * dW),
    ("divides by the learning rate instead of multiplying", lambda W, dW, lr: W - dW / lr),
]


def _step(student, shapes, seed, learning_rate):
    parameters = network(shapes, seed)
    grads = state_like(parameters, seed + 1)
    original, grads_copy = copied(parameters), copied(grads)
    expected = reference(copied(parameters), copied(grads), learning_rate)
    (result,) = expect_tuple(student(parameters, grads, learning_rate), ("parameters",))
    mistakes = alternatives(MISTAKES, lambda rule: per_array(lambda W, dW: rule(W, dW, learning_rate),
                                                              original, grads_copy))
    return result, expected, original, mistakes


def _only(d, kind):
    return {key: value for key, value in d.items() if key.startswith(kind)} if isinstance(d, dict) else d


@aspect(FUNCTION, "weights", 3, "every weight matrix takes a gradient-descent step")
def weights(student):
    result, expected, original, mistakes = _step(student, TWO_LAYERS, 10, 0.3)
    expect_dict_or_diagnose(_only(result, "W"), _only(expected, "W"), "parameters",
                            [(d, _only(alt, "W")) for d, alt in mistakes], _only(original, "W"))


@aspect(FUNCTION, "biases", 3, "every bias vector takes a gradient-descent step")
def biases(student):
    result, expected, original, mistakes = _step(student, TWO_LAYERS, 20, 0.3)
    expect_dict_or_diagnose(_only(result, "b"), _only(expected, "b"), "parameters",
                            [(d, _only(alt, "b")) for d, alt in mistakes], _only(original, "b"))


@aspect(FUNCTION, "deep_network", 2, "a four-layer network is updated in every layer")
def deep_network(student):
    result, expected, original, mistakes = _step(student, FOUR_LAYERS, 30, 0.05)
    expect_dict_or_diagnose(result, expected, "parameters", mistakes, original)
