"""The visible checks students run in the notebook, and how results are printed.

The expected outputs come from ``expected_outputs.json`` beside this file, which the kit's build
step renders from the reference solution; nothing here is typed by hand.
"""

import json
from pathlib import Path

import numpy as np

from .compare import expect_array, expect_dict, expect_tuple
from .feedback import CheckFailed, Mistake

EXPECTED_FILE = Path(__file__).resolve().parent / "expected_outputs.json"

RESULT_NAMES = {
    "update_parameters_with_gd": ("parameters",),
    "random_mini_batches": ("mini_batches",),
    "initialize_velocity": ("v",),
    "update_parameters_with_momentum": ("parameters", "v"),
    "initialize_adam": ("v", "s"),
    "update_parameters_with_adam": ("parameters", "v", "s"),
}


def load_expected(path=EXPECTED_FILE):
    """The expected results of the visible test cases, as arrays."""
    raw = json.loads(Path(path).read_text())
    return {function: _arrays(value) for function, value in raw.items()}


def _arrays(value):
    if isinstance(value, dict) and "__array__" in value:
        return np.array(value["__array__"], dtype=value["dtype"])
    if isinstance(value, dict):
        return {key: _arrays(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_arrays(item) for item in value]
    return value


def check_visible(function, *results):
    """Compare the results of `function` on its visible test case with the expected ones.

    Prints ``All visible checks passed`` or raises `CheckFailed` saying what differs.
    """
    try:
        expect_visible(function, *results)
    except Mistake as mistake:
        raise CheckFailed(function, f"{mistake} (visible test case)") from None
    print(f"✓ {function}: all visible checks passed")


def expect_visible(function, *results):
    """Raise `Mistake` unless `results` are `function`'s expected results on its visible test case."""
    expected = load_expected()[function]
    if function == "random_mini_batches":
        _check_mini_batches(results[0], expected)
    else:
        for name, actual in zip(RESULT_NAMES[function], results):
            expect_dict(actual, expected[name], name)


def _check_mini_batches(batches, expected):
    if not isinstance(batches, (list, tuple)):
        raise Mistake(f"should return a list of mini-batches, not a {type(batches).__name__}")
    if len(batches) != len(expected["shapes"]):
        raise Mistake(f"returned {len(batches)} mini-batches; expected {len(expected['shapes'])}")
    for i, (pair, shapes, sums) in enumerate(zip(batches, expected["shapes"], expected["sums"])):
        X, Y = expect_tuple(pair, ("mini_batch_X", "mini_batch_Y"))
        for name, array, shape, total in (("mini_batch_X", X, shapes[0], sums[0]), ("mini_batch_Y", Y, shapes[1], sums[1])):
            if type(array) is not np.ndarray:
                raise Mistake(f"{name} of mini-batch {i} should be a numpy array, not a {type(array).__name__}")
            if list(array.shape) != list(shape):
                raise Mistake(f"{name} of mini-batch {i} has shape {array.shape}; expected {tuple(shape)}")
            if not np.isclose(float(np.sum(array)), total, rtol=1e-9, atol=1e-6):
                raise Mistake(f"{name} of mini-batch {i} holds other examples than expected")
    expect_array(batches[0][0][0, :3], expected["first_X_values"], "mini_batches[0][0][0, :3]")


def show(**results):
    """Print dicts of arrays (``show(parameters=parameters, v=v)``) one entry at a time."""
    for name, result in results.items():
        for key, value in result.items():
            print(f'{name}["{key}"] =\n{value}')


def show_mini_batches(mini_batches):
    """Print the shape of every mini-batch and a few values of the first one."""
    for i, (X, Y) in enumerate(mini_batches):
        print(f"mini-batch {i}: X {X.shape}, Y {Y.shape}")
    print(f"first three values of the first row of mini-batch 0: {mini_batches[0][0][0, :3]}")
