"""The instructor's reports: per assignment, one self-contained HTML page on how the class did;
for the course, one page with every assignment's figures and a link to its own."""

import base64
import io
import statistics
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from . import assignments  # noqa: E402
from .feedback import TEMPLATES  # noqa: E402
from .grade.store import atomic_write  # noqa: E402
from .grade.task import Status  # noqa: E402
from .results import diagnosis, student_views  # noqa: E402


def _embedded(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def score_histogram(views, points):
    """The totals of `views` on an axis from 0 to `points`, the assignment's maximum, in 20 bins."""
    figure, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.hist([v.total for v in views], bins=[points * i / 20 for i in range(21)], color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("total score")
    ax.set_ylabel("students")
    ax.set_xlim(0, points)
    return _embedded(figure)


def pass_rates(views, functions):
    """{function: fraction of graded students with full marks on it}, for each of `functions`."""
    graded = [v for v in views if v.status != Status.FAILED]
    return {f: (sum(v.function_score(f)[0] >= v.function_score(f)[1] for v in graded) / len(graded)) if graded else 0.0
            for f in functions}


def pass_rate_chart(rates):
    figure, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.barh(list(rates)[::-1], [100 * r for r in rates.values()][::-1], color="#17703a")
    ax.set_xlabel("students with full marks (%)")
    ax.set_xlim(0, 100)
    return _embedded(figure)


def grading_time_chart(views):
    figure, ax = plt.subplots(figsize=(6.5, 3.0))
    ax.hist([v.seconds for v in views], bins=20, color="#8a5a9e", edgecolor="white")
    ax.set_xlabel("seconds to grade one submission")
    ax.set_ylabel("submissions")
    return _embedded(figure)


def frequent_mistakes(views, most=25):
    """[(function, diagnosis, students)] of failed hidden tests, most frequent first (the visible
    test's message only repeats, less precisely, what the hidden tests found)."""
    counts = Counter()
    for view in views:
        seen = {(t.function, diagnosis(t)) for t in view.tests if not t.passed and t.message and not t.visible}
        counts.update(seen)
    return [(function, text, n) for (function, text), n in counts.most_common(most)]


def report_page(assignment, views):
    seconds = [v.seconds for v in views] or [0.0]
    found = assignments.get(assignment)
    rates = pass_rates(views, found.functions)
    context = {
        "assignment": assignment,
        "views": views,
        "counts": Counter(v.status for v in views),
        "mean": statistics.mean(v.total for v in views) if views else 0.0,
        "median": statistics.median(v.total for v in views) if views else 0.0,
        "histogram": score_histogram(views, found.points),
        "rates": rates,
        "rate_chart": pass_rate_chart(rates),
        "mistakes": frequent_mistakes(views),
        "failed": [v for v in views if v.status == Status.FAILED],
        "warned": [v for v in views if v.warnings],
        "unsandboxed": [v for v in views if not v.sandboxed],
        "time_chart": grading_time_chart(views),
        "time": {"median": statistics.median(seconds), "max": max(seconds), "total": sum(seconds)},
        "slowest": sorted(views, key=lambda v: v.seconds, reverse=True)[:5],
    }
    return TEMPLATES.get_template("report.html.j2").render(**context)


def write_report(course, assignment, out=None):
    path = out or course.root / "reports" / f"{assignment}.html"
    atomic_write(path, report_page(assignment, student_views(course, assignment)))
    return path


def assignment_summary(name, views):
    """What the course page shows of one assignment: its submissions, median, maximum, pass rate
    per function, and the page of its own report."""
    found = assignments.get(name)
    return {"name": name, "submissions": len(views), "points": found.points,
            "median": statistics.median(v.total for v in views) if views else 0.0,
            "failed": sum(v.status == Status.FAILED for v in views),
            "rates": pass_rates(views, found.functions), "page": f"{name}.html"}


def course_page(course, summaries):
    return TEMPLATES.get_template("course.html.j2").render(course=course.course_id, summaries=summaries)


def write_course_report(course, out=None):
    """Write every graded assignment's report and the course page linking them (``reports/course.html``)."""
    folder = Path(out) if out else course.root / "reports"
    summaries = []
    for name in course.released():
        if name in assignments.names() and course.ledger_folder(name).is_dir():
            views = student_views(course, name)
            atomic_write(folder / f"{name}.html", report_page(name, views))
            summaries.append(assignment_summary(name, views))
    path = folder / "course.html"
    atomic_write(path, course_page(course, summaries))
    return path
