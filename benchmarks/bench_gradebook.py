"""The coordinator's ceiling: results stored per second into an SQLite gradebook and into PostgreSQL.

Only the coordinating process writes the gradebook, so however many workers grade, a class run
cannot go faster than it stores results. This benchmark grades three real submissions (right,
wrong, blank) once, then stores copies of their results under new student names, as a run does
for each result (the signed ledger entry, the manifest line, the gradebook's rows through one
open session, the autograded notebook), into a course whose gradebook is ``gradebook.db`` and
into one whose ``c.CourseDirectory.db_url`` names a PostgreSQL database on a server this
benchmark starts (`tests/postgres.py`; over a unix socket, with fsync off, so the
figure is the grader's and the database's work, not a disk's). 3 rounds each, interleaved;
medians.
"""

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.nbgrader_cli import run_nbgrader
from autograder.course import Course
from autograder.grade.batch import _keep, grade_assignment
from autograder.grade.store import Ledger
from autograder.assignments.optimization_methods.sample_class import make_course
import tooling  # noqa: F401  (tests/ on the import path: the test tooling below)
from course import submit_right_wrong_blank
from postgres import ServerUnavailable, running_server

ROUNDS = 3


def graded_results(course_dir):
    """The results of grading a right, a wrong and a blank submission for real."""
    students = submit_right_wrong_blank(course_dir)
    course = Course.open(course_dir)
    grade_assignment(course, ASSIGNMENT, jobs=2, progress=False)
    ledger = Ledger(course, ASSIGNMENT)
    return [ledger.load(student) for student in students]


def stored_per_second(course, results, count, prefix):
    """Results stored per second: `count` copies of `results` under new names, through one session."""
    notebook = course.notebook_name(ASSIGNMENT)
    ledger = Ledger(course, ASSIGNMENT)
    copies = [dataclasses.replace(results[i % len(results)], student=f"{prefix}{i:05d}") for i in range(count)]
    with Gradebook(course.db_url, course.course_id) as gradebook:
        start = time.perf_counter()
        for result in copies:
            _keep(course, ASSIGNMENT, notebook, ledger, result, gradebook)
        return count / (time.perf_counter() - start)


def postgres_course(template, folder, server):
    """A copy of the course `template` whose gradebook is a new PostgreSQL database."""
    folder = Path(folder)
    shutil.copytree(template / "source", folder / "source")
    db_url = server.create_database("bench_gradebook")
    (folder / "nbgrader_config.py").write_text((template / "nbgrader_config.py").read_text()
                                              + f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    run_nbgrader(folder, "generate_assignment", ASSIGNMENT, "--force")
    return Course.open(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=300, help="results stored in each round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gradebook-") as scratch:
        template = make_course(Path(scratch) / "sqlite")
        results = graded_results(template)
        courses = {"SQLite (gradebook.db)": Course.open(template)}
        try:
            with running_server() as server:
                courses["PostgreSQL 15, unix socket"] = postgres_course(template, Path(scratch) / "postgres", server)
                rates = {name: [] for name in courses}
                for round_ in range(ROUNDS):
                    for name, course in courses.items():
                        rates[name].append(stored_per_second(course, results, args.results, f"r{round_}s"))
        except ServerUnavailable as reason:
            print(f"PostgreSQL: not measured ({reason})")
            rates = {name: [stored_per_second(course, results, args.results, f"r{r}s") for r in range(ROUNDS)]
                     for name, course in courses.items() if name.startswith("SQLite")}
    print(f"Results stored per second by the coordinator ({args.results} a round, medians of {ROUNDS} rounds):")
    for name, values in rates.items():
        print(f"  {name:<28} {statistics.median(values):7.1f} /s   rounds: " + " ".join(f"{v:.1f}" for v in values))
    if len(rates) == 2:
        sqlite, postgres = (statistics.median(v) for v in rates.values())
        print(f"  PostgreSQL against SQLite: {postgres / sqlite:.2f}x")


if __name__ == "__main__":
    main()
