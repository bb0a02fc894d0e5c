"""Small functions that generated modules carry with them.

Codegen copies the source of each helper a module uses into that module (``inspect.getsource``), so a
generated file depends on nothing but NumPy (and the standard library's ``math`` in its scalar
function). The interpreter calls the same functions directly.
"""


import numpy as np


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
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and full[lead + i] != 1)
    return np.broadcast_to(g, full).sum(axis=axes).reshape(shape)


def _sign(x):
    """sign(x) on a Python float, with sign(0) = 0."""
    return float((x > 0.0) - (x < 0.0))


def _max_mask(x, axis, lowest=False):
    """1.0 at the first position of the maximum (minimum) over ``axis``, 0.0 elsewhere.

    ``axis`` is a tuple of axes. The first index wins ties, as ``argmax`` does, so the max gate
    routes the whole gradient to one element.
    """
    x = np.asarray(x)
    kept = [a for a in range(x.ndim) if a not in axis]
    moved = np.transpose(x, kept + list(axis))
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
    winner = np.argmin(flat, axis=-1) if lowest else np.argmax(flat, axis=-1)
    mask = np.zeros(flat.shape)
    np.put_along_axis(mask, np.expand_dims(winner, -1), 1.0, axis=-1)
    return np.transpose(mask.reshape(moved.shape), np.argsort(kept + list(axis)))


def _logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over ``axis`` without overflow: the maximum is taken out first."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


HELPERS = {f.__name__: f for f in (_sum_to, _sign, _max_mask, _logsumexp)}
