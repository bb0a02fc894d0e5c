"""``elementwise``: sum(log(1+exp(a*x+b)) * tanh(x)) over x of 1e6 elements, a and b floats.

Gradients w.r.t. a, b (floats) and x (an array). The hand-written gradient is NumPy as a careful
person writes it first (``log1p(exp(u))`` as in the formula, one exp shared by the value and the
sigmoid, tanh computed once); for context also the same with every temporary reused in place
(``out=``) and dot products for the reductions. The value alone is the formula in NumPy. Also
timed: symdiff's ``g.forward``.
"""

from __future__ import annotations

import numpy as np

import symdiff

from .harness import (
    Entry, HAND, IN_PLACE, Result, SYMDIFF, Settings, find, import_jax, in_place_metric,
    limit_target, run_case, unpack_tuple, value_ratio_metrics)

NAME = "elementwise"
N = 1_000_000
A, B = 0.5, 0.1
SOURCE = """def softplus_tanh(a, b, x):
    return np.sum(np.log(1 + np.exp(a * x + b)) * np.tanh(x))
"""


def by_hand(a, b, x):
    e = np.exp(a * x + b)
    sp = np.log1p(e)                      # softplus
    t = np.tanh(x)
    du = e / (1.0 + e) * t                # d value / d(a x + b)
    return np.sum(sp * t), (np.sum(du * x), np.sum(du), a * du + sp * (1.0 - t * t))


def by_hand_in_place(a, b, x):
    e = a * x
    e += b
    np.exp(e, out=e)                      # e = exp(a x + b)
    sp = np.log1p(e)                      # softplus
    t = np.tanh(x)
    value = float(sp @ t)
    e /= 1.0 + e                          # sigmoid(a x + b)
    e *= t                                # d value / d(a x + b)
    da, db = float(e @ x), float(e.sum())
    t *= t
    np.subtract(1.0, t, out=t)            # tanh' = 1 - tanh^2
    t *= sp
    e *= a
    t += e
    return value, (da, db, t)


def value_by_hand(a, b, x):
    return np.sum(np.log1p(np.exp(a * x + b)) * np.tanh(x))


# ------------------------------------------------------------------ the systems
def _symdiff(x):
    def build():
        g = symdiff.compile(SOURCE)
        return lambda: g(A, B, x)
    return Entry(SYMDIFF, build, lambda r: (r[0], [r[1]["a"], r[1]["b"], r[1]["x"]]))


def _jax(x):
    def build():
        jax = import_jax()
        jnp = jax.numpy

        def f(a, b, x):
            return jnp.sum(jnp.log(1 + jnp.exp(a * x + b)) * jnp.tanh(x))
        vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))
        device = jax.device_put(x)
        return lambda: jax.block_until_ready(vg(A, B, device))
    return Entry("jax (jit)", build, unpack_tuple)


def _autograd(x):
    def build():
        import autograd
        import autograd.numpy as anp

        def f(a, b, x):
            return anp.sum(anp.log(1 + anp.exp(a * x + b)) * anp.tanh(x))
        vg = autograd.value_and_grad(f, (0, 1, 2))
        return lambda: vg(A, B, x)
    return Entry("autograd", build, unpack_tuple)


def _torch(x):
    def build():
        import torch
        xt = torch.from_numpy(x).requires_grad_()

        def call():
            a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
            b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
            value = (torch.log(1 + torch.exp(a * xt + b)) * torch.tanh(xt)).sum()
            return value.detach(), torch.autograd.grad(value, (a, b, xt))
        return call
    return Entry("torch", build, unpack_tuple, "eager")


def _pytensor(x):
    def build():
        import pytensor
        import pytensor.tensor as pt
        a, b, xs = pt.dscalar("a"), pt.dscalar("b"), pt.dvector("x")
        value = pt.sum(pt.log(1 + pt.exp(a * xs + b)) * pt.tanh(xs))
        f = pytensor.function([a, b, xs], [value] + pytensor.grad(value, [a, b, xs]))
        return lambda: f(A, B, x)
    return Entry("pytensor", build, lambda r: (r[0], list(r[1:])))


def _casadi(x):
    def build():
        import casadi as ca
        a, b, xs = ca.MX.sym("a"), ca.MX.sym("b"), ca.MX.sym("x", len(x))
        value = ca.sum1(ca.log(1 + ca.exp(a * xs + b)) * ca.tanh(xs))
        f = ca.Function("elementwise", [a, b, xs], [value] + [ca.gradient(value, s)
                                                               for s in (a, b, xs)])
        return lambda: f(A, B, x)
    return Entry("casadi", build, lambda r: (r[0], list(r[1:])), "MX (vector symbol)")


def _sympy(x):
    def build():
        import sympy
        a, b, xs = sympy.symbols("a b x")
        term = sympy.log(1 + sympy.exp(a * xs + b)) * sympy.tanh(xs)
        parts = sympy.lambdify((a, b, xs), [term, sympy.diff(term, a), sympy.diff(term, b),
                                            sympy.diff(term, xs)], modules="numpy", cse=True)

        def call():
            value, da, db, dx = parts(A, B, x)
            return np.sum(value), (np.sum(da), np.sum(db), dx)
        return call
    return Entry("sympy (diff+lambdify)", build, unpack_tuple,
                 "the term and its partials lambdified (cse), sums in NumPy")


# ------------------------------------------------------------------ the workload
def run(settings: Settings, log=print) -> Result:
    x = np.random.default_rng(0).standard_normal(N)
    case = "n=1e6"
    hand = Entry(HAND, lambda: (lambda: by_hand(A, B, x)), unpack_tuple,
                 "NumPy, log1p(exp(u)), shared exp and tanh")
    in_place = Entry(IN_PLACE, lambda: (lambda: by_hand_in_place(A, B, x)), unpack_tuple,
                     "for context: every temporary reused (out=), dot products")
    peers = [in_place] + [make(x) for make in (_jax, _autograd, _torch, _pytensor, _casadi,
                                               _sympy)]
    rows = run_case(NAME, case, hand, [_symdiff(x)] + peers, settings, log)

    g = symdiff.compile(SOURCE)
    forward_case = "value only"
    rows += run_case(NAME, forward_case,
                     Entry(HAND, lambda: (lambda: value_by_hand(A, B, x)), lambda r: (r, []),
                           "NumPy forward only"),
                     [Entry("symdiff g.forward", lambda: (lambda: g.forward(A, B, x)),
                            lambda r: (r[0], []), "returns (out, cache)")],
                     settings, log)

    sym = find(rows, case, SYMDIFF)
    metrics, ratio_value = value_ratio_metrics(rows, case, forward_case)
    targets = [limit_target(NAME, "<= 0.9x hand-written NumPy", sym.ratio if sym.ok else None,
                            0.9),
               limit_target(NAME, "gradient+value / value <= 3", ratio_value, 3.0)]
    return Result(NAME, rows, targets, metrics + in_place_metric(rows, case))
