"""Benchmark class grading: ``autograder grade --jobs 2`` against plain ``nbgrader autograde``.

Both grade the same generated submissions (right answers and answers from the mutation
catalog) in copies of one course, in one run, 3 times each, and the medians are compared; the
scores must agree. Also measured, once each: ``autograder grade`` with kernels started cold (the
path before warm kernels) and with ``--no-sandbox`` (the sandbox's cost), and a 400-submission
run, whose cost per submission must match the 40-submission one, with the resident memory of the
coordinator, the workers, their warm-kernel processes and the kernels at its start and end.
Then one submission's time is taken apart, warm and cold: kernel start, the notebook's imports,
the judging, the other cells, and storing the result.

Run: ``make bench`` (or ``python benchmarks/bench_grading.py [--submissions N] [--large N] [--jobs N]``).
"""

import argparse
import asyncio
import copy
import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbgrader.api import Gradebook

from autograder.assignments.optimization_methods import NAME as ASSIGNMENT
from autograder.nbgrader_cli import run_nbgrader
from autograder.course import Course
from autograder.grade.autograde import STARTUP_FILES
from autograder.grade.batch import grade_assignment
from autograder.grade.workers import stop_fork_server
from autograder.grade.store import Ledger, store
from autograder.assignments.optimization_methods.sample_class import VARIANTS, make_course, solved_notebook, with_answer
from autograder.sandbox.kernel import SandboxedKernelManager
from autograder.sandbox.policy import Sandbox
from autograder.sandbox.warm_kernels import KernelForkServer
import tooling  # noqa: F401  (tests/ on the import path: the test tooling below)
from course import submit

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
REPEATS = 3
MiB = 1 << 20


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


def kernel_start_seconds(warm, repeats=3):
    """Median seconds from asking for a sandboxed kernel to its first answer: started, or forked
    from a warm process (started beforehand, as a worker's is)."""
    pool = KernelForkServer(Sandbox()) if warm else None

    async def once():
        manager = SandboxedKernelManager(sandbox=Sandbox(), startup_files=STARTUP_FILES, fork_server=pool,
                                         kernel_name="python3")
        start = time.perf_counter()
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        seconds = time.perf_counter() - start
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
        return seconds

    try:
        if pool:
            asyncio.run(once())  # the worker's first submission starts the warm process
        return statistics.median(asyncio.run(once()) for _ in range(repeats))
    finally:
        if pool:
            pool.stop()


def busy_cpu_seconds():
    """CPU seconds spent by every process of the machine so far (the benchmark runs alone)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0)


def timed(grade):
    """(wall seconds, CPU seconds of the whole machine) of calling `grade`."""
    cpu, start = busy_cpu_seconds(), time.perf_counter()
    grade()
    return time.perf_counter() - start, busy_cpu_seconds() - cpu


class MemorySampler:
    """Resident memory of this process and the grading processes under it, sampled every
    second: the first and last sample of each kind of process, and each kernel's RSS and USS
    (the memory only it holds: what forking it added to the warm process it shares pages with)."""

    def __init__(self):
        self.samples, self.kernels = [], []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()

    def _run(self):
        me = psutil.Process()
        while not self.stopped.wait(1.0):
            sample = {"coordinator": me.memory_info().rss, "fork server": [], "worker": [], "warm process": []}
            for process in me.children(recursive=True):
                try:
                    kind = self._kind(process)
                    if kind == "kernel":
                        info = process.memory_full_info()
                        self.kernels.append((info.rss, info.uss))
                    elif kind:
                        sample[kind].append(process.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.samples.append(sample)

    @staticmethod
    def _kind(process):
        command = " ".join(process.cmdline())
        if "autograder.grade.worker_forkserver" in command:  # the fork server, or a worker forked from it
            return "fork server" if process.ppid() == os.getpid() else "worker"
        if "kernel_forkserver.py" in command:  # the warm process, or a kernel forked from it (threads of its own)
            parent = process.parent()
            if parent and "autograder.grade.worker_forkserver" in " ".join(parent.cmdline()):
                return "warm process"
            return "kernel" if process.num_threads() > 1 else None
        return None

    def report(self, jobs):
        # The start: the first sample with every worker and the warm process they share up, 20 s
        # into the run (each has graded a few submissions: what it loads once is loaded).
        full = [s for s in self.samples if len(s["worker"]) == jobs and s["warm process"]]
        if len(full) < 21:
            return ["  (the run was too short to sample)"]
        first, last = full[20], full[-1]
        lines = []
        for kind in ("coordinator", "fork server", "worker", "warm process"):
            a = first[kind] if kind == "coordinator" else statistics.median(first[kind] or [0])
            b = last[kind] if kind == "coordinator" else statistics.median(last[kind] or [0])
            lines.append(f"  {kind + ' RSS':<36} {a / MiB:8.0f} MiB after 20 s {b / MiB:8.0f} MiB at the end")
        if self.kernels:
            rss, uss = zip(*self.kernels)
            lines.append(f"  {'kernel RSS (median / max)':<36} {statistics.median(rss) / MiB:8.0f} MiB "
                         f"{max(rss) / MiB:15.0f} MiB")
            lines.append(f"  {'kernel USS, its own pages (median / max)':<36} {statistics.median(uss) / MiB:8.0f} MiB "
                         f"{max(uss) / MiB:15.0f} MiB")
        return lines


def store_seconds(course_dir, students):
    course = Course.open(course_dir)
    ledger = Ledger(course, ASSIGNMENT)
    start = time.perf_counter()
    for student in students:
        store(course, ASSIGNMENT, NOTEBOOK, ledger.load(student))
    return (time.perf_counter() - start) / len(students)


def breakdown(course, results, students):
    """Median seconds of one submission in a worker, and of its imports, judging and other cells."""
    per_task = statistics.median(r.seconds for r in results)
    imports, hidden, other = map(statistics.median, zip(*[
        cell_times(course / "autograded" / s / ASSIGNMENT / NOTEBOOK) for s in students
        if (course / "autograded" / s / ASSIGNMENT / NOTEBOOK).is_file()]))
    return per_task, imports, hidden, other


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--large", type=int, default=400, help="submissions in the run whose cost must stay flat")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    notebooks = submissions(args.submissions)
    n, jobs = args.submissions, args.jobs

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        courses = {name: make_course(Path(scratch) / name) for name in ("ours", "plain", "cold", "bare")}
        for student, notebook in notebooks.items():
            for course in courses.values():
                submit(course, student, notebook)

        def ours(name, **options):
            result = {}

            def grade():
                result["results"], _ = grade_assignment(Course.open(courses[name]), ASSIGNMENT, jobs=jobs,
                                                        progress=False, force=True, **options)
                stop_fork_server()  # each run pays for starting its own, as `autograder grade` does
            return timed(grade), result

        runs = {"ours": [], "plain": []}
        for _ in range(REPEATS):  # interleaved, so that a slow spell of the machine hits both
            measured, kept = ours("ours")
            runs["ours"].append(measured)
            runs["plain"].append(timed(lambda: run_nbgrader(courses["plain"], "autograde", ASSIGNMENT, "--force")))
        warm_results = kept["results"]
        (cold_seconds, cold_cpu), cold = ours("cold", warm=False)
        (bare_seconds, _), _ = ours("bare", sandbox=False)

        scores = {name: gradebook_scores(course) for name, course in courses.items()}
        disagree = sorted(s for s in notebooks if len({repr(scores[name].get(s)) for name in scores}) != 1)
        if disagree:
            raise SystemExit(f"the graders disagree on {len(disagree)} submissions: {disagree[:5]}")

        ours_seconds = statistics.median(wall for wall, _ in runs["ours"])
        ours_cpu = statistics.median(cpu for _, cpu in runs["ours"])
        plain_seconds = statistics.median(wall for wall, _ in runs["plain"])
        plain_cpu = statistics.median(cpu for _, cpu in runs["plain"])
        print(f"{n} submissions, {jobs} workers, {os.cpu_count()} cores; same scores from every grader "
              f"(total {sum(sum(v.values()) for v in scores['ours'].values()):.0f} points); medians of {REPEATS} runs\n")
        print(f"{'grader':<40} {'wall clock':>10} {'per second':>11} {'CPU per submission':>19}")
        for label, seconds, cpu in (
                (f"autograder grade --jobs {jobs}", ours_seconds, ours_cpu),
                ("  the same, kernels started cold (1 run)", cold_seconds, cold_cpu),
                ("  the same, --no-sandbox (1 run)", bare_seconds, None),
                ("nbgrader autograde (sequential)", plain_seconds, plain_cpu)):
            print(f"{label:<40} {seconds:>9.1f}s {n / seconds:>11.2f} "
                  f"{'' if cpu is None else f'{cpu / n:.2f} s':>19}")
        print("  every run: " + ", ".join(f"{name} " + " ".join(f"{wall:.1f}s" for wall, _ in walls)
                                          for name, walls in runs.items()))
        print(f"\nspeed-up over plain nbgrader: {plain_seconds / ours_seconds:.2f}x "
              f"({n / ours_seconds:.2f} submissions/s); warm kernels over cold: {cold_seconds / ours_seconds:.2f}x")
        print(f"cost of the sandbox: {100 * (cold_seconds / bare_seconds - 1):+.1f} % (cold kernels, sandboxed / unsandboxed)")

        warm, before = breakdown(courses["ours"], warm_results, notebooks), breakdown(courses["cold"], cold["results"], notebooks)
        starts = kernel_start_seconds(warm=True), kernel_start_seconds(warm=False)
        database = store_seconds(courses["ours"], list(notebooks)[:10])
        print(f"\nOne submission in a worker (medians), warm kernels against cold ones:")
        print(f"  {'':<46} {'warm':>7} {'cold':>7}")
        for label, a, b in (("all of it", warm[0], before[0]),
                            ("kernel start (measured apart; a warm one is", starts[0], starts[1]),
                            ("  forked during the previous submission)", float("nan"), float("nan")),
                            ("the notebook's imports", warm[1], before[1]),
                            ("judging the hidden aspects", warm[2], before[2]),
                            ("other cells (answers, visible tests, training)", warm[3], before[3]),
                            ("storing in the gradebook (coordinator)", database, database)):
            print(f"  {label:<46} {a:6.2f}s {b:6.2f}s" if a == a else f"  {label}")
        rest = warm[0] - warm[1] - warm[2] - warm[3], before[0] - starts[1] - before[1] - before[2] - before[3]
        print(f"  {'the rest (nbgrader steps, messages, repair)':<46} {rest[0]:6.2f}s {rest[1]:6.2f}s")

        large = make_course(Path(scratch) / "large")
        for student, notebook in submissions(args.large).items():  # the same mix as the small run
            submit(large, student, notebook)
        with MemorySampler() as memory:
            result = {}
            large_seconds, large_cpu = timed(lambda: result.setdefault("results", grade_assignment(
                Course.open(large), ASSIGNMENT, jobs=jobs, progress=False)[0]))
        graded = [r for r in result["results"] if r.status != "failed"]
        print(f"\n{args.large} submissions: {large_seconds:.1f} s, {args.large / large_seconds:.2f} submissions/s, "
              f"CPU {large_cpu / args.large:.2f} s per submission ({len(graded)} graded); per submission "
              f"{large_seconds / args.large:.3f} s against {ours_seconds / n:.3f} s with {n} "
              f"({large_seconds / args.large / (ours_seconds / n):.2f}x)")
        print("Memory during that run:")
        print("\n".join(memory.report(jobs)))


if __name__ == "__main__":
    main()
