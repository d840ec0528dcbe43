"""The PostgreSQL server fixture: a real server (`autograder.samples.postgres`) for the session.

Where no server can be started the tests that need one are skipped with the reason, except in
CI (``CI=true``), where they fail: CI installs PostgreSQL (``.ci/run``).
"""

import os

import pytest

from autograder.samples.postgres import ServerUnavailable, running_server


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server for the whole session."""
    try:
        with running_server() as server:
            yield server
    except ServerUnavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
        pytest.skip(str(reason))
