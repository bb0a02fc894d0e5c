"""A network assembled from generated layer modules, chained by hand through forward/backward.

Each layer is a few lines of NumPy (below), compiled on its own by symdiff and written to a file
with ``g.write(path, check=True)``:

    affine(x, w, b)          x @ w + b                           -> layer1_affine.py, layer2_affine.py
    relu(x)                  np.maximum(0, x)                    -> relu.py
    softmax_loss(scores, y)  mean softmax cross-entropy          -> softmax_loss.py

Every written module carries the lecture's modular API, ``<name>_forward(inputs) -> (out, cache)``
and ``<name>_backward(dout, cache) -> grads``, plus ``check_gradients()``, which tests its own
backward against central differences. The script imports the files with importlib and trains

    input (64 pixels) -> affine -> ReLU -> affine -> softmax cross-entropy

on scikit-learn's handwritten digits by calling the forward functions in order and the backward
functions in reverse, each one's ``dout`` being the next one's input gradient. It checks that the
gradients of this chain equal those of the whole network compiled at once (rtol 1e-10).

The affine layers are array programs, so their modules are generated for the minibatch shapes
(the file says so in its docstrings); the first is compiled with ``wrt=["w", "b"]``, since nobody
needs the gradient of the input pixels. Predictions on the whole test set call the NumPy layer
functions themselves: they are ordinary NumPy.

Needs scikit-learn (``pip install ".[examples]"``).

    python examples/layered_network.py                    # 20 epochs, modules in a temp folder
    python examples/layered_network.py --out build/layers # keep the generated modules
"""

import argparse
import importlib.util
import os
import tempfile
import time

import numpy as np

import symdiff
from digits import load_data  # examples/digits.py


# ------------------------------------------------------------------ the layers, in plain NumPy
def affine(x, w, b):
    return x @ w + b


def relu(x):
    return np.maximum(0, x)


def softmax_loss(scores, y):
    N = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N


# The whole network as one function: only used to check the layered gradients.
def network(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N


PARAMS = ("W1", "b1", "W2", "b2")


# ------------------------------------------------------------------ generating and importing
def import_file(path, name):
    """Import a generated module from its file (it imports only numpy)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_layers(out_dir, batch, D, H, C, log=print):
    """Compile each layer for the minibatch shapes, write it to out_dir, import it back."""
    plan = {
        "layer1_affine": symdiff.compile(affine, wrt=["w", "b"],
                                         shapes={"x": (batch, D), "w": (D, H), "b": (H,)}),
        "relu": symdiff.compile(relu),               # elementwise: one module for every shape
        "layer2_affine": symdiff.compile(affine, shapes={"x": (batch, H), "w": (H, C),
                                                         "b": (C,)}),
        "softmax_loss": symdiff.compile(softmax_loss, wrt=["scores"],
                                        shapes={"scores": (batch, C), "y": (batch,)}),
    }
    modules = {}
    for filename, compiled in plan.items():
        path = compiled.write(os.path.join(out_dir, filename + ".py"), check=True)
        module = import_file(path, f"generated_{filename}")
        error = module.check_gradients(seed=0)       # the module tests its own backward
        modules[filename] = module
        log(f"wrote {path} ({os.path.getsize(path)} bytes); "
            f"check_gradients: relative error {error:.1e}")
    return modules


# ------------------------------------------------------------------ the network, by hand
def forward_backward(layers, params, X, y):
    """Loss and parameter gradients: forward through each layer module, then backward in reverse."""
    L1, act, L2, head = (layers[k] for k in ("layer1_affine", "relu", "layer2_affine",
                                             "softmax_loss"))
    h, cache1 = L1.affine_forward(X, params["W1"], params["b1"])
    a, cache2 = act.relu_forward(h)
    scores, cache3 = L2.affine_forward(a, params["W2"], params["b2"])
    loss, cache4 = head.softmax_loss_forward(scores, y)

    dscores = head.softmax_loss_backward(1.0, cache4)["scores"]   # dL/dL = 1
    g2 = L2.affine_backward(dscores, cache3)                     # {"x", "w", "b"}
    dh = act.relu_backward(g2["x"], cache2)["x"]
    g1 = L1.affine_backward(dh, cache1)                          # {"w", "b"}: wrt=["w", "b"]
    return loss, {"W1": g1["w"], "b1": g1["b"], "W2": g2["w"], "b2": g2["b"]}


def predict(params, X):
    """The NumPy layer functions themselves, on any number of rows."""
    return np.argmax(affine(relu(affine(X, params["W1"], params["b1"])),
                            params["W2"], params["b2"]), axis=1)


def accuracy(params, X, y):
    return float(np.mean(predict(params, X) == y))


def compare_with_whole(layers, whole, params, X, y):
    """Largest relative difference between the layered gradients and the whole network's."""
    loss, grads = forward_backward(layers, params, X, y)
    value, expected = whole(X, y, **params)
    worst = abs(loss - value) / abs(value)
    for k in PARAMS:
        scale = np.max(np.abs(expected[k]))
        worst = max(worst, float(np.max(np.abs(grads[k] - expected[k]))) / scale)
        np.testing.assert_allclose(grads[k], expected[k], rtol=1e-10, atol=1e-12 * scale)
    return worst


def train(out_dir, epochs=20, hidden=64, batch=64, learning_rate=0.05, momentum=0.9, seed=0,
          report_every=5, log=print):
    X_train, X_test, y_train, y_test = load_data(seed)
    D, C = X_train.shape[1], int(y_train.max()) + 1
    layers = build_layers(out_dir, batch, D, hidden, C, log)
    whole = symdiff.compile(network, wrt=list(PARAMS),
                            shapes={"X": (batch, D), "y": (batch,), "W1": (D, hidden),
                                    "b1": (hidden,), "W2": (hidden, C), "b2": (C,)})

    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((D, hidden)) * np.sqrt(2.0 / D),   # He initialization
              "b1": np.zeros(hidden),
              "W2": rng.standard_normal((hidden, C)) * np.sqrt(1.0 / hidden),
              "b2": np.zeros(C)}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}

    X0, y0 = X_train[:batch], y_train[:batch]
    gaps = [compare_with_whole(layers, whole, params, X0, y0)]
    log(f"layered gradients vs the whole network compiled at once, at initialization: "
        f"largest relative difference {gaps[0]:.1e}")

    log(f"digits: {len(X_train)} train / {len(X_test)} test; {D} -> {hidden} -> {C}, "
        f"batch {batch}, SGD lr {learning_rate} momentum {momentum}")
    batches = len(X_train) // batch           # whole batches only: the modules' shapes
    history = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X_train))
        total = 0.0
        for k in range(batches):
            idx = order[k * batch:(k + 1) * batch]
            loss, grads = forward_backward(layers, params, X_train[idx], y_train[idx])
            total += loss
            for name in PARAMS:
                velocity[name] = momentum * velocity[name] - learning_rate * grads[name]
                params[name] += velocity[name]
        if epoch == 1 or epoch % report_every == 0 or epoch == epochs:
            train_acc, test_acc = accuracy(params, X_train, y_train), accuracy(params, X_test,
                                                                               y_test)
            history.append((epoch, total / batches, train_acc, test_acc))
            log(f"epoch {epoch:3d}  loss {total / batches:.4f}  train acc {train_acc:.4f}  "
                f"test acc {test_acc:.4f}")
    seconds = time.perf_counter() - start

    idx = rng.permutation(len(X_train))[:batch]
    gaps.append(compare_with_whole(layers, whole, params, X_train[idx], y_train[idx]))
    log(f"layered gradients vs the whole network, after training: largest relative difference "
        f"{gaps[1]:.1e}")
    test_acc = accuracy(params, X_test, y_test)
    log(f"final test accuracy: {test_acc:.4f}  ({seconds:.2f} s of training)")
    return {"params": params, "history": history, "test_accuracy": test_acc,
            "train_accuracy": accuracy(params, X_train, y_train), "gradient_gap": max(gaps),
            "files": sorted(os.listdir(out_dir))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="folder for the generated modules (default: a temporary "
                        "folder, removed at the end)")
    args = parser.parse_args(argv)
    kwargs = {"epochs": args.epochs, "hidden": args.hidden, "seed": args.seed,
              "report_every": max(1, args.epochs // 4)}
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        return train(args.out, **kwargs)
    with tempfile.TemporaryDirectory(prefix="symdiff_layers_") as out_dir:
        return train(out_dir, **kwargs)


if __name__ == "__main__":
    main()
