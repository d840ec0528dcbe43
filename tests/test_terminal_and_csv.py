"""What a submission or an LMS download can influence is inert where the instructor reads it: the
terminal (no control character the submission wrote is printed raw) and a spreadsheet (no CSV
cell of it starts a formula); Gradescope shows its messages as plain text."""

import csv
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.untrusted import csv_cell, csv_row, printable
from course import make_course, solved_notebook, submit, with_answer

ASSIGNMENT = "optimization_methods"
AUTOGRADER = Path(sys.executable).parent / "autograder"
# Retitles the terminal window, then clears the screen; a right-to-left override.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202e"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FORMULA_IDS = ['=HYPERLINK("http:x","y")', "@SUM(1)", "+1", "-2+3"]
FORGED_LINE = "\r\nbob                            graded                  100.0"
RAISES = f"def initialize_velocity(parameters):\n    raise ValueError({HOSTILE + FORGED_LINE!r})"


@pytest.mark.parametrize("text, shown", [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("a\x1b[2Jb", "a\\x1b[2Jb"),
    ("two\nlines\r\tand\x00\x7f\x9b", "two\\x0alines\\x0d\\x09and\\x00\\x7f\\x9b"),
    ("\u202eevil\u202c \u2066x\u2069 \u200f", "\\u202eevil\\u202c \\u2066x\\u2069 \\u200f"),
    # Zero-width characters and a tag character (Cf), a lone surrogate (Cs: a terminal could not
    # even encode it) and the line and paragraph separators.
    ("a\u200bb\u2060c\ufeff\U000e0041", "a\\u200bb\\u2060c\\ufeff\\U000e0041"),
    ("x\udc80y \u2028\u2029", "x\\udc80y \\u2028\\u2029"),
    ("café ✓ ✗ 数学 ε \u00a0", "café ✓ ✗ 数学 ε \u00a0"),
])
def test_printable_shows_control_and_bidi_characters_as_escapes(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("value, cell", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("@SUM(1)", "'@SUM(1)"), ("+1", "'+1"),
    ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("alice", "alice"), ("a=b", "a=b"), ("", ""),
    (-1.5, -1.5), (0, 0), (None, None),
])
def test_csv_cell_keeps_a_formula_from_starting(value, cell):
    assert csv_cell(value) == cell
    assert csv_row([value, value]) == [cell, cell]


def autograder(course, *arguments):
    """Run the real `autograder` command; what it printed, stdout and stderr together."""
    done = subprocess.run([str(AUTOGRADER), "--course", str(course), *arguments], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def download(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, 20, 12, 0, 0)), text)
    return path


def rows(path):
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A class collected from downloads whose file names carry escape sequences and formulas,
    one student whose function raises an exception that carries them, graded and exported."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    course = make_course(tmp_path / "course")
    raising = nbformat.writes(with_answer(solved_notebook(), "initialize_velocity", RAISES))
    printed = {}
    printed["collect"] = autograder(course, "collect", str(download(tmp_path / "canvas.zip", {
        f"alice_1_1_{HOSTILE}optimization_methods.ipynb": raising,
        f"bob_2_2_{HOSTILE}notes.txt": "not a notebook",
        f"{HOSTILE}.ipynb": "no student id",
    })))
    printed["collect_formulas"] = autograder(course, "collect", "--pattern", r"(?P<student_id>.+)__(?P<file_id>.+)",
                                             str(download(tmp_path / "other.zip", {
                                                 **{f"{student}__{ASSIGNMENT}.ipynb": nbformat.writes(solved_notebook())
                                                    for student in FORMULA_IDS},
                                                 f"eve{HOSTILE}__{ASSIGNMENT}.ipynb": "an id no folder can have",
                                             })))
    submit(course, f"mallory{HOSTILE}", solved_notebook())  # put there by hand, or by another tool
    printed["grade"] = autograder(course, "grade", ASSIGNMENT, "--jobs", "2", "--no-progress")
    printed["export"] = autograder(course, "export", ASSIGNMENT)
    (tmp_path / f"x{HOSTILE}").write_text("neither a zip nor a folder")
    refused = subprocess.run([str(AUTOGRADER), "--course", str(course), "collect", str(tmp_path / f"x{HOSTILE}")],
                             capture_output=True, text=True)
    assert refused.returncode != 0
    printed["refused"] = refused.stdout + refused.stderr
    return course, printed


@pytest.mark.slow
@pytest.mark.parametrize("command", ["collect", "collect_formulas", "grade", "export", "refused"])
def test_nothing_printed_carries_a_raw_control_character(hostile_class, command):
    _, printed = hostile_class
    assert not RAW_CONTROL.findall(printed[command]), printed[command]


@pytest.mark.slow
def test_what_was_escaped_is_still_shown(hostile_class):
    course, printed = hostile_class
    escaped = printable(HOSTILE)
    assert f"bob_2_2_{escaped}notes.txt: not a notebook (.ipynb) file" in printed["collect"]
    assert f"{escaped}.ipynb: the file name does not match the pattern" in printed["collect"]
    assert f"eve{escaped}__{ASSIGNMENT}.ipynb: the student id taken from the file name cannot name a folder" \
        in printed["collect_formulas"]
    assert f"mallory{escaped}" in printed["grade"]
    assert "is neither a folder nor a zip file" in printed["refused"] and escaped in printed["refused"]
    alice = json.loads((course / ".autograder" / ASSIGNMENT / "results" / "alice.json").read_text())
    assert sum(alice["scores"].values()) == 90  # only initialize_velocity, which raised, earns nothing
    assert not (course / "submitted" / f"eve{HOSTILE}").exists()


def csv_files(course):
    work = course / ".autograder" / ASSIGNMENT
    return {"collect": work / "collect-manifest.csv", "grade": work / "grade-manifest.csv",
            "grades": course / "exports" / ASSIGNMENT / "grades.csv"}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["collect", "grade", "grades"])
def test_no_csv_cell_starts_a_formula(hostile_class, kind):
    course, _ = hostile_class
    cells = [cell for row in rows(csv_files(course)[kind]) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for student in FORMULA_IDS:  # each formula-like id is there, as text
        assert f"'{student}" in cells, (kind, student)


@pytest.mark.slow
def test_scores_in_grades_csv_stay_numbers(hostile_class):
    course, _ = hostile_class
    header, *body = rows(csv_files(course)["grades"])
    formula = next(dict(zip(header, row)) for row in body if row[3] == "'@SUM(1)")
    assert (formula["score"], formula["update_parameters_with_adam"], formula["status"]) == ("100.0", "30.0", "graded")


@pytest.mark.slow
def test_gradescope_results_are_plain_text(hostile_class):
    course, _ = hostile_class
    results = json.loads((course / "exports" / ASSIGNMENT / "results" / "alice.json").read_text())
    assert (results["output_format"], results["test_output_format"]) == ("text", "text")
    assert {test["output_format"] for test in results["tests"]} == {"text"}
    velocity = next(test for test in results["tests"] if test["name"] == "initialize_velocity")
    assert "ValueError" in velocity["output"]
