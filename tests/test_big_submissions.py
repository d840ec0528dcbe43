"""Submissions that are big because of their outputs: collected and graded in full, read in little
memory; what is big without its outputs is refused with the reason."""

import hashlib
import json
import shutil
import zipfile

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from big_outputs import outputs_only, peak_growth, write_with_outputs
from course import REPO, make_course, solved_notebook, submit

ASSIGNMENT = "optimization_methods"


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ledger(course, student):
    return json.loads((course / ".autograder" / ASSIGNMENT / "results" / f"{student}.json").read_text())


@pytest.mark.slow
def test_a_notebook_of_50_mb_of_outputs_is_collected_and_graded_in_full(tmp_path):
    course = make_course(tmp_path / "course")
    printed = write_with_outputs(solved_notebook(), tmp_path / "printed.ipynb", 50 << 20)
    assert printed.stat().st_size > 50 << 20
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(printed, "alice_11_1_optimization_methods.ipynb")
    pasted = solved_notebook()
    pasted.cells.append(nbformat.v4.new_markdown_cell("pasted data " * (3 << 20)))  # 36 MiB of text
    submit(course, "bob", pasted)

    collected = CliRunner().invoke(main, ["--course", str(course), "collect", str(download)], catch_exceptions=False)
    assert collected.exit_code == 0 and "   1 imported" in collected.output, collected.output
    alice = course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert sha256(alice) == sha256(printed)
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--jobs", "1", "--no-progress"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output

    graded = ledger(course, "alice")
    assert (graded["status"], sum(graded["scores"].values())) == ("graded", 100), graded
    assert graded["submission_sha256"] == sha256(alice)
    refused = ledger(course, "bob")
    assert refused["status"] == "failed"
    assert refused["reason"].startswith("the notebook's code and text are 36.")
    assert "MiB, more than the 32 MiB a notebook may have (its outputs are not counted)" in refused["reason"]
    assert "the notebook's code and text are 36." in run.output


@pytest.fixture(scope="module")
def printed_64_mb(tmp_path_factory):
    path = outputs_only(tmp_path_factory.mktemp("big") / "printed.ipynb", 64 << 20)
    assert path.stat().st_size > 64 << 20
    return path


def test_reading_a_64_mb_notebook_of_outputs_takes_little_memory(printed_64_mb):
    grown, printed = peak_growth("import sys\nfrom autograder.grade.sanitize import read_submission\n# measured\n"
                                 "notebook = read_submission(sys.argv[1])\n"
                                 "print(len(notebook.cells), sum(len(c.get('outputs', [])) for c in notebook.cells))",
                                 printed_64_mb)
    assert printed == ["2", "0"]
    assert grown < 48 << 20, f"reading grew the peak by {grown >> 20} MiB"


def test_collecting_a_64_mb_notebook_takes_little_memory(printed_64_mb, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(REPO / "release", course / "release")
    shutil.copyfile(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    download = tmp_path / "download"
    download.mkdir()
    (download / "alice_1_1_optimization_methods.ipynb").symlink_to(printed_64_mb)
    grown, printed = peak_growth("import sys\nfrom autograder.cli import main\n# measured\n"
                                 "main(['--course', sys.argv[1], 'collect', sys.argv[2]], standalone_mode=False)",
                                 course, download)
    assert "1" in printed and "imported" in printed, printed
    assert sha256(course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb") == sha256(printed_64_mb)
    assert grown < 48 << 20, f"collecting grew the peak by {grown >> 20} MiB"
