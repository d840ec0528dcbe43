"""Adding an assignment touches no engine file: one defined only under tests/ (`assignments/clip_values`:
one graded function, two hidden aspects and a visible test) is built, released with real nbgrader,
graded by the real `autograder grade` (sandbox, trusted verdicts), exported and reported in the same
course as Optimization Methods; the course's table and page hold both."""

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import Course, CourseError
from course import REPO, make_course, solved_notebook, submit as submit_optimization, with_answer
from autograder.nbgrader_cli import run_nbgrader

pytestmark = pytest.mark.slow

PLUGINS = Path(__file__).resolve().parent / "assignments"
NAME = "clip_values"
# The course holds its plug-ins (so that a Dask bundle and a Gradescope zip carry them), named relative to it.
PLUGIN_LINE = "\nc.Kit.assignment_folders = ['plugins']\n"
RIGHT = "def clip(values, limit):\n    return np.clip(values, -limit, limit)"
ONE_SIDED = "def clip(values, limit):\n    return np.minimum(values, limit)"


def add_plugins(folder):
    """Put the test's plug-ins in the course or repository `folder`, and name them in its configuration."""
    shutil.copytree(PLUGINS, folder / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    with (folder / "nbgrader_config.py").open("a") as handle:
        handle.write(PLUGIN_LINE)


def build_repository(folder):
    """A course repository holding only the new assignment's source, built by ``python -m autograder.assign``."""
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copyfile(REPO / name, folder / name)
    add_plugins(folder)
    (folder / "source" / NAME).mkdir(parents=True)
    shutil.copyfile(PLUGINS / NAME / "source.ipynb", folder / "source" / NAME / f"{NAME}.ipynb")
    done = subprocess.run([sys.executable, "-m", "autograder.assign", "--root", str(folder), NAME],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def submit(course, student, source):
    notebook = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    if source is not None:
        with_answer(notebook, "clip", source)
    folder = course / "submitted" / student / NAME
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{NAME}.ipynb")


def autograder(course, *arguments):
    run = CliRunner().invoke(main, ["--course", str(course), *arguments], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    return run.output


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    repository = build_repository(tmp_path_factory.mktemp("repository"))
    course = make_course(tmp_path_factory.mktemp("course") / "course")
    shutil.copytree(repository / "source" / NAME, course / "source" / NAME)
    add_plugins(course)
    run_nbgrader(course, "generate_assignment", NAME, "--force")
    for student, source in (("alice", RIGHT), ("bob", ONE_SIDED), ("carol", None)):
        submit(course, student, source)
    submit_optimization(course, "alice", solved_notebook())
    printed = {"grade": autograder(course, "grade", NAME, "--jobs", "2", "--no-progress"),
               "grade optimization_methods": autograder(course, "grade", "optimization_methods", "--no-progress")}
    for command in ("export", "report"):
        printed[command] = autograder(course, command, NAME)
        printed[f"course {command}"] = autograder(course, command)
    return {"repository": repository, "course": course, "printed": printed}


def result(course, student):
    return json.loads((course / ".autograder" / NAME / "results" / f"{student}.json").read_text())


def test_the_engine_names_no_assignment():
    """Every module of the kit but the plug-ins and `make demo` (which shows one assignment)."""
    engine = [path for path in (REPO / "autograder").rglob("*.py")
              if "assignments" not in path.relative_to(REPO).parts and path.name != "demo.py"]
    assert len(engine) > 40
    for path in engine:
        text = path.read_text()
        assert NAME not in text and "optimization_methods" not in text and "opt_utils" not in text, path


def test_the_build_writes_the_kit_cells_and_real_nbgrader_releases_them(graded):
    source = nbformat.read(graded["repository"] / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in source.cells]
    assert ids == [None, None, "clip", "test_clip_visible", "expected_clip", "test_clip_both_sides",
                   "test_clip_inside_kept"]
    release = graded["course"] / "release" / NAME
    assert sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()) == [
        "clip_utils/__init__.py", f"{NAME}.ipynb", "requirements.txt"]
    released = (release / f"{NAME}.ipynb").read_text()
    assert "np.minimum(np.maximum" not in released and "run_check" not in released


def test_it_is_graded_in_the_sandbox_on_trusted_verdicts(graded):
    course = graded["course"]
    alice, bob, carol = (result(course, student) for student in ("alice", "bob", "carol"))
    assert sum(alice["scores"].values()) == 10 and alice["sandboxed"], alice
    assert bob["scores"] == {"test_clip_visible": 0.0, "test_clip_both_sides": 0.0, "test_clip_inside_kept": 4.0}, bob
    assert "is the lower bound missing?" in bob["messages"]["test_clip_both_sides"]
    assert sum(carol["scores"].values()) == 0 and "not implemented" in carol["messages"]["test_clip_both_sides"]


def test_its_export_and_report_name_its_function(graded):
    course = graded["course"]
    rows = list(csv.DictReader((course / "exports" / NAME / "grades.csv").open()))
    assert {row["student_id"]: (row["score"], row["clip"], row["status"]) for row in rows} == {
        "alice": ("10.0", "10.0", "graded"), "bob": ("4.0", "4.0", "graded"), "carol": ("0.0", "0.0", "graded")}
    page = (course / "reports" / f"{NAME}.html").read_text()
    assert "clip_values" in page and "is the lower bound missing?" in page


def test_the_course_table_holds_both_assignments_and_agrees_with_nbgrader_export(graded):
    course = graded["course"]
    table = list(csv.DictReader((course / "exports" / "course-grades.csv").open()))
    header = list(table[0])
    assert header[:4] == ["student_id", "last_name", "first_name", "email"] and header[-2:] == ["total", "max_total"]
    assert {"optimization_methods", "optimization_methods: update_parameters_with_adam", NAME, f"{NAME}: clip",
            f"{NAME} status"} <= set(header)
    run_nbgrader(course, "export", "--to", str(course / "nbgrader-grades.csv"))
    exported = list(csv.DictReader((course / "nbgrader-grades.csv").open()))
    ours = {(row["student_id"], name): float(row[name]) for row in table for name in ("optimization_methods", NAME)}
    theirs = {(row["student_id"], row["assignment"]): float(row["score"]) for row in exported}
    assert ours == theirs and ours[("alice", "optimization_methods")] == 100 and ours[("bob", NAME)] == 4
    by_student = {row["student_id"]: row for row in table}
    assert by_student["bob"]["optimization_methods status"] == "not submitted"
    assert float(by_student["alice"]["total"]) == 110 and float(by_student["alice"]["max_total"]) == 110


def test_the_course_page_links_each_report(graded):
    course = graded["course"]
    page = (course / "reports" / "course.html").read_text()
    for name in ("optimization_methods", NAME):
        assert f'href="{name}.html"' in page and (course / "reports" / f"{name}.html").is_file()
    assert "course report: " in graded["printed"]["course report"]
    assert "course grades: " in graded["printed"]["course export"]


def test_an_unknown_assignment_is_refused_with_the_known_ones(graded):
    run = CliRunner().invoke(main, ["--course", str(graded["course"]), "grade", "clip_value"])
    assert run.exit_code != 0
    assert "no assignment is called 'clip_value'; the known ones are: clip_values, optimization_methods" in run.output


def test_its_gradescope_zip_carries_the_course_plug_in_and_grades(graded, tmp_path):
    from test_gradescope import run_autograder
    course = graded["course"]
    out = tmp_path / "clip.zip"
    autograder(course, "gradescope", NAME, "--out", str(out))
    names = zipfile.ZipFile(out).namelist()
    assert f"course/plugins/{NAME}/__init__.py" in names
    assert not [n for n in names if "/assignments/optimization_methods/" in n]  # another assignment's checks
    notebook = nbformat.read(course / "submitted" / "bob" / NAME / f"{NAME}.ipynb", as_version=4)
    results = run_autograder(out, tmp_path / "gradescope", f"{NAME}.ipynb", notebook)
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [("clip", 4.0, 10.0)]


def test_a_plug_in_folder_outside_the_course_cannot_travel(tmp_path):
    course = Course(tmp_path, "x", "", (tmp_path.parent / "elsewhere",))
    with pytest.raises(CourseError, match="outside the course: a Dask worker or a Gradescope image gets only"):
        course.plugin_folders()


def test_its_dask_bundle_carries_the_course_plug_in(graded, tmp_path):
    """A Dask worker grades from the bundle alone: it holds the course's plug-in where the
    course's configuration names it, and opening the unpacked bundle as a course knows the assignment."""
    from autograder import assignments
    from autograder.grade.bundle import make_bundle, unpacked
    course = Course.open(graded["course"])
    key, data = make_bundle(course, NAME, course.copy_assignment_tables(tmp_path / "assignment.db"))
    folder = unpacked(key, data, tmp_path / "cache")
    assert (folder / "plugins" / NAME / "__init__.py").is_file() and (folder / "release" / NAME).is_dir()
    assert Course.open(folder).assignment_folders == (folder / "plugins",)
    assert assignments.get(NAME).functions == ("clip",)
