"""``make demo``: the instructor's whole flow on a sample class, in a folder of its own.

1. compare the three optimizers with the reference (figure and accuracy table);
2. build a course from ``source/`` with real ``nbgrader generate_assignment``;
3. make a sample class of about 30 students as an LMS download (right answers, mistakes from the
   mutation catalog, broken files, a resubmission, a stray file);
4. collect, grade with a progress bar, write feedback, export grades, build the report and the
   Gradescope zip; print where everything is.
"""

import argparse
import copy
import os
import random
import shutil
import zipfile
from pathlib import Path

import nbformat

from solutions import comparison

from .assignments.optimization_methods import NAME as ASSIGNMENT
from .collect import collect
from .course import Course
from .assignments.optimization_methods.sample_class import (CORRECT, WRONG, make_course, release_notebook,
                                                              solved_notebook, with_answer)
from .export import export
from .feedback import write_feedback
from .grade.batch import grade_assignment, status_counts
from .gradescope import build_zip
from .report import write_report

MARKER = ".kit-demo"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def prepare_folder(out):
    """Empty `out` for the demo, refusing to wipe a folder the demo did not make."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SystemExit(f"{out} exists and was not made by the demo; choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by `make demo`; deleted and remade on every run\n")
    return out


def sample_class(size=30, seed=2026):
    """{student: (file name in the download, contents, day of November)}: a mixed class."""
    rng = random.Random(seed)
    solved = solved_notebook()
    broken = {
        "not a notebook": b"%PDF-1.7 this is a scanned page, not a notebook",
        "an empty notebook": nbformat.writes(nbformat.v4.new_notebook()).encode(),
        "the untouched release": nbformat.writes(release_notebook()).encode(),
    }
    duplicated = copy.deepcopy(solved)
    copied_cell = copy.deepcopy(next(c for c in duplicated.cells
                                     if c.metadata.get("nbgrader", {}).get("grade_id") == "initialize_adam"))
    copied_cell.id = "initialize-adam-copy"  # Jupyter gives a pasted cell a new id
    duplicated.cells.insert(3, copied_cell)
    share = max(1, size // 8)  # an eighth right as the reference, an eighth right otherwise
    answers = [("right", nbformat.writes(solved).encode())] * share
    answers += [(v.id, nbformat.writes(with_answer(copy.deepcopy(solved), v.function, v.source)).encode())
                for v in rng.sample(CORRECT, share)]
    mistakes = max(0, size - len(answers) - len(broken) - 1)
    answers += [(v.id, nbformat.writes(with_answer(copy.deepcopy(solved), v.function, v.source)).encode())
                for v in rng.sample(WRONG, min(mistakes, len(WRONG)))]
    answers += [("duplicated cell", nbformat.writes(duplicated).encode())]
    answers += list(broken.items())
    rng.shuffle(answers)
    students = {}
    for number, (kind, contents) in enumerate(answers, start=1):
        student = f"student{number:02d}"
        students[student] = (f"{student}_{1000 + number}_{5000 + number}_{NOTEBOOK}", contents, 20, kind)
    return students


def lms_download(students, path):
    """The class as a Canvas-style zip, with one resubmission and one stray file."""
    with zipfile.ZipFile(path, "w") as archive:
        for student, (name, contents, day, _) in students.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, day, 9, 0, 0)), contents)
        first = next(iter(students))
        archive.writestr(zipfile.ZipInfo(f"{first}_LATE_1001_9001_{ASSIGNMENT}-1.ipynb", (2026, 11, 21, 9, 0, 0)),
                         nbformat.writes(solved_notebook()))
        archive.writestr(zipfile.ZipInfo("grading-instructions.pdf", (2026, 11, 19, 9, 0, 0)), b"%PDF")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/demo"))
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10000, help="epochs of the optimizer comparison")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    out = prepare_folder(args.out)

    print("1. Comparing the optimizers with the reference solution")
    comparison.main(["--out", str(out / "comparison"), "--epochs", str(args.epochs)])

    print("\n2. Building the course with nbgrader generate_assignment")
    course = Course.open(make_course(out / "course"))

    print(f"\n3. A sample class of {args.students} students, as an LMS download")
    students = sample_class(args.students)
    download = lms_download(students, out / "lms-download.zip")
    print(f"   {download}")

    print("\n4. autograder collect")
    entries = collect(course, ASSIGNMENT, download)
    for status in ("imported", "superseded", "rejected"):
        print(f"   {sum(e.status == status for e in entries):3d} {status}")

    print(f"\n5. autograder grade --jobs {args.jobs}")
    results, _ = grade_assignment(course, ASSIGNMENT, jobs=args.jobs)
    print(f"   {status_counts(results)}")

    print("\n6. autograder feedback, export, report, gradescope")
    pages = write_feedback(course, ASSIGNMENT)
    exported = export(course, ASSIGNMENT)
    report = write_report(course, ASSIGNMENT)
    gradescope = build_zip(course, ASSIGNMENT, course.root / "exports" / ASSIGNMENT / "gradescope-autograder.zip")

    print("\nWhere everything is:")
    for label, path in [
        ("optimizer comparison figure", out / "comparison" / "comparison.png"),
        ("accuracy table", out / "comparison" / "accuracy.md"),
        ("course directory (nbgrader layout)", course.root),
        ("LMS download", download),
        ("collect manifest", course.work(ASSIGNMENT) / "collect-manifest.csv"),
        ("gradebook (nbgrader export, formgrader)", course.gradebook),
        (f"feedback pages ({len(pages)})", course.root / "feedback"),
        ("grades", exported / "grades.csv"),
        ("Gradescope-style results", exported / "results"),
        ("class report", report),
        ("Gradescope autograder", gradescope),
    ]:
        print(f"  {label:42s} {path}")


if __name__ == "__main__":
    main()
