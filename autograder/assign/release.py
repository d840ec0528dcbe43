"""Build an assignment: its generated files, the source notebook's kit cells, and the release.

The release is made by real ``nbgrader generate_assignment`` in a throw-away course directory,
so building never touches an instructor's gradebook, then copied into ``release/``.
"""

import filecmp
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from . import notebook
from ..nbgrader_cli import run_nbgrader
from ..pins import dependencies

REQUIREMENTS = "requirements.txt"  # beside the notebook: the student's packages, with the kit's ranges


def render_source_notebook(assignment, root):
    path = Path(root) / "source" / assignment.name / assignment.release.notebook
    source = nbformat.read(path, as_version=4)
    nbformat.write(notebook.render(assignment, source), path)
    return path


def sync_support_files(assignment, root):
    """Copy the support package and the data into the assignment's source folder, exactly, and
    write the student's requirements beside the notebook."""
    root, release = Path(root), assignment.release
    target = root / "source" / assignment.name
    package = target / release.support_package
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(release.support_folder or root / release.support_package, package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for data in release.data_files:
        (target / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / data, target / data)
    (target / REQUIREMENTS).write_text(student_requirements(assignment, root / "pyproject.toml"))


def student_requirements(assignment, pyproject):
    """``requirements.txt`` for a student: the kit's ranges of the assignment's student packages."""
    ranges = {re.match(r"[A-Za-z0-9_.-]+", line).group(0).lower(): line for line in dependencies(pyproject)}
    wanted = assignment.release.student_packages
    missing = [name for name in wanted if name not in ranges]
    if missing:
        raise RuntimeError(f"pyproject.toml lists no {', '.join(missing)}: the student's requirements need them")
    return ("# What this assignment needs, for `pip install -r requirements.txt` in a fresh environment\n"
            f"# (Python 3.11 or newer); then open {assignment.release.notebook} in `jupyter lab`.\n"
            + "".join(f"{ranges[name]}\n" for name in wanted))


def generate_release(assignment, root):
    """Run ``nbgrader generate_assignment`` on a copy of the course and install its release."""
    root, name = Path(root), assignment.name
    with tempfile.TemporaryDirectory(prefix="kit-release-") as scratch:
        course = Path(scratch)
        shutil.copytree(root / "source", course / "source")
        shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
        run_nbgrader(course, "generate_assignment", name, "--force")
        release = root / "release" / name
        if release.exists():
            shutil.rmtree(release)
        shutil.copytree(course / "release" / name, release)
    return release


def build(assignment, root):
    """Every step, in order; returns the release folder."""
    assignment.release.write_generated_files(root)
    render_source_notebook(assignment, root)
    sync_support_files(assignment, root)
    return generate_release(assignment, root)


def built_files(assignment, root):
    """The files the build of `assignment` writes, relative to `root`."""
    root = Path(root)
    files = [Path(path) for path in assignment.release.generated_files]
    for folder in (root / "source" / assignment.name, root / "release" / assignment.name):
        files += [path.relative_to(root) for path in sorted(folder.rglob("*"))
                  if path.is_file() and "__pycache__" not in path.parts]
    return files


def differences(assignment, built_root, committed_root):
    """Files of `assignment` that differ between a fresh build and the committed tree (missing on
    either side too)."""
    built, committed = set(built_files(assignment, built_root)), set(built_files(assignment, committed_root))
    changed = [str(p) for p in sorted(built & committed)
               if not filecmp.cmp(Path(built_root) / p, Path(committed_root) / p, shallow=False)]
    return changed + [f"{p} (only in the fresh build)" for p in sorted(built - committed)] + \
        [f"{p} (only in the committed tree)" for p in sorted(committed - built)]
