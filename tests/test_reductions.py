"""Reductions and scans: var/std (ddof), prod, cumsum, cumprod, diff, average, argmax/argmin.

Each program is checked by ``oracle.check_program``: the value against NumPy, gradients (of the
sum and a random vector-Jacobian product) against central differences, the interpreter and JAX in
float64 where installed, over several shapes and every axis variant.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from oracle import check_program

RNG = np.random.default_rng(7)
SHAPES = [(5,), (3, 4), (2, 3, 4)]


def _x(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


def _axis_variants(ndim):
    """None, every axis and its negative spelling, and a tuple of two axes."""
    out = [None] + list(range(ndim)) + [-1]
    if ndim >= 2:
        out += [(0, ndim - 1), (-1, 0)]
    return out


def _kw(axis, keepdims, **extra):
    parts = [] if axis is None else [f"axis={axis!r}"]
    parts += ["keepdims=True"] if keepdims else []
    parts += [f"{k}={v!r}" for k, v in extra.items()]
    return ", ".join(parts)


VAR_CASES = [(fn, shape, axis, keepdims, ddof)
             for fn in ("var", "std") for shape in SHAPES for axis in _axis_variants(len(shape))
             for keepdims, ddof in ((False, 0), (True, 1))] + [
    ("var", (3, 4), 1, False, 1), ("std", (3, 4), None, True, 0), ("var", (6,), 0, False, 2.5)]


@pytest.mark.parametrize("fn, shape, axis, keepdims, ddof", VAR_CASES)
def test_var_std(fn, shape, axis, keepdims, ddof):
    kw = _kw(axis, keepdims, **({"ddof": ddof} if ddof else {}))
    check_program(f"def f(x):\n    return np.{fn}(x{', ' + kw if kw else ''})", {"x": _x(shape)})


@pytest.mark.parametrize("fn", ["var", "std"])
def test_var_std_methods(fn):
    check_program(f"def f(x):\n    return x.{fn}(axis=-1, ddof=1) * 2.0", {"x": _x((3, 4))})


@pytest.mark.parametrize("shape, axis, keepdims", [
    (shape, axis, keepdims) for shape in SHAPES for axis in _axis_variants(len(shape))
    for keepdims in (False, True)])
def test_prod(shape, axis, keepdims):
    kw = _kw(axis, keepdims)
    check_program(f"def f(x):\n    return np.prod(x{', ' + kw if kw else ''})",
                  {"x": _x(shape, 0.5, 1.5)})


def test_prod_method_and_sign():
    check_program("def f(x):\n    return x.prod(axis=0) * 3.0", {"x": _x((3, 4))})


@pytest.mark.parametrize("zeros", [[1], [1, 3]])
def test_prod_gradient_is_exact_with_zeros(zeros):
    """The product of the others, never prod / x: a zero gives the exact partials."""
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    x[[i for i in range(5) if i not in zeros and i in (1, 3)]] = 1.5
    value, grads = symdiff.compile("def f(x):\n    return np.prod(x)")(x)
    expected = np.array([np.prod(np.delete(x, i)) for i in range(5)])
    np.testing.assert_allclose(grads["x"], expected)
    assert np.all(np.isfinite(grads["x"]))


@pytest.mark.parametrize("fn", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape, axis", [(shape, axis) for shape in SHAPES
                                         for axis in [None] + list(range(len(shape))) + [-1]])
def test_scans(fn, shape, axis):
    kw = "" if axis is None else f", axis={axis}"
    low = 0.5 if fn == "cumprod" else -2.0
    check_program(f"def f(x):\n    return np.{fn}(x{kw})", {"x": _x(shape, low, 1.5)})


@pytest.mark.parametrize("fn", ["cumsum", "cumprod"])
def test_scan_methods(fn):
    check_program(f"def f(x):\n    return x.{fn}(axis=1) * x", {"x": _x((3, 4), 0.5, 1.5)})


def test_cumprod_gradient_is_exact_with_zeros():
    x = np.array([[2.0, 0.0, 3.0, 0.5], [1.0, 2.0, 0.0, 0.0]])
    _, grads = symdiff.compile("def f(x):\n    return np.cumprod(x, axis=1)")(x)
    expected = np.zeros_like(x)
    for r in range(2):
        for i in range(4):
            expected[r, i] = sum(np.prod(np.delete(x[r, :j + 1], i)) for j in range(i, 4))
    np.testing.assert_allclose(grads["x"], expected)


def test_cumsum_backward_is_a_reversed_cumsum():
    g = symdiff.compile("def f(x):\n    return np.cumsum(x, axis=0)")
    g(np.ones((3, 2)))
    assert "np.flip(np.cumsum(np.flip(" in g.source


@pytest.mark.parametrize("shape, n, axis", [
    ((6,), 1, -1), ((6,), 2, 0), ((6,), 3, -1), ((3, 5), 1, 0), ((3, 5), 2, 1), ((3, 5), 1, -2),
    ((2, 3, 4), 1, 1), ((2, 3, 4), 2, -1), ((3, 4), 0, 0)])
def test_diff(shape, n, axis):
    check_program(f"def f(x):\n    return np.diff(x, n={n}, axis={axis})", {"x": _x(shape)})


def test_diff_default_and_second_order():
    check_program("def f(x):\n    return np.diff(x) * np.diff(x)", {"x": _x((4, 5))})
    h = symdiff.hessian("def f(x):\n    return np.sum(np.diff(x) ** 2)")
    _, _, hess = h(np.arange(4.0))
    d = np.diff(np.eye(4), axis=0)
    np.testing.assert_allclose(hess["x"]["x"], 2 * d.T @ d)


@pytest.mark.parametrize("shape, axis, keepdims", [
    ((5,), None, False), ((5,), 0, True), ((3, 4), None, False), ((3, 4), 1, False),
    ((3, 4), -2, True), ((2, 3, 4), (0, 2), False), ((2, 3, 4), 1, True)])
def test_average_without_weights_is_the_mean(shape, axis, keepdims):
    kw = _kw(axis, keepdims)
    check_program(f"def f(x):\n    return np.average(x{', ' + kw if kw else ''})", {"x": _x(shape)})


@pytest.mark.parametrize("shape, wshape, axis", [
    ((5,), (5,), None), ((3, 4), (3, 4), None), ((3, 4), (3, 4), 1), ((3, 4), (4,), 1),
    ((3, 4), (3,), 0), ((2, 3, 4), (3,), -2), ((2, 3, 4), (2, 3, 4), (0, 2))])
def test_average_with_weights(shape, wshape, axis):
    kw = "" if axis is None else f", axis={axis!r}"
    check_program(f"def f(x, w):\n    return np.average(x, weights=w{kw})",
                  {"x": _x(shape), "w": _x(wshape, 0.5, 2.0)})


def test_average_returned():
    src = "def f(x, w):\n    a, s = np.average(x, axis=1, weights=w, returned=True)\n    return a * s"
    check_program(src, {"x": _x((3, 4)), "w": _x((4,), 0.5, 2.0)})


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, False), (-1, True)])
def test_argmax_is_an_integer_without_gradient(fn, axis, keepdims):
    """Used in a comparison (a mask on the values) and in a reduction (a count)."""
    kw = _kw(axis, keepdims)
    src = (f"def f(x):\n    k = np.{fn}(x{', ' + kw if kw else ''})\n"
           f"    return x * (k == 1) + np.sum(k * 1.0) * x")
    check_program(src, {"x": _x((4, 4))})
    g = symdiff.compile(src)
    g(_x((4, 4)))
    assert f"np.{fn}(x" in g.source


def test_argmax_method_counts_matches():
    src = "def f(s, y):\n    hits = np.sum(s.argmax(axis=1) == y)\n    return np.sum(s * s) * hits"
    s = _x((6, 3))
    y = np.argmax(s, axis=1).astype(float)
    y[0] = (y[0] + 1) % 3
    value, grads = symdiff.compile(src, wrt=["s"])(s, y)
    np.testing.assert_allclose(value, np.sum(s * s) * 5)
    np.testing.assert_allclose(grads["s"], 2 * s * 5)


def test_argmax_in_float32_stays_out_of_float_buffers():
    src = "def f(x):\n    k = np.argmax(x, axis=1)\n    return np.exp(x) * (k + k)[:, None]"
    x = RNG.uniform(-1, 1, (300, 200)).astype(np.float32)
    value, grads = symdiff.compile(src)(x)
    k = np.argmax(x, axis=1)
    np.testing.assert_allclose(value, np.exp(x) * (2 * k)[:, None], rtol=1e-5)


@pytest.mark.parametrize("src, message", [
    ("def f(x):\n    return np.var(x, axis=5)", "out of range"),
    ("def f(x):\n    return np.cumsum(x, dtype=1)", "dtype"),
    ("def f(x):\n    return np.diff(x, prepend=0.0)", "prepend"),
    ("def f(x):\n    return np.diff(x, n=-1)", "non-negative"),
    ("def f(x, w):\n    return np.average(x, weights=w)", "do not fit"),
    ("def f(x):\n    return np.argmax(x, axis=(0, 1))", "integer"),
])
def test_errors_are_clear(src, message):
    args = {"x": np.ones((3, 4))}
    if "w" in src:
        args["w"] = np.ones(5)
    with pytest.raises(symdiff.SymdiffError, match=message):
        symdiff.compile(src)(**args)


@pytest.mark.parametrize("src", ["def f(x):\n    return np.sum(np.prod(x, axis=0))",
                                 "def f(x):\n    return np.sum(np.cumprod(x, axis=0))"])
def test_second_derivative_of_prod_is_refused_not_zero(src):
    with pytest.raises(symdiff.SymdiffError, match="second derivatives"):
        symdiff.hessian(src)(np.ones((2, 2)) + 0.5)


def test_var_second_derivative():
    h = symdiff.hessian("def f(x):\n    return np.var(x, ddof=1)")
    x = _x((4,))
    _, _, hess = h(x)
    expected = 2 * (np.eye(4) - 1 / 4) / 3
    np.testing.assert_allclose(hess["x"]["x"], expected, atol=1e-12)


@pytest.mark.parametrize("src", [
    "def f(x):\n    return np.sum(np.cumsum(x, axis=1))",
    "def f(x):\n    return np.sum(np.var(x, axis=0))",
    "def f(x):\n    return np.sum(np.diff(x))",
])
def test_array_api_refuses_non_standard_spellings_at_compile_time(src):
    g = symdiff.compile(src, backend="array_api")
    with pytest.raises(symdiff.SymdiffError, match="array_api"):
        g(np.ones((3, 4)))


def test_array_api_prints_standard_reductions():
    src = "def f(x):\n    return np.sum(x * (np.argmax(x, axis=1) == 1)[:, None]) + np.sum(np.tril(x))"
    x = _x((3, 4))
    value, grads = symdiff.compile(src, backend="array_api")(x)
    expected_mask = (np.argmax(x, axis=1) == 1)[:, None] + np.tril(np.ones((3, 4)))
    np.testing.assert_allclose(grads["x"], expected_mask)
