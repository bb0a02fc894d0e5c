"""Small functions that generated modules carry with them.

Codegen copies the source of each helper a module uses into that module (``inspect.getsource``), so a
generated file depends on nothing but NumPy (and the standard library's ``math`` in its scalar
function). The interpreter calls the same functions directly.
"""

import math

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
        return float(np.sum(np.broadcast_to(g, full)))
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and full[lead + i] != 1)
    return np.broadcast_to(g, full).sum(axis=axes).reshape(shape)


def _sigmoid(x):
    """The logistic function on a Python float, without overflow at either end."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x):
    """log(1 + exp(x)) on a Python float, without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sign(x):
    """sign(x) on a Python float, with sign(0) = 0."""
    return float((x > 0.0) - (x < 0.0))


HELPERS = {f.__name__: f for f in (_sum_to, _sigmoid, _softplus, _sign)}
