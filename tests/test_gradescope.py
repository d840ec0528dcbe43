"""The Gradescope zip, run here with a temporary folder standing in for /autograder."""

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from course import make_course, solved_notebook, with_answer
from autograder.assignments.optimization_methods.sample_class import WRONG

pytestmark = pytest.mark.slow
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"))
    out = course / "gradescope.zip"
    run = CliRunner().invoke(main, ["--course", str(course), "gradescope", "optimization_methods", "--out", str(out)],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output
    return out


def run_autograder(zip_path, root, notebook_name, notebook):
    """Unpack the zip as Gradescope does and run run_autograder on one submission."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    nbformat.write(notebook, root / "submission" / notebook_name)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), KIT_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


def test_zip_holds_the_scripts_the_kit_and_a_ready_course(autograder_zip):
    names = set(zipfile.ZipFile(autograder_zip).namelist())
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/requirements-gradescope.txt",
            "kit/autograder/checks/runner.py", "kit/autograder/assignments/optimization_methods/checks/adam.py",
            "kit/autograder/templates/feedback.html.j2", "course/gradebook.db", "course/nbgrader_config.py",
            "course/source/optimization_methods/optimization_methods.ipynb",
            "course/release/optimization_methods/optimization_methods.ipynb"} <= names
    assert zipfile.ZipFile(autograder_zip).getinfo("run_autograder").external_attr >> 16 & 0o111


# What grading needs, and no more: no tests, benchmarks, test tooling (the attack catalog, the
# throwaway servers) or `make demo` and its sample class (the mutation catalog).
ZIP_ENTRIES = {"setup.sh", "run_autograder", "kit", "course"}
KIT_ENTRIES = {"pyproject.toml", "requirements-gradescope.txt", "README.md", "opt_utils", "solutions", "autograder",
               "datasets"}
COURSE_ENTRIES = {"assignment.txt", "gradebook.db", "nbgrader_config.py", "source", "release"}
NOT_GRADING = {"tests", "test", "benchmarks", "samples", "attacks.py", "attack_probes.py", "catalog.py", "conftest.py",
               "postgres.py", "dask_cluster.py", "debian_root.py", "jupyterlab.py", "lab.py", "demo.py", "sample_class"}
TEST_PACKAGES = {"pytest", "pytest-xdist", "iniconfig", "pluggy", "execnet", "playwright"}


def test_zip_holds_only_what_grading_needs(autograder_zip):
    names = zipfile.ZipFile(autograder_zip).namelist()
    paths = [PurePosixPath(name) for name in names]
    assert {path.parts[0] for path in paths} == ZIP_ENTRIES
    assert {path.parts[1] for path in paths if path.parts[0] == "kit"} == KIT_ENTRIES
    assert {path.parts[1] for path in paths if path.parts[0] == "course"} == COURSE_ENTRIES
    for path in paths:
        if path.parts[0] == "kit":
            assert not NOT_GRADING & set(path.parts[1:]), path
            assert not path.name.startswith("test_") or path.parts[1:] == ("opt_utils", "test_cases.py"), path
    pins = zipfile.ZipFile(autograder_zip).read("kit/requirements-gradescope.txt").decode()
    pinned = {line.split("==")[0].lower() for line in pins.splitlines() if line and not line.startswith("#")}
    assert not pinned & TEST_PACKAGES


def imports(name, source):
    """The absolute names a module of the zip's kit imports (`name` is its path in the zip), with
    each name taken from a module as if it were a submodule."""
    package = PurePosixPath(name).parts[1:-1]  # the folder under kit/: the package of both x.py and __init__.py
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            base += node.module.split(".") if node.module else []
            yield ".".join(base)
            yield from (".".join(base + [alias.name]) for alias in node.names)


def test_nothing_in_the_zip_imports_what_it_leaves_out(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        sources = {name: archive.read(name).decode() for name in archive.namelist()
                   if name.startswith("kit/") and name.endswith(".py")}
    assert "kit/autograder/gradescope.py" in sources and "kit/autograder/demo.py" not in sources
    for name, source in sources.items():
        for imported in imports(name, source):
            assert imported.split(".")[0] not in {"pytest", "playwright", "tests", "benchmarks"}, (name, imported)
            assert not re.match(r"autograder\.(demo|samples|assignments\.\w+\.sample_class)(\.|$)", imported), (name, imported)


def test_a_wrong_answer_gets_one_test_per_function_with_its_diagnosis(autograder_zip, tmp_path):
    variant = next(v for v in WRONG if v.id == "update_parameters_with_adam-epsilon_inside_root")
    results = run_autograder(autograder_zip, tmp_path / "autograder", "optimization_methods.ipynb",
                             with_answer(solved_notebook(), variant.function, variant.source))
    assert results["score"] == 93
    assert [t["name"] for t in results["tests"]] == [
        "update_parameters_with_gd", "random_mini_batches", "initialize_velocity",
        "update_parameters_with_momentum", "initialize_adam", "update_parameters_with_adam"]
    adam = results["tests"][-1]
    assert (adam["score"], adam["max_score"], adam["status"], adam["visibility"]) == (23, 30, "failed", "visible")
    assert "adds ε inside the square root" in adam["output"]
    assert all(t["score"] == t["max_score"] for t in results["tests"][:-1])
    assert "autograder.checks" not in json.dumps(results)
    assert results["extra_data"] == {"sandbox": True}  # the same sandboxed path as autograder grade


def test_a_notebook_under_another_name_is_graded_and_said_so(autograder_zip, tmp_path):
    results = run_autograder(autograder_zip, tmp_path / "autograder", "my homework (1).ipynb", solved_notebook())
    assert results["score"] == 100
    assert results["output"].startswith("Graded my homework (1).ipynb as optimization_methods.ipynb.")
