"""The hidden checks, run in-process on every variant of the mutation catalog.

A correct variant passes every aspect of its function; a wrong one fails at least one, and the
feedback names its mistake. The same catalog is autograded with real nbgrader in
test_mutation_autograde.py; this faster run pins down the messages.
"""

import math

import numpy as np
import pytest

from autograder import assignments
from autograder.assignments.optimization_methods import ASSIGNMENT
from autograder.assignments.optimization_methods.sample_class import CORRECT, VARIANTS, WRONG
from autograder.checks import judge as judge_with
from opt_utils.feedback import CheckFailed, Mistake

import solutions


ASPECTS, aspects_of = ASSIGNMENT.aspects, ASSIGNMENT.aspects_of


def run_check(function, name, namespace):
    """`autograder.assignments.run_check`, as this assignment's hidden test cells call it."""
    assignments.run_check(ASSIGNMENT.name, function, name, namespace)


def judge(check, student):
    return judge_with(check, student, Mistake)


def student_namespace(variant):
    """The variant's function defined as in a notebook where every other answer is right."""
    namespace = {"np": np, "math": math}
    namespace.update({name: getattr(solutions, name) for name in solutions.GRADED_FUNCTIONS})
    exec(compile(variant.source, f"<answer {variant.id}>", "exec"), namespace)
    return namespace


def failures(variant):
    namespace = student_namespace(variant)
    messages = {}
    for aspect in aspects_of(variant.function):
        try:
            run_check(variant.function, aspect.name, namespace)
        except CheckFailed as failure:
            messages[aspect.name] = failure.message
    return messages


def test_catalog_is_large_and_covers_every_function():
    assert len(VARIANTS) >= 40
    for function in solutions.GRADED_FUNCTIONS:
        assert sum(v.function == function for v in WRONG) >= 4, function
        assert sum(v.function == function for v in CORRECT) >= 2, function


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.id)
def test_correct_variant_passes_every_aspect(variant, capsys):
    assert failures(variant) == {}
    assert capsys.readouterr().out.count("✓") == len(aspects_of(variant.function))


@pytest.mark.parametrize("variant", WRONG, ids=lambda v: v.id)
def test_wrong_variant_fails_with_its_diagnosis(variant):
    messages = failures(variant)
    assert messages, "no aspect failed"
    assert any(variant.diagnosis in message for message in messages.values()), messages


def test_missing_function_is_reported():
    with pytest.raises(CheckFailed, match="is not defined as a function: was it renamed or deleted"):
        run_check("initialize_adam", "deep_network", {})


def test_stub_is_reported_as_not_implemented():
    def initialize_adam(parameters):
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="not implemented yet"):
        run_check("initialize_adam", "deep_network", {"initialize_adam": initialize_adam})


def test_error_in_student_code_quotes_the_line():
    namespace = {"np": np}
    exec("def update_parameters_with_gd(parameters, grads, learning_rate):\n"
         "    return parameters['W0'] - learning_rate\n", namespace)
    with pytest.raises(CheckFailed) as failure:
        run_check("update_parameters_with_gd", "weights", namespace)
    assert "raised KeyError: 'W0'" in failure.value.message


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        raise TypeError("not an array")


@pytest.mark.parametrize("function, fake, message", [
    ("update_parameters_with_gd", lambda p, g, lr: {k: AlwaysEqual() for k in p}, "should be a numpy array but is a AlwaysEqual"),
    ("update_parameters_with_gd", lambda p, g, lr: {k: (v - lr * g["d" + k]).tolist() for k, v in p.items()},
     "should be a numpy array but is a list"),
    ("update_parameters_with_gd", lambda p, g, lr: {k: (v - lr * g["d" + k]).ravel() for k, v in p.items()}, "has shape"),
    ("update_parameters_with_gd", lambda p, g, lr: {k: np.broadcast_to(v.mean(), (1, 1)).copy() for k, v in p.items()}, "has shape (1, 1)"),
    ("initialize_velocity", lambda p: AlwaysEqual(), "should be a dict"),
    ("initialize_adam", lambda p: ({"d" + k: np.zeros(v.shape) for k, v in p.items()},), "should return (v, s)"),
    ("random_mini_batches", lambda X, Y, size, seed: AlwaysEqual(), "should return a list"),
])
def test_cheap_fakes_are_not_accepted(function, fake, message):
    failed = []
    for aspect in aspects_of(function):
        try:
            run_check(function, aspect.name, {function: fake})
        except CheckFailed as failure:
            failed.append(failure.message)
    assert len(failed) == len(aspects_of(function))
    assert any(message in text for text in failed), failed


def test_global_random_state_is_restored():
    np.random.seed(99)
    expected = np.random.rand()
    np.random.seed(99)
    run_check("random_mini_batches", "order", {"random_mini_batches": solutions.random_mini_batches})
    assert np.random.rand() == expected


def test_reseeding_the_global_generator_changes_nothing(capsys):
    outcomes = []
    for seed in (0, 12345):
        np.random.seed(seed)
        for (function, name) in ASPECTS:
            run_check(function, name, vars(solutions))
        outcomes.append(capsys.readouterr().out)
    assert outcomes[0] == outcomes[1]


def test_points_add_up_to_85_hidden():
    assert sum(a.points for a in ASPECTS.values()) == 85


def test_points_per_function_add_up_to_100():
    VISIBLE_POINTS = ASSIGNMENT.visible_points
    totals = {function: VISIBLE_POINTS[function] + sum(a.points for a in aspects_of(function))
              for function in solutions.GRADED_FUNCTIONS}
    assert totals == {"update_parameters_with_gd": 10, "random_mini_batches": 20, "initialize_velocity": 10,
                      "update_parameters_with_momentum": 20, "initialize_adam": 10, "update_parameters_with_adam": 30}


def test_an_unshuffled_split_earns_nothing_for_the_permutation():
    """Returning [(X, Y)] computes nothing: it must not earn the "same permutation" aspect."""
    def whole(X, Y, mini_batch_size=64, seed=0):
        return [(X, Y)]
    assert judge(ASPECTS[("random_mini_batches", "same_permutation")].check, whole) is not None


def test_a_missing_bias_correction_costs_its_own_aspect_not_epsilon():
    variant = next(v for v in WRONG if v.name == "no_bias_correction")
    namespace = {"np": np}
    exec(variant.source, namespace)
    student = namespace[variant.function]
    failing = {name for (function, name), aspect in ASPECTS.items() if function == variant.function
               and judge(aspect.check, student) is not None}
    assert failing == {"bias_correction", "deep_network"}


def test_an_error_message_cannot_carry_the_hidden_inputs_out():
    def leaks(parameters, grads, learning_rate):
        raise ValueError(str(parameters["W1"].tolist()))
    message = judge(ASPECTS[("update_parameters_with_gd", "weights")].check, leaks)
    assert message.startswith("raised ValueError: [[")
    assert not any(ch.isdigit() for ch in message.split("(at:")[0]), message
