"""Reference oracles for test programs: NumPy for values, central differences and (where it is
installed) JAX in float64 for gradients, and the node-by-node interpreter.

A test program is the source of one ``def f(...)`` written with ``np.``; the oracles run that text
themselves (it is the test's own code, never user input) with NumPy or with ``jax.numpy``.
"""

from __future__ import annotations

import numpy as np

import symdiff
from symdiff.ad.interpret import Interpreter

try:  # JAX is an optional oracle: installed by developers, not required in CI.
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
except ImportError:  # pragma: no cover - depends on the machine
    jax = jnp = None


def run_with(module, source: str, args: dict):
    """Run the test program's ``f`` with ``np`` bound to ``module``."""
    namespace = {"np": module}
    exec(compile(source, "<test program>", "exec"), namespace)  # the test's own code
    # Programs may update arrays in place (x[0] = ...): each run gets its own copies.
    return namespace["f"](**{k: v.copy() if hasattr(v, "copy") else v for k, v in args.items()})


def central_vjp(source: str, args: dict, name: str, dout, h: float = 1e-6) -> np.ndarray:
    """d sum(dout * f) / d args[name], every element, by central differences."""
    x = np.array(args[name], dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        total = []
        for sign in (1.0, -1.0):
            shifted = x.copy()
            shifted[index] += sign * h
            out = run_with(np, source, {**args, name: shifted})
            total.append(float(np.sum(np.asarray(out) * dout)))
        grad[index] = (total[0] - total[1]) / (2 * h)
    return grad


def jax_vjp(source: str, args: dict, wrt: list[str], dout) -> dict | None:
    """JAX's vector-Jacobian product in float64, or None without JAX (or where JAX refuses the
    NumPy form)."""
    if jax is None:
        return None
    floats = {k: jnp.asarray(v) for k, v in args.items() if k in wrt}
    fixed = {k: v for k, v in args.items() if k not in wrt}
    try:
        _, pull = jax.vjp(lambda kw: run_with(jnp, source, {**fixed, **kw}), floats)
    except (TypeError, ValueError, AttributeError):  # a NumPy form JAX refuses or lacks (a
        # list as an index, np.pad's one-element widths, ufunc methods): no JAX oracle
        return None
    (grads,) = pull(jnp.asarray(dout))
    return {k: np.asarray(v) for k, v in grads.items()}


def check_program(source: str, args: dict, wrt: list[str] | None = None, seed: int = 0,
                  rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """The compiled program's value equals NumPy's, and its gradients (of the sum, and a
    vector-Jacobian product with a random ``dout``) equal central differences, the
    interpreter's and JAX's."""
    g = symdiff.compile(source, wrt=wrt)
    wrt = g.wrt
    expected = run_with(np, source, args)
    value, grads = g(**args)
    assert np.shape(value) == np.shape(expected), f"shape {np.shape(value)} != {np.shape(expected)}"
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12, err_msg="value")
    dout = np.random.default_rng(seed).standard_normal(np.shape(expected))
    _, vjp = g(**args, dout=dout)
    oracle = jax_vjp(source, args, wrt, dout)
    for name in wrt:
        assert np.shape(grads[name]) == np.shape(args[name]), f"d{name} has the wrong shape"
        numeric = central_vjp(source, args, name, dout)
        np.testing.assert_allclose(vjp[name], numeric, rtol=rtol, atol=atol,
                                   err_msg=f"d{name} vs central differences")
        if oracle is not None:
            np.testing.assert_allclose(vjp[name], oracle[name], rtol=1e-9, atol=1e-12,
                                       err_msg=f"d{name} vs JAX")
    summed = {k: central_vjp(source, args, k, np.ones(np.shape(expected))) for k in wrt}
    for name in wrt:
        np.testing.assert_allclose(grads[name], summed[name], rtol=rtol, atol=atol,
                                   err_msg=f"d{name} (of the sum) vs central differences")
    interp = Interpreter(g.graph)
    np.testing.assert_allclose(interp.forward(**args), value, rtol=1e-12, atol=1e-12)
    interpreted = interp.backward()
    for name in wrt:
        np.testing.assert_allclose(interpreted[name], grads[name], rtol=1e-10, atol=1e-12,
                                   err_msg=f"interpreter d{name}")
