"""The ``autograder`` command line: collect and grade a whole class in an nbgrader course."""

import re
import sys
from pathlib import Path

import click

from . import collect as collecting
from .course import Course, CourseError
from .defaults import SUBMISSION_MEMORY_BYTES, SUBMISSION_SECONDS, default_jobs
from .export import export as export_grades, export_course
from .feedback import write_feedback
from .grade.batch import grade_assignment
from .grade.store import Ledger
from .grade.task import Status
from .sandbox.policy import SandboxUnavailable, grading_sandbox
from .gradescope import build_zip
from .report import write_course_report, write_report
from .untrusted import printable

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


class AssignmentName(click.ParamType):
    """An assignment the kit knows (`autograder.assignments`); an unknown name lists the known ones."""

    name = "assignment"

    def convert(self, value, param, context):
        course = context.find_object(Course)
        try:
            return course.assignment(value).name
        except CourseError as error:
            self.fail(str(error), param, context)


ASSIGNMENT = AssignmentName()


class Refusal(click.ClickException):
    """The command cannot go on; its message may quote a download or a submission, shown inert."""

    def format_message(self):
        return printable(self.message)


def say(line):
    """Print one line: student ids, file names, reasons and warnings in it are a submission's or
    a download's, so its control characters are shown as escapes, never obeyed."""
    click.echo(printable(line))


def parse_size(text):
    """'4G', '512M' or a number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text.upper())
    if not match:
        raise click.BadParameter(f"{text!r} is not a size such as 4G or 512M")
    return int(float(match[1]) * UNITS[match[2]])


def format_size(size):
    """A number of bytes as `parse_size` reads it, in the largest unit that divides it: 4G, 512M."""
    unit = max((u for u, n in UNITS.items() if size % n == 0), key=UNITS.get)
    return f"{size // UNITS[unit]}{unit}"


@click.group()
@click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The nbgrader course directory.")
@click.pass_context
def main(context, course_dir):
    """Collect, grade and report on a class's submissions of the course's assignments."""
    try:
        context.obj = Course.open(course_dir)
    except CourseError as error:
        raise Refusal(str(error)) from None


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--assignment", type=ASSIGNMENT, default=None,
              help="The assignment the download holds (default: the course's one released assignment).")
@click.option("--pattern", default=collecting.DEFAULT_PATTERN, show_default=True,
              help="Regular expression for file names, with a (?P<student_id>…) group.")
@click.pass_obj
def collect(course, path, assignment, pattern):
    """Import an LMS download PATH (zip or folder) into submitted/."""
    if assignment is None:
        released = course.released()
        if len(released) != 1:
            raise Refusal(f"name the assignment with --assignment: the course has released {', '.join(released) or 'none'}")
        assignment = course.assignment(released[0]).name
    try:
        entries = collecting.collect(course, assignment, path, pattern)
    except CourseError as error:
        raise Refusal(str(error)) from None
    for status in collecting.EntryStatus:
        chosen = [e for e in entries if e.status == status]
        say(f"{len(chosen):4d} {status}")
        if status == collecting.REJECTED:
            for entry in chosen:
                say(f"       {entry.file}: {entry.reason}")
    for twins in collecting.case_twins(course, assignment, entries):
        say(f"warning: student ids {' and '.join(twins)} differ only in case; {collecting.CASE_TWINS_NOTE}")
    say(f"manifest: {course.collect_manifest(assignment)}")


@main.command()
@click.argument("assignment", type=ASSIGNMENT)
@click.option("--student", "students", multiple=True, help="Grade only these students (repeatable).")
@click.option("--jobs", type=click.IntRange(min=1), default=default_jobs(), show_default=True,
              help="Submissions graded at the same time.")
@click.option("--timeout", type=click.FloatRange(min=1), default=SUBMISSION_SECONDS, show_default=True,
              help="Wall-clock seconds allowed for one submission.")
@click.option("--memory-limit", default=format_size(SUBMISSION_MEMORY_BYTES), show_default=True,
              help="Memory allowed for one submission.")
@click.option("--force", is_flag=True, help="Grade again submissions that are already graded.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--no-sandbox", is_flag=True,
              help="Run students' code without the sandbox (where the machine cannot set it up); "
                   "verdicts stay trusted, the results say that no sandbox was used.")
@click.option("--cold-kernels", is_flag=True,
              help="Start every sandboxed kernel from scratch instead of forking it from each worker's "
                   "kernel fork server (slower; the same grades).")
@click.option("--dask-scheduler", "scheduler", metavar="ADDRESS", default=None,
              help="Grade on the workers of this Dask cluster (e.g. tcp://10.0.0.5:8786) instead of --jobs "
                   "local ones; each worker needs the kit installed and checks its own sandbox.")
@click.pass_obj
def grade(course, assignment, students, jobs, timeout, memory_limit, force, no_progress, no_sandbox, cold_kernels,
          scheduler):
    """Autograde the collected submissions of ASSIGNMENT."""
    if not scheduler:  # a Dask worker decides for itself, by the same rule
        try:
            grading_sandbox(wanted=not no_sandbox, required=True)
        except SandboxUnavailable as error:
            raise Refusal(f"{error}. Grade without it only if you accept that students' code "
                          "can reach this machine: --no-sandbox") from None
    tampered = Ledger(course, assignment).tampered()
    if tampered:
        say(f"warning: the stored results of {', '.join(tampered)} were changed outside the autograder "
            "(their signature does not match); they are graded again")
    try:
        results, skipped = grade_assignment(course, assignment, students, jobs, force, timeout,
                                            parse_size(memory_limit), progress=not no_progress,
                                            sandbox=not no_sandbox, warm=not cold_kernels, scheduler=scheduler)
    except CourseError as error:
        raise Refusal(str(error)) from None
    if no_sandbox:
        say("warning: graded WITHOUT the sandbox (--no-sandbox); the results record it")
    if skipped:
        say(f"{len(skipped)} already graded (unchanged since), not graded again; --force regrades")
    for result in sorted(results, key=lambda r: r.student):
        line = f"{result.student:30s} {result.status:22s} {result.total:6.1f}  {result.seconds:6.1f} s"
        if result.reason:
            line += f"  {result.reason}"
        say(line)
        for warning in result.warnings:
            say(f"{'':32s}warning: {warning}")
    failed = sum(r.status == Status.FAILED for r in results)
    say(f"{len(results)} graded in this run, {failed} failed")


def _graded(course, assignment):
    results = course.ledger_folder(assignment)
    if not results.is_dir() or not any(results.glob("*.json")):
        raise Refusal(f"nothing of {assignment} is graded yet: run `autograder grade {assignment}` first")


@main.command()
@click.argument("assignment", type=ASSIGNMENT)
@click.pass_obj
def feedback(course, assignment):
    """Write one feedback page per student into feedback/."""
    _graded(course, assignment)
    paths = write_feedback(course, assignment)
    say(f"{len(paths)} feedback pages in {course.root / 'feedback'}")


@main.command()
@click.argument("assignment", type=ASSIGNMENT, required=False)
@click.option("--to", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for grades.csv and results/ (default: exports/ASSIGNMENT), or for "
                   "course-grades.csv (default: exports/).")
@click.pass_obj
def export(course, assignment, out):
    """Write ASSIGNMENT's grades.csv and a Gradescope-style results.json per student; without
    ASSIGNMENT, the course's table (a row per student, columns per assignment and function)."""
    if assignment is None:
        say(f"course grades: {export_course(course, out)}")
        return
    _graded(course, assignment)
    folder = export_grades(course, assignment, out)
    say(f"grades: {folder / 'grades.csv'}")
    say(f"per-student results: {folder / 'results'}")


@main.command()
@click.argument("assignment", type=ASSIGNMENT, required=False)
@click.pass_obj
def report(course, assignment):
    """Write the instructor's report on ASSIGNMENT's class (one HTML page); without ASSIGNMENT,
    every graded assignment's and the course page linking them."""
    if assignment is None:
        say(f"course report: {write_course_report(course)}")
        return
    _graded(course, assignment)
    say(f"report: {write_report(course, assignment)}")


@main.command()
@click.argument("assignment", type=ASSIGNMENT)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the zip (default: exports/ASSIGNMENT/gradescope-autograder.zip).")
@click.option("--require-sandbox", is_flag=True,
              help="Grade nothing where Gradescope's platform allows no sandbox (by default a submission is "
                   "then graded without one, which its results say).")
@click.pass_obj
def gradescope(course, assignment, out, require_sandbox):
    """Build a Gradescope autograder zip (setup.sh, run_autograder) for ASSIGNMENT."""
    course.notebook_name(assignment)
    path = build_zip(course, assignment, out or course.root / "exports" / assignment / "gradescope-autograder.zip",
                     require_sandbox)
    say(f"Gradescope autograder: {path}")


if __name__ == "__main__":
    sys.exit(main())
