"""Regenerate the kit's cells of the source notebook from the reference and the hidden checks.

Cells the kit owns carry ``metadata.kit.role``. For each graded function the author places one
``solution`` cell; the build rewrites it from the reference source and puts after it the visible
test cell, the expected output and one hidden test cell per aspect. A ``training_code`` cell is
rewritten from `solutions.training`. Every other cell is the author's and is left as it is.
"""

import ast
import inspect
import textwrap

import nbformat

import solutions
import solutions.training
from autograder.checks import GRADED_FUNCTIONS, aspects_of
from autograder.checks.registry import VISIBLE_POINTS
from autograder.grade_ids import TRAINING_CODE, answer_id, expected_output_id, visible_id
from opt_utils.visible import RESULT_NAMES

from .expected import printed_results, reference_results, visible_call

GENERATED_AFTER_SOLUTION = ("visible_test", "expected_output", "hidden_test")
# Jupyter's tag for a cell that may raise: Run All goes on past it, so an unfinished or wrong
# function fails its own visible test and every other exercise is still checked.
MAY_RAISE = {"tags": ["raises-exception"]}


def _nbgrader(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _cell(kind, source, cell_id, role, function=None, nbgrader=None, metadata=()):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.id = cell_id
    cell.metadata.update(metadata)
    cell.metadata["kit"] = {"role": role, **({"function": function} if function else {})}
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def solution_source(function):
    """The reference function with its body between nbgrader's solution delimiters."""
    source = textwrap.dedent(inspect.getsource(getattr(solutions, function)))
    definition = ast.parse(source).body[0]
    docstring_end = definition.body[0].end_lineno  # the docstring is the first statement
    lines = source.rstrip("\n").split("\n")
    return "\n".join(lines[:docstring_end] + ["    ### BEGIN SOLUTION"] + lines[docstring_end:]
                     + ["    ### END SOLUTION"])


def visible_test_source(function):
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
    printed = printed_results(function, reference_results(function))
    return f"**Expected output**\n\n```\n{printed.rstrip()}\n```"


def hidden_test_source(aspect):
    return "\n".join([
        f"# Hidden tests of {aspect.function}: {aspect.title} ({aspect.points} points)",
        "### BEGIN HIDDEN TESTS",
        "from autograder.checks import run_check",
        f'run_check("{aspect.function}", "{aspect.name}", globals())',
        "### END HIDDEN TESTS",
    ])


def training_source():
    """`solutions.training` without its imports and docstring: the constants, `train` and `model`."""
    source = inspect.getsource(solutions.training)
    module = ast.parse(source)
    first = next(node for node in module.body
                 if not isinstance(node, (ast.Import, ast.ImportFrom))
                 and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    return "\n".join(source.split("\n")[first.lineno - 1:]).strip()


def function_cells(function):
    """The solution cell of `function` and the generated cells that follow it."""
    cells = [
        _cell("code", solution_source(function), answer_id(function), "solution", function,
              _nbgrader(answer_id(function), solution=True)),
        _cell("code", visible_test_source(function), visible_id(function), "visible_test", function,
              _nbgrader(visible_id(function), grade=True, locked=True, points=VISIBLE_POINTS[function]),
              MAY_RAISE),
        _cell("markdown", expected_output_source(function), expected_output_id(function), "expected_output",
              function, _nbgrader(expected_output_id(function), locked=True)),
    ]
    for aspect in aspects_of(function):
        cells.append(_cell("code", hidden_test_source(aspect), aspect.grade_id, "hidden_test", function,
                           _nbgrader(aspect.grade_id, grade=True, locked=True, points=aspect.points)))
    return cells


def render(notebook):
    """Return `notebook` with every kit cell regenerated; raise if a graded function has no solution cell."""
    cells, seen = [], []
    for cell in notebook.cells:
        role = cell.metadata.get("kit", {}).get("role")
        if role in GENERATED_AFTER_SOLUTION:
            continue
        if role == "solution":
            function = cell.metadata["kit"]["function"]
            seen.append(function)
            cells.extend(function_cells(function))
        elif role == "training_code":
            cells.append(_cell("code", training_source(), TRAINING_CODE, "training_code",
                               nbgrader=_nbgrader(TRAINING_CODE, locked=True)))
        else:
            cells.append(cell)
    missing = [f for f in GRADED_FUNCTIONS if f not in seen]
    if missing or len(seen) != len(set(seen)):
        raise ValueError(f"the source notebook needs exactly one solution cell per graded function; "
                         f"missing {missing}, found {seen}")
    notebook.cells = cells
    return notebook
