"""The Gradescope zip in a real image: a Debian root built by debootstrap, set up by the zip's
setup.sh as root, then run_autograder for a right, a wrong and a broken submission.

As Gradescope does: the zip is unpacked into /autograder/source (modes kept), setup.sh runs once
as root with the network, run_autograder is copied to /autograder, and each grading runs in
/autograder on one CPU and is measured for memory. Where no root can be built (not root, no
debootstrap, no network) the tests are skipped with the reason, except in CI, where they fail:
``.ci/run`` installs debootstrap.

The suite builds Debian bookworm (its python3 is 3.11). ``KIT_GRADESCOPE_IMAGES=jammy,noble``
builds Ubuntu 22.04 and 24.04 instead, Gradescope's own base images, from Ubuntu's archive
(python3.11 from universe on 22.04, python3 3.12 on 24.04).
"""

import json
import os
import shutil
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.samples import WRONG, debian_root, solved_notebook, with_answer
from course import make_course

pytestmark = pytest.mark.slow

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
GRADESCOPE_MEMORY = 1_500_000_000  # bytes: what a default Gradescope autograder gets
PACKAGE_CACHE = Path.home() / ".cache" / "optimization-methods-kit" / "debootstrap"
SUITES = os.environ.get("KIT_GRADESCOPE_IMAGES", "bookworm").split(",")
KIT_PYTHON = {"bookworm": "3.11", "jammy": "3.11", "noble": "3.12"}


def unpack_as_gradescope(zip_path, source):
    """Extract the zip into `source`, with the permission bits its entries carry (as unzip does)."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, source))
            mode = info.external_attr >> 16 & 0o777
            if mode:
                path.chmod(mode)


@pytest.fixture(scope="module", params=SUITES)
def image(request, tmp_path_factory):
    """A root of the suite set up by the zip's setup.sh, as Gradescope builds its image."""
    folder = tmp_path_factory.mktemp(f"gradescope-image-{request.param}")
    course = make_course(folder / "course")
    zip_path = folder / "autograder.zip"
    run = CliRunner().invoke(main, ["--course", str(course), "gradescope", "optimization_methods",
                                    "--out", str(zip_path)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    try:
        root = debian_root.build(folder / "root", suite=request.param, cache=PACKAGE_CACHE)
    except debian_root.RootUnavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Gradescope image test cannot run in CI: {reason}")
        pytest.skip(str(reason))
    autograder = root.path / "autograder"
    unpack_as_gradescope(zip_path, autograder / "source")
    setup = root.run(["bash", "/autograder/source/setup.sh"], cwd="/autograder")
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    shutil.copy2(autograder / "source" / "run_autograder", autograder / "run_autograder")
    root.setup, root.suite = setup, request.param
    yield root
    # Mounts lived only in the namespaces of each command; nothing outside the folder is left.
    shutil.rmtree(root.path, ignore_errors=True)


def grade(image, files):
    """Run /autograder/run_autograder on a submission made of `files` ({name: bytes}); return
    the parsed results.json and the grading's Finished (its peak memory among the rest)."""
    autograder = image.path / "autograder"
    for folder in ("submission", "results"):
        shutil.rmtree(autograder / folder, ignore_errors=True)
        (autograder / folder).mkdir()
    for name, content in files.items():
        (autograder / "submission" / name).write_bytes(content)
    finished = image.run(["/autograder/run_autograder"], cwd="/autograder", cpus=1, timeout=600)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    results = json.loads((autograder / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results, finished


def notebook_bytes(notebook):
    return nbformat.writes(notebook).encode()


def test_setup_gives_the_kit_a_python_it_supports(image):
    assert f"setup.sh: the kit runs on Python {KIT_PYTHON[image.suite]}." in image.setup.stdout
    assert "No broken requirements found." in image.setup.stdout  # pip check: the pins are complete


def test_a_right_submission_scores_full_marks_in_the_sandbox(image):
    results, finished = grade(image, {"optimization_methods.ipynb": notebook_bytes(solved_notebook())})
    assert results["score"] == 100
    assert all(t["status"] == "passed" for t in results["tests"]) and len(results["tests"]) == 6
    assert results["extra_data"] == {"sandbox": True}
    assert finished.peak_memory < GRADESCOPE_MEMORY, finished.peak_memory
    print(f"right submission: peak memory {finished.peak_memory / 2**20:.0f} MiB, "
          f"graded in {results['execution_time']} s on one CPU")


def test_a_wrong_submission_loses_only_its_function_and_says_why(image):
    variant = next(v for v in WRONG if v.id == "update_parameters_with_momentum-no_one_minus_beta")
    notebook = with_answer(solved_notebook(), variant.function, variant.source)
    results, finished = grade(image, {"optimization_methods.ipynb": notebook_bytes(notebook)})
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["update_parameters_with_momentum"]
    assert failed[0]["score"] < failed[0]["max_score"] and "✗" in failed[0]["output"]
    assert results["score"] == 100 - (failed[0]["max_score"] - failed[0]["score"])
    assert finished.peak_memory < GRADESCOPE_MEMORY, finished.peak_memory


def test_a_broken_submission_scores_zero_with_a_reason(image):
    results, finished = grade(image, {"optimization_methods.ipynb": b'{"cells": [{"cell_type": "code", "sour'})
    assert results["score"] == 0
    assert all(t["score"] == 0 and t["status"] == "failed" for t in results["tests"])
    assert results["output"].startswith("This submission could not be graded:"), results["output"]
    assert finished.peak_memory < GRADESCOPE_MEMORY, finished.peak_memory


def test_no_submission_at_all_is_reported_not_crashed(image):
    results, _ = grade(image, {"notes.txt": b"I forgot to upload the notebook"})
    assert results["score"] == 0
    assert "could not be graded" in results["output"]
