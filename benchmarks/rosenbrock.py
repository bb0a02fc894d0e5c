"""``rosenbrock``: the extended Rosenbrock function of n scalar variables, on Python floats.

    f(x0, ..., x{n-1}) = sum_{i<n-1} 100*(x{i+1} - xi**2)**2 + (1 - xi)**2

symdiff compiles a generated ``def rosen(x0, ..., x{n-1})`` whose one ``return`` is the sum of
the n-1 terms written out (a fresh function name each time); setup is compile + first call. The
hand-written gradient is a Python loop over a list of floats. JAX is measured twice: in the same
scalar form (n float arguments, the terms written out; the issue's comparison) and, for context,
on one float64 vector with vectorized slicing. Torch, autograd and pytensor get the vector form
(what a user of those would write), CasADi and SymPy n scalar symbols. A vectorized hand-written
NumPy gradient is shown for context.
"""

from __future__ import annotations

import itertools

import numpy as np

import symdiff

from .harness import HAND, SYMDIFF, Entry, Result, Settings, Target, find, format_time, \
    import_jax, limit_target, run_case

NAME = "rosenbrock"
SIZES = (10, 100, 1000)
SYMPY_MAX_N = 100
_fresh = itertools.count()


def point(n: int) -> list[float]:
    return np.linspace(-1.2, 1.1, n).tolist()


def by_hand(xs):
    n = len(xs)
    value = 0.0
    grad = [0.0] * n
    for i in range(n - 1):
        a = xs[i + 1] - xs[i] * xs[i]
        b = 1.0 - xs[i]
        value += 100.0 * a * a + b * b
        grad[i] += -400.0 * xs[i] * a - 2.0 * b
        grad[i + 1] += 200.0 * a
    return value, grad


def by_hand_numpy(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * x[:-1] * a - 2.0 * b
    grad[1:] += 200.0 * a
    return float(100.0 * (a @ a) + b @ b), grad


def source(n: int) -> str:
    names = [f"x{i}" for i in range(n)]
    terms = " + ".join(f"100.0*(x{i + 1} - x{i}**2)**2 + (1.0 - x{i})**2" for i in range(n - 1))
    return f"def rosen_{n}_{next(_fresh)}({', '.join(names)}):\n    return {terms}\n"


# ------------------------------------------------------------------ the systems
def _one_vector(result):
    value, grad = result
    return value, [grad]


def _symdiff(n, xs):
    def build():
        g = symdiff.compile(source(n))
        return lambda: g(*xs)
    return Entry(SYMDIFF, build, lambda r: (r[0], [[r[1][f"x{i}"] for i in range(n)]]),
                 "n float arguments; setup = symdiff.compile + first call")


def _numpy(xs):
    x = np.array(xs)
    return Entry("NumPy by hand (vectorized)", lambda: (lambda: by_hand_numpy(x)), _one_vector,
                 "for context: one float64 vector")


def _jax(xs):
    def build():
        jax = import_jax()

        def rosen(x):
            return jax.numpy.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        f = jax.jit(jax.value_and_grad(rosen))
        x = jax.device_put(np.array(xs))
        return lambda: jax.block_until_ready(f(x))
    return Entry("jax (jit)", build, _one_vector, "one vector on the device")


JAX_SCALAR = "jax (jit), scalar form"


def _jax_scalar(n, xs, quick):
    def build():
        jax = import_jax()

        def rosen(*x):
            return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
                       for i in range(n - 1))
        f = jax.jit(jax.value_and_grad(rosen, argnums=tuple(range(n))))
        return lambda: jax.block_until_ready(f(*xs))
    skip = "skipped in --quick above n=100 (seconds to compile)" if quick and n > 100 else ""
    return Entry(JAX_SCALAR, build, lambda r: (r[0], [list(r[1])]),
                 "n float arguments, the terms written out", skip=skip)


def _autograd(xs):
    def build():
        import autograd
        import autograd.numpy as anp

        def rosen(x):
            return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        f = autograd.value_and_grad(rosen)
        x = np.array(xs)
        return lambda: f(x)
    return Entry("autograd", build, _one_vector, "one vector")


def _torch(xs):
    def build():
        import torch
        x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)

        def call():
            value = (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
            return value.detach(), torch.autograd.grad(value, x)[0]
        return call
    return Entry("torch", build, _one_vector, "eager, one vector")


def _pytensor(xs):
    def build():
        import pytensor
        import pytensor.tensor as pt
        x = pt.dvector("x")
        value = pt.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        f = pytensor.function([x], [value, pytensor.grad(value, x)])
        v = np.array(xs)
        return lambda: f(v)
    return Entry("pytensor", build, lambda r: (r[0], [r[1]]), "one vector")


def _casadi(n, xs):
    def build():
        import casadi as ca
        x = ca.SX.sym("x", n)
        value = 0
        for i in range(n - 1):
            value += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        f = ca.Function("rosen", [x], [value, ca.gradient(value, x)])
        v = np.array(xs)
        return lambda: f(v)
    return Entry("casadi", build, lambda r: (r[0], [r[1]]), "SX, n scalar terms")


def _sympy(n, xs, quick):
    def build():
        import sympy
        x = sympy.symbols(f"x0:{n}")
        value = sympy.Add(*[100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
                            for i in range(n - 1)])
        f = sympy.lambdify(x, [value] + [sympy.diff(value, v) for v in x], modules="math",
                           cse=True)
        return lambda: f(*xs)
    skip = "skipped in --quick above n=10 (seconds to set up)" if quick and n > 10 else \
        "" if n <= SYMPY_MAX_N else \
        f"skipped above n={SYMPY_MAX_N}: n diffs of an n-term sum are O(n^2) " \
        "(n=1000 took over 3 minutes to set up)"
    return Entry("sympy (diff+lambdify)", build, lambda r: (r[0], [r[1:]]),
                 "n symbols, cse=True, modules=math", skip=skip)


# ------------------------------------------------------------------ the workload
def run(settings: Settings, log=print) -> Result:
    rows = []
    for n in SIZES:
        xs = point(n)
        hand = Entry(HAND, lambda xs=xs: (lambda: by_hand(xs)), _one_vector,
                     "Python loop over a list of floats")
        entries = [_symdiff(n, xs), _numpy(xs), _jax_scalar(n, xs, settings.quick), _jax(xs),
                   _autograd(xs), _torch(xs),
                   _pytensor(xs), _casadi(n, xs), _sympy(n, xs, settings.quick)]
        rows += run_case(NAME, f"n={n}", hand, entries, settings, log)

    sym = find(rows, "n=1000", SYMDIFF)
    targets = [limit_target(NAME, "n=1000 compiles in <= 2 s", sym.setup_s, 2.0, "s"),
               _faster(sym, find(rows, "n=1000", JAX_SCALAR),
                       "n=1000: faster per call than JAX (scalar form)")]
    metrics = []
    vector = find(rows, "n=1000", "jax (jit)")
    if sym.ok and vector is not None and vector.ok:
        metrics.append(("n=1000: symdiff / JAX on one vector (vectorized slicing)",
                        f"{sym.median_s / vector.median_s:.2f}"))
    return Result(NAME, rows, targets, metrics)


def _faster(sym, peer, goal: str) -> Target:
    if not (sym.ok and peer is not None and peer.ok):
        return Target(NAME, goal, "not measured", None)
    met = sym.median_s < peer.median_s
    return Target(NAME, goal, f"symdiff {format_time(sym.median_s)}, {peer.system} "
                              f"{format_time(peer.median_s)}", met,
                  "" if met else f"{sym.median_s / peer.median_s:.2f}x {peer.system}")
