"""``python -m autograder.assign``: build the assignment (``make release`` runs this)."""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .release import ASSIGNMENT, SUPPORT_PACKAGE, build, differences

COPIED_FOR_CHECK = (SUPPORT_PACKAGE, "datasets", "source", "nbgrader_config.py", "pyproject.toml")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.assign", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course repository (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="build a copy and fail if it differs from what is committed; change nothing")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "source" / ASSIGNMENT).is_dir():
        parser.error(f"{root} has no source/{ASSIGNMENT}/: run from the kit's repository or pass --root")
    if not args.check:
        release = build(root)
        print(f"source notebook, support files and {release.relative_to(root)} rebuilt")
        return 0
    with tempfile.TemporaryDirectory(prefix="kit-check-") as scratch:
        copy = Path(scratch)
        for name in COPIED_FOR_CHECK:
            (shutil.copytree if (root / name).is_dir() else shutil.copyfile)(root / name, copy / name)
        build(copy)
        changed = differences(copy, root)
    if changed:
        print("The committed build is out of date; run `make release` and commit. Differs:", *changed, sep="\n  ")
        return 1
    print("release/, source/ and the expected outputs match a fresh build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
