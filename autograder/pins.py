"""Exact versions of the kit's dependencies for a Gradescope image: ``requirements-gradescope.txt``.

Gradescope's base images give the kit Python 3.11.0 (Ubuntu 22.04's python3.11 package) or 3.12
(Ubuntu 24.04), never the Python of the instructor's machine. So the pins are resolved by pip
for the oldest of them, from pyproject.toml's ranges, wheels only (an image has no compilers);
then every pinned wheel is checked to exist for each newer Python too.

Run ``make lock`` (``python -m autograder.pins``) after changing pyproject.toml's dependencies.
"""

import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements-gradescope.txt"
# The Pythons the image may give the kit; the first is the oldest and the one pins are resolved for.
PYTHONS = ("3.11.0", "3.12")
HEADER = ("# Exact versions for the Gradescope image (setup.sh installs them with --no-deps), resolved by\n"
          "# `make lock` from pyproject.toml's ranges for Python {python}, wheels only. Do not edit by hand.\n")


class PinError(Exception):
    """pip could not resolve or find the pinned versions; the message says why."""


def dependencies(pyproject=REPO / "pyproject.toml"):
    """The dependency ranges of the kit, as pyproject.toml states them."""
    return tomllib.loads(Path(pyproject).read_text())["project"]["dependencies"]


def _pip_dry_run(requirements, python, *extra):
    """What pip would install from `requirements` for `python`, as (name, version) pairs."""
    with tempfile.TemporaryDirectory(prefix="kit-pins-") as scratch:
        listed, report = Path(scratch) / "requirements.txt", Path(scratch) / "report.json"
        listed.write_text("\n".join(requirements) + "\n")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
             "--only-binary=:all:", "--python-version", python, "--report", str(report), "-r", str(listed), *extra],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise PinError(f"pip found no wheels for Python {python}: {done.stderr.strip()[-1500:]}")
        installed = json.loads(report.read_text())["install"]
    return sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in installed)


def resolve():
    """The pinned requirement lines: resolved for the oldest Python, checked for the others."""
    pins = [f"{name}=={version}" for name, version in _pip_dry_run(dependencies(), PYTHONS[0])]
    for python in PYTHONS[1:]:
        _pip_dry_run(pins, python, "--no-deps")
    return pins


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=LOCK, show_default=True)
def main(out):
    """Write the Gradescope image's pinned requirements."""
    try:
        pins = resolve()
    except PinError as error:
        raise click.ClickException(str(error))
    out.write_text(HEADER.format(python=PYTHONS[0]) + "\n".join(pins) + "\n")
    click.echo(f"{len(pins)} pins for Python {', '.join(PYTHONS)}: {out}")


if __name__ == "__main__":
    main()
