"""``deep``: the recurrence x_{k+1} = sin(x_k)*y + cos(x_k*y), K steps, on Python floats.

symdiff compiles a ``def`` with a ``for k in range(K)`` loop (unrolled into a graph of about 20 K
nodes); compile time is the point here, so each K gets a fresh source (a new function name, so
nothing can be reused from an earlier compile) and the setup column is ``symdiff.compile`` plus
the first call. Time per node = that setup time / the number of graph nodes.

The hand-written gradient is a plain Python loop forward (storing every x_k) and one backward.
Peers use their own loop constructs: JAX ``lax.fori_loop`` under ``jit`` (an unrolled Python loop
takes minutes to compile at K=10000), pytensor ``scan``, torch and autograd a Python loop,
CasADi an unrolled SX graph, SymPy a nested expression (only at K=10: its expression swells).
"""

from __future__ import annotations

import time

import itertools
import math

import symdiff

from .harness import HAND, SYMDIFF, Entry, Result, Settings, Target, find, import_jax, \
    limit_target, run_case, unpack_tuple

NAME = "deep"
POINT = (0.3, 0.7)
SYMPY_MAX_K = 10
_fresh = itertools.count()


def by_hand(x, y, K):
    xs = [0.0] * K
    for k in range(K):
        xs[k] = x
        x = math.sin(x) * y + math.cos(x * y)
    dx, dy = 1.0, 0.0
    for k in range(K - 1, -1, -1):
        xk = xs[k]
        s = math.sin(xk * y)
        dy += dx * (math.sin(xk) - s * xk)
        dx *= math.cos(xk) * y - s * y
    return x, (dx, dy)


def source(K: int) -> str:
    name = f"deep_{K}_{next(_fresh)}"
    return (f"def {name}(x, y):\n"
            f"    for k in range({K}):\n"
            f"        x = np.sin(x) * y + np.cos(x * y)\n"
            f"    return x\n")


# ------------------------------------------------------------------ the systems
def _symdiff(K, compiled: dict):
    def build():
        start = time.perf_counter()
        g = symdiff.compile(source(K))
        compiled["compile_s"] = time.perf_counter() - start
        compiled["g"] = g
        return lambda: g(*POINT)
    return Entry(SYMDIFF, build, lambda r: (r[0], [r[1]["x"], r[1]["y"]]),
                 "setup = symdiff.compile + first call")


def _jax(K):
    def build():
        jax = import_jax()
        jnp = jax.numpy

        def deep(x, y):
            return jax.lax.fori_loop(0, K, lambda k, x: jnp.sin(x) * y + jnp.cos(x * y), x)
        f = jax.jit(jax.value_and_grad(deep, argnums=(0, 1)))
        return lambda: jax.block_until_ready(f(*POINT))
    return Entry("jax (jit)", build, unpack_tuple, "lax.fori_loop")


def _autograd(K):
    def build():
        import autograd
        import autograd.numpy as anp

        def deep(x, y):
            for _ in range(K):
                x = anp.sin(x) * y + anp.cos(x * y)
            return x
        f = autograd.value_and_grad(deep, (0, 1))
        return lambda: f(*POINT)
    return Entry("autograd", build, unpack_tuple, "Python loop")


def _torch(K):
    def build():
        import torch

        def call():
            x0, y = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in POINT)
            x = x0
            for _ in range(K):
                x = torch.sin(x) * y + torch.cos(x * y)
            return x.detach(), torch.autograd.grad(x, (x0, y))
        return call
    return Entry("torch", build, unpack_tuple, "eager, Python loop")


def _pytensor(K):
    def build():
        import pytensor
        import pytensor.tensor as pt
        x0, y = pt.dscalar("x"), pt.dscalar("y")
        xs = pytensor.scan(lambda x, y: pt.sin(x) * y + pt.cos(x * y), outputs_info=x0,
                           non_sequences=y, n_steps=K, return_updates=False)
        out = xs[-1]
        f = pytensor.function([x0, y], [out] + pytensor.grad(out, [x0, y]))
        return lambda: f(*POINT)
    return Entry("pytensor", build, lambda r: (r[0], list(r[1:])), "scan")


def _casadi(K):
    def build():
        import casadi as ca
        x0, y = ca.SX.sym("x"), ca.SX.sym("y")
        x = x0
        for _ in range(K):
            x = ca.sin(x) * y + ca.cos(x * y)
        f = ca.Function("deep", [x0, y], [x, ca.gradient(x, x0), ca.gradient(x, y)])
        return lambda: f(*POINT)
    return Entry("casadi", build, lambda r: (r[0], list(r[1:])), "SX, unrolled")


def _sympy(K, quick):
    def build():
        import sympy
        x0, y = sympy.symbols("x y")
        x = x0
        for _ in range(K):
            x = sympy.sin(x) * y + sympy.cos(x * y)
        f = sympy.lambdify((x0, y), [x, sympy.diff(x, x0), sympy.diff(x, y)], modules="math",
                           cse=True)
        return lambda: f(*POINT)
    skip = "skipped in --quick (seconds to set up)" if quick else "" if K <= SYMPY_MAX_K else \
        f"skipped above K={SYMPY_MAX_K}: the nested expression and its derivatives swell " \
        "(K=100 did not finish in 5 minutes)"
    return Entry("sympy (diff+lambdify)", build, lambda r: (r[0], list(r[1:])),
                 "cse=True, modules=math", skip=skip)


# ------------------------------------------------------------------ the workload
def run(settings: Settings, log=print) -> Result:
    sizes = (10, 100, 1000) if settings.quick else (10, 100, 1000, 10000)
    rows, metrics, per_node, nodes_of, compile_s = [], [], {}, {}, {}
    for K in sizes:
        case = f"K={K}"
        compiled: dict = {}
        hand = Entry(HAND, lambda K=K: (lambda: by_hand(*POINT, K)), unpack_tuple,
                     "Python loop forward + reverse")
        peers = [make(K) for make in (_jax, _autograd, _torch, _pytensor, _casadi)]
        peers.append(_sympy(K, settings.quick))
        rows += run_case(NAME, case, hand, [_symdiff(K, compiled)] + peers, settings, log)
        sym = find(rows, case, SYMDIFF)
        if sym.setup_s is not None and "g" in compiled:
            nodes = len(compiled["g"].graph.nodes)
            compile_s[K] = compiled["compile_s"]
            nodes_of[K], per_node[K] = nodes, compile_s[K] / nodes
            sym.extra.update(nodes=nodes, compile_s=compile_s[K], compile_per_node_s=per_node[K])
            metrics.append((f"symdiff K={K}: graph nodes; symdiff.compile; per node; first call "
                            "(writes the float twin)",
                            f"{nodes}; {compile_s[K]:.2f} s; {per_node[K] * 1e6:.1f} µs; "
                            f"{sym.setup_s - compile_s[K]:.2f} s"))

    def setup(K):
        return compile_s.get(K)

    # "compiles" is symdiff.compile; the first call's extra cost (the math twin, written on the
    # first call with floats) is reported in the metrics and in the setup column.
    targets = [limit_target(NAME, "K=1000 compiles in <= 1 s", setup(1000), 1.0, "s")]
    if 10000 in sizes:
        targets.append(limit_target(NAME, "K=10000 compiles in <= 10 s", setup(10000), 10.0, "s"))
        if 1000 in per_node and 10000 in per_node:
            targets.append(limit_target(NAME, "compile time per node at K=10000 <= 1.5x that at "
                                        "K=1000", per_node[10000] / per_node[1000], 1.5))
        else:
            targets.append(Target(NAME, "time per node at K=10000 <= 1.5x K=1000",
                                  "not measured", None))
    for K in sizes:
        sym = find(rows, f"K={K}", SYMDIFF)
        targets.append(limit_target(NAME, f"K={K}: per call <= 1.5x hand-written Python",
                                    sym.ratio if sym.ok else None, 1.5))
    return Result(NAME, rows, targets, metrics)
