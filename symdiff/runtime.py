"""Small functions that generated modules carry with them.

Codegen copies the source of each helper a module uses into that module (``inspect.getsource``), so a
generated file depends on nothing but NumPy (and the standard library's ``math`` in its scalar
function). The interpreter calls the same functions directly.
"""


import numpy as np

# The builtins the helpers call, under private names. A generated module defines the program under
# its own name, which may be ``tuple`` or ``len``; the module binds these aliases before any of its
# functions, so they keep meaning the builtins there (the verifier checks the form of each alias).
_enumerate, _float, _hasattr, _int, _isinstance, _len, _list, _range, _tuple = (
    enumerate, float, hasattr, int, isinstance, len, list, range, tuple)
_ImportError = ImportError


def _sum_to(g, shape, out_shape=()):
    """Sum a gradient back to its input's shape.

    ``g`` stands for an array of the output's shape (``out_shape``) broadcast with the input's;
    the axes the input was broadcast along are summed away.
    """
    full = np.broadcast_shapes(np.shape(g), shape, out_shape)
    if full == shape and np.shape(g) == shape:
        return g
    if not shape:
        return np.sum(np.broadcast_to(g, full))
    lead = _len(full) - _len(shape)
    axes = _tuple(_range(lead)) + _tuple(lead + i for i, n in _enumerate(shape)
                                      if n == 1 and full[lead + i] != 1)
    return np.broadcast_to(g, full).sum(axis=axes).reshape(shape)


def _sign(x):
    """sign(x) on a Python float, with sign(0) = 0."""
    return _float((x > 0.0) - (x < 0.0))


def _max_mask(x, axis, lowest=False):
    """1.0 at the first position of the maximum (minimum) over ``axis``, 0.0 elsewhere.

    ``axis`` is a tuple of axes. The first index wins ties, as ``argmax`` does, so the max gate
    routes the whole gradient to one element.
    """
    x = np.asarray(x)
    kept = [a for a in _range(x.ndim) if a not in axis]
    moved = np.transpose(x, kept + _list(axis))
    flat = moved.reshape(moved.shape[:_len(kept)] + (-1,))
    winner = np.argmin(flat, axis=-1) if lowest else np.argmax(flat, axis=-1)
    mask = np.zeros(flat.shape)
    np.put_along_axis(mask, np.expand_dims(winner, -1), 1.0, axis=-1)
    return np.transpose(mask.reshape(moved.shape), np.argsort(kept + _list(axis)))


def _logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over ``axis`` without overflow: the maximum is taken out first."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _namespace(*values):
    """The array library of the inputs (array_api_compat when installed), else NumPy."""
    try:
        import array_api_compat
    except _ImportError:
        return np
    arrays = [v for v in values if array_api_compat.is_array_api_obj(v)]
    return array_api_compat.array_namespace(*arrays) if arrays else np


def _shape(x):
    """The shape of an array, () for a Python number."""
    return _tuple(x.shape) if _hasattr(x, "shape") else ()


def _xp_array(xp, g):
    """An array of the library; a Python number becomes float64, as NumPy would make it."""
    return xp.asarray(g, dtype=xp.float64) if _isinstance(g, (_int, _float)) else g


def _xp_sum_to(xp, g, shape, out_shape=()):
    """_sum_to for any array library: sum g, standing for out_shape, back to shape."""
    g = _xp_array(xp, g)
    full = _tuple(np.broadcast_shapes(_tuple(g.shape), _tuple(shape), _tuple(out_shape)))
    if full == _tuple(shape) and _tuple(g.shape) == full:
        return g
    lead = _len(full) - _len(shape)
    axes = _tuple(_range(lead)) + _tuple(lead + i for i, n in _enumerate(shape)
                                      if n == 1 and full[lead + i] != 1)
    total = xp.sum(xp.broadcast_to(g, full), axis=axes) if axes else xp.broadcast_to(g, full)
    return xp.reshape(total, _tuple(shape))


def _xp_expand(xp, g, shape):
    """g broadcast to shape, as a new array."""
    g = _xp_array(xp, g)
    return xp.broadcast_to(g, shape) * xp.ones(shape, dtype=g.dtype)


def _xp_scatter(xp, g, shape, index):
    """Zeros of ``shape`` with ``g`` written at ``index`` (which selects each position once)."""
    out = xp.zeros(shape, dtype=g.dtype if _hasattr(g, "dtype") else xp.float64)
    if _hasattr(out, "at"):  # JAX arrays are immutable
        return out.at[index].set(g)
    out[index] = g
    return out


def _xp_max_mask(xp, x, axis, lowest=False):
    """_max_mask for any array library: 1.0 at the first extreme over the axes, 0.0 elsewhere."""
    kept = [a for a in _range(x.ndim) if a not in axis]
    moved = xp.permute_dims(x, _tuple(kept + _list(axis)))
    flat = xp.reshape(moved, _tuple(moved.shape[:_len(kept)]) + (-1,))
    winner = xp.argmin(flat, axis=-1) if lowest else xp.argmax(flat, axis=-1)
    positions = xp.arange(flat.shape[-1])
    mask = xp.astype(positions == xp.expand_dims(winner, axis=-1), x.dtype)
    order = _tuple(_int(i) for i in np.argsort(kept + _list(axis)))
    return xp.permute_dims(xp.reshape(mask, _tuple(moved.shape)), order)


def _xp_logsumexp(xp, x, axis, keepdims):
    """_logsumexp for any array library."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


HELPERS = {f.__name__: f for f in (_sum_to, _sign, _max_mask, _logsumexp, _namespace, _shape,
                                   _xp_array, _xp_sum_to, _xp_expand, _xp_scatter, _xp_max_mask,
                                   _xp_logsumexp)}


# ---------------------------------------------------------------- reductions and scans
def _prod_others(x, axis):
    """For each element, the product of the other elements over ``axis`` (a tuple of axes).

    The gradient of a product, computed from products to the left and to the right of each
    position, never by dividing: exact where ``x`` has zeros."""
    x = np.asarray(x)
    kept = [a for a in _range(x.ndim) if a not in axis]
    moved = np.transpose(x, kept + _list(axis))
    flat = moved.reshape(moved.shape[:_len(kept)] + (-1,))
    left = np.ones(flat.shape, dtype=flat.dtype)
    right = np.ones(flat.shape, dtype=flat.dtype)
    left[..., 1:] = np.cumprod(flat[..., :-1], axis=-1)
    right[..., :-1] = np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1]
    return np.transpose((left * right).reshape(moved.shape), np.argsort(kept + _list(axis)))


def _cumprod_grad(x, g, axis):
    """The gradient of ``np.cumprod(x, axis)`` for the upstream gradient ``g``, exact where
    ``x`` has zeros: ``dx[i] = prod(x[:i]) * s[i]`` with ``s[i] = g[i] + x[i+1] * s[i+1]``."""
    g = np.moveaxis(np.broadcast_to(g, np.shape(x)), axis, -1)
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    before = np.ones(x.shape, dtype=np.result_type(x, g))
    before[..., 1:] = np.cumprod(x[..., :-1], axis=-1)
    s = np.array(g, dtype=before.dtype)
    for i in _range(n - 2, -1, -1):
        s[..., i] += x[..., i + 1] * s[..., i + 1]
    return np.moveaxis(before * s, -1, axis)


HELPERS.update({f.__name__: f for f in (_prod_others, _cumprod_grad)})


# ---------------------------------------------------------------- sizes read from the inputs
def _size_phrase(label, size, axis, ndim):
    """How a user names one size of an input: ``X has 5 columns``."""
    if ndim == 1:
        return f"{label} has {size} entries"
    if ndim == 2:
        return f"{label} has {size} {('rows', 'columns')[axis]}"
    return f"{label} has size {size} along axis {axis}"


def _sizes(names, *inputs):
    """The named sizes, read from the inputs' shapes: ``inputs`` are ``(label, value, dims)``
    with ``dims`` like ``("N", "D")`` (a number is a size the code needs exactly). Checks each
    input's number of dimensions and that a size named twice is the same everywhere, with a
    ValueError naming the inputs, before any NumPy call can fail deep inside."""
    known = {}
    for label, value, dims in inputs:
        shape = value.shape if _hasattr(value, "shape") else np.shape(value)
        if _len(shape) != _len(dims):
            wanted = f"shape [{', '.join(f'{d}' for d in dims)}]" if dims else "a number"
            raise ValueError(f"{label} must have {_len(dims)} dimension(s), {wanted}; got "
                             f"shape {_tuple(shape)}")
        for axis, dim in _enumerate(dims):
            size = shape[axis]
            first = known.setdefault(dim, (dim if dim.__class__ is _int else size, label, axis,
                                           _len(dims)))
            if first[0] != size:
                raise ValueError(_size_mismatch(dim, first, (size, label, axis, _len(dims))))
    return _tuple(known[n][0] for n in names)


def _size_mismatch(dim, first, then):
    """The message for a size that differs from where it was first read (or from the number
    the code needs)."""
    got = _size_phrase(then[1], then[0], then[2], then[3])
    if dim.__class__ is _int:
        return f"{got}, but the code was generated for {dim} there"
    return f"{_size_phrase(first[1], first[0], first[2], first[3])} but {got} (both are {dim})"


HELPERS.update({f.__name__: f for f in (_size_phrase, _size_mismatch, _sizes)})
