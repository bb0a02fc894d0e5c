"""backend="numba" (symdiff/codegen/native.py): the generated code compiled with numba's njit.

It must give what the NumPy path gives, to rounding: on the recurrence (the float twin's rolled
loop), Rosenbrock as a loop over x[i] (arrays), straight-line formulas, array programs and random
formulas (hypothesis). Code numba refuses runs as NumPy after one warning; without numba the
backend is a clear InputError. Each numba compile takes about a second, so the compiled programs
are shared by module-scoped fixtures.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdiff
from symdiff.codegen import native

pytest.importorskip("numba")

RECURRENCE = ("def rec(x, y):\n    for i in range(200):\n"
              "        x = np.sin(x) * y + np.cos(x * y)\n    return x\n")
ROSENBROCK = ("def rosen(x):\n    s = 0.0\n    for i in range(x.shape[0] - 1):\n"
              "        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2\n"
              "    return s\n")
FORMULAS = [
    "np.exp(x) * np.sin(y) + np.log(x * y)",
    "np.tanh(x) / (1.0 + x ** 2) - np.sqrt(y)",
    "def f(x, y):\n    if x > y:\n        return x * np.cos(y)\n    return np.maximum(x, 0.5) * y\n",
]
ARRAYS = {
    "matrix": ("def net(X, w):\n    return np.sum(np.tanh(X @ w) ** 2)\n",
               (np.linspace(-1, 1, 12).reshape(4, 3), np.array([0.3, -0.2, 0.5]))),
    "rows": ("def rows(X, w):\n    s = 0.0\n    for i in range(X.shape[0]):\n"
             "        s = s + np.sum(np.sin(X[i] * w))\n    return s\n",
             (np.linspace(-1, 1, 12).reshape(4, 3), np.array([0.3, -0.2, 0.5]))),
    "elementwise": ("def ew(x, y):\n    return np.sum(np.exp(-x * x) * y)\n",
                    (np.linspace(-1, 1, 7), np.linspace(0, 2, 7))),
}


def _same(got, expected, rtol=1e-12):
    value, grads = got
    want, want_grads = expected
    np.testing.assert_allclose(value, want, rtol=rtol, atol=1e-300)
    assert grads.keys() == want_grads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], want_grads[name], rtol=rtol, atol=1e-300)
        assert type(grads[name]) is type(want_grads[name]), name


def _ran_native(kernel) -> bool:
    return isinstance(kernel, native.Kernel) and kernel.jitted is not None


@pytest.fixture(scope="module")
def recurrence():
    return symdiff.compile(RECURRENCE, backend="numba")


@pytest.fixture(scope="module")
def rosenbrock():
    return symdiff.compile(ROSENBROCK, backend="numba")


# ------------------------------------------------------------------------------ agreement
def test_the_recurrence_on_floats_runs_natively(recurrence):
    for point in [(0.3, 0.7), (0.3, 0.2), (-1.5, 2.0)]:
        _same(recurrence(*point), symdiff.compile(RECURRENCE)(*point))
    assert _ran_native(recurrence._fast)
    assert recurrence(x=0.3, y=0.7)[0] == recurrence(0.3, 0.7)[0]  # keywords take the same road


def test_the_recurrence_on_an_array_and_a_float(recurrence):
    x = np.linspace(-1, 1, 5)
    _same(recurrence(x, 0.7), symdiff.compile(RECURRENCE)(x, 0.7))
    assert _ran_native(recurrence._last.function)


def test_rosenbrock_as_a_loop_over_its_terms(rosenbrock):
    for n in (6, 50):
        x = np.linspace(-1.2, 1.1, n)
        _same(rosenbrock(x), symdiff.compile(ROSENBROCK)(x), rtol=1e-11)
        assert _ran_native(rosenbrock._last.function)


@pytest.mark.parametrize("source", FORMULAS)
def test_straight_line_formulas(source):
    g, plain = symdiff.compile(source, backend="numba"), symdiff.compile(source)
    for point in [(0.7, 1.3), (1.9, 0.4)]:
        _same(g(*point), plain(*point))
    assert _ran_native(g._fast)
    # A math domain error (log of a negative) gives NumPy's answer, as the NumPy path does.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _same(g(-0.7, 1.3), plain(-0.7, 1.3))


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_array_programs(name):
    source, args = ARRAYS[name]
    g = symdiff.compile(source, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # each compiles: no fallback
        _same(g(*args), symdiff.compile(source)(*args))
    assert _ran_native(g._last.function)


# ------------------------------------------------------------------------------ random formulas
LEAVES = ["x", "y", "0.5", "2.0"]
UNARY = ["np.sin({})", "np.cos({})", "np.tanh({})", "np.exp(-({}) ** 2)", "np.sqrt(1.0 + ({}) ** 2)",
         "np.abs({})"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "({} / (1.5 + np.sin({})))", "np.maximum({}, {})"]


def _expressions(depth: int):
    if depth == 0:
        return st.sampled_from(LEAVES)
    inner = _expressions(depth - 1)
    return st.one_of(inner, st.tuples(st.sampled_from(UNARY), inner).map(lambda p: p[0].format(p[1])),
                     st.tuples(st.sampled_from(BINARY), inner, inner)
                     .map(lambda p: p[0].format(p[1], p[2]) if p[0].count("{}") == 2
                          else p[0].format(p[1], p[2])))


@settings(max_examples=10, deadline=None)
@given(_expressions(3), st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
def test_random_formulas_agree_with_numpy(formula, point):
    source = f"def f(x, y):\n    return {formula}\n"
    g = symdiff.compile(source, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numba compiles every one
        _same(g(*point), symdiff.compile(source)(*point), rtol=1e-10)


# ------------------------------------------------------------------------------ the ways out
def test_code_numba_refuses_runs_as_numpy_after_one_warning():
    # Both inputs arrays: the backward adds an array gradient into 'dy = 0.0', a variable
    # changing type, which numba's typing refuses.
    source = RECURRENCE.replace("rec(", "both(")
    g = symdiff.compile(source, backend="numba")
    x, y = np.linspace(-1, 1, 4), np.linspace(0.2, 0.9, 4)
    with pytest.warns(RuntimeWarning, match="backend='numba' runs the NumPy code instead"):
        got = g(x, y)
    _same(got, symdiff.compile(source)(x, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once
        _same(g(x, y), got)


def test_code_that_cannot_be_rewritten_runs_as_numpy():
    kernel = native.kernel("def f(x):\n    return x\n", "f", lambda x: (x, {}), "f")
    with pytest.warns(RuntimeWarning, match="does not end returning"):
        assert kernel(2.0) == (2.0, {})


def test_without_numba_the_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    with pytest.raises(symdiff.InputError, match=r'pip install "symdiff\[numba\]"'):
        symdiff.compile("x * y + 0.25", backend="numba")
    assert symdiff.compile("x * y + 0.25")(2.0, 3.0)[0] == 6.25  # the NumPy path as ever


def test_unknown_backends_are_named():
    with pytest.raises(symdiff.InputError, match="numba"):
        symdiff.compile("x * y", backend="llvm")
