"""The fully connected network the optimizers train.

Hidden layers are LINEAR→ReLU, the output layer LINEAR→sigmoid, so the assignment's
[2, 5, 2, 1] network is LINEAR→ReLU→LINEAR→ReLU→LINEAR→sigmoid. Any depth works.
Data is column-major: X has shape (n_x, m), one column per example.
"""

import numpy as np


def sigmoid(Z):
    """Elementwise logistic function 1 / (1 + e^(−Z))."""
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    """Elementwise max(0, Z)."""
    return np.maximum(0, Z)


def initialize_parameters(layers_dims):
    """He-initialise the weights and zero the biases of a network.

    Seeds numpy's global generator with 3, then for l = 1 … L draws
    ``W_l = randn(n_l, n_{l-1}) * sqrt(2 / n_{l-1})``; biases draw nothing.

    Parameters
    ----------
    layers_dims : sequence of int
        ``[n_0, n_1, …, n_L]``: the input size, then the size of each layer.

    Returns
    -------
    dict
        ``W_l`` of shape (n_l, n_{l-1}) and ``b_l`` of shape (n_l, 1) for l = 1 … L.
    """
    if len(layers_dims) < 2:
        raise ValueError(f"layers_dims needs the input size and at least one layer, got {list(layers_dims)}")
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        n, n_prev = layers_dims[l], layers_dims[l - 1]
        parameters[f"W{l}"] = np.random.randn(n, n_prev) * np.sqrt(2 / n_prev)
        parameters[f"b{l}"] = np.zeros((n, 1))
    return parameters


def forward_propagation(X, parameters):
    """Run the network forward.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
    parameters : dict
        ``W1 … WL``, ``b1 … bL``.

    Returns
    -------
    AL : ndarray of shape (n_L, m)
        The sigmoid output of the last layer.
    cache : list of tuple
        ``(W_l, A_l)`` for l = 1 … L, what `backward_propagation` needs.
    """
    L = len(parameters) // 2
    A = X
    cache = []
    for l in range(1, L + 1):
        W = parameters[f"W{l}"]
        Z = np.dot(W, A) + parameters[f"b{l}"]
        A = sigmoid(Z) if l == L else relu(Z)
        cache.append((W, A))
    return A, cache


def backward_propagation(X, Y, cache):
    """Gradients of the mean cross-entropy cost with respect to every parameter.

    With m examples: ``dZ_L = (A_L − Y) / m``; for each layer ``dW_l = dZ_l · A_{l−1}ᵀ``,
    ``db_l = Σ dZ_l`` over the examples; ``dA_{l−1} = W_lᵀ · dZ_l`` and, through the ReLU,
    ``dZ_{l−1} = dA_{l−1} · (A_{l−1} > 0)``.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
    Y : ndarray of shape (1, m)
    cache : list of tuple
        As returned by `forward_propagation`.

    Returns
    -------
    dict
        ``dW_l`` and ``db_l`` with the shapes of ``W_l`` and ``b_l``.
    """
    m = X.shape[1]
    L = len(cache)
    grads = {}
    dZ = 1.0 / m * (cache[-1][1] - Y)
    for l in range(L, 0, -1):
        W = cache[l - 1][0]
        A_prev = cache[l - 2][1] if l > 1 else X
        grads[f"dW{l}"] = np.dot(dZ, A_prev.T)
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = np.dot(W.T, dZ) * (A_prev > 0)
    return grads


def compute_cost(a3, Y):
    """Mean cross-entropy ``(1/m) · Σ[−y·log(a) − (1−y)·log(1−a)]`` of outputs a3 (1, m) against Y (1, m)."""
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.sum(logprobs)


def predict_dec(parameters, X):
    """Boolean class predictions (output above 0.5) for X (n_0, m); shape (1, m)."""
    AL, _ = forward_propagation(X, parameters)
    return AL > 0.5


def predict(X, y, parameters, *, print_accuracy=True):
    """Predict 0/1 labels for X and report the accuracy against y.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
    y : ndarray of shape (1, m)
        The true 0/1 labels.
    parameters : dict
        A trained network.
    print_accuracy : bool, default True
        Print ``Accuracy: <fraction correct>``.

    Returns
    -------
    ndarray of shape (1, m), int64
        1 where the network's output is above 0.5, else 0.
    """
    predictions = predict_dec(parameters, X).astype(np.int64)
    if print_accuracy:
        print(f"Accuracy: {accuracy(predictions, y):.4f}")
    return predictions


def accuracy(predictions, y):
    """Fraction of the columns where `predictions` (1, m) equals `y` (1, m)."""
    return float(np.mean(predictions == np.reshape(y, np.shape(predictions))))
