"""Optimization Methods: mini-batch gradient descent, momentum and Adam on the moons set.

Six graded functions, 100 points: each function's visible test cell and its hidden aspects
(`checks`) total 10 (initialisations, gradient descent), 20 (mini-batches, momentum) or 30 (Adam).
The reference is `solutions`; students receive `opt_utils` and the moons data beside the notebook.
"""

import solutions
from autograder.grade_ids import TRAINING_CODE
from opt_utils.feedback import CheckFailed, Mistake

from .. import Assignment, Release
from . import build
from .checks import ASPECTS
from .visible import visible_check

NAME = "optimization_methods"

ASSIGNMENT = Assignment(
    name=NAME,
    functions=solutions.GRADED_FUNCTIONS,
    aspects=ASPECTS,
    visible_points={
        "update_parameters_with_gd": 2,
        "random_mini_batches": 2,
        "initialize_velocity": 2,
        "update_parameters_with_momentum": 3,
        "initialize_adam": 2,
        "update_parameters_with_adam": 4,
    },
    visible_check=visible_check,
    mistake=Mistake,
    failure=CheckFailed,
    release=Release(
        notebook=f"{NAME}.ipynb",
        reference=solutions,
        support_package=build.SUPPORT_PACKAGE,
        data_files=("datasets/moons.csv",),
        # The notebook and opt_utils import numpy and matplotlib; jupyter brings JupyterLab and the kernel.
        student_packages=("numpy", "matplotlib", "jupyter"),
        visible_test_source=build.visible_test_source,
        expected_output_source=build.expected_output_source,
        generated_cells={TRAINING_CODE: build.training_source},
        generated_files=(str(build.EXPECTED_OUTPUTS),),
        write_generated_files=build.write_expected_outputs,
    ),
)
