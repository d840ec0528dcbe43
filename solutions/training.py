"""The training loop that compares the optimizers on the same network and data."""

from opt_utils.checks import check_examples, check_positive_integer
from opt_utils.network import (
    backward_propagation,
    compute_cost,
    forward_propagation,
    initialize_parameters,
)

from .mini_batches import random_mini_batches
from .optimizers import (
    initialize_adam,
    initialize_velocity,
    update_parameters_with_adam,
    update_parameters_with_gd,
    update_parameters_with_momentum,
)

OPTIMIZERS = ("gd", "momentum", "adam")
COST_EVERY = 100
PRINT_EVERY = 1000
FIRST_SEED = 10


def train(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9,
          beta1=0.9, beta2=0.999, epsilon=1e-8, num_epochs=10000, print_cost=True):
    """Train a network with one optimizer and record its cost curve.

    Each epoch reshuffles the data with a new seed (11 for epoch 0, then 12, …), then for every
    mini-batch runs forward, backward and one update. Adam's step counter t starts at 1.
    Every 100 epochs the cost of the epoch's last mini-batch (before its update) is recorded;
    every 1,000 epochs it is printed as ``Cost after epoch <i>: <cost>`` when `print_cost` is true.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
        0/1 labels.
    layers_dims : sequence of int
        ``[n_x, n_1, …, n_L]``, with n_L = 1.
    optimizer : {"gd", "momentum", "adam"}
    learning_rate, mini_batch_size, beta, beta1, beta2, epsilon, num_epochs, print_cost
        The hyperparameters; see `model`.

    Returns
    -------
    parameters : dict
        The trained parameters.
    costs : list of float
        The costs recorded at epochs 0, 100, 200, …
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
    check_examples(X, Y)
    check_positive_integer(mini_batch_size, "mini_batch_size")
    parameters = initialize_parameters(layers_dims)
    if optimizer == "momentum":
        v = initialize_velocity(parameters)
    elif optimizer == "adam":
        v, s = initialize_adam(parameters)
    t = 0
    seed = FIRST_SEED
    costs = []
    for epoch in range(num_epochs):
        seed = seed + 1
        for mini_batch_X, mini_batch_Y in random_mini_batches(X, Y, mini_batch_size, seed):
            a3, cache = forward_propagation(mini_batch_X, parameters)
            grads = backward_propagation(mini_batch_X, mini_batch_Y, cache)
            if optimizer == "gd":
                parameters = update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)
            else:
                t = t + 1
                parameters, v, s = update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon)
        # The cost plays no part in the updates, so it is computed only when it is recorded.
        if epoch % COST_EVERY == 0:
            costs.append(compute_cost(a3, mini_batch_Y))
            if print_cost and epoch % PRINT_EVERY == 0:
                print(f"Cost after epoch {epoch}: {costs[-1]:.6f}")
    return parameters, costs


def model(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9,
          beta1=0.9, beta2=0.999, epsilon=1e-8, num_epochs=10000, print_cost=True):
    """Train a network on X, Y with the chosen optimizer and return its parameters.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
        0/1 labels.
    layers_dims : sequence of int
        ``[n_x, n_1, …, n_L]``, with n_L = 1.
    optimizer : {"gd", "momentum", "adam"}
    learning_rate : float, default 0.0007
    mini_batch_size : int, default 64
    beta : float, default 0.9
        Momentum β.
    beta1, beta2 : float, default 0.9 and 0.999
        Adam's moment decays.
    epsilon : float, default 1e-8
        Adam's ε.
    num_epochs : int, default 10000
    print_cost : bool, default True
        Print the cost every 1,000 epochs.

    Returns
    -------
    dict
        The trained parameters.
    """
    parameters, _ = train(X, Y, layers_dims, optimizer, learning_rate, mini_batch_size, beta,
                          beta1, beta2, epsilon, num_epochs, print_cost)
    return parameters
