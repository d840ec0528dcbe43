"""autograder grade: a whole class with two workers, every kind of broken submission, resumable."""

import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from pathlib import Path

import nbformat
import psutil
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.grade.workers import run_folder_prefixes
from course import make_course, release_notebook, scores, solved_notebook, submit, with_answer
from autograder.assignments.optimization_methods.sample_class import WRONG
from autograder.sandbox.lifetime import processes_naming

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimization_methods"
# Answers of initialize_velocity (worth 10 points) that misbehave; everything else is right.
LOOPS = "def initialize_velocity(parameters):\n    while True:\n        pass"
EXITS = "import os\n\ndef initialize_velocity(parameters):\n    os._exit(0)"
KILLS = "import os, signal\n\ndef initialize_velocity(parameters):\n    os.kill(os.getpid(), signal.SIGKILL)"
ALLOCATES = ("def initialize_velocity(parameters):\n    huge = np.ones(20 * 2**30 // 8)\n"
             "    return {'d' + k: np.zeros_like(p) for k, p in parameters.items()}")
# Lines of a kilobyte: 4 MiB are printed within a fraction of the per-cell limit even on a busy machine.
PRINTS = ("def initialize_velocity(parameters):\n    for i in range(10_000_000):\n        print(f'{i:>1000}')\n"
          "    return {'d' + k: np.zeros_like(p) for k, p in parameters.items()}")


def graded_cell(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def duplicated():
    notebook = solved_notebook()
    index = graded_cell(notebook, "update_parameters_with_gd")
    notebook.cells.insert(index, copy.deepcopy(notebook.cells[index]))
    return notebook


def deleted_and_moved():
    notebook = solved_notebook()
    del notebook.cells[graded_cell(notebook, "test_initialize_adam_deep_network")]
    notebook.cells.append(notebook.cells.pop(graded_cell(notebook, "update_parameters_with_adam")))
    return notebook


def edited():
    notebook = solved_notebook()
    notebook.cells[graded_cell(notebook, "test_initialize_adam_visible")].source = "print('all good')"
    notebook.cells[graded_cell(notebook, "test_update_parameters_with_adam_epsilon")].metadata["nbgrader"]["points"] = 70
    return notebook


# student: (file contents, expected status, expected total)
CLASS = {
    "solved": (solved_notebook(), "graded", 100),
    "blank": (release_notebook(), "graded", 0),
    "wrong_adam": (with_answer(solved_notebook(), "update_parameters_with_adam",
                               next(v.source for v in WRONG if v.name == "epsilon_inside_root")), "graded", 93),
    "not_json": (b"\x89PNG\r\n\x1a\n not a notebook", "failed", 0),
    "not_a_notebook": (b'{"answers": [1, 2, 3]}', "failed", 0),
    "empty": (nbformat.v4.new_notebook(), "failed", 0),
    "duplicated": (duplicated(), "graded with warnings", 100),
    "deleted_and_moved": (deleted_and_moved(), "graded with warnings", 100),
    "edited": (edited(), "graded with warnings", 100),
    "endless_loop": (with_answer(solved_notebook(), "initialize_velocity", LOOPS), "graded", 90),
    "os_exit": (with_answer(solved_notebook(), "initialize_velocity", EXITS), "graded", 90),
    "killed_kernel": (with_answer(solved_notebook(), "initialize_velocity", KILLS), "graded with warnings", 90),
    "allocates_20_gb": (with_answer(solved_notebook(), "initialize_velocity", ALLOCATES), "graded", 90),
}


def put(course, student, contents):
    if isinstance(contents, bytes):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(contents)
    else:
        submit(course, student, contents)


def short_timeouts(course):
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.Execute.timeout = 5\n")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("class"))
    short_timeouts(course)
    for student, (contents, _, _) in CLASS.items():
        put(course, student, contents)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--jobs", "2",
                                       "--memory-limit", "3G", "--timeout", "240", "--no-progress"],
                                catch_exceptions=False)
    return course, result, time.monotonic() - started


def ledger(course, student):
    return json.loads((course / ".autograder" / ASSIGNMENT / "results" / f"{student}.json").read_text())


@pytest.mark.parametrize("student", CLASS)
def test_every_submission_gets_a_status_and_the_score_of_what_works(graded_class, student):
    course, run, _ = graded_class
    assert run.exit_code == 0, run.output
    _, status, total = CLASS[student]
    stored = ledger(course, student)
    assert (stored["status"], sum(stored["scores"].values())) == (status, total), stored["reason"] or stored["warnings"]
    assert sum(score or 0 for score in scores(course)[student].values()) == total
    if status == "failed":
        assert stored["reason"]


def test_failure_reasons_are_clear(graded_class):
    course, _, _ = graded_class
    assert ledger(course, "not_json")["reason"].startswith("the file is not a notebook: it is not even JSON")
    assert ledger(course, "not_a_notebook")["reason"] == "the file is JSON but not a Jupyter notebook (it has no cells)"
    assert ledger(course, "empty")["reason"] == "the notebook is empty: it has no cells"
    assert ledger(course, "killed_kernel")["warnings"] == [
        "initialize_velocity stopped the Python kernel when its tests ran; it was graded as not working"]


def test_messages_of_the_hidden_tests_are_kept(graded_class):
    course, _, _ = graded_class
    messages = ledger(course, "wrong_adam")["messages"]
    assert messages["test_update_parameters_with_adam_epsilon"].startswith(
        "✗ update_parameters_with_adam: adds ε inside the square root")
    assert messages["test_update_parameters_with_adam_moments"].startswith("✓")


def test_autograded_notebooks_are_where_nbgrader_puts_them(graded_class):
    course, _, _ = graded_class
    for student, (_, status, _) in CLASS.items():
        path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert path.is_file() == (status != "failed"), student


def test_a_function_that_floods_its_output_loses_its_own_points_only(tmp_path):
    """Printing ten million lines (10 GB) takes longer than the per-cell limit, so the visible
    test and each hidden test of initialize_velocity time out, and everything else scores. Its
    output is dropped past 4 MiB, and what it printed while the grader judged it is not left
    queued for the next cell: with nbclient's wait for a cell's output cut from 4 s to 1 s, that
    backlog failed the next cell (update_parameters_with_momentum, 20 points) in 4 runs of 4
    (and in 1 of 4 at 4 s)."""
    course = make_course(tmp_path / "course")
    short_timeouts(course)
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.Execute.iopub_timeout = 1\n")
    submit(course, "floods", with_answer(solved_notebook(), "initialize_velocity", PRINTS))
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--jobs", "1",
                                    "--memory-limit", "3G", "--timeout", "240", "--no-progress"])
    assert run.exit_code == 0, run.output
    stored = ledger(course, "floods")
    assert (stored["status"], sum(stored["scores"].values())) == ("graded with warnings", 90), stored["warnings"]
    assert {grade_id for grade_id, score in stored["scores"].items() if score == 0} == {
        grade_id for grade_id in stored["scores"] if grade_id.startswith("test_initialize_velocity_")}
    assert not [warning for warning in stored["warnings"] if warning.startswith("cell ")]
    assert "the notebook's cells printed or showed more than 4 MiB; the rest of their output was not kept" in \
        stored["warnings"]
    path = course / "autograded" / "floods" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 2_000_000


def test_nbgrader_export_reads_the_gradebook(graded_class):
    course, _, _ = graded_class
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export"], cwd=course, env=env,
                   check=True, capture_output=True)
    rows = (course / "grades.csv").read_text().splitlines()
    assert len(rows) == len(CLASS) + 1
    assert any(row.split(",")[3] == "wrong_adam" and row.split(",")[7] == "93.0" for row in rows[1:])


def test_a_second_run_grades_nothing_again(graded_class):
    course, _, _ = graded_class
    before = {s: ledger(course, s) for s in CLASS}
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--no-progress"])
    assert f"{len(CLASS)} already graded" in run.output and "0 graded in this run" in run.output
    assert {s: ledger(course, s) for s in CLASS} == before


def test_force_regrades_only_the_chosen_student(graded_class):
    course, _, _ = graded_class
    before = ledger(course, "solved")
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--student", "solved",
                                    "--force", "--no-progress"])
    assert "1 graded in this run" in run.output
    after = ledger(course, "solved")
    assert after["seconds"] != before["seconds"] and after["scores"] == before["scores"]


def test_killed_run_is_finished_by_the_next_without_regrading(tmp_path):
    course = make_course(tmp_path / "course")
    students = [f"student{i}" for i in range(4)]
    for student in students:
        submit(course, student, solved_notebook())
    command = [sys.executable, "-m", "autograder.cli", "--course", str(course), "grade", ASSIGNMENT,
               "--jobs", "1", "--no-progress"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = course / ".autograder" / ASSIGNMENT / "results"
    deadline = time.monotonic() + 120
    while not (results.is_dir() and list(results.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    first = {path.name: path.read_text() for path in results.glob("*.json")}
    assert 1 <= len(first) < len(students)

    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--no-progress"])
    assert f"{len(first)} already graded" in run.output
    assert all((results / name).read_text() == text for name, text in first.items())
    assert {student: sum(cells.values()) for student, cells in scores(course).items()} == {s: 100 for s in students}
    # The killed run's workers could not clean up after themselves; the next run did.
    assert [folder for prefix in run_folder_prefixes(process.pid)
            for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*")] == []


def test_grading_an_assignment_the_gradebook_lacks_says_what_to_do(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT])
    assert run.exit_code != 0 and "run `nbgrader generate_assignment optimization_methods` first" in run.output


@pytest.fixture(scope="module")
def outputs(graded_class):
    course, _, _ = graded_class
    for command in ("feedback", "export", "report"):
        run = CliRunner().invoke(main, ["--course", str(course), command, ASSIGNMENT], catch_exceptions=False)
        assert run.exit_code == 0, run.output
    return course


def feedback_page(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_feedback_shows_points_per_function_and_the_diagnosis_only(outputs):
    page = feedback_page(outputs, "wrong_adam")
    assert "93 / 100 points" in page
    assert "<code>update_parameters_with_adam</code>: <span class=\"fail\">23 / 30</span>" in page
    assert "adds ε inside the square root" in page
    for secret in ("run_check", "HIDDEN TESTS", "autograder", "Traceback", "def update_parameters_with_adam",
                   "np.sqrt(s_hat)"):
        assert secret not in page, secret


def test_feedback_of_a_failed_submission_gives_the_reason(outputs):
    assert "could not be graded: the notebook is empty: it has no cells" in feedback_page(outputs, "empty")


def test_export_has_nbgrader_columns_one_per_function_and_the_status(outputs):
    rows = (outputs / "exports" / ASSIGNMENT / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:11] == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                           "raw_score", "late_submission_penalty", "score", "max_score"]
    assert header[11:] == ["update_parameters_with_gd", "random_mini_batches", "initialize_velocity",
                           "update_parameters_with_momentum", "initialize_adam", "update_parameters_with_adam", "status"]
    row = next(dict(zip(header, r.split(","))) for r in rows[1:] if r.split(",")[3] == "killed_kernel")
    assert (row["score"], row["initialize_velocity"], row["initialize_adam"], row["status"]) == \
        ("90.0", "0.0", "10.0", "graded with warnings")
    results = json.loads((outputs / "exports" / ASSIGNMENT / "results" / "wrong_adam.json").read_text())
    assert results["score"] == 93 and len(results["tests"]) == 6


def test_report_has_figures_mistakes_failures_and_times(outputs):
    page = (outputs / "reports" / f"{ASSIGNMENT}.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "adds ε inside the square root" in page
    assert "the file is JSON but not a Jupyter notebook (it has no cells)" in page
    assert "Grading time" in page and "Pass rate per function" in page


def processes_of_runs_in_this_process():
    """The worker fork server, workers and kernels of gradings this process ran, wherever they are: each
    names its run's scratch folder (``grading-worker-<pid>-…``, ``grading-forkserver-<pid>-…``) in its
    command line, a kernel forked from the kernel fork server too."""
    return processes_naming(*run_folder_prefixes(os.getpid()))


def test_a_submission_over_its_time_fails_and_the_next_is_graded(tmp_path):
    course = make_course(tmp_path / "course")
    submit(course, "slow", with_answer(solved_notebook(), "initialize_velocity", LOOPS))
    submit(course, "zz_after", solved_notebook())
    run = CliRunner().invoke(main, ["--course", str(course), "grade", ASSIGNMENT, "--jobs", "1", "--timeout", "8",
                                    "--no-progress"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    slow = ledger(course, "slow")
    assert (slow["status"], slow["reason"]) == ("failed", "grading took longer than the 8 s allowed for one submission")
    assert sum(ledger(course, "zz_after")["scores"].values()) == 100
    psutil.wait_procs(processes_of_runs_in_this_process(), timeout=10)
    assert processes_of_runs_in_this_process() == [], "a kernel or worker outlived its run"
