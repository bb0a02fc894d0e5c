"""Order statistics: ``np.median``, ``np.percentile``, ``np.quantile`` (NumPy's default linear
interpolation), built from a sort along the axis and a weighted pick of its neighbours.

The sort's gradient follows its permutation, so the gradient of a median goes to the middle
element (split between the two middle ones for an even count), as NumPy's definition says.
"""

from __future__ import annotations

import math

from ..errors import ShapeError
from .calls import CALLS, Tracer, call
from .numpy_api import _args, _axes, _permuted, _product, _reshaped


def _quantiles(t: Tracer, node, x, qs: list[float], axis, keepdims: bool):
    """The ``qs`` quantiles (fractions in [0, 1]) of ``x`` over ``axis``: a list of values."""
    shape = t.shape_of(x, node)
    axes = _axes(t, node, axis, len(shape))
    if not axes or _product([shape[a] for a in axes]) == 0:
        raise t.program.error("a quantile needs at least one element along its axes", node,
                              cls=ShapeError)
    # The reduced axes moved last and flattened into one.
    kept = tuple(a for a in range(len(shape)) if a not in axes)
    moved = _permuted(t, node, x, kept + axes)
    n = _product([shape[a] for a in axes])
    flat = _reshaped(t, node, moved, tuple(shape[a] for a in kept) + (n,))
    ordered = CALLS["numpy.sort"](t, node, [flat], {"axis": -1})
    out_shape = tuple(1 if a in axes else shape[a] for a in range(len(shape))) if keepdims \
        else tuple(shape[a] for a in kept)
    values = []
    for q in qs:
        position = q * (n - 1)
        low = math.floor(position)
        high = min(low + 1, n - 1)
        frac = position - low
        pick = _pick(t, node, ordered, low)
        if frac > 0 and high != low:
            upper = _pick(t, node, ordered, high)
            pick = t.apply("add", [t.apply("mul", [pick, 1.0 - frac], node),
                                   t.apply("mul", [upper, frac], node)], node)
        values.append(_reshaped(t, node, pick, out_shape))
    return values


def _pick(t: Tracer, node, ordered, k: int):
    """``ordered[..., k]``."""
    ndim = len(t.shape_of(ordered, node))
    index = (slice(None),) * (ndim - 1) + (k,)
    return CALLS["index"](t, node, [ordered, index], {})


def _fractions(t: Tracer, node, q, scale: float) -> tuple[list[float], bool]:
    items = q if isinstance(q, (list, tuple)) else [q]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        raise t.program.error("the quantile must be a number or a list of numbers", node)
    fractions = [float(v) / scale for v in items]
    if not all(0.0 <= f <= 1.0 for f in fractions):
        raise t.program.error(f"quantiles must lie in [0, {scale:g}]", node)
    return fractions, isinstance(q, (list, tuple))


@call("numpy.median")
def _median(t: Tracer, node, args, kwargs):
    """The middle of the sorted values (the mean of the two middle ones for an even count)."""
    x, axis, keepdims = _args(t, node, args, kwargs, ["a", "axis", "keepdims"],
                              {"axis": None, "keepdims": False})
    return _quantiles(t, node, x, [0.5], axis, bool(keepdims))[0]


def _quantile_handler(scale: float):
    def handler(t: Tracer, node, args, kwargs):
        x, q, axis, keepdims = _args(t, node, args, kwargs, ["a", "q", "axis", "keepdims"],
                                     {"axis": None, "keepdims": False})
        fractions, many = _fractions(t, node, q, scale)
        values = _quantiles(t, node, x, fractions, axis, bool(keepdims))
        if not many:
            return values[0]
        return CALLS["numpy.stack"](t, node, [values], {})
    handler.__doc__ = "Linear interpolation between the sorted neighbours (NumPy's default)."
    return handler


call("numpy.percentile")(_quantile_handler(100.0))
call("numpy.quantile")(_quantile_handler(1.0))
call("method.clip")(CALLS["numpy.clip"])


# More handler modules; trace.py imports this one with the others, and with it these.
from . import numpy_extras, numpy_indexing  # noqa: E402,F401
