"""Hidden tests of update_parameters_with_momentum.

The velocity and the parameter step are graded separately: the step is checked against the
velocity the student's own function returned, so a wrong velocity costs only its own points.
"""

from opt_utils.compare import expect_tuple, same_structure

from solutions import update_parameters_with_momentum as reference

from . import aspect
from .cases import FOUR_LAYERS, TWO_LAYERS, copied, network, per_array, per_key, state_like
from .diagnosis import alternatives, expect_dict_or_diagnose

FUNCTION = "update_parameters_with_momentum"
BETA, LEARNING_RATE = 0.7, 0.1   # neither the usual 0.9 nor 0.01, so hard-coded values show

VELOCITY_MISTAKES = [
    ("leaves out the (1 − β) factor: v = β·v + (1 − β)·dW", lambda v, g, beta: beta * v + g),
    ("swaps β and 1 − β: v = β·v + (1 − β)·dW", lambda v, g, beta: (1 - beta) * v + beta * g),
    ("has an operator-precedence slip: write (1 - beta) * dW with parentheses",
     lambda v, g, beta: beta * v + 1 - beta * g),
    ("ignores the previous velocity: v = β·v + (1 − β)·dW", lambda v, g, beta: (1 - beta) * g),
    ("subtracts the gradient in the velocity: v = β·v + (1 − β)·dW", lambda v, g, beta: beta * v - (1 - beta) * g),
    ("uses β = 0.9 instead of the beta argument", lambda v, g, beta: 0.9 * v + 0.1 * g),
]
STEP_MISTAKES = [
    ("steps with the velocity from before this update: update v first, then W = W − α·v",
     lambda W, v_new, v_old, g, lr: W - lr * v_old),
    ("steps with the gradient instead of the velocity: W = W − α·v", lambda W, v_new, v_old, g, lr: W - lr * g),
    ("moves the parameters the wrong way: W = W − α·v", lambda W, v_new, v_old, g, lr: W + lr * v_new),
    ("ignores the learning rate: W = W − α·v", lambda W, v_new, v_old, g, lr: W - v_new),
    ("uses a fixed learning rate of 0.01 instead of the learning_rate argument",
     lambda W, v_new, v_old, g, lr: W - 0.01 * v_new),
]


def _step(student, shapes, seed, parameters=None, v=None):
    parameters = network(shapes, seed) if parameters is None else parameters
    grads = state_like(parameters, seed + 1)
    v = state_like(parameters, seed + 2, scale=0.5) if v is None else v
    before = {"parameters": copied(parameters), "grads": copied(grads), "v": copied(v)}
    expected = reference(copied(parameters), copied(grads), copied(v), BETA, LEARNING_RATE)
    result = expect_tuple(student(parameters, grads, v, BETA, LEARNING_RATE), ("parameters", "v"))
    return result, expected, before


def _check_velocity(v, expected_v, before):
    mistakes = alternatives(VELOCITY_MISTAKES, lambda rule: per_key(
        lambda v_old, g: rule(v_old, g, BETA), before["v"], before["grads"]))
    expect_dict_or_diagnose(v, expected_v, "v", mistakes, before["v"])


def _check_parameters(params, v, expected_v, before):
    # Judge the step by the student's own velocity when it is well formed.
    v_new = v if same_structure(v, expected_v) else expected_v
    expected = per_array(lambda W, vn: W - LEARNING_RATE * vn, before["parameters"], v_new)
    mistakes = alternatives(STEP_MISTAKES, lambda rule: per_array(
        lambda W, vn, vo, g: rule(W, vn, vo, g, LEARNING_RATE), before["parameters"], v_new, before["v"],
        before["grads"]))
    expect_dict_or_diagnose(params, expected, "parameters", mistakes, before["parameters"])


@aspect(FUNCTION, "velocity", 6, "the velocity is the exponentially weighted average β·v + (1 − β)·dW")
def velocity(student):
    (_, v), (_, expected_v), before = _step(student, TWO_LAYERS, 60)
    _check_velocity(v, expected_v, before)


@aspect(FUNCTION, "parameters", 6, "the parameters step by the learning rate times the new velocity")
def parameters(student):
    (params, v), (_, expected_v), before = _step(student, TWO_LAYERS, 70)
    _check_parameters(params, v, expected_v, before)


@aspect(FUNCTION, "deep_network", 5, "two steps in a row on a four-layer network")
def deep_network(student):
    parameters = network(FOUR_LAYERS, 80)
    v = state_like(parameters, 81, scale=0.0)
    for seed in (82, 84):
        (parameters, v), (_, expected_v), before = _step(student, FOUR_LAYERS, seed, parameters, v)
        _check_velocity(v, expected_v, before)
        _check_parameters(parameters, v, expected_v, before)
