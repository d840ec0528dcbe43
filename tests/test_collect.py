"""autograder collect: an LMS download into submitted/, newest file per student, with a manifest."""

import csv
import os
import shutil
import zipfile

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from big_outputs import write_with_outputs
from course import REPO

NOTEBOOK_TEXT = (REPO / "release" / "optimization_methods" / "optimization_methods.ipynb").read_text()


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(REPO / "release", root / "release")
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def lms_zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, (day, text) in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, day, 12, 0, 0)), text)
    return path


def run(course, *arguments):
    result = CliRunner().invoke(main, ["--course", str(course), *arguments], catch_exceptions=False)
    return result


def manifest(course):
    with (course / ".autograder" / "optimization_methods" / "collect-manifest.csv").open() as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def test_zip_import_keeps_the_newest_file_and_says_why_others_were_not_taken(course, tmp_path):
    download = lms_zip(tmp_path / "download.zip", {
        "alice_11_1_optimization_methods.ipynb": (20, NOTEBOOK_TEXT),
        "bob_12_2_optimization_methods.ipynb": (20, NOTEBOOK_TEXT + " "),
        "bob_LATE_12_3_optimization_methods-1.ipynb": (22, NOTEBOOK_TEXT),
        "carol_13_4_answers.py": (20, "print(1)"),
        "instructions.pdf": (20, "%PDF"),
    })
    result = run(course, "collect", str(download))
    assert result.exit_code == 0
    assert "   2 imported\n   1 superseded\n   2 rejected" in result.output
    rows = manifest(course)
    assert rows["bob_12_2_optimization_methods.ipynb"]["status"] == "superseded"
    assert rows["bob_LATE_12_3_optimization_methods-1.ipynb"]["reason"] == "saved as optimization_methods.ipynb"
    assert rows["carol_13_4_answers.py"]["reason"] == "not a notebook (.ipynb) file"
    assert rows["instructions.pdf"]["reason"] == "the file name does not match the pattern"
    bob = course / "submitted" / "bob" / "optimization_methods"
    assert (bob / "optimization_methods.ipynb").read_text() == NOTEBOOK_TEXT
    assert (bob / "timestamp.txt").read_text() == "2026-11-22T12:00:00+00:00"
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]


def test_an_older_download_never_replaces_a_newer_submission(course, tmp_path):
    run(course, "collect", str(lms_zip(tmp_path / "new.zip", {"alice_1_1_optimization_methods.ipynb": (25, "new")})))
    result = run(course, "collect", str(lms_zip(tmp_path / "old.zip", {"alice_1_1_optimization_methods.ipynb": (20, "old")})))
    assert "   1 rejected" in result.output and "older than the submission already collected" in result.output
    assert (course / "submitted" / "alice" / "optimization_methods" / "optimization_methods.ipynb").read_text() == "new"


def test_folder_download_with_a_custom_pattern(course, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "hw-dana.ipynb").write_text(NOTEBOOK_TEXT)
    os.utime(folder / "hw-dana.ipynb", (1_700_000_000, 1_700_000_000))
    result = run(course, "collect", str(folder), "--pattern", r"hw-(?P<student_id>\w+)\.ipynb")
    assert result.exit_code == 0 and "   1 imported" in result.output
    assert (course / "submitted" / "dana" / "optimization_methods" / "optimization_methods.ipynb").is_file()


def test_a_pattern_without_student_id_is_refused(course, tmp_path):
    result = run(course, "collect", str(tmp_path), "--pattern", r"(?P<name>\w+)")
    assert result.exit_code != 0 and "needs a named group (?P<student_id>" in result.output


def test_a_file_that_is_neither_zip_nor_folder_is_refused(course, tmp_path):
    (tmp_path / "grades.txt").write_text("x")
    result = run(course, "collect", str(tmp_path / "grades.txt"))
    assert result.exit_code != 0 and "neither a folder nor a zip file" in result.output


def test_outside_a_course_directory(tmp_path):
    result = CliRunner().invoke(main, ["--course", str(tmp_path), "collect", str(tmp_path)])
    assert result.exit_code != 0 and "is not a course directory: it has no nbgrader_config.py" in result.output


def test_a_file_too_large_is_refused_without_being_read(course, tmp_path):
    # 1 GiB and 1 MiB of spaces compresses to about 1 MB; the zip says how large it is, and that is enough.
    download = tmp_path / "bomb.zip"
    info = zipfile.ZipInfo("alice_1_1_optimization_methods.ipynb", (2026, 11, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(download, "w") as archive:
        with archive.open(info, "w", force_zip64=True) as handle:
            chunk = b" " * (1 << 20)
            for _ in range(1025):
                handle.write(chunk)
    assert download.stat().st_size < 8 << 20
    result = run(course, "collect", str(download))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((course / ".autograder" / "optimization_methods" / "collect-manifest.csv").open()))
    assert [(r["student"], r["status"]) for r in rows] == [("alice", "rejected")]
    assert "1,025 MiB, more than the 1,024 MiB a submitted notebook may be, outputs included" in rows[0]["reason"]
    assert not (course / "submitted" / "alice").exists()


def test_a_damaged_zip_entry_is_rejected_and_the_collected_submission_kept(course, tmp_path):
    run(course, "collect", str(lms_zip(tmp_path / "first.zip", {"alice_1_1_optimization_methods.ipynb": (20, "kept")})))
    download = lms_zip(tmp_path / "damaged.zip", {"alice_1_1_optimization_methods.ipynb": (25, "x" * 1000)})
    data = bytearray(download.read_bytes())
    data[data.index(b"x" * 1000)] = ord("y")  # stored, not compressed: the CRC no longer matches
    download.write_bytes(bytes(data))
    result = run(course, "collect", str(download))
    assert result.exit_code == 0, result.output
    assert "damaged in the download (Bad CRC-32" in result.output
    folder = course / "submitted" / "alice" / "optimization_methods"
    assert (folder / "optimization_methods.ipynb").read_text() == "kept"
    assert sorted(p.name for p in folder.iterdir()) == ["optimization_methods.ipynb", "timestamp.txt"]


def test_a_notebook_of_large_outputs_is_collected_whole(course, tmp_path):
    """Outputs no longer count against a notebook's size limit: a file of 50 MB of them is imported as it is."""
    printed = write_with_outputs(nbformat.read(REPO / "release" / "optimization_methods" / "optimization_methods.ipynb",
                                               as_version=4), tmp_path / "printed.ipynb", 50 << 20)
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(printed, "alice_1_1_optimization_methods.ipynb")
    result = run(course, "collect", str(download))
    assert result.exit_code == 0 and "   1 imported" in result.output, result.output
    copied = course / "submitted" / "alice" / "optimization_methods" / "optimization_methods.ipynb"
    assert copied.read_bytes() == printed.read_bytes()


def test_student_ids_that_differ_only_in_case_are_flagged(course, tmp_path):
    download = lms_zip(tmp_path / "twins.zip", {"DoeJane_1_1_optimization_methods.ipynb": (20, "a"),
                                                "doejane_2_2_optimization_methods.ipynb": (21, "b")})
    result = run(course, "collect", str(download))
    assert result.exit_code == 0, result.output
    rows = {r["student"]: r for r in csv.DictReader(
        (course / ".autograder" / "optimization_methods" / "collect-manifest.csv").open())}
    assert rows.keys() == {"DoeJane", "doejane"}
    assert "differs only in case from doejane" in rows["DoeJane"]["reason"]
    assert "differs only in case from DoeJane" in rows["doejane"]["reason"]
    assert ("warning: student ids DoeJane and doejane differ only in case; they are graded as different students, "
            "and on a case-insensitive filesystem one would overwrite the other\nmanifest: ") in result.output


def test_a_case_twin_of_a_student_collected_before_is_printed_too(course, tmp_path):
    run(course, "collect", str(lms_zip(tmp_path / "first.zip", {"DoeJane_1_1_optimization_methods.ipynb": (20, "a")})))
    result = run(course, "collect", str(lms_zip(tmp_path / "late.zip", {"doejane_2_2_optimization_methods.ipynb": (21, "b")})))
    assert "warning: student ids DoeJane and doejane differ only in case" in result.output
    alone = run(course, "collect", str(lms_zip(tmp_path / "other.zip", {"carol_3_3_optimization_methods.ipynb": (22, "c")})))
    assert "differ only in case" not in alone.output  # a warning for the ids this download brought in


def test_manifest_cells_that_look_like_formulas_are_text(course, tmp_path):
    download = lms_zip(tmp_path / "download.zip", {"=1+1__optimization_methods.ipynb": (20, "a"),
                                                   "@SUM(1)__optimization_methods.ipynb": (20, "b"),
                                                   "-2__notes.txt": (20, "c")})
    result = run(course, "collect", str(download), "--pattern", r"(?P<student_id>.+)__(?P<file_id>.+)")
    assert result.exit_code == 0, result.output
    with (course / ".autograder" / "optimization_methods" / "collect-manifest.csv").open(newline="") as handle:
        cells = [row[:2] for row in csv.reader(handle)][1:]
    assert sorted(cells) == [["'-2__notes.txt", "'-2"], ["'=1+1__optimization_methods.ipynb", "'=1+1"],
                             ["'@SUM(1)__optimization_methods.ipynb", "'@SUM(1)"]]
    assert (course / "submitted" / "=1+1" / "optimization_methods" / "optimization_methods.ipynb").read_text() == "a"
