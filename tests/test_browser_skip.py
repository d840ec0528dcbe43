"""Without a browser the student's-side tests skip with the reason, and fail in CI instead."""

import pytest

from lab import chromium_or_skip


def no_browser(monkeypatch, tmp_path):
    monkeypatch.delenv("KIT_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no chromium on it


def test_no_browser_skips_with_the_reason(monkeypatch, tmp_path):
    no_browser(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found .*apt-get install chromium"):
        chromium_or_skip()


def test_no_browser_fails_in_ci(monkeypatch, tmp_path):
    no_browser(monkeypatch, tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: no Chromium found"):
        chromium_or_skip()


def test_a_browser_named_by_kit_chromium_is_used(monkeypatch, tmp_path):
    no_browser(monkeypatch, tmp_path)
    browser = tmp_path / "my-chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("KIT_CHROMIUM", str(browser))
    assert chromium_or_skip() == str(browser)


def test_a_kit_chromium_that_is_not_a_program_is_an_error(monkeypatch, tmp_path):
    no_browser(monkeypatch, tmp_path)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("KIT_CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(pytest.fail.Exception, match="KIT_CHROMIUM=.*missing is not an executable file"):
        chromium_or_skip()
