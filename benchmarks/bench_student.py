"""A student's Run All: the released notebook, every answer filled in, run top to bottom.

What a student waits for after Kernel → Restart & Run All in JupyterLab: a fresh kernel (the
kit's own, as JupyterLab starts it), the imports, the visible checks and the full comparison of
the three optimizers (10,000 epochs each). Run from a copy of the released folder, as a student
has it. Medians of 3 runs; the goal is under 30 s on the project's 2-core machine.

Measured twice: by a kernel client alone (nbclient, the kernel's share of the wait), and, where a
browser can be driven, in JupyterLab in headless Chromium, from the click on Restart Kernel and
Run All Cells to the last cell's result on the page (what the student actually waits for,
rendering included).
"""

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.assignments.optimization_methods import ASSIGNMENT as OPTIMIZATION, NAME as ASSIGNMENT
from autograder.assignments.optimization_methods.sample_class import REPO, solved_notebook
import tooling  # noqa: F401  (tests/ on the import path: the test tooling below)
from lab import BrowserUnavailable, JupyterLab, NotebookPage, find_chromium, launch_chromium

NOTEBOOK = OPTIMIZATION.release.notebook

GOAL_SECONDS = 30.0


def run_all(folder):
    """Seconds for Run All of `folder`'s notebook in a fresh kernel, and each cell's seconds."""
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    if errors:
        raise SystemExit(f"the solved notebook raised {errors[0].ename}: {errors[0].evalue}")
    return seconds, {cell.get("id", str(index)): _cell_seconds(cell) for index, cell in enumerate(notebook.cells)
                     if cell.cell_type == "code"}


def _cell_seconds(cell):
    """The cell's run time, from the timing nbclient records in its metadata."""
    timing = cell.metadata.get("execution", {})
    started, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (started and ended):
        return 0.0
    return (datetime.fromisoformat(ended.replace("Z", "+00:00")) -
            datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds()


def run_all_in_browser(folder, scratch, rounds):
    """Seconds for each of `rounds` Restart & Run All of `folder`'s notebook in JupyterLab in Chromium."""
    from playwright.sync_api import sync_playwright

    cells = nbformat.read(folder / NOTEBOOK, as_version=4).cells
    totals = []
    with JupyterLab(folder, scratch) as lab, sync_playwright() as playwright:
        browser = launch_chromium(playwright, find_chromium())
        notebook = NotebookPage.open(browser, lab, NOTEBOOK, cells, "bench-student")
        for _ in range(rounds):
            start = time.perf_counter()
            notebook.restart_and_run_all()
            totals.append(time.perf_counter() - start)
        errors = [view.index for view in (notebook.view(i) for i, kind in enumerate(notebook.kinds) if kind == "code")
                  if view.errors]
        browser.close()
    if errors:
        raise SystemExit(f"the solved notebook showed errors in JupyterLab, in cells {errors}")
    return totals


def report(what, totals, rounds):
    median = statistics.median(totals)
    verdict = "met" if median < GOAL_SECONDS else "NOT met"
    print(f"{what} ({rounds} runs): median {median:.1f} s   runs: {' '.join(f'{t:.1f}' for t in totals)}   "
          f"goal under {GOAL_SECONDS:.0f} s: {verdict} ({median / GOAL_SECONDS:.2f} of the goal)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    totals, cells = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-student-") as scratch:
        folder = Path(scratch) / ASSIGNMENT
        shutil.copytree(REPO / "release" / ASSIGNMENT, folder)
        nbformat.write(solved_notebook(), folder / NOTEBOOK)
        for _ in range(args.rounds):
            seconds, per_cell = run_all(folder)
            totals.append(seconds)
            for cell, cell_seconds in per_cell.items():
                cells.setdefault(cell, []).append(cell_seconds)
        report("A student's Run All of the solved notebook, kernel client (nbclient, fresh kernel)", totals,
               args.rounds)
        print("slowest cells (median s):")
        for cell, values in sorted(cells.items(), key=lambda item: -statistics.median(item[1]))[:5]:
            print(f"  {cell:<32} {statistics.median(values):6.2f}")
        lab_scratch = Path(scratch) / "lab"
        lab_scratch.mkdir()
        try:
            browser_totals = run_all_in_browser(folder, lab_scratch, args.rounds)
        except BrowserUnavailable as reason:
            print(f"in JupyterLab in Chromium: not measured ({reason})")
        else:
            report("The same in JupyterLab in headless Chromium, click to last result on the page", browser_totals,
                   args.rounds)
            print(f"the page's share: {statistics.median(browser_totals) / statistics.median(totals):.2f}x "
                  f"the kernel client's time")


if __name__ == "__main__":
    main()
