"""Support code of the Optimization Methods assignment, shipped to students with the notebook.

It holds everything the notebook needs except the six graded functions: the moons data, the
network (initialisation, forward and backward passes, cost, predictions), plotting, the visible
test cases and the input checks. Nothing here depends on the reference solutions.
"""

from .data import load_dataset
from .network import (
    accuracy,
    backward_propagation,
    compute_cost,
    forward_propagation,
    initialize_parameters,
    predict,
    predict_dec,
)
from .test_cases import (
    initialize_adam_test_case,
    initialize_velocity_test_case,
    random_mini_batches_test_case,
    update_parameters_with_adam_test_case,
    update_parameters_with_gd_test_case,
    update_parameters_with_momentum_test_case,
)

PLOTTING = ("plot_costs", "plot_decision_boundary")


def __getattr__(name):
    """The plotting functions, loaded when first used: they need matplotlib, which takes most of
    a second to import and which the grader never uses."""
    if name in PLOTTING:
        from . import plotting
        return getattr(plotting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
