"""Import an LMS download (a zip or a folder) into ``submitted/<student>/<assignment>/``.

File names are matched by a regular expression with a named group ``student_id`` (and
optionally ``timestamp``, in ISO form), as nbgrader's ``zip_collect`` does. Every file gets a
line in the manifest: imported, superseded (an older file of the same student) or rejected, with
the reason. A submission already collected is only replaced by a newer one.
"""

import csv
import datetime as dt
import os
import re
import zipfile
from dataclasses import astuple, dataclass
from enum import StrEnum
from pathlib import Path

from .course import CourseError
from .grade.reading import MAX_FILE_BYTES, too_large
from .grade.store import atomic_write
from .untrusted import csv_row, printable

# Canvas-style names: "doejane_12345_67890_homework1.ipynb", "doejane_LATE_12345_…".
DEFAULT_PATTERN = r"^(?P<student_id>[A-Za-z0-9.\-]+)_(?:LATE_)?(?:\d+_)*(?P<file_id>.+)$"


class EntryStatus(StrEnum):
    """What became of one file of a download (`Entry.status`), as the manifest and the summary say."""

    IMPORTED = "imported"
    SUPERSEDED = "superseded"  # an older file of the same student
    REJECTED = "rejected"


IMPORTED, SUPERSEDED, REJECTED = EntryStatus


@dataclass
class Entry:
    """One file of the download and what became of it."""

    file: str
    student: str
    status: str
    reason: str
    timestamp: str


@dataclass
class _Candidate:
    name: str
    student: str
    timestamp: dt.datetime
    open: object  # () -> a binary file


def _copy_at_most(open_file, destination, limit=MAX_FILE_BYTES):
    """Copy a file to `destination` in chunks and no further than `limit` bytes, or raise
    `CourseError`: a file that claims less than it holds (a zip entry can) is caught without
    being read whole, and what `destination` held before is kept."""
    partial = destination.with_name(f".{destination.name}.collecting")
    try:
        with open_file() as source, partial.open("wb") as target:
            copied = 0
            while chunk := source.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise CourseError(too_large(copied))
                target.write(chunk)
        os.replace(partial, destination)
    except zipfile.BadZipFile as error:  # its data does not match what the zip says of it
        raise CourseError(f"the file is damaged in the download ({error})") from None
    finally:
        partial.unlink(missing_ok=True)


def _files(path):
    """(name, timestamp, size, opener) for every file in a zip or below a folder."""
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            info = file.stat()
            stamp = dt.datetime.fromtimestamp(info.st_mtime, dt.timezone.utc)
            yield str(file.relative_to(path)), stamp, info.st_size, lambda file=file: file.open("rb")
    elif zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        for info in archive.infolist():
            if not info.is_dir():
                stamp = dt.datetime(*info.date_time, tzinfo=dt.timezone.utc)
                yield info.filename, stamp, info.file_size, lambda info=info: archive.open(info)
    else:
        raise CourseError(f"{path} is neither a folder nor a zip file")


def _usable_student_id(student):
    """Whether `student` names one folder inside submitted/, and nothing a terminal would obey."""
    return student not in ("", ".", "..") and not set(student) & {"/", "\\"} and printable(student) == student


def collect(course, assignment, path, pattern=DEFAULT_PATTERN):
    """Import the submissions in `path`; return the manifest entries (also written to a CSV)."""
    notebook = course.notebook_name(assignment)
    regex = re.compile(pattern)
    if "student_id" not in regex.groupindex:
        raise CourseError("the file-name pattern needs a named group (?P<student_id>…)")
    entries, candidates = [], []
    for name, stamp, size, opener in _files(path):
        base = Path(name).name
        match = regex.match(base)
        if base.startswith(".") or "__MACOSX" in name:
            continue
        if not match:
            entries.append(Entry(name, "", REJECTED, "the file name does not match the pattern", stamp.isoformat()))
            continue
        if not _usable_student_id(match["student_id"]):
            entries.append(Entry(name, match["student_id"], REJECTED, "the student id taken from the file name cannot "
                                 "name a folder (empty, . or .., a slash or a control character)", stamp.isoformat()))
            continue
        if not base.endswith(".ipynb"):
            entries.append(Entry(name, match["student_id"], REJECTED, "not a notebook (.ipynb) file", stamp.isoformat()))
            continue
        if too_large(size):
            entries.append(Entry(name, match["student_id"], REJECTED, too_large(size), stamp.isoformat()))
            continue
        if "timestamp" in regex.groupindex and match["timestamp"]:
            stamp = dt.datetime.fromisoformat(match["timestamp"]).replace(tzinfo=dt.timezone.utc)
        candidates.append(_Candidate(name, match["student_id"], stamp, opener))

    newest = {}
    for candidate in sorted(candidates, key=lambda c: (c.student, c.timestamp, c.name)):
        if candidate.student in newest:
            older = newest[candidate.student]
            entries.append(Entry(older.name, older.student, SUPERSEDED,
                                 f"a newer file of the same student was imported: {candidate.name}",
                                 older.timestamp.isoformat()))
        newest[candidate.student] = candidate
    for candidate in newest.values():
        try:
            entries.append(_import(course, assignment, notebook, candidate))
        except CourseError as refused:  # larger than it claimed, or damaged
            entries.append(Entry(candidate.name, candidate.student, REJECTED, str(refused),
                                 candidate.timestamp.isoformat()))
    _warn_of_case_twins(course, assignment, entries)
    _write_manifest(course, assignment, entries)
    return entries


CASE_TWINS_NOTE = ("they are graded as different students, and on a case-insensitive filesystem one would "
                   "overwrite the other")


def case_twins(course, assignment, entries):
    """The groups of student ids that differ only in case, among those submitted so far, with an
    id that `entries` imported.

    Returns
    -------
    list of list of str
        Each group sorted; the groups in order of their case-folded id.
    """
    known = set(course.students_with_submissions(assignment)) | {e.student for e in entries if e.student}
    by_folded = {}
    for student in known:
        by_folded.setdefault(student.casefold(), set()).add(student)
    imported = {e.student.casefold() for e in entries if e.status == IMPORTED}
    return [sorted(group) for folded, group in sorted(by_folded.items()) if len(group) > 1 and folded in imported]


def _warn_of_case_twins(course, assignment, entries):
    """Note on each imported entry whose student id differs from another only in case."""
    group_of = {student: group for group in case_twins(course, assignment, entries) for student in group}
    for entry in entries:
        if entry.status == IMPORTED and entry.student in group_of:
            twins = [student for student in group_of[entry.student] if student != entry.student]
            note = f"warning: student id differs only in case from {', '.join(twins)}; {CASE_TWINS_NOTE}"
            entry.reason = f"{entry.reason}; {note}" if entry.reason else note


def _import(course, assignment, notebook, candidate):
    folder = course.submitted(assignment, candidate.student)
    stamp_file = folder / "timestamp.txt"
    if stamp_file.is_file():
        existing = dt.datetime.fromisoformat(stamp_file.read_text().strip())
        if existing.tzinfo is None:
            existing = existing.replace(tzinfo=dt.timezone.utc)
        if candidate.timestamp < existing:
            return Entry(candidate.name, candidate.student, REJECTED,
                         f"older than the submission already collected ({existing.isoformat()})",
                         candidate.timestamp.isoformat())
    folder.mkdir(parents=True, exist_ok=True)
    _copy_at_most(candidate.open, folder / notebook)
    atomic_write(stamp_file, candidate.timestamp.isoformat())
    renamed = Path(candidate.name).name != notebook and not Path(candidate.name).name.endswith(f"_{notebook}")
    reason = f"saved as {notebook}" if renamed else ""
    return Entry(candidate.name, candidate.student, IMPORTED, reason, candidate.timestamp.isoformat())


def _write_manifest(course, assignment, entries):
    path = course.collect_manifest(assignment)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(Entry.__dataclass_fields__)
        writer.writerows(csv_row(astuple(entry)) for entry in sorted(entries, key=lambda e: (e.student, e.file)))
    return path
