"""The student's-side tests' browser: Chromium where there is one; skipped, or failed in CI, where not.

The server and the page are `autograder.samples.jupyterlab`'s (the student benchmark uses them too).
"""

import os

import pytest

from autograder.samples.jupyterlab import (  # noqa: F401  (re-exported for the tests)
    BrowserUnavailable, JupyterLab, NotebookPage, find_chromium, launch_chromium)


def chromium_or_skip():
    """The path of a Chromium to drive, or skip (fail in CI, where ``.ci/run`` installs one) saying why."""
    try:
        return find_chromium()
    except ValueError as error:
        pytest.fail(str(error))
    except BrowserUnavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests cannot run in CI: {reason}")
        pytest.skip(str(reason))
