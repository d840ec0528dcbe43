"""Input checks shared by the reference optimizers and the training loop.

Each check raises an error whose message names the offending key, shape or value, so that a
student (or an instructor calling the reference) learns what is wrong rather than getting a
broadcasting error three calls later.
"""

import functools
import numbers

import numpy as np


def count_layers(parameters):
    """Return the number of layers L of a parameters dict, checking its keys.

    Parameters
    ----------
    parameters : dict
        ``W1 … WL`` and ``b1 … bL``, numpy arrays.

    Returns
    -------
    int
        L, the number of layers.

    Raises
    ------
    TypeError
        If `parameters` is not a dict.
    ValueError
        If it is empty or its keys are not exactly ``W1 … WL``, ``b1 … bL``.
    """
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters must be a dict, got {type(parameters).__name__}")
    L = len(parameters) // 2
    if L and parameters.keys() == _parameter_keys(L):
        return L
    # Name what is wrong relative to the deepest layer mentioned, so a lost b2 reads as missing.
    L = max(filter(None, (_layer_of_key(key, ("W", "b")) for key in parameters)), default=0)
    expected = _parameter_keys(L)
    missing = sorted(expected - set(parameters))
    unexpected = sorted(map(str, set(parameters) - expected))
    raise ValueError(
        "parameters must hold W1 … WL and b1 … bL for layers 1 … L; "
        f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
    )


@functools.lru_cache(maxsize=32)
def layer_keys(L):
    """The (parameter key, gradient key) pairs of an L-layer network: ("W1", "dW1"), ("b1", "db1"), …"""
    return tuple((f"{kind}{l}", f"d{kind}{l}") for l in range(1, L + 1) for kind in ("W", "b"))


@functools.lru_cache(maxsize=32)
def _parameter_keys(L):
    return frozenset(key for key, _ in layer_keys(L))


def check_matches_parameters(parameters, **states):
    """Check that each state dict holds, for every parameter, an array of the same shape.

    A state is a gradients dict or an optimizer state (``v``, ``s``); its keys are the parameter
    keys with a ``d`` prefix (``dW1``, ``db1``, …). Extra keys that are not of that form
    (``dA1``, ``dZ2``, … as a backward pass may return) are allowed.

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``, numpy arrays.
    **states : dict
        The dicts to check, by the name the caller gives them (``grads=grads, v=v``); the name
        appears in the messages.

    Raises
    ------
    TypeError
        If a state is not a dict, or a parameter or state entry is not a numpy array.
    ValueError
        If a key is missing, a key names a layer the parameters do not have, or a shape differs.
    """
    L = count_layers(parameters)
    for name, state in states.items():
        if not isinstance(state, dict):
            raise TypeError(f"{name} must be a dict, got {type(state).__name__}")
    for key, dkey in layer_keys(L):
        param = parameters[key]
        if not isinstance(param, np.ndarray):
            raise TypeError(f"parameters[{key!r}] must be a numpy array, got {type(param).__name__}")
        for name, state in states.items():
            value = state.get(dkey)
            if not isinstance(value, np.ndarray):
                if dkey not in state:
                    raise ValueError(f"{name} has no {dkey!r} for parameters[{key!r}]")
                raise TypeError(f"{name}[{dkey!r}] must be a numpy array, got {type(value).__name__}")
            if value.shape != param.shape:
                raise ValueError(
                    f"{name}[{dkey!r}] has shape {value.shape} but parameters[{key!r}] has shape {param.shape}"
                )
    for name, state in states.items():
        if len(state) > 2 * L:
            for dkey in state:
                layer = _layer_of_key(dkey, ("dW", "db"))
                if layer is not None and layer > L:
                    raise ValueError(f"{name} has {dkey!r} but parameters only has layers 1 … {L}")


def _layer_of_key(key, prefixes):
    """Return l for a key ``<prefix>l`` with one of `prefixes` and l ≥ 1, else None."""
    for prefix in prefixes:
        if isinstance(key, str) and key.startswith(prefix) and key[len(prefix):].isdigit():
            layer = int(key[len(prefix):])
            return layer if layer >= 1 else None
    return None


def check_examples(X, Y):
    """Check that X (n_x, m) and Y (1, m) hold the same number of examples m.

    Returns
    -------
    int
        m, the number of examples (columns).

    Raises
    ------
    ValueError
        If X is not 2-D or has no columns, Y has more than one row, or their example counts differ.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with one column per example, got shape {X.shape}")
    m = X.shape[1]
    if Y.ndim > 2 or (Y.ndim == 2 and Y.shape[0] != 1):
        raise ValueError(f"Y must have shape (1, m), got shape {Y.shape}")
    if m == 0:
        raise ValueError("X has no examples (zero columns)")
    if Y.size != m:
        raise ValueError(
            f"X has {m} examples (columns) but Y has {Y.size}: they must match"
        )
    return m


def check_positive_integer(value, name):
    """Check that `value` is an integer of at least 1 (numpy integers allowed, bool not).

    Raises
    ------
    TypeError
        If `value` is not an integer.
    ValueError
        If it is below 1.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)
