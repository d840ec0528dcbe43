"""Summarise and compare training runs: accuracy table and a figure of cost curves and boundaries."""

from dataclasses import dataclass

import matplotlib.pyplot as plt

from .network import accuracy, predict_dec
from .plotting import plot_costs, plot_decision_boundary

TITLES = {"gd": "Mini-batch gradient descent", "momentum": "Momentum", "adam": "Adam"}


@dataclass
class Run:
    """One optimizer's training run and how well it fits the training set."""

    optimizer: str
    parameters: dict
    costs: list
    learning_rate: float
    correct: int
    examples: int
    accuracy: float


def evaluate(optimizer, parameters, costs, learning_rate, X, Y):
    """Summarise a trained network as a `Run`, with its accuracy on X, Y."""
    predictions = predict_dec(parameters, X)
    return Run(optimizer, parameters, costs, learning_rate, int((predictions == Y).sum()), X.shape[1],
               accuracy(predictions, Y))


def accuracy_table(runs):
    """The training accuracies as a Markdown table."""
    lines = ["| optimizer | accuracy | correct |", "|---|---|---|"]
    lines += [f"| {TITLES.get(run.optimizer, run.optimizer)} | {run.accuracy:.4f} | {run.correct} of {run.examples} |"
              for run in runs]
    return "\n".join(lines) + "\n"


def plot_comparison(runs, X, Y):
    """A figure with one column per run: its cost curve above its decision boundary."""
    figure, axes = plt.subplots(2, len(runs), figsize=(5 * len(runs), 9), squeeze=False)
    for column, run in enumerate(runs):
        title = TITLES.get(run.optimizer, run.optimizer)
        top, bottom = axes[0, column], axes[1, column]
        plot_costs(run.costs, run.learning_rate, ax=top)
        top.set_title(f"{title}: cost")
        plot_decision_boundary(lambda points, p=run.parameters: predict_dec(p, points.T), X, Y, ax=bottom)
        bottom.set_title(f"{title}: accuracy {run.accuracy:.4f}")
    shared_top = max(max(run.costs, default=0) for run in runs) * 1.05 or 1
    for ax in axes[0]:
        ax.set_ylim(0, shared_top)
    figure.tight_layout()
    return figure
