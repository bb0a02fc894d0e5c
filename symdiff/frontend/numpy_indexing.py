"""Functions that pick elements by position: ``np.argsort``, ``np.take``, ``np.take_along_axis``,
``np.select``, and the positions of values known while tracing (``np.nonzero``, one-argument
``np.where``, ``np.argwhere``, ``np.flatnonzero``, ``np.searchsorted``, ``np.unravel_index``).

Every one is lowered to the index op (a gather whose backward is a scatter that adds repeats up),
to ``argsort`` (an integer result, no gradient) or to ``where``, so no new gradient rule is
written here. Positions computed from the data have a length known only when the program runs:
``x[np.nonzero(mask)]`` is ``x[mask]`` (summed or used elementwise, as a mask selection is);
anything else that needs them is a clear error.
"""

from __future__ import annotations

import numpy as np

from .calls import CALLS, MODULE_VALUES, Module, Tracer, Var, call
from .numpy_api import (Positions, _args, _index, _one_axis, _product, _reshaped, _shape_error,
                        static_array)
from .numpy_shapes import _is_int, _is_number, _make, _value, sort_operand

def _positions(t: Tracer, node, values: np.ndarray) -> Var:
    """Integer positions known while tracing, as a constant array (it indexes, and it is an
    array: ``len``, ``.shape`` and arithmetic work)."""
    values = np.asarray(values)
    return _make(t, node, "literal", (values.shape, tuple(float(v) for v in values.ravel())))


def _nonzero_of(t: Tracer, node, x, what: str) -> np.ndarray:
    static = static_array(t, x)
    if static is None:
        raise t.program.error(f"{what} of values computed from the inputs gives as many positions "
                              "as there are nonzero values, a number known only when the program "
                              "runs: index with the mask itself (x[mask]) or write "
                              "np.where(mask, x, 0)", node)
    return static


# ------------------------------------------------------------------------ positions
@call("numpy.nonzero", "method.nonzero")
def _nonzero(t: Tracer, node, args, kwargs):
    """Positions of a value known while tracing (no gradient); x[np.nonzero(m)] is x[m]."""
    (x,) = _args(t, node, args, kwargs, ["a"], {})
    if isinstance(x, Var) and t.is_mask(x) and static_array(t, x) is None:
        ndim = len(t.shape_of(x, node))
        return tuple(Positions(x, k, ndim) for k in range(ndim))  # x[np.nonzero(m)] is x[m]
    static = _nonzero_of(t, node, x, "np.nonzero()")
    if static.ndim == 0:
        raise t.program.error("np.nonzero() of a zero-dimensional value: use np.atleast_1d", node)
    return tuple(_positions(t, node, p) for p in np.nonzero(static))


@call("numpy.where")
def _where(t: Tracer, node, args, kwargs):
    """``np.where(c, a, b)`` selects; ``np.where(c)`` is ``np.nonzero(c)``."""
    if len(args) == 1 and not kwargs:
        return _nonzero(t, node, args, {})
    t.no_keywords(node, kwargs)
    if len(args) != 3:
        raise t.program.error(f"np.where() takes 1 or 3 arguments, got {len(args)}", node)
    return t.apply("where", args, node)


_where.op = "where"  # the op table shows where's rule


@call("numpy.flatnonzero")
def _flatnonzero(t: Tracer, node, args, kwargs):
    """Positions of a value known while tracing (no gradient)."""
    (x,) = _args(t, node, args, kwargs, ["a"], {})
    return _positions(t, node, np.flatnonzero(_nonzero_of(t, node, x, "np.flatnonzero()")))


@call("numpy.argwhere")
def _argwhere(t: Tracer, node, args, kwargs):
    """Positions of a value known while tracing (no gradient)."""
    (x,) = _args(t, node, args, kwargs, ["a"], {})
    return _positions(t, node, np.argwhere(_nonzero_of(t, node, x, "np.argwhere()")))


@call("numpy.searchsorted")
def _searchsorted(t: Tracer, node, args, kwargs):
    """Positions in values known while tracing (no gradient)."""
    a, v, side, sorter = _args(t, node, args, kwargs, ["a", "v", "side", "sorter"],
                               {"side": "left", "sorter": None})
    static = [static_array(t, value) for value in (a, v, sorter)]
    if static[0] is None or static[1] is None or sorter is not None and static[2] is None \
            or side not in ("left", "right"):
        raise t.program.error("np.searchsorted() needs values known while tracing (its result "
                              "is a position: it has no gradient)", node)
    found = np.searchsorted(static[0], static[1], side=side, sorter=static[2])
    return int(found) if np.ndim(found) == 0 else _positions(t, node, found)


@call("numpy.unravel_index")
def _unravel_index(t: Tracer, node, args, kwargs):
    """Positions of values known while tracing (no gradient)."""
    indices, shape, order = _args(t, node, args, kwargs, ["indices", "shape", "order"],
                                  {"order": "C"})
    static = static_array(t, indices)
    if static is None or not isinstance(shape, tuple) or not all(_is_int(n) for n in shape) \
            or order not in ("C", "F"):
        raise t.program.error("np.unravel_index() needs positions and a shape known while "
                              "tracing", node)
    try:
        found = np.unravel_index(static.astype(np.intp), shape, order=order)
    except (ValueError, TypeError) as exc:
        raise t.program.error(f"np.unravel_index(): {exc}", node, cls=_shape_error()) from None
    return tuple(int(p) if np.ndim(p) == 0 else _positions(t, node, p) for p in found)


# ------------------------------------------------------------------------ gathers
def _index_argument(t: Tracer, node, indices):
    """Positions as an index item: an int, a list, a constant array or an integer array."""
    if isinstance(indices, tuple):
        indices = list(indices)
    if isinstance(indices, (int, list, Var)) and not isinstance(indices, bool):
        return indices
    raise t.program.error(f"{t.what(node.func)}() needs integer positions", node)


@call("numpy.take", "method.take")
def _take(t: Tracer, node, args, kwargs):
    """A gather along the axis (backward: a scatter that adds repeated positions up)."""
    x, indices, axis, mode = _args(t, node, args, kwargs, ["a", "indices", "axis", "mode"],
                                   {"axis": None, "mode": "raise"})
    if mode != "raise":
        raise t.program.error("np.take() supports mode='raise' only", node)
    x = _value(t, node, x)
    if axis is None:
        x, axis = _reshaped(t, node, x, (_product(t.shape_of(x, node)),)), 0
    axis = _one_axis(t, node, axis, len(t.shape_of(x, node)))
    index = (slice(None),) * axis + (_index_argument(t, node, indices),)
    return _index(t, node, [x, index], {})


@call("method.argsort", "numpy.argsort")
def _argsort(t: Tracer, node, args, kwargs):
    """The positions that sort along an axis (integers, no gradient; stable among ties).

    NumPy's default kind promises no order among ties; the values they pick are equal."""
    x, axis, _ = sort_operand(t, node, args, kwargs, "np.argsort()")
    return t.apply("argsort", [x], node, attrs=(axis,))


@call("numpy.take_along_axis")
def _take_along_axis(t: Tracer, node, args, kwargs):
    """A gather along the axis (np.sort's permutation where it is one; else a scatter back)."""
    x, indices, axis = _args(t, node, args, kwargs, ["arr", "indices", "axis"], {"axis": -1})
    x = _value(t, node, x)
    indices = _integer_array(t, node, indices)
    if axis is None:
        x, axis = _reshaped(t, node, x, (_product(t.shape_of(x, node)),)), 0
    shape, ishape = t.shape_of(x, node), t.shape_of(indices, node)
    if len(shape) != len(ishape):
        raise t.program.error(f"np.take_along_axis() needs indices with as many dimensions as "
                              f"the array, got shapes {shape} and {ishape}", node,
                              cls=_shape_error())
    axis = _one_axis(t, node, axis, len(shape))
    made = t.graph[indices.node]
    if made.op == "argsort" and made.args[0] == x.node and made.attrs == (axis,):
        return t.apply("permute_along", [x, indices], node, attrs=(axis,))  # np.sort's gather
    index = tuple(indices if d == axis else
                  np.arange(n).reshape([n if e == d else 1 for e in range(len(shape))]).tolist()
                  for d, n in enumerate(shape))
    return _index(t, node, [x, index], {})


def _integer_array(t: Tracer, node, indices) -> Var:
    if isinstance(indices, Var):
        return indices
    static = static_array(t, indices)
    if static is None or static.dtype.kind not in "iu":
        raise t.program.error(f"{t.what(node.func)}() needs an integer array of positions", node)
    return _positions(t, node, static)


# ------------------------------------------------------------------------ select
@call("numpy.select")
def _select(t: Tracer, node, args, kwargs):
    """The first choice whose condition holds, else the default: nested where()s.

    Each choice's gradient is masked by its own condition and by the ones before it."""
    conditions, choices, default = _args(t, node, args, kwargs,
                                         ["condlist", "choicelist", "default"], {"default": 0})
    if not isinstance(conditions, (list, tuple)) or not isinstance(choices, (list, tuple)) \
            or len(conditions) != len(choices) or not conditions:
        raise t.program.error("np.select() needs two lists of the same length: conditions and "
                              "choices", node)
    out = float(default) if _is_number(default) else default
    for condition, choice in reversed(list(zip(conditions, choices))):
        out = t.apply("where", [condition, choice, out], node)
    return out


# ------------------------------------------------------------------------ ufunc methods
UFUNC_REDUCE = {"add": "numpy.sum", "multiply": "numpy.prod", "maximum": "numpy.max",
                "minimum": "numpy.min", "logaddexp": "builtin.logsumexp"}
UFUNC_ACCUMULATE = {"add": "numpy.cumsum", "multiply": "numpy.cumprod"}
UFUNC_OUTER = ("add", "subtract", "multiply", "divide", "true_divide", "power", "maximum",
               "minimum", "hypot", "arctan2", "logaddexp")


def _as(target: str) -> str:
    return "as " + target.replace("numpy.", "np.").replace("builtin.", "")


def _ufunc_reduce(target: str):
    def handler(t: Tracer, node, args, kwargs):
        x, axis, keepdims = _args(t, node, args, kwargs, ["array", "axis", "keepdims"],
                                  {"axis": 0, "keepdims": False})
        return CALLS[target](t, node, [x], {"axis": axis, "keepdims": keepdims})
    handler.__name__, handler.__doc__ = "reduce", _as(target)
    return handler


def _ufunc_accumulate(target: str):
    def handler(t: Tracer, node, args, kwargs):
        x, axis = _args(t, node, args, kwargs, ["array", "axis"], {"axis": 0})
        return CALLS[target](t, node, [x], {"axis": axis})
    handler.__name__, handler.__doc__ = "accumulate", _as(target)
    return handler


def _ufunc_outer(name: str):
    def handler(t: Tracer, node, args, kwargs):
        a, b = _args(t, node, args, kwargs, ["A", "B"], {})
        a, b = _value(t, node, a), _value(t, node, b)
        sa, sb = t.shape_of(a, node), t.shape_of(b, node)
        a = _reshaped(t, node, a, sa + (1,) * len(sb))
        return CALLS[f"numpy.{name}"](t, node, [a, b], {})
    handler.__name__ = "outer"
    handler.__doc__ = f"np.{name} of a (with an axis per axis of b) and b, broadcast"
    return handler


for _name in sorted(set(UFUNC_REDUCE) | set(UFUNC_OUTER)):
    MODULE_VALUES.setdefault(_name, Module(f"numpy.{_name}"))  # np.add.reduce(...)
for _name, _target in UFUNC_REDUCE.items():
    call(f"numpy.{_name}.reduce")(_ufunc_reduce(_target))
for _name, _target in UFUNC_ACCUMULATE.items():
    call(f"numpy.{_name}.accumulate")(_ufunc_accumulate(_target))
for _name in UFUNC_OUTER:
    call(f"numpy.{_name}.outer")(_ufunc_outer(_name))
