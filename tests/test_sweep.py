"""The whole table of calls, and the whole registry, swept: every name a program may call
(``frontend.calls.CALLS``) runs at random points of its domain against NumPy's value, central
differences, the node-by-node interpreter and (where installed) JAX, through ``oracle.check_program``.

* Elementwise entries and comparisons need nothing here: their programs are made from the entry
  (its spellings, its arity, its test domain from ``test_ops.domain``).
* Every other handler needs one line in :data:`EXAMPLES` (a program body and its inputs); the
  sweep fails, naming it, until the line is there.
* Every registry entry must be reached by the forward or backward graph of some program of the
  sweep (structural ops, the ops only backward passes build, scatters...), so a new entry is tested
  the moment a handler uses it.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import symdiff
from oracle import central_vjp, check_program, run_with
from symdiff.frontend.trace import CALLS
from symdiff.ops import OPS
from test_ops import REFERENCE, central_difference, domain

pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
ELEMENTWISE = ("elementwise", "compare", "alias")


# ============================================================================ inputs
def N(*shape):
    return ("normal", shape)


def P(*shape):
    return ("positive", shape)


def D(*shape):
    return ("distinct", shape)


def W(*shape):
    return ("wellcond", shape)


def S(*shape):
    return ("spd", shape)


def I(lo, hi, *shape):  # noqa: E743
    return ("int", shape, lo, hi)


def draw(spec, rng):
    kind, shape = spec[0], spec[1]
    if kind == "normal":
        x = rng.standard_normal(shape)
        return np.where(np.abs(x) < 0.05, 0.3, x)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    if kind == "wellcond":
        return rng.standard_normal(shape) * 0.3 + 2.0 * np.eye(shape[-1])
    if kind == "spd":
        a = rng.standard_normal(shape)
        return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    return rng.integers(spec[2], spec[3], size=shape)


# ============================================================================ the handlers' examples
# One program per handler that is not an elementwise entry: (body of f, inputs). A body that is
# not a def is the returned expression.
EXAMPLES = {
    "builtin.enumerate": ("def f(x):\n    s = 0.0\n    for i, v in enumerate(x):\n"
                          "        s = s + i * v\n    return s\n", {"x": N(3)}),
    "builtin.float": ("x * float(2)", {"x": N(3)}),
    "builtin.int": ("x * int(len(x))", {"x": N(3)}),
    "builtin.len": ("x * len(x)", {"x": N(3)}),
    "builtin.list": ("def f(x):\n    rows = list(x)\n    return rows[0] * rows[1]\n", {"x": N(2, 3)}),
    "builtin.log_softmax": ("log_softmax(x, axis=1)", {"x": N(2, 3)}),
    "builtin.logsumexp": ("logsumexp(x, axis=0)", {"x": N(3, 2)}),
    "builtin.range": ("def f(x):\n    s = x[0]\n    for i in range(1, 4):\n"
                      "        s = np.sin(s) * x[i]\n    return s\n", {"x": N(4)}),
    "builtin.reversed": ("def f(x):\n    s = 0.0\n    for v in reversed(x):\n"
                         "        s = s * 0.5 + v\n    return s\n", {"x": N(3)}),
    "builtin.softmax": ("softmax(x)", {"x": N(2, 3)}),
    "builtin.sum": ("sum(x) * sum([x[0], x[1]])", {"x": N(3)}),
    "builtin.tuple": ("def f(x):\n    a, b = tuple(x)\n    return a * b\n", {"x": N(2)}),
    "builtin.zip": ("def f(x, y):\n    s = 0.0\n    for a, b in zip(x, y):\n"
                    "        s = s + a * b\n    return s\n", {"x": N(3), "y": N(3)}),
    "method.amax": ("np.amax(x, axis=1)", {"x": D(2, 3)}),
    "method.amin": ("np.amin(x)", {"x": D(2, 3)}),
    "method.argmax": ("x[x.argmax()]", {"x": D(4)}),
    "method.argmin": ("x[np.arange(2), x.argmin(axis=1)]", {"x": D(2, 3)}),
    "method.argsort": ("x[x.argsort()] * np.arange(4.0)", {"x": D(4)}),
    "method.astype": ("x.astype(np.float64) * x", {"x": N(3)}),
    "method.clip": ("x.clip(-0.5, 0.5)", {"x": D(5)}),
    "method.copy": ("x.copy() * 2", {"x": N(3)}),
    "method.cumprod": ("x.cumprod()", {"x": N(4)}),
    "method.cumsum": ("x.cumsum(axis=0)", {"x": N(3, 2)}),
    "method.diagonal": ("x.diagonal()", {"x": N(3, 3)}),
    "method.dot": ("x.dot(y)", {"x": N(2, 3), "y": N(3)}),
    "method.flatten": ("x.flatten()", {"x": N(2, 3)}),
    "method.max": ("x.max(axis=0)", {"x": D(3, 2)}),
    "method.mean": ("x.mean(axis=-1, keepdims=True)", {"x": N(2, 3)}),
    "method.min": ("x.min()", {"x": D(4)}),
    "method.nonzero": ("x[np.array([0.0, 1.0, 2.0]).nonzero()]", {"x": N(3)}),
    "method.prod": ("x.prod(axis=1)", {"x": N(2, 3)}),
    "method.ravel": ("x.ravel()", {"x": N(2, 2)}),
    "method.repeat": ("x.repeat(2, axis=1)", {"x": N(2, 2)}),
    "method.reshape": ("x.reshape(3, 2)", {"x": N(2, 3)}),
    "method.sort": None,  # x.sort() sorts in place: a clear error (tests/test_shape_ops.py)
    "method.squeeze": ("x.squeeze()", {"x": N(1, 3)}),
    "method.std": ("x.std(ddof=1)", {"x": N(4)}),
    "method.sum": ("x.sum(axis=(0, 1))", {"x": N(2, 2, 2)}),
    "method.swapaxes": ("x.swapaxes(0, 1)", {"x": N(2, 3)}),
    "method.take": ("x.take([1, 1, 0])", {"x": N(2)}),
    "method.trace": ("x.trace()", {"x": N(3, 3)}),
    "method.transpose": ("x.transpose(2, 0, 1)", {"x": N(2, 3, 2)}),
    "method.var": ("x.var(axis=0)", {"x": N(3, 2)}),
    "numpy.add.accumulate": ("np.add.accumulate(x, axis=1)", {"x": N(2, 3)}),
    "numpy.add.outer": ("np.add.outer(x, y)", {"x": N(2), "y": N(3)}),
    "numpy.add.reduce": ("np.add.reduce(x)", {"x": N(3, 2)}),
    "numpy.amax": ("np.amax(x)", {"x": D(5)}),
    "numpy.amin": ("np.amin(x, axis=0)", {"x": D(3, 2)}),
    "numpy.append": ("np.append(x, y)", {"x": N(2), "y": N(2, 2)}),
    "numpy.arange": ("np.arange(1.0, 2.0, 0.25) * x", {"x": N(4)}),
    "numpy.arctan2.outer": ("np.arctan2.outer(x, y)", {"x": N(2), "y": P(3)}),
    "numpy.argmax": ("x[np.argmax(x, axis=0), np.arange(2)]", {"x": D(3, 2)}),
    "numpy.argmin": ("x[np.argmin(x)]", {"x": D(4)}),
    "numpy.argsort": ("np.take_along_axis(x, np.argsort(x, axis=0), axis=0)", {"x": D(3, 2)}),
    "numpy.argwhere": ("x[np.argwhere(np.array([0.0, 1.0, 1.0]))[:, 0]]", {"x": N(3)}),
    "numpy.array": ("np.array([x[0], x[1] * 2.0])", {"x": N(2)}),
    "numpy.array_split": ("np.array_split(x, 2)[1]", {"x": N(5)}),
    "numpy.asanyarray": ("np.asanyarray(x) * 2", {"x": N(2)}),
    "numpy.asarray": ("np.asarray([x, x]) * 2", {"x": N(2)}),
    "numpy.astype": ("np.astype(x, np.float64) * x", {"x": N(3)}),
    "numpy.atleast_1d": ("np.atleast_1d(x)", {"x": N()}),
    "numpy.atleast_2d": ("np.atleast_2d(x)", {"x": N(3)}),
    "numpy.atleast_3d": ("np.atleast_3d(x)", {"x": N(2, 2)}),
    "numpy.average": ("np.average(x, axis=1, weights=y)", {"x": N(2, 3), "y": P(3)}),
    "numpy.broadcast_to": ("np.broadcast_to(x, (2, 3))", {"x": N(3)}),
    "numpy.clip": ("np.clip(x, -0.5, y)", {"x": D(4), "y": P(4)}),
    "numpy.column_stack": ("np.column_stack([x, y])", {"x": N(3), "y": N(3, 2)}),
    "numpy.concat": ("np.concat([x, y], axis=1)", {"x": N(2, 1), "y": N(2, 2)}),
    "numpy.concatenate": ("np.concatenate([x, y])", {"x": N(2), "y": N(3)}),
    "numpy.convolve": ("np.convolve(x, y, mode='same')", {"x": N(5), "y": N(2)}),
    "numpy.copy": ("np.copy(x) * x", {"x": N(3)}),
    "numpy.corrcoef": ("np.corrcoef(x)", {"x": N(2, 5)}),
    "numpy.correlate": ("np.correlate(x, y, mode='full')", {"x": N(3), "y": N(4)}),
    "numpy.cov": ("np.cov(x, rowvar=False)", {"x": N(5, 2)}),
    "numpy.cross": ("np.cross(x, y)", {"x": N(2, 3), "y": N(2, 3)}),
    "numpy.cumprod": ("np.cumprod(x, axis=1)", {"x": N(2, 3)}),
    "numpy.cumsum": ("np.cumsum(x)", {"x": N(2, 2)}),
    "numpy.diag": ("np.diag(x, k=1)", {"x": N(2)}),
    "numpy.diagflat": ("np.diagflat(x)", {"x": N(2, 2)}),
    "numpy.diagonal": ("np.diagonal(x, offset=1)", {"x": N(3, 3)}),
    "numpy.diff": ("np.diff(x, axis=0)", {"x": N(3, 2)}),
    "numpy.divide.outer": ("np.divide.outer(x, y)", {"x": N(2), "y": P(2)}),
    "numpy.dot": ("np.dot(x, y)", {"x": N(2, 3), "y": N(2, 3, 2)}),
    "numpy.dsplit": ("np.dsplit(x, 2)[0]", {"x": N(1, 2, 4)}),
    "numpy.dstack": ("np.dstack([x, y])", {"x": N(2), "y": N(2)}),
    "numpy.einsum": ("np.einsum('ij,jk->ki', x, y)", {"x": N(2, 3), "y": N(3, 2)}),
    "numpy.empty": ("np.empty(3) * 0.0 + x", {"x": N(3)}),
    "numpy.empty_like": ("np.empty_like(x) * 0.0 + x", {"x": N(3)}),
    "numpy.expand_dims": ("np.expand_dims(x, -1)", {"x": N(3)}),
    "numpy.eye": ("np.eye(2, 3, k=1) * x", {"x": N(2, 3)}),
    "numpy.flatnonzero": ("x[np.flatnonzero(np.array([[0.0, 1.0], [1.0, 0.0]]))]", {"x": N(4)}),
    "numpy.flip": ("np.flip(x, axis=(0, 1))", {"x": N(2, 3)}),
    "numpy.fliplr": ("np.fliplr(x)", {"x": N(2, 2)}),
    "numpy.flipud": ("np.flipud(x)", {"x": N(3)}),
    "numpy.full": ("np.full((2, 2), x)", {"x": N(2)}),
    "numpy.full_like": ("np.full_like(x, 2.0) * x", {"x": N(3)}),
    "numpy.gradient": ("np.gradient(x, 0.5)", {"x": N(4)}),
    "numpy.hsplit": ("np.hsplit(x, 2)[1]", {"x": N(2, 4)}),
    "numpy.hstack": ("np.hstack([x, y])", {"x": N(2, 1), "y": N(2, 2)}),
    "numpy.hypot.outer": ("np.hypot.outer(x, y)", {"x": N(2), "y": N(2)}),
    "numpy.identity": ("np.identity(3) @ x", {"x": N(3)}),
    "numpy.inner": ("np.inner(x, y)", {"x": N(2, 3), "y": N(3)}),
    "numpy.interp": ("np.interp([0.3, 1.7], [0.0, 1.0, 2.0], x)", {"x": N(3)}),
    "numpy.kron": ("np.kron(x, y)", {"x": N(2, 2), "y": N(2)}),
    "numpy.ldexp": ("np.ldexp(x, 2)", {"x": N(3)}),
    "numpy.linalg.cholesky": ("np.linalg.cholesky(0.5 * (x + x.T))", {"x": S(3, 3)}),
    "numpy.linalg.det": ("np.linalg.det(x)", {"x": W(2, 3, 3)}),
    "numpy.linalg.eigh": ("np.linalg.eigh(0.5 * (x + x.T))[1] ** 2", {"x": S(3, 3)}),
    "numpy.linalg.eigvalsh": ("np.linalg.eigvalsh(0.5 * (x + np.swapaxes(x, -1, -2)))", {"x": S(2, 3, 3)}),
    "numpy.linalg.inv": ("np.linalg.inv(x)", {"x": W(3, 3)}),
    "numpy.linalg.matrix_power": ("np.linalg.matrix_power(x, 4)", {"x": W(2, 2)}),
    "numpy.linalg.norm": ("np.linalg.norm(x, axis=1)", {"x": N(3, 2)}),
    "numpy.linalg.pinv": ("np.linalg.pinv(x)", {"x": N(2, 3)}),
    "numpy.linalg.slogdet": ("np.linalg.slogdet(x)[1]", {"x": W(3, 3)}),
    "numpy.linalg.solve": ("np.linalg.solve(x, y)", {"x": W(3, 3), "y": N(3, 2)}),
    "numpy.linalg.svd": ("np.linalg.svd(x, compute_uv=False)", {"x": N(3, 2)}),
    "numpy.linspace": ("np.linspace(-1, 1, 4) * x", {"x": N(4)}),
    "numpy.logaddexp.outer": ("np.logaddexp.outer(x, y)", {"x": N(2), "y": N(3)}),
    "numpy.logaddexp.reduce": ("np.logaddexp.reduce(x, axis=1)", {"x": N(2, 3)}),
    "numpy.matmul": ("np.matmul(x, y)", {"x": N(2, 2, 3), "y": N(3)}),
    "numpy.max": ("np.max(x, axis=0, keepdims=True)", {"x": D(3, 2)}),
    "numpy.maximum.outer": ("np.maximum.outer(x, y)", {"x": D(3), "y": D(2)}),
    "numpy.maximum.reduce": ("np.maximum.reduce(x, axis=1)", {"x": D(2, 3)}),
    "numpy.mean": ("np.mean(x, axis=(0, 2))", {"x": N(2, 2, 2)}),
    "numpy.median": ("np.median(x, axis=0)", {"x": D(4, 2)}),
    "numpy.meshgrid": ("np.meshgrid(x, y)[1] * np.meshgrid(x, y)[0]", {"x": N(3), "y": N(2)}),
    "numpy.min": ("np.min(x, axis=-1)", {"x": D(2, 3)}),
    "numpy.minimum.outer": ("np.minimum.outer(x, y)", {"x": D(2), "y": D(2)}),
    "numpy.minimum.reduce": ("np.minimum.reduce(x)", {"x": D(4)}),
    "numpy.moveaxis": ("np.moveaxis(x, -1, 0)", {"x": N(2, 3, 2)}),
    "numpy.multiply.accumulate": ("np.multiply.accumulate(x)", {"x": N(4)}),
    "numpy.multiply.outer": ("np.multiply.outer(x, y)", {"x": N(2, 2), "y": N(2)}),
    "numpy.multiply.reduce": ("np.multiply.reduce(x, axis=1)", {"x": N(2, 3)}),
    "numpy.nanmean": ("np.nanmean(x, axis=1)", {"x": N(2, 3)}),
    "numpy.nansum": ("np.nansum(x)", {"x": N(2, 3)}),
    "numpy.nonzero": ("np.sum(x[np.nonzero(x > 0.1)] ** 2)", {"x": N(5)}),
    "numpy.ones": ("np.ones((2, 3)) * x", {"x": N(3)}),
    "numpy.ones_like": ("np.ones_like(x) + x * x", {"x": N(3)}),
    "numpy.outer": ("np.outer(x, y)", {"x": N(2), "y": N(2, 2)}),
    "numpy.pad": ("np.pad(x, ((1, 0), (2, 1)), mode='reflect')", {"x": N(2, 3)}),
    "numpy.percentile": ("np.percentile(x, [25, 60])", {"x": D(5)}),
    "numpy.polyval": ("np.polyval(x, y)", {"x": N(3), "y": N(2)}),
    "numpy.power.outer": ("np.power.outer(x, y)", {"x": P(2), "y": N(3)}),
    "numpy.prod": ("np.prod(x, axis=0, keepdims=True)", {"x": N(3, 2)}),
    "numpy.ptp": ("np.ptp(x, axis=1)", {"x": D(2, 3)}),
    "numpy.quantile": ("np.quantile(x, 0.3, axis=1, keepdims=True)", {"x": D(2, 4)}),
    "numpy.ravel": ("np.ravel(x)", {"x": N(2, 2)}),
    "numpy.repeat": ("np.repeat(x, [2, 0, 1])", {"x": N(3)}),
    "numpy.reshape": ("np.reshape(x, (-1, 2))", {"x": N(2, 2)}),
    "numpy.roll": ("np.roll(x, (1, -1), axis=(0, 1))", {"x": N(2, 3)}),
    "numpy.rollaxis": ("np.rollaxis(x, 1)", {"x": N(2, 3, 2)}),
    "numpy.rot90": ("np.rot90(x, -1)", {"x": N(2, 3)}),
    "numpy.row_stack": ("np.row_stack([x, y])", {"x": N(2), "y": N(2)}),
    "numpy.searchsorted": ("x[np.searchsorted([0.0, 1.0], [0.5, 1.5])]", {"x": N(3)}),
    "numpy.select": ("np.select([x > 0.5, x < -0.5], [x, x * x], 1.0)", {"x": D(6)}),
    "numpy.sort": ("np.sort(x, axis=0)", {"x": D(3, 2)}),
    "numpy.split": ("np.split(x, [1], axis=1)[0]", {"x": N(2, 3)}),
    "numpy.squeeze": ("np.squeeze(x, axis=1)", {"x": N(2, 1)}),
    "numpy.stack": ("np.stack([x, y], axis=-1)", {"x": N(2), "y": N(2)}),
    "numpy.std": ("np.std(x, axis=0, ddof=1)", {"x": N(3, 2)}),
    "numpy.subtract.outer": ("np.subtract.outer(x, y)", {"x": N(3), "y": N(2)}),
    "numpy.sum": ("np.sum(x, axis=-1, keepdims=True)", {"x": N(2, 3)}),
    "numpy.swapaxes": ("np.swapaxes(x, 0, -1)", {"x": N(2, 1, 3)}),
    "numpy.take": ("np.take(x, [[0, 1]], axis=1)", {"x": N(2, 2)}),
    "numpy.take_along_axis": ("np.take_along_axis(x, np.array([[1], [0]]), axis=1)", {"x": N(2, 2)}),
    "numpy.tensordot": ("np.tensordot(x, y, axes=([1], [0]))", {"x": N(2, 3), "y": N(3, 2)}),
    "numpy.tile": ("np.tile(x, (2, 2))", {"x": N(2)}),
    "numpy.trace": ("np.trace(x, offset=-1)", {"x": N(3, 3)}),
    "numpy.transpose": ("np.transpose(x)", {"x": N(2, 3)}),
    "numpy.trapezoid": ("np.trapezoid(x, y)", {"x": N(4), "y": N(4)}),
    "numpy.trapz": None,  # NumPy 2.x removed np.trapz: np.trapezoid above is the same handler
    "numpy.tri": ("np.tri(2, 3) * x", {"x": N(2, 3)}),
    "numpy.tril": ("np.tril(x, k=-1)", {"x": N(3, 3)}),
    "numpy.triu": ("np.triu(x)", {"x": N(2, 3, 3)}),
    "numpy.true_divide.outer": ("np.true_divide.outer(x, y)", {"x": N(2), "y": P(2)}),
    "numpy.unravel_index": ("x[np.unravel_index([1, 5], (2, 3))]", {"x": N(2, 3)}),
    "numpy.var": ("np.var(x, ddof=1)", {"x": N(4)}),
    "numpy.vdot": ("np.vdot(x, y)", {"x": N(2, 2), "y": N(4)}),
    "numpy.vsplit": ("np.vsplit(x, [1])[1]", {"x": N(3, 2)}),
    "numpy.vstack": ("np.vstack([x, y])", {"x": N(2), "y": N(2)}),
    "numpy.where": ("np.where(x > 0, x, 0.1 * y)", {"x": N(4), "y": N(2, 4)}),
    "numpy.zeros": ("np.zeros(3) + x", {"x": N(3)}),
    "numpy.zeros_like": ("np.zeros_like(x) + x * x", {"x": N(3)}),
}

# Programs that reach registry entries no single call does (x[i] = v, in-place updates, ops
# built by the graph's own rewriting).
EXTRA = {
    "setitem": ("def f(x):\n    y = np.zeros((2, 3))\n    y[0, 1:] = x[:2]\n    y[1] = x\n"
                "    return y * 2\n", {"x": N(3)}),
    "sigmoid": ("1.0 / (1.0 + np.exp(-x))", {"x": N(3)}),
    "softplus": ("np.log(1.0 + np.exp(x))", {"x": N(3)}),
    "relu": ("np.maximum(x, 0.0) + np.maximum(0.0, 2.0 * x)", {"x": N(4)}),
    "rolled_loop": ("def f(x, w):\n    h = x\n    for i in range(6):\n        h = np.tanh(h * w[i])\n"
                    "    return h\n", {"x": N(3), "w": N(6)}),
}


# Reached only (their checks are elsewhere): each output of a tuple is seeded with ones_like.
REACH = {"tuple_output": ("def f(x):\n    return np.sin(x), x * 2\n", {"x": N(3)})}


def handlers() -> list[str]:
    """Every call a program may make, but the internal ones (index, setitem) and list methods."""
    return sorted(q for q in CALLS if "." in q and not q.startswith("list."))


def op_of(qualified: str) -> str | None:
    op = getattr(CALLS[qualified], "op", None)
    return op if op is not None and OPS[op].kind in ELEMENTWISE else None


def generated(qualified: str) -> tuple[str, dict]:
    """The program of an elementwise entry's NumPy spelling or method, with inputs in the
    entry's domain (comparisons select with where)."""
    op = OPS[op_of(qualified)]
    names = ["x", "y", "z"][:op.arity]
    space, _, name = qualified.partition(".")
    call = f"{names[0]}.{name}()" if space == "method" else f"np.{name}({', '.join(names)})"
    body = f"np.where({call}, {names[0]}, -{names[-1]})" if op.kind == "compare" else call
    return f"def f({', '.join(names)}):\n    return {body}\n", _draw(qualified, op, scalar=False)


def _draw(qualified: str, op, scalar: bool) -> dict:
    rng = np.random.default_rng(zlib.crc32(qualified.encode()))
    shapes = [()] * op.arity if scalar else [(2, 3), (3,), (1, 3)][:op.arity]
    values = domain(op.name if op.kind == "elementwise" else "add")(rng, shapes)
    return {n: float(v) if scalar else v for n, v in zip(["x", "y", "z"], values)}


def formula(qualified: str) -> tuple[str, dict]:
    """``sin(x)`` or ``math.sin(x)`` on floats in the entry's domain."""
    op = OPS[op_of(qualified)]
    space, _, name = qualified.partition(".")
    args = _draw(qualified, op, scalar=True)
    prefix = "math." if space == "math" else ""
    return f"def f({', '.join(args)}):\n    return {prefix}{name}({', '.join(args)})\n", args


def check_formula(qualified: str) -> None:
    """A formula spelling (``sin(x)``, ``math.sin(x)``) on floats, against the entry's independent
    reference formula in tests/test_ops.py and its central differences."""
    op = OPS[op_of(qualified)]
    g = symdiff.compile(formula(qualified)[0])
    args = formula(qualified)[1]
    value, grads = g(**args)
    reference = REFERENCE[op.name] if op.kind == "elementwise" else REFERENCE[op.lower_to] \
        if hasattr(op, "lower_to") else None
    if reference is None:  # sugar (square, positive): checked through its NumPy spelling
        return
    points = [np.array([v]) for v in args.values()]
    assert float(value) == pytest.approx(float(reference(*points)[0]), rel=1e-12, abs=1e-300)
    for k, name in enumerate(args):
        numeric = central_difference(reference, points, k)[0]
        assert float(grads[name]) == pytest.approx(float(numeric), rel=1e-5, abs=1e-8), name


def example(qualified: str) -> tuple[str, dict]:
    if op_of(qualified) is not None:
        return generated(qualified)
    body, inputs = EXAMPLES[qualified]
    return as_program(body, inputs, qualified)


def as_program(body: str, inputs: dict, key: str) -> tuple[str, dict]:
    source = body if body.startswith("def ") else f"def f({', '.join(inputs)}):\n    return {body}\n"
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return source, {k: draw(spec, rng) for k, spec in inputs.items()}


# The formula builtins that are not NumPy functions, as NumPy: the reference their programs are
# checked against (value, and central differences of the reference).
FORMULAS = {
    "builtin.log_softmax": "x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))",
    "builtin.logsumexp": "np.log(np.sum(np.exp(x), axis=0))",
    "builtin.softmax": "np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)",
}


def check_against(source: str, reference: str, args: dict) -> None:
    g = symdiff.compile(source)
    value, _ = g(**args)
    np.testing.assert_allclose(value, run_with(np, reference, args), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(0).standard_normal(np.shape(value))
    _, vjp = g(**args, dout=dout)
    for name in args:
        np.testing.assert_allclose(vjp[name], central_vjp(reference, args, name, dout),
                                   rtol=1e-5, atol=1e-7, err_msg=f"d{name}")


def check(source: str, args: dict) -> None:
    wrt = [k for k, v in args.items() if np.asarray(v).dtype.kind == "f"]
    check_program(source, args, wrt=wrt, rtol=1e-5, atol=1e-7)


# ============================================================================ the sweep
def test_every_handler_has_an_example():
    missing = [q for q in handlers() if op_of(q) is None and q not in EXAMPLES]
    assert not missing, f"add a line to tests/test_sweep.py EXAMPLES for: {missing}"
    stale = [q for q in EXAMPLES if q not in CALLS]
    assert not stale, f"EXAMPLES names calls that do not exist: {stale}"


@pytest.mark.parametrize("qualified", handlers())
def test_handler(qualified):
    if op_of(qualified) is None and EXAMPLES.get(qualified) is None:
        pytest.skip("no program: see the note in EXAMPLES")
    if op_of(qualified) is not None and qualified.split(".")[0] in ("builtin", "math"):
        check_formula(qualified)
    elif qualified in FORMULAS:
        source, args = example(qualified)
        check_against(source, f"def f(x):\n    return {FORMULAS[qualified]}\n", args)
    else:
        check(*example(qualified))


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra(name):
    check(*as_program(*EXTRA[name], name))


def test_every_registry_entry_is_reached():
    """Each entry appears in the forward or backward graph of some program of the sweep."""
    reached = set()
    programs = [example(q) for q in handlers() if EXAMPLES.get(q) or op_of(q) is not None
                and q.split(".")[0] in ("numpy", "method")]
    programs += [as_program(*table[name], name) for table in (EXTRA, REACH) for name in table]
    programs += [formula(q) for q in handlers()
                 if op_of(q) is not None and q.split(".")[0] in ("builtin", "math")]
    for source, args in programs:
        g = symdiff.compile(source, wrt=[k for k, v in args.items()
                                         if np.asarray(v).dtype.kind == "f"])
        g(**args)
        reached.update(node.op for node in g.graph.nodes)
        for graph in getattr(g.graph, "bodies", lambda: [])():
            reached.update(node.op for node in graph.nodes)
    missing = sorted(set(OPS) - reached - {"alias"} - {n for n, op in OPS.items()
                                                       if op.kind == "alias"})
    assert not missing, f"no program of the sweep reaches these registry entries: {missing}"
