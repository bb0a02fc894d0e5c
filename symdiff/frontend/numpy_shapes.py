"""NumPy's shape functions and array constructors, as call handlers.

Each handler binds NumPy's own argument names and defaults, normalizes axes as NumPy does
(negative axes, ``axis=None`` where NumPy allows it) and builds graph nodes. Where a function is a
composition of entries that exist, it is lowered to them here, so its gradient is the one a
careful person writes by hand: ``ravel`` is a reshape, ``swapaxes`` a transpose, ``fliplr`` the
slice ``x[:, ::-1]``, ``split`` a list of slices, ``stack`` reshapes and one concatenate. The
entries these functions need of their own are in ``symdiff/ops/shape.py``.

Constructors (``np.zeros``, ``np.eye``, ``np.arange``, ``np.linspace``, ``np.array`` of numbers)
are constant arrays, with no gradient; ``np.array`` of traced values is a stack.
"""

from __future__ import annotations


from dataclasses import dataclass

import numpy as np

from .numpy_api import (_args, _axes, _index, _one_axis, _permuted, _product, _reshaped,
                        _shape_error)
from ..ops.shape import WHOLE
from .calls import MODULE_VALUES, NeedsShapes, Tracer, Var, call


@dataclass(frozen=True)
class DType:
    """A NumPy float type named in user code (``np.float32``)."""

    name: str


for _name, _dtype in (("float32", "float32"), ("single", "float32"), ("float64", "float64"),
                      ("double", "float64")):
    MODULE_VALUES[_name] = DType(_dtype)


# ------------------------------------------------------------------------ small helpers
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value(t: Tracer, node, x, what: str = "an array"):
    """``x`` as a graph value: a traced array, or a number as a 0-d constant array."""
    if isinstance(x, Var):
        return x
    if _is_number(x):
        return _make(t, node, "full", ((), float(x)))
    if isinstance(x, (list, tuple)):
        return _from_list(t, node, x)
    raise t.program.error(f"{t.what(node.func)}() needs {what}", node)


def _sequence(t: Tracer, node, items, what: str = "a list of arrays") -> list:
    if not isinstance(items, (list, tuple)) or not items:
        raise t.program.error(f"{t.what(node.func)}() needs {what}", node)
    return [_value(t, node, x) for x in items]


def _int_tuple(t: Tracer, node, value, what: str) -> tuple[int, ...]:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    # An integer input here is a size: the program specializes on its value.
    items = tuple(t.static_int(v, node) if isinstance(v, Var) else v for v in items)
    if not all(_is_int(v) for v in items):
        raise t.program.error(f"{what} must be an integer constant or a tuple of them", node)
    return items


def _sizes(t: Tracer, node, shape) -> tuple[int, ...]:
    shape = _int_tuple(t, node, shape, "a shape")
    if any(n < 0 for n in shape):
        raise t.program.error(f"negative dimensions are not allowed: {shape}", node,
                              cls=_shape_error())
    return shape


def _dtype(t: Tracer, node, dtype) -> str | None:
    """None, "float32" or "float64" (the only types a differentiable array has)."""
    if dtype is None:
        return None
    if not isinstance(dtype, DType):
        raise t.program.error("dtype must be np.float32 or np.float64", node)
    return dtype.name


def _cast(t: Tracer, node, x, dtype: str | None):
    return x if dtype is None else t.apply("astype", [x], node, attrs=(dtype,))


def _make(t: Tracer, node, op: str, attrs: tuple) -> Var:
    """A constant array (no arguments)."""
    if any(t.graph.shape(i) is None for i in t.graph.inputs.values()):
        # It has a shape of its own: the program's values are not all the broadcast of its
        # inputs, so the program is traced for its inputs' shapes.
        raise NeedsShapes()
    return t.apply(op, [], node, attrs=attrs)


def _constant(t: Tracer, node, op: str, attrs: tuple, dtype):
    out = _make(t, node, op, attrs)
    return out if _dtype(t, node, dtype) in (None, "float64") else \
        t.apply("astype", [out], node, attrs=("float32",))


# ------------------------------------------------------------------------ joining
def _concatenate_values(t: Tracer, node, items: list, axis):
    if axis is None:
        items = [_reshaped(t, node, x, (_product(t.shape_of(x, node)),)) for x in items]
        axis = 0
    shapes = [t.shape_of(x, node) for x in items]
    if any(not s for s in shapes):
        raise t.program.error("zero-dimensional arrays cannot be concatenated", node,
                              cls=_shape_error())
    axis = _one_axis(t, node, axis, len(shapes[0]))
    if len(items) == 1:
        return items[0]
    return t.apply("concatenate", items, node, attrs=(axis,))


@call("numpy.concatenate", "numpy.concat")
def _concatenate(t: Tracer, node, args, kwargs):
    items, axis = _args(t, node, args, kwargs, ["arrays", "axis"], {"axis": 0})
    return _concatenate_values(t, node, _sequence(t, node, items), axis)


def _stack_values(t: Tracer, node, items: list, axis):
    shapes = {t.shape_of(x, node) for x in items}
    if len(shapes) != 1:
        raise t.program.error(f"all input arrays must have the same shape, got "
                              f"{' and '.join(map(str, sorted(shapes)))}", node,
                              cls=_shape_error())
    (shape,) = shapes
    axis = _one_axis(t, node, axis, len(shape) + 1)
    lifted = [_reshaped(t, node, x, shape[:axis] + (1,) + shape[axis:]) for x in items]
    return _concatenate_values(t, node, lifted, axis)


@call("numpy.stack")
def _stack(t: Tracer, node, args, kwargs):
    items, axis = _args(t, node, args, kwargs, ["arrays", "axis"], {"axis": 0})
    return _stack_values(t, node, _sequence(t, node, items), axis)


def _atleast(t: Tracer, node, x, ndim: int):
    shape = t.shape_of(x, node)
    if len(shape) >= ndim:
        return x
    if ndim == 1:
        return _reshaped(t, node, x, (1,))
    if ndim == 2:
        return _reshaped(t, node, x, (1,) + shape)
    return _reshaped(t, node, x, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)])


def _atleast_handler(ndim: int):
    def handler(t: Tracer, node, args, kwargs):
        t.no_keywords(node, kwargs)
        if not args:
            raise t.program.error(f"{t.what(node.func)}() needs an array", node)
        out = [_atleast(t, node, _value(t, node, x), ndim) for x in args]
        return out[0] if len(out) == 1 else out
    return handler


for _n in (1, 2, 3):
    call(f"numpy.atleast_{_n}d")(_atleast_handler(_n))


def _joiner(ndim: int, axis_of):
    def handler(t: Tracer, node, args, kwargs):
        (items,) = _args(t, node, args, kwargs, ["tup"], {})
        lifted = [_atleast(t, node, x, ndim) for x in _sequence(t, node, items)]
        return _concatenate_values(t, node, lifted, axis_of(len(t.shape_of(lifted[0], node))))
    return handler


call("numpy.hstack")(_joiner(1, lambda ndim: 0 if ndim == 1 else 1))
call("numpy.vstack", "numpy.row_stack")(_joiner(2, lambda ndim: 0))
call("numpy.dstack")(_joiner(3, lambda ndim: 2))


@call("numpy.column_stack")
def _column_stack(t: Tracer, node, args, kwargs):
    (items,) = _args(t, node, args, kwargs, ["tup"], {})
    columns = []
    for x in _sequence(t, node, items):
        shape = t.shape_of(x, node)
        columns.append(_reshaped(t, node, x, (_product(shape), 1)) if len(shape) < 2 else x)
    return _concatenate_values(t, node, columns, 1)


# ------------------------------------------------------------------------ splitting
def _pieces(t: Tracer, node, x, points: list[int], axis: int) -> list:
    """``x[..., a:b]`` on ``axis`` for consecutive division points (Python slice rules)."""
    size = t.shape_of(x, node)[axis]
    out = []
    for start, stop in zip(points[:-1], points[1:]):
        if start == 0 and stop >= size:
            out.append(x)
        else:
            spec = (WHOLE,) * axis + (("slice", start, stop, None),)
            out.append(t.apply("index", [x], node, attrs=(spec,)))
    return out


def _split_values(t: Tracer, node, x, sections, axis, equal: bool) -> list:
    shape = t.shape_of(x, node)
    if not shape:
        raise t.program.error("cannot split a zero-dimensional array", node, cls=_shape_error())
    axis = _one_axis(t, node, axis, len(shape))
    size = shape[axis]
    if isinstance(sections, (list, tuple)):
        if not all(_is_int(v) for v in sections):
            raise t.program.error("split indices must be integer constants", node)
        return _pieces(t, node, x, [0, *sections, size], axis)
    if not _is_int(sections) or sections <= 0:
        raise t.program.error("the number of sections must be a positive integer constant",
                              node)
    each, extra = divmod(size, sections)
    if equal and extra:
        raise t.program.error(f"array split does not result in an equal division: {size} "
                              f"into {sections}", node, cls=_shape_error())
    points = [0]
    for k in range(sections):
        points.append(points[-1] + each + (k < extra))
    return _pieces(t, node, x, points, axis)


@call("numpy.split")
def _split(t: Tracer, node, args, kwargs):
    x, sections, axis = _args(t, node, args, kwargs, ["ary", "indices_or_sections", "axis"],
                              {"axis": 0})
    return _split_values(t, node, _value(t, node, x), sections, axis, equal=True)


@call("numpy.array_split")
def _array_split(t: Tracer, node, args, kwargs):
    x, sections, axis = _args(t, node, args, kwargs, ["ary", "indices_or_sections", "axis"],
                              {"axis": 0})
    return _split_values(t, node, _value(t, node, x), sections, axis, equal=False)


def _directional_split(least: int, axis_of):
    def handler(t: Tracer, node, args, kwargs):
        x, sections = _args(t, node, args, kwargs, ["ary", "indices_or_sections"], {})
        x = _value(t, node, x)
        ndim = len(t.shape_of(x, node))
        if ndim < least:
            raise t.program.error(f"{t.what(node.func)}() needs an array of at least {least} "
                                  "dimensions", node, cls=_shape_error())
        return _split_values(t, node, x, sections, axis_of(ndim), equal=True)
    return handler


call("numpy.hsplit")(_directional_split(1, lambda ndim: 1 if ndim > 1 else 0))
call("numpy.vsplit")(_directional_split(2, lambda ndim: 0))
call("numpy.dsplit")(_directional_split(3, lambda ndim: 2))


# ------------------------------------------------------------------------ repeating
@call("numpy.repeat", "method.repeat")
def _repeat(t: Tracer, node, args, kwargs):
    x, repeats, axis = _args(t, node, args, kwargs, ["a", "repeats", "axis"], {"axis": None})
    x = _value(t, node, x)
    if axis is None:
        x, axis = _reshaped(t, node, x, (_product(t.shape_of(x, node)),)), 0
    shape = t.shape_of(x, node)
    axis = _one_axis(t, node, axis, len(shape))
    counts = _int_tuple(t, node, repeats, "repeats")
    if any(c < 0 for c in counts):
        raise t.program.error("repeats may not be negative", node)
    if len(counts) == 1:
        counts = counts * shape[axis]
    if len(counts) != shape[axis]:
        raise t.program.error(f"{len(counts)} repeats for an axis of length {shape[axis]}", node,
                              cls=_shape_error())
    if len(set(counts)) <= 1:
        times = counts[0] if counts else 1
        return x if times == 1 else t.apply("repeat", [x], node, attrs=(times, axis))
    # Different counts: a gather of constant positions (its gradient adds the copies up).
    positions = np.repeat(np.arange(shape[axis]), counts)
    spec = (WHOLE,) * axis + (("const", positions.shape, tuple(int(i) for i in positions)),)
    return t.apply("index", [x], node, attrs=(spec,))


@call("numpy.tile")
def _tile(t: Tracer, node, args, kwargs):
    x, reps = _args(t, node, args, kwargs, ["A", "reps"], {})
    x = _value(t, node, x)
    reps = _int_tuple(t, node, reps, "reps")
    if any(r < 0 for r in reps):
        raise t.program.error("reps may not be negative", node)
    shape = t.shape_of(x, node)
    if len(reps) > len(shape):
        x = _reshaped(t, node, x, (1,) * (len(reps) - len(shape)) + shape)
    reps = (1,) * (len(shape) - len(reps)) + reps
    if all(r == 1 for r in reps):
        return x
    return t.apply("tile", [x], node, attrs=(reps,))


def _pairs(t: Tracer, node, value, ndim: int, what: str, number) -> tuple:
    """NumPy's ``pad_width`` / ``constant_values`` forms: n, (n,), (before, after), or one
    (before, after) pair per axis."""
    def fail():
        raise t.program.error(f"{what} must be a number, a (before, after) pair or one pair per "
                              f"axis, of constants", node)
    if not isinstance(value, (list, tuple)):
        value = (value,)
    value = tuple(value)
    if all(not isinstance(v, (list, tuple)) for v in value):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            fail()
        value = (value,) * ndim
    value = tuple(tuple(v) * (3 - len(v)) if isinstance(v, (list, tuple)) and len(v) == 1
                  else tuple(v) if isinstance(v, (list, tuple)) else (v, v) for v in value)
    if len(value) == 1:
        value = value * ndim
    if len(value) != ndim or any(len(v) != 2 or not all(number(e) for e in v) for v in value):
        fail()
    return value


@call("numpy.pad")
def _pad(t: Tracer, node, args, kwargs):
    x, widths, mode, values = _args(t, node, args, kwargs,
                                    ["array", "pad_width", "mode", "constant_values"],
                                    {"mode": "constant", "constant_values": 0})
    if mode not in ("constant",) + GATHER_MODES:
        raise t.program.error(f"np.pad supports the modes 'constant', {', '.join(map(repr, GATHER_MODES))}",
                              node)
    x = _value(t, node, x)
    ndim = len(t.shape_of(x, node))
    widths = _pairs(t, node, widths, ndim, "pad_width", lambda v: _is_int(v) and v >= 0)
    if mode != "constant":
        if "constant_values" in kwargs:
            raise t.program.error(f"np.pad(mode={mode!r}) takes no constant_values", node)
        return _gather_pad(t, node, x, widths, mode)
    values = _pairs(t, node, values, ndim, "constant_values", _is_number)
    if all(w == (0, 0) for w in widths):
        return x
    values = tuple((float(a), float(b)) for a, b in values)
    return t.apply("pad", [x], node, attrs=(widths, values))


# Modes whose every element is a copy of an input element: the positions are NumPy's own pad
# of np.arange along each axis, and the value is a gather (its backward adds the copies up).
GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


def _gather_pad(t: Tracer, node, x, widths, mode: str):
    shape = t.shape_of(x, node)
    for axis, (n, width) in enumerate(zip(shape, widths)):
        if width == (0, 0):
            continue
        if n == 0:
            raise t.program.error(f"np.pad(mode={mode!r}) of an empty axis", node,
                                  cls=_shape_error())
        positions = np.pad(np.arange(n), width, mode=mode).tolist()
        x = _index(t, node, [x, (slice(None),) * axis + (positions,)], {})
    return x


@call("numpy.roll")
def _roll(t: Tracer, node, args, kwargs):
    x, shift, axis = _args(t, node, args, kwargs, ["a", "shift", "axis"], {"axis": None})
    x = _value(t, node, x)
    shape = t.shape_of(x, node)
    if axis is None:
        flat = _reshaped(t, node, x, (_product(shape),))
        return _reshaped(t, node, _rolled(t, node, flat, shift, 0), shape)
    return _rolled(t, node, x, shift, axis)


def _rolled(t: Tracer, node, x, shift, axis):
    shape = t.shape_of(x, node)
    shifts, axes = _int_tuple(t, node, shift, "shift"), _int_tuple(t, node, axis, "axis")
    try:
        pairs = np.broadcast(np.array(shifts), np.array(axes))
    except ValueError:
        raise t.program.error("shift and axis must have matching lengths", node) from None
    total: dict[int, int] = {}
    for s, a in pairs:
        a = _one_axis(t, node, int(a), len(shape))
        total[a] = total.get(a, 0) + int(s)
    kept = {a: s % shape[a] for a, s in sorted(total.items()) if shape[a] and s % shape[a]}
    if not kept:
        return x
    return t.apply("roll", [x], node, attrs=(tuple(kept.values()), tuple(kept)))


# ------------------------------------------------------------------------ axes moved
@call("numpy.swapaxes", "method.swapaxes")
def _swapaxes(t: Tracer, node, args, kwargs):
    x, a, b = _args(t, node, args, kwargs, ["a", "axis1", "axis2"], {})
    ndim = len(t.shape_of(x, node))
    a, b = _one_axis(t, node, a, ndim), _one_axis(t, node, b, ndim)
    order = list(range(ndim))
    order[a], order[b] = order[b], order[a]
    return _permuted(t, node, x, tuple(order))


@call("numpy.moveaxis")
def _moveaxis(t: Tracer, node, args, kwargs):
    x, source, destination = _args(t, node, args, kwargs, ["a", "source", "destination"], {})
    ndim = len(t.shape_of(x, node))
    source = [_one_axis(t, node, a, ndim) for a in _int_tuple(t, node, source, "source")]
    destination = [_one_axis(t, node, a, ndim)
                   for a in _int_tuple(t, node, destination, "destination")]
    if len(source) != len(destination) or len(set(source)) != len(source) \
            or len(set(destination)) != len(destination):
        raise t.program.error("source and destination must be distinct axes, as many of each",
                              node)
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _permuted(t, node, x, tuple(order))


@call("numpy.rollaxis")
def _rollaxis(t: Tracer, node, args, kwargs):
    x, axis, start = _args(t, node, args, kwargs, ["a", "axis", "start"], {"start": 0})
    ndim = len(t.shape_of(x, node))
    axis = _one_axis(t, node, axis, ndim)
    if not _is_int(start) or not -ndim <= start <= ndim:
        raise t.program.error(f"start {start!r} is out of range for {ndim} dimensions", node,
                              cls=_shape_error())
    start %= ndim + 1 if start < 0 else ndim + 1
    if axis < start:
        start -= 1
    order = [n for n in range(ndim) if n != axis]
    order.insert(start, axis)
    return _permuted(t, node, x, tuple(order))


@call("numpy.rot90")
def _rot90(t: Tracer, node, args, kwargs):
    x, k, axes = _args(t, node, args, kwargs, ["m", "k", "axes"], {"k": 1, "axes": (0, 1)})
    ndim = len(t.shape_of(x, node))
    axes = _int_tuple(t, node, axes, "axes")
    if not _is_int(k) or len(axes) != 2 or ndim < 2:
        raise t.program.error("rot90 needs an integer k and two axes of an array of at least 2 "
                              "dimensions", node, cls=_shape_error())
    a, b = (_one_axis(t, node, v, ndim) for v in axes)
    if a == b:
        raise t.program.error("rot90 axes must be different", node, cls=_shape_error())
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return _flipped(t, node, x, (a, b))
    order = list(range(ndim))
    order[a], order[b] = order[b], order[a]
    if k == 1:
        return _permuted(t, node, _flipped(t, node, x, (b,)), tuple(order))
    return _flipped(t, node, _permuted(t, node, x, tuple(order)), (b,))


# ------------------------------------------------------------------------ reshapes
@call("numpy.ravel", "method.ravel", "method.flatten")
def _ravel(t: Tracer, node, args, kwargs):
    (x,) = _args(t, node, args, kwargs, ["a"], {})
    x = _value(t, node, x)
    return _reshaped(t, node, x, (_product(t.shape_of(x, node)),))


@call("numpy.squeeze", "method.squeeze")
def _squeeze(t: Tracer, node, args, kwargs):
    x, axis = _args(t, node, args, kwargs, ["a", "axis"], {"axis": None})
    x = _value(t, node, x)
    shape = t.shape_of(x, node)
    if axis is None:
        dropped = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        dropped = _axes(t, node, axis, len(shape))
        if any(shape[i] != 1 for i in dropped):
            raise t.program.error("cannot select an axis to squeeze out which has size not "
                                  f"equal to one (shape {shape})", node, cls=_shape_error())
    return _reshaped(t, node, x, tuple(n for i, n in enumerate(shape) if i not in dropped))


@call("numpy.expand_dims")
def _expand_dims(t: Tracer, node, args, kwargs):
    x, axis = _args(t, node, args, kwargs, ["a", "axis"], {})
    x = _value(t, node, x)
    shape = t.shape_of(x, node)
    items = _int_tuple(t, node, axis, "axis")
    axes = _axes(t, node, items, len(shape) + len(items))
    rest = iter(shape)
    return _reshaped(t, node, x, tuple(1 if i in axes else next(rest)
                                      for i in range(len(shape) + len(axes))))


@call("numpy.broadcast_to")
def _broadcast_to(t: Tracer, node, args, kwargs):
    x, shape = _args(t, node, args, kwargs, ["array", "shape"], {})
    x = _value(t, node, x)
    target = _sizes(t, node, shape)
    have = t.shape_of(x, node)
    try:
        fits = np.broadcast_shapes(have, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise t.program.error(f"cannot broadcast an array of shape {have} to {target}", node,
                              cls=_shape_error())
    return x if have == target else t.apply("expand", [x], node, attrs=(target,))


# ------------------------------------------------------------------------ flips
def _flipped(t: Tracer, node, x, axes):
    ndim = len(t.shape_of(x, node))
    spec = tuple(("slice", None, None, -1) if i in axes else WHOLE for i in range(ndim))
    return t.apply("index", [x], node, attrs=(spec,)) if axes else x


@call("numpy.flip")
def _flip(t: Tracer, node, args, kwargs):
    x, axis = _args(t, node, args, kwargs, ["m", "axis"], {"axis": None})
    x = _value(t, node, x)
    return _flipped(t, node, x, _axes(t, node, axis, len(t.shape_of(x, node))))


def _flip_axis(axis: int, least: int):
    def handler(t: Tracer, node, args, kwargs):
        (x,) = _args(t, node, args, kwargs, ["m"], {})
        x = _value(t, node, x)
        if len(t.shape_of(x, node)) < least:
            raise t.program.error(f"{t.what(node.func)}() needs an array of at least {least} "
                                  "dimensions", node, cls=_shape_error())
        return _flipped(t, node, x, (axis,))
    return handler


call("numpy.fliplr")(_flip_axis(1, 2))
call("numpy.flipud")(_flip_axis(0, 1))


# ------------------------------------------------------------------------ sorting and casts
def sort_operand(t: Tracer, node, args, kwargs, what: str) -> tuple:
    """np.sort's and np.argsort's arguments: the array (flattened for axis=None), its axis and
    its shape."""
    x, axis, kind = _args(t, node, args, kwargs, ["a", "axis", "kind"], {"axis": -1,
                                                                        "kind": None})
    x = _value(t, node, x)
    if axis is None:
        x, axis = _reshaped(t, node, x, (_product(t.shape_of(x, node)),)), 0
    shape = t.shape_of(x, node)
    if not shape:
        raise t.program.error(f"{what} of a zero-dimensional array", node, cls=_shape_error())
    return x, _one_axis(t, node, axis, len(shape)), shape


@call("numpy.sort")
def _sort(t: Tracer, node, args, kwargs):
    x, axis, shape = sort_operand(t, node, args, kwargs, "np.sort()")
    if shape[axis] <= 1:
        return x
    # The permutation is computed once; the values follow it, and so does the gradient.
    order = t.apply("argsort", [x], node, attrs=(axis,))
    return t.apply("permute_along", [x, order], node, attrs=(axis,))


@call("method.sort")
def _sort_in_place(t: Tracer, node, args, kwargs):
    raise t.program.error("x.sort() sorts in place (and returns None): write np.sort(x)", node)


@call("method.astype", "numpy.astype")
def _astype(t: Tracer, node, args, kwargs):
    x, dtype, copy = _args(t, node, args, kwargs, ["x", "dtype", "copy"], {"copy": True})
    if not isinstance(dtype, DType):
        raise t.program.error("astype() converts between float types only: np.float32 or "
                              "np.float64 (other types have no gradient)", node)
    return t.apply("astype", [_value(t, node, x)], node, attrs=(dtype.name,))


# ------------------------------------------------------------------------ np.array
def _leaves(items) -> list | None:
    """The numbers of a nested list of numbers, in order (None if anything is not a number or
    the nesting is ragged)."""
    if not isinstance(items, (list, tuple)):
        return [items] if _is_number(items) else None
    parts = [_leaves(v) for v in items]
    if any(p is None for p in parts):
        return None
    return [x for p in parts for x in p]


MAX_LITERAL = 100_000


def _bool_leaves(items) -> bool:
    if isinstance(items, (list, tuple)):
        return bool(items) and all(_bool_leaves(v) for v in items)
    return isinstance(items, bool)


def _from_list(t: Tracer, node, items):
    """A nested list: a constant array of numbers, a constant mask of bools, or a stack of its
    traced elements."""
    if _bool_leaves(items):  # np.array([True, False]): a mask, as a comparison is
        flags = np.array(items, dtype=float)
        literal = _make(t, node, "literal", (flags.shape, tuple(flags.ravel().tolist())))
        return t.apply("ne", [literal, 0.0], node)
    numbers = _leaves(items)
    if numbers is not None:
        try:
            shape = np.shape(np.array(items, dtype=float))
        except ValueError:
            raise t.program.error("np.array() of a ragged list", node, cls=_shape_error()) from None
        if len(numbers) > MAX_LITERAL:
            raise t.program.error(f"an array literal of over {MAX_LITERAL:,} numbers", node)
        return _make(t, node, "literal", (shape, tuple(float(v) for v in numbers)))
    if not items:
        raise t.program.error("np.array() of an empty list", node)
    return _stack_values(t, node, [_value(t, node, v) for v in items], 0)
