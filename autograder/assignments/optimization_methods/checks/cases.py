"""Hidden inputs: built from fixed seeds of private generators, never from numpy's global state."""

import numpy as np

TWO_LAYERS = [(4, 3), (2, 4)]
FOUR_LAYERS = [(4, 3), (5, 4), (3, 5), (1, 3)]


def network(shapes, seed, scale=1.0):
    """Parameters ``W_l`` (n, n_prev) and ``b_l`` (n, 1) for each (n, n_prev) in `shapes`."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for l, (n, n_prev) in enumerate(shapes, start=1):
        parameters[f"W{l}"] = scale * rng.standard_normal((n, n_prev))
        parameters[f"b{l}"] = scale * rng.standard_normal((n, 1))
    return parameters


def state_like(parameters, seed, scale=1.0):
    """A gradients-like dict (``dW_l``, ``db_l``) of random values shaped like `parameters`."""
    rng = np.random.default_rng(seed)
    return {"d" + key: scale * rng.standard_normal(value.shape) for key, value in parameters.items()}


def zeros_like(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}


def copied(d):
    """A deep copy of a dict of arrays, so a student's in-place update cannot touch it."""
    return {key: value.copy() for key, value in d.items()}


def per_array(rule, parameters, *states):
    """Apply `rule(W, *state arrays)` to every parameter; return the dict of results."""
    return {key: rule(value, *(state["d" + key] for state in states)) for key, value in parameters.items()}


def per_key(rule, first, *others):
    """Apply `rule` to the arrays of dicts that share their keys (``v`` and ``grads``, say)."""
    return {key: rule(value, *(other[key] for other in others)) for key, value in first.items()}
