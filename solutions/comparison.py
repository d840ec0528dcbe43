"""Train the three optimizers with the reference and compare them: a figure and an accuracy table.

Run as ``python -m solutions.comparison --out DIR``; ``make demo`` does.
"""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from opt_utils import load_dataset  # noqa: E402
from opt_utils.comparison import accuracy_table, evaluate, plot_comparison  # noqa: E402

from .training import OPTIMIZERS, train  # noqa: E402

LAYERS_DIMS = [2, 5, 2, 1]
LEARNING_RATE = 0.0007


def run_all(X, Y, num_epochs=10000, print_cost=False):
    """Train the network once with each optimizer; return the `Run`s in the order of `OPTIMIZERS`."""
    runs = []
    for optimizer in OPTIMIZERS:
        parameters, costs = train(X, Y, LAYERS_DIMS, optimizer, learning_rate=LEARNING_RATE,
                                  num_epochs=num_epochs, print_cost=print_cost)
        runs.append(evaluate(optimizer, parameters, costs, LEARNING_RATE, X, Y))
    return runs


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
    table = accuracy_table(runs)
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
