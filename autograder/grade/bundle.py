"""An assignment as data: what a grading worker on another machine needs, in one content-addressed archive.

A worker that shares no filesystem with the coordinator grades from a bundle: the course's
``nbgrader_config.py``, the released assignment (the notebook and the files the kernel may read),
the course's own assignment plug-ins (``c.Kit.assignment_folders``) and an SQLite gradebook
holding the assignment's cells (a snapshot). Its name is the SHA-256 of
its bytes, so a worker unpacks each bundle once and every task that names it shares the copy.
The bundle holds no student's work and no hidden test source beyond what the gradebook's cells
hold for nbgrader's own checks; it never enters a kernel's sandbox.
"""

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path

CONFIG, GRADEBOOK = "nbgrader_config.py", "gradebook.db"
_unpacking = threading.Lock()


def make_bundle(course, assignment, gradebook):
    """(sha256 hex digest, bytes) of the bundle of `assignment` in `course`, with `gradebook`, a
    file holding the assignment's cells and nothing of any student (`Course.copy_assignment_tables`)."""
    buffer = io.BytesIO()
    # No time stamps, in the archive or its gzip header: the same assignment makes the same bundle,
    # which workers then find unpacked from an earlier run.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed, \
            tarfile.open(fileobj=compressed, mode="w") as archive:
        for path, name in ((course.root / CONFIG, CONFIG), (Path(gradebook), GRADEBOOK)):
            archive.add(path, arcname=name, filter=_plain)
        archive.add(course.root / "release" / assignment, arcname=f"release/{assignment}", filter=_plain)
        for folder in course.plugin_folders():  # the course's own assignment plug-ins, where its config names them
            archive.add(course.root / folder, arcname=folder.as_posix(), filter=_plain)
    data = buffer.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def _plain(member):
    """Regular files and folders only, owned by nobody in particular, without byte-code caches."""
    if "__pycache__" in member.name.split("/") or not (member.isfile() or member.isdir()):
        return None
    member.uid = member.gid = member.mtime = 0
    member.uname = member.gname = ""
    return member


def _forget_unused(cache, days=7):
    """Remove bundles no task has used for `days` (a worker may serve many courses and terms)."""
    for old in cache.iterdir():
        try:
            if time.time() - old.stat().st_mtime > days * 86400:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def unpacked(key, data, cache=None):
    """The folder holding bundle `key` (its bytes `data`), unpacked on first use under `cache`
    (the temporary folder by default); a `ValueError` when the bytes are not the bundle named."""
    cache = Path(cache or tempfile.gettempdir()) / "autograder-bundles"
    folder = cache / key
    if folder.is_dir():
        os.utime(folder)  # used: kept by `_forget_unused`
        return folder
    if hashlib.sha256(data).hexdigest() != key:
        raise ValueError(f"the bundle's bytes do not match its name {key[:12]}…")
    with _unpacking:
        if folder.is_dir():
            return folder
        cache.mkdir(parents=True, exist_ok=True)
        _forget_unused(cache)
        partial = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=cache))
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(partial, filter="data")  # no links, no paths outside
        try:
            os.rename(partial, folder)  # another process may have unpacked it meanwhile
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    return folder
