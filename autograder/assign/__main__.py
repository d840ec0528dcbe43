"""``python -m autograder.assign``: build every assignment, or the ones named (``make release`` runs this)."""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .. import assignments
from ..course import Course, CourseError
from .release import build, differences

SHARED = ("datasets", "nbgrader_config.py", "pyproject.toml")  # what every build reads besides its own


def copied_for_check(assignment):
    """What a check copies of the repository to build `assignment` there."""
    support = () if assignment.release.support_folder else (assignment.release.support_package,)
    return (*support, f"source/{assignment.name}", *SHARED)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.assign", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="ASSIGNMENT", help="the assignments to build (default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course repository (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="build a copy and fail if it differs from what is committed; change nothing")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        Course.open(root)  # its nbgrader_config.py may name folders of its own assignments
    except CourseError as error:
        parser.error(str(error))
    try:
        chosen = [assignments.get(name) for name in args.names or assignments.names()]
    except assignments.UnknownAssignment as error:
        parser.error(str(error))
    for assignment in chosen:
        if not (root / "source" / assignment.name).is_dir():
            parser.error(f"{root} has no source/{assignment.name}/: run from the kit's repository or pass --root")
    return max([check(assignment, root) if args.check else rebuild(assignment, root) for assignment in chosen],
               default=0)


def rebuild(assignment, root):
    release = build(assignment, root)
    print(f"{assignment.name}: source notebook, support files and {release.relative_to(root)} rebuilt")
    return 0


def check(assignment, root):
    with tempfile.TemporaryDirectory(prefix="kit-check-") as scratch:
        copy = Path(scratch)
        for name in [name for name in copied_for_check(assignment) if (root / name).exists()]:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if (root / name).is_dir() else shutil.copyfile)(root / name, copy / name)
        build(assignment, copy)
        changed = differences(assignment, copy, root)
    if changed:
        print(f"{assignment.name}: the committed build is out of date; run `make release` and commit. Differs:",
              *changed, sep="\n  ")
        return 1
    print(f"{assignment.name}: release/, source/ and the generated files match a fresh build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
