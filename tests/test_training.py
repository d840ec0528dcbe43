"""Training: the published accuracies of the full runs, the cost log, and the seed schedule."""

import re

import pytest

import published_values as published
import solutions


@pytest.fixture(scope="module")
def moons():
    return solutions.load_dataset()


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_full_run_reproduces_the_published_accuracy(moons, optimizer):
    X, Y = moons
    parameters, costs = solutions.train(X, Y, [2, 5, 2, 1], optimizer, print_cost=False)
    predictions = solutions.predict(X, Y, parameters, print_accuracy=False)
    assert int((predictions == Y).sum()) == published.PUBLISHED_CORRECT[optimizer]
    assert round(solutions.accuracy(predictions, Y), 4) == published.PUBLISHED_ACCURACY[optimizer]
    assert len(costs) == 100


def test_cost_is_printed_every_1000_epochs_with_six_decimals(moons, capsys):
    X, Y = moons
    solutions.model(X, Y, [2, 5, 2, 1], "adam", num_epochs=2001)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Cost after epoch {i}" for i in (0, 1000, 2000)]
    assert all(re.fullmatch(r"Cost after epoch \d+: \d+\.\d{6}", line) for line in lines)


def test_print_cost_false_prints_nothing(moons, capsys):
    X, Y = moons
    solutions.model(X, Y, [2, 5, 2, 1], "momentum", num_epochs=1001, print_cost=False)
    assert capsys.readouterr().out == ""


def test_costs_are_recorded_every_100_epochs_from_the_last_mini_batch(moons):
    # Epoch 0 uses seed 11; with the initial parameters the recorded cost is that of the last
    # mini-batch of that shuffle before its update, which the remaining updates cannot change.
    X, Y = moons
    _, costs = solutions.train(X, Y, [2, 5, 2, 1], "gd", num_epochs=201, learning_rate=0.0)
    assert len(costs) == 3
    initial = solutions.initialize_parameters([2, 5, 2, 1])
    for recorded, seed in zip(costs, (11, 111, 211)):
        last_X, last_Y = solutions.random_mini_batches(X, Y, 64, seed=seed)[-1]
        expected = solutions.compute_cost(solutions.forward_propagation(last_X, initial)[0], last_Y)
        assert recorded == pytest.approx(expected, rel=1e-15)


def test_adam_training_starts_its_step_count_at_one(moons, monkeypatch):
    X, Y = moons
    steps = []
    original = solutions.training.update_parameters_with_adam

    def recording(parameters, grads, v, s, t, *args):
        steps.append(t)
        return original(parameters, grads, v, s, t, *args)

    monkeypatch.setattr(solutions.training, "update_parameters_with_adam", recording)
    solutions.train(X, Y, [2, 5, 2, 1], "adam", num_epochs=2, print_cost=False)
    assert steps == list(range(1, 11))   # 300 examples in batches of 64: 5 updates an epoch


def test_a_deeper_network_trains(moons):
    X, Y = moons
    parameters, costs = solutions.train(X, Y, [2, 6, 4, 3, 1], "adam", num_epochs=301, print_cost=False)
    assert set(parameters) == {f"{k}{l}" for l in range(1, 5) for k in "Wb"}
    assert costs[-1] < costs[0]
