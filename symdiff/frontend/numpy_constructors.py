"""Array constructors as constants (zeros, ones, full, eye, arange, linspace) and np.array of
values: no gradient of their own, except through the values np.full and np.array take."""

from __future__ import annotations

from dataclasses import dataclass

from .numpy_api import Arange, _args
from ..ops.shape import arange_length
from .numpy_shapes import (_broadcast_to, _cast, _constant, _dtype, _from_list, _is_int,
                           _is_number, _sizes, _value)
from .calls import MODULE_VALUES, Tracer, Var, call


@dataclass(frozen=True)
class ArangeArray(Arange, Var):
    """``np.arange(n)``: a float array value, and still an index (``s[np.arange(N), y]``)."""


# ------------------------------------------------------------------------ constructors
def _filled(value: float):
    def handler(t: Tracer, node, args, kwargs):
        shape, dtype = _args(t, node, args, kwargs, ["shape", "dtype"], {"dtype": None})
        return _constant(t, node, "full", (_sizes(t, node, shape), value), dtype)
    return handler


call("numpy.zeros")(_filled(0.0))
call("numpy.ones")(_filled(1.0))
call("numpy.empty")(_filled(0.0))  # its contents are arbitrary: zeros are as good as any


@call("numpy.full")
def _full(t: Tracer, node, args, kwargs):
    shape, fill, dtype = _args(t, node, args, kwargs, ["shape", "fill_value", "dtype"],
                               {"dtype": None})
    shape = _sizes(t, node, shape)
    if _is_number(fill):
        return _constant(t, node, "full", (shape, float(fill)), dtype)
    fill = _value(t, node, fill, "a number or an array as its fill value")
    # A traced fill value is broadcast to the shape: its gradient is summed back.
    out = fill if t.shape_of(fill, node) == shape else \
        _broadcast_to(t, node, [fill, shape], {})
    return _cast(t, node, out, _dtype(t, node, dtype))


def _like(value: float | None):
    def handler(t: Tracer, node, args, kwargs):
        names, defaults = ["a", "fill_value", "dtype"], {"dtype": None}
        if value is not None:
            names.remove("fill_value")
        bound = _args(t, node, args, kwargs, names, defaults)
        x, dtype = bound[0], _dtype(t, node, bound[-1])
        fill = value if value is not None else bound[1]
        if not _is_number(fill):
            raise t.program.error("the fill value must be a number constant", node)
        x = _value(t, node, x)
        if dtype is not None:
            return _constant(t, node, "full", (t.shape_of(x, node), float(fill)),
                             MODULE_VALUES[dtype])
        return t.apply("full_like", [x], node, attrs=(float(fill),))
    return handler


call("numpy.zeros_like", "numpy.empty_like")(_like(0.0))
call("numpy.ones_like")(_like(1.0))
call("numpy.full_like")(_like(None))


@call("numpy.eye")
def _eye(t: Tracer, node, args, kwargs):
    rows, cols, k, dtype = _args(t, node, args, kwargs, ["N", "M", "k", "dtype"],
                                 {"M": None, "k": 0, "dtype": None})
    cols = rows if cols is None else cols
    if not all(_is_int(v) for v in (rows, cols, k)) or rows < 0 or cols < 0:
        raise t.program.error("np.eye() needs non-negative integer sizes and an integer k", node)
    return _constant(t, node, "eye", (rows, cols, k), dtype)


@call("numpy.identity")
def _identity(t: Tracer, node, args, kwargs):
    n, dtype = _args(t, node, args, kwargs, ["n", "dtype"], {"dtype": None})
    return _eye(t, node, [n], {"dtype": dtype})


@call("numpy.arange")
def _arange(t: Tracer, node, args, kwargs):
    bound = _args(t, node, args, kwargs, ["start", "stop", "step", "dtype"],
                  {"start": None, "stop": None, "step": 1, "dtype": None})
    start, stop, step, dtype = bound
    if stop is None:
        start, stop = 0, start
    elif start is None:
        start = 0
    if not all(_is_number(v) for v in (start, stop, step)):
        raise t.program.error("np.arange() needs number constants", node)
    if step == 0:
        raise t.program.error("np.arange() step must not be zero", node)
    length = arange_length(start, stop, step)
    out = _constant(t, node, "arange", (start, stop, step), dtype)
    if start == 0 and step == 1 and _is_int(stop) and dtype is None:
        return ArangeArray(out.node, length)   # also an index: s[np.arange(N), y]
    return out


@call("numpy.linspace")
def _linspace(t: Tracer, node, args, kwargs):
    start, stop, num, endpoint, retstep, dtype, axis = _args(
        t, node, args, kwargs, ["start", "stop", "num", "endpoint", "retstep", "dtype", "axis"],
        {"num": 50, "endpoint": True, "retstep": False, "dtype": None, "axis": 0})
    if not _is_number(start) or not _is_number(stop) or not _is_int(num) or num < 0:
        raise t.program.error("np.linspace() needs number constants and a non-negative "
                              "integer num", node)
    if retstep or axis != 0:
        raise t.program.error("np.linspace() supports retstep=False and axis=0 only", node)
    return _constant(t, node, "linspace", (float(start), float(stop), num, bool(endpoint)),
                     dtype)


# ------------------------------------------------------------------------ np.array
@call("numpy.array", "numpy.asarray", "numpy.asanyarray")
def _array(t: Tracer, node, args, kwargs):
    obj, dtype = _args(t, node, args, kwargs, ["object", "dtype"], {"dtype": None})
    dtype = _dtype(t, node, dtype)
    if _is_number(obj):
        out = _value(t, node, obj)
    elif isinstance(obj, Var):
        out = obj
    elif isinstance(obj, (list, tuple)):
        out = _from_list(t, node, obj)
    else:
        raise t.program.error("np.array() needs numbers, arrays, or lists of them", node)
    return _cast(t, node, out, dtype)
