"""The multiclass SVM (hinge) loss over a batch, vectorized, with its gradient from symdiff.

For scores s = X W and correct classes y, the loss of example i is

    L_i = sum over j != y_i of max(0, s_ij - s_i,y_i + 1)

The vectorized form computes the margins of *all* classes; the correct class then contributes
max(0, 1) = 1 exactly, so we subtract 1 per row (N in total) instead of masking it out.
The gradient w.r.t. W is checked against the usual hand-written NumPy backward pass.

    python examples/svm_loss.py
"""

import numpy as np

import symdiff

REG = 0.1   # L2 strength; symdiff reads numeric module constants when it compiles the function


def svm_loss(W, X, y):
    N = X.shape[0]
    scores = X @ W                                       # (N, C)
    correct = scores[np.arange(N), y]                    # (N,) score of the right class
    # np.newaxis rather than None: symdiff's parser does not accept the constant None.
    margins = np.maximum(0, scores - correct[:, np.newaxis] + 1)
    data_loss = (np.sum(margins) - N) / N                # drop the correct class's margin of 1
    return data_loss + 0.5 * REG * np.sum(W * W)


def svm_loss_naive_backward(W, X, y):
    """The hand-written reference: forward, then backprop by hand."""
    N = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(N), y]
    margins = np.maximum(0, scores - correct[:, None] + 1)
    margins[np.arange(N), y] = 0                        # mask out the correct class
    loss = np.sum(margins) / N + 0.5 * REG * np.sum(W * W)

    dscores = (margins > 0).astype(float)               # each positive margin pushes its class up
    dscores[np.arange(N), y] = -dscores.sum(axis=1)     # ... and the right class down, per margin
    dscores /= N
    dW = X.T @ dscores + REG * W
    return loss, dW


def main(seed=0, N=50, D=20, C=10):
    rng = np.random.default_rng(seed)
    W = 0.1 * rng.standard_normal((D, C))
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)          # integer labels: used as an index, never differentiated

    g = symdiff.compile(svm_loss, wrt=["W"])
    loss, grads = g(W, X, y)
    ref_loss, ref_dW = svm_loss_naive_backward(W, X, y)

    print(f"batch of {N} examples, {D} features, {C} classes")
    print(f"loss     symdiff {loss:.10f}   hand-written {ref_loss:.10f}")
    error = np.max(np.abs(grads["W"] - ref_dW))
    print(f"dW {grads['W'].shape}: max |symdiff - hand-written| = {error:.2e}")
    print("dW[:3, :5] =\n", np.array2string(grads["W"][:3, :5], precision=5))
    assert np.isclose(loss, ref_loss, rtol=1e-12)
    assert grads["W"].shape == W.shape
    assert np.allclose(grads["W"], ref_dW, rtol=1e-10, atol=1e-12)
    print("gradient matches the hand-written backward pass")

    start = g.source.index("    # backward")
    backward = g.source[start:g.source.index("\n    return ", start)]
    print("\nthe backward pass symdiff generated:\n" + backward)
    return loss, error


if __name__ == "__main__":
    main()
