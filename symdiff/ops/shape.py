"""Shape ops with entries of their own, and constant arrays.

Most of what NumPy does to shapes is lowered by its call handler (``symdiff/numpy_shapes.py``)
to entries that exist: ravel, squeeze, expand_dims and atleast_Nd are reshapes; swapaxes,
moveaxis and rollaxis transposes; flip and rot90 negative-step slices; split a list of slices;
broadcast_to an expand; stack reshapes then a concatenate. The entries here are the ones whose
backward is not such a composition:

* ``concatenate``: its VJP is a slice of the upstream gradient per argument;
* ``repeat`` (a whole number of times): the VJP sums each group, a reshape and a sum;
* ``tile``: the VJP reshapes the gradient to (reps, size) pairs and sums the reps;
* ``pad`` (constant): the VJP is the slice of the gradient that covers the input;
* ``roll``: the VJP rolls back;
* ``argsort`` / ``permute_along`` / ``unpermute_along``: ``np.sort`` computes the permutation
  once, gathers with it (``np.take_along_axis``) and its VJP scatters back with it
  (``np.put_along_axis``): the gradient follows the permutation;
* ``astype`` / ``astype_like``: a cast between float types, whose VJP casts back;
* constant arrays (``full``, ``full_like``, ``eye``, ``arange``, ``linspace``, ``literal``):
  no arguments to send gradients to.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import GraphShapeError, SymdiffError
from .core import PREC_ATOM, Op, register
from .tensor import expand

WHOLE = ("slice", None, None, None)
FLOAT_TYPES = ("float32", "float64")


def _entry(name, arity, shape_fn, printer, vjp, numeric, numeric_vjp, symbol, **kw):
    return register(Op(name, arity, "", None, kind="structural", shape_fn=shape_fn,
                       printer=printer, vjp=vjp, numeric=numeric, numeric_vjp=numeric_vjp,
                       symbol=symbol, copies=True, **kw))


def _full(graph, g, n):
    """The upstream gradient of node ``n`` at the node's full shape (a seed may be a scalar)."""
    return expand(graph, g, graph[n].shape)


def _portable_refusal(w, what: str) -> None:
    if w.portable:
        raise SymdiffError(f"backend='array_api' cannot run {what}: the array API standard has "
                           "no such function; use the NumPy backend for this program")


def slice_along(graph, x: int, axis: int, start: int, stop: int) -> int:
    """``x[:, ..., start:stop]`` on ``axis`` (the existing index op, a view)."""
    if (start, stop) == (0, graph.shape(x)[axis]):
        return x
    return graph.apply("index", x, attrs=((WHOLE,) * axis + (("slice", start, stop, None),),))


def _numeric_take(g, axis, start, stop):
    return np.take(g, np.arange(start, stop), axis=axis)


# ------------------------------------------------------------------------------- concatenate
def _concatenate_shape(graph, args, attrs):
    (axis,) = attrs
    shapes = [graph.shape(a) for a in args]
    first = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(shape, first))
                                           if i != axis):
            raise GraphShapeError(f"cannot concatenate shapes {' and '.join(map(str, shapes))} "
                                  f"along axis {axis}")
    return first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]


def _offsets(graph, n, position):
    sizes = [graph.shape(a)[graph[n].attrs[0]] for a in graph[n].args]
    start = sum(sizes[:position])
    return start, start + sizes[position]


def _concatenate_print(w, n):
    parts = ", ".join(w.expr(a) for a in n.args)
    if w.portable:
        return f"xp.concat([{parts}], axis={n.attrs[0]})", PREC_ATOM
    return f"np.concatenate([{parts}], axis={n.attrs[0]})", PREC_ATOM


def _concatenate_numeric_vjp(n, position, g, args, out):
    axis = n.attrs[0]
    start = sum(a.shape[axis] for a in args[:position])
    return _numeric_take(np.broadcast_to(g, out.shape), axis, start, start + args[position].shape[axis])


_entry("concatenate", -1, _concatenate_shape, _concatenate_print,
       lambda graph, n, pos, g: slice_along(graph, _full(graph, g, n), graph[n].attrs[0],
                                            *_offsets(graph, n, pos)),
       lambda n, args: np.concatenate(args, axis=n.attrs[0]), _concatenate_numeric_vjp,
       "concat", uses=("np.concatenate", "xp.concat"))


# ------------------------------------------------------------------------------- repeat
def _repeat_shape(graph, args, attrs):
    times, axis = attrs
    shape = graph.shape(args[0])
    return shape[:axis] + (shape[axis] * times,) + shape[axis + 1:]


def _repeat_vjp(graph, n, pos, g):
    """Each input element was copied ``times`` times in a row: sum each group of copies."""
    times, axis = graph[n].attrs
    shape = graph.shape(graph[n].args[0])
    grouped = graph.apply("reshape", _full(graph, g, n),
                          attrs=(shape[:axis] + (shape[axis], times) + shape[axis + 1:],))
    return graph.apply("sum", grouped, attrs=((axis + 1,), False))


def _repeat_numeric_vjp(n, pos, g, args, out):
    times, axis = n.attrs
    g = np.broadcast_to(g, out.shape)
    if out.shape[axis] == 0:
        return np.zeros(args[0].shape)
    return np.add.reduceat(g, np.arange(0, out.shape[axis], times), axis=axis)


_entry("repeat", 1, _repeat_shape,
       lambda w, n: (f"np.repeat({w.expr(n.args[0])}, {n.attrs[0]}, axis={n.attrs[1]})",
                     PREC_ATOM),
       _repeat_vjp, lambda n, args: np.repeat(args[0], n.attrs[0], axis=n.attrs[1]),
       _repeat_numeric_vjp, "repeat", uses=("np.repeat", "xp.repeat"))


# ------------------------------------------------------------------------------- tile
def _tile_vjp(graph, n, pos, g):
    """Pair every tiled axis as (reps, size) and sum the reps: ``g.reshape(r0, n0, r1, n1)
    .sum(axis=(0, 2))``."""
    (reps,) = graph[n].attrs
    shape = graph.shape(graph[n].args[0])
    paired, summed = [], []
    for r, size in zip(reps, shape):
        if r != 1:
            summed.append(len(paired))
            paired.append(r)
        paired.append(size)
    grouped = graph.apply("reshape", _full(graph, g, n), attrs=(tuple(paired),))
    return graph.apply("sum", grouped, attrs=(tuple(summed), False))


def _tile_numeric_vjp(n, pos, g, args, out):
    g = np.broadcast_to(g, out.shape)
    shape = args[0].shape
    total = np.zeros(shape)
    for block in np.ndindex(*n.attrs[0]):
        total += g[tuple(slice(b * s, (b + 1) * s) for b, s in zip(block, shape))]
    return total


_entry("tile", 1,
       lambda graph, args, attrs: tuple(r * s for r, s in zip(attrs[0], graph.shape(args[0]))),
       lambda w, n: (f"np.tile({w.expr(n.args[0])}, {n.attrs[0]})", PREC_ATOM),
       _tile_vjp, lambda n, args: np.tile(args[0], n.attrs[0]), _tile_numeric_vjp, "tile",
       uses=("np.tile", "xp.tile"))


# ------------------------------------------------------------------------------- pad
def _number(value: float) -> str:
    """A float as generated code spells it (inf and nan as NumPy's names)."""
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(float(value))


def _pad_print(w, n):
    _portable_refusal(w, "np.pad")
    widths, values = n.attrs
    flat = {v for pair in values for v in pair}
    text = f"np.pad({w.expr(n.args[0])}, {widths}"
    if flat != {0.0}:
        spelled = _number(flat.pop()) if len(flat) == 1 else \
            "(" + ", ".join(f"({_number(a)}, {_number(b)})" for a, b in values) + ")"
        text += f", constant_values={spelled}"
    return text + ")", PREC_ATOM


def _pad_vjp(graph, n, pos, g):
    """The input sits at ``[before:before + size]`` on each axis: the gradient is that slice."""
    widths, _ = graph[n].attrs
    shape = graph.shape(graph[n].args[0])
    spec = tuple(("slice", b, b + s, None) for (b, _), s in zip(widths, shape))
    return graph.apply("index", _full(graph, g, n), attrs=(spec,))


_entry("pad", 1,
       lambda graph, args, attrs: tuple(s + b + a for s, (b, a) in zip(graph.shape(args[0]),
                                                                      attrs[0])),
       _pad_print, _pad_vjp,
       lambda n, args: np.pad(args[0], n.attrs[0], constant_values=n.attrs[1]),
       lambda n, pos, g, args, out: np.broadcast_to(g, out.shape)[tuple(
           slice(b, o - a) for (b, a), o in zip(n.attrs[0], out.shape))],
       "pad", uses=("np.pad", "np.nan", "np.inf"))


# ------------------------------------------------------------------------------- roll
def _roll_print(w, n):
    shifts, axes = n.attrs
    one = len(axes) == 1
    shift, axis = (shifts[0], axes[0]) if one else (shifts, axes)
    return f"np.roll({w.expr(n.args[0])}, {shift}, axis={axis})", PREC_ATOM


def _roll_numeric_vjp(n, pos, g, args, out):
    g = np.broadcast_to(g, out.shape)
    for shift, axis in zip(*n.attrs):   # out[i + shift] = x[i], so dx[i] = g[i + shift]
        size = g.shape[axis]
        g = np.take(g, (np.arange(size) + shift) % size, axis=axis)
    return g


_entry("roll", 1, lambda graph, args, attrs: graph.shape(args[0]), _roll_print,
       lambda graph, n, pos, g: graph.apply("roll", _full(graph, g, n), attrs=(
           tuple(-s for s in graph[n].attrs[0]), graph[n].attrs[1])),
       lambda n, args: np.roll(args[0], n.attrs[0], axis=n.attrs[1]), _roll_numeric_vjp, "roll",
       uses=("np.roll", "xp.roll"))


# ------------------------------------------------------------------------------- sort
def _argsort_print(w, n):
    x, axis = w.expr(n.args[0]), n.attrs[0]
    if w.portable:
        return f"xp.argsort({x}, axis={axis}, stable=True)", PREC_ATOM
    return f"np.argsort({x}, axis={axis}, kind='stable')", PREC_ATOM


# The permutation that sorts along an axis: an integer array, no gradient (it is locally
# constant), computed once and read by the forward gather and the backward scatter.
_entry("argsort", 1, lambda graph, args, attrs: graph.shape(args[0]), _argsort_print,
       lambda graph, n, pos, g: None,
       lambda n, args: np.argsort(args[0], axis=n.attrs[0], kind="stable"),
       lambda n, pos, g, args, out: None, "argsort", casts=True, integer=True,
       uses=("np.argsort", "xp.argsort"))


def _permute_print(w, n):
    _portable_refusal(w, "the gradient of np.sort (np.put_along_axis)")
    x, order = (w.expr(a) for a in n.args)
    return f"np.take_along_axis({x}, {order}, axis={n.attrs[0]})", PREC_ATOM


# x gathered along an axis by a permutation of that axis (x[order] there): each position is
# read exactly once, so the backward is a scatter by assignment, never an add.
_entry("permute_along", 2, lambda graph, args, attrs: graph.shape(args[0]), _permute_print,
       lambda graph, n, pos, g: None if pos else graph.apply(
           "unpermute_along", g, graph[n].args[1], attrs=graph[n].attrs),
       lambda n, args: np.take_along_axis(args[0], args[1], axis=n.attrs[0]),
       lambda n, pos, g, args, out: None if pos else np.take_along_axis(
           np.broadcast_to(g, out.shape), np.argsort(args[1], axis=n.attrs[0]), axis=n.attrs[0]),
       "take_along_axis", uses=("np.take_along_axis",))


def _unpermute_lines(w, n, target):
    _portable_refusal(w, "the gradient of np.sort (np.put_along_axis)")
    g, order = (w.expr(a) for a in n.args)
    return [f"{target} = np.zeros({n.shape})",
            f"np.put_along_axis({target}, {order}, {g}, axis={n.attrs[0]})"]


def _numeric_unpermute(n, args):
    g, order = args
    out = np.zeros(order.shape)
    index = list(np.indices(order.shape, sparse=True))
    index[n.attrs[0]] = order
    out[tuple(index)] = g
    return out


# The inverse: g (broadcast to the permutation's shape) written back to the positions the
# permutation read (zeros, then one assignment; no position repeats).
_entry("unpermute_along", 2, lambda graph, args, attrs: graph.shape(args[1]), None,
       lambda graph, n, pos, g: None if pos else graph.apply(
           "permute_along", _full(graph, g, n), graph[n].args[1], attrs=graph[n].attrs),
       _numeric_unpermute,
       lambda n, pos, g, args, out: None if pos else np.take_along_axis(
           np.broadcast_to(g, out.shape), args[1], axis=n.attrs[0]),
       "put_along_axis", statement=_unpermute_lines, makes_float64=True,
       uses=("np.put_along_axis", "np.zeros"))


# ------------------------------------------------------------------------------- astype
def _astype_print(w, n):
    x, dtype = w.expr(n.args[0], PREC_ATOM), n.attrs[0]
    if w.portable:
        return f"xp.astype({w.expr(n.args[0])}, xp.{dtype})", PREC_ATOM
    return f"{x}.astype(np.{dtype})", PREC_ATOM


def _astype_like_print(w, n):
    g, like = w.expr(n.args[0], PREC_ATOM), w.expr(n.args[1], PREC_ATOM)
    if w.portable:
        return f"xp.astype({w.expr(n.args[0])}, {like}.dtype)", PREC_ATOM
    return f"{g}.astype({like}.dtype)", PREC_ATOM


# A cast between float types; its gradient is cast back to the input's own dtype.
_entry("astype", 1, lambda graph, args, attrs: graph.shape(args[0]), _astype_print,
       lambda graph, n, pos, g: graph.apply("astype_like", _full(graph, g, n), graph[n].args[0]),
       lambda n, args: np.asarray(args[0]).astype(getattr(np, n.attrs[0])),
       lambda n, pos, g, args, out: np.broadcast_to(g, out.shape).astype(args[0].dtype),
       "astype", casts=True, uses=("np.float32", "np.float64", "xp.astype", "xp.float32",
                                   "xp.float64"))

# ``g`` cast to the dtype of ``like`` (the backward of a cast).
_entry("astype_like", 2, lambda graph, args, attrs: graph.shape(args[0]), _astype_like_print,
       lambda graph, n, pos, g: None if pos else graph.apply(
           "astype_like", _full(graph, g, n), graph[n].args[0]),
       lambda n, args: np.asarray(args[0]).astype(np.asarray(args[1]).dtype),
       lambda n, pos, g, args, out: None if pos else np.broadcast_to(g, out.shape).astype(
           np.asarray(args[0]).dtype),
       "astype", casts=True, uses=("xp.astype",))


# ------------------------------------------------------------------------------- constants
def _nested(values, shape) -> str:
    """Flat numbers as the nested list of ``shape`` (inf and nan as NumPy's names)."""
    if not shape:
        return _number(values[0])
    step = math.prod(shape[1:])
    return "[" + ", ".join(_nested(values[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


def _float64(w) -> str:
    return "dtype=xp.float64" if w.portable else "dtype=float"


def _full_print(w, n):
    shape, value = n.attrs
    if value in (0.0, 1.0) and math.copysign(1.0, value) > 0:
        name = "zeros" if value == 0.0 else "ones"
        return f"np.{name}({shape}{', dtype=xp.float64' if w.portable else ''})", PREC_ATOM
    return f"np.full({shape}, {_number(value)}, {_float64(w)})", PREC_ATOM


def _full_like_print(w, n):
    x, (value,) = w.expr(n.args[0]), n.attrs
    if value in (0.0, 1.0) and math.copysign(1.0, value) > 0:
        return f"np.{'zeros' if value == 0.0 else 'ones'}_like({x})", PREC_ATOM
    return f"np.full_like({x}, {_number(value)})", PREC_ATOM


def _eye_print(w, n):
    rows, cols, k = n.attrs
    extra = f", k={k}" if k else ""
    return f"np.eye({rows}, {cols}{extra}{', dtype=xp.float64' if w.portable else ''})", \
        PREC_ATOM


def _arange_print(w, n):
    start, stop, step = (_number(v) if isinstance(v, float) else str(v) for v in n.attrs)
    return f"np.arange({start}, {stop}, {step}, {_float64(w)})", PREC_ATOM


def _linspace_print(w, n):
    start, stop, num, endpoint = n.attrs
    extra = "" if endpoint else ", endpoint=False"
    portable = ", dtype=xp.float64" if w.portable else ""
    return f"np.linspace({_number(start)}, {_number(stop)}, {num}{extra}{portable})", PREC_ATOM


def _literal_print(w, n):
    shape, values = n.attrs
    if w.portable:
        return f"xp.asarray({_nested(values, shape)}, dtype=xp.float64)", PREC_ATOM
    return f"np.array({_nested(values, shape)}, dtype=float)", PREC_ATOM


def arange_length(start, stop, step) -> int:
    """The length of ``np.arange(start, stop, step)``, as NumPy computes it."""
    if all(isinstance(v, int) for v in (start, stop, step)):
        return len(range(start, stop, step))
    return max(0, math.ceil((stop - start) / step))


def _constant(name, shape_fn, printer, numeric, symbol, **kw):
    """An array known at compile time: no arguments, no gradient, float64."""
    _entry(name, 0, shape_fn, printer, lambda graph, n, pos, g: None, numeric,
           lambda n, pos, g, args, out: None, symbol, makes_float64=True, **kw)


_constant("full", lambda graph, args, attrs: attrs[0], _full_print,
          lambda n, args: np.full(n.attrs[0], n.attrs[1]), "full",
          uses=("np.full", "np.zeros", "np.ones", "np.nan", "np.inf", "xp.float64"))
_constant("eye", lambda graph, args, attrs: attrs[:2], _eye_print,
          lambda n, args: np.eye(*n.attrs[:2], k=n.attrs[2]), "eye",
          uses=("np.eye", "xp.eye", "xp.float64"))
_constant("arange", lambda graph, args, attrs: (arange_length(*attrs),), _arange_print,
          lambda n, args: np.arange(*n.attrs, dtype=float), "arange",
          uses=("np.arange", "np.nan", "np.inf", "xp.float64"))
_constant("linspace", lambda graph, args, attrs: (attrs[2],), _linspace_print,
          lambda n, args: np.linspace(n.attrs[0], n.attrs[1], n.attrs[2], endpoint=n.attrs[3]),
          "linspace", uses=("np.linspace", "xp.linspace", "xp.float64"))
_constant("literal", lambda graph, args, attrs: attrs[0], _literal_print,
          lambda n, args: np.array(n.attrs[1], dtype=float).reshape(n.attrs[0]), "array",
          uses=("np.array", "np.nan", "np.inf", "xp.asarray", "xp.float64"))

# An array of x's shape and dtype filled with one number: no gradient to x.
_entry("full_like", 1, lambda graph, args, attrs: graph.shape(args[0]), _full_like_print,
       lambda graph, n, pos, g: None,
       lambda n, args: np.full_like(args[0], n.attrs[0]),
       lambda n, pos, g, args, out: None, "full_like",
       uses=("np.zeros_like", "np.ones_like", "np.full_like", "xp.full_like"))


def is_float_type(name: str) -> bool:
    return name in FLOAT_TYPES
