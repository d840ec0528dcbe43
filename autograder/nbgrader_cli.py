"""nbgrader's command line, run from the kit (the build, the tests' courses, the Gradescope image)."""

import os
import subprocess
import sys
from pathlib import Path


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
