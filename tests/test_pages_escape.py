"""Every page the kit writes shows what a submission can influence as text, never as markup."""

import pytest

from autograder.feedback import feedback_page
from autograder.report import report_page
from autograder.results import StudentView, TestView

HOSTILE = "<img src=x onerror=alert(1)><script>alert('pwned')</script>"


def hostile_views():
    """Students whose name, failure reason, warnings and test messages all carry markup."""
    views = []
    for index, status in enumerate(("graded", "graded with warnings", "failed")):
        view = StudentView(f"{HOSTILE}{index}", status, reason=HOSTILE, warnings=[HOSTILE], seconds=1.0 + index,
                           sandboxed=bool(index))
        view.tests = [TestView("test_update_parameters_with_gd_weights", "update_parameters_with_gd", "weights",
                               0.0, 3.0, f"✗ update_parameters_with_gd: raised ValueError: {HOSTILE}"),
                      TestView("test_update_parameters_with_gd_visible", "update_parameters_with_gd",
                               "the visible test case", 2.0, 2.0, "")]
        views.append(view)
    return views


def assert_text_only(page):
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("view", hostile_views(), ids=lambda v: v.status)
def test_feedback_page_escapes(view):
    assert_text_only(feedback_page("optimization_methods", view))


def test_report_page_escapes():
    assert_text_only(report_page("optimization_methods", hostile_views()))
