"""The lecture's first circuit: f(x, y, z) = (x + y) * z.

Forward pass at x = -2, y = 5, z = -4:  q = x + y = 3,  f = q * z = -12.
Backward pass (chain rule, gate by gate):
    df/dz = q = 3
    df/dq = z = -4,  and since q = x + y:  df/dx = df/dy = df/dq * 1 = -4

symdiff does this backward pass once, at compile time, and emits a plain NumPy function.

    python examples/circuit.py
"""

import symdiff


def main():
    g = symdiff.compile("(x+y)*z")

    # Inputs are positional in order of first appearance (x, y, z), or by keyword.
    value, grads = g(x=-2.0, y=5.0, z=-4.0)
    print(f"f(x=-2, y=5, z=-4) = {value:g}")
    for name in ("x", "y", "z"):
        print(f"  df/d{name} = {grads[name]:g}")

    assert value == -12.0
    assert (grads["x"], grads["y"], grads["z"]) == (-4.0, -4.0, 3.0)

    # The closed-form partial derivatives, as SymPy expressions.
    closed = symdiff.gradients("(x+y)*z")
    print("\nclosed forms:", ", ".join(f"df/d{k} = {v}" for k, v in closed.items()))

    # The generated module: the forward pass, then the backward pass, in plain NumPy.
    print("\ngenerated code:\n")
    print(g.source)
    return value, grads


if __name__ == "__main__":
    main()
