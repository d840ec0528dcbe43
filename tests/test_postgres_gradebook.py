"""A gradebook in a real PostgreSQL server, named by ``c.CourseDirectory.db_url``: nbgrader's own
commands and the kit's read and write the same grades."""

import csv
import os
import subprocess
import sys
import uuid
import zipfile

import pytest
from click.testing import CliRunner
from nbgrader.api import Gradebook

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.cli import main
from autograder.course import Course, CourseError
from autograder.grade.batch import grade_assignment
from course import make_course, solved_notebook, submit, submit_right_wrong_blank
from postgres import postgres  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def use_database(course, db_url):
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")


def totals(db_url, course_id):
    with Gradebook(db_url, course_id) as gradebook:
        return {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def nbgrader(course, *arguments):
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), *arguments], cwd=course,
                          env=env, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def graded_in_postgres(postgres, tmp_path_factory):  # noqa: F811
    """The same class graded in a course whose gradebook is in PostgreSQL, and in one on SQLite."""
    db_url = postgres.create_database(f"gradebook_{uuid.uuid4().hex[:8]}")
    source = make_course(tmp_path_factory.mktemp("template"))
    courses = {}
    for name in ("postgres", "sqlite"):
        course = tmp_path_factory.mktemp(name)
        (course / "source").symlink_to(source / "source", target_is_directory=True)
        (course / "nbgrader_config.py").write_text((source / "nbgrader_config.py").read_text())
        if name == "postgres":
            use_database(course, db_url)
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")  # nbgrader makes the gradebook's tables
        submit_right_wrong_blank(course)
        run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--jobs", "2", "--no-progress"])
        assert run.exit_code == 0, run.output
        courses[name] = Course.open(course)
    return courses, db_url


def test_the_course_names_its_gradebook_by_url(graded_in_postgres):
    courses, db_url = graded_in_postgres
    assert courses["postgres"].db_url == db_url and courses["postgres"].gradebook is None
    assert not (courses["postgres"].root / "gradebook.db").exists()  # nothing went to a file instead
    assert courses["sqlite"].gradebook == courses["sqlite"].root / "gradebook.db"


def test_grades_in_postgres_are_those_graded_on_sqlite(graded_in_postgres):
    courses, db_url = graded_in_postgres
    in_postgres = totals(db_url, courses["postgres"].course_id)
    assert in_postgres == totals(courses["sqlite"].db_url, courses["sqlite"].course_id)
    assert in_postgres["right"] == 100 and in_postgres["blank"] == 0 and 0 < in_postgres["wrong"] < 100


def test_nbgrader_export_reads_the_grades_from_postgres(graded_in_postgres):
    courses, db_url = graded_in_postgres
    course = courses["postgres"]
    nbgrader(course.root, "export")
    rows = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader((course.root / "grades.csv").open())}
    assert rows == totals(db_url, course.course_id)
    # The kit's own export reads the same database.
    run = CliRunner().invoke(main, ["--course", str(course.root), "export", ASSIGNMENT])
    assert run.exit_code == 0, run.output
    exported = list(csv.DictReader((course.root / "exports" / ASSIGNMENT / "grades.csv").open()))
    assert {row["student_id"]: float(row["raw_score"]) for row in exported} == rows


def test_an_unreachable_gradebook_server_is_named_without_its_password(tmp_path):
    course = make_course(tmp_path / "course")
    use_database(course, "postgresql+psycopg://grader:hunter2@/gradebook?host=/nonexistent")
    submit(course, "someone", solved_notebook())
    with pytest.raises(CourseError) as error:
        grade_assignment(Course.open(course), ASSIGNMENT, progress=False)
    assert "cannot reach the gradebook at postgresql+psycopg://grader:***@/gradebook" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_a_gradescope_zip_of_a_postgres_course_carries_its_own_gradebook(graded_in_postgres, tmp_path):
    courses, db_url = graded_in_postgres
    course = courses["postgres"]
    with Gradebook(db_url, course.course_id) as gradebook:
        before = [(a.name, len(a.notebooks)) for a in gradebook.assignments]
    out = tmp_path / "autograder.zip"
    run = CliRunner().invoke(main, ["--course", str(course.root), "gradescope", ASSIGNMENT, "--out", str(out)])
    assert run.exit_code == 0, run.output
    with zipfile.ZipFile(out) as archive:
        assert "course/gradebook.db" in archive.namelist()
        archive.extractall(tmp_path / "unzipped")
    inside = Course.open(tmp_path / "unzipped" / "course")
    assert inside.gradebook == inside.root / "gradebook.db"  # not the server's URL
    with Gradebook(db_url, course.course_id) as gradebook:  # building the zip wrote nothing to the server
        assert [(a.name, len(a.notebooks)) for a in gradebook.assignments] == before
