"""Find the cells that kill the kernel: ``python -m autograder.grade.probe NOTEBOOK FOLDER TIMEOUT``.

Runs the notebook's code cells in order in a kernel started in FOLDER (with
``NBGRADER_EXECUTION=autograde``, as nbgrader would). When the kernel dies in a cell, that cell's
index is printed, a new kernel replays the cells before it (but not the ones that killed it) and
the run goes on, so one pass finds every such cell. The grading task runs it under the limits.
"""

import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError


def dying_cells(notebook, folder, timeout):
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    dead, position = [], 0
    while position < len(code):
        client = NotebookClient(notebook, timeout=timeout, allow_errors=True,
                                resources={"metadata": {"path": folder}}, kernel_name="python3")
        with client.setup_kernel(env={**os.environ, "NBGRADER_EXECUTION": "autograde"}):
            replay = [i for i in code[:position] if i not in dead]
            try:
                for index in replay + code[position:]:
                    client.execute_cell(notebook.cells[index], index)
                    position = max(position, code.index(index) + 1)
                return dead
            except DeadKernelError:
                dead.append(code[position])
                position += 1
    return dead


if __name__ == "__main__":
    for index in dying_cells(nbformat.read(sys.argv[1], as_version=4), sys.argv[2], float(sys.argv[3])):
        print(index)
