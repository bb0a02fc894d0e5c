"""The NumPy functions, methods and attributes a traced program may use, beyond elementwise math.

Each handler receives the tracer, the call's syntax node, the evaluated positional arguments and the
keyword arguments, and builds graph nodes (or returns static values such as shapes). Shapes are
concrete here: a handler that needs them calls ``t.shape_of``, which makes a shape-generic trace
start over with the real input shapes.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import numpy as np

from ..ops import OPS
from .calls import ATTRIBUTES, ELLIPSIS, MODULE_VALUES, NEWAXIS, Selection, Tracer, Var, call


@dataclass(frozen=True)
class Arange:
    """``np.arange(n)``: usable as an index (``s[np.arange(N), y]``)."""

    n: int


@dataclass(frozen=True)
class Positions:
    """``np.nonzero(mask)[k]`` for a mask computed from the data (as many positions as the mask
    holds, known only when the program runs): the whole tuple, or the one of a 1-d mask, indexes
    as the mask itself does (``x[np.nonzero(m)]`` is ``x[m]``)."""

    mask: Var
    k: int
    ndim: int


def _args(t: Tracer, node: ast.Call, args: list, kwargs: dict, names: list[str],
          defaults: dict) -> list:
    """Match positional and keyword arguments against ``names``; unknown keywords are errors."""
    if len(args) > len(names):
        raise t.program.error(f"{t.what(node.func)}() takes at most {len(names)} arguments", node)
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names or key in bound:
            raise t.program.error(f"{t.what(node.func)}() got an unexpected keyword '{key}'", node)
        bound[key] = value
    for key, value in bound.items():
        if value is NEWAXIS:
            bound[key] = None  # a literal None argument (axis=None), not an index
    missing = [n for n in names if n not in bound and n not in defaults]
    if missing:
        raise t.program.error(f"{t.what(node.func)}() is missing '{missing[0]}'", node)
    return [bound.get(n, defaults.get(n)) for n in names]


def _axes(t: Tracer, node, axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, int) for a in items):
        raise t.program.error("axis must be an integer constant or a tuple of them", node)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise t.program.error(f"axis {a} is out of range for an array of {ndim} dimensions",
                                  node, cls=_shape_error())
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise t.program.error("repeated axis", node)
    return tuple(sorted(out))


def _shape_error():
    from ..errors import ShapeError
    return ShapeError


# ------------------------------------------------------------------------ products
# Products beyond matrix @ matrix are lowered to transposes, reshapes and one matmul (as NumPy's
# own tensordot is), so their gradients are those of the ops they are made of: no new rule, and
# never a Jacobian.
@call("numpy.matmul")
def _matmul(t: Tracer, node, args, kwargs):
    a, b = _args(t, node, args, kwargs, ["a", "b"], {})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if not sa or not sb:
        raise t.program.error("matmul needs arrays, not scalars: use * for a product", node,
                              cls=_shape_error())
    if len(sa) == 1 and len(sb) > 2:       # vector @ batch: (K,) -> (1, K), then drop that axis
        out = t.apply("matmul", [_reshaped(t, node, a, (1,) + sa), b], node)
        return _reshaped(t, node, out, sb[:-2] + sb[-1:])
    if len(sb) == 1 and len(sa) > 2:       # batch @ vector: (K,) -> (K, 1), then drop that axis
        out = t.apply("matmul", [a, _reshaped(t, node, b, sb + (1,))], node)
        return _reshaped(t, node, out, sa[:-1])
    return t.apply("matmul", [a, b], node)


@call("numpy.dot", "method.dot")
def _dot(t: Tracer, node, args, kwargs):
    a, b = _args(t, node, args, kwargs, ["a", "b"], {})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if not sa or not sb:
        return t.apply("mul", [a, b], node)   # np.dot with a scalar is a product
    if len(sb) >= 3 and len(sa) >= 2:
        # NumPy's dot contracts a's last axis with b's second-to-last: a tensordot, not a
        # batched matmul (x.shape[:-1] + y.shape[:-2] + y.shape[-1:]).
        return tensordot(t, node, a, b, (len(sa) - 1,), (len(sb) - 2,))
    return _matmul(t, node, [a, b], {})


@call("numpy.tensordot")
def _tensordot(t: Tracer, node, args, kwargs):
    a, b, axes = _args(t, node, args, kwargs, ["a", "b", "axes"], {"axes": 2})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if isinstance(axes, int) and not isinstance(axes, bool):
        if not 0 <= axes <= min(len(sa), len(sb)):
            raise t.program.error(f"tensordot axes={axes} does not fit shapes {sa} and {sb}",
                                  node, cls=_shape_error())
        pairs = (tuple(range(len(sa) - axes, len(sa))), tuple(range(axes)))
    elif isinstance(axes, (tuple, list)) and len(axes) == 2:
        pairs = tuple(tuple(x) if isinstance(x, (tuple, list)) else (x,) for x in axes)
    else:
        raise t.program.error("tensordot axes must be an integer or a pair of axis lists", node)
    left = [_one_axis(t, node, x, len(sa)) for x in pairs[0]]
    right = [_one_axis(t, node, x, len(sb)) for x in pairs[1]]
    return tensordot(t, node, a, b, tuple(left), tuple(right))


@call("numpy.inner")
def _inner(t: Tracer, node, args, kwargs):
    a, b = _args(t, node, args, kwargs, ["a", "b"], {})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if not sa or not sb:
        return t.apply("mul", [a, b], node)
    return tensordot(t, node, a, b, (len(sa) - 1,), (len(sb) - 1,))


@call("numpy.vdot")
def _vdot(t: Tracer, node, args, kwargs):
    a, b = _args(t, node, args, kwargs, ["a", "b"], {})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if _product(sa) != _product(sb):
        raise t.program.error(f"vdot needs arrays of one size, got shapes {sa} and {sb}", node,
                              cls=_shape_error())
    flat_a = _reshaped(t, node, a, (_product(sa),))
    flat_b = _reshaped(t, node, b, (_product(sb),))
    return t.apply("sum", [t.apply("mul", [flat_a, flat_b], node)], node, attrs=((0,), False))


def _one_axis(t: Tracer, node, axis, ndim: int) -> int:
    if not isinstance(axis, int) or isinstance(axis, bool) or not -ndim <= axis < ndim:
        raise t.program.error(f"axis {axis!r} is out of range for an array of {ndim} dimensions",
                              node, cls=_shape_error())
    return axis % ndim


def tensordot(t: Tracer, node, a, b, left: tuple[int, ...], right: tuple[int, ...]):
    """Contract axes ``left`` of ``a`` with ``right`` of ``b``: a's other axes, then b's."""
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    if len(left) != len(right) or len(set(left)) != len(left) or len(set(right)) != len(right) \
            or any(sa[i] != sb[j] for i, j in zip(left, right)):
        raise t.program.error(f"shapes {sa} and {sb} cannot be contracted over axes {left} and "
                              f"{right}", node, cls=_shape_error())
    free_a = tuple(i for i in range(len(sa)) if i not in left)
    free_b = tuple(j for j in range(len(sb)) if j not in right)
    inner = _product([sa[i] for i in left])
    a2 = _reshaped(t, node, _permuted(t, node, a, free_a + left),
                   (_product([sa[i] for i in free_a]), inner))
    b2 = _reshaped(t, node, _permuted(t, node, b, right + free_b),
                   (inner, _product([sb[j] for j in free_b])))
    out = t.apply("matmul", [a2, b2], node)
    return _reshaped(t, node, out, tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def _permuted(t: Tracer, node, x, axes: tuple[int, ...]):
    if axes == tuple(range(len(axes))):
        return x
    return t.apply("transpose", [x], node, attrs=(axes,))


def _reshaped(t: Tracer, node, x, shape: tuple[int, ...]):
    if t.shape_of(x, node) == tuple(shape):
        return x
    return t.apply("reshape", [x], node, attrs=(tuple(shape),))


@call("numpy.outer")
def _outer(t: Tracer, node, args, kwargs):
    """Every product of an element of a with one of b (NumPy flattens both first)."""
    a, b = _args(t, node, args, kwargs, ["a", "b"], {})
    flat = [_reshaped(t, node, v, (_product(t.shape_of(v, node)),)) for v in (a, b)]
    return t.apply("outer", flat, node)


@call("numpy.copy", "method.copy")
def _copy(t: Tracer, node, args, kwargs):
    """A new array with the same values (the gradient passes through)."""
    (x,) = _args(t, node, args, kwargs, ["a"], {})
    return t.apply("copy", [x], node) if isinstance(x, Var) else x


# ------------------------------------------------------------------------ shapes
def _transpose_axes(t, node, x, axes):
    ndim = len(t.shape_of(x, node))
    if axes is None:
        axes = tuple(reversed(range(ndim)))
    if isinstance(axes, list):
        axes = tuple(axes)
    if not isinstance(axes, tuple) or not all(
            isinstance(a, int) and not isinstance(a, bool) and -ndim <= a < ndim for a in axes) \
            or sorted(a % ndim for a in axes) != list(range(ndim)):
        raise t.program.error(f"transpose axes {axes} are not a permutation of the {ndim} axes",
                              node, cls=_shape_error())
    return tuple(a % ndim for a in axes)


@call("numpy.transpose", "method.transpose")
def _transpose(t: Tracer, node, args, kwargs):
    if len(args) > 2:  # x.transpose(1, 2, 0)
        args = [args[0], tuple(args[1:])]
    x, axes = _args(t, node, args, kwargs, ["a", "axes"], {"axes": None})
    axes = _transpose_axes(t, node, x, axes)
    if axes == tuple(range(len(axes))):
        return x
    return t.apply("transpose", [x], node, attrs=(axes,))


def _attr_T(t: Tracer, node, x):
    axes = _transpose_axes(t, node, x, None)
    return x if len(axes) < 2 else t.apply("transpose", [x], node, attrs=(axes,))


ATTRIBUTES["T"] = _attr_T
ATTRIBUTES["shape"] = lambda t, node, x: t.shape_of(x, node)
ATTRIBUTES["ndim"] = lambda t, node, x: len(t.shape_of(x, node))
ATTRIBUTES["size"] = lambda t, node, x: _product(t.shape_of(x, node))


def _product(shape) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


@call("builtin.len")
def _len(t: Tracer, node, args, kwargs):
    (x,) = _args(t, node, args, kwargs, ["obj"], {})
    if isinstance(x, (tuple, list)):
        return len(x)
    shape = t.shape_of(x, node)
    if not shape:
        raise t.program.error("len() of a scalar", node)
    return shape[0]


@call("numpy.reshape", "method.reshape")
def _reshape(t: Tracer, node, args, kwargs):
    if not args:
        raise t.program.error("reshape() needs an array", node)
    x, rest = args[0], args[1:]
    for key in ("newshape", "shape"):
        if key in kwargs:
            rest = [kwargs.pop(key)]
    if kwargs:
        raise t.program.error("reshape() takes only the new shape", node)
    target = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) \
        else tuple(rest)
    if len(rest) == 1 and isinstance(rest[0], int):
        target = (rest[0],)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= -1 for n in target):
        raise t.program.error("reshape() sizes must be integer constants (-1 for one to infer)",
                              node)
    shape = t.shape_of(x, node)
    if target.count(-1) > 1:
        raise t.program.error("reshape() can infer only one size (-1)", node)
    if -1 in target:
        known = _product([n for n in target if n != -1])
        if known == 0 or _product(shape) % known:
            raise t.program.error(f"cannot reshape an array of shape {shape} into {target}", node,
                                  cls=_shape_error())
        target = tuple(_product(shape) // known if n == -1 else n for n in target)
    if target == shape:
        return x
    return t.apply("reshape", [x], node, attrs=(target,))


# ------------------------------------------------------------------------ reductions
def _reduction(op: str, mean: bool = False):
    def handler(t: Tracer, node, args, kwargs):
        x, axis, keepdims = _args(t, node, args, kwargs, ["a", "axis", "keepdims"],
                                  {"axis": None, "keepdims": False})
        if isinstance(x, Selection):
            return _reduce_selection(t, node, op, mean, x, axis, keepdims)
        if not isinstance(keepdims, (bool, int)):
            raise t.program.error("keepdims must be True or False", node)
        if keepdims not in (0, 1):
            raise t.program.error("keepdims must be True or False", node)
        shape = t.shape_of(x, node)
        axes = _axes(t, node, axis, len(shape))
        if not axes:
            return x
        out = t.apply(op, [x], node, attrs=(axes, bool(keepdims)))
        if mean:
            count = _product([shape[a] for a in axes])
            out = t.apply("div", [out, float(count)], node)
        return out
    return handler


SELECTION_FILL = {"sum": 0.0, "max": -math.inf, "min": math.inf}


def _reduce_selection(t: Tracer, node, op: str, mean: bool, x: Selection, axis, keepdims):
    """A full reduction of ``x[mask]``: of the whole array with the others set aside (0 for a
    sum, -inf for a max); a mean divides by the number selected."""
    if axis is not None or keepdims or op not in SELECTION_FILL:
        raise t.program.error("x[mask] can be reduced only whole (np.sum, np.mean, np.max, "
                              "np.min without axis): its length depends on the data", node)
    ndim = len(t.shape_of(x.values, node))
    whole = (tuple(range(ndim)), False)
    kept = t.apply("where", [x.mask, x.values, SELECTION_FILL[op]], node)
    out = t.apply(op, [kept], node, attrs=whole) if ndim else kept
    if mean:
        count = t.apply("where", [x.mask, 1.0, 0.0], node)
        out = t.apply("div", [out, t.apply("sum", [count], node, attrs=whole) if ndim
                              else count], node)
    return out


for _fn, _op, _mean in (("sum", "sum", False), ("mean", "sum", True), ("max", "max", False),
                        ("amax", "max", False), ("min", "min", False), ("amin", "min", False)):
    call(f"numpy.{_fn}", f"method.{_fn}")(_reduction(_op, _mean))
call("builtin.logsumexp")(_reduction("logsumexp"))


@call("builtin.softmax", "builtin.log_softmax")
def _softmax(t: Tracer, node, args, kwargs):
    x, axis = _args(t, node, args, kwargs, ["x", "axis"], {"axis": -1})
    shape = t.shape_of(x, node)
    axes = _axes(t, node, axis, len(shape))
    lse = t.apply("logsumexp", [x], node, attrs=(axes, True))
    shifted = t.apply("sub", [x, lse], node)
    return shifted if node.func.id == "log_softmax" else t.apply("exp", [shifted], node)


# ------------------------------------------------------------------------ elementwise extras
@call("numpy.clip")
def _clip(t: Tracer, node, args, kwargs):
    x, lo, hi = _args(t, node, args, kwargs, ["a", "a_min", "a_max"], {})
    out = x if lo is None else t.apply("maximum", [x, lo], node)
    return out if hi is None else t.apply("minimum", [out, hi], node)


# ------------------------------------------------------------------------ indexing
@call("numpy.arange")
def _arange(t: Tracer, node, args, kwargs):
    (n,) = _args(t, node, args, kwargs, ["stop"], {})
    if not isinstance(n, int) or n < 0:
        raise t.program.error("np.arange() needs a non-negative integer constant", node)
    return Arange(n)


# ------------------------------------------------------------------------ values known now
MAX_STATIC_NODES = 200


def static_array(t: Tracer, value) -> np.ndarray | None:
    """The value of something known while tracing (numbers, bools, lists of them, constant
    arrays such as ``np.arange(3)`` or ``np.array([1, 0])`` and what is computed from them
    alone), or None for values that depend on the inputs."""
    if isinstance(value, (bool, int, float)):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        parts = [static_array(t, v) for v in value]
        if any(p is None for p in parts):
            return None
        try:
            return np.array(parts)
        except ValueError:
            return None
    if isinstance(value, Arange) and not isinstance(value, Var):
        return np.arange(value.n)
    if not isinstance(value, Var):
        return None
    return _evaluate_constant(t.graph, value.node)


def _evaluate_constant(graph, root: int) -> np.ndarray | None:
    """Evaluate a node whose ancestors are all constants (a small subgraph), else None."""
    seen, stack = set(), [root]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if graph[n].op == "input" or len(seen) > MAX_STATIC_NODES:
            return None
        stack.extend(graph[n].args)
    values: dict[int, np.ndarray] = {}
    for n in sorted(seen):
        node = graph[n]
        spec = OPS[node.op]
        args = [values[a] for a in node.args]
        with np.errstate(all="ignore"):
            if node.op == "const":
                values[n] = np.float64(node.value)
            elif spec.kind == "structural" and spec.numeric is not None:
                values[n] = np.asarray(spec.numeric(node, args))
            else:
                values[n] = np.asarray(spec.impl(*args))
    return values[root]


def _positions_mask(t: Tracer, node, index):
    """The mask whose positions ``index`` holds, where they select as the mask does."""
    items = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(item, Positions) for item in items):
        return index
    first = items[0]
    if not all(isinstance(item, Positions) and item.mask is first.mask and item.k == k
               for k, item in enumerate(items)) or len(items) != first.ndim:
        raise t.program.error("positions of a mask computed from the data (np.nonzero, np.where "
                              "with one argument) index only as the whole tuple, as the mask "
                              "itself: x[np.nonzero(m)] is x[m]", node)
    return first.mask


@call("index")
def _index(t: Tracer, node, args, kwargs):
    x, index = args
    index = _positions_mask(t, node, index)
    if isinstance(index, Var) and t.is_mask(index) and static_array(t, index) is not None:
        index = static_array(t, index).astype(bool).tolist()  # a constant mask: its positions
    if isinstance(index, Var) and t.is_mask(index):
        # x[mask]: its length depends on the data; kept as the array and its mask
        mask = _broadcast_mask(t, node, index, t.shape_of(x, node))
        if t.shape_of(mask, node) != t.shape_of(x, node):  # x[rows]: every element of a row
            mask = Var(t.graph.apply("expand", mask.node, attrs=(t.shape_of(x, node),)))
        return Selection(x, mask)
    spec, arrays = index_spec(t, node, x, index)
    return t.apply("index", [x, *arrays], node, attrs=(spec,))


@call("setitem")
def _setitem(t: Tracer, node, args, kwargs):
    """``x[index] = value`` as a new array (the caller's ``x`` is never written)."""
    x, index, value = args
    if isinstance(index, Var) and t.is_mask(index):
        # x[mask] = v: where the mask holds, v (a number or an array that broadcasts)
        mask = _broadcast_mask(t, node, index, t.shape_of(x, node))
        return t.apply("where", [mask, value, x], node)
    spec, arrays = index_spec(t, node, x, index)
    return t.apply("setitem", [x, value, *arrays], node, attrs=(spec,))


def _broadcast_mask(t: Tracer, node, mask: Var, shape: tuple) -> Var:
    """A mask over the leading axes of ``shape`` (x[rows] = 0), reshaped to broadcast."""
    have = t.shape_of(mask, node)
    if have != shape[:len(have)]:
        raise t.program.error(f"a mask of shape {have} does not fit an array of shape {shape}",
                              node, cls=_shape_error())
    if len(have) == len(shape):
        return mask
    return t.apply("reshape", [mask], node, attrs=(have + (1,) * (len(shape) - len(have)),))


def index_spec(t: Tracer, node, x, index) -> tuple[tuple, list]:
    """An index as the index op's spec (constants, slices, new axes, ranges) and the integer
    arrays it reads (``x[..., 0]``, ``x[i, :, j]``, ``s[np.arange(N), y]``)."""
    shape = t.shape_of(x, node)  # indexing needs concrete shapes
    items = index if isinstance(index, tuple) else (index,)
    if sum(item is ELLIPSIS for item in items) > 1:
        raise t.program.error("an index can have only one '...'", node)
    if any(item is ELLIPSIS for item in items):
        used = sum(item is not NEWAXIS and item is not ELLIPSIS for item in items)
        k = items.index(ELLIPSIS)
        items = items[:k] + (slice(None),) * max(len(shape) - used, 0) + items[k + 1:]
    spec, arrays = [], []
    for item in items:
        if item is NEWAXIS:
            spec.append(("newaxis",))
        elif isinstance(item, list):
            spec.extend(_constant_index(t, node, item))
        elif isinstance(item, range):
            spec.extend(_constant_index(t, node, list(item)))
        elif isinstance(item, bool) or not isinstance(item, (int, slice, Arange, Var)):
            raise t.program.error("an index must be an integer, a slice, None, '...', a list of "
                                  "integers or an integer array", node)
        elif isinstance(item, int):
            spec.append(("int", item))
        elif isinstance(item, slice):
            spec.append(("slice", item.start, item.stop, item.step))
        elif isinstance(item, Arange):
            spec.append(("arange", item.n))
        elif _static_positions(t, item) is not None:  # np.array([0, 2]), np.nonzero(c)[0] + 1
            spec.extend(_constant_index(t, node, _static_positions(t, item)))
        else:
            if not t.is_integer(item):
                raise t.program.error(
                    "an index array must hold integers (an integer input, or a value computed "
                    "from one by reshapes, indexing or argmax); a mask selects a number of "
                    "elements that depends on the data: use np.where(mask, x, 0)", node)
            spec.append(("array", len(arrays)))
            arrays.append(item)
    return tuple(spec), arrays


def _static_positions(t: Tracer, value: Var) -> list | None:
    """The positions a value known while tracing holds, if they are whole numbers, else None."""
    if t.graph[value.node].op == "literal":
        return _integral_literal(t, value)
    if t.is_mask(value) or OPS[t.graph[value.node].op].kind == "compare":
        return None
    static = static_array(t, value)
    if static is None or static.ndim == 0 or static.dtype.kind not in "iuf" \
            or not np.all(np.mod(static, 1) == 0):
        return None
    return static.astype(np.intp).tolist()


def _integral_literal(t: Tracer, value: Var) -> list | None:
    """The positions of a constant array of whole numbers (``np.array([0, 2])``), or None."""
    shape, values = t.graph[value.node].attrs[:2]
    if not values or not all(float(v).is_integer() for v in values):
        return None
    return np.array(values, dtype=np.intp).reshape(shape).tolist()


def _constant_index(t: Tracer, node, items: list) -> list[tuple]:
    """A list index (``x[[0, 2, 2]]``): fancy indexing by constant positions. A list of bools is
    a mask, which for constants is the positions where it is True."""
    values = np.asarray(items)
    if values.dtype == bool:
        return [("const", (int(np.count_nonzero(values)),), tuple(int(i) for i in where))
                for where in np.nonzero(values)]
    if values.size == 0:
        values = values.astype(np.intp)
    if values.dtype.kind not in "iu" or values.ndim == 0:
        raise t.program.error("a list index must hold integer constants (or only True/False)",
                              node)
    return [("const", values.shape, tuple(int(i) for i in values.ravel()))]


MODULE_VALUES["newaxis"] = NEWAXIS
