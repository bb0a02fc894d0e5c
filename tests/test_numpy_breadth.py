"""The NumPy functions the gradient corpus (benchmarks/corpus_autograd.py) found missing, each
against NumPy's value, central differences, the interpreter and JAX where installed, across the
variants NumPy's own signature has (axes, modes, sizes in either order)."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from oracle import check_program

pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
RNG = np.random.default_rng(12)


def normal(*shape):
    x = RNG.standard_normal(shape)
    return np.where(np.abs(x) < 0.05, 0.3, x)


def distinct(*shape):
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.3 - 0.15 * n + RNG.uniform(-0.05, 0.05, n)).reshape(shape)


def program(body: str, *names: str) -> str:
    return f"def f({', '.join(names)}):\n    return {body}\n"


CASES = [
    # positions: argsort, take, take_along_axis, known masks and their positions
    ("x[np.argsort(x)] * np.arange(5.0)", {"x": distinct(5)}),
    ("x[x.argsort()[::-1]]", {"x": distinct(4)}),
    ("np.argsort(x, axis=0).astype(np.float64) * 0.0 + x", {"x": distinct(3, 2)}),
    ("np.take_along_axis(x, np.argsort(x, axis=1), axis=1) * np.arange(3.0)", {"x": distinct(2, 3)}),
    ("np.take_along_axis(x, np.argsort(y, axis=0), axis=0)", {"x": normal(3, 2), "y": distinct(3, 2)}),
    ("np.take_along_axis(x, np.array([[0], [2]]), axis=1)", {"x": normal(2, 3)}),
    ("np.take_along_axis(x, np.array([[1, 1, 0]]), axis=0)", {"x": normal(2, 3)}),
    ("np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), axis=1)", {"x": distinct(3, 4)}),
    ("np.take(x, [0, 2, 2])", {"x": normal(3)}),
    ("np.take(x, [-1, 0], axis=0)", {"x": normal(3, 2)}),
    ("np.take(x, 1, axis=1)", {"x": normal(2, 3)}),
    ("np.take(x, [[0, 1], [3, 3]])", {"x": normal(2, 2)}),
    ("x.take([2, 1])", {"x": normal(4)}),
    ("x[np.array([True, False, True])]", {"x": normal(3)}),
    ("x[np.arange(4) > 1]", {"x": normal(4, 2)}),
    ("x[np.nonzero(np.array([1.0, 0.0, 2.0]))]", {"x": normal(3)}),
    ("x[np.where(np.arange(6).reshape(2, 3) % 2 == 0)]", {"x": normal(2, 3)}),
    ("x[np.flatnonzero(np.array([0, 1, 1]))]", {"x": normal(3)}),
    ("np.sum(x[np.nonzero(x > 0)])", {"x": normal(6)}),
    ("np.sum(x[np.where(x > 0.2)[0]] ** 2)", {"x": normal(5)}),
    ("x[np.searchsorted(np.array([0.0, 1.0, 2.0]), 1.5)]", {"x": normal(4)}),
    ("x[np.searchsorted([0.0, 1.0, 2.0], [0.5, 2.0], side='right')]", {"x": normal(4)}),
    ("x[np.unravel_index(4, (2, 3))]", {"x": normal(2, 3)}),
    ("np.select([x < -0.5, x > 0.5], [x ** 2, x * 3.0], default=x)", {"x": normal(8)}),
    ("np.select([x > 0], [np.sin(x)])", {"x": normal(5)}),
    # ufunc methods
    ("np.add.reduce(x, axis=1)", {"x": normal(2, 3)}),
    ("np.multiply.reduce(x)", {"x": normal(3, 2)}),
    ("np.maximum.reduce(x, axis=0)", {"x": distinct(3, 2)}),
    ("np.logaddexp.reduce(x)", {"x": normal(4)}),
    ("np.add.accumulate(x)", {"x": normal(4)}),
    ("np.multiply.accumulate(x, axis=1)", {"x": normal(2, 3)}),
    ("np.subtract.outer(x, y)", {"x": normal(3), "y": normal(2)}),
    ("np.multiply.outer(x, y)", {"x": normal(2, 2), "y": normal(3)}),
    # pad modes
    ("np.pad(x, 1, mode='edge')", {"x": normal(3)}),
    ("np.pad(x, ((1, 2), (0, 3)), mode='reflect')", {"x": normal(3, 2)}),
    ("np.pad(x, (4, 5), mode='reflect')", {"x": normal(3)}),
    ("np.pad(x, (2, 3), mode='symmetric')", {"x": normal(2, 2)}),
    ("np.pad(x, 5, mode='wrap')", {"x": normal(3)}),
    ("np.pad(x, ((1,), (2,)))", {"x": normal(2, 2)}),
    ("np.pad(x, ((1,),), constant_values=2.0)", {"x": normal(2, 2)}),
    # compositions
    ("np.round(x, 2) + x * np.round(x, -1)", {"x": normal(4) * 30}),
    ("x.round(1) * x", {"x": normal(3)}),
    ("np.around(x) + x", {"x": normal(3)}),
    ("np.ldexp(x, 3) + np.ldexp(x, -2)", {"x": normal(3)}),
    ("np.ptp(x)", {"x": distinct(2, 3)}),
    ("np.ptp(x, axis=0, keepdims=True)", {"x": distinct(3, 2)}),
    ("np.nansum(x, axis=1)", {"x": normal(2, 3)}),
    ("np.nanmean(x)", {"x": normal(4)}),
    ("np.nanmean(x, axis=0, keepdims=True)", {"x": normal(3, 2)}),
    ("np.diagflat(x)", {"x": normal(2, 2)}),
    ("np.diagflat(x, k=-1)", {"x": normal(3)}),
    ("np.append(x, y)", {"x": normal(2, 2), "y": normal(3)}),
    ("np.append(x, y, axis=0)", {"x": normal(2, 2), "y": normal(1, 2)}),
    ("np.cross(x, y)", {"x": normal(3), "y": normal(3)}),
    ("np.cross(x, y)", {"x": normal(2, 3), "y": normal(3)}),
    ("np.cross(x, y)", {"x": normal(4, 2), "y": normal(4, 2)}),
    ("np.linalg.matrix_power(x, 0) + x", {"x": normal(2, 2)}),
    ("np.linalg.matrix_power(x, 2)", {"x": normal(3, 3)}),
    ("np.linalg.matrix_power(x, 5)", {"x": normal(2, 2) * 0.5}),
    ("np.linalg.matrix_power(x, 6)", {"x": normal(2, 2, 2) * 0.5}),
    ("np.linalg.matrix_power(x, -2)", {"x": normal(2, 2) * 0.3 + 2 * np.eye(2)}),
    ("np.tri(3, 4, k=1) * x", {"x": normal(3, 4)}),
    ("np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]", {"x": normal(3), "y": normal(2)}),
    ("np.meshgrid(x, y, indexing='ij')[1] + np.meshgrid(x, y, indexing='ij')[0] ** 2",
     {"x": normal(3), "y": normal(2)}),
    ("np.meshgrid(x, y, x, sparse=True)[2]", {"x": normal(3), "y": normal(2)}),
    ("np.polyval(x, y)", {"x": normal(3), "y": normal(4)}),
    ("np.polyval([2.0, -1.0, 0.5], y)", {"y": normal(2, 2)}),
    ("np.polyval(x, 0.7)", {"x": normal(4)}),
    ("np.trapezoid(x)", {"x": normal(5)}),
    ("np.trapezoid(x, dx=0.5, axis=0)", {"x": normal(3, 2)}),
    ("np.trapezoid(x, y)", {"x": normal(2, 4), "y": normal(4)}),
    ("np.trapezoid(x, y, axis=0)", {"x": normal(3, 2), "y": normal(3, 2)}),
    ("np.cov(x)", {"x": normal(2, 4)}),
    ("np.cov(x, rowvar=False, ddof=0)", {"x": normal(4, 3)}),
    ("np.cov(x, bias=True)", {"x": normal(5)}),
    ("np.cov(x, y)", {"x": normal(5), "y": normal(5)}),
    ("np.corrcoef(x)", {"x": normal(3, 5)}),
    ("np.corrcoef(x, y)[0, 1]", {"x": normal(4), "y": normal(4)}),
    ("np.gradient(x)", {"x": normal(5)}),
    ("np.gradient(x, 0.5)", {"x": normal(2)}),
    ("np.gradient(x)[0] * np.gradient(x)[1]", {"x": normal(3, 4)}),
    ("np.gradient(x, 2.0, axis=1)", {"x": normal(3, 4)}),
    ("np.interp(np.array([0.5, 1.5, -1.0, 3.0]), np.arange(3.0), x)", {"x": normal(3)}),
    ("np.interp(0.25, [0.0, 1.0], x)", {"x": normal(2)}),
    ("np.interp([[0.5], [2.5]], [0.0, 1.0, 2.0], x, left=-1.0, right=3.0)", {"x": normal(3)}),
]

SIZES = ((5, 3), (3, 5), (4, 4), (1, 3), (4, 1), (2, 5), (2, 4), (4, 6), (6, 4))
SIGNALS = [(n, m, mode, fn) for n, m in SIZES
           for mode in ("full", "same", "valid") for fn in ("convolve", "correlate")]


@pytest.mark.parametrize("body, args", CASES, ids=[c[0][:60] for c in CASES])
def test_function(body, args):
    check_program(program(body, *args), args)


@pytest.mark.parametrize("n, m, mode, fn", SIGNALS)
def test_convolve_and_correlate(n, m, mode, fn):
    args = {"a": normal(n), "v": normal(m)}
    check_program(program(f"np.{fn}(a, v, mode='{mode}')", "a", "v"), args)


@pytest.mark.parametrize("body, words", [
    ("x[np.nonzero(x > 0)[0]]", "x[np.nonzero(m)] is x[m]"),
    ("np.nonzero(x > 0)[0] * 1.0", "neither a number nor an array"),
    ("x[np.argwhere(x > 0)]", "known only when the program runs"),
    ("np.searchsorted(x, 0.5)", "known while tracing"),
    ("np.interp(x, [0.0, 1.0], [1.0, 2.0])", "with respect to fp"),
    ("np.pad(x, 1, mode='mean')", "supports the modes"),
    ("np.cross(x, x)", "2 or 3 components"),
    ("np.convolve(x, x, mode='middle')", "mode 'full', 'same' or 'valid'"),
    ("np.take(x, [0], mode='clip')", "mode='raise'"),
])
def test_clear_refusals(body, words):
    """What cannot be differentiated (or has a data-dependent size) is a clear error."""
    with pytest.raises(symdiff.SymdiffError, match=words.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)").replace("]", r"\]").replace(".", r"\.")):
        g = symdiff.compile(program(body, "x"))
        g(x=normal(2, 2) if "nonzero(x > 0)[0]" in body else normal(4))
