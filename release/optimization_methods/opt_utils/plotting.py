"""Figures of a training run: the cost curve and the decision boundary on the 2-D data."""

import matplotlib.pyplot as plt
import numpy as np

GRID_STEP = 0.01
MARGIN = 1.0


def plot_decision_boundary(model, X, y, ax=None):
    """Shade the plane by the class `model` predicts and scatter the examples over it.

    Parameters
    ----------
    model : callable
        Maps an array of points of shape (k, 2), one point per row, to k predictions
        (any shape with k elements), e.g. ``lambda x: predict_dec(parameters, x.T)``.
    X : ndarray of shape (2, m)
    y : ndarray of shape (1, m)
        The true labels, used to colour the examples.
    ax : matplotlib Axes, optional
        Where to draw; the current axes by default.

    Returns
    -------
    matplotlib Axes
    """
    ax = plt.gca() if ax is None else ax
    x0 = np.arange(X[0].min() - MARGIN, X[0].max() + MARGIN, GRID_STEP)
    x1 = np.arange(X[1].min() - MARGIN, X[1].max() + MARGIN, GRID_STEP)
    grid0, grid1 = np.meshgrid(x0, x1)
    points = np.column_stack([grid0.ravel(), grid1.ravel()])
    classes = np.reshape(model(points), grid0.shape).astype(float)
    ax.contourf(grid0, grid1, classes, cmap=plt.cm.Spectral)
    ax.scatter(X[0], X[1], c=np.ravel(y), cmap=plt.cm.Spectral, edgecolors="k", linewidths=0.3, s=18)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_costs(costs, learning_rate, ax=None, label=None):
    """Plot a cost curve recorded every 100 epochs.

    Parameters
    ----------
    costs : sequence of float
        The cost recorded at epochs 0, 100, 200, …
    learning_rate : float
        Shown in the title.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    matplotlib Axes
    """
    ax = plt.gca() if ax is None else ax
    ax.plot(np.arange(len(costs)) * 100, costs, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.set_title(f"Learning rate = {learning_rate}")
    return ax
