"""Benchmark class grading: ``autograder grade --jobs 2`` against plain ``nbgrader autograde``.

Both grade the same generated submissions (right answers and answers from the mutation
catalog) in copies of one course, in one run, and ``autograder grade --no-sandbox`` too, which
gives the sandbox's cost; the scores must agree. Then one submission's
time is taken apart: kernel start, the notebook's imports, the hidden tests, the other cells, and
storing the result in the gradebook.

Run: ``make bench`` (or ``python benchmarks/bench_grading.py [--submissions N] [--jobs N]``).
"""

import argparse
import copy
import datetime as dt
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel
from nbgrader.api import Gradebook

from autograder.assign.release import ASSIGNMENT, run_nbgrader
from autograder.course import Course
from autograder.grade.batch import grade_assignment
from autograder.grade.store import Ledger, store
from autograder.samples import VARIANTS, make_course, solved_notebook, submit, with_answer

NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def submissions(count):
    """`count` notebooks: every third the reference answers, the rest answers from the catalog."""
    solved = solved_notebook()
    notebooks = {}
    for i in range(count):
        variant = VARIANTS[i % len(VARIANTS)]
        notebook = copy.deepcopy(solved) if i % 3 == 0 else \
            with_answer(copy.deepcopy(solved), variant.function, variant.source)
        notebooks[f"student{i:03d}"] = notebook
    return notebooks


def gradebook_scores(course):
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", Course.open(course).course_id) as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            scores[submission.student_id] = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
    return scores


def seconds_between(start, end):
    return (dt.datetime.fromisoformat(end.replace("Z", "+00:00")) -
            dt.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def cell_times(autograded):
    """(imports, hidden tests, other cells) seconds of one autograded notebook, from nbclient's timings."""
    imports = hidden = other = 0.0
    for cell in nbformat.read(autograded, as_version=4).cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or "iopub.execute_input" not in timing:
            continue
        seconds = seconds_between(timing["iopub.execute_input"], timing["shell.execute_reply"])
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.id == "imports":
            imports += seconds
        elif grade_id.startswith("test_") and not grade_id.endswith("_visible"):
            hidden += seconds
        else:
            other += seconds
    return imports, hidden, other


def kernel_start_seconds(repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return statistics.median(times)


def store_seconds(course_dir, students):
    course = Course.open(course_dir)
    ledger = Ledger(course, ASSIGNMENT)
    start = time.perf_counter()
    for student in students:
        store(course, ASSIGNMENT, NOTEBOOK, ledger.load(student))
    return (time.perf_counter() - start) / len(students)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    notebooks = submissions(args.submissions)

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        ours, plain = make_course(Path(scratch) / "ours"), make_course(Path(scratch) / "plain")
        bare = make_course(Path(scratch) / "bare")
        for student, notebook in notebooks.items():
            for course in (ours, plain, bare):
                submit(course, student, notebook)

        start = time.perf_counter()
        results, _ = grade_assignment(Course.open(ours), ASSIGNMENT, jobs=args.jobs, progress=False)
        ours_seconds = time.perf_counter() - start

        start = time.perf_counter()
        grade_assignment(Course.open(bare), ASSIGNMENT, jobs=args.jobs, progress=False, sandbox=False)
        bare_seconds = time.perf_counter() - start

        start = time.perf_counter()
        run_nbgrader(plain, "autograde", ASSIGNMENT, "--force")
        plain_seconds = time.perf_counter() - start

        ours_scores, plain_scores, bare_scores = gradebook_scores(ours), gradebook_scores(plain), gradebook_scores(bare)
        disagree = sorted(s for s in notebooks if not ours_scores.get(s) == plain_scores.get(s) == bare_scores.get(s))
        if disagree:
            raise SystemExit(f"the graders disagree on {len(disagree)} submissions: {disagree[:5]}")

        n = args.submissions
        print(f"{n} submissions, {args.jobs} workers, same scores from both graders "
              f"(total {sum(sum(v.values()) for v in ours_scores.values()):.0f} points)\n")
        print(f"{'grader':<34} {'wall clock':>10} {'per minute':>11} {'per second':>11}")
        for label, seconds in ((f"autograder grade --jobs {args.jobs}", ours_seconds),
                               (f"  the same with --no-sandbox", bare_seconds),
                               ("nbgrader autograde (sequential)", plain_seconds)):
            print(f"{label:<34} {seconds:>9.1f}s {60 * n / seconds:>11.1f} {n / seconds:>11.2f}")
        print(f"\nspeed-up over plain nbgrader: {plain_seconds / ours_seconds:.2f}x")
        print(f"cost of the sandbox: {100 * (ours_seconds / bare_seconds - 1):+.1f} % "
              f"(sandboxed / unsandboxed = {ours_seconds / bare_seconds:.3f})")

        per_task = statistics.median(r.seconds for r in results)
        imports, hidden, other = map(statistics.median, zip(*[
            cell_times(ours / "autograded" / s / ASSIGNMENT / NOTEBOOK) for s in notebooks
            if (ours / "autograded" / s / ASSIGNMENT / NOTEBOOK).is_file()]))
        kernel = kernel_start_seconds()
        database = store_seconds(ours, list(notebooks)[:10])
        print(f"\nOne submission in a worker: {per_task:.2f} s (median), of which")
        for label, seconds in (("kernel start (measured apart)", kernel), ("the notebook's imports", imports),
                               ("hidden tests (judged by the grader)", hidden), ("other cells (stubs, visible tests, training)", other),
                               ("storing in the gradebook and autograded/", database)):
            print(f"  {label:<46} {seconds:6.2f} s")
        rest = per_task - kernel - imports - hidden - other
        print(f"  {'the rest (nbgrader: scratch course, checks, db)':<46} {rest:6.2f} s")
        print("\nWhat would cut it: a warm kernel started (and numpy, matplotlib imported) while the previous\n"
              "submission runs, fresh for each submission, saves the kernel start and the imports; one scratch\n"
              "course per worker, reused, saves most of the rest.")


if __name__ == "__main__":
    main()
