"""Grade one submission: a notebook in; scores, messages and a status out.

The task is self-contained so that it can run anywhere the kit is installed: it builds a scratch
nbgrader course from the assignment's source, a copy of the gradebook and the (repaired)
notebook, runs real ``nbgrader autograde`` there under a wall-clock and a memory limit, and
reads back what nbgrader stored. It never writes to the instructor's course.
"""

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import psutil
from nbgrader.api import Gradebook

from ..assign.release import nbgrader_environment
from .sanitize import SubmissionError, read_submission, repair

GRADED, WARNINGS, FAILED = "graded", "graded with warnings", "failed"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KERNEL_DIED = "Kernel died"
STOPPED_CELL = ('raise RuntimeError("When this notebook was graded, this cell stopped the Python kernel '
                '(a crash, a killed process or running out of memory), so it was not run.")')
STOPPED_FUNCTION = ("def {name}(*args, **kwargs):\n"
                    "    raise RuntimeError(\"When this notebook was graded, {name} stopped the Python kernel "
                    "(a crash, a killed process or running out of memory), so it was replaced by this error.\")")


@dataclass
class Task:
    """What one grading needs: where the course is and whose submission to grade."""

    course: str
    course_id: str
    assignment: str
    notebook: str
    student: str
    timeout: float = 300.0
    memory_bytes: int = 4 << 30
    gradebook: str = ""  # a gradebook file holding the assignment; the course's by default


@dataclass
class Result:
    """What grading one submission produced."""

    student: str
    status: str
    reason: str = ""
    warnings: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    seconds: float = 0.0
    submission_sha256: str = ""
    autograded_notebook: str = ""

    def to_json(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))

    @property
    def total(self):
        return sum(self.scores.values())


def submission_path(task):
    return Path(task.course) / "submitted" / task.student / task.assignment / task.notebook


def fingerprint(path):
    """SHA-256 of a submitted file: a changed submission is graded again, an unchanged one is not."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else ""


def graded_points(release):
    """[(grade_id, points)] of a released notebook's graded cells, in notebook order."""
    return [(cell.metadata["nbgrader"]["grade_id"], float(cell.metadata["nbgrader"]["points"]))
            for cell in release.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def run_task(task, autograde=None):
    """Grade `task`'s submission and return a `Result`; never raises for a bad submission.

    `autograde(task, scratch)` runs nbgrader in a scratch course and returns "ok", KERNEL_DIED
    or nbgrader's error; by default a limited ``nbgrader autograde`` process (`autograde_process`).
    """
    start = time.monotonic()
    course = Path(task.course)
    release = nbformat.read(course / "release" / task.assignment / task.notebook, as_version=4)
    result = Result(task.student, GRADED, max_scores=dict(graded_points(release)))
    path = submission_path(task)
    result.submission_sha256 = fingerprint(path)
    try:
        if not path.is_file():
            raise SubmissionError(f"no {task.notebook} in the submission")
        notebook, result.warnings = repair(read_submission(path.read_bytes()), release)
        _grade(task, notebook, result, autograde or autograde_process)
    except SubmissionError as error:
        result.status, result.reason = FAILED, str(error)
    if result.status == FAILED:
        result.scores = {grade_id: 0.0 for grade_id in result.max_scores}
    elif result.warnings:
        result.status = WARNINGS
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _grade(task, notebook, result, autograde, attempts=3):
    """Autograde `notebook`; when a cell kills the kernel, grade again without that cell."""
    deadline = time.monotonic() + task.timeout
    for _ in range(attempts):
        with tempfile.TemporaryDirectory(prefix=f"grade-{task.student[:40]}-") as scratch:
            scratch = Path(scratch)
            _scratch_course(task, notebook, scratch)
            if deadline - time.monotonic() <= 0:
                raise SubmissionError(f"grading took longer than the {task.timeout:.0f} s allowed for one submission")
            outcome = autograde(task, scratch)
            if outcome == "ok":
                _read_back(task, scratch, result)
                return
        if outcome == "timeout":
            raise SubmissionError(f"grading took longer than the {task.timeout:.0f} s allowed for one submission")
        if outcome != KERNEL_DIED:
            raise SubmissionError(f"nbgrader could not grade it: {outcome}")
        dying = _cells_that_kill_the_kernel(task, notebook, deadline - time.monotonic())
        if not neutralize(notebook, dying, result.warnings):
            raise SubmissionError("the Python kernel died while grading, and no single cell could be blamed")
    raise SubmissionError("the Python kernel kept dying while grading")


def neutralize(notebook, dying, warnings):
    """Stop the cells in `dying` (indices) from killing the kernel again; True if any was changed.

    A student's own cell is replaced by an error. nbgrader puts test and read-only cells back as
    they were, so for a dying test cell of function f it is f's answer that is replaced.
    """
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    changed = False
    for index in dying:
        cell = notebook.cells[index]
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") or not (meta.get("locked") or meta.get("grade")):
            if cell.source != STOPPED_CELL:
                cell.source, changed = STOPPED_CELL, True
                warnings.append(f"cell {meta.get('grade_id') or index + 1} stopped the Python kernel; it was not run")
            continue
        for function, answer in answers.items():
            stub = STOPPED_FUNCTION.format(name=function)
            if meta.get("grade_id", "").startswith(f"test_{function}_") and answer.source != stub:
                answer.source, changed = stub, True
                warnings.append(f"{function} stopped the Python kernel when its tests ran; it was graded as not working")
    return changed


def _scratch_course(task, notebook, scratch):
    course = Path(task.course)
    shutil.copyfile(course / "nbgrader_config.py", scratch / "nbgrader_config.py")
    shutil.copytree(course / "source" / task.assignment, scratch / "source" / task.assignment)
    shutil.copyfile(task.gradebook or course / "gradebook.db", scratch / "gradebook.db")
    submitted = scratch / "submitted" / task.student / task.assignment
    submitted.mkdir(parents=True)
    nbformat.write(notebook, submitted / task.notebook)
    timestamp = submission_path(task).parent / "timestamp.txt"
    if timestamp.is_file():
        shutil.copyfile(timestamp, submitted / "timestamp.txt")


def _limits(memory_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def _ipython_dir(folder):
    """An IPython directory whose start-up file installs the kernel guard."""
    startup = Path(folder) / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("kernel_guard.py"), startup / "00-kernel-guard.py")
    return startup.parent.parent


def install_kernel_guard(folder):
    """Make every kernel this process starts from now on load the kernel guard."""
    os.environ["IPYTHONDIR"] = str(_ipython_dir(folder))


def run_limited(command, cwd, seconds, memory_bytes):
    """Run `command` in its own process group under a memory limit that its children (the
    kernel) inherit; kill the whole group after `seconds`. Returns (exit code or None, output).
    Kernels started by it load the kernel guard."""
    if seconds <= 0:
        return None, ""
    env = dict(nbgrader_environment(), IPYTHONDIR=str(_ipython_dir(cwd)))
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, preexec_fn=_limits(memory_bytes))
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        process.communicate()
        return None, ""
    kill_tree(process)  # a kernel left behind by a crash must not outlive its submission
    return process.returncode, output


def kill_tree(process):
    """Kill `process` and every process it started: kernels run in sessions of their own, so
    killing the process group would leave them behind (spinning in an endless loop, say)."""
    try:
        root = psutil.Process(process.pid)
        family = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=5)


def autograde_process(task, scratch):
    """Run ``nbgrader autograde`` in the scratch course, limited: "ok", "timeout", KERNEL_DIED or the error."""
    command = [str(Path(sys.executable).parent / "nbgrader"), "autograde", task.assignment,
               f"--student={task.student}", "--force"]
    code, log = run_limited(command, scratch, task.timeout, task.memory_bytes)
    if code is None:
        return "timeout"
    if code == 0 and (scratch / "autograded" / task.student / task.assignment / task.notebook).is_file():
        return "ok"
    if KERNEL_DIED in log or "DeadKernelError" in log:
        return KERNEL_DIED
    errors = [line for line in log.splitlines() if "ERROR" in line or "CRITICAL" in line]
    return (errors[0] if errors else log.strip()[-300:]) or f"exit code {code}"


def _read_back(task, scratch, result):
    db_url = f"sqlite:///{scratch / 'gradebook.db'}"
    with Gradebook(db_url, task.course_id) as gradebook:
        submission = gradebook.find_submission(task.assignment, task.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                result.scores[grade.name] = float(grade.auto_score or 0.0)
    autograded = scratch / "autograded" / task.student / task.assignment / task.notebook
    result.autograded_notebook = autograded.read_text()
    for cell in nbformat.reads(result.autograded_notebook, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in result.max_scores and cell.cell_type == "code":
            result.messages[grade_id] = cell_message(cell)


def cell_message(cell):
    """What a graded cell said: its error's last line, or the ✓ lines it printed."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename in ("KeyboardInterrupt", "CellTimeoutError"):  # nbgrader's per-cell time limit
                return "did not finish in the time allowed for one cell: an endless loop, or very slow code?"
            if output.ename == "NotImplementedError":
                return "not implemented yet (it still raises NotImplementedError)"
            lines = [ANSI.sub("", line) for line in output.traceback if line.strip()]
            return lines[-1] if lines else f"{output.ename}: {output.evalue}"
    printed = "".join(output.get("text", "") for output in cell.get("outputs", [])
                      if output.output_type == "stream" and output.name == "stdout")
    return "\n".join(line for line in printed.splitlines() if line.startswith("✓"))


def as_nbgrader_runs_it(notebook, source):
    """`notebook` with its test and read-only cells put back as in `source`, hidden tests included,
    as nbgrader's autograde does before running it."""
    originals = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in source.cells
                 if cell.metadata.get("nbgrader", {}).get("locked") or cell.metadata.get("nbgrader", {}).get("grade")}
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in originals and not cell.metadata["nbgrader"].get("solution"):
            cell.source = originals[grade_id]
    return notebook


def _cells_that_kill_the_kernel(task, notebook, seconds_left):
    """The indices of the code cells during which the kernel dies, found by `probe` under the limits."""
    source = Path(task.course) / "source" / task.assignment
    with tempfile.TemporaryDirectory(prefix="kernel-death-") as folder:
        shutil.copytree(source, folder, dirs_exist_ok=True)
        nbformat.write(as_nbgrader_runs_it(notebook, nbformat.read(source / task.notebook, as_version=4)),
                       Path(folder) / task.notebook)
        command = [sys.executable, "-m", "autograder.grade.probe", str(Path(folder) / task.notebook), folder,
                   str(min(60.0, max(seconds_left, 1)))]
        _, output = run_limited(command, folder, seconds_left, task.memory_bytes)
    return [int(line) for line in output.split() if line.isdigit()]
