"""``loops``: loops kept loops or made array code (symdiff/frontend/rolled.py, vectorized.py).

    python -m benchmarks.loops [--quick]

The recurrence ``x = sin(x)*y + cos(x*y)`` as a ``for`` loop of K steps, on Python floats: compile
plus first call (each K a fresh source, so nothing is reused; the median of a few fresh compiles,
one at K=10**6 where the first call alone runs the million steps twice), and the median call against
the hand-written gradient (a Python loop forward keeping every x, one loop backward: ``deep.py``'s
baseline). Then the same loop on arrays (K=100, 1000 elements) against hand-written NumPy, the
unrolled compile (``loops="unroll"``) beside the rolled one at K=1000, Rosenbrock written as a
loop over its terms (``x[i]``, ``x[i + 1]``, n=1000) against the vectorized hand-written code,
vectorized (the default) and kept a loop (``loops="roll"``), a filter over ``x[i]`` whose steps
carry a value (a loop on Python floats) against the same loop by hand, and a ``while`` loop on
values.
Last, ``backend="numba"`` (skipped, with a note, without numba): the recurrence on floats and
Rosenbrock's loop compiled to machine code.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time

import numpy as np

import symdiff

from .deep import by_hand
from .rosenbrock import by_hand_numpy as rosenbrock_by_hand

POINT = (0.3, 0.7)
_fresh = itertools.count()


def source(K: int) -> str:
    return (f"def loop_{K}_{next(_fresh)}(x, y):\n    for i in range({K}):\n"
            "        x = np.sin(x) * y + np.cos(x * y)\n    return x\n")


def compile_and_call(K: int, args=POINT, **options) -> tuple[float, object]:
    start = time.perf_counter()
    g = symdiff.compile(source(K), **options)
    g(*args)
    return time.perf_counter() - start, g


def median_call(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def by_hand_numpy(x, y, K):
    """The recurrence on arrays by hand: a forward loop keeping each x, a backward loop."""
    xs = np.empty((K,) + np.shape(x))
    for k in range(K):
        xs[k] = x
        x = np.sin(x) * y + np.cos(x * y)
    dx, dy = np.ones_like(x), np.zeros_like(y)
    for k in range(K - 1, -1, -1):
        xk = xs[k]
        s = np.sin(xk * y)
        dy += dx * (np.sin(xk) - s * xk)
        dx = dx * (np.cos(xk) * y - s * y)
    return x, (dx, dy)


def floats(quick: bool) -> list[str]:
    lines = ["recurrence on floats | compile + first call | per call | hand-written | ratio"]
    for K in (10, 1000, 10 ** 6):
        fresh = 1 if K >= 10 ** 5 else 3 if quick else 7
        setups = []
        for _ in range(fresh):
            setup, g = compile_and_call(K)
            setups.append(setup)
        repeat = 3 if K >= 10 ** 5 else 50 if quick else 200
        value, grads = g(*POINT)
        expected, (dx, dy) = by_hand(*POINT, K)
        assert math.isclose(value, expected, rel_tol=1e-12)
        assert math.isclose(grads["y"], dy, rel_tol=1e-9, abs_tol=1e-300)
        ours = median_call(lambda: g(*POINT), repeat)
        hand = median_call(lambda: by_hand(*POINT, K), repeat)
        lines.append(f"K={K:<8} | {statistics.median(setups) * 1e3:9.1f} ms | "
                     f"{ours * 1e3:9.3f} ms | {hand * 1e3:9.3f} ms | {ours / hand:5.2f}x")
    return lines


def arrays(quick: bool) -> list[str]:
    K, n = 100, 1000
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, n), rng.uniform(0.2, 0.9, n)
    setup, g = compile_and_call(K, (x, y))
    value, grads = g(x, y)
    expected, (dx, dy) = by_hand_numpy(x, y, K)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(grads["y"], dy, rtol=1e-9, atol=1e-300)
    repeat = 20 if quick else 100
    ours = median_call(lambda: g(x, y), repeat)
    hand = median_call(lambda: by_hand_numpy(x, y, K), repeat)
    return [f"recurrence on arrays (K={K}, n={n}) | compile + first call {setup * 1e3:.1f} ms | "
            f"per call {ours * 1e3:.2f} ms | hand-written NumPy {hand * 1e3:.2f} ms | "
            f"ratio {ours / hand:.2f}x"]


def unrolled(quick: bool) -> list[str]:
    rolled_s = statistics.median(compile_and_call(1000)[0] for _ in range(3))
    unrolled_s = compile_and_call(1000, loops="unroll")[0]
    return [f"K=1000 compile + first call: rolled {rolled_s * 1e3:.1f} ms, unrolled "
            f"{unrolled_s * 1e3:.0f} ms"]


def rosenbrock(quick: bool, **options) -> list[str]:
    n = 1000
    text = (f"def rosen_loop_{next(_fresh)}(x):\n    s = 0.0\n    for i in range({n - 1}):\n"
            "        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2\n"
            "    return s\n")
    x = np.linspace(-1.2, 1.1, n)
    start = time.perf_counter()
    g = symdiff.compile(text, **options)
    value, grads = g(x)
    setup = time.perf_counter() - start
    expected, grad = rosenbrock_by_hand(x)
    assert math.isclose(value, expected, rel_tol=1e-12)
    np.testing.assert_allclose(grads["x"], grad, rtol=1e-10)
    repeat = 20 if quick else 100
    ours = median_call(lambda: g(x), repeat)
    hand = median_call(lambda: rosenbrock_by_hand(x), repeat)
    how = "".join(f", {k}={v!r}" for k, v in options.items())
    return [f"Rosenbrock as a loop over x[i], x[i + 1] (n={n}{how}) | compile + first call "
            f"{setup * 1e3:.1f} ms | per call {ours * 1e3:.3f} ms | vectorized by hand "
            f"{hand * 1e3:.3f} ms | ratio {ours / hand:.2g}x"]


def rolled_rosenbrock(quick: bool) -> list[str]:
    """The same loop kept a loop (loops="roll"): one Python step per term."""
    return rosenbrock(quick, loops="roll")


def filter_by_hand(x, a):
    """``y = a * y + sin(x[i]); s += y * y`` by hand: Python floats, the ys kept for the way back."""
    xs, a, n = x.tolist(), float(a), len(x)
    ys, y, s = [0.0] * n, 0.0, 0.0
    for i in range(n):
        y = a * y + math.sin(xs[i])
        ys[i] = y
        s += y * y
    dy, dx, da = 0.0, [0.0] * n, 0.0
    for i in range(n - 1, -1, -1):
        dy += 2.0 * ys[i]
        dx[i] = math.cos(xs[i]) * dy
        da += (ys[i - 1] if i else 0.0) * dy
        dy *= a
    return s, np.array(dx), da


def filter_loop(quick: bool) -> list[str]:
    """A loop over x[i] that cannot become array code (y carries from step to step): its steps
    run on Python floats (codegen/loops.py), as a hand-written loop would."""
    n = 1000
    text = (f"def filter_{next(_fresh)}(x, a):\n    y = 0.0\n    s = 0.0\n"
            "    for i in range(len(x)):\n        y = a * y + np.sin(x[i])\n"
            "        s = s + y * y\n    return s\n")
    x, a = np.linspace(-1.0, 1.0, n), 0.9
    start = time.perf_counter()
    g = symdiff.compile(text)
    value, grads = g(x, a)
    setup = time.perf_counter() - start
    expected, dx, da = filter_by_hand(x, a)
    assert math.isclose(value, expected, rel_tol=1e-12)
    np.testing.assert_allclose(grads["x"], dx, rtol=1e-9)
    assert math.isclose(grads["a"], da, rel_tol=1e-9)
    repeat = 20 if quick else 100
    ours = median_call(lambda: g(x, a), repeat)
    hand = median_call(lambda: filter_by_hand(x, a), repeat)
    return [f"filter y = a * y + sin(x[i]) as a loop (n={n}) | compile + first call "
            f"{setup * 1e3:.1f} ms | per call {ours * 1e3:.3f} ms | hand-written loop on floats "
            f"{hand * 1e3:.3f} ms | ratio {ours / hand:.2f}x"]


def while_loop(quick: bool) -> list[str]:
    text = (f"def grow_{next(_fresh)}(x, y):\n    while x < 1e6:\n        x = x * y + 1.0\n"
            "    return x\n")
    start = time.perf_counter()
    g = symdiff.compile(text)
    value, grads = g(0.5, 1.01)
    setup = time.perf_counter() - start
    steps = 0
    x = 0.5
    while x < 1e6:
        x, steps = x * 1.01 + 1.0, steps + 1
    assert math.isclose(value, x, rel_tol=1e-12)
    ours = median_call(lambda: g(0.5, 1.01), 5 if quick else 20)
    return [f"while x < 1e6: x = x * y + 1 ({steps} steps, counted when it runs) | compile + "
            f"first call {setup * 1e3:.1f} ms | per call {ours * 1e3:.2f} ms"]


def native(quick: bool) -> list[str]:
    """backend="numba": the recurrence on floats (K=1000) and Rosenbrock's loop, compiled by numba.
    The first compile of a process also loads numba's compiler (seconds): shown apart."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return ['backend="numba": skipped, numba is not installed (pip install "symdiff[numba]")']
    K, lines = 1000, []
    first = compile_and_call(K, backend="numba")[0]
    setups = [compile_and_call(K, backend="numba") for _ in range(3 if quick else 5)]
    g = setups[-1][1]
    repeat = 50 if quick else 200
    for point in (POINT, (0.3, 0.2)):
        value, grads = g(*point)
        expected, (dx, dy) = by_hand(*point, K)
        assert math.isclose(value, expected, rel_tol=1e-12)
        assert math.isclose(grads["y"], dy, rel_tol=1e-9, abs_tol=1e-300)
        ours = median_call(lambda: g(*point), repeat)
        hand = median_call(lambda: by_hand(*point, K), repeat)
        lines.append(f"recurrence on floats, backend='numba', K={K} at {point} | compile + first call "
                     f"{statistics.median(s for s, _ in setups) * 1e3:.0f} ms (the process's first: "
                     f"{first * 1e3:.0f} ms) | per call {ours * 1e3:.3f} ms | hand-written "
                     f"{hand * 1e3:.3f} ms | ratio {ours / hand:.2f}x")
    return lines + rosenbrock(quick, backend="numba")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args(argv)
    for part in (floats, arrays, unrolled, rosenbrock, rolled_rosenbrock, filter_loop, while_loop,
                 native):
        for line in part(args.quick):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
