"""``mlp``: a 2-layer ReLU net with softmax cross-entropy and L2, gradients w.r.t. W1, b1, W2, b2.

N=200 examples, D=3072 inputs (CIFAR-10 sized), H=100 hidden units, C=10 classes. The
hand-written gradient is the CS231n-style backward; the value alone is the forward function
``loss`` below (what symdiff compiles). Also measured: peak memory (tracemalloc) of one gradient
call, symdiff's against the hand-written one.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

import symdiff

from .harness import (
    Entry, HAND, Result, SYMDIFF, Settings, Target, find, format_time, import_jax, limit_target,
    run_case, unpack_tuple, value_ratio_metrics)

NAME = "mlp"
N, D, H, C = 200, 3072, 100, 10
REG = 1e-3
WRT = ["W1", "b1", "W2", "b2"]


def loss(W1, b1, W2, b2, X, y):
    """The value alone (and the source symdiff compiles)."""
    N = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    data_loss = -np.sum(log_probs[np.arange(N), y]) / N
    reg_loss = 0.5 * REG * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss


def by_hand(W1, b1, W2, b2, X, y):
    """CS231n-style forward and backward, reusing buffers where it is safe."""
    n = X.shape[0]
    rows = np.arange(n)
    pre = X @ W1
    pre += b1
    hidden = np.maximum(pre, 0.0)
    scores = hidden @ W2
    scores += b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores, out=scores)
    probs /= probs.sum(axis=1, keepdims=True)
    value = -np.log(probs[rows, y]).sum() / n + 0.5 * REG * (np.vdot(W1, W1) + np.vdot(W2, W2))
    dscores = probs
    dscores[rows, y] -= 1.0
    dscores /= n
    dW2 = hidden.T @ dscores
    dW2 += REG * W2
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ W2.T
    dhidden[pre <= 0.0] = 0.0
    dW1 = X.T @ dhidden
    dW1 += REG * W1
    db1 = dhidden.sum(axis=0)
    return value, (dW1, db1, dW2, db2)


def data(seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((D, H)) * 1e-2, np.zeros(H) + 0.01,
            rng.standard_normal((H, C)) * 1e-2, np.zeros(C) - 0.01,
            rng.standard_normal((N, D)), rng.integers(0, C, size=N))


# ------------------------------------------------------------------ the systems
def _symdiff(args):
    def build():
        g = symdiff.compile(loss, wrt=WRT)
        return lambda: g(*args)
    return Entry(SYMDIFF, build, lambda r: (r[0], [r[1][k] for k in WRT]),
                 "setup includes the shape specialization on the first call")


def _jax(args):
    def build():
        jax = import_jax()
        jnp = jax.numpy

        def loss_jax(W1, b1, W2, b2, X, y):
            hidden = jnp.maximum(0, X @ W1 + b1)
            scores = hidden @ W2 + b2
            shifted = scores - jnp.max(scores, axis=1, keepdims=True)
            log_probs = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=1, keepdims=True))
            data_loss = -jnp.sum(log_probs[jnp.arange(X.shape[0]), y]) / X.shape[0]
            return data_loss + 0.5 * REG * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2))
        f = jax.jit(jax.value_and_grad(loss_jax, argnums=(0, 1, 2, 3)))
        device = [jax.device_put(a) for a in args]
        return lambda: jax.block_until_ready(f(*device))
    return Entry("jax (jit)", build, unpack_tuple)


def _autograd(args):
    def build():
        import autograd
        import autograd.numpy as anp

        def loss_ag(W1, b1, W2, b2, X, y):
            hidden = anp.maximum(0, anp.dot(X, W1) + b1)
            scores = anp.dot(hidden, W2) + b2
            shifted = scores - anp.max(scores, axis=1, keepdims=True)
            log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            data_loss = -anp.sum(log_probs[anp.arange(X.shape[0]), y]) / X.shape[0]
            return data_loss + 0.5 * REG * (anp.sum(W1 * W1) + anp.sum(W2 * W2))
        f = autograd.value_and_grad(loss_ag, (0, 1, 2, 3))
        return lambda: f(*args)
    return Entry("autograd", build, unpack_tuple)


def _torch(args):
    def build():
        import torch
        W1, b1, W2, b2 = (torch.from_numpy(a).requires_grad_() for a in args[:4])
        X, y = torch.from_numpy(args[4]), torch.from_numpy(args[5])
        rows = torch.arange(X.shape[0])

        def call():
            hidden = torch.clamp(X @ W1 + b1, min=0)
            scores = hidden @ W2 + b2
            shifted = scores - scores.max(dim=1, keepdim=True).values
            log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
            value = -log_probs[rows, y].sum() / X.shape[0] \
                + 0.5 * REG * ((W1 * W1).sum() + (W2 * W2).sum())
            return value.detach(), torch.autograd.grad(value, (W1, b1, W2, b2))
        return call
    return Entry("torch", build, unpack_tuple, "eager")


def _pytensor(args):
    def build():
        import pytensor
        import pytensor.tensor as pt
        W1, W2, X = pt.dmatrix("W1"), pt.dmatrix("W2"), pt.dmatrix("X")
        b1, b2, y = pt.dvector("b1"), pt.dvector("b2"), pt.lvector("y")
        hidden = pt.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        shifted = scores - pt.max(scores, axis=1, keepdims=True)
        log_probs = shifted - pt.log(pt.sum(pt.exp(shifted), axis=1, keepdims=True))
        value = -pt.sum(log_probs[pt.arange(X.shape[0]), y]) / X.shape[0] \
            + 0.5 * REG * (pt.sum(W1 * W1) + pt.sum(W2 * W2))
        params = [W1, b1, W2, b2]
        f = pytensor.function(params + [X, y], [value] + pytensor.grad(value, params))
        return lambda: f(*args)
    return Entry("pytensor", build, lambda r: (r[0], list(r[1:])))


def _casadi(args):
    def build():
        import casadi as ca
        W1s, b1s = ca.MX.sym("W1", D, H), ca.MX.sym("b1", 1, H)
        W2s, b2s = ca.MX.sym("W2", H, C), ca.MX.sym("b2", 1, C)
        X = ca.DM(args[4])
        onehot = np.zeros((N, C))
        onehot[np.arange(N), args[5]] = 1.0
        hidden = ca.fmax(0, ca.mtimes(X, W1s) + ca.repmat(b1s, N, 1))
        scores = ca.mtimes(hidden, W2s) + ca.repmat(b2s, N, 1)
        log_probs = scores - ca.repmat(ca.log(ca.sum2(ca.exp(scores))), 1, C)
        value = -ca.sum1(ca.sum2(ca.DM(onehot) * log_probs)) / N \
            + 0.5 * REG * (ca.sumsqr(W1s) + ca.sumsqr(W2s))
        params = [W1s, b1s, W2s, b2s]
        f = ca.Function("mlp", params, [value] + [ca.gradient(value, p) for p in params])
        inputs = (args[0], args[1].reshape(1, H), args[2], args[3].reshape(1, C))
        return lambda: f(*inputs)
    return Entry("casadi", build, lambda r: (r[0], list(r[1:])),
                 "MX; labels as a one-hot matrix, no max shift (no row max in MX)")


def _sympy(args):
    return Entry("sympy (diff+lambdify)", lambda: None, unpack_tuple,
                 skip="not applicable: a matrix program (SymPy would need 300k scalar symbols)")


# ------------------------------------------------------------------ the workload
def peak_bytes(fn) -> int:
    """Peak traced memory of one call of ``fn`` (NumPy reports its buffers to tracemalloc)."""
    fn()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(settings: Settings, log=print) -> Result:
    args = data()
    case = f"N={N} D={D} H={H} C={C}"
    hand = Entry(HAND, lambda: (lambda: by_hand(*args)), unpack_tuple, "CS231n-style backward")
    peers = [make(args) for make in (_jax, _autograd, _torch, _pytensor, _casadi, _sympy)]
    rows = run_case(NAME, case, hand, [_symdiff(args)] + peers, settings, log)

    # The value alone: the forward function, and symdiff's layer-API forward (out, cache).
    g = symdiff.compile(loss, wrt=WRT)
    forward_case = "value only"
    rows += run_case(NAME, forward_case,
                     Entry(HAND, lambda: (lambda: loss(*args)), lambda r: (r, []),
                           "the NumPy forward `loss`"),
                     [Entry("symdiff g.forward", lambda: (lambda: g.forward(*args)),
                            lambda r: (r[0], []), "returns (out, cache)")],
                     settings, log)

    hand_peak = peak_bytes(lambda: by_hand(*args))
    sym_peak = peak_bytes(lambda: g(*args))
    metrics = [("peak memory of one gradient call, hand-written", f"{hand_peak / 2**20:.2f} MiB"),
               ("peak memory of one gradient call, symdiff", f"{sym_peak / 2**20:.2f} MiB")]

    sym, jax_row = find(rows, case, SYMDIFF), find(rows, case, "jax (jit)")
    ratio_metrics, ratio_value = value_ratio_metrics(rows, case, forward_case)
    metrics += ratio_metrics
    targets = [limit_target(NAME, "<= 1.0x hand-written", sym.ratio if sym.ok else None, 1.0)]
    if sym.ok and jax_row is not None and jax_row.ok:
        met = sym.median_s <= jax_row.median_s
        targets.append(Target(NAME, "no slower than JAX jit",
                              f"symdiff {format_time(sym.median_s)}, JAX "
                              f"{format_time(jax_row.median_s)}", met,
                              "" if met else f"{sym.median_s / jax_row.median_s:.2f}x JAX"))
    else:
        targets.append(Target(NAME, "no slower than JAX jit", "JAX not measured", None))
    targets.append(limit_target(NAME, "gradient+value / value <= 3", ratio_value, 3.0))
    targets.append(limit_target(NAME, "peak memory of the gradient <= 1.2x hand-written",
                                sym_peak / hand_peak, 1.2))
    return Result(NAME, rows, targets, metrics)
