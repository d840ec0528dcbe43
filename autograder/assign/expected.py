"""Expected outputs of the visible test cases, computed with the reference solution."""

import contextlib
import inspect
import io
import json

import numpy as np

import solutions
from opt_utils.visible import RESULT_NAMES, show, show_mini_batches


def visible_call(function):
    """(argument names, argument values) of `function`'s visible test case."""
    case = getattr(solutions, f"{function}_test_case")()
    values = case if isinstance(case, tuple) else (case,)
    names = list(inspect.signature(getattr(solutions, function)).parameters)[:len(values)]
    return names, values


def reference_results(function):
    """The reference's results on the visible test case, as a tuple named by `RESULT_NAMES`."""
    _, values = visible_call(function)
    result = getattr(solutions, function)(*values)
    return result if len(RESULT_NAMES[function]) > 1 else (result,)


def printed_results(function, results):
    """What the visible test cell prints for `results`."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        if function == "random_mini_batches":
            show_mini_batches(results[0])
        else:
            show(**dict(zip(RESULT_NAMES[function], results)))
    return buffer.getvalue()


def _encoded(value):
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {key: _encoded(item) for key, item in value.items()}
    return value


def expected_outputs():
    """The contents of ``opt_utils/expected_outputs.json``: every visible case's right results."""
    outputs = {}
    for function, names in RESULT_NAMES.items():
        results = reference_results(function)
        if function == "random_mini_batches":
            batches = results[0]
            outputs[function] = {
                "shapes": [[list(X.shape), list(Y.shape)] for X, Y in batches],
                "sums": [[float(np.sum(X)), float(np.sum(Y))] for X, Y in batches],
                "first_X_values": _encoded(batches[0][0][0, :3].copy()),
            }
        else:
            outputs[function] = {name: _encoded(result) for name, result in zip(names, results)}
    return outputs


def expected_outputs_json():
    return json.dumps(expected_outputs(), indent=1, sort_keys=False) + "\n"
