"""Tensor programs: matmul, reductions, indexing, broadcasting, softmax losses, nets.

Every gradient here is checked three ways: against a backward pass written by hand in NumPy
(float64, to ~1e-12), against central differences on a few randomly chosen elements, and against
the node-by-node :class:`symdiff.ad.interpret.Interpreter` run over ``g.graph``.
"""

import ast
import inspect
import re
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest

import symdiff
from symdiff.runtime import HELPERS
import symdiff.compiler
from symdiff.check import numeric_gradient
from symdiff.ad.interpret import Interpreter

reg = 1e-3  # read by the nets below as a module-level constant

RTOL = 1e-9  # symdiff vs the hand-written backward: expect ~1e-12


# ============================================================================ helpers
def assert_close(actual, expected, rtol=RTOL, what=""):
    """Elementwise ``|a - e| <= rtol * |e| + atol``, atol scaled to the array's magnitude."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-12 * max(scale, 1.0),
                               err_msg=what)


def assert_grads(grads, expected, rtol=RTOL):
    assert set(grads) == set(expected), f"gradient names {sorted(grads)} != {sorted(expected)}"
    for name, want in expected.items():
        assert_close(grads[name], want, rtol, what=f"d{name}")


def central_difference(value_fn, inputs, name, index, dout=None, h=1e-5):
    """d sum(dout * f) / d inputs[name][index], by a central difference."""
    x = np.array(inputs[name], dtype=float)
    outs, steps = [], []
    for sign in (1.0, -1.0):
        shifted = x.copy()
        shifted[index] += sign * h
        steps.append(shifted[index] - x[index])
        out = value_fn(**{**inputs, name: shifted})
        outs.append(float(np.sum(out if dout is None else np.asarray(out) * dout)))
    return (outs[0] - outs[1]) / (steps[0] - steps[1])


def check_numeric(g, inputs, grads, dout=None, k=4, seed=0, rtol=1e-5, atol=1e-7, names=None,
                  elements=None):
    """Central differences on ``k`` randomly chosen elements of every differentiated input."""
    rng = np.random.default_rng(seed)

    def value(**kw):
        return g(**kw, dout=dout)[0] if dout is not None else g(**kw)[0]

    for name in names or grads:
        shape = np.shape(inputs[name])
        if elements is not None:
            chosen = elements
        else:
            flat = rng.choice(int(np.prod(shape)), size=min(k, int(np.prod(shape))), replace=False)
            chosen = [np.unravel_index(int(i), shape) for i in flat]
        for index in chosen:
            numeric = central_difference(value, inputs, name, index, dout)
            analytic = float(np.asarray(grads[name])[index])
            assert abs(analytic - numeric) <= atol + rtol * abs(numeric), \
                f"d{name}{tuple(index)}: symdiff {analytic!r}, central difference {numeric!r}"


def check_interpreter(g, inputs, value, grads, dout=None, rtol=1e-10):
    """The node-by-node interpreter over ``g.graph`` agrees with the generated code."""
    interp = Interpreter(g.graph)
    got = interp.forward(**inputs)
    assert_close(got, value, rtol, what="interpreter value")
    igrads = interp.backward(dout)
    for name, want in grads.items():
        assert_close(igrads[name], want, rtol, what=f"interpreter d{name}")


def check_all(g, inputs, expected_value, expected_grads, dout=None, numeric=True,
              interpreter=True, k=4):
    value, grads = g(**inputs) if dout is None else g(**inputs, dout=dout)
    assert_close(value, expected_value, what="value")
    assert_grads(grads, expected_grads)
    if interpreter:
        if dout is not None:
            g(**inputs)  # g.graph is the latest specialization called without dout
        check_interpreter(g, inputs, value, grads, dout)
    if numeric:
        check_numeric(g, inputs, grads, dout, k=k)
    return value, grads


def src(body, params="x"):
    """A one-function program whose body is ``body`` (lines separated by ';' or newlines)."""
    lines = [line.strip() for line in re.split(r"[;\n]", body) if line.strip()]
    return f"def f({params}):\n" + "".join(f"    {line}\n" for line in lines)


# ============================================================================ 2-layer net
N, D, H, C = 200, 3072, 100, 10


def two_layer_loss(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    return data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))


TWO_LAYER_LOG_SOFTMAX = """
def net(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    data_loss = -np.mean(log_softmax(s, axis=1)[np.arange(N), y])
    return data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
"""


def two_layer_reference(X, y, W1, b1, W2, b2):
    """The standard hand-written forward and backward (CS231n assignment style)."""
    n = X.shape[0]
    z1 = X @ W1 + b1
    h = np.maximum(0, z1)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).sum() / n
    loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dW2 = h.T @ dscores + reg * W2
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dz1 = dh * (z1 > 0)
    dW1 = X.T @ dz1 + reg * W1
    db1 = dz1.sum(axis=0)
    dX = dz1 @ W1.T
    return loss, {"X": dX, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def net_inputs(n=N, d=D, hidden=H, classes=C, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    y[:classes] = np.arange(classes)  # every class appears, most of them many times
    return dict(X=rng.standard_normal((n, d)), y=y,
                W1=rng.standard_normal((d, hidden)) * 1e-2, b1=rng.standard_normal(hidden) * 0.1,
                W2=rng.standard_normal((hidden, classes)) * 0.1,
                b2=rng.standard_normal(classes) * 0.1)


@pytest.fixture(scope="module")
def net():
    inputs = net_inputs()
    g = symdiff.compile(two_layer_loss, wrt=["W1", "b1", "W2", "b2"])
    value, grads = g(**inputs)
    return g, inputs, value, grads


def test_two_layer_net_matches_hand_written_backward(net):
    g, inputs, value, grads = net
    loss, ref = two_layer_reference(**inputs)
    assert np.ndim(value) == 0
    assert_close(value, loss, what="loss")
    assert_grads(grads, {k: ref[k] for k in ("W1", "b1", "W2", "b2")})
    assert grads["W1"].dtype == np.float64 and grads["b1"].shape == (H,)


def test_two_layer_net_matches_central_differences(net):
    g, inputs, _, grads = net
    check_numeric(g, inputs, grads, k=3)


def test_two_layer_net_matches_interpreter(net):
    g, inputs, value, grads = net
    check_interpreter(g, inputs, value, grads)


def test_two_layer_net_with_log_softmax():
    inputs = net_inputs(d=300, seed=1)
    g = symdiff.compile(TWO_LAYER_LOG_SOFTMAX.replace("reg", "0.001"))
    value, grads = g(**inputs)
    loss, ref = two_layer_reference(**inputs)
    assert_close(value, loss, what="loss")
    assert_grads(grads, ref)  # every float input, X included; y stays an index
    assert "y" not in grads
    check_interpreter(g, inputs, value, grads)
    check_numeric(g, inputs, grads, k=3)


# ============================================================================ SVM, sigmoid net
SVM = """
def svm(X, y, W):
    N = X.shape[0]
    s = X @ W
    correct = s[np.arange(N), y]
    margins = np.maximum(0, s - correct.reshape(N, 1) + 1.0)
    return (np.sum(margins) - N) / N + 0.5 * reg * np.sum(W * W)
"""


def svm_reference(X, y, W):
    n = X.shape[0]
    s = X @ W
    margins = np.maximum(0, s - s[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0.0
    loss = margins.sum() / n + 0.5 * reg * np.sum(W * W)
    ds = (margins > 0).astype(float)
    ds[np.arange(n), y] = -ds.sum(axis=1)
    ds /= n
    return loss, {"X": ds @ W.T, "W": X.T @ ds + reg * W}


def test_multiclass_svm_loss():
    rng = np.random.default_rng(2)
    inputs = dict(X=rng.standard_normal((30, 8)), y=rng.integers(0, 5, 30),
                  W=rng.standard_normal((8, 5)))
    g = symdiff.compile(SVM.replace("reg", "0.001"))
    loss, ref = svm_reference(**inputs)
    value, grads = g(**inputs)
    assert_close(value, loss, what="loss")
    assert_grads(grads, ref)
    check_interpreter(g, inputs, value, grads)
    check_numeric(g, inputs, grads, k=5)


def sigmoid_net(x, W1, b1, W2, b2, W3, b3):
    h1 = 1.0 / (1.0 + np.exp(-(np.dot(W1, x) + b1)))
    h2 = 1.0 / (1.0 + np.exp(-(np.dot(W2, h1) + b2)))
    out = np.dot(W3, h2) + b3
    return out


def test_lecture_three_layer_sigmoid_net():
    rng = np.random.default_rng(3)
    inputs = dict(x=rng.standard_normal((3, 1)), W1=rng.standard_normal((4, 3)),
                  b1=rng.standard_normal((4, 1)), W2=rng.standard_normal((4, 4)),
                  b2=rng.standard_normal((4, 1)), W3=rng.standard_normal((1, 4)),
                  b3=rng.standard_normal((1, 1)))
    x, W1, b1, W2, b2, W3, b3 = inputs.values()
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    h1 = sig(W1 @ x + b1)
    h2 = sig(W2 @ h1 + b2)
    out = W3 @ h2 + b3
    dout = np.ones((1, 1))
    dz2 = (W3.T @ dout) * h2 * (1 - h2)
    dz1 = (W2.T @ dz2) * h1 * (1 - h1)
    ref = {"x": W1.T @ dz1, "W1": dz1 @ x.T, "b1": dz1, "W2": dz2 @ h1.T, "b2": dz2,
           "W3": dout @ h2.T, "b3": dout}
    g = symdiff.compile(sigmoid_net)
    value, _ = check_all(g, inputs, out, ref, k=3)
    assert np.shape(value) == (1, 1)
    # and with an explicit upstream gradient
    check_all(g, inputs, out, {k: 2.5 * v for k, v in ref.items()}, dout=np.full((1, 1), 2.5),
              k=2)


# ============================================================================ bias broadcast
def test_bias_broadcast_with_upstream_gradient():
    rng = np.random.default_rng(4)
    inputs = dict(X=rng.standard_normal((6, 5)), W=rng.standard_normal((5, 4)),
                  b=rng.standard_normal(4))
    G = rng.standard_normal((6, 4))
    g = symdiff.compile(src("return X @ W + b", "X, W, b"))
    X, W, b = inputs.values()
    check_all(g, inputs, X @ W + b, {"X": G @ W.T, "W": X.T @ G, "b": G.sum(axis=0)}, dout=G)


def test_bias_broadcast_inside_a_nonlinearity():
    rng = np.random.default_rng(5)
    inputs = dict(X=rng.standard_normal((6, 5)), W=rng.standard_normal((5, 4)),
                  b=rng.standard_normal(4))
    g = symdiff.compile(src("return np.sum(np.tanh(X @ W + b))", "X, W, b"))
    X, W, b = inputs.values()
    t = np.tanh(X @ W + b)
    dz = 1 - t * t
    check_all(g, inputs, t.sum(), {"X": dz @ W.T, "W": X.T @ dz, "b": dz.sum(axis=0)})


SCALAR_SEED_PROGRAMS = [
    # (source, inputs builder, expected gradients)
    (src("return X @ W + b", "X, W, b"),
     lambda: dict(X=np.ones((6, 5)), W=np.ones((5, 4)), b=np.zeros(4)),
     {"X": np.full((6, 5), 4.0), "W": np.full((5, 4), 6.0), "b": np.full(4, 6.0)}),
    (src("return np.sum(X @ W + b)", "X, W, b"),
     lambda: dict(X=np.ones((6, 5)), W=np.ones((5, 4)), b=np.zeros(4)),
     {"X": np.full((6, 5), 4.0), "W": np.full((5, 4), 6.0), "b": np.full(4, 6.0)}),
    (src("m = np.sum(s, axis=1, keepdims=True); return s - m", "s"),
     lambda: dict(s=np.array([[0.1, 0.2, 0.3]])),
     {"s": np.full((1, 3), -2.0)}),
    (src("return log_softmax(s, axis=1)", "s"),
     lambda: dict(s=np.zeros((2, 3))),
     {"s": np.zeros((2, 3))}),   # d sum(log_softmax)/ds = 1 - C * softmax = 1 - 3/3
]


# The implicit seed (a scalar 1 standing for ones of the output's shape) must be summed over
# the axes an operand was broadcast along (db = N * ones, not ones).
@pytest.mark.parametrize("program, make_inputs, expected", SCALAR_SEED_PROGRAMS,
                         ids=["affine", "sum-affine", "s-minus-rowsum", "log_softmax"])
def test_broadcast_operand_with_implicit_seed(program, make_inputs, expected):
    g = symdiff.compile(program)
    _, grads = g(**make_inputs())
    assert_grads(grads, expected)


# ============================================================================ reductions
SHAPES = {2: (3, 4), 3: (2, 3, 4)}
AXES = {2: [None, 0, 1, -1, (0, 1)], 3: [None, 0, 1, -1, (0, 2), (1, 2)]}
REDUCTION_CASES = [(fn, ndim, axis, keepdims)
                   for fn in ("sum", "mean", "max", "min")
                   for ndim in (2, 3)
                   for axis in AXES[ndim]
                   for keepdims in (False, True)]


def reduction_call(fn, axis, keepdims, method=False):
    args = ([] if axis is None else [f"axis={axis!r}"]) + (["keepdims=True"] if keepdims else [])
    if method:
        return f"x.{fn}({', '.join(args)})"
    return f"np.{fn}({', '.join(['x'] + args)})"


def normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in items))


def reduction_reference(fn, x, axis, keepdims, G):
    """Value and hand-written VJP of a reduction; max/min send the gradient to the first winner."""
    value = getattr(np, fn)(x, axis=axis, keepdims=keepdims)
    axes = normalize_axes(axis, x.ndim)
    kept_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    Gk = np.reshape(G, kept_shape)
    if fn == "sum":
        return value, np.broadcast_to(Gk, x.shape).copy()
    if fn == "mean":
        return value, np.broadcast_to(Gk, x.shape) / np.prod([x.shape[a] for a in axes])
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
    winner = flat.argmax(axis=-1) if fn == "max" else flat.argmin(axis=-1)
    mask = (np.arange(flat.shape[-1]) == winner[..., None]).astype(float)
    mask = np.transpose(mask.reshape(moved.shape), np.argsort(kept + list(axes)))
    return value, mask * Gk


@pytest.mark.parametrize("fn, ndim, axis, keepdims", REDUCTION_CASES)
def test_reduction(fn, ndim, axis, keepdims):
    rng = np.random.default_rng(zlib.crc32(repr((fn, ndim, axis, keepdims)).encode()))
    x = rng.standard_normal(SHAPES[ndim])
    method = (ndim + len(str(axis))) % 2 == 1   # half of the cases use the method form
    g = symdiff.compile(src("return " + reduction_call(fn, axis, keepdims, method)))
    out_shape = np.shape(getattr(np, fn)(x, axis=axis, keepdims=keepdims))
    G = rng.standard_normal(out_shape)
    value, ref = reduction_reference(fn, x, axis, keepdims, G)
    check_all(g, {"x": x}, value, {"x": ref}, dout=G, k=3)
    # the gradient of the output's sum (no dout)
    value, ref = reduction_reference(fn, x, axis, keepdims, np.ones(out_shape))
    check_all(g, {"x": x}, value, {"x": ref}, numeric=False)


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("ndim", [2, 3])
def test_max_min_ties_route_to_the_first_index(fn, ndim):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, SHAPES[ndim]).astype(float)   # many ties
    for axis in AXES[ndim]:
        for keepdims in (False, True):
            g = symdiff.compile(src("return " + reduction_call(fn, axis, keepdims)))
            out_shape = np.shape(getattr(np, fn)(x, axis=axis, keepdims=keepdims))
            G = rng.standard_normal(out_shape) + 2.0
            value, ref = reduction_reference(fn, x, axis, keepdims, G)
            check_all(g, {"x": x}, value, {"x": ref}, dout=G, numeric=False)
            _, grads = g(x)
            # exactly one 1.0 per reduced group, all else 0: the whole gradient to one element
            assert set(np.unique(grads["x"])) <= {0.0, 1.0}
            assert grads["x"].sum() == np.prod(out_shape)


def test_max_min_ties_literal_example():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    expected = {
        "np.max(x, axis=1)": [[0, 1, 0], [1, 0, 0]],
        "np.max(x, axis=0)": [[0, 1, 1], [1, 0, 0]],
        "np.max(x)": [[0, 1, 0], [0, 0, 0]],
        "x.max(axis=-1, keepdims=True)": [[0, 1, 0], [1, 0, 0]],
        "np.min(x, axis=1)": [[1, 0, 0], [0, 0, 1]],
        "np.min(x, axis=0)": [[1, 0, 0], [0, 1, 1]],
        "x.min()": [[0, 0, 0], [0, 0, 1]],
        "np.max(x, axis=(0, 1))": [[0, 1, 0], [0, 0, 0]],
    }
    for call, want in expected.items():
        g = symdiff.compile(src("return " + call))
        _, grads = g(x)
        np.testing.assert_array_equal(grads["x"], np.array(want, dtype=float), err_msg=call)
        check_interpreter(g, {"x": x}, *g(x))


def test_reduction_with_explicit_axis_none():
    x = np.arange(6.0).reshape(2, 3)
    value, grads = symdiff.compile(src("return np.sum(x, axis=None)"))(x)
    assert value == 15.0
    assert_close(grads["x"], np.ones((2, 3)))


# ============================================================================ matmul
def matmul_reference(a, b, G):
    """Hand-written VJPs of a @ b for every rank combination."""
    if a.ndim == 1 and b.ndim == 1:
        return G * b, G * a
    if b.ndim == 1:
        return np.outer(G, b), a.T @ G
    if a.ndim == 1:
        return b @ G, np.outer(a, G)
    if a.ndim == 3:
        da = G @ b.T
        db = sum(a[i].T @ G[i] for i in range(a.shape[0]))
        return da, db
    return G @ b.T, a.T @ G


MATMUL_SHAPES = {"MK@KN": ((3, 4), (4, 5)), "MK@K": ((3, 4), (4,)), "K@KN": ((4,), (4, 5)),
                 "K@K": ((4,), (4,)), "BMK@KN": ((2, 3, 4), (4, 5))}


@pytest.mark.parametrize("spelling", ["a @ b", "np.dot(a, b)", "np.matmul(a, b)", "a.dot(b)"])
@pytest.mark.parametrize("case", list(MATMUL_SHAPES))
def test_matmul_rank_combinations(case, spelling):
    rng = np.random.default_rng(len(case) * 7 + len(spelling))
    sa, sb = MATMUL_SHAPES[case]
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    value = np.dot(a, b) if "dot" in spelling else a @ b
    g = symdiff.compile(src(f"return {spelling}", "a, b"))
    G = rng.standard_normal(np.shape(value))
    da, db = matmul_reference(a, b, G)
    check_all(g, {"a": a, "b": b}, value, {"a": da, "b": db}, dout=G, k=3)
    da, db = matmul_reference(a, b, np.ones(np.shape(value)))
    check_all(g, {"a": a, "b": b}, value, {"a": da, "b": db}, numeric=False)


def test_outer():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal(3), rng.standard_normal(5)
    G = rng.standard_normal((3, 5))
    g = symdiff.compile(src("return np.outer(a, b)", "a, b"))
    check_all(g, {"a": a, "b": b}, np.outer(a, b), {"a": G @ b, "b": G.T @ a}, dout=G)


def test_matmul_inside_a_loss():
    rng = np.random.default_rng(9)
    a, b, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    g = symdiff.compile(src("return np.sum(np.tanh(a @ b) @ v)", "a, b, v"))
    t = np.tanh(a @ b)
    dz = np.outer(np.ones(3), v) * (1 - t * t)
    check_all(g, dict(a=a, b=b, v=v), np.sum(t @ v),
              {"a": dz @ b.T, "b": a.T @ dz, "v": t.sum(axis=0)})


# ============================================================================ gather / scatter
def test_gather_rows_and_labels_with_repeats():
    rng = np.random.default_rng(10)
    s = rng.standard_normal((6, 4))
    y = np.array([2, 2, 0, 2, 3, 0])
    G = rng.standard_normal(6)
    g = symdiff.compile(src("N = s.shape[0]; return s[np.arange(N), y]", "s, y"))
    ds = np.zeros_like(s)
    for i in range(6):
        ds[i, y[i]] += G[i]
    value, grads = check_all(g, {"s": s, "y": y}, s[np.arange(6), y], {"s": ds}, dout=G,
                             interpreter=True)
    assert "y" not in grads
    g(s, y)
    # rows np.arange(N) make every (row, label) pair distinct: a plain indexed assignment
    assert "ds[np.arange(N), y] = " in g.source


def test_gather_with_a_label_matrix_accumulates():
    """With a (2, 3) label array the pairs (i, Y[j, i]) repeat across j: add.at is required."""
    rng = np.random.default_rng(11)
    s = rng.standard_normal((3, 4))
    Y = np.array([[1, 1, 0], [1, 2, 0]])
    g = symdiff.compile(src("return np.sum(s[np.arange(3), Y])", "s, Y"))
    ds = np.zeros_like(s)
    for j in range(2):
        for i in range(3):
            ds[i, Y[j, i]] += 1.0
    _, grads = g(s, Y)
    np.testing.assert_array_equal(grads["s"], ds)
    assert "add.at" in g.source


def test_gather_whole_rows_accumulates():
    rng = np.random.default_rng(11)
    s = rng.standard_normal((4, 3))
    y = np.array([2, 2, 0, 2, 2])
    G = rng.standard_normal((5, 3))
    g = symdiff.compile(src("N = s.shape[0]; return s[y] * 2.0", "s, y"))
    ds = np.zeros_like(s)
    for i, row in enumerate(y):
        ds[row] += 2.0 * G[i]
    check_all(g, {"s": s, "y": y}, s[y] * 2.0, {"s": ds}, dout=G, interpreter=True)
    _, grads = g(s, y)
    assert_close(grads["s"], np.array([[2.0] * 3, [0.0] * 3, [8.0] * 3, [0.0] * 3]))


def test_gather_1d_with_repeated_indices_after_a_shape_read():
    v = np.array([3.0, 1.0, -1.0, 0.5])
    idx = np.array([0, 1, 1, 3, 0, 0])
    G = np.arange(1.0, 7.0)
    g = symdiff.compile(src("n = v.shape[0]; return v[idx]", "v, idx"))
    dv = np.zeros(4)
    for i, j in enumerate(idx):
        dv[j] += G[i]
    check_all(g, {"v": v, "idx": idx}, v[idx], {"v": dv}, dout=G, interpreter=True)
    _, grads = g(v, idx)
    assert_close(grads["v"], [3.0, 2.0, 0.0, 1.0])


@pytest.mark.parametrize("program", ["return v[idx]", "return v[np.arange(3), idx]"])
def test_gather_without_a_shape_read(program):
    v = np.arange(12.0).reshape(3, 4) if "arange" in program else np.arange(4.0)
    idx = np.array([1, 1, 3])
    g = symdiff.compile(src(program, "v, idx"))
    value, grads = g(v, idx)
    expected = np.zeros_like(v)
    if v.ndim == 1:
        np.testing.assert_array_equal(value, v[idx])
        for j in idx:
            expected[j] += 1.0
    else:
        np.testing.assert_array_equal(value, v[np.arange(3), idx])
        for i, j in enumerate(idx):
            expected[i, j] += 1.0
    assert_close(grads["v"], expected)
    check_interpreter(g, {"v": v, "idx": idx}, value, grads)


def test_gather_columns_with_a_slice():
    s = np.arange(12.0).reshape(3, 4)
    y = np.array([1, 1, 3])
    g = symdiff.compile(src("N = s.shape[0]; return s[:, y]", "s, y"))
    _, grads = g(s, y)
    assert_close(grads["s"], [[0, 2, 0, 1]] * 3)


def test_interpreter_on_a_gather():
    s = np.arange(12.0).reshape(3, 4)
    y = np.array([1, 1, 3])
    g = symdiff.compile(src("N = s.shape[0]; return s[np.arange(N), y]", "s, y"))
    value, grads = g(s, y)
    check_interpreter(g, {"s": s, "y": y}, value, grads)


# ============================================================================ slices, shapes
def _slice_cases():
    def slice_grad(index, squeeze=False):
        def grad(x, G):
            dx = np.zeros_like(x)
            dx[index] = G[0] if squeeze else G
            return dx
        return grad
    return {
        "x[:, 1:3]": (lambda x: x[:, 1:3], slice_grad((slice(None), slice(1, 3)))),
        "x[0]": (lambda x: x[0], slice_grad(0)),
        "x[-1, 1:]": (lambda x: x[-1, 1:], slice_grad((-1, slice(1, None)))),
        "x[1:, ::2]": (lambda x: x[1:, ::2], slice_grad((slice(1, None), slice(None, None, 2)))),
        "x[:, None]": (lambda x: x[:, None], lambda x, G: G.reshape(x.shape)),
        "x[1, None, :, 2:]": (lambda x: x[1, None, :, 2:],
                              slice_grad((1, slice(None), slice(2, None)), squeeze=True)),
        "x.reshape(4, 6)": (lambda x: x.reshape(4, 6), lambda x, G: G.reshape(x.shape)),
        "x.reshape((2, -1))": (lambda x: x.reshape(2, -1), lambda x, G: G.reshape(x.shape)),
        "np.reshape(x, (24,))": (lambda x: x.reshape(24), lambda x, G: G.reshape(x.shape)),
        "np.transpose(x, (2, 0, 1))": (lambda x: np.transpose(x, (2, 0, 1)),
                                       lambda x, G: np.transpose(G, (1, 2, 0))),
        "x.transpose((1, 2, 0))": (lambda x: x.transpose(1, 2, 0),
                                   lambda x, G: np.transpose(G, (2, 0, 1))),
        "x.T": (lambda x: x.T, lambda x, G: G.T),
        "np.transpose(x)": (lambda x: x.T, lambda x, G: G.T),
    }


SLICE_CASES = _slice_cases()


@pytest.mark.parametrize("expr", list(SLICE_CASES))
def test_slices_reshape_transpose(expr):
    rng = np.random.default_rng(len(expr))
    x = rng.standard_normal((2, 3, 4))
    forward, backward = SLICE_CASES[expr]
    value = forward(x)
    G = rng.standard_normal(value.shape)
    g = symdiff.compile(src(f"return {expr} * 3.0"))
    check_all(g, {"x": x}, 3.0 * value, {"x": backward(x, 3.0 * G)}, dout=G, k=3)
    check_all(g, {"x": x}, 3.0 * value, {"x": backward(x, np.full(value.shape, 3.0))},
              numeric=False)


def test_transpose_method_with_separate_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    G = np.random.default_rng(17).standard_normal((3, 4, 2))
    g = symdiff.compile(src("return x.transpose(1, 2, 0)"))
    check_all(g, {"x": x}, x.transpose(1, 2, 0), {"x": np.transpose(G, (2, 0, 1))}, dout=G)


# ============================================================================ where
WHERE_X = np.array([-2.0, -1e-300, 0.0, 1e-300, 0.5, 4.0])


def test_where_sqrt_branch_not_taken():
    g = symdiff.compile(src("return np.where(x > 0, np.sqrt(x), 0.0)"))
    x = WHERE_X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = g(x)
    pos = x > 0
    assert_close(value, np.where(pos, np.sqrt(np.abs(x)), 0.0))
    assert np.all(np.isfinite(grads["x"]))
    assert np.all(grads["x"][~pos] == 0.0)
    assert_close(grads["x"][pos], 0.5 / np.sqrt(x[pos]))
    check_numeric(g, {"x": x}, grads, elements=[(4,), (5,)])
    # elementwise programs accept Python floats too (the scalar path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert g(-1.0) == (0.0, {"x": 0.0})
        assert g(4.0) == (2.0, {"x": 0.25})


def test_where_log_branch_not_taken():
    g = symdiff.compile(src("return np.where(x > 0, np.log(x), x)"))
    x = WHERE_X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = g(x)
        check_interpreter(g, {"x": x}, value, grads)
    pos = x > 0
    assert_close(value[pos], np.log(x[pos]))
    assert_close(value[~pos], x[~pos])
    assert np.all(np.isfinite(grads["x"]))
    assert_close(grads["x"], np.where(pos, 1.0 / np.where(pos, x, 1.0), 1.0))
    check_numeric(g, {"x": x}, grads, elements=[(0,), (4,), (5,)])


@pytest.mark.parametrize("program", ["return np.where(x > 0, np.sqrt(x), 0.0)",
                                     "return np.where(x > 0, np.log(x), x)"])
def test_where_raises_no_runtime_warning(program):
    g = symdiff.compile(src(program))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grads = g(WHERE_X)
    assert np.all(np.isfinite(grads["x"]))


# ============================================================================ softmax family
EXTREME = np.array([[1000.0, -1000.0, 0.0],
                    [-1000.0, -1000.0, -1000.0],
                    [1000.0, 1000.0, 999.0],
                    [-1000.0, 1000.0, -999.0]])
LABELS = np.array([1, 0, 2, 1])


def stable_softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def stable_lse(s):
    m = s.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(s - m).sum(axis=1, keepdims=True)))[:, 0]


def test_logsumexp_extreme_scores():
    G = np.array([1.0, -2.0, 0.5, 3.0])
    g = symdiff.compile(src("return logsumexp(s, axis=1)", "s"))
    p = stable_softmax(EXTREME)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = check_all(g, {"s": EXTREME}, stable_lse(EXTREME), {"s": p * G[:, None]},
                                 dout=G)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grads["s"]))
    assert_close(value[:3], [1000.0, -1000.0 + np.log(3.0), 1000.0 + np.log(2 + np.exp(-1))])


def test_softmax_extreme_scores():
    G = np.random.default_rng(12).standard_normal(EXTREME.shape)
    g = symdiff.compile(src("return softmax(s, axis=1)", "s"))
    p = stable_softmax(EXTREME)
    ds = p * (G - np.sum(G * p, axis=1, keepdims=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = check_all(g, {"s": EXTREME}, p, {"s": ds}, dout=G)
    assert np.all(np.isfinite(grads["s"]))
    assert_close(value[0], [1.0, 0.0, 0.0])
    assert_close(value[1], [1 / 3] * 3)


def test_log_softmax_extreme_scores():
    G = np.random.default_rng(13).standard_normal(EXTREME.shape)
    g = symdiff.compile(src("return log_softmax(s)", "s"))
    p = stable_softmax(EXTREME)
    ref_value = EXTREME - stable_lse(EXTREME)[:, None]
    ds = G - p * G.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = check_all(g, {"s": EXTREME}, ref_value, {"s": ds}, dout=G)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grads["s"]))
    assert value[0, 1] == -2000.0


@pytest.mark.parametrize("program", [
    "N = s.shape[0]; return -np.mean(log_softmax(s, axis=1)[np.arange(N), y])",
    "N = s.shape[0]; lp = s - logsumexp(s, axis=1, keepdims=True); "
    "return -np.sum(lp[np.arange(N), y]) / N",
    "N = s.shape[0]; p = softmax(s, axis=1); return -np.mean(np.log(p[np.arange(N), y]))",
])
def test_cross_entropy_extreme_scores(program):
    s, y = EXTREME, LABELS
    if "log" in program and "softmax(s" in program and "log_softmax" not in program:
        # softmax then log: row 0's label has probability exp(-2000), which underflows to 0 as
        # it does in plain NumPy; check the rows where the naive form is representable
        s, y = EXTREME[1:], LABELS[1:]
    n = s.shape[0]
    g = symdiff.compile(src(program, "s, y"))
    p = stable_softmax(s)
    onehot = np.eye(3)[y]
    loss = -np.mean((s - stable_lse(s)[:, None])[np.arange(n), y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = check_all(g, {"s": s, "y": y}, loss, {"s": (p - onehot) / n},
                                 interpreter=True)
    assert np.isfinite(value) and np.all(np.isfinite(grads["s"]))


# ============================================================================ relu at scale
RELU_PROGRAMS = {"generic": "def relu(x):\n    return np.maximum(0, x)\n",
                 "specialized": "def relu(x):\n    n = x.shape[0]\n    return np.maximum(0, x)\n"}


@pytest.mark.parametrize("kind", list(RELU_PROGRAMS))
def test_wide_relu_builds_no_jacobian(kind):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((100, 4096))
    x[0, :5] = 0.0   # relu'(0) = 0
    g = symdiff.compile(RELU_PROGRAMS[kind])
    value, grads = g(x)
    np.testing.assert_array_equal(value, np.maximum(0, x))
    np.testing.assert_array_equal(grads["x"], (x > 0).astype(float))
    text = g.source
    assert "np.eye" not in text and "einsum" not in text
    assert "(4096, 4096)" not in text and "4096, 4096" not in text
    tree = ast.parse(text)
    assert not any(isinstance(node, (ast.While, ast.AsyncFor)) for node in ast.walk(tree))
    program = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name not in HELPERS]
    for loop in (node for f in program for node in ast.walk(f) if isinstance(node, ast.For)):
        step = loop.iter.args[2]  # only a blocked driver's loop, over blocks of many rows
        assert isinstance(step, ast.Constant) and step.value * 4096 >= 1024, ast.unparse(loop)
    tracemalloc.start()
    try:
        g(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    jacobian_bytes = 4096 * 4096 * 8
    assert peak < jacobian_bytes / 10, f"peak {peak / 2**20:.1f} MiB"
    small = rng.standard_normal((3, 5))
    check_all(g, {"x": small}, np.maximum(0, small), {"x": (small > 0).astype(float)}, k=3)


@pytest.mark.parametrize("program", ["np.maximum(0, x)", "np.maximum(0, x) * 2",
                                     "def f(x):\n    return np.clip(x, -0.5, 0.5)",
                                     "def f(x):\n    n = x.shape[0]\n    return np.maximum(0, x)"])
def test_max_gate_gradient_dtype_is_float(program):
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    _, grads = symdiff.compile(program)(x)
    assert grads["x"].dtype == np.float64


# ============================================================================ specialization
def test_specialization_cache(monkeypatch):
    traces = []
    real_trace = symdiff.compiler.trace

    def counting_trace(*args, **kwargs):
        traces.append(args[1] if len(args) > 1 else kwargs.get("shapes"))
        return real_trace(*args, **kwargs)

    monkeypatch.setattr(symdiff.compiler, "trace", counting_trace)
    program = src("n = a.shape[0]; return np.sum(np.tanh(a @ b), axis=0)", "a, b")
    g = symdiff.compile(program)
    before = len(traces)
    rng = np.random.default_rng(15)

    def reference(a, b):
        t = np.tanh(a @ b)
        dz = 1 - t * t
        return t.sum(axis=0), {"a": dz @ b.T, "b": a.T @ dz}

    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    check_all(g, {"a": a, "b": b}, *reference(a, b), numeric=False)
    assert len(traces) == before + 1
    source = g.source   # (building the full module text may trace once more)
    assert "a[N, D]" in source  # one module for every size (symdiff/general.py)
    cache_size, traced = len(g._cache), len(traces)
    for _ in range(3):
        check_all(g, {"a": a + 1, "b": b}, *reference(a + 1, b), numeric=False)
    assert len(traces) == traced and len(g._cache) == cache_size
    assert g.source is source
    # new sizes: the same sized module, no new trace, correct numbers
    a2, b2 = rng.standard_normal((5, 2)), rng.standard_normal((2, 6))
    check_all(g, {"a": a2, "b": b2}, *reference(a2, b2), k=3)
    assert len(traces) == traced and len(g._cache) == cache_size
    assert g.source is source
    # a new rank: a new specialization
    g(a2[None], b2[None])
    assert len(traces) == traced + 1 and len(g._cache) == cache_size + 1
    assert "a[1, 5, 2]" in g.source or "a[1, N, D]" in g.source
    traced = len(traces)
    # back to the first shapes: cached, still correct
    value, grads = g(a, b)
    assert len(traces) == traced and len(g._cache) == cache_size + 1
    ref_value, ref = reference(a, b)
    assert_close(value, ref_value)
    assert_grads(grads, ref)


def test_shapes_ahead_of_time_give_source_before_any_call(monkeypatch):
    g = symdiff.compile(two_layer_loss, wrt=["W1", "b1", "W2", "b2"],
                        shapes={"X": (N, D), "y": (N,), "W1": (D, H), "b1": (H,),
                                "W2": (H, C), "b2": (C,)})
    text = g.source
    assert "X[N, D]" in text and "h.T @" in text and "[np.arange(N), y] = " in text
    assert re.search(r"db1 = \w+\.sum\(axis=0\)", text)
    assert re.search(r"db2 = \w+\.sum\(axis=0\)", text)
    # the first call with those shapes reuses the code generated ahead of time
    traces = []
    real_trace = symdiff.compiler.trace
    monkeypatch.setattr(symdiff.compiler, "trace",
                        lambda *a, **k: traces.append(1) or real_trace(*a, **k))
    inputs = net_inputs(seed=7)
    value, grads = g(**inputs)
    assert traces == [] and g.source is text
    loss, ref = two_layer_reference(**inputs)
    assert_close(value, loss)
    assert_grads(grads, {k: ref[k] for k in ("W1", "b1", "W2", "b2")})


# ============================================================================ errors, dout
def test_mismatched_matmul_raises_shape_error():
    program = "def bad(X, W):\n    h = X @ W\n    return np.sum(h)\n"
    g = symdiff.compile(program)
    with pytest.raises(symdiff.ShapeError) as info:
        g(np.zeros((200, 3072)), np.zeros((100, 3072)))
    message = str(info.value)
    assert isinstance(info.value, symdiff.SymdiffError)
    assert "(200, 3072)" in message and "(100, 3072)" in message
    assert "line 2" in message and "X @ W" in message
    assert info.value.line == 2


def test_mismatched_matmul_in_a_function_object():
    def bad(X, W):
        h = X @ W
        return np.sum(h)

    with pytest.raises(symdiff.ShapeError, match=r"\(200, 3072\).*\(100, 3072\)") as info:
        symdiff.compile(bad)(np.zeros((200, 3072)), np.zeros((100, 3072)))
    # The same text compiled above as a string: the function's own file and line all the same.
    line = bad.__code__.co_firstlineno + 1
    assert info.value.line == line and f"test_tensor.py:{line}:13: X @ W" in str(info.value)


def test_dout_gives_the_vector_jacobian_product():
    rng = np.random.default_rng(16)
    X, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    G = rng.standard_normal((5, 3))
    g = symdiff.compile(src("return np.tanh(X @ W + b) * X[:, 0:3]", "X, W, b"))
    t = np.tanh(X @ W + b)
    value = t * X[:, 0:3]
    dz = G * X[:, 0:3] * (1 - t * t)
    dX = dz @ W.T
    dX[:, 0:3] += G * t
    check_all(g, dict(X=X, W=W, b=b), value, {"X": dX, "W": X.T @ dz, "b": dz.sum(axis=0)},
              dout=G)
    # a different upstream gradient gives its own VJP
    G2 = -G
    _, grads = g(X, W, b, dout=G2)
    assert_close(grads["b"], -dz.sum(axis=0))


# ============================================================================ generated module
def test_generated_module_runs_standalone(net, tmp_path):
    g, inputs, value, grads = net
    text = g.source
    tree = ast.parse(text)
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(node, ast.Import) and [a.name for a in node.names] in (["numpy"], ["math"])
               for node in imports)
    (tmp_path / "loss_grad.py").write_text(text)
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = textwrap.dedent("""
        import sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        import loss_grad
        data = np.load(sys.argv[1] + "/inputs.npz")
        value, grads = loss_grad.two_layer_loss(*[data[k] for k in
                                                  ("X", "y", "W1", "b1", "W2", "b2")])
        assert "symdiff" not in sys.modules, "symdiff was imported"
        assert "sympy" not in sys.modules, "sympy was imported"
        np.savez(sys.argv[1] + "/out.npz", value=value, **grads)
    """)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = np.load(tmp_path / "out.npz")
    assert_close(out["value"], value, rtol=1e-13)
    for name, grad in grads.items():
        assert_close(out[name], grad, rtol=1e-13, what=name)


def test_cli_prints_the_backward_program(tmp_path):
    # the same loss as two_layer_loss above, in a file the CLI parses (it never imports it)
    body = inspect.getsource(two_layer_loss).replace("def two_layer_loss(", "def loss(")
    (tmp_path / "model.py").write_text(f"import numpy as np\n\nreg = {reg!r}\n\n\n{body}")
    shapes = "X=200x3072,y=200,W1=3072x100,b1=100,W2=100x10,b2=10"
    result = subprocess.run([sys.executable, "-m", "symdiff", "grad", "model.py:loss",
                             "--wrt", "W1,b1,W2,b2", "--shapes", shapes],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    # the backward pass in matrix notation, one line per step with its shape (cli_arrays.py)
    assert "hᵀ · dscores_1" in text and "Xᵀ · dt2" in text and "[3072×100]" in text
    assert "db1 = Σ₀ dt2" in text and "db2 = Σ₀ dscores_1" in text
    assert "np.eye" not in text and "einsum" not in text
    assert "symdiff compile model.py:loss" in text  # the module is one command away


def test_source_after_a_call_with_dout():
    g = symdiff.compile(src("return a @ b", "a, b"))
    g(np.ones((2, 3)), np.ones((3, 4)), dout=np.ones((2, 4)))
    assert "a[2, 3]" in g.source


# ------------------------------------------------------------------ the max shift of a softmax
SHIFTED = {
    "log_softmax": "def f(s, y):\n    z = s - np.max(s, axis=1, keepdims=True)\n"
                   "    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))\n"
                   "    return -np.sum(lp[np.arange(4), y])\n",
    "softmax": "def f(s, w):\n    z = s - np.max(s, axis=1, keepdims=True)\n"
               "    e = np.exp(z)\n    p = e / np.sum(e, axis=1, keepdims=True)\n"
               "    return np.sum(p * w)\n",
    "logsumexp": "def f(s, w):\n    z = s - np.max(s, axis=1, keepdims=True)\n"
                 "    return np.sum((z - logsumexp(z, axis=1, keepdims=True)) * w)\n",
}


@pytest.mark.parametrize("kind", sorted(SHIFTED))
def test_the_max_shift_of_a_softmax_gets_no_gradient(kind):
    rng = np.random.default_rng(3)
    s = rng.standard_normal((4, 5))
    other = {"y": np.array([0, 4, 2, 2])} if kind == "log_softmax" else \
        {"w": rng.standard_normal((4, 5))}
    g = symdiff.compile(SHIFTED[kind])
    value, grads = g(s, **other)
    assert "_max_mask" not in g.source  # the shift's gradient is exactly zero: not computed
    numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"s": s, **other}, "s")
    np.testing.assert_allclose(grads["s"], numeric, rtol=1e-6, atol=1e-9)
    interpreter = Interpreter(g.graph)
    interpreter.forward(s=s, **other)
    np.testing.assert_allclose(grads["s"], interpreter.backward()["s"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("body", [
    "    z = s - np.max(s, axis=1, keepdims=True)\n    return np.sum(z * z)\n",
    "    m = np.max(s, axis=1, keepdims=True)\n    z = s - m\n"
    "    return np.sum(np.exp(z)) + np.sum(m)\n",
])
def test_a_max_shift_outside_a_softmax_keeps_its_gradient(body):
    s = np.random.default_rng(4).standard_normal((4, 5))
    g = symdiff.compile("def f(s):\n" + body)
    value, grads = g(s)
    assert "_max_mask" in g.source
    numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"s": s}, "s")
    np.testing.assert_allclose(grads["s"], numeric, rtol=1e-6, atol=1e-9)
