"""The attack catalog graded by the real ``autograder grade``: no point without the right values,
nothing reachable, nothing left behind, and everyone else graded in the same run."""

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

import numpy
import pytest
from click.testing import CliRunner
from nbconvert import HTMLExporter

import autograder
from autograder.cli import main
from attack_probes import Listener, fingerprints, leftovers, scratch_folders
from attacks import ATTACKS
from course import make_course, solved_notebook, submit
from dask_cluster import Cluster
from hostile_content import live_payloads

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimization_methods"
BYSTANDER = "bystander"


def installed_files():
    """Files an attack would poison, and the names in site-packages."""
    return fingerprints([numpy.__file__, autograder.__file__], Path(numpy.__file__).resolve().parent.parent)


@pytest.fixture(scope="module", params=["local", "dask"])
def attacked(request, tmp_path_factory):
    """The catalog graded by local workers, and by the workers of a Dask cluster on loopback."""
    course = make_course(tmp_path_factory.mktemp("attacked"))
    marker = f"kitattack{uuid.uuid4().hex[:10]}"
    token = uuid.uuid4().hex
    secret_file = tmp_path_factory.mktemp("private") / "secret.txt"
    secret_file.write_text(f"secret {token}")
    listener = Listener(marker)
    values = {"marker": marker, "port": listener.port, "secret_file": secret_file, "course": course,
              "bystander": BYSTANDER}
    submit(course, BYSTANDER, solved_notebook())
    for attack in ATTACKS:
        submit(course, attack.name, attack.notebook(**values))
    before = installed_files()
    kernels_before = scratch_folders()
    os.environ["KIT_ATTACK_TOKEN"] = token  # the grader's environment holds a secret too
    cluster = Cluster(tmp_path_factory.mktemp("dask")) if request.param == "dask" else None
    try:
        where = ["--dask-scheduler", cluster.start(2).address] if cluster else ["--jobs", "2"]
        run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, *where, "--no-progress"])
    finally:
        del os.environ["KIT_ATTACK_TOKEN"]
        if cluster:
            cluster.stop()
    time.sleep(1)
    listener.close()
    return {"course": course, "run": run, "marker": marker, "token": token, "listener": listener,
            "before": before, "after": installed_files(), "kernels": scratch_folders() - kernels_before}


def ledger(course, student):
    return json.loads((course / ".autograder" / ASSIGNMENT / "results" / f"{student}.json").read_text())


def test_the_class_is_graded_in_one_run(attacked):
    assert attacked["run"].exit_code == 0, attacked["run"].output
    graded = {path.stem for path in (attacked["course"] / ".autograder" / ASSIGNMENT / "results").glob("*.json")}
    assert graded == {BYSTANDER} | {attack.name for attack in ATTACKS}


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_each_attack_earns_exactly_its_honest_part(attacked, attack):
    result = ledger(attacked["course"], attack.name)
    assert result["status"] != "failed", result["reason"]
    assert sum(result["scores"].values()) == attack.earns, result["messages"]


def test_a_flood_of_output_is_cut_and_the_student_told(attacked):
    """80 MB printed: the autograded notebook keeps 4 MiB of it, with a note, and a warning says so."""
    result = ledger(attacked["course"], "output_flood")
    assert any("more than 4 MiB; the rest of their output was not kept" in w for w in result["warnings"])
    kept = list((attacked["course"] / "autograded" / "output_flood").rglob("*.ipynb"))
    assert kept and all(path.stat().st_size < 6 << 20 for path in kept)
    assert "The grader kept no more of this notebook's output" in kept[0].read_text()


def test_the_bystander_is_untouched(attacked):
    course = attacked["course"]
    result = ledger(course, BYSTANDER)
    assert (result["status"], sum(result["scores"].values())) == ("graded", 100)
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_no_connection_reached_the_grader(attacked):
    assert attacked["listener"].connections == []


def test_no_secret_reached_any_output(attacked):
    course = attacked["course"]
    texts = [p.read_text(errors="replace") for folder in ("autograded", ".autograder")
             for p in (course / folder).rglob("*") if p.is_file() and p.suffix in (".ipynb", ".json")]
    assert texts and not any(attacked["token"] in text for text in texts)
    assert not any(f"/{BYSTANDER}'" in text or f"'{BYSTANDER}'" in text
                   for text in texts if "other_submissions" in text)


def test_nothing_is_left_behind(attacked):
    assert leftovers(attacked["marker"]) == ([], [])
    assert attacked["kernels"] == set()
    assert attacked["after"] == attacked["before"]
    groups = Path("/sys/fs/cgroup/pids/autograder")
    if groups.is_dir():
        assert [p for p in groups.iterdir() if p.is_dir() and (p / "cgroup.procs").read_text().strip()] == []


def test_pages_show_hostile_text_as_text(attacked):
    course = attacked["course"]
    for command in ("feedback", "report"):
        run = CliRunner().invoke(main, ["--course", str(course), command, ASSIGNMENT])
        assert run.exit_code == 0, run.output
    pages = {"feedback": (course / "feedback" / "hostile_markup" / ASSIGNMENT).glob("*.html"),
             "report": [course / "reports" / f"{ASSIGNMENT}.html"]}
    for name, paths in pages.items():
        text = "".join(Path(p).read_text() for p in paths)
        assert "<script>" not in text and "<img src=x" not in text, name
    assert "&lt;script&gt;" in "".join(Path(p).read_text() for p in
                                       (course / "feedback" / "hostile_markup" / ASSIGNMENT).glob("*.html"))


def test_the_autograded_notebook_holds_no_script_for_the_instructor(attacked):
    """What formgrader and JupyterLab would show of the attack's outputs: nothing left that runs
    (nbconvert's page, its own sanitizer off), the harmless part kept."""
    path = attacked["course"] / "autograded" / "script_for_the_instructor" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    page, _ = HTMLExporter(template_name="lab").from_filename(str(path))
    assert live_payloads(page, attacked["marker"]) == []
    assert "<b>kept</b>" in page
    assert any("were removed from the autograded notebook" in warning
               for warning in ledger(attacked["course"], "script_for_the_instructor")["warnings"])
