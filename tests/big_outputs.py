"""Notebooks whose file is nearly all outputs, as a student's who printed big arrays, written a
piece at a time so that even a file of hundreds of megabytes never sits whole in memory; and
the peak memory of a program that handles one."""

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np

_MARK = "kit-output-goes-here"
# One line of a printed float array, as numpy prints it.
PRINTED_ROW = np.array2string(np.linspace(-1, 1, 9), precision=8, max_line_width=200) + "\n"
WIDGET_STATE = {"state": {f"model-{i}": {"model_name": "FloatSliderModel", "state": {"value": i * 0.5}}
                          for i in range(2000)}, "version_major": 2, "version_minor": 0}


def write_with_outputs(notebook, path, output_bytes):
    """Write `notebook` to `path` with about `output_bytes` of printed rows spread over its code
    cells, each also given an execution count and a small figure, and ipywidgets' state in the
    notebook's metadata; return the path."""
    notebook = copy.deepcopy(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    figure = base64.b64encode(bytes(range(256)) * 64).decode()
    for count, cell in enumerate(code, start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=_MARK),
                        nbformat.v4.new_output("display_data", data={"image/png": figure, "text/plain": "<Figure>"}),
                        nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=count)]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": WIDGET_STATE}
    pieces = nbformat.writes(notebook).split(json.dumps(_MARK))
    rows = max(1, output_bytes // len(PRINTED_ROW) // max(1, len(pieces) - 1))
    with open(path, "w") as handle:
        handle.write(pieces[0])
        for piece in pieces[1:]:
            _write_rows(handle, rows)
            handle.write(piece)
    return path


def _write_rows(handle, rows):
    """`rows` printed rows as the items of a JSON list (the stream's lines), a thousand at a time."""
    row = json.dumps(PRINTED_ROW)
    for start in range(0, rows, 1000):
        handle.write(("," if start else "") + ",".join([row] * min(1000, rows - start)))


def outputs_only(path, output_bytes):
    """A notebook of one markdown cell and one code cell that printed `output_bytes`."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# printed"),
                                               nbformat.v4.new_code_cell("print(big_array)")])
    return write_with_outputs(notebook, path, output_bytes)


def peak_growth(program, *arguments):
    """How much the peak resident memory of a fresh Python grows over `program`'s part after the
    line ``# measured``: (bytes, what the program printed)."""
    setup, measured = program.split("# measured\n")
    script = (f"import resource\n{setup}\nbefore = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n{measured}\n"
              "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) << 10)\n")
    done = subprocess.run([sys.executable, "-c", script, *map(str, arguments)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=600)
    assert done.returncode == 0, done.stderr
    *printed, grown = done.stdout.split()
    return int(grown), printed
