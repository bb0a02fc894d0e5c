"""Central finite differences: the numerical check of a compiled gradient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

RELATIVE_STEP = 6e-6


@dataclass
class CheckResult:
    """The largest relative error of each input's gradient against central differences."""

    errors: dict[str, float]
    analytic: dict[str, Any]
    numeric: dict[str, Any]

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)


def numeric_gradient(f: Callable[..., Any], inputs: dict[str, Any], name: str,
                     dout: Any = None) -> np.ndarray:
    """d sum(dout * f) / d inputs[name] by central differences, element by element.

    The step is ``6e-6 * max(|x|, 1e-3)`` per element: relative to the value, so large and small
    inputs are both resolved, and near the cube root of machine epsilon, which balances truncation
    against rounding error.
    """
    x = np.array(inputs[name], dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        h = RELATIVE_STEP * max(abs(x[index]), 1e-3)
        values = []
        for sign in (1.0, -1.0):
            shifted = x.copy()
            shifted[index] += sign * h
            out = f(**{**inputs, name: shifted if x.shape else float(shifted)})
            values.append(_weighted_sum(out, dout))
        grad[index] = (values[0] - values[1]) / (2 * h)
    return grad if x.shape else float(grad)


def _weighted_sum(out: Any, dout: Any) -> float:
    if isinstance(out, tuple):
        douts = dout if isinstance(dout, tuple) else (None,) * len(out)
        return sum(_weighted_sum(o, d) for o, d in zip(out, douts))
    return float(np.sum(out if dout is None else np.asarray(out) * dout))


def relative_error(a: Any, b: Any) -> float:
    """The largest elementwise ``|a - b| / max(|a|, |b|, floor)``.

    The floor is 1e-3 of the array's largest magnitude (and at least 1e-8): an element far smaller
    than the rest is compared absolutely, since finite differences cannot resolve it relatively.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0:
        return 0.0
    floor = max(1e-8, 1e-3 * float(max(np.max(np.abs(a)), np.max(np.abs(b)))))
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / scale))


def check_gradients(compiled, inputs: dict[str, Any]) -> CheckResult:
    """Compare ``compiled``'s gradients at ``inputs`` with central differences."""
    _, analytic = compiled(**inputs)

    def value(**kw):
        return compiled(**kw)[0]

    numeric = {name: numeric_gradient(value, inputs, name) for name in analytic}
    errors = {name: relative_error(analytic[name], numeric[name]) for name in analytic}
    return CheckResult(errors, analytic, numeric)
