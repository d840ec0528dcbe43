"""make demo's flow, on a small class: every output it promises is made."""

import csv

import pytest

from autograder import demo

pytestmark = pytest.mark.slow


def test_demo_makes_every_output(tmp_path, capsys):
    out = tmp_path / "demo"
    demo.main(["--out", str(out), "--students", "10", "--epochs", "101", "--jobs", "2"])
    printed = capsys.readouterr().out
    course = out / "course"
    for path in (out / "comparison" / "comparison.png", out / "lms-download.zip", course / "gradebook.db",
                 course / "reports" / "optimization_methods.html",
                 course / "exports" / "optimization_methods" / "gradescope-autograder.zip"):
        assert path.is_file() and str(path) in printed
    with (course / "exports" / "optimization_methods" / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    assert {row["status"] for row in rows} >= {"graded", "failed"}
    assert len(list((course / "feedback").glob("*/optimization_methods/optimization_methods.html"))) == 10


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="was not made by the demo"):
        demo.main(["--out", str(tmp_path)])
    assert (tmp_path / "precious.txt").read_text() == "keep me"
