"""Course-assignment code, written the way students write it, runs unchanged.

Layers with loops that fill ``out`` in place, losses with in-place zeroing and ``range`` indexing,
an RNN that fills ``h`` step by step, batchnorm with ``x.var(axis=0)``, a temporal softmax loss
that flattens its labels, and the lecture's ``lambda`` sigmoid. Each is checked against NumPy's
value, central differences and the interpreter (JAX refuses in-place updates, so it is not an
oracle for most of these).
"""

import numpy as np
import pytest

import symdiff
from oracle import check_program

rng = np.random.default_rng(11)

CONV_NAIVE = '''
def f(x, w, b):
    stride, pad = 1, 1
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
'''

MAX_POOL_NAIVE = '''
def f(x):
    N, C, H, W = x.shape
    ph, pw, stride = 2, 2, 2
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph,
                                               j * stride:j * stride + pw])
    return out
'''

SVM_LOOPS = '''
def f(W, X, y):
    num_train = X.shape[0]
    num_classes = W.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
    loss /= num_train
    loss += 0.5 * 0.1 * np.sum(W * W)
    return loss
'''

SVM_VECTORIZED = '''
def f(W, X, y):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(num_train), y].reshape(-1, 1)
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(num_train), y] = 0
    loss = np.sum(margins) / num_train
    return loss + 0.1 * np.sum(W * W)
'''

SOFTMAX_LOOPS = '''
def f(W, X, y):
    loss = 0.0
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
    return loss / num_train + 0.5 * 0.01 * np.sum(W * W)
'''

SOFTMAX_ONE_HOT = '''
def f(W, X, y):
    N = X.shape[0]
    C = W.shape[1]
    scores = X @ W
    scores = scores - np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    one_hot = np.eye(C)[y]
    mask = np.arange(C)[None, :] == y[:, None]
    return -np.sum(one_hot * np.log(p)) / N + 0.0 * np.sum(mask * p)
'''

RNN_FORWARD = '''
def f(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h = h0
    for t in range(T):
        prev_h = np.tanh(x[:, t, :].dot(Wx) + prev_h.dot(Wh) + b)
        h[:, t, :] = prev_h
    return h
'''

BATCHNORM = '''
def f(x, gamma, beta):
    eps = 1e-5
    sample_mean = x.mean(axis=0)
    sample_var = x.var(axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
    return gamma * x_hat + beta
'''

TEMPORAL_SOFTMAX = '''
def f(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    return -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
'''

LAMBDA_SIGMOID = '''
def f(x, W1, b1):
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))
    h = sigmoid(x @ W1 + b1)
    return np.sum(h * h)
'''

TWO_LAYER_RELU_MASK = '''
def f(X, W1, b1, W2):
    h = X @ W1 + b1
    h[h < 0] = 0
    scores = h @ W2
    return np.sum(scores ** 2)
'''


def n(*shape):
    return rng.standard_normal(shape)


PROGRAMS = {
    "conv_naive": (CONV_NAIVE, {"x": n(1, 2, 4, 4), "w": n(2, 2, 3, 3), "b": n(2)}, None),
    "max_pool_naive": (MAX_POOL_NAIVE, {"x": n(2, 2, 4, 4)}, None),
    "svm_loops": (SVM_LOOPS, {"W": n(4, 3), "X": n(5, 4), "y": np.array([0, 2, 1, 1, 0])}, ["W"]),
    "svm_vectorized": (SVM_VECTORIZED, {"W": n(4, 3), "X": n(5, 4), "y": np.array([0, 2, 1, 1, 0])},
                       ["W"]),
    "softmax_loops": (SOFTMAX_LOOPS, {"W": n(4, 3), "X": n(5, 4), "y": np.array([0, 2, 1, 1, 0])},
                      ["W"]),
    "softmax_one_hot": (SOFTMAX_ONE_HOT, {"W": n(4, 3), "X": n(5, 4),
                                          "y": np.array([0, 2, 1, 1, 0])}, ["W"]),
    "rnn_forward": (RNN_FORWARD, {"x": n(2, 3, 4), "h0": n(2, 5), "Wx": n(4, 5), "Wh": n(5, 5),
                                  "b": n(5)}, None),
    "batchnorm": (BATCHNORM, {"x": n(6, 3), "gamma": n(3), "beta": n(3)}, None),
    "temporal_softmax": (TEMPORAL_SOFTMAX, {"x": n(2, 3, 4), "y": rng.integers(0, 4, (2, 3)),
                                            "mask": (rng.random((2, 3)) > 0.3) * 1.0}, ["x"]),
    "lambda_sigmoid": (LAMBDA_SIGMOID, {"x": n(3, 4), "W1": n(4, 2), "b1": n(2)}, None),
    "relu_by_mask": (TWO_LAYER_RELU_MASK, {"X": n(4, 3), "W1": n(3, 5), "b1": n(5), "W2": n(5, 2)},
                     None),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_assignment_program(name):
    source, args, wrt = PROGRAMS[name]
    check_program(source, args, wrt=wrt, rtol=1e-5, atol=1e-7)


def test_the_written_module_of_a_loop_program_is_the_code_that_runs(tmp_path):
    source, args, _ = PROGRAMS["max_pool_naive"]
    g = symdiff.compile(source)
    value, grads = g(**args)
    path = tmp_path / "pool.py"
    g.write(str(path))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    module_value, module_grads = namespace["f"](**args)
    np.testing.assert_array_equal(module_value, value)
    np.testing.assert_array_equal(module_grads["x"], grads["x"])
