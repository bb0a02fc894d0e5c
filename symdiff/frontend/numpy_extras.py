"""NumPy functions that are compositions of supported ones, lowered here so that their gradient is
that of the ops they are made of: ``round(x, decimals)``, ``ptp``, ``nansum``/``nanmean``,
``diagflat``, ``cross``, ``append``, ``linalg.matrix_power``, ``tri``, ``meshgrid``, ``convolve``
and ``correlate``, ``polyval``, ``trapezoid``, ``cov`` and ``corrcoef``, ``gradient``, ``interp``
(in its values ``fp``), ``ldexp`` by a constant.

Each lowering computes what NumPy's own implementation computes (the same products and sums, up to
the order of a sum), so values agree with NumPy's to rounding.
"""

from __future__ import annotations

import numpy as np

from .calls import CALLS, Tracer, Var, call
from .numpy_api import _args, _index, _one_axis, _product, _reshaped, _shape_error
from .numpy_indexing import static_array
from .numpy_shapes import _concatenate_values, _is_int, _is_number, _make, _stack_values, _value


def _call(t: Tracer, node, name: str, *args, **kwargs):
    return CALLS[name](t, node, list(args), kwargs)


def _op(t: Tracer, node, name: str, *args, attrs=()):
    return t.apply(name, list(args), node, attrs=attrs)


def _take(t: Tracer, node, x, axis: int, where):
    """``x[..., where, ...]`` along ``axis`` (an int, a slice or a list of positions)."""
    return _index(t, node, [x, (slice(None),) * axis + (where,)], {})


def _constant(t: Tracer, node, values) -> Var:
    values = np.asarray(values, dtype=float)
    return _make(t, node, "literal", (values.shape, tuple(float(v) for v in values.ravel())))


# ------------------------------------------------------------------------ elementwise
@call("numpy.round", "numpy.around", "method.round")
def _round(t: Tracer, node, args, kwargs):
    """rint(x * 10**d) / 10**d, as NumPy computes it (zero gradient almost everywhere)."""
    x, decimals = _args(t, node, args, kwargs, ["a", "decimals"], {"decimals": 0})
    if not _is_int(decimals):
        raise t.program.error("round() decimals must be an integer constant", node)
    if decimals == 0:
        return _op(t, node, "rint", x)
    if decimals > 0:
        scale = float(10 ** decimals)
        return _op(t, node, "div", _op(t, node, "rint", _op(t, node, "mul", x, scale)), scale)
    scale = float(10 ** -decimals)
    return _op(t, node, "mul", _op(t, node, "rint", _op(t, node, "div", x, scale)), scale)


_round.op = "rint"  # the op table shows rint's derivative


@call("numpy.ldexp")
def _ldexp(t: Tracer, node, args, kwargs):
    """x * 2**n for an integer constant n: exact, as NumPy's."""
    x, n = _args(t, node, args, kwargs, ["x1", "x2"], {})
    if not _is_int(n) or abs(n) > 1000:
        raise t.program.error("np.ldexp() needs an integer constant exponent", node)
    return _op(t, node, "mul", x, float(2.0 ** n))


# ------------------------------------------------------------------------ reductions
@call("numpy.ptp")
def _ptp(t: Tracer, node, args, kwargs):
    """max - min (each routes its gradient to its own extreme)."""
    x, axis, keepdims = _args(t, node, args, kwargs, ["a", "axis", "keepdims"],
                              {"axis": None, "keepdims": False})
    top = _call(t, node, "numpy.max", x, axis=axis, keepdims=keepdims)
    return _op(t, node, "sub", top, _call(t, node, "numpy.min", x, axis=axis, keepdims=keepdims))


def _nan_reduction(mean: bool):
    def handler(t: Tracer, node, args, kwargs):
        x, axis, keepdims = _args(t, node, args, kwargs, ["a", "axis", "keepdims"],
                                  {"axis": None, "keepdims": False})
        x = _value(t, node, x)
        kept = _op(t, node, "where", _op(t, node, "isnan", x), 0.0, x)
        total = _call(t, node, "numpy.sum", kept, axis=axis, keepdims=keepdims)
        if not mean:
            return total
        count = _op(t, node, "where", _op(t, node, "isnan", x), 0.0, 1.0)
        if not t.shape_of(count, node):
            return _op(t, node, "div", total, count)
        return _op(t, node, "div", total,
                   _call(t, node, "numpy.sum", count, axis=axis, keepdims=keepdims))
    handler.__name__ = "nanmean" if mean else "nansum"
    handler.__doc__ = ("the mean of the values that are not NaN (NaNs get no gradient)" if mean
                       else "the sum of the values that are not NaN (NaNs get no gradient)")
    return handler


call("numpy.nansum")(_nan_reduction(False))
call("numpy.nanmean")(_nan_reduction(True))


# ------------------------------------------------------------------------ arrays
@call("numpy.diagflat")
def _diagflat(t: Tracer, node, args, kwargs):
    """np.diag of the flattened values."""
    x, k = _args(t, node, args, kwargs, ["v", "k"], {"k": 0})
    x = _value(t, node, x)
    return _call(t, node, "numpy.diag", _reshaped(t, node, x, (_product(t.shape_of(x, node)),)),
                 k=k)


@call("numpy.append")
def _append(t: Tracer, node, args, kwargs):
    """concatenate (of the flattened arrays, without an axis)."""
    x, values, axis = _args(t, node, args, kwargs, ["arr", "values", "axis"], {"axis": None})
    x, values = _value(t, node, x), _value(t, node, values)
    if axis is None:
        flat = [_reshaped(t, node, v, (_product(t.shape_of(v, node)),)) for v in (x, values)]
        return _concatenate_values(t, node, flat, 0)
    return _concatenate_values(t, node, [x, values], axis)


@call("numpy.cross")
def _cross(t: Tracer, node, args, kwargs):
    """Products of components, subtracted, as NumPy computes them (3- or 2-vectors).

    The cross product of 3-vectors (or the z component for 2-vectors) along the last axis."""
    a, b = (_value(t, node, v) for v in _args(t, node, args, kwargs, ["a", "b"], {}))
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if not sa or not sb or sa[-1] != sb[-1] or sa[-1] not in (2, 3):
        raise t.program.error(f"np.cross() needs vectors of 2 or 3 components (of one size) "
                              f"along the last axis, got shapes {sa} and {sb}", node,
                              cls=_shape_error())
    ca = [_take(t, node, a, len(sa) - 1, k) for k in range(sa[-1])]
    cb = [_take(t, node, b, len(sb) - 1, k) for k in range(sb[-1])]

    def minor(i, j):
        return _op(t, node, "sub", _op(t, node, "mul", ca[i], cb[j]),
                   _op(t, node, "mul", ca[j], cb[i]))
    if sa[-1] == 2:
        return minor(0, 1)
    parts = [minor(1, 2), minor(2, 0), minor(0, 1)]
    return _stack_values(t, node, parts, -1)


@call("numpy.linalg.matrix_power")
def _matrix_power(t: Tracer, node, args, kwargs):
    """Products by binary powers, as NumPy multiplies (the inverse first for a negative n)."""
    a, n = _args(t, node, args, kwargs, ["a", "n"], {})
    a = _value(t, node, a)
    if not _is_int(n) or abs(n) > 4096:
        raise t.program.error("np.linalg.matrix_power() needs an integer constant power", node)
    shape = t.shape_of(a, node)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise t.program.error(f"np.linalg.matrix_power() needs square matrices, got {shape}",
                              node, cls=_shape_error())
    if n == 0:
        eye = _make(t, node, "eye", (shape[-1], shape[-1], 0))
        return _op(t, node, "expand", eye, attrs=(shape,)) if len(shape) > 2 else eye
    if n < 0:
        a, n = _call(t, node, "numpy.linalg.inv", a), -n
    if n <= 3:
        out = a
        for _ in range(n - 1):
            out = _op(t, node, "matmul", out, a)
        return out
    z = result = None
    while n > 0:
        z = a if z is None else _op(t, node, "matmul", z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else _op(t, node, "matmul", result, z)
    return result


# ------------------------------------------------------------------------ constants and grids
@call("numpy.tri")
def _tri(t: Tracer, node, args, kwargs):
    """A constant: ones at and below the k-th diagonal."""
    n, m, k = _args(t, node, args, kwargs, ["N", "M", "k"], {"M": None, "k": 0})
    if not all(_is_int(v) for v in (n, k)) or m is not None and not _is_int(m) or n < 0 \
            or (m or 0) < 0:
        raise t.program.error("np.tri() needs integer constants", node)
    return _constant(t, node, np.tri(n, m, k))


@call("numpy.meshgrid")
def _meshgrid(t: Tracer, node, args, kwargs):
    """Each input along its own axis, broadcast to the grid (its gradient is summed back)."""
    indexing = kwargs.pop("indexing", "xy")
    sparse = kwargs.pop("sparse", False)
    if kwargs or indexing not in ("xy", "ij") or sparse not in (False, True):
        raise t.program.error("np.meshgrid() takes indexing='xy' or 'ij' and sparse only", node)
    flat = [_value(t, node, v) for v in args]
    flat = [_reshaped(t, node, v, (_product(t.shape_of(v, node)),)) for v in flat]
    sizes = [t.shape_of(v, node)[0] for v in flat]
    axes = list(range(len(flat)))
    if indexing == "xy" and len(flat) > 1:
        axes[0], axes[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for v, axis in zip(flat, axes):
        shape = [1] * len(flat)
        shape[axis] = t.shape_of(v, node)[0]
        v = _reshaped(t, node, v, tuple(shape))
        out.append(v if sparse else _call(t, node, "numpy.broadcast_to", v, tuple(sizes)))
    return tuple(out)


# ------------------------------------------------------------------------ signals
def _full_convolution(t: Tracer, node, a, v):
    """Every sum a[i] * v[k - i]: windows of the zero-padded a (a gather) times v reversed."""
    n, m = t.shape_of(a, node)[0], t.shape_of(v, node)[0]
    padded = t.apply("pad", [a], node, attrs=(((m - 1, m - 1),), ((0.0, 0.0),))) if m > 1 else a
    windows = (np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]).tolist()
    gathered = _index(t, node, [padded, windows], {})
    return _op(t, node, "matmul", gathered, _take(t, node, v, 0, slice(None, None, -1)))


def _mode_slice(mode: str, n: int, m: int, correlate: bool) -> slice:
    """The part of the full result that NumPy's ``mode`` keeps (correlate with the shorter
    array first centers one place later for an even length, as NumPy's swapped loop does)."""
    if mode == "full":
        return slice(None)
    if mode == "same":
        start = min(n, m) // 2 if correlate and n < m else (min(n, m) - 1) // 2
        return slice(start, start + max(n, m))
    return slice(min(n, m) - 1, max(n, m))


def _signal(t: Tracer, node, a, v, mode, correlate: bool):
    a, v = _value(t, node, a), _value(t, node, v)
    n, m = (_product(t.shape_of(x, node)) for x in (a, v))
    if any(len(t.shape_of(x, node)) != 1 for x in (a, v)) or not n or not m \
            or mode not in ("full", "same", "valid"):
        raise t.program.error(f"{t.what(node.func)}() needs two non-empty 1-d arrays and mode "
                              "'full', 'same' or 'valid'", node, cls=_shape_error())
    if correlate:
        v = _take(t, node, v, 0, slice(None, None, -1))
    full = _full_convolution(t, node, a, v)
    part = _mode_slice(mode, n, m, correlate)
    return full if part == slice(None) else _take(t, node, full, 0, part)


@call("numpy.convolve")
def _convolve(t: Tracer, node, args, kwargs):
    """Windows of a (a gather) times v reversed: a matrix-vector product."""
    a, v, mode = _args(t, node, args, kwargs, ["a", "v", "mode"], {"mode": "full"})
    return _signal(t, node, a, v, mode, correlate=False)


@call("numpy.correlate")
def _correlate(t: Tracer, node, args, kwargs):
    """convolve(a, v[::-1]): windows of a times v."""
    a, v, mode = _args(t, node, args, kwargs, ["a", "v", "mode"], {"mode": "valid"})
    return _signal(t, node, a, v, mode, correlate=True)


@call("numpy.polyval")
def _polyval(t: Tracer, node, args, kwargs):
    """Horner's rule, as NumPy evaluates it: y = y * x + p[i]."""
    p, x = _args(t, node, args, kwargs, ["p", "x"], {})
    coefficients = p if isinstance(p, (list, tuple)) else None
    if coefficients is None:
        p = _value(t, node, p)
        shape = t.shape_of(p, node)
        if len(shape) != 1:
            raise t.program.error("np.polyval() needs a 1-d array of coefficients", node,
                                  cls=_shape_error())
        coefficients = [_take(t, node, p, 0, k) for k in range(shape[0])]
    if not coefficients:
        raise t.program.error("np.polyval() needs coefficients", node)
    y = _op(t, node, "mul", _value(t, node, x), 0.0)
    for c in coefficients:
        y = _op(t, node, "add", _op(t, node, "mul", y, x), c)
    shape = t.shape_of(_value(t, node, x), node)
    return y if t.shape_of(y, node) == shape else _call(t, node, "numpy.broadcast_to", y, shape)


@call("numpy.trapezoid", "numpy.trapz")
def _trapezoid(t: Tracer, node, args, kwargs):
    """The sum of d * (y[1:] + y[:-1]) / 2 along the axis (d: dx, or np.diff(x))."""
    y, x, dx, axis = _args(t, node, args, kwargs, ["y", "x", "dx", "axis"],
                           {"x": None, "dx": 1.0, "axis": -1})
    y = _value(t, node, y)
    shape = t.shape_of(y, node)
    axis = _one_axis(t, node, axis, len(shape))
    if x is None:
        if not _is_number(dx):
            raise t.program.error("np.trapezoid() dx must be a number", node)
        d = float(dx)
    else:
        x = _value(t, node, x)
        d = _call(t, node, "numpy.diff", x, axis=-1 if len(t.shape_of(x, node)) == 1 else axis)
        if len(t.shape_of(x, node)) == 1:
            sizes = [1] * len(shape)
            sizes[axis] = t.shape_of(d, node)[0]
            d = _reshaped(t, node, d, tuple(sizes))
    pairs = _op(t, node, "add", _take(t, node, y, axis, slice(1, None)),
                _take(t, node, y, axis, slice(None, -1)))
    terms = _op(t, node, "div", _op(t, node, "mul", d, pairs), 2.0)
    return _call(t, node, "numpy.sum", terms, axis=axis)


@call("numpy.gradient")
def _gradient(t: Tracer, node, args, kwargs):
    """Central differences inside, one-sided at the ends (edge_order=1), constant spacing."""
    if not args:
        raise t.program.error("np.gradient() needs an array", node)
    f, spacing = _value(t, node, args[0]), list(args[1:])
    axis = kwargs.pop("axis", None)
    if kwargs.pop("edge_order", 1) != 1 or kwargs:
        raise t.program.error("np.gradient() takes axis= and edge_order=1 only", node)
    shape = t.shape_of(f, node)
    axes = list(range(len(shape))) if axis is None else \
        [_one_axis(t, node, a, len(shape)) for a in (axis if isinstance(axis, tuple) else (axis,))]
    if len(spacing) == 1:
        spacing = spacing * len(axes)
    if spacing and len(spacing) != len(axes) or not all(_is_number(h) for h in spacing):
        raise t.program.error("np.gradient() takes one number as the spacing of each axis", node)
    steps = [float(h) for h in spacing] or [1.0] * len(axes)
    out = [_gradient_along(t, node, f, a, h) for a, h in zip(axes, steps)]
    return out[0] if len(out) == 1 else tuple(out)


def _gradient_along(t: Tracer, node, f, axis: int, h: float):
    n = t.shape_of(f, node)[axis]
    if n < 2:
        raise t.program.error("np.gradient() needs at least 2 points along each axis", node,
                              cls=_shape_error())

    def diff(hi, lo, scale):
        return _op(t, node, "div", _op(t, node, "sub", _take(t, node, f, axis, hi),
                                       _take(t, node, f, axis, lo)), scale)
    first = diff(slice(1, 2), slice(0, 1), h)
    last = diff(slice(n - 1, n), slice(n - 2, n - 1), h)
    if n == 2:
        return _concatenate_values(t, node, [first, last], axis)
    inside = diff(slice(2, None), slice(None, -2), 2.0 * h)
    return _concatenate_values(t, node, [first, inside, last], axis)


@call("numpy.interp")
def _interp(t: Tracer, node, args, kwargs):
    """Linear in fp: constant weights times fp (x and xp known while tracing).

    The weights are NumPy's own interpolation of each unit vector."""
    x, xp, fp, left, right = _args(t, node, args, kwargs, ["x", "xp", "fp", "left", "right"],
                                   {"left": None, "right": None})
    known = [static_array(t, v) for v in (x, xp)]
    if any(k is None for k in known) or any(v is not None and not _is_number(v)
                                            for v in (left, right)):
        raise t.program.error("np.interp() differentiates with respect to fp: x, xp, left and "
                              "right must be known while tracing", node)
    xs, xps = (np.asarray(k, dtype=float) for k in known)
    fp = _value(t, node, fp)
    if t.shape_of(fp, node) != xps.shape or xps.ndim != 1:
        raise t.program.error("np.interp() needs 1-d xp and fp of one length", node,
                              cls=_shape_error())
    unit = np.eye(len(xps))
    inside = [0.0 if left is not None else None, 0.0 if right is not None else None]
    weights = np.stack([np.interp(xs.ravel(), xps, e, *inside) for e in unit], axis=-1)
    out = _op(t, node, "matmul", _constant(t, node, weights), fp) if xs.ndim else \
        _op(t, node, "sum", _op(t, node, "mul", _constant(t, node, weights[0]), fp),
            attrs=((0,), False))
    if left is not None or right is not None:
        rest = np.interp(xs.ravel(), xps, np.zeros(len(xps)), left, right)
        out = _op(t, node, "add", out, _constant(t, node, rest) if xs.ndim else float(rest[0]))
    return _reshaped(t, node, out, xs.shape) if xs.ndim else out


# ------------------------------------------------------------------------ statistics
@call("numpy.cov")
def _cov(t: Tracer, node, args, kwargs):
    """(X - mean) @ (X - mean).T / (n - ddof), rows as variables (rowvar=False: columns)."""
    m, y, rowvar, bias, ddof = _args(t, node, args, kwargs, ["m", "y", "rowvar", "bias", "ddof"],
                                     {"y": None, "rowvar": True, "bias": False, "ddof": None})
    x = _covariance_rows(t, node, m, rowvar)
    if y is not None:
        x = _concatenate_values(t, node, [x, _covariance_rows(t, node, y, rowvar)], 0)
    n = t.shape_of(x, node)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    if not _is_int(ddof):
        raise t.program.error("np.cov() ddof must be an integer constant", node)
    centered = _op(t, node, "sub", x, _call(t, node, "numpy.mean", x, axis=1, keepdims=True))
    product = _op(t, node, "matmul", centered, _op(t, node, "transpose", centered,
                                                  attrs=((1, 0),)))
    out = _op(t, node, "mul", product, 1.0 / (n - ddof)) if n != ddof else \
        _op(t, node, "div", product, 0.0)
    rows = t.shape_of(out, node)[0]
    return _reshaped(t, node, out, ()) if rows == 1 else out


def _covariance_rows(t: Tracer, node, m, rowvar):
    x = _value(t, node, m)
    shape = t.shape_of(x, node)
    if len(shape) > 2 or rowvar not in (True, False):
        raise t.program.error("np.cov() needs a 1-d or 2-d array", node, cls=_shape_error())
    if len(shape) < 2:
        return _reshaped(t, node, x, (1, _product(shape)))
    return x if rowvar else _op(t, node, "transpose", x, attrs=((1, 0),))


@call("numpy.corrcoef")
def _corrcoef(t: Tracer, node, args, kwargs):
    """cov / (std_i std_j), clipped to [-1, 1] as NumPy does."""
    x, y, rowvar = _args(t, node, args, kwargs, ["x", "y", "rowvar"], {"y": None, "rowvar": True})
    c = _cov(t, node, [x, y, rowvar], {})
    if not t.shape_of(c, node):
        return _op(t, node, "div", c, c)
    d = _op(t, node, "sqrt", _call(t, node, "numpy.diagonal", c))
    size = t.shape_of(d, node)[0]
    c = _op(t, node, "div", c, _reshaped(t, node, d, (size, 1)))
    c = _op(t, node, "div", c, _reshaped(t, node, d, (1, size)))
    return _op(t, node, "minimum", _op(t, node, "maximum", c, -1.0), 1.0)
