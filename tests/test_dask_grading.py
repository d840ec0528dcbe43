"""Grading on a real Dask cluster on loopback: a scheduler and two workers started with the
``dask`` command-line tools, one of them killed mid-run."""

import csv
import hashlib
import json
import resource
import threading
import time
import uuid

import nbformat
import psutil
import pytest
from click.testing import CliRunner

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.cli import main
from autograder.assignments.optimization_methods.sample_class import VARIANTS
from autograder.sandbox.lifetime import processes_naming
from big_outputs import peak_growth, write_with_outputs
from course import make_course, release_notebook, solved_notebook, submit, submit_right_wrong_blank, with_answer
from dask_cluster import Cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield started.start()
    finally:
        started.stop()


def a_class(course):
    """Ten submissions: right, wrong and blank, and seven mistakes of the catalog."""
    submit_right_wrong_blank(course)
    for number, variant in enumerate(VARIANTS[:7]):
        notebook = solved_notebook()
        with_answer(notebook, variant.function, variant.source)
        submit(course, f"mistake{number}", notebook)


def grades(course):
    folder = course / ".autograder" / ASSIGNMENT / "results"
    return {path.stem: (json.loads(path.read_text())["status"], json.loads(path.read_text())["scores"])
            for path in folder.glob("*.json")}


def manifest_students(course):
    with (course / ".autograder" / ASSIGNMENT / "grade-manifest.csv").open() as handle:
        return [row["student"] for row in csv.DictReader(handle)]


def test_a_class_graded_on_dask_despite_a_lost_worker_matches_local_grading(cluster, tmp_path):
    local, remote = make_course(tmp_path / "local"), make_course(tmp_path / "remote")
    for course in (local, remote):
        a_class(course)
    run = CliRunner().invoke(main, ["--course", str(local), "grade", ASSIGNMENT, "--jobs", "2", "--no-progress"])
    assert run.exit_code == 0, run.output

    results = remote / ".autograder" / ASSIGNMENT / "results"

    stored_when_killed = []

    def kill_a_worker_once_grading_is_under_way():
        for _ in range(3000):
            if results.is_dir() and len(list(results.glob("*.json"))) >= 2:
                break
            time.sleep(0.05)
        cluster.kill("worker0")
        stored_when_killed.append(len(list(results.glob("*.json"))))

    killer = threading.Thread(target=kill_a_worker_once_grading_is_under_way)
    killer.start()
    run = CliRunner().invoke(main, ["--course", str(remote), "grade", ASSIGNMENT, "--dask-scheduler",
                                    cluster.address, "--no-progress"])
    killer.join()
    assert run.exit_code == 0, run.output
    assert 2 <= stored_when_killed[0] < len(grades(local))  # it was killed mid-run
    assert grades(remote) == grades(local)  # the same statuses and scores as local grading
    students = manifest_students(remote)
    assert sorted(students) == sorted(set(students)) == sorted(grades(local))  # each stored exactly once


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    course = make_course(tmp_path / "course")
    submit(course, "someone", solved_notebook())
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--dask-scheduler",
                                    "tcp://127.0.0.1:9", "--no-progress"])
    assert run.exit_code != 0 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.output


def grading_processes_of(pid):
    """The grading processes forked by the fork server that `pid` descends from."""
    for ancestor in psutil.Process(pid).parents():
        if "autograder.grade.worker_forkserver" in " ".join(ancestor.cmdline()):
            return [child for child in ancestor.children()
                    if "autograder.grade.worker_forkserver" in " ".join(child.cmdline())]
    return []


def ledger_entry(course, student):
    return json.loads((course / ".autograder" / ASSIGNMENT / "results" / f"{student}.json").read_text())


def failure_reason(course, student):
    return ledger_entry(course, student)["reason"]


@pytest.mark.parametrize("where", ["local", "dask"])
def test_a_submission_that_kills_its_grading_process_or_is_huge_fails_alone(cluster, tmp_path, where):
    """Locally and on Dask: the process grading one submission is killed (as the kernel's OOM
    killer would), and another is a 3 GiB file (sparse: no disk). Each fails with its reason;
    the coordinator neither reads the huge file into memory nor sends it anywhere; the rest of the
    class is graded and the Dask workers live on."""
    course = make_course(tmp_path / "course")
    submit_right_wrong_blank(course)
    marker = f"kit-doomed-{uuid.uuid4().hex[:8]}"
    doomed = release_notebook()
    doomed.cells.append(nbformat.v4.new_code_cell(
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', '{marker}'])\ntime.sleep(120)"))
    submit(course, "doomed", doomed)
    with (submit(course, "huge", solved_notebook()) / f"{ASSIGNMENT}.ipynb").open("r+b") as handle:
        handle.truncate(3 << 30)
    killed = []

    def kill_its_grading_process():
        for _ in range(1200):
            found = processes_naming(marker)
            if found:
                for process in grading_processes_of(found[0].pid):
                    process.kill()
                    killed.append(process.pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_its_grading_process)
    killer.start()
    alive = [name for name, process in cluster.processes.items() if process.poll() is None]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
    # One grading process per fork server: each Dask worker has its own; locally, one job.
    on = ["--dask-scheduler", cluster.address] if where == "dask" else ["--jobs", "1"]
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, *on, "--no-progress"])
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10) - before
    killer.join()
    assert run.exit_code == 0, run.output
    assert killed
    graded = grades(course)
    assert sorted(graded) == ["blank", "doomed", "huge", "right", "wrong"]
    assert graded["doomed"][0] == graded["huge"][0] == "failed"
    assert "the grading process died on this submission" in failure_reason(course, "doomed")
    assert "3,072 MiB, more than the 1,024 MiB a submitted notebook may be" in failure_reason(course, "huge")
    assert all(status != "failed" for student, (status, _) in graded.items() if student not in ("doomed", "huge"))
    assert sum(graded["right"][1].values()) == 100
    assert grown < 512 << 20, f"the coordinator grew by {grown >> 20} MiB"
    assert [name for name, process in cluster.processes.items() if process.poll() is None] == alive


def test_a_notebook_of_outputs_travels_to_dask_without_them(cluster, tmp_path):
    """A solved notebook with 200 MB of printed rows earns full marks on Dask; the coordinator
    sends the worker the notebook without its outputs (it never holds the file), and the ledger
    keeps the submitted file's SHA-256, so the next run grades nothing again."""
    course = make_course(tmp_path / "course")
    submit(course, "right", solved_notebook())
    printed = write_with_outputs(solved_notebook(), submit(course, "printed", solved_notebook()) / f"{ASSIGNMENT}.ipynb",
                                 200 << 20)
    grade = "main(['--course', sys.argv[1], 'grade', sys.argv[2], '--dask-scheduler', sys.argv[3], '--no-progress'], " \
            "standalone_mode=False)"
    grown, printed_lines = peak_growth(f"import sys\nfrom autograder.cli import main\n# measured\n{grade}",
                                       course, ASSIGNMENT, cluster.address)
    assert "2 graded in this run, 0 failed" in " ".join(printed_lines)
    graded = grades(course)
    assert sum(graded["printed"][1].values()) == sum(graded["right"][1].values()) == 100
    with open(printed, "rb") as handle:
        assert ledger_entry(course, "printed")["submission_sha256"] == hashlib.file_digest(handle, "sha256").hexdigest()
    assert grown < 100 << 20, f"the coordinator's peak grew by {grown >> 20} MiB for a {printed.stat().st_size >> 20} MiB file"
    again = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--dask-scheduler", cluster.address,
                                      "--no-progress"])
    assert "2 already graded (unchanged since)" in again.output and "0 graded in this run" in again.output


def test_the_coordinator_sends_notebooks_only_as_far_ahead_as_its_budget(cluster, tmp_path, monkeypatch):
    """With room for one notebook in flight, the scheduler never holds a class's worth of
    gradings (and of notebooks) at once: the next one is sent when a result is in."""
    from distributed import Client

    from autograder.grade import cluster as on_cluster

    course = make_course(tmp_path / "course")
    for number in range(4):
        submit(course, f"student{number}", solved_notebook())
    monkeypatch.setattr(on_cluster, "IN_FLIGHT_BYTES", 1)
    most, grading = [0], threading.Event()

    def count_gradings_on_the_scheduler():
        with Client(cluster.address, timeout=20) as watcher:
            while not grading.is_set():
                held = watcher.run_on_scheduler(
                    lambda dask_scheduler: sum(str(key).startswith("grade-") for key in dask_scheduler.tasks))
                most[0] = max(most[0], held)
                time.sleep(0.05)

    watcher = threading.Thread(target=count_gradings_on_the_scheduler)
    watcher.start()
    try:
        run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--dask-scheduler",
                                        cluster.address, "--no-progress"])
    finally:
        grading.set()
        watcher.join()
    assert run.exit_code == 0 and "4 graded in this run, 0 failed" in run.output, run.output
    assert 1 <= most[0] <= 2, f"the scheduler held {most[0]} gradings at once"
