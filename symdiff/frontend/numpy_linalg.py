"""The NumPy surface of reductions, scans and linear algebra: ``np.var``/``std``/``prod``/
``cumsum``/``cumprod``/``diff``/``average``/``argmax``/``argmin``, ``np.einsum``, ``np.kron``,
``np.trace``, ``np.diag``, ``np.diagonal``, ``np.triu``/``tril`` and ``np.linalg.*`` (``inv det
slogdet solve cholesky pinv norm svd eigvalsh eigh``, ``svd`` with ``compute_uv=False`` only).

Handlers lower to existing ops where the composed gradient is what a careful person writes
(``std = sqrt(var)``, ``average = sum(w * x) / sum(w)``, ``trace = sum(diagonal)``, ``kron`` a
broadcast product reshaped, vector and matrix norms from sums, maxima and singular values) and use
the dedicated entries of ``ops/reductions.py`` and ``ops/linalg.py`` otherwise.

``np.linalg.norm`` of a vector (ord None or 2) is ``sqrt(sum(x * x))``; at ``x = 0`` its gradient
is NaN, as in JAX (0 * inf); ``ord=1`` uses ``abs'(0) = 0``; ``ord=inf`` routes to the first
largest ``|x|``.
"""

from __future__ import annotations


import functools
import math
import string

from .numpy_api import _args
from .calls import MODULE_VALUES, Module, Tracer, Var, call


def by_name(*qualified: str):
    """Register one handler under several names, each call told its function's name (the last
    part: "cumsum"), never reading it from the syntax, since a handler may be called by another
    (np.add.accumulate calls cumsum's)."""
    def register(fn):
        for name in qualified:
            def handler(t, node, args, kwargs, _name=name.rsplit(".", 1)[1]):
                return fn(t, node, args, kwargs, _name)
            call(name)(functools.update_wrapper(handler, fn))
        return fn
    return register

MODULE_VALUES["linalg"] = Module("numpy.linalg")  # np.linalg.norm(...) calls "numpy.linalg.norm"


def _shape_error():
    from ..errors import ShapeError
    return ShapeError


def _bind(t: Tracer, node, args: list, kwargs: dict, names: list[str], defaults: dict) -> list:
    """Match arguments against ``names`` (``numpy_api._args``). Keywords NumPy has but symdiff
    does not take (``dtype=``, ``out=``) must be left at None."""
    values = _args(t, node, args, kwargs, names, defaults)
    for key, value in zip(names, values):
        if key in ("dtype", "out") and value is not None:
            raise t.program.error(f"{t.what(node.func)}(): '{key}=' is not supported", node)
    return values


def _int(t: Tracer, node, value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise t.program.error(f"{what} must be an integer constant", node)
    return value


def _axis(t: Tracer, node, axis, ndim: int) -> int:
    axis = _int(t, node, axis, "axis")
    if not -ndim <= axis < ndim:
        raise t.program.error(f"axis {axis} is out of range for an array of {ndim} dimensions",
                              node, cls=_shape_error())
    return axis % ndim


def _axes(t: Tracer, node, axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(_axis(t, node, a, ndim) for a in items)
    if len(set(out)) != len(out):
        raise t.program.error("repeated axis", node)
    return tuple(sorted(out))


def _keepdims(t: Tracer, node, keepdims) -> bool:
    if keepdims not in (0, 1) or not isinstance(keepdims, (bool, int)):
        raise t.program.error("keepdims must be True or False", node)
    return bool(keepdims)


def _array(t: Tracer, node, x, what: str = "an array"):
    if not isinstance(x, (Var, int, float)) or isinstance(x, bool):
        raise t.program.error(f"{t.what(node.func)}() needs {what} here", node)
    return x


def _reshape(t: Tracer, node, x, shape):
    if t.shape_of(x, node) == tuple(shape):
        return x
    return t.apply("reshape", [x], node, attrs=(tuple(shape),))


def _reduce(t: Tracer, node, op: str, x, axes, keepdims: bool):
    return t.apply(op, [x], node, attrs=(tuple(axes), keepdims)) if axes else x


# ------------------------------------------------------------------------ var, std
@by_name("numpy.var", "method.var", "numpy.std", "method.std")
def _var(t: Tracer, node, args, kwargs, name: str):
    x, axis, dtype, out, ddof, keepdims, correction = _bind(
        t, node, args, kwargs, ["a", "axis", "dtype", "out", "ddof", "keepdims", "correction"],
        {"axis": None, "dtype": None, "out": None, "ddof": 0, "keepdims": False,
         "correction": None})
    if correction is not None:
        ddof = correction
    if not isinstance(ddof, (int, float)) or isinstance(ddof, bool):
        raise t.program.error("ddof must be a number constant", node)
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    axes = _axes(t, node, axis, len(shape))
    keepdims = _keepdims(t, node, keepdims)
    if not axes:  # the variance of single values
        out = t.apply("mul", [x, 0.0], node)
    else:
        out = t.apply("var", [x], node, attrs=(axes, keepdims, ddof))
    return t.apply("sqrt", [out], node) if name == "std" else out


# ------------------------------------------------------------------------ prod, average
@call("numpy.prod", "method.prod")
def _prod(t: Tracer, node, args, kwargs):
    x, axis, dtype, out, keepdims = _bind(t, node, args, kwargs,
                                          ["a", "axis", "dtype", "out", "keepdims"],
                                          {"axis": None, "dtype": None, "out": None,
                                           "keepdims": False})
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    return _reduce(t, node, "prod", x, _axes(t, node, axis, len(shape)),
                   _keepdims(t, node, keepdims))


@call("numpy.average")
def _average(t: Tracer, node, args, kwargs):
    x, axis, weights, returned, keepdims = _bind(
        t, node, args, kwargs, ["a", "axis", "weights", "returned", "keepdims"],
        {"axis": None, "weights": None, "returned": False, "keepdims": False})
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    axes = _axes(t, node, axis, len(shape))
    keepdims = _keepdims(t, node, keepdims)
    if weights is None:
        w_sum = float(math.prod(shape[a] for a in axes))
        avg = t.apply("div", [_reduce(t, node, "sum", x, axes, keepdims), w_sum], node)
    else:
        if not isinstance(weights, Var):
            raise t.program.error("np.average(weights=...) needs an array value (an input or "
                                  "a computed array) for the weights", node)
        w_shape = t.shape_of(weights, node)
        if w_shape != shape:
            if axis is None or len(axes) != 1 or w_shape != (shape[axes[0]],):
                raise t.program.error(f"weights of shape {w_shape} do not fit an array of shape "
                                      f"{shape} (same shape, or 1-D along one axis)", node,
                                      cls=_shape_error())
            weights = _reshape(t, node, weights, tuple(
                n if i == axes[0] else 1 for i, n in enumerate(shape)))
        total = _reduce(t, node, "sum", t.apply("mul", [weights, x], node), axes, keepdims)
        w_sum = _reduce(t, node, "sum", weights, axes, keepdims)
        avg = t.apply("div", [total, w_sum], node)
    if not returned:
        return avg
    avg_shape = t.shape_of(avg, node)
    if isinstance(w_sum, float) or t.shape_of(w_sum, node) != avg_shape:
        w_sum = t.apply("expand", [w_sum], node, attrs=(avg_shape,))
    return avg, w_sum


# ------------------------------------------------------------------------ scans
def _scan_axis(t: Tracer, node, x, axis):
    """(array, axis): ``axis=None`` scans the flattened array."""
    shape = t.shape_of(x, node)
    if axis is None:
        return _reshape(t, node, x, (math.prod(shape),)), 0
    return x, _axis(t, node, axis, len(shape))


@by_name("numpy.cumsum", "method.cumsum", "numpy.cumprod", "method.cumprod")
def _cumulative(t: Tracer, node, args, kwargs, name: str):
    x, axis, dtype, out = _bind(t, node, args, kwargs, ["a", "axis", "dtype", "out"],
                                {"axis": None, "dtype": None, "out": None})
    x, axis = _scan_axis(t, node, _array(t, node, x), axis)
    if name == "cumsum":
        return t.apply("cumsum", [x], node, attrs=(axis, False))
    return t.apply("cumprod", [x], node, attrs=(axis,))


@call("numpy.diff")
def _diff(t: Tracer, node, args, kwargs):
    x, n, axis, prepend, append = _bind(t, node, args, kwargs,
                                        ["a", "n", "axis", "prepend", "append"],
                                        {"n": 1, "axis": -1, "prepend": None, "append": None})
    if prepend is not None or append is not None:
        raise t.program.error("np.diff(prepend=, append=) is not supported: concatenate first",
                              node)
    n = _int(t, node, n, "n")
    if n < 0:
        raise t.program.error("np.diff: n must be non-negative", node)
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    if not shape:
        raise t.program.error("np.diff needs an array of at least one dimension", node,
                              cls=_shape_error())
    axis = _axis(t, node, axis, len(shape))
    for _ in range(min(n, shape[axis])):
        x = t.apply("diff", [x], node, attrs=(axis, False))
    return x


# ------------------------------------------------------------------------ argmax, argmin
@by_name("numpy.argmax", "method.argmax", "numpy.argmin", "method.argmin")
def _arg_extreme(t: Tracer, node, args, kwargs, name: str):
    x, axis, out, keepdims = _bind(t, node, args, kwargs, ["a", "axis", "out", "keepdims"],
                                   {"axis": None, "out": None, "keepdims": False})
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    if axis is not None:
        axis = _axis(t, node, axis, len(shape))
    if not shape:
        raise t.program.error(f"{t.what(node.func)}() of a scalar", node, cls=_shape_error())
    return t.apply(name, [x], node, attrs=(axis, _keepdims(t, node, keepdims)))


# ------------------------------------------------------------------------ diagonals
def _diagonal_of(t: Tracer, node, x, offset, axis1, axis2):
    shape = t.shape_of(x, node)
    if len(shape) < 2:
        raise t.program.error("a diagonal needs an array of at least two dimensions", node,
                              cls=_shape_error())
    offset = _int(t, node, offset, "offset")
    a1, a2 = _axis(t, node, axis1, len(shape)), _axis(t, node, axis2, len(shape))
    if a1 == a2:
        raise t.program.error("axis1 and axis2 must differ", node)
    return t.apply("diagonal", [x], node, attrs=(offset, a1, a2))


@call("numpy.diagonal", "method.diagonal")
def _diagonal(t: Tracer, node, args, kwargs):
    x, offset, axis1, axis2 = _bind(t, node, args, kwargs, ["a", "offset", "axis1", "axis2"],
                                    {"offset": 0, "axis1": 0, "axis2": 1})
    return _diagonal_of(t, node, _array(t, node, x), offset, axis1, axis2)


@call("numpy.trace", "method.trace")
def _trace(t: Tracer, node, args, kwargs):
    x, offset, axis1, axis2, dtype, out = _bind(
        t, node, args, kwargs, ["a", "offset", "axis1", "axis2", "dtype", "out"],
        {"offset": 0, "axis1": 0, "axis2": 1, "dtype": None, "out": None})
    d = _diagonal_of(t, node, _array(t, node, x), offset, axis1, axis2)
    return t.apply("sum", [d], node, attrs=((len(t.shape_of(d, node)) - 1,), False))


@call("numpy.diag")
def _diag(t: Tracer, node, args, kwargs):
    x, k = _bind(t, node, args, kwargs, ["v", "k"], {"k": 0})
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    k = _int(t, node, k, "k")
    if len(shape) == 2:
        return _diagonal_of(t, node, x, k, 0, 1)
    if len(shape) != 1:
        raise t.program.error("np.diag needs a 1-d or 2-d array", node, cls=_shape_error())
    size = shape[0] + abs(k)
    return t.apply("embed_diagonal", [x], node, attrs=(k, 0, 1, (size, size)))


@by_name("numpy.tril", "numpy.triu")
def _triangle(t: Tracer, node, args, kwargs, name: str):
    x, k = _bind(t, node, args, kwargs, ["m", "k"], {"k": 0})
    x = _array(t, node, x)
    if len(t.shape_of(x, node)) < 2:
        raise t.program.error(f"{t.what(node.func)}() needs matrices (..., M, N)", node,
                              cls=_shape_error())
    return t.apply(name, [x], node, attrs=(_int(t, node, k, "k"),))


# ------------------------------------------------------------------------ products
@call("numpy.kron")
def _kron(t: Tracer, node, args, kwargs):
    """kron(a, b) is a broadcast product with the axes interleaved, reshaped: its gradient is a
    sum over the interleaved axes, as one would write it."""
    a, b = _bind(t, node, args, kwargs, ["a", "b"], {})
    sa, sb = t.shape_of(a, node), t.shape_of(b, node)
    ndim = max(len(sa), len(sb))
    sa, sb = (1,) * (ndim - len(sa)) + sa, (1,) * (ndim - len(sb)) + sb
    a2 = _reshape(t, node, a, tuple(n for s in sa for n in (s, 1)))
    b2 = _reshape(t, node, b, tuple(n for s in sb for n in (1, s)))
    return _reshape(t, node, t.apply("mul", [a2, b2], node), tuple(p * q for p, q in zip(sa, sb)))


def einsum_subscripts(t: Tracer, node, subscripts, shapes) -> str:
    """NumPy's subscripts (implicit output, ``...``) as one explicit string over letters."""
    if not isinstance(subscripts, str) or not subscripts.isascii() or \
            set(subscripts) - set(string.ascii_letters + ",.-> "):
        raise t.program.error("np.einsum needs a subscript string such as 'ij,jk->ik'", node)
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise t.program.error(f"np.einsum: {len(terms)} subscripts for {len(shapes)} operands",
                              node)
    used = set(text) & set(string.ascii_letters)
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    ellipsis_ndim = 0
    for term, shape in zip(terms, shapes):
        if term.count("...") > 1 or term.replace("...", "").count(".") or \
                "..." not in term and len(term) != len(shape) or \
                "..." in term and len(term) - 3 > len(shape):
            raise t.program.error(f"np.einsum: subscripts '{term}' do not fit shape {shape}",
                                  node, cls=_shape_error())
        if "..." in term:
            ellipsis_ndim = max(ellipsis_ndim, len(shape) - (len(term) - 3))
    batch = "".join(spare[:ellipsis_ndim])
    terms = [term.replace("...", batch[len(batch) - (len(shape) - (len(term) - 3)):])
             if "..." in term else term for term, shape in zip(terms, shapes)]
    if arrow:
        if output.count(".") not in (0, 3):
            raise t.program.error("np.einsum: bad output subscripts", node)
        output = output.replace("...", batch)
    else:
        counts = {c: "".join(terms).count(c) for c in "".join(terms)}
        output = batch + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in batch))
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        if len(set(term)) != len(term):
            raise t.program.error(f"np.einsum: a repeated index within one operand ('{term}') "
                                  "is not supported; use np.diagonal or np.trace", node)
        for c, n in zip(term, shape):
            if sizes.setdefault(c, n) != n:
                raise t.program.error(f"np.einsum: index '{c}' has sizes {sizes[c]} and {n} "
                                      "(broadcasting inside einsum is not supported)", node,
                                      cls=_shape_error())
    if len(set(output)) != len(output) or set(output) - set(sizes):
        raise t.program.error(f"np.einsum: output subscripts '{output}' must be distinct "
                              "indices of the operands", node)
    return ",".join(terms) + "->" + output


@call("numpy.einsum")
def _einsum(t: Tracer, node, args, kwargs):
    for key, value in kwargs.items():
        if key != "optimize":
            raise t.program.error(f"np.einsum() got an unexpected keyword '{key}'", node)
    if len(args) < 2:
        raise t.program.error("np.einsum needs subscripts and at least one operand", node)
    operands = [_array(t, node, x) for x in args[1:]]
    subscripts, operands = _diagonals_taken(t, node, args[0], operands)
    shapes = [t.shape_of(x, node) for x in operands]
    subscripts = einsum_subscripts(t, node, subscripts, shapes)
    return t.apply("einsum", operands, node, attrs=(subscripts,))


def _diagonals_taken(t: Tracer, node, subscripts, operands: list) -> tuple:
    """An index repeated within one operand (``'ii->i'``, ``'ii'``, ``'iij->j'``) reads that
    operand's diagonal: taken first (``np.diagonal``, its own backward), so the einsum proper
    has distinct indices. NumPy's implicit output is made explicit from the original string."""
    if not isinstance(subscripts, str):
        return subscripts, operands
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands) or \
            not any(len(set(term.replace(".", ""))) != len(term.replace(".", "")) for term in terms):
        return subscripts, operands
    if not arrow:  # letters that appear once, in order; '...' first
        letters = "".join(terms).replace(".", "")
        output = ("..." if "..." in inputs else "") + \
            "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    operands = list(operands)
    for k, term in enumerate(terms):
        if "..." in term:
            continue  # left to einsum_subscripts, which says what it does not take
        while len(set(term)) != len(term):
            c = next(c for c in term if term.count(c) > 1)
            a1 = term.index(c)
            a2 = term.index(c, a1 + 1)
            shape = t.shape_of(operands[k], node)
            if len(shape) != len(term) or shape[a1] != shape[a2]:
                raise t.program.error(f"np.einsum: the repeated index '{c}' of '{term}' spans "
                                      f"axes of different sizes in shape {shape}", node,
                                      cls=_shape_error())
            operands[k] = t.apply("diagonal", [operands[k]], node, attrs=(0, a1, a2))
            term = term[:a1] + term[a1 + 1:a2] + term[a2 + 1:] + c
        terms[k] = term
    return ",".join(terms) + "->" + output, operands


# ------------------------------------------------------------------------ np.linalg
def _matrices(t: Tracer, node, x, square: bool = True):
    x = _array(t, node, x, "matrices")
    shape = t.shape_of(x, node)
    if len(shape) < 2 or square and shape[-1] != shape[-2]:
        kind = "square matrices (..., M, M)" if square else "matrices (..., M, N)"
        raise t.program.error(f"{t.what(node.func)}() needs {kind}, got shape {shape}", node,
                              cls=_shape_error())
    return x


@by_name("numpy.linalg.inv", "numpy.linalg.det", "numpy.linalg.cholesky")
def _square_fn(t: Tracer, node, args, kwargs, name: str):
    (x,) = _bind(t, node, args, kwargs, ["a"], {})
    return t.apply(name, [_matrices(t, node, x)], node)


@call("numpy.linalg.slogdet")
def _slogdet(t: Tracer, node, args, kwargs):
    (x,) = _bind(t, node, args, kwargs, ["a"], {})
    x = _matrices(t, node, x)
    return t.apply("slogdet_sign", [x], node), t.apply("logabsdet", [x], node)


@call("numpy.linalg.eigvalsh")
def _eigvalsh(t: Tracer, node, args, kwargs):
    """Eigenvalues, ascending; backward V diag(g) V^T (A is read as symmetric)."""
    x, uplo = _bind(t, node, args, kwargs, ["a", "UPLO"], {"UPLO": "L"})
    if uplo != "L":
        raise t.program.error("np.linalg.eigvalsh: only UPLO='L' (the default) is supported", node)
    return t.apply("eigvalsh", [_matrices(t, node, x)], node)


@call("numpy.linalg.eigh")
def _eigh(t: Tracer, node, args, kwargs):
    """(w, V), each differentiable; backward of V: V (F o V^T g) V^T, F_ij = 1/(w_j - w_i), symmetrized."""
    x, uplo = _bind(t, node, args, kwargs, ["a", "UPLO"], {"UPLO": "L"})
    if uplo != "L":
        raise t.program.error("np.linalg.eigh: only UPLO='L' (the default) is supported", node)
    x = _matrices(t, node, x)
    return t.apply("eigvalsh", [x], node), t.apply("eigh_vectors", [x], node)


@call("numpy.linalg.solve")
def _solve(t: Tracer, node, args, kwargs):
    a, b = _bind(t, node, args, kwargs, ["a", "b"], {})
    return t.apply("solve", [_matrices(t, node, a), _array(t, node, b)], node)


@call("numpy.linalg.pinv")
def _pinv(t: Tracer, node, args, kwargs):
    (x,) = _bind(t, node, args, kwargs, ["a"], {})
    return t.apply("pinv", [_matrices(t, node, x, square=False)], node)


@call("numpy.linalg.svd")
def _svd(t: Tracer, node, args, kwargs):
    x, full, uv = _bind(t, node, args, kwargs, ["a", "full_matrices", "compute_uv"],
                        {"full_matrices": True, "compute_uv": True})
    if uv:
        raise t.program.error("np.linalg.svd: only compute_uv=False (the singular values) "
                              "is differentiable here", node)
    return t.apply("svdvals", [_matrices(t, node, x, square=False)], node)


@call("numpy.linalg.norm")
def _norm(t: Tracer, node, args, kwargs):
    x, order, axis, keepdims = _bind(t, node, args, kwargs, ["x", "ord", "axis", "keepdims"],
                                     {"ord": None, "axis": None, "keepdims": False})
    x = _array(t, node, x)
    shape = t.shape_of(x, node)
    keepdims = _keepdims(t, node, keepdims)
    if axis is None and order is None:
        return _vector_norm(t, node, x, 2, tuple(range(len(shape))), keepdims)
    axes = tuple(range(len(shape))) if axis is None else \
        tuple(_axis(t, node, a, len(shape)) for a in (axis if isinstance(axis, tuple) else (axis,)))
    if len(axes) == 1:
        return _vector_norm(t, node, x, 2 if order is None else order, axes, keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(t, node, x, "fro" if order is None else order, axes, keepdims)
    raise t.program.error(f"np.linalg.norm: axis {axis} does not fit an array of shape {shape}; "
                          "give one axis (vectors) or two (matrices)", node, cls=_shape_error())


def _is(order, value) -> bool:
    return not isinstance(order, (str, bool)) and order == value


def _vector_norm(t: Tracer, node, x, order, axes, keepdims):
    if isinstance(order, str) or isinstance(order, bool) or not isinstance(order, (int, float)):
        raise t.program.error(f"np.linalg.norm: ord={order!r} is not a vector norm", node)
    if _is(order, 2):
        squares = t.apply("mul", [x, x], node)
        return t.apply("sqrt", [_reduce(t, node, "sum", squares, axes, keepdims)], node)
    if _is(order, 0):
        nonzero = t.apply("ne", [x, 0.0], node)
        return _reduce(t, node, "sum", t.apply("float", [nonzero], node), axes, keepdims)
    size = t.apply("abs", [x], node)
    if _is(order, math.inf) or _is(order, -math.inf):
        return _reduce(t, node, "max" if order > 0 else "min", size, axes, keepdims)
    if _is(order, 1):
        return _reduce(t, node, "sum", size, axes, keepdims)
    powered = t.apply("pow", [size, float(order)], node)
    return t.apply("pow", [_reduce(t, node, "sum", powered, axes, keepdims), 1.0 / order], node)


def _matrix_norm(t: Tracer, node, x, order, axes, keepdims):
    shape = t.shape_of(x, node)
    row, col = axes
    final = tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdims else \
        tuple(n for i, n in enumerate(shape) if i not in axes)
    if order == "fro":
        return _vector_norm(t, node, x, 2, tuple(sorted(axes)), keepdims)
    if order in ("nuc", 2, -2) and not isinstance(order, bool):
        rest = tuple(i for i in range(len(shape)) if i not in axes)
        moved = t.apply("transpose", [x], node, attrs=(rest + (row, col),)) \
            if rest + (row, col) != tuple(range(len(shape))) else x
        values = t.apply("svdvals", [moved], node)
        last = (len(t.shape_of(values, node)) - 1,)
        op = "sum" if order == "nuc" else "max" if order == 2 else "min"
        return _reshape(t, node, t.apply(op, [values], node, attrs=(last, False)), final)
    if any(_is(order, v) for v in (1, -1, math.inf, -math.inf)):
        summed, reduced = (row, col) if abs(order) == 1 else (col, row)
        size = t.apply("abs", [x], node)
        sums = t.apply("sum", [size], node, attrs=((summed,), keepdims))
        reduced -= 0 if keepdims or reduced < summed else 1
        op = "max" if order > 0 else "min"
        return t.apply(op, [sums], node, attrs=((reduced,), keepdims))
    raise t.program.error(f"np.linalg.norm: ord={order!r} is not a matrix norm here "
                          "(None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)", node)

