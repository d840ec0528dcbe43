"""Gradescope: build an autograder zip, and grade ``/autograder/submission`` inside it.

The zip holds ``setup.sh`` (installs the kit), ``run_autograder`` (grades), the kit's source and
a ready course directory (source, release, a gradebook holding the assignment). Grading runs the
same task as ``autograder grade`` and writes ``/autograder/results/results.json`` to Gradescope's
specification: one test per graded function with its score, maximum, diagnosis and visibility.
"""

import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path


from . import assignments
from .nbgrader_cli import run_nbgrader
from .course import Course
from .export import gradescope_results
from .grade.task import Task, run_task
from .results import graded_cells, student_view
from .sandbox.policy import SandboxUnavailable, grading_sandbox

KIT = Path(__file__).resolve().parent.parent
# The assignment's support package (its ``release.support_package``) comes too.
KIT_FILES = ("pyproject.toml", "requirements-gradescope.txt", "README.md", "solutions", "autograder", "datasets")
# Of those, what grading does not need: ``make demo``; of each assignment's plug-in, its sample
# class (the mutation catalog); and the other assignments' plug-ins (`not_for_grading`).
NOT_FOR_GRADING = ("autograder/demo.py",)
SAMPLE_CLASS = "sample_class"
STUDENT = "gradescope"
# In the zip's course when it was built with --require-sandbox: a platform that allows no sandbox
# then grades nothing (`policy.grading_sandbox`); without it, it grades without one and says so.
REQUIRE_SANDBOX = "require-sandbox.txt"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image from its base image:
# Ubuntu 22.04 (python3 is 3.10) or 24.04 (3.12). The kit needs Python 3.11 or newer: the
# distribution's python3 where it is new enough, else its python3.11 package (22.04's universe).
# The kit's dependencies are installed at the exact versions of requirements-gradescope.txt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
kit=/autograder/source/kit
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
python=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    if ! apt-cache show python3.11-venv >/dev/null 2>&1; then
        echo "setup.sh: this image's python3 is $(python3 -V 2>&1 | cut -d' ' -f2) and its apt sources have no" \\
             "python3.11 package; the kit needs Python 3.11 or newer (Ubuntu 22.04: enable universe)" >&2
        exit 1
    fi
    apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv >/dev/null
    python=python3.11
fi
"$python" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --no-cache-dir --no-deps --requirement "$kit/requirements-gradescope.txt"
/autograder/venv/bin/python -m pip check
PYTHONPATH="$kit" MPLBACKEND=Agg /autograder/venv/bin/python -c "import autograder.gradescope, matplotlib.pyplot"
echo "setup.sh: the kit runs on $("$python" -V)"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and KIT_PYTHON let it run elsewhere.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
python="${KIT_PYTHON:-$root/venv/bin/python}"
export PYTHONPATH="$root/source/kit${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$(dirname "$python"):$PATH"
exec "$python" -m autograder.gradescope "$root"
"""


# Gradescope grades each submission on its own, with a gradebook file in the zip, whatever
# database the course's gradebook lives in (a server Gradescope could not reach, and must not write).
LOCAL_GRADEBOOK = ("\n# Added by `autograder gradescope`: this copy's gradebook is the file beside it.\n"
                   "c.CourseDirectory.pop('db_url', None)\n")


def build_zip(course, assignment, out, require_sandbox=False):
    """Write the Gradescope autograder zip for `assignment` to `out`; return its path. With
    `require_sandbox`, a platform that allows no sandbox grades nothing and says why."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        scratch = Path(scratch)
        prepared = scratch / "course"
        shutil.copytree(course.root / "source" / assignment, prepared / "source" / assignment,
                        ignore=shutil.ignore_patterns("__pycache__"))
        (prepared / "nbgrader_config.py").write_text(
            (course.root / "nbgrader_config.py").read_text() + LOCAL_GRADEBOOK)
        for folder in course.plugin_folders():  # the course's own assignment plug-ins
            shutil.copytree(course.root / folder, prepared / folder, ignore=shutil.ignore_patterns("__pycache__"))
        run_nbgrader(prepared, "generate_assignment", assignment, "--force")  # release and gradebook
        (prepared / "assignment.txt").write_text(assignment)
        if require_sandbox:
            (prepared / REQUIRE_SANDBOX).write_text("Built with `autograder gradescope --require-sandbox`: "
                                                     "grade nothing where the sandbox cannot be set up.\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            _add_text(archive, "setup.sh", SETUP)
            _add_text(archive, "run_autograder", RUN)
            leave_out = not_for_grading(assignment)
            for name in (*KIT_FILES, assignments.get(assignment).release.support_package):
                _add_tree(archive, KIT / name, f"kit/{name}", leave_out=leave_out)
            _add_tree(archive, prepared, "course")
    return out


def not_for_grading(assignment):
    """The kit's paths the zip of `assignment` leaves out: `NOT_FOR_GRADING`, its plug-in's sample
    class, and every other plug-in of the kit (a course's own live outside the kit)."""
    homes = {name: assignments.home(name) for name in assignments.names()}
    kit_homes = {name: folder for name, folder in homes.items() if KIT in folder.parents}
    others = [folder for name, folder in kit_homes.items() if name != assignment]
    own = [kit_homes[assignment] / SAMPLE_CLASS] if assignment in kit_homes else []
    return (*NOT_FOR_GRADING, *(str(folder.relative_to(KIT)) for folder in others + own))


def _add_text(archive, name, text):
    info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    archive.writestr(info, text)


def _add_tree(archive, path, name, leave_out=()):
    """Add the file or folder `path` as `name`, less byte code and the paths (relative to the kit)
    in `leave_out`."""
    if path.is_file():
        archive.write(path, name)
        return
    for file in sorted(path.rglob("*")):
        if (file.is_file() and "__pycache__" not in file.parts and not file.name.endswith(".pyc")
                and not _under(file, leave_out)):
            archive.write(file, f"{name}/{file.relative_to(path)}")


def _under(file, leave_out):
    """Whether `file` is one of the kit's paths `leave_out`, or in one of them."""
    return any(file == KIT / left or KIT / left in file.parents for left in leave_out)


def grade_submission(root):
    """Grade ``<root>/submission`` and write ``<root>/results/results.json``; return the results."""
    root = Path(root)
    template = root / "source" / "course"
    assignment = (template / "assignment.txt").read_text().strip()
    results_file = root / "results" / "results.json"
    with tempfile.TemporaryDirectory(prefix="gradescope-course-") as scratch:
        course_dir = Path(scratch) / "course"
        shutil.copytree(template, course_dir)
        course = Course.open(course_dir)
        notebook = course.notebook_name(assignment)
        submitted = course.submitted(assignment, STUDENT)
        submitted.mkdir(parents=True)
        found = _submitted_notebook(root / "submission", notebook)
        if found:
            shutil.copyfile(found, submitted / notebook)
        try:
            sandboxed, missing = grading_sandbox(wanted=True, required=(template / REQUIRE_SANDBOX).is_file())
        except SandboxUnavailable as error:
            return _write(results_file, not_graded(f"this platform allowed no grading sandbox ({error}), "
                                                   "and the instructor requires one"))
        task = Task(str(course.root), course.course_id, assignment, notebook, STUDENT, sandbox=sandboxed)
        result = run_task(task)
        results = gradescope_results(student_view(result, graded_cells(course, assignment)),
                                     assignments.get(assignment).functions)
        if found and found.name != notebook:
            results["output"] = f"Graded {found.name} as {notebook}.\n" + results["output"]
        results["extra_data"] = {"sandbox": not missing}
        if missing:
            results["output"] = (f"This platform allowed no grading sandbox ({missing}): the notebook ran without "
                                 "isolation. Its points were still judged outside it.\n" + results["output"])
    return _write(results_file, results)


def not_graded(reason):
    """Gradescope's results for a submission that was not graded, saying why."""
    return {"score": 0.0, "output": f"This submission was not graded: {reason}.", "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [], "extra_data": {"sandbox": False}}


def _write(results_file, results):
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=1))
    return results


def _submitted_notebook(folder, expected):
    """The notebook to grade: the one named as released, else the only (or newest) .ipynb."""
    if (folder / expected).is_file():
        return folder / expected
    notebooks = sorted(folder.rglob("*.ipynb"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    return notebooks[-1] if notebooks else None


if __name__ == "__main__":
    grade_submission(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
