"""One HTML feedback page per student: points per function and what the hidden tests found.

The page holds the tests' titles and their one-line diagnoses only: no hidden test source, no
hidden input, no traceback into the checks. It is written where nbgrader keeps feedback
(``feedback/<student>/<assignment>/<notebook>.html``), so ``nbgrader release_feedback`` can
hand it back.
"""

from itertools import groupby
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .grade.store import atomic_write
from .grade.task import Status
from .results import student_views

# The templates are named *.html.j2, which select_autoescape() alone does not escape: everything a
# submission can influence (messages, names, warnings) must reach the page as text, never as markup.
TEMPLATES = Environment(loader=PackageLoader("autograder", "templates"),
                        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True))
TEMPLATES.globals["Status"] = Status  # the templates compare and count statuses by it


def feedback_page(assignment, view):
    functions = [(function, list(tests)) for function, tests in groupby(view.tests, key=lambda t: t.function)]
    return TEMPLATES.get_template("feedback.html.j2").render(assignment=assignment, view=view, functions=functions)


def write_feedback(course, assignment):
    """Write every student's page; return their paths."""
    page_name = Path(course.notebook_name(assignment)).with_suffix(".html").name
    paths = []
    for view in student_views(course, assignment):
        path = course.root / "feedback" / view.student / assignment / page_name
        atomic_write(path, feedback_page(assignment, view))
        paths.append(path)
    return paths
