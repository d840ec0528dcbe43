"""Regenerate the kit's cells of an assignment's source notebook from its reference and hidden checks.

Cells the kit owns carry ``metadata.kit.role``. For each graded function the author places one
``solution`` cell; the build rewrites it from the reference source and puts after it the visible
test cell, the expected output and one hidden test cell per aspect. A cell whose role is one of
the assignment's ``generated_cells`` (Optimization Methods' ``training_code``) is rewritten by
it. Every other cell is the author's and is left as it is.
"""

import ast
import inspect
import textwrap

import nbformat

from autograder.grade_ids import answer_id, expected_output_id, visible_id

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


def solution_source(reference, function):
    """The reference function with its body between nbgrader's solution delimiters."""
    source = textwrap.dedent(inspect.getsource(getattr(reference, function)))
    definition = ast.parse(source).body[0]
    docstring_end = definition.body[0].end_lineno  # the docstring is the first statement
    lines = source.rstrip("\n").split("\n")
    return "\n".join(lines[:docstring_end] + ["    ### BEGIN SOLUTION"] + lines[docstring_end:]
                     + ["    ### END SOLUTION"])


def hidden_test_source(assignment, aspect):
    """A hidden test cell: the grader judges it outside the kernel; plain nbgrader runs it."""
    return "\n".join([
        f"# Hidden tests of {aspect.function}: {aspect.title} ({aspect.points} points)",
        "### BEGIN HIDDEN TESTS",
        "from autograder.assignments import run_check",
        f'run_check("{assignment.name}", "{aspect.function}", "{aspect.name}", globals())',
        "### END HIDDEN TESTS",
    ])


def function_cells(assignment, function):
    """The solution cell of `function` and the generated cells that follow it."""
    release = assignment.release
    cells = [
        _cell("code", solution_source(release.reference, function), answer_id(function), "solution", function,
              _nbgrader(answer_id(function), solution=True)),
        _cell("code", release.visible_test_source(function), visible_id(function), "visible_test", function,
              _nbgrader(visible_id(function), grade=True, locked=True, points=assignment.visible_points[function]),
              MAY_RAISE),
        _cell("markdown", release.expected_output_source(function), expected_output_id(function), "expected_output",
              function, _nbgrader(expected_output_id(function), locked=True)),
    ]
    for aspect in assignment.aspects_of(function):
        cells.append(_cell("code", hidden_test_source(assignment, aspect), aspect.grade_id, "hidden_test", function,
                           _nbgrader(aspect.grade_id, grade=True, locked=True, points=aspect.points)))
    return cells


def render(assignment, notebook):
    """Return `notebook` with every kit cell of `assignment` regenerated; raise if a graded
    function has no solution cell."""
    cells, seen = [], []
    for cell in notebook.cells:
        role = cell.metadata.get("kit", {}).get("role")
        if role in GENERATED_AFTER_SOLUTION:
            continue
        if role == "solution":
            function = cell.metadata["kit"]["function"]
            seen.append(function)
            cells.extend(function_cells(assignment, function))
        elif role in assignment.release.generated_cells:
            cells.append(_cell("code", assignment.release.generated_cells[role](), role, role,
                               nbgrader=_nbgrader(role, locked=True)))
        else:
            cells.append(cell)
    missing = [f for f in assignment.functions if f not in seen]
    if missing or len(seen) != len(set(seen)):
        raise ValueError(f"the source notebook needs exactly one solution cell per graded function; "
                         f"missing {missing}, found {seen}")
    notebook.cells = cells
    return notebook
