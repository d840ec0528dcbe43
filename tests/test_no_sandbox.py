"""Where the sandbox cannot be set up, autograder grade refuses, unless told --no-sandbox, which is recorded."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import autograder.sandbox.policy
from autograder.cli import main
from autograder.sandbox.policy import SandboxUnavailable
from course import make_course, solved_notebook, submit

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimization_methods"
MISSING = "the grading sandbox cannot be set up here: namespaces: unshare user, mount, pid, network: Operation not permitted"


@pytest.fixture
def course(tmp_path, monkeypatch):
    def unavailable():
        raise SandboxUnavailable(MISSING)
    monkeypatch.setattr(autograder.sandbox.policy, "check_available", unavailable)
    course = make_course(tmp_path / "course")
    submit(course, "alice", solved_notebook())
    return course


def test_grading_refuses_and_says_what_is_missing(course):
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--no-progress"])
    assert run.exit_code != 0
    assert MISSING in run.output and "--no-sandbox" in run.output
    assert not (course / ".autograder" / ASSIGNMENT / "results").is_dir()


def test_no_sandbox_grades_with_trusted_verdicts_and_records_it(course):
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--no-progress", "--no-sandbox"])
    assert run.exit_code == 0, run.output
    assert "WITHOUT the sandbox" in run.output
    work = course / ".autograder" / ASSIGNMENT
    result = json.loads((work / "results" / "alice.json").read_text())
    assert (result["status"], sum(result["scores"].values()), result["sandboxed"]) == ("graded", 100, False)
    rows = list(csv.DictReader((work / "grade-manifest.csv").open()))
    assert [(r["student"], r["sandbox"]) for r in rows] == [("alice", "no (--no-sandbox)")]
    assert CliRunner().invoke(main, ["--course", str(course), "report", ASSIGNMENT]).exit_code == 0
    assert "Graded without the sandbox" in (course / "reports" / f"{ASSIGNMENT}.html").read_text()


def test_an_unsandboxed_kernel_leaves_no_folder_behind(course, monkeypatch):
    """Each unsandboxed kernel gets an IPython folder of its own (its start-up files, its call
    socket); it is removed when the kernel ends, not when the worker's scratch folder is."""
    import tempfile

    from autograder.course import Course
    from autograder.grade.autograde import Autograder
    # Short, as a worker's scratch folder is: the kernel's call socket lives in it, and a unix
    # socket's path holds at most 107 bytes (pytest's tmp_path under xdist can be longer).
    scratch = Path(tempfile.mkdtemp(prefix="kit-ns-"))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    grader = Autograder(str(course), Course.open(course).course_id, ASSIGNMENT, f"{ASSIGNMENT}.ipynb", str(course / "gradebook.db"),
                        sandboxed=False)
    try:
        for _ in range(2):
            notebook, scores, warnings = grader.grade(solved_notebook(), "alice")
            assert sum(scores.values()) == 100, (warnings, [o for c in notebook.cells for o in c.get("outputs", [])
                                                            if o.get("output_type") == "error"][:3])
    finally:
        grader.close()
        left = sorted(path.name for path in scratch.iterdir())
        shutil.rmtree(scratch, ignore_errors=True)
    assert left == []


@pytest.mark.parametrize("require", [False, True])
def test_gradescope_follows_the_same_rule(course, tmp_path, require):
    """On a platform that allows no sandbox, a Gradescope zip grades without one and says so;
    built with --require-sandbox it grades nothing and says why (`policy.grading_sandbox`)."""
    import zipfile

    import nbformat

    from autograder.gradescope import grade_submission
    out = tmp_path / "zip.zip"
    arguments = ["--course", str(course), "gradescope", ASSIGNMENT, "--out", str(out)]
    run = CliRunner().invoke(main, arguments + (["--require-sandbox"] if require else []))
    assert run.exit_code == 0, run.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    nbformat.write(solved_notebook(), root / "submission" / f"{ASSIGNMENT}.ipynb")
    results = grade_submission(root)
    assert results["extra_data"] == {"sandbox": False}
    if require:
        assert results["score"] == 0 and results["tests"] == [], results
        assert MISSING in results["output"] and "the instructor requires one" in results["output"]
    else:
        assert results["score"] == 100 and "allowed no grading sandbox" in results["output"], results
