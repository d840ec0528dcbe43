"""Hidden tests of update_parameters_with_adam.

Moments, bias correction and the placement of ε are graded separately. The parameter step is
checked against the moments the student's own function returned, so wrong moments cost only
the moments' points. Hyperparameters differ from the defaults, so hard-coded values show.
"""

import numpy as np

from opt_utils.compare import expect_tuple, same_structure, values_close

from solutions import update_parameters_with_adam as reference

from . import aspect
from .cases import FOUR_LAYERS, TWO_LAYERS, copied, network, per_array, per_key, state_like, zeros_like
from .diagnosis import alternatives, expect_dict_or_diagnose

FUNCTION = "update_parameters_with_adam"
LEARNING_RATE, BETA1, BETA2 = 0.02, 0.8, 0.95

FIRST_MOMENT_MISTAKES = [
    ("leaves out the (1 − β1) factor of the first moment: v = β1·v + (1 − β1)·dW",
     lambda v, g, b1, b2, t: b1 * v + g),
    ("uses beta2 for the first moment: v = β1·v + (1 − β1)·dW", lambda v, g, b1, b2, t: b2 * v + (1 - b2) * g),
    ("stores the bias-corrected value in v: keep v uncorrected and compute v̂ = v / (1 − β1^t) separately",
     lambda v, g, b1, b2, t: (b1 * v + (1 - b1) * g) / (1 - b1 ** t)),
    ("uses 0.9 instead of the beta1 argument", lambda v, g, b1, b2, t: 0.9 * v + 0.1 * g),
    ("has an operator-precedence slip in the first moment: write (1 - beta1) * dW with parentheses",
     lambda v, g, b1, b2, t: b1 * v + 1 - b1 * g),
    ("ignores the previous first moment: v = β1·v + (1 − β1)·dW", lambda v, g, b1, b2, t: (1 - b1) * g),
]
SECOND_MOMENT_MISTAKES = [
    ("the second moment needs the squared gradient: s = β2·s + (1 − β2)·dW²",
     lambda s, g, b1, b2, t: b2 * s + (1 - b2) * g),
    ("squares the whole moment instead of the gradient: s = β2·s + (1 − β2)·dW²",
     lambda s, g, b1, b2, t: (b2 * s + (1 - b2) * g) ** 2),
    ("uses |dW| instead of dW² in the second moment", lambda s, g, b1, b2, t: b2 * s + (1 - b2) * np.abs(g)),
    ("uses beta1 for the second moment: s = β2·s + (1 − β2)·dW²", lambda s, g, b1, b2, t: b1 * s + (1 - b1) * g ** 2),
    ("leaves out the (1 − β2) factor of the second moment: s = β2·s + (1 − β2)·dW²",
     lambda s, g, b1, b2, t: b2 * s + g ** 2),
    ("stores the bias-corrected value in s: keep s uncorrected and compute ŝ = s / (1 − β2^t) separately",
     lambda s, g, b1, b2, t: (b2 * s + (1 - b2) * g ** 2) / (1 - b2 ** t)),
    ("uses 0.999 instead of the beta2 argument", lambda s, g, b1, b2, t: 0.999 * s + 0.001 * g ** 2),
    ("has an operator-precedence slip in the second moment: write (1 - beta2) * dW**2 with parentheses",
     lambda s, g, b1, b2, t: b2 * s + 1 - b2 * g ** 2),
]


def _adam_update(v_hat, s_hat):
    """A parameter-step rule from the bias-corrected moments, with ε after the root."""
    return lambda W, v, s, t, lr, b1, b2, eps: W - lr * v_hat(v, b1, t) / (np.sqrt(s_hat(s, b2, t)) + eps)


def _corrected(beta_power):
    return lambda m, beta, t: m / (1 - beta_power(beta, t))


RIGHT = _corrected(lambda beta, t: beta ** t)

BIAS_CORRECTION_MISTAKES = [
    ("leaves out the bias correction: v̂ = v / (1 − β1^t) and ŝ = s / (1 − β2^t)",
     _adam_update(lambda v, b, t: v, lambda s, b, t: s)),
    ("the bias correction uses β1 instead of β1^t (and β2 instead of β2^t): raise β to the power t",
     _adam_update(_corrected(lambda b, t: b), _corrected(lambda b, t: b))),
    ("the bias correction computes (1 − β)^t instead of 1 − β^t", _adam_update(
        lambda v, b, t: v / (1 - b) ** t, lambda s, b, t: s / (1 - b) ** t)),
    ("the bias correction uses a fixed step (t = 2) instead of the argument t",
     _adam_update(_corrected(lambda b, t: b ** 2), _corrected(lambda b, t: b ** 2))),
    ("the bias correction divides by 1 + β^t instead of 1 − β^t",
     _adam_update(lambda v, b, t: v / (1 + b ** t), lambda s, b, t: s / (1 + b ** t))),
    ("the bias correction uses the power t + 1 instead of t: t counts from 1 at the first step",
     _adam_update(_corrected(lambda b, t: b ** (t + 1)), _corrected(lambda b, t: b ** (t + 1)))),
    ("the bias correction uses the power t − 1 instead of t: t counts from 1 at the first step",
     _adam_update(_corrected(lambda b, t: b ** (t - 1)), _corrected(lambda b, t: b ** (t - 1)))),
    ("multiplies by (1 − β^t) instead of dividing by it in the bias correction",
     _adam_update(lambda v, b, t: v * (1 - b ** t), lambda s, b, t: s * (1 - b ** t))),
    ("divides by √s instead of √ŝ: correct the second moment too, ŝ = s / (1 − β2^t)",
     _adam_update(RIGHT, lambda s, b, t: s)),
    ("steps with v instead of v̂: correct the first moment too, v̂ = v / (1 − β1^t)",
     _adam_update(lambda v, b, t: v, RIGHT)),
    ("uses the first-moment correction (β1) for the second moment as well",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * (v / (1 - b1 ** t)) / (np.sqrt(s / (1 - b1 ** t)) + eps)),
]


def _hat(v, s, t, b1, b2):
    return v / (1 - b1 ** t), s / (1 - b2 ** t)


EPSILON_MISTAKES = [
    ("adds ε inside the square root: the step is α·v̂ / (√ŝ + ε), with ε added after the root",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * _hat(v, s, t, b1, b2)[0] / np.sqrt(_hat(v, s, t, b1, b2)[1] + eps)),
    ("adds ε to the parameters instead of the denominator: write (np.sqrt(s_hat) + epsilon) in parentheses",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * _hat(v, s, t, b1, b2)[0] / np.sqrt(_hat(v, s, t, b1, b2)[1]) + eps),
    ("subtracts ε from the parameters instead of adding it to the denominator: write "
     "(np.sqrt(s_hat) + epsilon) in parentheses",
     lambda W, v, s, t, lr, b1, b2, eps: W - (lr * _hat(v, s, t, b1, b2)[0] / np.sqrt(_hat(v, s, t, b1, b2)[1]) + eps)),
    ("leaves ε out of the denominator: the step is α·v̂ / (√ŝ + ε)",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * _hat(v, s, t, b1, b2)[0] / np.sqrt(_hat(v, s, t, b1, b2)[1])),
    ("uses 1e-8 instead of the epsilon argument",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * _hat(v, s, t, b1, b2)[0] / (np.sqrt(_hat(v, s, t, b1, b2)[1]) + 1e-8)),
    ("adds ε to s before the bias correction and the root: the step is α·v̂ / (√ŝ + ε)",
     lambda W, v, s, t, lr, b1, b2, eps: W - lr * _hat(v, s, t, b1, b2)[0] / np.sqrt((s + eps) / (1 - b2 ** t))),
]


def _step(student, shapes, seed, t, epsilon=1e-8, grad_scale=1.0, state_scale=0.5, learning_rate=LEARNING_RATE,
          beta1=BETA1, beta2=BETA2):
    parameters = network(shapes, seed)
    grads = state_like(parameters, seed + 1, grad_scale)
    v = state_like(parameters, seed + 2, state_scale * grad_scale)
    s = {key: np.abs(value) for key, value in state_like(parameters, seed + 3, state_scale * grad_scale ** 2).items()}
    before = {"parameters": copied(parameters), "grads": copied(grads), "v": copied(v), "s": copied(s)}
    expected = reference(copied(parameters), copied(grads), copied(v), copied(s), t, learning_rate, beta1, beta2, epsilon)
    result = expect_tuple(student(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon),
                          ("parameters", "v", "s"))
    return result, expected, before


def _valid_moments(result, expected):
    """The student's moments when they are usable to judge the step, else the right ones."""
    _, v, s = result
    _, expected_v, expected_s = expected
    if same_structure(v, expected_v) and same_structure(s, expected_s) and all(
            np.all(np.isfinite(v[k])) and np.all(s[k] >= 0) for k in expected_v):
        return v, s
    return expected_v, expected_s


def _check_moments(result, expected, before, t, beta1, beta2):
    _, v, s = result
    _, expected_v, expected_s = expected
    expect_dict_or_diagnose(v, expected_v, "v", alternatives(FIRST_MOMENT_MISTAKES, lambda rule: per_key(
        lambda vv, g: rule(vv, g, beta1, beta2, t), before["v"], before["grads"])), before["v"])
    expect_dict_or_diagnose(s, expected_s, "s", alternatives(SECOND_MOMENT_MISTAKES, lambda rule: per_key(
        lambda ss, g: rule(ss, g, beta1, beta2, t), before["s"], before["grads"])), before["s"])


def _check_step(result, expected, before, mistakes, *hyperparameters):
    """Check the parameters against the student's own moments, naming a known mistake.

    `hyperparameters` are (t, learning_rate, beta1, beta2, epsilon).
    """
    v_used, s_used = _valid_moments(result, expected)
    right = per_array(lambda W, vv, ss: _adam_update(RIGHT, RIGHT)(W, vv, ss, *hyperparameters),
                      before["parameters"], v_used, s_used)
    named = alternatives(mistakes, lambda rule: per_array(lambda W, vv, ss: rule(W, vv, ss, *hyperparameters),
                                                          before["parameters"], v_used, s_used))
    expect_dict_or_diagnose(result[0], right, "parameters", named, before["parameters"])


@aspect(FUNCTION, "moments", 6, "the first and second moments v and s")
def moments(student):
    t = 3
    result, expected, before = _step(student, TWO_LAYERS, 100, t)
    _check_moments(result, expected, before, t, BETA1, BETA2)


@aspect(FUNCTION, "bias_correction", 7, "the bias-corrected moments v̂ and ŝ drive the step, at every t")
def bias_correction(student):
    for seed, t in ((120, 4), (130, 25), (110, 1)):
        result, expected, before = _step(student, TWO_LAYERS, seed, t)
        _check_step(result, expected, before, BIAS_CORRECTION_MISTAKES, t, LEARNING_RATE, BETA1, BETA2, 1e-8)


def _corrected_otherwise(result, expected, before, *hyperparameters):
    """True when the step is right but for a known bias-correction mistake, with ε after the root:
    the bias correction has an aspect of its own, so it costs no ε points."""
    v_used, s_used = _valid_moments(result, expected)
    params = result[0]
    for _, rule in BIAS_CORRECTION_MISTAKES:
        step = per_array(lambda W, vv, ss: rule(W, vv, ss, *hyperparameters), before["parameters"], v_used, s_used)
        if same_structure(params, step) and all(values_close(params[k], step[k]) for k in step):
            return True
    return False


@aspect(FUNCTION, "epsilon", 7, "ε is added after the square root, with tiny gradients and with a large ε")
def epsilon(student):
    for seed, t, eps, grad_scale in ((140, 1, 1e-8, 1e-9), (150, 3, 0.5, 1.0), (160, 2, 1e-3, 1e-4)):
        result, expected, before = _step(student, TWO_LAYERS, seed, t, eps, grad_scale)
        hyperparameters = (t, LEARNING_RATE, BETA1, BETA2, eps)
        if _corrected_otherwise(result, expected, before, *hyperparameters):
            continue
        _check_step(result, expected, before, EPSILON_MISTAKES + BIAS_CORRECTION_MISTAKES, *hyperparameters)


@aspect(FUNCTION, "deep_network", 6, "three steps in a row on a four-layer network, default hyperparameters")
def deep_network(student):
    parameters = network(FOUR_LAYERS, 170)
    v, s = zeros_like(parameters), zeros_like(parameters)
    for t in (1, 2, 3):
        grads = state_like(parameters, 170 + t)
        before = {"parameters": copied(parameters), "grads": copied(grads), "v": copied(v), "s": copied(s)}
        expected = reference(copied(parameters), copied(grads), copied(v), copied(s), t)
        result = expect_tuple(student(parameters, grads, v, s, t), ("parameters", "v", "s"))
        _check_moments(result, expected, before, t, 0.9, 0.999)
        _check_step(result, expected, before, EPSILON_MISTAKES + BIAS_CORRECTION_MISTAKES, t, 0.01, 0.9, 0.999, 1e-8)
        parameters, v, s = result
