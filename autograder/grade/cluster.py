"""Grading on a Dask cluster: the same tasks and results as local grading, carried as data.

The coordinator sends each Dask worker the assignment once, as a content-addressed bundle
(`bundle`), and each task with the submitted notebook, its outputs dropped; it shares no
filesystem with the workers. On a Dask worker a task is graded exactly as locally: by a grading
worker process of the kit's own (`workers.Worker`, forked from a worker fork server that lives as
long as the Dask worker), in the sandbox, under the task's time and memory limits, so a submission that
kills its grading process fails only itself and the Dask worker lives on. Results come back as
JSON; the coordinator alone stores them, as they complete. It sends notebooks ahead of their
results only up to `IN_FLIGHT_BYTES`, so that its memory does not grow with the class. A Dask worker lost mid-task has its
tasks run elsewhere by the scheduler; each result is stored once.
"""

import atexit
import os
import socket
import threading
import urllib.parse
from dataclasses import asdict

import nbformat

from ..course import CourseError
from .bundle import GRADEBOOK, make_bundle, unpacked
from .sanitize import SubmissionError, read_submission
from .task import REASON_CHARS, Result, Status, Task, fingerprint, run_task, submission_path
from .workers import Worker

# The notebooks sent and not yet graded, which the client keeps until their results are in: a
# class's worth at once would hold every notebook of it in the coordinator's memory.
IN_FLIGHT_BYTES = 256 << 20
_local = threading.local()
_sandbox_checked = {}


def grade_on_worker(key, bundle, fields, notebook):
    """Run on a Dask worker: grade the submission `notebook` (bytes, or None when the student's
    folder has no notebook) of the task `fields` with the assignment of bundle `key`; the
    result's JSON."""
    folder = unpacked(key, bundle)
    task = Task(**dict(fields, course=str(folder), gradebook=str(folder / GRADEBOOK)))
    if task.sandbox:
        _check_sandbox()
    path = submission_path(task)
    path.parent.mkdir(parents=True, exist_ok=True)
    if notebook is None:
        path.unlink(missing_ok=True)
    else:
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(notebook)
        os.replace(partial, path)
    return _grading_worker(task.memory_bytes).grade(task).to_json()


def _check_sandbox():
    """Refuse to grade, saying why, where this machine cannot set up the sandbox
    (`policy.grading_sandbox`: a Dask worker never grades without it unless the task says so);
    checked once per worker process."""
    from ..sandbox.policy import SandboxUnavailable, grading_sandbox

    if "error" not in _sandbox_checked:
        try:
            grading_sandbox(wanted=True, required=True)
            _sandbox_checked["error"] = None
        except SandboxUnavailable as error:
            _sandbox_checked["error"] = str(error)
    if _sandbox_checked["error"]:
        raise RuntimeError(f"this Dask worker ({os.uname().nodename}) cannot sandbox students' code: "
                           f"{_sandbox_checked['error']}")


def _grading_worker(memory_bytes):
    """This thread's grading worker process, kept for the tasks that follow."""
    worker = getattr(_local, "worker", None)
    if worker is None or worker.memory_bytes != memory_bytes:
        if worker is not None:
            worker.stop()
        worker = _local.worker = Worker(memory_bytes)
        atexit.register(worker.stop)  # a Dask worker that closes leaves no scratch folder behind
    return worker


def bundle_bytes(data):
    """The bundle itself (a task, so that the scheduler can make it again)."""
    return data


def submission_bytes(task):
    """What a Dask worker gets of `task`'s submission: the notebook as grading reads it, its
    outputs already dropped (so that megabytes of printed arrays do not travel), or None when the
    student's folder has no notebook. `SubmissionError` when it cannot be graded at all."""
    path = submission_path(task)
    return nbformat.writes(read_submission(path)).encode() if path.is_file() else None


def _check_listening(address):
    """Fail at once, not after Dask's 20 s of retries, when nothing listens at a TCP `address`."""
    parts = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if parts.scheme not in ("tcp", "tls") or not host or not port:
        return  # another transport, or an address Dask itself will judge
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as error:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {error.strerror or error}") from None


def grade_on_cluster(address, course, assignment, tasks, keep):
    """Grade `tasks` on the Dask cluster whose scheduler is at `address`, calling `keep` on each
    result in this thread as it arrives; yields each result after keeping it."""
    from distributed import Client, as_completed

    _check_listening(address)
    gradebook = course.copy_assignment_tables(course.assignment_gradebook(assignment))
    key, data = make_bundle(course, assignment, gradebook)
    try:
        client = Client(address, timeout=20)
    except (OSError, TimeoutError) as error:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    with client:
        # A task whose value is the bundle, not scattered data: a worker fetches it once from
        # whichever worker holds it, and when every holder is lost the scheduler makes it again.
        bundle = client.submit(bundle_bytes, data, key=f"assignment-bundle-{key}", pure=True)
        sent, in_flight = as_completed(), {}
        for task in tasks:
            try:
                notebook = submission_bytes(task)
            except SubmissionError:
                result = run_task(task)  # refused here, for the same reason, as local grading refuses it
                keep(result)
                yield result
                continue
            while in_flight and sum(size for *_, size in in_flight.values()) + len(notebook or b"") > IN_FLIGHT_BYTES:
                yield _stored(next(sent), in_flight, keep)
            fields = {k: v for k, v in asdict(task).items() if k not in ("course", "gradebook")}
            future = client.submit(grade_on_worker, key, bundle, fields, notebook, pure=False,
                                   key=f"grade-{task.student}-{os.urandom(4).hex()}")
            in_flight[future] = task, fingerprint(submission_path(task)), len(notebook or b"")
            sent.add(future)
        for future in sent:  # each future once, however often its task ran
            yield _stored(future, in_flight, keep)


def _stored(future, in_flight, keep):
    """The result of a finished grading `future`, kept; the future and its notebook let go."""
    task, submitted, _size = in_flight.pop(future)
    try:
        result = Result.from_json(future.result())
        result.submission_sha256 = submitted  # the worker saw the notebook without its outputs
    except Exception as error:  # noqa: BLE001 (the worker, not the submission, failed)
        result = Result(task.student, Status.FAILED, reason=f"the Dask cluster could not grade it: "
                                                     f"{type(error).__name__}: {error}"[:REASON_CHARS])
    keep(result)
    return result
