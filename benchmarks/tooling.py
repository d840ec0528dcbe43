"""The test suite's tooling for the benchmarks: ``import tooling`` puts ``tests/`` on the import
path, so that a benchmark run as ``python benchmarks/bench_x.py`` imports what the tests use to
place submissions (``course``), start a PostgreSQL server (``postgres``), a Dask cluster
(``dask_cluster``) or JupyterLab in Chromium (``lab``). None of it is part of the kit."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
