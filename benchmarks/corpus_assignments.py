"""A corpus of assignment-style programs (CS231n-like layers and losses, written as students write
them: loops, in-place updates, masks, integer labels), checked like ``corpus_autograd``.

    python -m benchmarks.corpus_assignments [--only REGEX] [--verbose]
"""

from __future__ import annotations

import sys

from .corpus import D, I, N, P, U, case, main

AFFINE = """
def f(x, w, b):
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    return out
"""

RELU_INPLACE = """
def f(x):
    out = x.copy()
    out[out < 0] = 0
    return out
"""

RELU_MAXIMUM = """
def f(x):
    return np.maximum(0, x)
"""

SOFTMAX_LOSS = """
def f(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    N = x.shape[0]
    return -np.sum(log_probs[np.arange(N), y]) / N
"""

SOFTMAX_LOSS_LOOPS = """
def f(W, X, y):
    loss = 0.0
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        loss += -scores[y[i]] + np.log(np.sum(np.exp(scores)))
    loss /= num_train
    loss += 0.5 * np.sum(W * W)
    return loss
"""

SVM_LOSS_VECTORIZED = """
def f(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    return np.sum(margins) / N
"""

SVM_LOSS_LOOPS = """
def f(W, X, y):
    num_classes = W.shape[1]
    num_train = X.shape[0]
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
    loss += 0.1 * np.sum(W * W)
    return loss
"""

BATCHNORM = """
def f(x, gamma, beta):
    eps = 1e-5
    mu = np.mean(x, axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    return gamma * xn + beta
"""

BATCHNORM_VAR = """
def f(x, gamma, beta):
    sample_mean = x.mean(axis=0)
    sample_var = x.var(axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + 1e-5)
    return gamma * x_hat + beta
"""

LAYERNORM = """
def f(x, gamma, beta):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + 1e-5) + beta
"""

SPATIAL_BATCHNORM = """
def f(x, gamma, beta):
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    mu = x_flat.mean(axis=0)
    var = x_flat.var(axis=0)
    out = gamma * (x_flat - mu) / np.sqrt(var + 1e-5) + beta
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2)
"""

DROPOUT = """
def f(x, u):
    p = 0.5
    mask = (u < p) / p
    return x * mask
"""

CONV_NAIVE = """
def f(x, w, b):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = 1, 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
"""

MAX_POOL_NAIVE = """
def f(x):
    N, C, H, W = x.shape
    ph, pw, stride = 2, 2, 2
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = np.max(window, axis=(2, 3))
    return out
"""

MAX_POOL_RESHAPE = """
def f(x):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=3).max(axis=4)
"""

RNN_STEP = """
def f(x, prev_h, Wx, Wh, b):
    return np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
"""

RNN_FORWARD = """
def f(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t, :].dot(Wx) + prev.dot(Wh) + b)
        h[:, t, :] = prev
    return h
"""

LSTM_STEP = """
def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def f(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f_gate = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f_gate * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c
"""

WORD_EMBEDDING = """
def f(W, x):
    return W[x]
"""

TEMPORAL_AFFINE = """
def f(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    return x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
"""

TEMPORAL_SOFTMAX = """
def f(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    return -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
"""

TWO_LAYER_NET = """
def f(X, W1, b1, W2, b2, y):
    reg = 0.05
    h = np.maximum(0, X.dot(W1) + b1)
    scores = h.dot(W2) + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    N = X.shape[0]
    loss = -np.sum(np.log(probs[range(N), y])) / N
    loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return loss
"""

ONE_HOT_LOSS = """
def f(scores, y):
    C = scores.shape[1]
    onehot = np.eye(C)[y]
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p)) / scores.shape[0]
"""

SIGMOID_NET = """
def f(X, W1, W2, W3):
    sig = lambda t: 1.0 / (1.0 + np.exp(-t))
    h1 = sig(X @ W1)
    h2 = sig(h1 @ W2)
    return np.mean((h2 @ W3) ** 2)
"""

KNN_DISTANCES = """
def f(X, T):
    d = np.sum(T ** 2, axis=1, keepdims=True) + np.sum(X ** 2, axis=1) - 2 * T.dot(X.T)
    return np.sqrt(d)
"""

IM2COL_CONV = """
def f(x, w):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = H - HH + 1, W - WW + 1
    cols = np.zeros((N, Ho, Wo, C * HH * WW))
    for i in range(Ho):
        for j in range(Wo):
            cols[:, i, j, :] = x[:, :, i:i + HH, j:j + WW].reshape(N, -1)
    out = cols.reshape(-1, C * HH * WW) @ w.reshape(F, -1).T
    return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)
"""

SGD_STEP = """
def f(w, x, y):
    lr = 0.1
    for step in range(3):
        pred = x @ w
        grad = 2 * x.T @ (pred - y) / x.shape[0]
        w = w - lr * grad
    return np.sum((x @ w - y) ** 2)
"""

HINGE_MEAN = """
def f(w, X, y):
    margins = 1 - y * (X @ w)
    return np.mean(np.maximum(0, margins)) + 0.01 * w @ w
"""

LOGISTIC = """
def f(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))
"""

GRU_STEP = """
def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))

def f(x, h, Wz, Wr, Wh):
    xh = np.concatenate([x, h], axis=1)
    z = sigmoid(xh @ Wz)
    r = sigmoid(xh @ Wr)
    hh = np.tanh(np.concatenate([x, r * h], axis=1) @ Wh)
    return (1 - z) * h + z * hh
"""

ATTENTION = """
def f(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[1])
    s = s - s.max(axis=-1, keepdims=True)
    a = np.exp(s)
    a = a / a.sum(axis=-1, keepdims=True)
    return a @ v
"""

EMBED_BACKWARD_ADD_AT = """
def f(W, x):
    out = W[x]
    return np.sum(out ** 2, axis=-1)
"""

CASES = [
    case("affine", AFFINE, x=N(2, 2, 3), w=N(6, 3), b=N(3)),
    case("relu_inplace", RELU_INPLACE, x=N(3, 4)),
    case("relu_maximum", RELU_MAXIMUM, x=N(3, 4)),
    case("softmax_loss", SOFTMAX_LOSS, x=N(4, 3), y=I(0, 3, 4)),
    case("softmax_loss_loops", SOFTMAX_LOSS_LOOPS, W=N(3, 4), X=N(3, 3), y=I(0, 4, 3)),
    case("svm_loss_vectorized", SVM_LOSS_VECTORIZED, x=D(4, 3), y=I(0, 3, 4)),
    case("svm_loss_loops", SVM_LOSS_LOOPS, W=N(3, 4), X=N(3, 3), y=I(0, 4, 3)),
    case("batchnorm", BATCHNORM, x=N(4, 3), gamma=P(3), beta=N(3)),
    case("batchnorm_var", BATCHNORM_VAR, x=N(5, 2), gamma=P(2), beta=N(2)),
    case("layernorm", LAYERNORM, x=N(3, 4), gamma=P(4), beta=N(4)),
    case("spatial_batchnorm", SPATIAL_BATCHNORM, x=N(2, 2, 2, 2), gamma=P(2), beta=N(2)),
    case("dropout_mask", DROPOUT, x=N(3, 4), u=U(3, 4)),
    case("conv_naive", CONV_NAIVE, x=N(1, 2, 3, 3), w=N(2, 2, 2, 2), b=N(2)),
    case("max_pool_naive", MAX_POOL_NAIVE, x=D(1, 2, 4, 4)),
    case("max_pool_reshape", MAX_POOL_RESHAPE, x=D(1, 2, 4, 4)),
    case("rnn_step", RNN_STEP, x=N(2, 3), prev_h=N(2, 4), Wx=N(3, 4), Wh=N(4, 4), b=N(4)),
    case("rnn_forward", RNN_FORWARD, x=N(2, 3, 2), h0=N(2, 3), Wx=U(2, 3), Wh=U(3, 3), b=N(3)),
    case("lstm_step", LSTM_STEP, x=N(2, 3), prev_h=N(2, 2), prev_c=N(2, 2), Wx=N(3, 8),
         Wh=N(2, 8), b=N(8)),
    case("word_embedding", WORD_EMBEDDING, W=N(5, 3), x=I(0, 5, 2, 3)),
    case("embedding_repeats", EMBED_BACKWARD_ADD_AT, W=N(3, 2), x=I(0, 3, 2, 4)),
    case("temporal_affine", TEMPORAL_AFFINE, x=N(2, 3, 4), w=N(4, 2), b=N(2)),
    case("temporal_softmax", TEMPORAL_SOFTMAX, x=N(2, 3, 4), y=I(0, 4, 2, 3), mask=I(0, 2, 2, 3)),
    case("two_layer_net", TWO_LAYER_NET, X=N(4, 3), W1=N(3, 5), b1=N(5), W2=N(5, 3), b2=N(3),
         y=I(0, 3, 4)),
    case("one_hot_loss", ONE_HOT_LOSS, scores=N(3, 4), y=I(0, 4, 3)),
    case("sigmoid_net", SIGMOID_NET, X=N(4, 3), W1=N(3, 4), W2=N(4, 2), W3=N(2, 1)),
    case("knn_distances", KNN_DISTANCES, X=N(3, 2), T=P(2, 2)),
    case("im2col_conv", IM2COL_CONV, x=N(1, 2, 3, 3), w=N(2, 2, 2, 2)),
    case("sgd_unrolled", SGD_STEP, w=N(3), x=N(4, 3), y=N(4)),
    case("hinge_mean", HINGE_MEAN, w=N(3), X=N(5, 3), y=I(0, 2, 5)),
    case("logistic", LOGISTIC, w=N(3), X=N(5, 3), y=N(5)),
    case("gru_step", GRU_STEP, x=N(2, 3), h=N(2, 2), Wz=N(5, 2), Wr=N(5, 2), Wh=N(5, 2)),
    case("attention", ATTENTION, q=N(3, 4), k=N(2, 4), v=N(2, 3)),
]

if __name__ == "__main__":
    sys.exit(main(CASES, "python -m benchmarks.corpus_assignments"))
