"""Train a 2-layer neural network on scikit-learn's handwritten digits, with gradients from symdiff.

    input (64 pixels) -> affine -> ReLU -> affine -> softmax cross-entropy  (+ L2 on the weights)

The loss is an ordinary NumPy function (it runs as-is, and we call it directly to compare values);
``symdiff.compile`` turns it into one function returning the loss and dL/dW1, db1, dW2, db2. The
training loop is plain minibatch SGD with momentum.

Needs scikit-learn (``pip install ".[examples]"``).

    python examples/two_layer_net.py              # 30 epochs, about a second
    python examples/two_layer_net.py --quick      # 10 epochs, for tests
"""

import argparse
import time

import numpy as np

import symdiff
from digits import load_data  # examples/digits.py

REG = 1e-3   # L2 strength; a numeric module constant, read by symdiff when it compiles loss


def loss(W1, b1, W2, b2, X, y):
    """Mean softmax cross-entropy of a 2-layer ReLU net on (X, y), plus 0.5 * REG * |W|^2."""
    N = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)                         # ReLU layer, (N, H)
    scores = hidden @ W2 + b2                                   # class scores, (N, C)
    shifted = scores - np.max(scores, axis=1, keepdims=True)    # for numerical stability
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    data_loss = -np.sum(log_probs[np.arange(N), y]) / N         # y: integer labels, an index
    reg_loss = 0.5 * REG * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss


def predict(params, X):
    hidden = np.maximum(0, X @ params["W1"] + params["b1"])
    return np.argmax(hidden @ params["W2"] + params["b2"], axis=1)


def accuracy(params, X, y):
    return float(np.mean(predict(params, X) == y))


def train(epochs=30, hidden=100, batch_size=64, learning_rate=0.05, momentum=0.9, seed=0,
          report_every=5, log=print):
    X_train, X_test, y_train, y_test = load_data(seed)
    D, C = X_train.shape[1], int(y_train.max()) + 1
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.standard_normal((D, hidden)) * np.sqrt(2.0 / D),   # He initialization
        "b1": np.zeros(hidden),
        "W2": rng.standard_normal((hidden, C)) * np.sqrt(1.0 / hidden),
        "b2": np.zeros(C),
    }
    velocity = {k: np.zeros_like(v) for k, v in params.items()}

    # Compile once. X and y are data: no gradients for them.
    grad_fn = symdiff.compile(loss, wrt=["W1", "b1", "W2", "b2"])

    log(f"digits: {len(X_train)} train / {len(X_test)} test, {D} features, {C} classes; "
        f"hidden={hidden}, batch={batch_size}, lr={learning_rate}, momentum={momentum}")
    history = []
    start = time.perf_counter()
    batches = len(X_train) // batch_size    # whole batches only: one shape, one specialization
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X_train))
        total = 0.0
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            value, grads = grad_fn(**params, X=X_train[idx], y=y_train[idx])
            total += value
            for k in params:                                     # SGD with momentum
                velocity[k] = momentum * velocity[k] - learning_rate * grads[k]
                params[k] += velocity[k]
        if epoch % report_every == 0 or epoch == 1 or epoch == epochs:
            train_acc = accuracy(params, X_train, y_train)
            test_acc = accuracy(params, X_test, y_test)
            history.append((epoch, total / batches, train_acc, test_acc))
            log(f"epoch {epoch:3d}  loss {total / batches:.4f}  "
                f"train acc {train_acc:.4f}  test acc {test_acc:.4f}")

    # The compiled loss agrees with the NumPy function it came from.
    full_value, _ = grad_fn(**params, X=X_train, y=y_train)
    assert np.isclose(full_value, loss(**params, X=X_train, y=y_train))

    test_acc = accuracy(params, X_test, y_test)
    log(f"final test accuracy: {test_acc:.4f}  ({time.perf_counter() - start:.2f} s of training)")
    return {"params": params, "history": history, "test_accuracy": test_acc,
            "train_accuracy": accuracy(params, X_train, y_train)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs (default 30, 10 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a shorter run, for tests")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (10 if args.quick else 30)
    return train(epochs=epochs, seed=args.seed, report_every=2 if args.quick else 5)


if __name__ == "__main__":
    main()
