"""Student answers for the six graded functions: realistic mistakes and correct alternatives.

Each `Variant` is the code a student could type into one answer cell. Most wrong variants are
one edit away from a plain, loop-based correct answer (`BASE`), the way real mistakes are; the
edit is checked to apply. `diagnosis` is a phrase the feedback must contain for that mistake.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    function: str
    name: str
    source: str
    correct: bool
    diagnosis: str = ""

    @property
    def id(self):
        return f"{self.function}-{self.name}"


BASE = {
    "update_parameters_with_gd": '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters
''',
    "random_mini_batches": '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    mini_batches = []
    permutation = list(np.random.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    num_complete = math.floor(m / mini_batch_size)
    for k in range(0, num_complete):
        mini_batch_X = shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        mini_batch_X = shuffled_X[:, num_complete * mini_batch_size:m]
        mini_batch_Y = shuffled_Y[:, num_complete * mini_batch_size:m]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches
''',
    "initialize_velocity": '''
def initialize_velocity(parameters):
    L = len(parameters) // 2
    v = {}
    for l in range(L):
        v["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        v["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
    return v
''',
    "update_parameters_with_momentum": '''
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(L):
        v["dW" + str(l + 1)] = beta * v["dW" + str(l + 1)] + (1 - beta) * grads["dW" + str(l + 1)]
        v["db" + str(l + 1)] = beta * v["db" + str(l + 1)] + (1 - beta) * grads["db" + str(l + 1)]
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * v["db" + str(l + 1)]
    return parameters, v
''',
    "initialize_adam": '''
def initialize_adam(parameters):
    L = len(parameters) // 2
    v = {}
    s = {}
    for l in range(L):
        v["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        v["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
        s["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        s["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
    return v, s
''',
    "update_parameters_with_adam": '''
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01,
                                beta1=0.9, beta2=0.999, epsilon=1e-8):
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for l in range(L):
        for p in ["W", "b"]:
            key = "d" + p + str(l + 1)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - beta1 ** t)
            s[key] = beta2 * s[key] + (1 - beta2) * (grads[key] ** 2)
            s_corrected[key] = s[key] / (1 - beta2 ** t)
            parameters[p + str(l + 1)] = parameters[p + str(l + 1)] - learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s
''',
}


def edited(function, *replacements):
    """`BASE[function]` with each (old, new) replacement applied; each old text must occur."""
    source = BASE[function]
    for old, new in replacements:
        assert old in source, f"{function}: {old!r} is not in the base answer"
        source = source.replace(old, new)
    return source


def wrong(function, name, diagnosis, *replacements):
    return Variant(function, name, edited(function, *replacements), False, diagnosis)


def right(function, name, source=None):
    return Variant(function, name, BASE[function] if source is None else source, True)


GD, MB, VEL = "update_parameters_with_gd", "random_mini_batches", "initialize_velocity"
MOM, INIT, ADAM = "update_parameters_with_momentum", "initialize_adam", "update_parameters_with_adam"

CORRECT = [
    right(GD, "loop"),
    right(GD, "in_place", '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    for l in range(1, len(parameters) // 2 + 1):
        parameters[f"W{l}"] -= learning_rate * grads[f"dW{l}"]
        parameters[f"b{l}"] -= learning_rate * grads[f"db{l}"]
    return parameters
'''),
    right(GD, "new_dict_comprehension", '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}
'''),
    right(GD, "with_a_numpy_runtime_warning", '''
def update_parameters_with_gd(parameters, grads, learning_rate):
    # A leftover debugging line: the ratio is never used, but numpy warns on stderr that it
    # divided zero by zero. The answer is still right and must keep its points.
    ratio = np.zeros(1) / np.zeros(1)
    for key in parameters:
        parameters[key] = parameters[key] - learning_rate * grads["d" + key]
    return parameters
'''),
    right(MB, "loop"),
    right(MB, "while_loop_over_starts", '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    order = np.random.permutation(m)
    X_shuffled = np.take(X, order, axis=1)
    Y_shuffled = Y.reshape(1, m)[:, order]
    batches = []
    start = 0
    while start < m:
        stop = min(start + mini_batch_size, m)
        batches.append((X_shuffled[:, start:stop], Y_shuffled[:, start:stop]))
        start = stop
    return batches
'''),
    right(MB, "comprehension", '''
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    perm = np.random.permutation(X.shape[1])
    X, Y = X[:, perm], Y[:, perm]
    return [(X[:, i:i + mini_batch_size], Y[:, i:i + mini_batch_size])
            for i in range(0, X.shape[1], mini_batch_size)]
'''),
    right(VEL, "loop"),
    right(VEL, "zeros_like_comprehension", '''
def initialize_velocity(parameters):
    return {"d" + name: np.zeros_like(value) for name, value in parameters.items()}
'''),
    right(VEL, "times_zero_in_reverse_order", '''
def initialize_velocity(parameters):
    v = {}
    for l in reversed(range(1, len(parameters) // 2 + 1)):
        v["db%d" % l] = parameters["b%d" % l] * 0.0
        v["dW%d" % l] = parameters["W%d" % l] * 0.0
    return v
'''),
    right(MOM, "loop"),
    right(MOM, "in_place", '''
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    for key in parameters:
        v["d" + key] *= beta
        v["d" + key] += (1 - beta) * grads["d" + key]
        parameters[key] -= learning_rate * v["d" + key]
    return parameters, v
'''),
    right(INIT, "loop"),
    right(INIT, "two_velocities", '''
def initialize_adam(parameters):
    v = initialize_velocity(parameters)
    s = initialize_velocity(parameters)
    return v, s
'''),
    right(INIT, "comprehensions", '''
def initialize_adam(parameters):
    s = {f"d{k}": np.zeros(p.shape) for k, p in parameters.items()}
    v = {f"d{k}": np.zeros(p.shape) for k, p in parameters.items()}
    return (v, s)
'''),
    right(ADAM, "loop"),
    right(ADAM, "np_square_and_power", edited(ADAM, ("(grads[key] ** 2)", "np.square(grads[key])"),
                                               ("(1 - beta1 ** t)", "(1 - np.power(beta1, t))"),
                                               ("(1 - beta2 ** t)", "(1 - np.power(beta2, t))"))),
    right(ADAM, "in_place", '''
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01,
                                beta1=0.9, beta2=0.999, epsilon=1e-8):
    for name in parameters:
        g = grads["d" + name]
        v["d" + name] *= beta1
        v["d" + name] += (1 - beta1) * g
        s["d" + name] *= beta2
        s["d" + name] += (1 - beta2) * g * g
        v_hat = v["d" + name] / (1 - beta1 ** t)
        s_hat = s["d" + name] / (1 - beta2 ** t)
        parameters[name] -= learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return parameters, v, s
'''),
]

WRONG = [
    # gradient descent
    wrong(GD, "sign_flipped", "up the gradient", ("- learning_rate", "+ learning_rate")),
    wrong(GD, "no_learning_rate", "ignores the learning rate", ("- learning_rate * grads", "- grads")),
    wrong(GD, "hard_coded_learning_rate", "fixed learning rate of 0.01", ("- learning_rate", "- 0.01")),
    wrong(GD, "misses_last_layer", "does your loop reach the last layer", ("range(L)", "range(L - 1)")),
    wrong(GD, "layer_index_from_zero", "KeyError", ("str(l + 1)", "str(l)")),
    wrong(GD, "weights_only", "the biases need updating too",
          ('''        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]\n''', "")),
    wrong(GD, "bias_uses_weight_gradient", "shape",
          ('learning_rate * grads["db" + str(l + 1)]', 'learning_rate * grads["dW" + str(l + 1)]')),
    # mini-batches
    wrong(MB, "last_batch_dropped", "drops the last, smaller mini-batch",
          ("    if m % mini_batch_size != 0:", "    if False:")),
    wrong(MB, "last_batch_starts_one_column_late", "leaves some examples out",
          ("shuffled_X[:, num_complete * mini_batch_size:m]", "shuffled_X[:, num_complete * mini_batch_size + 1:m]"),
          ("shuffled_Y[:, num_complete * mini_batch_size:m]", "shuffled_Y[:, num_complete * mini_batch_size + 1:m]")),
    wrong(MB, "last_batch_stops_one_column_early", "leaves some examples out",
          ("mini_batch_size:m]", "mini_batch_size:m - 1]")),
    wrong(MB, "last_batch_overlaps", "overlap",
          ("shuffled_X[:, num_complete * mini_batch_size:m]", "shuffled_X[:, m - mini_batch_size:m]"),
          ("shuffled_Y[:, num_complete * mini_batch_size:m]", "shuffled_Y[:, m - mini_batch_size:m]")),
    wrong(MB, "empty_last_batch", "empty mini-batch", ("    if m % mini_batch_size != 0:", "    if True:")),
    wrong(MB, "ceil_adds_an_empty_batch", "empty mini-batch", ("math.floor(m / mini_batch_size)", "math.ceil(m / mini_batch_size)")),
    wrong(MB, "two_permutations", "shuffles X and Y differently",
          ("    shuffled_Y = Y[:, permutation].reshape((1, m))",
           "    shuffled_Y = Y[:, list(np.random.permutation(m))].reshape((1, m))")),
    wrong(MB, "labels_not_shuffled", "shuffles X and Y differently",
          ("    shuffled_Y = Y[:, permutation].reshape((1, m))", "    shuffled_Y = Y.reshape((1, m))")),
    wrong(MB, "seed_ignored", "ignores the seed", ("np.random.seed(seed)", "np.random.seed(0)")),
    wrong(MB, "not_shuffled", "does not shuffle", ("list(np.random.permutation(m))", "list(range(m))")),
    # velocity
    wrong(VEL, "bias_shaped_like_weights", "shaped like W",
          ('v["db" + str(l + 1)] = np.zeros(parameters["b"', 'v["db" + str(l + 1)] = np.zeros(parameters["W"')),
    wrong(VEL, "parameter_keys", "gradient keys", ('v["dW" + str', 'v["W" + str'), ('v["db" + str', 'v["b" + str')),
    wrong(VEL, "layer_zero", "layer 0", ('v["dW" + str(l + 1)]', 'v["dW" + str(l)]'), ('v["db" + str(l + 1)]', 'v["db" + str(l)]'),
          ('parameters["W" + str(l + 1)]', 'parameters["W" + str(l + 1)]')),
    wrong(VEL, "misses_last_layer", "last layer", ("range(L)", "range(L - 1)")),
    wrong(VEL, "zeroes_the_parameters", "changes parameters",
          ('v["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)',
           'v["dW" + str(l + 1)] = parameters["W" + str(l + 1)]\n        v["dW" + str(l + 1)][:] = 0')),
    wrong(VEL, "integer_zeros", "should hold floats", (".shape)", ".shape, dtype=int)")),
    # momentum
    wrong(MOM, "no_one_minus_beta", "(1 − β) factor", ("(1 - beta) * grads", "grads")),
    wrong(MOM, "betas_swapped", "swaps β", ("beta * v", "(1 - beta) * v"), ("(1 - beta) * grads", "beta * grads")),
    wrong(MOM, "precedence", "operator-precedence", ("(1 - beta) * grads", "1 - beta * grads")),
    wrong(MOM, "ignores_previous_velocity", "ignores the previous velocity",
          ('beta * v["dW" + str(l + 1)] + ', ""), ('beta * v["db" + str(l + 1)] + ', "")),
    wrong(MOM, "hard_coded_beta", "β = 0.9", ("beta * v", "0.9 * v"), ("(1 - beta)", "0.1")),
    wrong(MOM, "steps_with_gradient", "gradient instead of the velocity",
          ('- learning_rate * v["dW"', '- learning_rate * grads["dW"'), ('- learning_rate * v["db"', '- learning_rate * grads["db"')),
    wrong(MOM, "misses_last_layer", "last layer", ("range(L)", "range(L - 1)")),
    Variant(MOM, "steps_before_velocity_update", '''
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]
        parameters["b" + str(l)] = parameters["b" + str(l)] - learning_rate * v["db" + str(l)]
        v["dW" + str(l)] = beta * v["dW" + str(l)] + (1 - beta) * grads["dW" + str(l)]
        v["db" + str(l)] = beta * v["db" + str(l)] + (1 - beta) * grads["db" + str(l)]
    return parameters, v
''', False, "velocity from before this update"),
    # Adam initialisation
    Variant(INIT, "same_dict_twice", '''
def initialize_adam(parameters):
    v = s = {}
    for key in parameters:
        v["d" + key] = np.zeros(parameters[key].shape)
    return v, s
''', False, "same dict"),
    wrong(INIT, "bias_shaped_like_weights", "shaped like W",
          ('s["db" + str(l + 1)] = np.zeros(parameters["b"', 's["db" + str(l + 1)] = np.zeros(parameters["W"')),
    wrong(INIT, "s_misses_last_layer", "has no entry for the last layer",
          ('        s["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)\n'
           '        s["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)\n', ""),
          ("    return v, s", '''    for l in range(L - 1):
        s["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        s["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
    return v, s''')),
    Variant(INIT, "shared_arrays", '''
def initialize_adam(parameters):
    v = {"d" + key: np.zeros(value.shape) for key, value in parameters.items()}
    s = v.copy()
    return v, s
''', False, "are the same array"),
    # Adam
    wrong(ADAM, "epsilon_inside_root", "inside the square root",
          ("(np.sqrt(s_corrected[key]) + epsilon)", "np.sqrt(s_corrected[key] + epsilon)")),
    wrong(ADAM, "epsilon_added_to_parameters", "adds ε to the parameters",
          ("(np.sqrt(s_corrected[key]) + epsilon)", "np.sqrt(s_corrected[key]) + epsilon")),
    wrong(ADAM, "no_bias_correction", "leaves out the bias correction",
          ("v[key] / (1 - beta1 ** t)", "v[key]"), ("s[key] / (1 - beta2 ** t)", "s[key]")),
    wrong(ADAM, "beta_without_power", "uses β1 instead of β1^t", ("beta1 ** t", "beta1"), ("beta2 ** t", "beta2")),
    wrong(ADAM, "one_minus_beta_to_the_t", "(1 − β)^t", ("(1 - beta1 ** t)", "(1 - beta1) ** t"), ("(1 - beta2 ** t)", "(1 - beta2) ** t")),
    wrong(ADAM, "hard_coded_step", "fixed step", ("beta1 ** t", "beta1 ** 2"), ("beta2 ** t", "beta2 ** 2")),
    wrong(ADAM, "plus_in_correction", "1 + β^t", ("(1 - beta1 ** t)", "(1 + beta1 ** t)"), ("(1 - beta2 ** t)", "(1 + beta2 ** t)")),
    wrong(ADAM, "uncorrected_s", "divides by √s instead of √ŝ", ("np.sqrt(s_corrected[key])", "np.sqrt(s[key])")),
    wrong(ADAM, "uncorrected_v", "instead of v̂", ("learning_rate * v_corrected[key]", "learning_rate * v[key]")),
    wrong(ADAM, "gradient_not_squared", "squared gradient", ("(grads[key] ** 2)", "grads[key]")),
    wrong(ADAM, "moment_precedence", "operator-precedence", ("(1 - beta1) * grads[key]", "1 - beta1 * grads[key]")),
    wrong(ADAM, "beta2_for_first_moment", "uses beta2 for the first moment",
          ("beta1 * v[key] + (1 - beta1)", "beta2 * v[key] + (1 - beta2)")),
    wrong(ADAM, "misses_last_layer", "last layer", ("range(L)", "range(L - 1)")),
    wrong(ADAM, "power_t_minus_one", "t − 1", ("beta1 ** t", "beta1 ** (t - 1)"), ("beta2 ** t", "beta2 ** (t - 1)")),
    wrong(ADAM, "stores_corrected_moment", "stores the bias-corrected value in v",
          ("            v_corrected[key] = v[key] / (1 - beta1 ** t)",
           "            v[key] = v[key] / (1 - beta1 ** t)\n            v_corrected[key] = v[key]")),
]

VARIANTS = CORRECT + WRONG
