"""Reference of the second assignment: learning-rate decay and scheduling, and RMSProp.

The decay functions take the initial rate α₀ first: the course's training loop calls them
positionally, ``decay(learning_rate0, epoch, decay_rate)``. RMSProp works on a whole network at
once, with the shapes of `optimizers` (``W_l`` (n_l, n_{l-1}), ``b_l`` (n_l, 1); its state ``s``
holds ``dW_l``, ``db_l`` shaped alike) and stores its results in the dicts it is given.
"""

import math

import numpy as np

from opt_utils.checks import check_matches_parameters, count_layers


def update_lr(learning_rate0, epoch_num, decay_rate):
    """The learning rate after `epoch_num` epochs of decay every epoch.

    ::

        α = α₀ / (1 + decay_rate · epoch_num)

    Parameters
    ----------
    learning_rate0 : float
        The initial rate α₀.
    epoch_num : int
        Epochs done.
    decay_rate : float

    Returns
    -------
    float
    """
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    """`update_lr`'s decay, applied once every `time_interval` epochs instead of every epoch.

    ::

        α = α₀ / (1 + decay_rate · ⌊epoch_num / time_interval⌋)

    The floor makes the rate fall in steps: it stays α₀ for the first `time_interval` epochs,
    α₀ / (1 + decay_rate) for the next, and so on. `time_interval` is the number of epochs
    between two decays; the other arguments are `update_lr`'s. Returns the rate, a float.
    """
    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))


def initialize_rmsprop(parameters):
    """RMSProp's running averages of squared gradients before the first step: all zero.

    `parameters` holds ``W1 … WL``, ``b1 … bL``; the result `s` holds, under ``dW_l`` and
    ``db_l``, float zeros shaped like ``W_l`` and ``b_l``, for a network of any depth.
    """
    count_layers(parameters)
    return {"d" + key: np.zeros_like(value, dtype=float) for key, value in parameters.items()}


def update_parameters_with_rmsprop(parameters, grads, s, learning_rate=0.01, beta=0.9, epsilon=1e-8):
    """One RMSProp step: each parameter's step scaled by a running average of its squared gradient.

    For every layer l, elementwise::

        s_dW_l = β · s_dW_l + (1 − β) · dW_l²
        W_l    = W_l − α · dW_l / (√s_dW_l + ε)

    and the same for ``b_l``. No bias correction (Adam adds it, and momentum).

    Parameters
    ----------
    parameters, grads, s : dict
        The network's ``W_l``, ``b_l``; their gradients ``dW_l``, ``db_l``; and the running
        averages of the squared gradients, keyed like `grads` (all shaped alike).
    learning_rate : float
        α, the step size before scaling.
    beta : float
        The averages' decay β.
    epsilon : float
        Added after the square root, so that no step divides by zero.

    Returns
    -------
    tuple of dict
        ``(parameters, s)``, both updated in place.
    """
    check_matches_parameters(parameters, grads=grads, s=s)
    for key in parameters:
        gradient = grads["d" + key]
        s["d" + key] = beta * s["d" + key] + (1 - beta) * gradient ** 2
        parameters[key] = parameters[key] - learning_rate * gradient / (np.sqrt(s["d" + key]) + epsilon)
    return parameters, s
