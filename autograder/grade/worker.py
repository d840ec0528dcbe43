"""A long-lived grading worker: ``python -m autograder.grade.worker MEMORY_BYTES``.

It reads one task (JSON) per line on stdin and writes one result (JSON) per line on stdout,
grading each with nbgrader's autograde steps built once in this process (`autograde`), and a
sandboxed kernel of its own forked from the worker's warm process, so start-up costs are paid
once per worker rather than once per submission. The memory limit applies to the worker; the
batch that feeds it enforces each task's wall-clock limit by killing the worker and starting another.
"""

import json
import resource
import sys

from .task import Task, run_task


def main():
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    for line in sys.stdin:
        task = Task(**json.loads(line))
        result = run_task(task)
        sys.stdout.write(result.to_json() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
