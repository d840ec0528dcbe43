"""Benchmark the reference training against a straightforward textbook loop, in one run.

For each optimizer it prints the time of one update step (the update rule alone, on the
[2, 5, 2, 1] network), the time of a full 10,000-epoch training run, and the ratio
textbook / reference for both. The textbook loop uses the update rules and mini-batches the way the lesson's code
usually writes them (the mutation catalog's plain correct answers: string-built keys,
bias-corrected copies kept in dicts, the permutation turned into a Python list) and below, the
cost computed on every mini-batch and a hard-wired three-layer network.
Both loops must reach the same training accuracy, or the comparison is void.

Run: ``make bench`` (or ``python benchmarks/bench_training.py [--epochs N]``).
"""

import argparse
import math
import time
import timeit

import numpy as np

import solutions
from autograder.assignments.optimization_methods.sample_class import BASE

LAYERS_DIMS = [2, 5, 2, 1]


# --- the textbook loop -------------------------------------------------------------------------

def textbook_rules():
    """The six graded functions as a textbook writes them: the mutation catalog's plain,
    loop-based correct answers (string-built keys, bias-corrected copies kept in dicts, the
    permutation turned into a list, math.floor)."""
    namespace = {"np": np, "math": math}
    for source in BASE.values():
        exec(source, namespace)
    return namespace


TEXTBOOK = textbook_rules()


def textbook_forward(X, parameters):
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    z1 = np.dot(W1, X) + b1
    a1 = np.maximum(0, z1)
    z2 = np.dot(W2, a1) + b2
    a2 = np.maximum(0, z2)
    z3 = np.dot(W3, a2) + b3
    a3 = 1 / (1 + np.exp(-z3))
    return a3, (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)


def textbook_backward(X, Y, cache):
    m = X.shape[1]
    (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3) = cache
    dz3 = 1. / m * (a3 - Y)
    dW3 = np.dot(dz3, a2.T)
    db3 = np.sum(dz3, axis=1, keepdims=True)
    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, np.int64(a2 > 0))
    dW2 = np.dot(dz2, a1.T)
    db2 = np.sum(dz2, axis=1, keepdims=True)
    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, np.int64(a1 > 0))
    dW1 = np.dot(dz1, X.T)
    db1 = np.sum(dz1, axis=1, keepdims=True)
    return {"dz3": dz3, "dW3": dW3, "db3": db3, "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2,
            "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}


def textbook_cost(a3, Y):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1. / m * np.sum(logprobs)


def textbook_model(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9,
                   beta1=0.9, beta2=0.999, epsilon=1e-8, num_epochs=10000):
    costs = []
    t = 0
    seed = 10
    parameters = solutions.initialize_parameters(layers_dims)
    if optimizer == "momentum":
        v = TEXTBOOK["initialize_velocity"](parameters)
    elif optimizer == "adam":
        v, s = TEXTBOOK["initialize_adam"](parameters)
    for i in range(num_epochs):
        seed = seed + 1
        minibatches = TEXTBOOK["random_mini_batches"](X, Y, mini_batch_size, seed)
        for minibatch in minibatches:
            (minibatch_X, minibatch_Y) = minibatch
            a3, caches = textbook_forward(minibatch_X, parameters)
            cost = textbook_cost(a3, minibatch_Y)
            grads = textbook_backward(minibatch_X, minibatch_Y, caches)
            if optimizer == "gd":
                parameters = TEXTBOOK["update_parameters_with_gd"](parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = TEXTBOOK["update_parameters_with_momentum"](parameters, grads, v, beta, learning_rate)
            elif optimizer == "adam":
                t = t + 1
                parameters, v, s = TEXTBOOK["update_parameters_with_adam"](parameters, grads, v, s, t, learning_rate,
                                                                           beta1, beta2, epsilon)
        if i % 100 == 0:
            costs.append(cost)
    return parameters, costs


# --- measurements ------------------------------------------------------------------------------

def step_functions(parameters, grads):
    """For each optimizer, (reference step, textbook step) as zero-argument callables."""
    def state():
        return solutions.initialize_velocity(parameters)

    v_ref, v_txt, m_ref, s_ref, m_txt, s_txt = (state() for _ in range(6))
    return {
        "gd": (lambda: solutions.update_parameters_with_gd(parameters, grads, 0.0),
               lambda: TEXTBOOK["update_parameters_with_gd"](parameters, grads, 0.0)),
        "momentum": (lambda: solutions.update_parameters_with_momentum(parameters, grads, v_ref, 0.9, 0.0),
                     lambda: TEXTBOOK["update_parameters_with_momentum"](parameters, grads, v_txt, 0.9, 0.0)),
        "adam": (lambda: solutions.update_parameters_with_adam(parameters, grads, m_ref, s_ref, 7, 0.0),
                 lambda: TEXTBOOK["update_parameters_with_adam"](parameters, grads, m_txt, s_txt, 7, 0.0)),
    }


def best_time_per_call(function, number=20000, repeat=5):
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def timed_run(train, X, Y, optimizer, epochs):
    start = time.perf_counter()
    parameters, _ = train(X, Y, LAYERS_DIMS, optimizer, num_epochs=epochs)
    elapsed = time.perf_counter() - start
    return elapsed, int((solutions.predict_dec(parameters, X) == Y).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10000)
    args = parser.parse_args()

    X, Y = solutions.load_dataset()
    parameters = solutions.initialize_parameters(LAYERS_DIMS)
    _, cache = solutions.forward_propagation(X[:, :64], parameters)
    grads = solutions.backward_propagation(X[:, :64], Y[:, :64], cache)
    steps = step_functions(parameters, grads)

    def reference_train(*args, **kwargs):
        return solutions.train(*args, print_cost=False, **kwargs)

    updates = args.epochs * math.ceil(X.shape[1] / 64)
    print(f"{args.epochs} epochs, {updates} updates per run, network {LAYERS_DIMS}, numpy {np.__version__}\n")
    header = (f"{'optimizer':<9} | {'update step (µs)':>22} | {'ratio':>5} | {'training run (s)':>20} | "
              f"{'ratio':>5} | {'per update (µs)':>15} | correct")
    print(header)
    print(f"{'':<9} | {'reference / textbook':>22} | {'':>5} | {'reference / textbook':>20} | {'':>5} | "
          f"{'reference':>15} |")
    print("-" * len(header))
    for optimizer in solutions.OPTIMIZERS:
        reference_step, textbook_step = (best_time_per_call(f) for f in steps[optimizer])
        reference_run, reference_correct = timed_run(reference_train, X, Y, optimizer, args.epochs)
        textbook_run, textbook_correct = timed_run(textbook_model, X, Y, optimizer, args.epochs)
        if reference_correct != textbook_correct:
            raise SystemExit(f"{optimizer}: the loops disagree ({reference_correct} vs {textbook_correct} correct)")
        print(f"{optimizer:<9} | {reference_step * 1e6:>10.1f} / {textbook_step * 1e6:>9.1f} | "
              f"{textbook_step / reference_step:>4.2f}x | {reference_run:>9.2f} / {textbook_run:>8.2f} | "
              f"{textbook_run / reference_run:>4.2f}x | {reference_run / updates * 1e6:>15.1f} | "
              f"{reference_correct} of {X.shape[1]}")
    print("\nratio = textbook time / reference time (above 1: the reference is faster).")
    print("The reference update step includes its input checks (keys, shapes, types: about 2-3 µs);")
    print("the textbook step checks nothing. The training run computes the cost only when it is recorded.")


if __name__ == "__main__":
    main()
