"""Patterns in backward flow, from the lecture, checked on symdiff's gradients.

* add gate: distributes. Both inputs receive the upstream gradient unchanged.
* max gate: routes. The whole upstream gradient goes to the input that won; the loser gets 0.
  On a tie symdiff sends it to the first argument (so relu'(0) = 0).
* mul gate: switches. Each input receives upstream * the *other* input.
* a variable used on two branches receives the sum of the gradients of both branches
  (f = x*y + x: df/dx = y + 1).

``dout=`` passes the upstream gradient dL/df, so each call returns dL/dinput = dout * df/dinput.

    python examples/gate_patterns.py
"""

import numpy as np

import symdiff

UPSTREAM = 2.0


def gate(formula, x, y, upstream=UPSTREAM):
    """Value and (dL/dx, dL/dy) of ``formula`` given dL/df = upstream, as plain floats."""
    value, grads = symdiff.compile(formula)(x, y, dout=upstream)
    return float(value), float(grads["x"]), float(grads["y"])


def show(label, formula, x, y, dx, dy, expect_dx, expect_dy):
    print(f"{label:<28} f = {formula:<10} x={x:>4g} y={y:>4g}   "
          f"dL/dx = {dx:>5g}  dL/dy = {dy:>5g}")
    assert (dx, dy) == (expect_dx, expect_dy), (formula, dx, dy, expect_dx, expect_dy)


def main():
    print(f"upstream gradient dL/df = {UPSTREAM:g}\n")
    results = {}

    # add gate: distributes the upstream gradient to both inputs.
    x, y = 3.0, -4.0
    _, dx, dy = gate("x + y", x, y)
    show("add gate distributes", "x + y", x, y, dx, dy, UPSTREAM, UPSTREAM)
    results["add"] = (dx, dy)

    # max gate: routes the upstream gradient to the larger input only.
    _, dx, dy = gate("max(x, y)", x, y)
    show("max gate routes (x wins)", "max(x, y)", x, y, dx, dy, UPSTREAM, 0.0)
    results["max"] = (dx, dy)
    _, dx, dy = gate("max(x, y)", -1.0, 5.0)
    show("max gate routes (y wins)", "max(x, y)", -1.0, 5.0, dx, dy, 0.0, UPSTREAM)
    _, dx, dy = gate("max(x, y)", 1.5, 1.5)
    show("max gate tie: first arg", "max(x, y)", 1.5, 1.5, dx, dy, UPSTREAM, 0.0)
    results["max_tie"] = (dx, dy)

    # mul gate: switches; each input gets upstream times the other input.
    _, dx, dy = gate("x * y", x, y)
    show("mul gate switches", "x * y", x, y, dx, dy, UPSTREAM * y, UPSTREAM * x)
    results["mul"] = (dx, dy)

    # A variable on two branches: the gradients of both branches add up.
    _, dx, dy = gate("x*y + x", x, y)
    show("branches add (x used twice)", "x*y + x", x, y, dx, dy, UPSTREAM * (y + 1), UPSTREAM * x)
    results["branches"] = (dx, dy)

    # The same patterns hold elementwise on arrays: np.maximum routes per element.
    xs, ys = np.array([1.0, 5.0, 2.0]), np.array([3.0, 4.0, 2.0])
    _, grads = symdiff.compile("np.maximum(x, y)")(xs, ys, dout=np.full(3, UPSTREAM))
    dxs, dys = np.asarray(grads["x"], dtype=float), np.asarray(grads["y"], dtype=float)
    print(f"\nelementwise np.maximum(x={xs}, y={ys}):\n  dL/dx = {dxs}\n  dL/dy = {dys}")
    assert np.array_equal(dxs, [0.0, UPSTREAM, UPSTREAM])   # y wins, x wins, tie -> x
    assert np.array_equal(dys, [UPSTREAM, 0.0, 0.0])
    results["maximum"] = (dxs, dys)

    print("\nall gate patterns hold")
    return results


if __name__ == "__main__":
    main()
