"""Grading on a Dask cluster on loopback: the same class on 1 and on 2 workers (one thread each).

A scheduler and the workers are started with the ``dask`` command-line tools
(`tests/dask_cluster.py`), as on a real cluster but on this machine's two cores. Each
cluster first grades a few submissions that are not timed (each worker starts its fork server
and warm-kernel process once, as it would at the start of a term); then the class is graded
twice with ``--force``; medians. The ratio says how grading scales with workers; on a real
cluster each worker brings its own cores.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.course import Course
from autograder.grade.batch import grade_assignment
from autograder.assignments.optimization_methods.sample_class import make_course
from bench_grading import submissions
import tooling  # noqa: F401  (tests/ on the import path: the test tooling below)
from course import submit
from dask_cluster import Cluster

ROUNDS = 2


def graded_per_second(cluster, course, count):
    start = time.perf_counter()
    results, _ = grade_assignment(Course.open(course), ASSIGNMENT, progress=False, force=True,
                                  scheduler=cluster.address)
    assert len(results) == count and all(r.status != "failed" for r in results)
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args()
    rates = {}
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as scratch:
        warm_up, course = make_course(Path(scratch) / "warm-up"), make_course(Path(scratch) / "class")
        for student, notebook in list(submissions(args.submissions).items()):
            submit(course, student, notebook)
        for student, notebook in list(submissions(4).items()):
            submit(warm_up, student, notebook)
        for workers in (1, 2):
            folder = Path(scratch) / f"cluster-{workers}"
            folder.mkdir()
            cluster = Cluster(folder).start(workers)
            try:
                graded_per_second(cluster, warm_up, 4)
                rates[workers] = [graded_per_second(cluster, course, args.submissions) for _ in range(ROUNDS)]
            finally:
                cluster.stop()
    print(f"{args.submissions} submissions graded on a Dask cluster on loopback (medians of {ROUNDS} runs):")
    for workers, values in rates.items():
        rate = statistics.median(values)
        print(f"  {workers} worker{'s' if workers > 1 else ' '} (1 thread each) {rate:6.2f} submissions/s "
              f"({rate * 3600:7.0f} an hour)   runs: " + " ".join(f"{v:.2f}" for v in values))
    one, two = (statistics.median(rates[w]) for w in (1, 2))
    print(f"  2 workers against 1: {two / one:.2f}x")


if __name__ == "__main__":
    main()
