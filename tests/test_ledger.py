"""The grading ledger: entries are signed, and one changed outside the kit is not trusted."""

import json

from autograder.course import Course
from autograder.grade.store import Ledger
from autograder.grade.task import Result


def course_at(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'x'\n")
    return Course.open(tmp_path)


def test_a_saved_result_reads_back(tmp_path):
    ledger = Ledger(course_at(tmp_path), "a1")
    result = Result("alice", "graded", scores={"t": 1.0}, max_scores={"t": 2.0}, submission_sha256="abc")
    ledger.save(result)
    assert ledger.load("alice") == result
    assert ledger.all() == [result] and ledger.tampered() == []


def test_a_changed_entry_is_not_trusted(tmp_path):
    course = course_at(tmp_path)
    ledger = Ledger(course, "a1")
    ledger.save(Result("alice", "graded", scores={"t": 0.0}, submission_sha256="abc"))
    path = ledger.path("alice")
    fields = json.loads(path.read_text())
    fields["scores"]["t"] = 100.0
    path.write_text(json.dumps(fields))
    assert ledger.load("alice") is None
    assert ledger.all() == [] and ledger.tampered() == ["alice"]
    forged = dict(fields, signature="0" * 64)
    path.write_text(json.dumps(forged))
    assert Ledger(course, "a1").load("alice") is None


def test_the_key_is_the_courses_own_and_private(tmp_path):
    course = course_at(tmp_path)
    first, second = Ledger(course, "a1"), Ledger(course, "a2")
    key = tmp_path / ".autograder" / "ledger.key"
    assert first.key == second.key == key.read_bytes() and len(first.key) == 32
    assert key.stat().st_mode & 0o077 == 0
