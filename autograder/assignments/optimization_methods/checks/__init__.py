"""Hidden tests of the six graded functions of Optimization Methods. Never shipped to students.

Each module registers the aspects of its function in `ASPECTS` with `aspect`.
"""

from autograder.checks import Aspects

ASPECTS = Aspects()
aspect = ASPECTS.aspect

from . import adam, gd, init_state, mini_batches, momentum  # noqa: E402,F401  (they register the aspects)
