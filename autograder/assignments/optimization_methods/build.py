"""What the build writes for Optimization Methods besides the solution cells: the visible test
cells, their expected outputs (computed with the reference solution), the training code cell and
``opt_utils/expected_outputs.json``."""

import ast
import contextlib
import inspect
import io
import json
from pathlib import Path

import numpy as np

import solutions
import solutions.training
from opt_utils.visible import RESULT_NAMES, show, show_mini_batches

SUPPORT_PACKAGE = "opt_utils"
EXPECTED_OUTPUTS = Path(SUPPORT_PACKAGE) / "expected_outputs.json"


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


def write_expected_outputs(root):
    """Write `EXPECTED_OUTPUTS` under the repository's `root`."""
    (Path(root) / EXPECTED_OUTPUTS).write_text(expected_outputs_json())


def visible_test_source(function):
    """The visible test cell of `function`: call it on its visible case, show, check."""
    names, _ = visible_call(function)
    results = RESULT_NAMES[function]
    lines = [f"{', '.join(names)} = {function}_test_case()",
             f"{', '.join(results)} = {function}({', '.join(names)})"]
    if function == "random_mini_batches":
        lines.append("show_mini_batches(mini_batches)")
    else:
        lines.append(f"show({', '.join(f'{name}={name}' for name in results)})")
    lines.append(f'check_visible("{function}", {", ".join(results)})')
    return "\n".join(lines)


def expected_output_source(function):
    """The markdown cell after the visible test: what it prints for the reference."""
    printed = printed_results(function, reference_results(function))
    return f"**Expected output**\n\n```\n{printed.rstrip()}\n```"


def training_source():
    """`solutions.training` without its imports and docstring: the constants, `train` and `model`."""
    source = inspect.getsource(solutions.training)
    module = ast.parse(source)
    first = next(node for node in module.body
                 if not isinstance(node, (ast.Import, ast.ImportFrom))
                 and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    return "\n".join(source.split("\n")[first.lineno - 1:]).strip()
