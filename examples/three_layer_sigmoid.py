"""The lecture's 3-layer sigmoid network, differentiated by symdiff.

The lecture writes the forward pass with a lambda:

    f = lambda x: 1.0 / (1.0 + np.exp(-x))      # activation function (sigmoid)
    x = np.random.randn(3, 1)                   # random input vector of three numbers (3x1)
    h1 = f(np.dot(W1, x) + b1)                  # first hidden layer (4x1)
    h2 = f(np.dot(W2, h1) + b2)                 # second hidden layer (4x1)
    out = np.dot(W3, h2)                        # output neuron (1x1)

symdiff does not accept lambdas, so the same pass is written as a ``def`` with the sigmoid inlined.
It is still ordinary NumPy: we call it directly for the central differences that check symdiff.

    python examples/three_layer_sigmoid.py
"""

import numpy as np

import symdiff

PARAMS = ("W1", "b1", "W2", "b2", "W3")


def forward(x, W1, b1, W2, b2, W3):
    h1 = 1.0 / (1.0 + np.exp(-(np.dot(W1, x) + b1)))     # first hidden layer (4x1)
    h2 = 1.0 / (1.0 + np.exp(-(np.dot(W2, h1) + b2)))    # second hidden layer (4x1)
    out = np.dot(W3, h2)                                  # output neuron (1x1)
    return out


def central_difference(fn, args, name, eps=1e-6):
    """d sum(fn(**args)) / d args[name], one entry at a time."""
    base = args[name]
    grad = np.zeros_like(base)
    for i in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (np.sum(fn(**{**args, name: plus})) -
                   np.sum(fn(**{**args, name: minus}))) / (2 * eps)
    return grad


def main(seed=0):
    rng = np.random.default_rng(seed)
    args = {
        "x": rng.standard_normal((3, 1)),    # random input vector of three numbers (3x1)
        "W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)),
        "W2": rng.standard_normal((4, 4)), "b2": rng.standard_normal((4, 1)),
        "W3": rng.standard_normal((1, 4)),
    }

    g = symdiff.compile(forward, wrt=list(PARAMS))   # x is data: no gradient for it
    out, grads = g(**args)
    print(f"out = {out.item():.6f}   (NumPy forward: {forward(**args).item():.6f})")
    assert np.allclose(out, forward(**args))

    worst = 0.0
    for name in PARAMS:
        numeric = central_difference(forward, args, name)
        error = np.max(np.abs(grads[name] - numeric) / np.maximum(1e-8, np.abs(grads[name]) +
                                                                   np.abs(numeric)))
        worst = max(worst, error)
        print(f"\nd out / d {name} {grads[name].shape}:")
        print(np.array2string(grads[name], precision=5))
        print(f"  max relative error vs central differences: {error:.2e}")
        assert grads[name].shape == args[name].shape
        assert np.allclose(grads[name], numeric, rtol=1e-5, atol=1e-8), name

    print(f"\nall gradients match central differences (worst relative error {worst:.1e})")
    return worst


if __name__ == "__main__":
    main()
