"""The reference solutions of the course's assignments.

Optimization Methods: the six graded functions live in `optimizers` and `mini_batches`, the
training loop in `training`. Learning-rate decay and RMSProp (the second assignment): `schedules`.
The support code students also receive (data, network, plots, visible test cases) lives in
`opt_utils` and is re-exported here, so ``import solutions`` gives the whole reference.
"""

from opt_utils import (
    accuracy,
    backward_propagation,
    compute_cost,
    forward_propagation,
    initialize_adam_test_case,
    initialize_parameters,
    initialize_velocity_test_case,
    load_dataset,
    predict,
    predict_dec,
    random_mini_batches_test_case,
    update_parameters_with_adam_test_case,
    update_parameters_with_gd_test_case,
    update_parameters_with_momentum_test_case,
)

from .mini_batches import random_mini_batches
from .optimizers import (
    initialize_adam,
    initialize_velocity,
    update_parameters_with_adam,
    update_parameters_with_gd,
    update_parameters_with_momentum,
)
from .training import OPTIMIZERS, model, train

GRADED_FUNCTIONS = (
    "update_parameters_with_gd",
    "random_mini_batches",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_adam",
    "update_parameters_with_adam",
)


def __getattr__(name):
    """`opt_utils`'s plotting functions, loaded when first used (see `opt_utils.__getattr__`)."""
    import opt_utils
    if name in opt_utils.PLOTTING:
        return getattr(opt_utils, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
