"""The Gradescope zip in a real image: a Debian root built by debootstrap, set up by the zip's
setup.sh as root, then run_autograder for a right, a wrong and a broken submission, and for
attacks of the catalog.

As Gradescope does: the zip is unpacked into /autograder/source (modes kept), setup.sh runs once
as root with the network, run_autograder is copied to /autograder, and each grading runs in
/autograder on one CPU and is measured for memory. Where no root can be built (not root, no
debootstrap, no network) the tests are skipped with the reason, except in CI, where they fail:
``.ci/run`` installs debootstrap.

Attacks of the catalog (`tests/attacks.py`) are graded there too, by run_autograder, each
checked from outside: results.json says the sandbox was on and gives the attack's honest part, a
root-only secret at the image root is not even opened (its access time), neither it nor the
grader's environment reaches the results or the run's output, no connection reaches a listener
on loopback, the installed packages and the course Gradescope grades from are unchanged, the
grading stays in Gradescope's memory, and a probe run in the image right after it finds no
process left (named by the attack's marker or not), no file in /tmp, /dev/shm or /var/tmp, no
scratch folder. Each grading costs 3.5 to 6 s; the whole catalog cost 164 s more (2 cores), so
`IMAGE_ATTACKS` holds one or more attacks for each wall, 16 in all, about 60 s. The others are
graded locally and on Dask by tests/test_attacks.py, where nothing in them depends on the host:

- input_transformer_blanks_tests, custom_exception_handler, exit_handlers_and_trace,
  patched_builtins (25 s alone: its kernel stops), patched_visible_check, forged_harness_reply,
  stray_call_replies, find_and_patch_the_harness, hard_coded_visible_outputs, fake_array_types,
  reseeding: the verdict is made in the grader's process from what crosses the wire, the same
  code on any host; fake_checker_module, patched_numpy and made_up_grade_cell (whose cell would
  add a test to results.json) stand for them here.
- output_flood: cut by the worker as it reads the kernel's output, the same code on any host;
  memory_bomb stands for memory here.
- symlink_escape, source_notebook_on_disk, reference_import: Landlock's read wall, which
  read_private_file (with the kernel's own uid) shows here. The last two start from the release,
  whose answer cells after them define the functions again, and Gradescope keeps no notebook in
  which what they read would show: in the image they could not fail.
- other_submissions: a Gradescope container holds one submission; there is no other to reach.

environment_and_proc stays for the environment wall, though only half of it shows from outside:
what it prints goes to the autograded notebook, which Gradescope does not keep, so the test sees
that the token does not reach the results, not that the kernel could not read it.

The suite builds Debian bookworm (its python3 is 3.11). ``KIT_GRADESCOPE_IMAGES=jammy,noble``
builds Ubuntu 22.04 and 24.04 instead, Gradescope's own base images, from Ubuntu's archive
(python3.11 from universe on 22.04, python3 3.12 on 24.04).
"""

import json
import os
import shutil
import uuid
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.assignments.optimization_methods.sample_class import WRONG
from attack_probes import Listener, fingerprints
from attacks import ATTACKS
from course import make_course, solved_notebook, with_answer
import debian_root

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


def grade(image, files, command=("/autograder/run_autograder",), env=None):
    """Run /autograder/run_autograder (or `command`, which runs it) on a submission made of
    `files` ({name: bytes}) with `env` added to its environment; return the parsed results.json
    and the grading's Finished (its peak memory among the rest)."""
    autograder = image.path / "autograder"
    for folder in ("submission", "results"):
        shutil.rmtree(autograder / folder, ignore_errors=True)
        (autograder / folder).mkdir()
    for name, content in files.items():
        (autograder / "submission" / name).write_bytes(content)
    finished = image.run(list(command), cwd="/autograder", env=env, cpus=1, timeout=600)
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



# One attack for each wall, and for what only Gradescope's results.json shows; why the others are
# left to tests/test_attacks.py is in the module's docstring. A name the catalog lost is a KeyError.
IMAGE_ATTACKS = [{attack.name: attack for attack in ATTACKS}[name] for name in (
    "bounded_fork_bomb", "leftover_processes", "kill_everything",  # process bounds, signals
    "memory_bomb", "fill_the_disk",  # memory, disk
    "read_private_file", "installed_packages", "gradebook_and_ledger",  # reading and writing files
    "network_loopback", "abstract_unix_socket",  # network
    "environment_and_proc",  # the grader's environment
    "fake_checker_module", "patched_numpy", "made_up_grade_cell",  # forged verdicts
    "hostile_markup", "script_for_the_instructor",  # content for whoever reads the results
)]
# What an attack aims at beyond the walls every attack is checked against, seen in results.json.
SHOWN_AS = {
    # Gradescope shows the markup in a test's output as text, not as HTML.
    "hostile_markup": lambda results: "<script>" in json.dumps(results) and {results["output_format"], results[
        "test_output_format"], *(test["output_format"] for test in results["tests"])} == {"text"},
    # The step that makes outputs inert ran in the image (it needs nh3, pinned like the rest).
    "script_for_the_instructor": lambda results: "were removed from the autograded notebook" in results["output"],
}

# The probe runs in the image right after the grading, while what the grading left (processes of
# the image's pid namespace, its /tmp and /dev/shm, both tmpfs of the one command) still exists.
PROBE = Path(__file__).parent / "attack_probes.py"
GRADE_THEN_PROBE = ("sh", "-c", "/autograder/run_autograder && PYTHONPATH=/autograder/source/kit "
                                "/autograder/venv/bin/python /autograder/probe/attack_probes.py /autograder/probe/left.json")


@pytest.fixture(scope="module")
def attack_site(image):
    """What the attacks aim at in the image, and what they must not change.

    A root-only secret at the image root (its access time set before its change time, so that
    one read moves it, relatime or not) and a secret in the grader's environment, one token in
    both; a listener on loopback, which the image shares with the host; the course Gradescope
    grades from and the installed packages. The probe and the helper it imports are copied in.
    """
    marker = f"kitattack{uuid.uuid4().hex[:10]}"
    token = uuid.uuid4().hex
    secret = image.path / "root" / "secret.txt"
    secret.write_text(f"secret {token}")
    secret.chmod(0o600)
    os.utime(secret, (secret.stat().st_mtime - 100, secret.stat().st_mtime))
    probe = image.path / "autograder" / "probe"
    probe.mkdir(exist_ok=True)
    for helper in (PROBE, PROBE.with_name("leftovers.py")):
        shutil.copyfile(helper, probe / helper.name)
    autograder = image.path / "autograder"
    site = next((autograder / "venv" / "lib").glob("python3*/site-packages"))
    course = autograder / "source" / "course"
    targets = [site / "numpy" / "__init__.py", autograder / "source" / "kit" / "autograder" / "__init__.py",
               course / "gradebook.db", *course.glob("source/*/*.ipynb"), autograder / "run_autograder"]
    listener = Listener(marker)
    # The course is the one Gradescope grades from (its gradebook, its source notebook with the
    # solutions); a Gradescope container holds no other student's submission to name.
    values = {"marker": marker, "port": listener.port, "secret_file": "/root/secret.txt",
              "course": "/autograder/source/course", "bystander": "bystander"}
    yield {"marker": marker, "token": token, "listener": listener, "probe": probe, "values": values,
           "secret_read": lambda: secret.stat().st_atime, "installed": lambda: fingerprints(targets, site)}
    listener.close()
    secret.unlink()


@pytest.mark.parametrize("attack", IMAGE_ATTACKS, ids=lambda a: a.name)
def test_an_attack_earns_its_honest_part_in_the_sandbox_and_leaves_nothing(image, attack_site, attack):
    """Graded by run_autograder in the image: the sandbox on, the attack's honest part and no more,
    no secret read or shown, no connection, nothing left running or written, in Gradescope's memory."""
    before, read_before = attack_site["installed"](), attack_site["secret_read"]()
    notebook = notebook_bytes(attack.notebook(**attack_site["values"]))
    results, finished = grade(image, {"optimization_methods.ipynb": notebook}, command=GRADE_THEN_PROBE,
                              env={"KIT_ATTACK_TOKEN": attack_site["token"], "KIT_ATTACK_MARKER": attack_site["marker"]})
    assert results["extra_data"] == {"sandbox": True} and "without isolation" not in results["output"]
    assert results["score"] == attack.earns, [(t["name"], t["score"], t["output"]) for t in results["tests"]]
    assert SHOWN_AS.get(attack.name, lambda results: True)(results), results
    assert attack_site["secret_read"]() == read_before
    assert attack_site["token"] not in json.dumps(results) + finished.stdout + finished.stderr
    assert attack_site["listener"].connections == []
    left = json.loads((attack_site["probe"] / "left.json").read_text())
    assert left == {"processes": [], "files": [], "strays": [], "scratch": []}
    assert attack_site["installed"]() == before
    assert finished.peak_memory < GRADESCOPE_MEMORY, finished.peak_memory
