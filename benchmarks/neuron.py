"""``neuron``: the sigmoid neuron 1/(1+exp(-(w0*x0 + w1*x1 + w2))), value and 5 gradients.

Two cases: per-call latency on Python floats (hand-written: plain Python with ``math``), and
throughput on five arrays of 1e6 elements, one neuron per element (hand-written: NumPy as a
careful person writes it first, the sigmoid computed once and reused; for context also the same
with every temporary reused in place, ``out=``). For arrays every system returns the array of
values and the gradients of their sum (elementwise here).
"""

from __future__ import annotations

import math

import numpy as np

import symdiff

from .harness import HAND, IN_PLACE, SYMDIFF, Entry, Result, Settings, find, import_jax, \
    in_place_metric, limit_target, run_case, Target, unpack_tuple

NAME = "neuron"
FORMULA = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"
ORDER = ("w0", "x0", "w1", "x1", "w2")
POINT = (2.0, -1.0, -3.0, -2.0, -3.0)
N = 1_000_000


# ------------------------------------------------------------------ hand-written
def by_hand_floats(w0, x0, w1, x1, w2):
    s = 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    local = (1.0 - s) * s
    return s, (x0 * local, w0 * local, x1 * local, w1 * local, local)


def by_hand_arrays(w0, x0, w1, x1, w2):
    s = 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))
    local = s * (1.0 - s)
    return s, (x0 * local, w0 * local, x1 * local, w1 * local, local)


def by_hand_in_place(w0, x0, w1, x1, w2):
    z = w0 * x0
    z += w1 * x1
    z += w2
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    s = np.reciprocal(z, out=z)          # sigma(w.x + b)
    local = 1.0 - s
    local *= s                           # sigma' = (1 - s) s
    return s, (x0 * local, w0 * local, x1 * local, w1 * local, local)


# ------------------------------------------------------------------ the systems
def _symdiff(args):
    def build():
        g = symdiff.compile(FORMULA)
        return lambda: g(*args)
    return Entry(SYMDIFF, build, lambda r: (r[0], [r[1][k] for k in ORDER]))


def _jax(args, arrays):
    def formula(w0, x0, w1, x1, w2):
        jnp = import_jax().numpy
        return 1.0 / (1.0 + jnp.exp(-(w0 * x0 + w1 * x1 + w2)))

    def build():
        jax = import_jax()
        if not arrays:
            f = jax.jit(jax.value_and_grad(formula, argnums=(0, 1, 2, 3, 4)))
            return lambda: jax.block_until_ready(f(*args))

        def loss(*a):
            out = formula(*a)
            return jax.numpy.sum(out), out
        f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3, 4), has_aux=True))
        device = [jax.device_put(a) for a in args]
        return lambda: jax.block_until_ready(f(*device))

    unpack = (lambda r: (r[0][1], list(r[1]))) if arrays else unpack_tuple
    return Entry("jax (jit)", build, unpack)


def _autograd(args, arrays):
    def build():
        import autograd
        import autograd.numpy as anp

        def formula(w0, x0, w1, x1, w2):
            return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))
        if not arrays:
            f = autograd.value_and_grad(formula, (0, 1, 2, 3, 4))
            return lambda: f(*args)
        vjp_maker = autograd.make_vjp(formula, (0, 1, 2, 3, 4))

        def call():
            vjp, out = vjp_maker(*args)
            return out, vjp(np.ones_like(out))
        return call
    return Entry("autograd", build, unpack_tuple)


def _torch(args, arrays):
    def build():
        import torch

        def formula(w0, x0, w1, x1, w2):
            return 1.0 / (1.0 + torch.exp(-(w0 * x0 + w1 * x1 + w2)))
        if not arrays:
            def call():               # floats in: the leaves are made per call
                leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
                out = formula(*leaves)
                return out.detach(), torch.autograd.grad(out, leaves)
            return call
        leaves = [torch.from_numpy(a).requires_grad_() for a in args]

        def call():
            out = formula(*leaves)
            return out.detach(), torch.autograd.grad(out, leaves, torch.ones_like(out))
        return call
    return Entry("torch", build, unpack_tuple,
                 "eager; float leaves made per call" if not arrays else "eager")


def _pytensor(args, arrays):
    def build():
        import pytensor
        import pytensor.tensor as pt
        make = pt.dvector if arrays else pt.dscalar
        syms = [make(n) for n in ORDER]
        w0, x0, w1, x1, w2 = syms
        out = 1.0 / (1.0 + pt.exp(-(w0 * x0 + w1 * x1 + w2)))
        grads = pytensor.grad(out.sum() if arrays else out, syms)
        f = pytensor.function(syms, [out] + grads)
        return lambda: f(*args)
    return Entry("pytensor", build, lambda r: (r[0], list(r[1:])))


def _casadi(args, arrays):
    def build():
        import casadi as ca
        if arrays:
            syms = [ca.MX.sym(n, len(args[0])) for n in ORDER]
        else:
            syms = [ca.SX.sym(n) for n in ORDER]
        w0, x0, w1, x1, w2 = syms
        out = 1.0 / (1.0 + ca.exp(-(w0 * x0 + w1 * x1 + w2)))
        total = ca.sum1(out) if arrays else out
        f = ca.Function("neuron", syms, [out] + [ca.gradient(total, s) for s in syms])
        return lambda: f(*args)
    return Entry("casadi", build, lambda r: (r[0], list(r[1:])),
                 "MX (vector symbols)" if arrays else "SX")


def _sympy(args, arrays):
    def build():
        import sympy
        syms = sympy.symbols(ORDER)
        w0, x0, w1, x1, w2 = syms
        out = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
        grads = [sympy.diff(out, s) for s in syms]
        f = sympy.lambdify(syms, [out] + grads, modules="numpy" if arrays else "math", cse=True)
        return lambda: f(*args)
    return Entry("sympy (diff+lambdify)", build, lambda r: (r[0], list(r[1:])),
                 "cse=True, modules=" + ("numpy" if arrays else "math"))


def entries(args, arrays: bool) -> list[Entry]:
    return [_symdiff(args)] + [make(args, arrays) for make in
                               (_jax, _autograd, _torch, _pytensor, _casadi, _sympy)]


# ------------------------------------------------------------------ the workload
def run(settings: Settings, log=print) -> Result:
    rows = []
    floats_case, arrays_case = "floats", "arrays n=1e6"
    hand = Entry(HAND, lambda: (lambda: by_hand_floats(*POINT)), unpack_tuple,
                 "plain Python, math")
    rows += run_case(NAME, floats_case, hand, entries(POINT, False), settings, log)

    rng = np.random.default_rng(0)
    arrays = tuple(rng.standard_normal(N) for _ in ORDER)
    hand = Entry(HAND, lambda: (lambda: by_hand_arrays(*arrays)), unpack_tuple,
                 "NumPy, the sigmoid shared")
    in_place = Entry(IN_PLACE, lambda: (lambda: by_hand_in_place(*arrays)), unpack_tuple,
                     "for context: every temporary reused (out=)")
    rows += run_case(NAME, arrays_case, hand, [in_place] + entries(arrays, True), settings, log)

    sym_floats = find(rows, floats_case, SYMDIFF)
    peers = [r for r in rows if r.case == floats_case and r.system not in (HAND, SYMDIFF) and r.ok]
    targets = [limit_target(NAME, "floats: <= 1.5x hand-written Python",
                            sym_floats.ratio if sym_floats.ok else None, 1.5)]
    if sym_floats.ok and peers:
        fastest = min(peers, key=lambda r: r.median_s)
        met = sym_floats.median_s < fastest.median_s
        targets.append(Target(
            NAME, "floats: faster than every installed peer",
            f"symdiff {sym_floats.median_s * 1e6:.2f} µs, fastest peer {fastest.system} "
            f"{fastest.median_s * 1e6:.2f} µs", met,
            "" if met else f"{sym_floats.median_s / fastest.median_s:.2f}x slower than "
                           f"{fastest.system}"))
    sym_arrays = find(rows, arrays_case, SYMDIFF)
    targets.append(limit_target(NAME, "arrays: <= 0.9x hand-written NumPy",
                                sym_arrays.ratio if sym_arrays.ok else None, 0.9))
    return Result(NAME, rows, targets, in_place_metric(rows, arrays_case))
