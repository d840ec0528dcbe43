"""Train the three optimizers with the reference and compare them: a figure and an accuracy table.

Run as ``python -m solutions.comparison --out DIR``; ``make demo`` does.
"""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from opt_utils import accuracy, load_dataset, plot_costs, plot_decision_boundary, predict_dec  # noqa: E402

from .training import OPTIMIZERS, train  # noqa: E402

LAYERS_DIMS = [2, 5, 2, 1]
LEARNING_RATE = 0.0007
TITLES = {"gd": "Mini-batch gradient descent", "momentum": "Momentum (β = 0.9)", "adam": "Adam"}


@dataclass
class Run:
    """One optimizer's training run on the moons set."""

    optimizer: str
    parameters: dict
    costs: list
    correct: int
    accuracy: float


def run_all(X, Y, num_epochs=10000, print_cost=False):
    """Train the network once with each optimizer; return the runs in the order of `OPTIMIZERS`."""
    runs = []
    for optimizer in OPTIMIZERS:
        parameters, costs = train(X, Y, LAYERS_DIMS, optimizer, learning_rate=LEARNING_RATE,
                                  num_epochs=num_epochs, print_cost=print_cost)
        predictions = predict_dec(parameters, X)
        runs.append(Run(optimizer, parameters, costs, int((predictions == Y).sum()),
                        accuracy(predictions, Y)))
    return runs


def accuracy_table(runs, m):
    """The training accuracies as a Markdown table."""
    lines = ["| optimizer | accuracy | correct |", "|---|---|---|"]
    lines += [f"| {TITLES[run.optimizer]} | {run.accuracy:.4f} | {run.correct} of {m} |" for run in runs]
    return "\n".join(lines) + "\n"


def plot_comparison(runs, X, Y):
    """A figure with one column per optimizer: its cost curve above its decision boundary."""
    figure, axes = plt.subplots(2, len(runs), figsize=(5 * len(runs), 9), squeeze=False)
    for column, run in enumerate(runs):
        top, bottom = axes[0, column], axes[1, column]
        plot_costs(run.costs, LEARNING_RATE, ax=top)
        top.set_title(f"{TITLES[run.optimizer]}: cost")
        plot_decision_boundary(lambda points, p=run.parameters: predict_dec(p, points.T), X, Y, ax=bottom)
        bottom.set_title(f"{TITLES[run.optimizer]}: accuracy {run.accuracy:.4f}")
    shared_top = max(max(run.costs) for run in runs) * 1.05
    for ax in axes[0]:
        ax.set_ylim(0, shared_top)
    figure.tight_layout()
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m solutions.comparison", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/demo"), help="folder for the figure and table")
    parser.add_argument("--epochs", type=int, default=10000, help="epochs per optimizer (default 10000)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    args.out.mkdir(parents=True, exist_ok=True)

    X, Y = load_dataset()
    print(f"Training {', '.join(OPTIMIZERS)} for {args.epochs} epochs each on {X.shape[1]} examples …")
    runs = run_all(X, Y, args.epochs)
    table = accuracy_table(runs, X.shape[1])
    figure = plot_comparison(runs, X, Y)
    figure_path, table_path = args.out / "comparison.png", args.out / "accuracy.md"
    figure.savefig(figure_path, dpi=100)
    plt.close(figure)
    table_path.write_text(table)
    print(table)
    print(f"Figure (cost curves and decision boundaries): {figure_path}")
    print(f"Accuracy table: {table_path}")
    return runs


if __name__ == "__main__":
    main()
