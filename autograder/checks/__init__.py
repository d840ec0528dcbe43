"""Hidden tests of the six graded functions. Never shipped to students.

Each notebook hidden-test cell calls ``run_check(function, aspect, globals())``; the aspects and
their points are in `ASPECTS` (see `registry`), registered by the modules imported below.
"""

from . import adam, gd, init_state, mini_batches, momentum  # noqa: F401  (they register the aspects)
from .registry import ASPECTS, Aspect, aspects_of
from .runner import run_check
from solutions import GRADED_FUNCTIONS  # noqa: F401  (re-exported for the build and the tests)
