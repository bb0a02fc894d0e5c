"""Structural ops: matmul, transpose, reductions, reshape, indexing, broadcasting.

Each is one registry entry with a shape rule, a printer and a vector-Jacobian product written with
other graph ops, so no Jacobian is ever built: a matmul's backward is two matmuls, a sum's backward
is a broadcast, a gather's backward is a scatter-add. The interpreter gets an independent numeric
forward and VJP for each (``numeric`` / ``numeric_vjp``), written directly with NumPy.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import GraphShapeError
from ..runtime import _logsumexp, _max_mask, _sum_to
from .core import PREC_ATOM, Op, register


def _structural(name, arity, shape_fn, printer, vjp, numeric, numeric_vjp, symbol, **kw):
    return register(Op(name, arity, "", None, kind="structural", shape_fn=shape_fn,
                       printer=printer, vjp=vjp, numeric=numeric, numeric_vjp=numeric_vjp,
                       symbol=symbol, **kw))


def _axis_text(axes: tuple[int, ...] | None) -> str:
    if axes is None:
        return "None"
    return str(axes[0]) if len(axes) == 1 else str(tuple(axes))


def receiver(w, x: int) -> str:
    """``x`` printed to take a method or an index (``x.reshape(...)``, ``x[...]``): a constant
    or a scalar may be a Python float there (a written module called with floats), so it goes
    through ``np.asarray``."""
    node = w.graph[x]
    if node.op == "const" or node.shape in ((), None):  # a scalar may be a Python float
        return f"np.asarray({w.expr(x)})"
    return w.expr(x, PREC_ATOM)


def expand(graph, g: int, shape: tuple[int, ...]) -> int:
    """``g`` broadcast to exactly ``shape`` (a no-op when it already has it)."""
    return g if graph.shape(g) == shape else graph.apply("expand", g, attrs=(shape,))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ------------------------------------------------------------------------------- matmul
def _matmul_shape(graph, args, attrs):
    a, b = graph.shape(args[0]), graph.shape(args[1])
    if not a or not b:
        raise GraphShapeError(f"matmul needs arrays, got shapes {a} and {b}")
    inner = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner:
        raise GraphShapeError(f"shapes {a} and {b} are not aligned ({a[-1]} != {inner})")
    if len(a) == 1 and len(b) == 1:
        return ()
    if (len(a) == 1 and len(b) > 2) or (len(b) == 1 and len(a) > 2):
        raise GraphShapeError(f"a vector @ a batch of matrices ({a} and {b}) is not supported: "
                              "reshape the vector to a matrix first")
    if len(a) == 1:
        return b[:-2] + b[-1:]
    if len(b) == 1:
        return a[:-1]
    try:
        batch = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise GraphShapeError(f"batch shapes of {a} and {b} do not broadcast") from None
    return tuple(batch) + (a[-2], b[-1])


def _matmul_vjp(graph, node_id, position, g):
    node = graph[node_id]
    a, b = node.args
    sa, sb = graph.shape(a), graph.shape(b)
    if graph.is_const(g) and graph.shape(g) in (None, ()) and len(sa) <= 2 and len(sb) <= 2 \
            and len(sa) + len(sb) > 2:
        return _matmul_vjp_of_number(graph, node, position, g)
    g = expand(graph, g, node.shape)
    if len(sa) == 1 and len(sb) == 1:                     # inner product
        return graph.apply("mul", g, b if position == 0 else a)
    if position == 0:
        if len(sb) == 1:                                   # (M, K) @ (K,): dA = g outer b
            return graph.apply("outer", g, b)
        return graph.apply("matmul", g, transpose(graph, b))   # dA = g @ B.T (+ batch sums)
    if len(sa) == 1:                                       # (K,) @ (K, N): dB = a outer g
        return graph.apply("outer", a, g)
    return graph.apply("matmul", transpose(graph, a), g)   # dB = A.T @ g


def _matmul_vjp_of_number(graph, node, position: int, c: int) -> int:
    """The VJP of ``A @ B`` (at most 2-D each) for an upstream gradient that is the number ``c``
    everywhere (the seed of a sum): ``ones * c @ B.T`` repeats ``c`` times the row sums of B and
    ``A.T @ ones * c`` the column sums of A, a product and a sum rather than a matmul with an
    array of copies of ``c`` (``c * B.T`` for a 1-by-1 output)."""
    a, b = node.args
    sa, sb = graph.shape(a), graph.shape(b)
    if position == 0:
        if len(sb) == 1:                                   # (M, K) @ (K,): rows of c * b
            sums = b
        elif sb[1] == 1 and len(sa) == 2:                  # (M, K) @ (K, 1): rows of c * B.T
            sums = transpose(graph, b)
        else:
            sums = graph.apply("sum", b, attrs=((1,), False))
    elif len(sa) == 1:                                     # (K,) @ (K, N): columns of c * a
        sums = graph.apply("reshape", a, attrs=((sa[0], 1),))
    elif len(sb) == 1:                                     # (M, K) @ (K,): c * A's column sums
        sums = graph.apply("sum", a, attrs=((0,), False))
    elif sa[0] == 1:                                       # (1, K) @ (K, N): columns of c * A.T
        sums = transpose(graph, a)
    else:
        sums = transpose(graph, graph.apply("sum", a, attrs=((0,), True)))
    return expand(graph, graph.apply("mul", c, sums), graph.shape(node.args[position]))


def transpose(graph, x: int, axes: tuple[int, ...] | None = None) -> int:
    """Reverse the axes (or the last two for batches of matrices when ``axes`` is None)."""
    ndim = len(graph.shape(x))
    if ndim < 2:
        return x
    if axes is None:
        axes = tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return graph.apply("transpose", x, attrs=(axes,))


def _numeric_matmul_vjp(node, position, g, args, out):
    a, b = args
    if a.ndim == 1 and b.ndim == 1:
        return g * (b if position == 0 else a)
    if position == 0:
        if b.ndim == 1:
            return np.multiply.outer(g, b)
        return _sum_to(g @ np.swapaxes(b, -1, -2), a.shape)
    if a.ndim == 1:
        return np.multiply.outer(a, g)
    return _sum_to(np.swapaxes(a, -1, -2) @ g, b.shape)


_structural(
    "matmul", 2, _matmul_shape,
    lambda w, n: (f"{w.expr(n.args[0], 13)} @ {w.expr(n.args[1], 13)}", 12),
    _matmul_vjp, lambda n, args: args[0] @ args[1], _numeric_matmul_vjp, "@", copies=True, fresh_array=True)

_structural(
    "outer", 2, lambda graph, args, attrs: graph.shape(args[0]) + graph.shape(args[1]),
    lambda w, n: (f"np.outer({w.expr(n.args[0])}, {w.expr(n.args[1])})", PREC_ATOM),
    lambda graph, n, pos, g: (graph.apply("matmul", expand(graph, g, graph[n].shape),
                                          graph[n].args[1]) if pos == 0 else
                              graph.apply("matmul", graph[n].args[0],
                                          expand(graph, g, graph[n].shape))),
    lambda n, args: np.multiply.outer(args[0], args[1]),
    lambda n, pos, g, args, out: g @ args[1] if pos == 0 else args[0] @ g, "outer", copies=True)


# ------------------------------------------------------------------------------- transpose
def _transpose_print(w, n):
    (axes,) = n.attrs
    if axes == tuple(reversed(range(len(axes)))):
        return f"{w.expr(n.args[0], PREC_ATOM)}.T", PREC_ATOM
    return f"np.transpose({w.expr(n.args[0])}, {axes})", PREC_ATOM


def _inverse(axes):
    return tuple(int(i) for i in np.argsort(axes))


_structural(
    "transpose", 1,
    lambda graph, args, attrs: tuple(graph.shape(args[0])[i] for i in attrs[0]),
    _transpose_print,
    lambda graph, n, pos, g: graph.apply("transpose", expand(graph, g, graph[n].shape),
                                         attrs=(_inverse(graph[n].attrs[0]),)),
    lambda n, args: np.transpose(args[0], n.attrs[0]),
    lambda n, pos, g, args, out: np.transpose(np.broadcast_to(g, out.shape),
                                              _inverse(n.attrs[0])), "T")


# ------------------------------------------------------------------------------- reductions
def _reduced_shape(graph, args, attrs):
    axes, keepdims = attrs
    shape = graph.shape(args[0])
    if keepdims:
        return keepdims_shape(shape, axes)
    return tuple(n for i, n in enumerate(shape) if i not in axes)


# Above this many elements OpenBLAS runs a dot product on several threads: on a busy machine
# its time then varied twofold between processes (11-21 ms for benchmarks/elementwise.py), so
# larger sums of products use einsum's single-threaded loop (steady, about 1.5x a one-thread dot).
BLAS_THREADED_DOT = 10000
EINSUM_LETTERS = "ijklmnopqrstuvwxyz"


def _dot_of_product(w, x: int) -> str | None:
    """The full sum of an inlined product of two same-shape arrays in one pass and no temporary
    (``np.sum(a * b)`` makes a temporary and two passes): ``np.vdot(a, b)`` for small arrays,
    ``np.einsum("ij,ij->", a, b)`` for large ones."""
    node = w.graph[x]
    if node.op != "mul" or x in w.names or w.portable:
        return None
    a, b = node.args
    if w.graph.shape(a) != node.shape or w.graph.shape(b) != node.shape or not node.shape:
        return None
    # decision_shape: a sized module's probe traces decide as the traced call did
    size = math.prod(w.graph.decision_shape(node.shape))
    if size <= BLAS_THREADED_DOT or len(node.shape) > len(EINSUM_LETTERS):
        return f"np.vdot({w.expr(a)}, {w.expr(b)})"
    axes = EINSUM_LETTERS[:len(node.shape)]
    return f'np.einsum("{axes},{axes}->", {w.expr(a)}, {w.expr(b)})'


def _reduce_print(fn):
    def printer(w, n):
        axes, keepdims = n.attrs
        if axes == tuple(range(len(w.graph.shape(n.args[0])))) and not keepdims:
            dot = _dot_of_product(w, n.args[0]) if fn == "sum" else None
            return (dot or f"np.{fn}({w.expr(n.args[0])})"), PREC_ATOM
        x = w.expr(n.args[0])
        extra = ", keepdims=True" if keepdims else ""
        return f"np.{fn}({x}, axis={_axis_text(axes)}{extra})", PREC_ATOM
    return printer


def _unreduce(graph, n, g):
    """The upstream gradient of a reduction, shaped to broadcast against the reduced input."""
    axes, keepdims = graph[n].attrs
    if graph.shape(g) == ():
        return g  # a scalar broadcasts against the input as it is
    g = expand(graph, g, graph[n].shape)
    if keepdims:
        return g
    return graph.apply("reshape", g, attrs=(keepdims_shape(graph.shape(graph[n].args[0]), axes),))


def _numeric_unreduce(n, g, out, x):
    axes, keepdims = n.attrs
    g = np.broadcast_to(g, np.shape(out))
    return g if keepdims else np.reshape(g, keepdims_shape(x.shape, axes))


_structural(
    "sum", 1, _reduced_shape, _reduce_print("sum"),
    lambda graph, n, pos, g: _unreduce(graph, n, g),
    lambda n, args: np.sum(args[0], axis=n.attrs[0], keepdims=n.attrs[1]),
    lambda n, pos, g, args, out: np.broadcast_to(_numeric_unreduce(n, g, out, args[0]),
                                                 args[0].shape), "sum", copies=True)


def _extreme(name, fn, pick):
    def vjp(graph, n, pos, g):
        x = graph[n].args[0]
        mask = graph.apply(f"{name}_mask", x, attrs=(graph[n].attrs[0],))
        return graph.apply("mul", mask, _unreduce(graph, n, g))

    def numeric_vjp(n, pos, g, args, out):
        x = args[0]
        flat_axes = n.attrs[0]
        moved = np.moveaxis(x, flat_axes, range(x.ndim - len(flat_axes), x.ndim))
        lead = moved.shape[:x.ndim - len(flat_axes)]
        winners = pick(moved.reshape(lead + (-1,)), axis=-1)
        mask = np.zeros(lead + (int(np.prod([x.shape[a] for a in flat_axes])),))
        np.put_along_axis(mask, winners[..., None], 1.0, axis=-1)
        mask = np.moveaxis(mask.reshape(moved.shape), range(x.ndim - len(flat_axes), x.ndim),
                           flat_axes)
        return mask * _numeric_unreduce(n, g, out, x)

    _structural(name, 1, _reduced_shape, _reduce_print(fn), vjp,
                lambda n, args: getattr(np, fn)(args[0], axis=n.attrs[0], keepdims=n.attrs[1]),
                numeric_vjp, fn, copies=True)
    # 1.0 at the first index that attains the extreme along the axes, 0.0 elsewhere (as argmax).
    _structural(f"{name}_mask", 1, lambda graph, args, attrs: graph.shape(args[0]),
                lambda w, n: (f"_max_mask({w.expr(n.args[0])}, {n.attrs[0]}"
                              f"{', lowest=True' if fn == 'min' else ''})", PREC_ATOM),
                lambda graph, n, pos, g: None,
                lambda n, args: _max_mask(args[0], n.attrs[0], lowest=fn == "min"),
                lambda n, pos, g, args, out: None, f"arg{fn}", helpers=("_max_mask",),
                copies=True, makes_float64=True)


_extreme("max", "max", np.argmax)
_extreme("min", "min", np.argmin)


# ------------------------------------------------------------------------------- logsumexp
def _logsumexp_vjp(graph, n, pos, g):
    x = graph[n].args[0]
    axes, keepdims = graph[n].attrs
    lse = n if keepdims else graph.apply("reshape", n, attrs=(keepdims_shape(graph.shape(x),
                                                                             axes),))
    softmax = graph.apply("exp", graph.apply("sub", x, lse))
    return graph.apply("mul", softmax, _unreduce(graph, n, g))


_structural(
    "logsumexp", 1, _reduced_shape,
    lambda w, n: (f"_logsumexp({w.expr(n.args[0])}, {n.attrs[0]}, {n.attrs[1]})", PREC_ATOM),
    _logsumexp_vjp, lambda n, args: _logsumexp(args[0], *n.attrs),
    lambda n, pos, g, args, out: np.exp(args[0] - _numeric_unreduce(n, out, out, args[0]))
    * _numeric_unreduce(n, g, out, args[0]), "logsumexp", helpers=("_logsumexp",), copies=True)


# ------------------------------------------------------------------------------- shape moves
_structural(
    "reshape", 1, lambda graph, args, attrs: _reshape_shape(graph.shape(args[0]), attrs[0]),
    lambda w, n: (f"{receiver(w, n.args[0])}.reshape({n.attrs[0]})", PREC_ATOM),
    lambda graph, n, pos, g: graph.apply("reshape", expand(graph, g, graph[n].shape),
                                         attrs=(graph.shape(graph[n].args[0]),)),
    lambda n, args: np.reshape(args[0], n.attrs[0]),
    lambda n, pos, g, args, out: np.reshape(np.broadcast_to(g, out.shape), args[0].shape),
    "reshape")


def _reshape_shape(shape, target):
    size = int(np.prod(shape))
    if int(np.prod(target)) != size:
        raise GraphShapeError(f"cannot reshape an array of shape {shape} into {target}")
    return tuple(target)


_structural(
    "expand", 1, lambda graph, args, attrs: attrs[0],
    lambda w, n: (f"np.full({n.attrs[0]}, {w.expr(n.args[0])}, dtype=float)", PREC_ATOM),
    lambda graph, n, pos, g: graph.apply("sum_to", expand(graph, g, graph[n].shape),
                                         attrs=(graph.shape(graph[n].args[0]),))
    if graph[n].shape != graph.shape(graph[n].args[0]) else g,
    lambda n, args: np.broadcast_to(args[0], n.attrs[0]).copy(),
    lambda n, pos, g, args, out: _sum_to(np.broadcast_to(g, out.shape), np.shape(args[0])),
    "expand", makes_float64=True)


def summed_axes(have: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Summing an array of shape ``have`` back to ``shape``: (leading axes, all summed axes)."""
    lead = len(have) - len(shape)
    return lead, tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                            if s == 1 and have[lead + i] != 1)


def _sum_to_print(w, n):
    (shape,) = n.attrs
    have = w.graph.shape(n.args[0])
    lead, axes = summed_axes(have, shape)
    if shape == () and _dot_of_product(w, n.args[0]):
        return _dot_of_product(w, n.args[0]), PREC_ATOM
    g = w.expr(n.args[0], PREC_ATOM)
    if lead == 0:
        return f"{g}.sum(axis={_axis_text(axes)}, keepdims=True)", PREC_ATOM
    text = f"{g}.sum(axis={_axis_text(axes)})"
    if tuple(s for i, s in enumerate(have) if i not in axes) != shape:
        text += f".reshape({shape})"
    return text, PREC_ATOM


_structural(
    "sum_to", 1, lambda graph, args, attrs: attrs[0], _sum_to_print,
    lambda graph, n, pos, g: expand(graph, g, graph.shape(graph[n].args[0]))
    if graph.shape(g) != graph.shape(graph[n].args[0]) else g,
    lambda n, args: _sum_to(args[0], n.attrs[0]),
    lambda n, pos, g, args, out: np.broadcast_to(np.reshape(g, out.shape), args[0].shape),
    "sum", copies=True)


# ------------------------------------------------------------------------------- indexing
def index_text(w, spec, arrays, expression: bool = False) -> str:
    """Print an index: constants as slices, ``np.arange(n)``, and index-array nodes.

    ``expression`` prints slices as ``slice(a, b, c)``, for an index tuple outside brackets.
    """
    parts = []
    for item in spec:
        kind = item[0]
        if kind == "slice" and expression:
            parts.append(f"slice({item[1]}, {item[2]}, {item[3]})")
        elif kind == "slice":
            start, stop, step = item[1:]
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            parts.append(text + (f":{step}" if step is not None else ""))
        elif kind == "int":
            parts.append(str(item[1]))
        elif kind == "arange":
            parts.append(f"np.arange({item[1]})")
        elif kind == "array":
            parts.append(w.expr(arrays[item[1]]))
        elif kind == "newaxis":
            parts.append("None")
        elif kind == "const":
            parts.append(repr(_constant_positions(item).tolist()))
    return ", ".join(parts)


def _constant_positions(item) -> np.ndarray:
    """The positions of a constant index ``("const", shape, flat values)``."""
    return np.array(item[2], dtype=np.intp).reshape(item[1])


def numeric_index(spec, arrays):
    out = []
    for item in spec:
        kind = item[0]
        if kind == "slice":
            out.append(slice(*item[1:]))
        elif kind == "int":
            out.append(item[1])
        elif kind == "arange":
            out.append(np.arange(item[1]))
        elif kind == "array":
            out.append(np.asarray(arrays[item[1]]))
        elif kind == "newaxis":
            out.append(None)
        elif kind == "const":
            out.append(_constant_positions(item))
    return tuple(out)


def _index_shape(graph, args, attrs):
    (spec,) = attrs
    dummies = [np.broadcast_to(np.zeros((), dtype=np.intp), graph.shape(a)) for a in args[1:]]
    base = np.broadcast_to(np.zeros((), dtype=np.int8), graph.shape(args[0]))
    try:
        return base[numeric_index(spec, dummies)].shape
    except (IndexError, ValueError) as exc:
        raise GraphShapeError(f"index does not fit shape {graph.shape(args[0])}: {exc}") from None


def _index_print(w, n) -> str:
    index = index_text(w, n.attrs[0], n.args[1:])
    if not index:  # x[...] of a 0-d value: the value itself, as an array
        return f"np.asarray({w.expr(n.args[0])})"
    return f"{receiver(w, n.args[0])}[{index}]"


def _advanced(spec) -> bool:
    return any(item[0] in ("array", "arange", "const") for item in spec)


def _index_vjp(graph, n, pos, g):
    if pos != 0:
        return None
    node = graph[n]
    if graph.shape(g) != ():
        g = expand(graph, g, node.shape)
    shape = graph.shape(node.args[0])
    if all(item == ("newaxis",) or item == ("slice", None, None, None) for item in node.attrs[0]):
        # x[:, None] only adds axes: its gradient is the upstream one without them, no scatter.
        return graph.apply("reshape", expand(graph, g, node.shape), attrs=(shape,))
    return graph.apply("scatter", g, *node.args[1:], attrs=(node.attrs[0], shape))


def _numeric_index_vjp(n, pos, g, args, out):
    if pos != 0:
        return None
    dx = np.zeros(np.shape(args[0]))
    np.add.at(dx, numeric_index(n.attrs[0], args[1:]), np.broadcast_to(g, out.shape))
    return dx


register(Op("index", -1, "", None, kind="structural", shape_fn=_index_shape,
            printer=lambda w, n: (_index_print(w, n), PREC_ATOM),
            vjp=_index_vjp,
            numeric=lambda n, args: args[0][numeric_index(n.attrs[0], args[1:])],
            numeric_vjp=_numeric_index_vjp, symbol="[]"))


def _distinct_positions(graph, spec, arrays) -> bool:
    """Whether an advanced index selects each position at most once: np.arange(n) on one axis,
    every other index array of shape (n,), so the positions (i, y[i]) differ in i; or only
    0-d index arrays, which select one position."""
    ranges = [item[1] for item in spec if item[0] == "arange"]
    if not ranges and arrays and all(graph.shape(a) == () for a in arrays) and \
            not any(item[0] == "const" for item in spec):
        return True  # 0-d integers (a rolled loop's x[i]): one position
    return len(ranges) == 1 and all(graph.shape(a) == (ranges[0],) for a in arrays)


def _scatter_lines(w, n, target):
    """zeros, then assign (basic indexing: no repeats) or add.at (indices may repeat)."""
    spec, shape = n.attrs
    index = index_text(w, spec, n.args[1:], expression=_advanced(spec))
    g = w.expr(n.args[0])
    lines = [f"{target} = np.zeros({shape})"]
    if _distinct_positions(w.graph, spec, n.args[1:]):
        lines.append(f"{target}[{index_text(w, spec, n.args[1:])}] = {g}")
    elif _advanced(spec):
        lines.append(f"np.add.at({target}, ({index},), {g})" if len(spec) == 1
                     else f"np.add.at({target}, ({index}), {g})")
    else:
        lines.append(f"{target}[{index}] = {g}")
    return lines


def _scatter_vjp(graph, n, pos, g):
    if pos != 0:
        return None
    node = graph[n]
    return graph.apply("index", g, *node.args[1:], attrs=(node.attrs[0],))


def _numeric_scatter(n, args):
    spec, shape = n.attrs
    dx = np.zeros(shape)
    np.add.at(dx, numeric_index(spec, args[1:]), args[0])
    return dx


register(Op("scatter", -1, "", None, kind="structural",
            shape_fn=lambda graph, args, attrs: attrs[1], statement=_scatter_lines,
            vjp=_scatter_vjp, numeric=_numeric_scatter,
            numeric_vjp=lambda n, pos, g, args, out: None if pos else
            np.broadcast_to(g, out.shape)[numeric_index(n.attrs[0], args[1:])],
            symbol="scatter", copies=True, makes_float64=True))


# ------------------------------------------------------------------------------- x[i] = v
# A functional update: a new array equal to x except at the index, which holds v (broadcast).
# Its gradient stops at the overwritten region (x's gradient is zero there) and v receives that
# region of the upstream gradient, summed over what v was broadcast along.
def _setitem_shape(graph, args, attrs):
    x, value = graph.shape(args[0]), graph.shape(args[1])
    region = _index_shape(graph, [args[0], *args[2:]], attrs)
    try:  # NumPy drops a value's extra leading axes of size 1 (z[0] = x with x of shape (1, n))
        np.broadcast_to(np.zeros(value, dtype=np.int8).reshape(_trim(value, region)), region)
    except ValueError:
        raise GraphShapeError(f"cannot assign a value of shape {value} into a region of shape "
                              f"{region}") from None
    return x


def _setitem_lines(w, n, target):
    (spec,) = n.attrs
    index = index_text(w, spec, n.args[2:])
    return [f"{target} = {receiver(w, n.args[0])}.copy()",
            f"{target}[{index or '...'}] = {w.expr(n.args[1])}"]  # x[...] = v of a 0-d x


def _setitem_vjp(graph, n, pos, g):
    node = graph[n]
    if pos > 1:
        return None  # index arrays
    g = expand(graph, g, node.shape)
    arrays = node.args[2:]
    if pos == 0:
        return graph.apply("setitem", g, graph.const(0.0), *arrays, attrs=node.attrs)
    region = graph.apply("index", g, *arrays, attrs=node.attrs)
    value = graph.shape(node.args[1])
    if len(value) > len(graph.shape(region)):  # extra leading axes of size 1 come back
        region = graph.apply("reshape", region, attrs=((1,) * (len(value) - len(
            graph.shape(region))) + graph.shape(region),))
    return region


def _trim(value: tuple, region: tuple) -> tuple:
    """``value`` without the leading axes of size 1 that NumPy drops to fit ``region``."""
    while len(value) > len(region) and value[0] == 1:
        value = value[1:]
    return value


def _numeric_setitem(n, args):
    out = np.array(args[0], dtype=np.result_type(args[0], args[1]), copy=True)
    index = numeric_index(n.attrs[0], args[2:])
    out[index] = np.reshape(args[1], _trim(np.shape(args[1]), np.shape(out[index])))
    return out


def _numeric_setitem_vjp(n, pos, g, args, out):
    if pos > 1:
        return None
    g = np.array(np.broadcast_to(g, out.shape), dtype=float)
    index = numeric_index(n.attrs[0], args[2:])
    if pos == 0:
        g[index] = 0.0
        return g
    value = np.shape(args[1])
    return _sum_to(g[index], _trim(value, g[index].shape)).reshape(value)


register(Op("setitem", -1, "", None, kind="structural", shape_fn=_setitem_shape,
            statement=_setitem_lines, vjp=_setitem_vjp, numeric=_numeric_setitem,
            numeric_vjp=_numeric_setitem_vjp, symbol="[]=", copies=True))
