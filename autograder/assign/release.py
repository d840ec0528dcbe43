"""Build the assignment: expected outputs, the source notebook's kit cells, and the release.

The release is made by real ``nbgrader generate_assignment`` in a throw-away course directory,
so building never touches an instructor's gradebook, then copied into ``release/``.
"""

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import notebook
from ..pins import dependencies
from .expected import expected_outputs_json

ASSIGNMENT = "optimization_methods"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SUPPORT_PACKAGE = "opt_utils"
DATA_FILES = ("datasets/moons.csv",)
# What a student's environment needs: the notebook and opt_utils import numpy and matplotlib;
# jupyter brings JupyterLab and the kernel. The ranges are the kit's own, from pyproject.toml.
STUDENT_PACKAGES = ("numpy", "matplotlib", "jupyter")
REQUIREMENTS = "requirements.txt"


def nbgrader_environment():
    """The environment nbgrader needs: this interpreter's bin/ first on PATH (for alembic, jupyter)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_nbgrader(course, *arguments):
    """Run an nbgrader command in `course`; raise with its output when it fails."""
    command = [str(Path(sys.executable).parent / "nbgrader"), *arguments]
    done = subprocess.run(command, cwd=course, env=nbgrader_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments[:1])} failed in {course}:\n{done.stdout}\n{done.stderr}")
    return done


def write_expected_outputs(root):
    path = Path(root) / SUPPORT_PACKAGE / "expected_outputs.json"
    path.write_text(expected_outputs_json())
    return path


def render_source_notebook(root):
    path = Path(root) / "source" / ASSIGNMENT / NOTEBOOK
    source = nbformat.read(path, as_version=4)
    nbformat.write(notebook.render(source), path)
    return path


def sync_support_files(root):
    """Copy the support package and the data into the assignment's source folder, exactly, and
    write the student's requirements beside the notebook."""
    root = Path(root)
    target = root / "source" / ASSIGNMENT
    package = target / SUPPORT_PACKAGE
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(root / SUPPORT_PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for data in DATA_FILES:
        (target / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / data, target / data)
    (target / REQUIREMENTS).write_text(student_requirements(root / "pyproject.toml"))


def student_requirements(pyproject):
    """``requirements.txt`` for a student: the kit's ranges of `STUDENT_PACKAGES`."""
    ranges = {re.match(r"[A-Za-z0-9_.-]+", line).group(0).lower(): line for line in dependencies(pyproject)}
    missing = [name for name in STUDENT_PACKAGES if name not in ranges]
    if missing:
        raise RuntimeError(f"pyproject.toml lists no {', '.join(missing)}: the student's requirements need them")
    return ("# What this assignment needs, for `pip install -r requirements.txt` in a fresh environment\n"
            "# (Python 3.11 or newer); then open optimization_methods.ipynb in `jupyter lab`.\n"
            + "".join(f"{ranges[name]}\n" for name in STUDENT_PACKAGES))


def generate_release(root):
    """Run ``nbgrader generate_assignment`` on a copy of the course and install its release."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="kit-release-") as scratch:
        course = Path(scratch)
        shutil.copytree(root / "source", course / "source")
        shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
        run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        release = root / "release" / ASSIGNMENT
        if release.exists():
            shutil.rmtree(release)
        shutil.copytree(course / "release" / ASSIGNMENT, release)
    return release


def build(root):
    """Every step, in order; returns the release folder."""
    write_expected_outputs(root)
    render_source_notebook(root)
    sync_support_files(root)
    return generate_release(root)


def built_files(root):
    """The files the build writes, relative to `root`."""
    root = Path(root)
    files = [Path(SUPPORT_PACKAGE) / "expected_outputs.json"]
    for folder in (root / "source" / ASSIGNMENT, root / "release" / ASSIGNMENT):
        files += [path.relative_to(root) for path in sorted(folder.rglob("*"))
                  if path.is_file() and "__pycache__" not in path.parts]
    return files


def differences(built_root, committed_root):
    """Files that differ between a fresh build and the committed tree (missing on either side too)."""
    built, committed = set(built_files(built_root)), set(built_files(committed_root))
    changed = [str(p) for p in sorted(built & committed)
               if not filecmp.cmp(Path(built_root) / p, Path(committed_root) / p, shallow=False)]
    return changed + [f"{p} (only in the fresh build)" for p in sorted(built - committed)] + \
        [f"{p} (only in the committed tree)" for p in sorted(committed - built)]
