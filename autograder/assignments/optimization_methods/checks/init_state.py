"""Hidden tests of initialize_velocity and initialize_adam."""

import numpy as np

from opt_utils.compare import expect_tuple
from opt_utils.feedback import Mistake

from autograder.judge.wire import shares_memory

from . import aspect
from .cases import FOUR_LAYERS, copied, network, zeros_like
from .diagnosis import expect_dict_or_diagnose


def _check_zeros(state, parameters, name):
    """`state` must be zeros under dW_l / db_l shaped like W_l / b_l; name the usual slips."""
    if isinstance(state, dict):
        if any(key in state for key in parameters):
            raise Mistake(f"{name} uses the parameter keys ('W1', …): its keys are the gradient keys "
                          "'dW1', 'db1', …")
        if "dW0" in state or "db0" in state:
            raise Mistake(f"{name} has a layer 0: layers are numbered 1 … L, so use l + 1 "
                          "when the loop runs over range(L)")
        last = len(parameters) // 2
        if f"dW{last}" not in state and f"dW{last - 1}" in state:
            raise Mistake(f"{name} has no entry for the last layer {last}: does your loop reach layer L?")
        for key, value in parameters.items():
            entry = state.get("d" + key)
            if key.startswith("b") and isinstance(entry, np.ndarray) and entry.shape == parameters["W" + key[1:]].shape:
                raise Mistake(f"{name}['d{key}'] is shaped like W{key[1:]}: the bias entries need zeros "
                              f"shaped like b{key[1:]}, {value.shape}")
    expect_dict_or_diagnose(state, zeros_like(parameters), name)


def _check_no_aliasing(state, parameters, name):
    for key, value in state.items():
        for pkey, param in parameters.items():
            if isinstance(value, np.ndarray) and shares_memory(value, param):
                raise Mistake(f"{name}[{key!r}] shares its memory with parameters[{pkey!r}]: create new "
                              "arrays of zeros (np.zeros), so updating one does not change the other")


def _velocity(student, seed):
    parameters = network(FOUR_LAYERS, seed)
    original = copied(parameters)
    (v,) = expect_tuple(student(parameters), ("v",))
    return v, parameters, original


def _adam_state(student, seed):
    parameters = network(FOUR_LAYERS, seed)
    original = copied(parameters)
    v, s = expect_tuple(student(parameters), ("v", "s"))
    return v, s, parameters, original


def _parameters_untouched(parameters, original):
    for key in original:
        if not np.array_equal(parameters[key], original[key]):
            raise Mistake(f"changes parameters[{key!r}]: it should only read the parameters")


@aspect("initialize_velocity", "deep_network", 4, "zeros shaped like every W and b of a four-layer network")
def velocity_deep_network(student):
    v, parameters, _ = _velocity(student, 40)
    _check_zeros(v, parameters, "v")


@aspect("initialize_velocity", "new_arrays", 4, "new arrays of floats that leave the parameters untouched")
def velocity_new_arrays(student):
    v, parameters, original = _velocity(student, 41)
    _parameters_untouched(parameters, original)
    _check_zeros(v, original, "v")
    _check_no_aliasing(v, parameters, "v")


@aspect("initialize_adam", "deep_network", 4, "v and s hold zeros shaped like every W and b of a four-layer network")
def adam_deep_network(student):
    v, s, parameters, _ = _adam_state(student, 50)
    _check_zeros(v, parameters, "v")
    _check_zeros(s, parameters, "s")


@aspect("initialize_adam", "separate_moments", 4, "v and s are separate dicts of new arrays")
def adam_separate_moments(student):
    v, s, parameters, original = _adam_state(student, 51)
    _parameters_untouched(parameters, original)
    if v is s:
        raise Mistake("returns the same dict as v and as s: the two moments need a dict each, "
                      "or updating one overwrites the other")
    for name, state in (("v", v), ("s", s)):
        _check_zeros(state, original, name)
        _check_no_aliasing(state, parameters, name)
    for key in v:
        if shares_memory(v[key], s[key]):
            raise Mistake(f"v[{key!r}] and s[{key!r}] are the same array: give each moment arrays of its own")
