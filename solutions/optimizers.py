"""Reference update rules: gradient descent, momentum and Adam.

Every rule works on a whole network at once. With L layers:

- ``parameters`` holds ``W1 … WL`` (``W_l`` of shape (n_l, n_{l-1})) and ``b1 … bL``
  (``b_l`` of shape (n_l, 1));
- ``grads`` and the optimizer state (``v``, ``s``) hold arrays of the same shapes under the
  keys ``dW1 … dWL``, ``db1 … dbL``.

The rules store their results in the dicts they are given and return them.
"""

import numpy as np

from opt_utils.checks import check_matches_parameters, check_positive_integer, count_layers


def update_parameters_with_gd(parameters, grads, learning_rate):
    """One step of (mini-batch) gradient descent.

    For every layer l::

        W_l = W_l - learning_rate * dW_l
        b_l = b_l - learning_rate * db_l

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.
    grads : dict
        ``dW1 … dWL``, ``db1 … dbL``, shaped like the parameters.
    learning_rate : float
        The step size α.

    Returns
    -------
    parameters : dict
        The updated parameters.
    """
    check_matches_parameters(parameters, grads=grads)
    for key in parameters:
        parameters[key] = parameters[key] - learning_rate * grads["d" + key]
    return parameters


def initialize_velocity(parameters):
    """Zero velocity for momentum: one array of zeros per parameter.

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.

    Returns
    -------
    v : dict
        ``dW1 … dWL``, ``db1 … dbL``: zeros shaped like ``W_l`` and ``b_l``.
    """
    count_layers(parameters)
    return {"d" + key: np.zeros_like(value, dtype=float) for key, value in parameters.items()}


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """One step of gradient descent with momentum (exponentially weighted form).

    For every parameter W with gradient dW and velocity v_dW::

        v_dW = beta * v_dW + (1 - beta) * dW
        W    = W - learning_rate * v_dW

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.
    grads : dict
        ``dW1 … dWL``, ``db1 … dbL``, shaped like the parameters.
    v : dict
        The velocity, same keys and shapes as `grads`.
    beta : float
        The momentum β, in [0, 1).
    learning_rate : float
        The step size α.

    Returns
    -------
    parameters : dict
        The updated parameters.
    v : dict
        The updated velocity.
    """
    check_matches_parameters(parameters, grads=grads, v=v)
    for key in parameters:
        dkey = "d" + key
        v[dkey] = beta * v[dkey] + (1 - beta) * grads[dkey]
        parameters[key] = parameters[key] - learning_rate * v[dkey]
    return parameters, v


def initialize_adam(parameters):
    """Zero first and second moments for Adam.

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.

    Returns
    -------
    v : dict
        First moments: zeros under ``dW1 … dWL``, ``db1 … dbL``, shaped like the parameters.
    s : dict
        Second moments, likewise.
    """
    # Built here rather than with initialize_velocity, so that each graded answer stands alone.
    count_layers(parameters)
    v = {"d" + key: np.zeros_like(value, dtype=float) for key, value in parameters.items()}
    s = {"d" + key: np.zeros_like(value, dtype=float) for key, value in parameters.items()}
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01,
                                beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One step of Adam, with ε added after the square root (Kingma & Ba, 2014).

    For every parameter W with gradient dW, at step t = 1, 2, …::

        v_dW = beta1 * v_dW + (1 - beta1) * dW
        s_dW = beta2 * s_dW + (1 - beta2) * dW**2          (elementwise)
        v_hat = v_dW / (1 - beta1**t)
        s_hat = s_dW / (1 - beta2**t)
        W     = W - learning_rate * v_hat / (sqrt(s_hat) + epsilon)

    Parameters
    ----------
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.
    grads : dict
        ``dW1 … dWL``, ``db1 … dbL``, shaped like the parameters.
    v, s : dict
        First and second moments, same keys and shapes as `grads`.
    t : int
        The number of this step, counting from 1; drives the bias correction.
    learning_rate : float, default 0.01
    beta1 : float, default 0.9
        Decay of the first moment.
    beta2 : float, default 0.999
        Decay of the second moment.
    epsilon : float, default 1e-8
        Keeps the division finite where s_hat is zero.

    Returns
    -------
    parameters : dict
        The updated parameters.
    v, s : dict
        The updated moments.
    """
    check_matches_parameters(parameters, grads=grads, v=v, s=s)
    check_positive_integer(t, "the Adam step t")
    for key in parameters:
        dkey = "d" + key
        v[dkey] = beta1 * v[dkey] + (1 - beta1) * grads[dkey]
        s[dkey] = beta2 * s[dkey] + (1 - beta2) * np.square(grads[dkey])
        v_hat = v[dkey] / (1 - beta1 ** t)
        s_hat = s[dkey] / (1 - beta2 ** t)
        parameters[key] = parameters[key] - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return parameters, v, s
