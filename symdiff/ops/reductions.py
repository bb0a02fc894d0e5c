"""Reductions and scans beyond sum/max/min: var, prod, cumsum, cumprod, diff, argmax, argmin.

Each backward is what a careful person writes by hand, never a Jacobian: var sends
``2 * (x - mean) / (n - ddof) * g``; cumsum a cumsum of ``g`` running the other way; diff the
transposed difference (a difference of ``g`` padded with zeros); prod the product of the *other*
elements (left and right running products, never ``prod / x``, so zeros are exact); cumprod a
reverse scan (``_cumprod_grad``). ``std`` is ``sqrt(var)`` and ``mean``/``average`` are sums, built
by the tracer (``symdiff/numpy_linalg.py``). argmax/argmin give integer arrays with no gradient.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SymdiffError
from ..runtime import _cumprod_grad, _prod_others
from .core import PREC_ATOM, Op, register
from .tensor import expand, keepdims_shape


def _structural(name, arity, shape_fn, printer, vjp, numeric, numeric_vjp, **kw):
    return register(Op(name, arity, "", None, kind="structural", shape_fn=shape_fn,
                       printer=printer, vjp=vjp, numeric=numeric, numeric_vjp=numeric_vjp,
                       symbol=kw.pop("symbol", name), **kw))


def _axis_text(axes) -> str:
    return str(axes[0]) if len(axes) == 1 else str(tuple(axes))


def _reduced(shape, axes, keepdims):
    return keepdims_shape(shape, axes) if keepdims else \
        tuple(n for i, n in enumerate(shape) if i not in axes)


def _unreduced(graph, node_id, g, axes, keepdims):
    """The upstream gradient of a reduction shaped to broadcast against its input."""
    if graph.shape(g) == ():
        return g
    g = expand(graph, g, graph[node_id].shape)
    if keepdims:
        return g
    x_shape = graph.shape(graph[node_id].args[0])
    return graph.apply("reshape", g, attrs=(keepdims_shape(x_shape, axes),))


def _numeric_unreduced(g, out, x, axes, keepdims):
    g = np.broadcast_to(g, np.shape(out))
    return g if keepdims else np.reshape(g, keepdims_shape(np.shape(x), axes))


def no_second_derivative(what: str):
    """The VJP of a gradient-only op: differentiating it again is refused, never zero."""
    def vjp(graph, node_id, position, g):
        raise SymdiffError(f"second derivatives through {what} are not supported")
    return vjp


# ------------------------------------------------------------------------------- var
def _count(shape, axes) -> int:
    return math.prod(shape[a] for a in axes)


def _var_print(w, n):
    axes, keepdims, ddof = n.attrs
    x = w.expr(n.args[0])
    parts = [x]
    if axes != tuple(range(len(w.graph.shape(n.args[0])))):
        parts.append(f"axis={_axis_text(axes)}")
    if ddof:
        parts.append(f"ddof={ddof}")
    if keepdims:
        parts.append("keepdims=True")
    return f"np.var({', '.join(parts)})", PREC_ATOM


def _scale(count: int, ddof: int) -> float:
    return 2.0 / (count - ddof) if count != ddof else math.inf


def _var_vjp(graph, n, pos, g):
    """``2 * (x - mean) / (n - ddof) * g``."""
    x = graph[n].args[0]
    axes, keepdims, ddof = graph[n].attrs
    count = _count(graph.shape(x), axes)
    mean = graph.apply("div", graph.apply("sum", x, attrs=(axes, True)), graph.const(count))
    centered = graph.apply("sub", x, mean)
    scaled = graph.apply("mul", graph.const(_scale(count, ddof)), centered)
    return graph.apply("mul", scaled, _unreduced(graph, n, g, axes, keepdims))


def _numeric_var_vjp(n, pos, g, args, out):
    axes, keepdims, ddof = n.attrs
    x = args[0]
    count = _count(x.shape, axes)
    centered = x - np.mean(x, axis=axes, keepdims=True)
    return centered * _scale(count, ddof) * _numeric_unreduced(g, out, x, axes, keepdims)


_structural(
    "var", 1, lambda graph, args, attrs: _reduced(graph.shape(args[0]), *attrs[:2]), _var_print,
    _var_vjp, lambda n, args: np.var(args[0], axis=n.attrs[0], keepdims=n.attrs[1],
                                     ddof=n.attrs[2]),
    _numeric_var_vjp, copies=True, uses=("np.var",))


# ------------------------------------------------------------------------------- prod
def _prod_print(w, n):
    axes, keepdims = n.attrs
    x = w.expr(n.args[0])
    if axes == tuple(range(len(w.graph.shape(n.args[0])))) and not keepdims:
        return f"np.prod({x})", PREC_ATOM
    return f"np.prod({x}, axis={_axis_text(axes)}{', keepdims=True' * keepdims})", PREC_ATOM


def _prod_vjp(graph, n, pos, g):
    x = graph[n].args[0]
    axes, keepdims = graph[n].attrs
    others = graph.apply("prod_others", x, attrs=(axes,))
    return graph.apply("mul", others, _unreduced(graph, n, g, axes, keepdims))


def _numeric_prod_vjp(n, pos, g, args, out):
    """Each element's partial: the product with that element replaced by 1 (no division)."""
    axes, keepdims = n.attrs
    x = args[0]
    others = np.empty_like(x)
    for index in np.ndindex(x.shape):
        one = x.copy()
        one[index] = 1.0
        kept = tuple(0 if k in axes else i for k, i in enumerate(index))
        others[index] = np.prod(one, axis=axes, keepdims=True)[kept]
    return others * _numeric_unreduced(g, out, x, axes, keepdims)


_structural(
    "prod", 1, lambda graph, args, attrs: _reduced(graph.shape(args[0]), *attrs), _prod_print,
    _prod_vjp, lambda n, args: np.prod(args[0], axis=n.attrs[0], keepdims=n.attrs[1]),
    _numeric_prod_vjp, copies=True, uses=("np.prod",))
# For each element, the product of the others over the axes (the partial of a product).
_structural(
    "prod_others", 1, lambda graph, args, attrs: graph.shape(args[0]),
    lambda w, n: (f"_prod_others({w.expr(n.args[0])}, {n.attrs[0]})", PREC_ATOM),
    no_second_derivative("np.prod"), lambda n, args: _prod_others(args[0], n.attrs[0]),
    no_second_derivative("np.prod"), helpers=("_prod_others",), copies=True,
    symbol="prod'")


# ------------------------------------------------------------------------------- cumsum
def _cumsum_print(w, n):
    axis, reverse = n.attrs
    x = w.expr(n.args[0])
    if not reverse:
        return f"np.cumsum({x}, axis={axis})", PREC_ATOM
    return f"np.flip(np.cumsum(np.flip({x}, {axis}), axis={axis}), {axis})", PREC_ATOM


def _numeric_cumsum(n, args):
    axis, reverse = n.attrs
    x = args[0]
    if not reverse:
        return np.cumsum(x, axis=axis)
    return np.sum(x, axis=axis, keepdims=True) - np.cumsum(x, axis=axis) + x


def _numeric_cumsum_vjp(n, pos, g, args, out):
    axis, reverse = n.attrs
    g = np.broadcast_to(g, out.shape)
    if reverse:
        return np.cumsum(g, axis=axis)
    return np.sum(g, axis=axis, keepdims=True) - np.cumsum(g, axis=axis) + g


# A running sum along one axis; ``reverse`` runs it from the end (the backward of a cumsum).
_structural(
    "cumsum", 1, lambda graph, args, attrs: graph.shape(args[0]), _cumsum_print,
    lambda graph, n, pos, g: graph.apply("cumsum", expand(graph, g, graph[n].shape),
                                         attrs=(graph[n].attrs[0], not graph[n].attrs[1])),
    _numeric_cumsum, _numeric_cumsum_vjp, copies=True, uses=("np.cumsum", "np.flip"))


# ------------------------------------------------------------------------------- cumprod
_structural(
    "cumprod", 1, lambda graph, args, attrs: graph.shape(args[0]),
    lambda w, n: (f"np.cumprod({w.expr(n.args[0])}, axis={n.attrs[0]})", PREC_ATOM),
    lambda graph, n, pos, g: graph.apply("cumprod_grad", graph[n].args[0],
                                         expand(graph, g, graph[n].shape), attrs=graph[n].attrs),
    lambda n, args: np.cumprod(args[0], axis=n.attrs[0]),
    lambda n, pos, g, args, out: _numeric_cumprod_vjp(args[0], np.broadcast_to(g, out.shape),
                                                      n.attrs[0]),
    copies=True, uses=("np.cumprod",))


def _numeric_cumprod_vjp(x, g, axis):
    """d/dx[i] of sum(g * cumprod(x)): sum over j >= i of g[j] * prod(x[:j+1] without x[i])."""
    x, g = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    out = np.zeros(x.shape)
    for i in range(x.shape[-1]):
        for j in range(i, x.shape[-1]):
            others = np.delete(x[..., :j + 1], i, axis=-1)
            out[..., i] += g[..., j] * np.prod(others, axis=-1)
    return np.moveaxis(out, -1, axis)


_structural(
    "cumprod_grad", 2, lambda graph, args, attrs: graph.shape(args[0]),
    lambda w, n: (f"_cumprod_grad({w.expr(n.args[0])}, {w.expr(n.args[1])}, {n.attrs[0]})",
                  PREC_ATOM),
    no_second_derivative("np.cumprod"),
    lambda n, args: _cumprod_grad(args[0], args[1], n.attrs[0]),
    no_second_derivative("np.cumprod"), helpers=("_cumprod_grad",), copies=True,
    symbol="cumprod'")


# ------------------------------------------------------------------------------- diff
def _diff_shape(graph, args, attrs):
    axis, padded = attrs
    shape = list(graph.shape(args[0]))
    shape[axis] = shape[axis] + 1 if padded else max(shape[axis] - 1, 0)
    return tuple(shape)


def _diff_print(w, n):
    axis, padded = n.attrs
    pad = ", prepend=0.0, append=0.0" if padded else ""
    return f"np.diff({w.expr(n.args[0])}, axis={axis}{pad})", PREC_ATOM


def _numeric_diff_vjp(n, pos, g, args, out):
    axis, padded = n.attrs
    g = np.moveaxis(np.broadcast_to(g, out.shape), axis, -1)
    if padded:  # d/dx of sum(g * diff(pad(x))) is -(g[1:] - g[:-1])
        dx = g[..., :-1] - g[..., 1:]
    else:
        dx = np.zeros(g.shape[:-1] + (g.shape[-1] + 1,))
        dx[..., 1:] += g
        dx[..., :-1] -= g
    return np.moveaxis(dx, -1, axis)


# ``x[1:] - x[:-1]`` along one axis; ``padded`` puts a zero before and after first, which makes
# it minus the transpose of the plain difference: each is the other's backward.
_structural(
    "diff", 1, _diff_shape, _diff_print,
    lambda graph, n, pos, g: graph.apply("neg", graph.apply(
        "diff", expand(graph, g, graph[n].shape), attrs=(graph[n].attrs[0], not graph[n].attrs[1]))),
    lambda n, args: np.diff(args[0], axis=n.attrs[0], **(
        {"prepend": 0.0, "append": 0.0} if n.attrs[1] else {})),
    _numeric_diff_vjp, copies=True, uses=("np.diff",))


# ------------------------------------------------------------------------------- argmax
def _arg_shape(graph, args, attrs):
    axis, keepdims = attrs
    shape = graph.shape(args[0])
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    return _reduced(shape, (axis,), keepdims)


def _arg_extreme(name):
    def printer(w, n):
        axis, keepdims = n.attrs
        extra = "" if axis is None else f", axis={axis}"
        extra += ", keepdims=True" if keepdims else ""
        return f"np.{name}({w.expr(n.args[0])}{extra})", PREC_ATOM

    _structural(
        name, 1, _arg_shape, printer, lambda graph, n, pos, g: None,
        lambda n, args: getattr(np, name)(args[0], axis=n.attrs[0], keepdims=n.attrs[1]),
        lambda n, pos, g, args, out: None, copies=True, integer=True, uses=(f"np.{name}",),
        kink="an integer result: no gradient")


_arg_extreme("argmax")
_arg_extreme("argmin")
