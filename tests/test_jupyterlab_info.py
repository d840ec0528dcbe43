"""The browser tests' JupyterLab is waited for through its info file, which the server writes in place."""

import json

import pytest

from lab import JupyterLab

INFO = {"url": "http://127.0.0.1:8888/", "pid": 1234, "token": "t"}


@pytest.mark.parametrize("content", [None, "", json.dumps(INFO, indent=2)[:25], "{}"],
                         ids=["missing", "empty", "cut short", "without url"])
def test_an_info_file_not_yet_written_means_keep_waiting(tmp_path, content):
    runtime = tmp_path / "jpserver-1234.json"
    if content is not None:
        runtime.write_text(content)
    assert JupyterLab._read_server_info(runtime) is None


def test_a_written_info_file_gives_the_server_url(tmp_path):
    runtime = tmp_path / "jpserver-1234.json"
    runtime.write_text(json.dumps(INFO, indent=2))
    assert JupyterLab._read_server_info(runtime)["url"] == INFO["url"]
