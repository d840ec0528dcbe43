"""A student's self-check: nbgrader's Validator reports which visible tests fail, and why."""

import re
import shutil

import nbformat
import pytest
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

from course import REPO, release_notebook, solved_notebook, with_answer
from autograder.assignments.optimization_methods.sample_class import WRONG

pytestmark = pytest.mark.slow


def validate(tmp_path, notebook):
    """Validate `notebook` as a student would, in a copy of the released folder."""
    folder = tmp_path / "optimization_methods"
    shutil.copytree(REPO / "release" / "optimization_methods", folder)
    path = folder / "optimization_methods.ipynb"
    nbformat.write(notebook, path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    return Validator(config=config).validate(str(path))


def test_solved_notebook_passes(tmp_path):
    assert validate(tmp_path, solved_notebook()) == {}


def test_a_wrong_answer_is_reported_with_the_reason(tmp_path):
    variant = next(v for v in WRONG if v.id == "update_parameters_with_adam-no_bias_correction")
    result = validate(tmp_path, with_answer(solved_notebook(), variant.function, variant.source))
    [failed] = result["failed"]
    assert failed["source"].startswith("parameters, grads, v, s, t = update_parameters_with_adam_test_case()")
    error = re.sub(r"\x1b\[[0-9;]*m", "", failed["raw_error"])
    assert error == ("✗ update_parameters_with_adam: parameters['W1'] has the right shape but wrong values "
                     "(visible test case)")


def test_untouched_release_reports_every_visible_test(tmp_path):
    result = validate(tmp_path, release_notebook())
    assert len(result["failed"]) == 6
    assert all("NotImplementedError" in failed["raw_error"] for failed in result["failed"])
