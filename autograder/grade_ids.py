"""The ``grade_id`` of every cell the kit puts in the notebook, built and read here only.

nbgrader names each cell it tracks by its ``grade_id``; the gradebook, the ledger's scores and
messages, the feedback and the exports are keyed by it. The kit's cells are named:

- ``<function>``: a graded function's answer cell;
- ``test_<function>_visible``: its visible test cell;
- ``test_<function>_<aspect>``: one hidden test cell per aspect of the assignment (its ``aspects``);
- ``expected_<function>``: the expected output shown after the visible test;
- ``training_code``: the training loop.

Function and aspect names both contain underscores, so a test cell's id is read back against the
known graded functions of its assignment (`parse_grade_id`), never split on ``_``.
"""

TEST_PREFIX = "test_"
VISIBLE = "visible"  # the aspect name of a function's visible test cell
TRAINING_CODE = "training_code"


def cell_grade_id(cell):
    """A notebook cell's grade_id (``metadata.nbgrader.grade_id``), or None when it has none."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def answer_id(function):
    """The grade_id of `function`'s answer (solution) cell: the function's own name."""
    return function


def grade_id(function, aspect):
    """The grade_id of a test cell of a graded function.

    Parameters
    ----------
    function : str
        The graded function's name, e.g. ``"update_parameters_with_adam"``.
    aspect : str
        A hidden aspect's name (``Aspect.name``), or `VISIBLE` for the visible test cell.

    Returns
    -------
    str
        ``test_<function>_<aspect>``.
    """
    return f"{TEST_PREFIX}{function}_{aspect}"


def visible_id(function):
    """The grade_id of `function`'s visible test cell (``test_<function>_visible``)."""
    return grade_id(function, VISIBLE)


def expected_output_id(function):
    """The grade_id of the expected-output cell shown after `function`'s visible test."""
    return f"expected_{function}"


def parse_grade_id(text, functions):
    """The (function, aspect) of a test cell's grade_id, the inverse of `grade_id`.

    Parameters
    ----------
    text : str
        A cell's grade_id.
    functions : iterable of str
        The graded functions it may belong to (its assignment's ``functions``). Where two would
        match (one name a prefix of the other followed by ``_``), the longer wins.

    Returns
    -------
    tuple of (str, str) or None
        ``(function, aspect)``, the aspect possibly `VISIBLE`; None when `text` is not
        ``test_<function>_<aspect>`` for one of `functions`. Whether the aspect is registered
        is not checked here (see the assignment's ``aspects``).
    """
    for function in sorted(functions, key=len, reverse=True):
        prefix = grade_id(function, "")
        if text.startswith(prefix):
            return function, text[len(prefix):]
    return None


def is_visible(text, functions):
    """Whether `text` is the grade_id of the visible test cell of one of `functions`."""
    parsed = parse_grade_id(text, functions)
    return parsed is not None and parsed[1] == VISIBLE
