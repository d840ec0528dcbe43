"""The assignment bundle a Dask worker grades from: content-addressed, and nothing of any student."""

import sqlite3

import pytest

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.course import Course
from autograder.grade.batch import grade_assignment
from autograder.grade.bundle import GRADEBOOK, make_bundle, unpacked
from course import make_course, solved_notebook, submit


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"))
    submit(course, "someone", solved_notebook())
    grade_assignment(Course.open(course), ASSIGNMENT, progress=False)
    return Course.open(course)


def bundle_of(course, folder):
    return make_bundle(course, ASSIGNMENT, course.copy_assignment_tables(folder / "assignment.db"))


def test_the_same_assignment_makes_the_same_bundle(graded, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert bundle_of(graded, tmp_path / "a") == bundle_of(graded, tmp_path / "b")


def test_a_bundle_holds_the_assignment_and_nothing_of_any_student(graded, tmp_path):
    key, data = bundle_of(graded, tmp_path)
    folder = unpacked(key, data, tmp_path / "cache")
    assert (folder / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert not (folder / "source").exists() and not (folder / "submitted").exists()
    with sqlite3.connect(folder / GRADEBOOK) as db:
        assert db.execute("select count(*) from assignment").fetchone()[0] == 1
        assert db.execute("select count(*) from grade_cells").fetchone()[0] > 0
        for table in ("student", "submitted_assignment", "grade", "comment"):
            assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
    with sqlite3.connect(graded.gradebook) as db:  # while the course's gradebook has them
        assert db.execute("select count(*) from grade").fetchone()[0] > 0


def test_a_worker_unpacks_a_bundle_once_and_only_the_bytes_it_is_named_for(graded, tmp_path):
    key, data = bundle_of(graded, tmp_path)
    folder = unpacked(key, data, tmp_path / "cache")
    marker = folder / "unpacked-once"
    marker.write_text("")
    assert unpacked(key, data, tmp_path / "cache") == folder and marker.exists()
    with pytest.raises(ValueError, match="do not match"):
        unpacked("0" * 64, data, tmp_path / "cache")
