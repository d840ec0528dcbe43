"""What the Gradescope zip's setup.sh installs, checked without building an image (the image
itself is built and graded in test_gradescope_image.py)."""

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder import pins
from autograder.gradescope import SETUP

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def pinned():
    lines = [line for line in pins.LOCK.read_text().splitlines() if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in lines)}


def test_every_dependency_is_pinned_inside_its_range():
    versions = pinned()
    for dependency in map(Requirement, pins.dependencies()):
        name = canonicalize_name(dependency.name)
        assert name in versions, f"{name} has no pin: run make lock"
        assert dependency.specifier.contains(versions[name], prereleases=True), \
            f"{name}=={versions[name]} is outside {dependency.specifier}: run make lock"


def test_the_pins_are_resolved_for_the_oldest_python_an_image_gives():
    assert pins.PYTHONS[0] == "3.11.0"  # Ubuntu 22.04's python3.11
    assert f"for Python {pins.PYTHONS[0]}" in pins.LOCK.read_text().splitlines()[1]


def test_setup_installs_the_pins_only_and_is_valid_bash(tmp_path):
    assert "--no-deps --requirement \"$kit/requirements-gradescope.txt\"" in SETUP
    assert "-m pip check" in SETUP  # the pins are complete: --no-deps left nothing out
    script = tmp_path / "setup.sh"
    script.write_text(SETUP)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


@pytest.mark.parametrize("broken", [
    {"tests": [{"name": "gd", "status": "ok", "score": 1}]},     # status is passed or failed
    {"score": 1, "visibility": "students"},                      # not a visibility
    {"score": 1, "grade": 1},                                    # not a key of the format
    {"tests": [{"name": "gd", "max_score": 1}]},                 # no score anywhere
])
def test_the_results_schema_rejects_what_gradescope_would(broken):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
