"""Generated modules for any size (symbolic sizes): one module, written once, serves every batch
size and hidden size; mismatched calls get a ValueError naming the inputs; the library traces
a program once per rank signature."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symdiff
from symdiff.codegen.sizes import match

TWO_LAYER = '''
def loss(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores = scores - np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    return -np.sum(np.log(p[np.arange(N), y])) / N + 0.1 * np.sum(W1 * W1)
'''

THREE_LAYER_SIGMOID = '''
def loss(X, W1, b1, W2, b2, W3, b3, t):
    h1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    h2 = 1 / (1 + np.exp(-(h1 @ W2 + b2)))
    out = h2 @ W3 + b3
    return np.mean((out - t) ** 2)
'''

SVM = '''
def svm(W, X, y):
    N = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0, scores - correct + 1.0)
    return (np.sum(margins) - N) / N + 0.5 * np.sum(W * W)
'''

SOFTMAX = '''
def softmax_loss(W, X, y):
    scores = X @ W
    scores = scores - np.max(scores, axis=1, keepdims=True)
    logp = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), y])
'''

BATCHNORM = '''
def batchnorm(x, gamma, beta):
    mu = np.mean(x, axis=0)
    var = np.var(x, axis=0)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return np.sum((gamma * xhat + beta) ** 2)
'''

RNN_STEP = '''
def rnn_step(x, h, Wx, Wh, b):
    return np.tanh(x @ Wx + h @ Wh + b)
'''


def _two_layer(rng, N, H, D=5, C=3):
    return {"X": rng.normal(size=(N, D)), "y": rng.integers(0, C, N), "W1": rng.normal(size=(D, H)),
            "b1": rng.normal(size=H), "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}


def _three_layer(rng, N, H, D=4):
    return {"X": rng.normal(size=(N, D)), "W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(H, H + 1)), "b2": rng.normal(size=H + 1),
            "W3": rng.normal(size=(H + 1, 2)), "b3": rng.normal(size=2), "t": rng.normal(size=(N, 2))}


def _svm(rng, N, H, D=6):
    return {"W": rng.normal(size=(D, H)), "X": rng.normal(size=(N, D)), "y": rng.integers(0, H, N)}


def _batchnorm(rng, N, H):
    return {"x": rng.normal(size=(N, H)), "gamma": rng.normal(size=H), "beta": rng.normal(size=H)}


def _rnn(rng, N, H, D=3):
    return {"x": rng.normal(size=(N, D)), "h": rng.normal(size=(N, H)), "Wx": rng.normal(size=(D, H)),
            "Wh": rng.normal(size=(H, H)), "b": rng.normal(size=H)}


CASES = {
    "two_layer": (TWO_LAYER, _two_layer, ["W1", "b1", "W2", "b2"]),
    "three_layer_sigmoid": (THREE_LAYER_SIGMOID, _three_layer, ["W1", "b1", "W2", "b2", "W3", "b3"]),
    "svm": (SVM, _svm, ["W"]),
    "softmax": (SOFTMAX, _svm, ["W"]),
    "batchnorm": (BATCHNORM, _batchnorm, ["x", "gamma", "beta"]),
    "rnn_step": (RNN_STEP, _rnn, ["x", "h", "Wx", "Wh", "b"]),
}

# (batch, hidden) pairs the written module is called with: three batch sizes, two hidden sizes.
SIZES = [(8, 10), (16, 10), (37, 10), (8, 7), (200, 7), (1, 7)]


def _central(fn, inputs: dict, name: str, h=1e-6) -> np.ndarray:
    x = inputs[name]
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (fn(**{**inputs, name: up}) - fn(**{**inputs, name: down})) / (2 * h)
    return grad


@pytest.mark.parametrize("case", list(CASES))
def test_written_module_serves_every_size(case, tmp_path):
    """Compiled once at batch 8, written once; the module, imported in a process with only NumPy,
    gives the library's values and gradients at three batch sizes and two hidden sizes, and
    central differences agree."""
    source, make, wrt = CASES[case]
    rng = np.random.default_rng(0)
    g = symdiff.compile(source, wrt=wrt)
    g(**make(rng, 8, 10))
    g.write(tmp_path / "sized.py")
    calls = [make(rng, n, hidden) for n, hidden in SIZES]
    np.savez(tmp_path / "inputs.npz", **{f"{k}__{name}": v for k, call in enumerate(calls)
                                          for name, v in call.items()})
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import sized
        data = np.load("inputs.npz")
        out = []
        for k in range({len(calls)}):
            args = {{n.split("__")[1]: data[n] for n in data.files if n.startswith(f"{{k}}__")}}
            value, grads = sized.{g.program.name}(**args)
            out.append([np.asarray(value).tolist(), {{n: np.asarray(v).tolist() for n, v in grads.items()}}])
        assert "symdiff" not in sys.modules and "sympy" not in sys.modules
        print(json.dumps(out))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    fresh = symdiff.compile(source, wrt=wrt)
    for call, (value, grads) in zip(calls, results):
        want_value, want = g(**call)
        np.testing.assert_allclose(value, want_value, rtol=1e-12)
        traced_value, traced = fresh(**call)  # traced at these sizes, not generalized
        np.testing.assert_allclose(value, traced_value, rtol=1e-12)
        for name in wrt:
            np.testing.assert_allclose(grads[name], want[name], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(grads[name], traced[name], rtol=1e-10, atol=1e-12)
    small = calls[1]
    value_only = lambda **kw: float(np.sum(g(**kw)[0]))  # noqa: E731 -- grads are of the sum
    for name in wrt:
        np.testing.assert_allclose(g(**small)[1][name], _central(value_only, small, name),
                                   rtol=1e-5, atol=1e-6)
    assert g.traces == 1


def test_the_module_reads_sizes_and_names_them():
    g = symdiff.compile(TWO_LAYER, wrt=["W1"])
    g(**_two_layer(np.random.default_rng(1), 8, 10))
    text = g.source
    assert "X[N, D], y[N], W1[D, H], b1[H], W2[H, C], b2[C]" in text
    assert "N, D, H, C = _sizes(('N', 'D', 'H', 'C')" in text
    assert "np.arange(N)" in text and "np.zeros((N, C))" in text and "t8 / N" in text
    assert "np.arange(8)" not in text and "8.0" not in text
    assert "Sizes: N, D, H, C are read from the inputs" in text


def test_sizes_are_named_from_the_program():
    source = '''
def f(X, W):
    B, F = X.shape
    K = W.shape[1]
    return np.sum(X @ W) / B
'''
    g = symdiff.compile(source)
    g(np.ones((6, 4)), np.ones((4, 3)))
    assert "X[B, F], W[F, K]" in g.source and "/ B" in g.source


def _module(g):
    namespace = {}
    exec(g.source, namespace)  # noqa: S102 -- the module symdiff generated and verified
    return namespace


@pytest.mark.parametrize("change, message", [
    ({"W1": np.ones((6, 10))}, "X has 5 columns but W1 has 6 rows (both are D)"),
    ({"y": np.zeros(9, dtype=int)}, "X has 8 rows but y has 9 entries (both are N)"),
    ({"b1": np.ones(11)}, "W1 has 10 columns but b1 has 11 entries (both are H)"),
    ({"W2": np.ones((10, 3, 1))}, "W2 must have 2 dimension(s), shape [H, C]; got shape (10, 3, 1)"),
    ({"X": np.ones(5)}, "X must have 2 dimension(s), shape [N, D]; got shape (5,)"),
])
def test_mismatched_calls_name_the_inputs(change, message):
    g = symdiff.compile(TWO_LAYER, wrt=["W1"])
    good = _two_layer(np.random.default_rng(2), 8, 10)
    g(**good)
    namespace = _module(g)
    for function in ("loss", "loss_forward"):
        with pytest.raises(ValueError) as info:
            namespace[function](**{**good, **change})
        assert str(info.value) == message


def test_the_library_reports_a_misfit_at_the_source():
    """A call whose sizes do not fit is traced, so the error points at the line that fails."""
    g = symdiff.compile(TWO_LAYER, wrt=["W1"])
    good = _two_layer(np.random.default_rng(2), 8, 10)
    g(**good)
    g(**_two_layer(np.random.default_rng(3), 16, 10))
    with pytest.raises(symdiff.ShapeError, match="not aligned"):
        g(**{**good, "W1": np.ones((6, 10))})


def test_a_training_loop_traces_once():
    g = symdiff.compile(TWO_LAYER.replace("loss", "batch_loss"), wrt=["W1", "b1", "W2", "b2"])
    rng = np.random.default_rng(4)
    data = _two_layer(rng, 1037, 10)
    for start in range(0, 1037, 200):
        batch = {**data, "X": data["X"][start:start + 200], "y": data["y"][start:start + 200]}
        value, grads = g(**batch)
        assert np.isfinite(value)
    assert g.traces == 1
    assert "N, D, H, C = _sizes(" in g.source


def test_layer_api_at_new_sizes():
    g = symdiff.compile(TWO_LAYER, wrt=["W1", "b1", "W2", "b2"])
    rng = np.random.default_rng(5)
    g(**_two_layer(rng, 8, 10))
    g(**_two_layer(rng, 9, 10))
    call = _two_layer(rng, 23, 10)
    out, cache = g.forward(**call)
    grads = g.backward(1.0, cache)
    value, want = g(**call)
    assert out == pytest.approx(value)
    for name in want:
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-12)
    with pytest.raises(symdiff.InputError, match="holds index"):
        g(**{**call, "y": np.full(23, 3)})
    assert g.traces == 1


def test_a_branch_on_a_size_keeps_its_sizes_and_says_so():
    source = '''
def f(x):
    if x.shape[0] > 3:
        return np.sum(x * x)
    return np.sum(x)
'''
    g = symdiff.compile(source)
    g(np.ones(4))
    text = g.source
    assert "Sizes: specialized to x[4]" in text
    namespace = _module(g)
    assert namespace["f"](np.ones(4))[0] == 4.0
    with pytest.raises(ValueError, match="x has 5 entries, but the code was generated for 4"):
        namespace["f"](np.ones(5))
    assert g(np.ones(5))[0] == 5.0  # the library traces the new size
    assert g(np.ones(2))[0] == 2.0 and g.traces == 3


def test_a_rolled_loop_over_a_size_serves_every_size():
    source = '''
def f(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = 0.5 * total + x[i] * x[i]
    return total
'''
    g = symdiff.compile(source)
    g(np.ones(4))
    assert "for i in range(N):" in g.source
    x = np.arange(7.0)
    value, grads = _module(g)["f"](x)
    weights = 0.5 ** np.arange(6, -1, -1)  # x[i] ** 2 is halved at each later step
    assert value == pytest.approx(weights @ x ** 2, rel=1e-15)
    np.testing.assert_allclose(grads["x"], 2 * weights * x, rtol=1e-15)


def test_equal_sizes_that_need_not_be_equal_are_separate_symbols():
    """Traced with batch == hidden == 4 and inputs == classes == 3: the module still serves
    a batch of 7 with 4 hidden units."""
    g = symdiff.compile(TWO_LAYER, wrt=["W1"])
    rng = np.random.default_rng(6)
    g(**_two_layer(rng, 4, 4, D=3, C=3))
    namespace = _module(g)
    call = _two_layer(rng, 7, 4, D=3, C=3)
    fresh = symdiff.compile(TWO_LAYER, wrt=["W1"])
    np.testing.assert_allclose(namespace["loss"](**call)[1]["W1"], fresh(**call)[1]["W1"],
                               rtol=1e-12)
    assert "N, D, H, C = _sizes(('N', 'D', 'H', 'C')" in g.source


def test_shapes_that_must_be_equal_are_one_symbol():
    g = symdiff.compile("def f(x, y):\n    return np.sum(x * y)")
    g(np.ones((3, 4)), np.ones((3, 4)))  # shape-generic: no sizes to read
    g = symdiff.compile("def f(A, B):\n    return np.sum((A @ B) * A)")
    g(np.ones((3, 3)), np.ones((3, 3)))
    assert "A[N, D], B[D, D]" in g.source or "A[N, N], B[N, N]" in g.source
    namespace = _module(g)
    rng = np.random.default_rng(7)
    A, B = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    np.testing.assert_allclose(namespace["f"](A, B)[1]["A"],
                               symdiff.compile("def f(A, B):\n    return np.sum((A @ B) * A)")(A, B)[1]["A"])


@pytest.mark.parametrize("values, text", [
    ((8, 11, 13), "N"), ((0.125, 1 / 11, 1 / 13), "1 / N"), ((40, 11 * 7, 13 * 17), "N * D"),
    ((7, 10, 12), "N - 1"), ((1 / 7, 1 / 10, 1 / 12), "1 / (N - 1)"), ((16, 22, 26), "2 * N"),
    ((0.0125, 0.1 / 11, 0.1 / 13), "0.1 / N")])
def test_size_expressions_are_recognized(values, text):
    table = [(8, 11, 13), (5, 7, 17)]
    assert match(list(values), table, ["N", "D"]).text == text


def test_a_number_that_is_no_size_expression_is_refused():
    assert match([3.0, 4.1, 7.7], [(8, 11, 13)], ["N"]) is None


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(2, 6))
def test_any_batch_and_width_agree_with_a_fresh_trace(n, width, classes):
    g = _compiled_softmax()
    rng = np.random.default_rng(n * 1000 + width)
    call = {"W": rng.normal(size=(width, classes)), "X": rng.normal(size=(n, width)),
            "y": rng.integers(0, classes, n)}
    value, grads = _softmax_module()["softmax_loss"](**call)
    want_value, want = symdiff.compile(SOFTMAX, wrt=["W"])(**call)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(grads["W"], want["W"], rtol=1e-10, atol=1e-13)
    assert g.traces == 1


_STATE = {}


def _compiled_softmax():
    if "g" not in _STATE:
        g = symdiff.compile(SOFTMAX, wrt=["W"])
        g(**_svm(np.random.default_rng(0), 8, 3))
        _STATE["g"], _STATE["module"] = g, _module(g)
    return _STATE["g"]


def _softmax_module():
    _compiled_softmax()
    return _STATE["module"]


def test_a_module_traced_large_serves_small_sizes():
    """Traced at sizes where buffers are reused in place, the module keeps those choices and
    still computes right at a small batch."""
    shapes = {"X": (200, 3072), "y": (200,), "W1": (3072, 100), "b1": (100,), "W2": (100, 10),
              "b2": (10,)}
    g = symdiff.compile(TWO_LAYER.replace("loss", "large_loss"), wrt=["W1", "b1", "W2", "b2"],
                        shapes=shapes)
    text = g.source
    assert "X[N, D]" in text and "+=" in text  # in place, as at the traced sizes
    namespace = _module(g)
    call = _two_layer(np.random.default_rng(8), 5, 4, D=3, C=2)
    fresh = symdiff.compile(TWO_LAYER, wrt=["W1", "b1", "W2", "b2"])
    value, grads = namespace["large_loss"](**call)
    want_value, want = fresh(**call)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    for name in want:
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-10, atol=1e-13)


def test_a_backward_that_reads_nothing_but_sizes():
    """np.mean's backward needs only the batch size: the traced cache is empty (and accepted),
    the sized one carries N and D."""
    g = symdiff.compile("def column_mean(x):\n    return np.mean(x, axis=0)")
    out, cache = g.forward(np.ones((4, 3)))
    assert dict(cache) == {}
    np.testing.assert_array_equal(g.backward(np.ones(3), cache)["x"], np.full((4, 3), 0.25))
    namespace = _module(g)
    out, cache = namespace["column_mean_forward"](np.ones((5, 2)))
    assert set(cache) == {"N", "D"}
    np.testing.assert_array_equal(namespace["column_mean_backward"](np.ones(2), cache)["x"],
                                  np.full((5, 2), 0.2))
