"""Vectorized loops (symdiff/frontend/vectorized.py): a loop whose steps only add up is array code.

Each program is compiled three ways (``loops="vectorize"``, ``"roll"``, ``"unroll"``): the
vectorized one must hold no loop and give the value and gradients of the other two, to rounding
(its sums add in another order), and agree with central differences and closed forms. Random
sums of terms (hypothesis) are vectorized and compared the same way. Loops whose steps depend on
one another stay rolled.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdiff
from symdiff.check import numeric_gradient
from test_rolled import expressions

ROSENBROCK = """def f(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s
"""

PROGRAMS = {
    "Rosenbrock": (ROSENBROCK, lambda rng: (rng.uniform(-1.5, 1.5, 8),)),
    "per-row squared loss": ("""def f(X, w, y):
    loss = 0.0
    for i in range(X.shape[0]):
        loss = loss + (X[i] @ w - y[i]) ** 2
    return loss / X.shape[0]
""", lambda rng: (rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6))),
    "two sums, a minus and the counter": ("""def f(x, c):
    s = 1.0
    t = 0.0
    for i in range(1, 7, 2):
        s -= c * x[i] * i
        t = t + np.tanh(x[i - 1] * x[i + 1]) + c
    return s * t
""", lambda rng: (rng.uniform(-1, 1, 8), 0.7)),
    "a row summed and an array accumulator": ("""def f(X, v):
    g = np.zeros(3)
    total = 0.0
    for i in range(4):
        total = total + np.sum(np.exp(X[i]) * v)
        g = g + X[i] * v
    return total + np.sum(g ** 2)
""", lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=3))),
    "a value bound in the body holds its last step": ("""def f(x):
    s = 0.0
    for i in range(5):
        d = x[i] * 2.0
        s = s + d * d
    return s + d
""", lambda rng: (rng.normal(size=5),)),
    "a branch on the counter and a nested static loop": ("""def f(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(2):
            s = s + X[i, j] * X[i, j + 1]
        if i > 1:
            s = s + np.sin(X[i, 0])
    return s
""", lambda rng: (rng.normal(size=(5, 3)),)),
    "negative indices count from the end": ("""def f(x):
    s = 0.0
    for i in range(1, 4):
        s = s + x[-i] * x[i]
    return s
""", lambda rng: (rng.normal(size=6),)),
}

STAYS_ROLLED = {
    "a recurrence": ("def f(x, y):\n    for i in range(6):\n"
                     "        x = np.sin(x) * y + np.cos(x * y)\n    return x\n", (0.3, 0.7)),
    "a sum of terms reading the sum": ("def f(x):\n    s = 1.0\n    for i in range(4):\n"
                                       "        s = s + s * x[i]\n    return s\n",
                                       (np.array([0.1, 0.2, 0.3, 0.4]),)),
    "a product": ("def f(x):\n    p = 1.0\n    for i in range(4):\n        p = p * x[i]\n"
                  "    return p\n", (np.array([0.5, 1.5, 2.0, -1.0]),)),
    "an index that wraps around": ("def f(x):\n    s = 0.0\n    for i in range(4):\n"
                                   "        s = s + x[i - 1] * x[i]\n    return s\n",
                                   (np.array([0.5, 1.5, 2.0, -1.0]),)),
}


def _three(source):
    return {loops: symdiff.compile(source, loops=loops) for loops in ("vectorize", "roll", "unroll")}


def _has_loop(g) -> bool:
    return any(g.graph[n].op == "loop" for n in range(len(g.graph)))


def _same(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


def _agree(source, args, vectorizes=True, rtol=1e-10):
    """The three forms give the same value and gradients; the vectorized one holds no loop."""
    compiled = _three(source)
    results = {loops: g(*args) for loops, g in compiled.items()}
    if vectorizes is not None:
        assert _has_loop(compiled["vectorize"]) is not vectorizes, compiled["vectorize"].source
    assert not _has_loop(compiled["unroll"])
    value, grads = results["vectorize"]
    for other in ("roll", "unroll"):
        expected, expected_grads = results[other]
        _same(value, expected, rtol)
        assert grads.keys() == expected_grads.keys()
        for name in grads:
            _same(grads[name], expected_grads[name], rtol)
    return compiled["vectorize"], value, grads


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_sums_of_terms_vectorize_to_the_rolled_and_unrolled_gradients(name):
    source, make = PROGRAMS[name]
    args = make(np.random.default_rng(7))
    g, value, grads = _agree(source, args)
    code = g.source.split("def f(")[2].split("def f_forward")[0]
    assert "for i in" not in code and "_tape" not in code
    inputs = {p: a for p, a in zip(g.params, args)}
    for p in g.wrt:
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], inputs, p)
        _same(grads[p], numeric, rtol=1e-6, atol=1e-8)


def test_rosenbrock_loop_is_the_hand_written_vectorized_code():
    g = symdiff.compile(ROSENBROCK)
    x = np.linspace(-1.2, 1.1, 11)
    value, grads = g(x)
    a, b = x[1:] - x[:-1] ** 2, 1.0 - x[:-1]
    assert value == pytest.approx(100.0 * a @ a + b @ b, rel=1e-13)
    closed_form = np.zeros_like(x)
    closed_form[:-1] = -400.0 * x[:-1] * a - 2.0 * b
    closed_form[1:] += 200.0 * a
    _same(grads["x"], closed_form, rtol=1e-13)
    source = g.source
    assert "x[1:]" in source and "x[:-1]" in source and "np.sum(" in source
    assert "_tape" not in source


def test_the_counter_as_a_number_is_an_arange():
    g, value, _ = _agree("def f(x):\n    s = 0.0\n    for i in range(2, 9, 3):\n"
                         "        s = s + i * x[i]\n    return s\n", (np.arange(10.0),))
    assert value == 2 * 2 + 5 * 5 + 8 * 8
    assert "np.arange(2, 9, 3" in g.source and "x[2:9:3]" in g.source
    _, value, _ = _agree("def f(x):\n    s = 0.0\n    for i in range(5):\n"
                         "        s = s + i + x[i]\n    return s\n", (np.ones(5),))
    assert value == 15.0


@pytest.mark.parametrize("name", sorted(STAYS_ROLLED))
def test_steps_that_depend_on_one_another_stay_rolled(name):
    source, args = STAYS_ROLLED[name]
    _agree(source, args, vectorizes=False)


def test_a_hessian_of_a_vectorized_loop():
    """A Hessian's trace vectorizes the loop (it would otherwise unroll it)."""
    x = np.linspace(-1.0, 1.0, 6)
    hess = symdiff.hessian(ROSENBROCK)
    value, grads, h = hess(x)
    expected = np.zeros((6, 6))
    for i in range(5):
        expected[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        expected[i + 1, i + 1] += 200.0
        expected[i, i + 1] = expected[i + 1, i] = -400.0 * x[i]
    _same(h["x"]["x"], expected, rtol=1e-12)
    assert value == pytest.approx(symdiff.compile(ROSENBROCK)(x)[0], rel=1e-14)
    hvp = symdiff.hvp(ROSENBROCK)
    v = np.linspace(0.5, 1.5, 6)
    _same(hvp(x, v={"x": v})[1]["x"], expected @ v, rtol=1e-12)
    assert not _has_loop(hvp), "the Hessian's trace keeps no loop (a loop backward is not differentiated)"


def test_a_vectorized_loop_over_a_size_serves_every_size():
    g = symdiff.compile("def f(x):\n    total = 0.0\n    for i in range(x.shape[0]):\n"
                        "        total = total + x[i] * x[i]\n    return total\n")
    g(np.ones(4))
    assert "N = _sizes(" in g.source
    value, grads = g(np.arange(7.0))
    assert value == 91.0 and g.traces == 1
    np.testing.assert_array_equal(grads["x"], 2 * np.arange(7.0))


# ---------------------------------------------------------------------------- random sums
UNARY = ("np.sin({0})", "np.cos({0})", "np.tanh({0})", "0.5 * ({0})", "({0}) ** 2",
         "np.exp(np.tanh({0}))", "np.abs({0})")
BINARY = ("({0}) + ({1})", "({0}) - ({1})", "({0}) * ({1})", "({0}) / (1 + ({1}) ** 2)",
          "np.maximum({0}, {1})")
LEAVES = ("c", "x[i]", "x[i + 1]", "x[2 * i]", "X[i, 1]", "0.1 * i", "1.5")


@st.composite
def sum_programs(draw):
    steps = draw(st.integers(2, 5))
    first, second = draw(expressions(3, LEAVES, UNARY, BINARY)), draw(expressions(3, LEAVES, UNARY, BINARY))
    update = draw(st.sampled_from(["s = s + {0}", "s -= {0}", "s += {0}\n        t = t - {1}"]))
    body = update.format(first, second)
    source = (f"def f(x, X, c):\n    s = 0.5\n    t = 0.0\n    for i in range({steps}):\n"
              f"        {body}\n    return s * c + t\n")
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    return source, (rng.uniform(-1, 1, 11), rng.uniform(-1, 1, (6, 3)), float(rng.uniform(0.2, 1)))


@settings(max_examples=40, deadline=None)
@given(sum_programs())
def test_random_sums_vectorize_to_the_rolled_and_unrolled_gradients(case):
    source, args = case
    reads_step = any(leaf in source for leaf in LEAVES[1:5])  # indexes: traced with shapes
    # A sum of terms that do not read the step (s = s + c) is traced without shapes, as a
    # rolled loop (shape-generic code does not vectorize); every other sum here vectorizes.
    g, value, grads = _agree(source, args, vectorizes=True if reads_step else None, rtol=1e-9)
    if "maximum" in source or "abs" in source or not reads_step:
        return  # a kink: central differences may straddle it
    inputs = dict(zip(("x", "X", "c"), args))
    for name in inputs:
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], inputs, name)
        _same(grads[name], numeric, rtol=1e-5, atol=1e-7)
