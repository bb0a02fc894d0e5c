"""The lecture's sigmoid neuron as a logistic regression over 100 million rows, on a chunked Dask array.

    p = sigmoid(w0*x0 + w1*x1 + b),   loss = mean(log(1 + exp(z)) - y*z),   z = X @ w + b

The data never exists in memory at once: ``dask.array.random`` describes X (1e8 x 2, float64,
1.6 GB) and the labels y lazily, in chunks of 1e6 rows (16 MB each), from a fixed seed, and every
pass regenerates them chunk by chunk.

The loss is compiled ONCE with ``symdiff.compile``. The generated function is plain NumPy; called
with Dask arrays, NumPy's ``__array_function__`` / ``__array_ufunc__`` dispatch turns every
``X @ w``, ``np.logaddexp``, ``.sum(axis=0)`` and ``X.T @ dz`` in it into Dask operations, so the
loss and the full-batch gradient come back as lazy Dask arrays. Nothing runs until
``dask.compute(value, grads)``, which evaluates them in one pass over the chunks (shared work such as
generating X is done once), under a progress bar (tqdm, when installed and the output is a
terminal: ``symdiff.progress.dask_progress``). The very same compiled object
also takes NumPy arrays (checked below on the first chunk).

Then a few steps of full-batch gradient descent, one pass over the data each.

    python examples/dask_logistic.py                  # 1e8 rows (a few minutes on 2 cores)
    python examples/dask_logistic.py --rows 1000000   # 1e6 rows, seconds
    python examples/dask_logistic.py --steps 3 --chunk 500000

On a cluster
------------
Nothing in the code changes. With ``dask.distributed`` installed (``pip install distributed``;
it is not needed for this script), create a client before computing and Dask sends the same graph
to the cluster's workers instead of the local thread pool::

    from dask.distributed import Client, progress
    client = Client("tcp://scheduler-host:8786")   # or Client() for a local multi-process cluster
    value, grads = grad_fn(w, b, X, y)             # still lazy, still the same compiled function
    value, grads = dask.compute(value, grads)      # runs on the workers

The progress bar only reports the local schedulers; with a distributed client use the dashboard
(``client.dashboard_link``) or ``dask.distributed.progress`` on persisted futures. The
random data is generated on the workers, chunk by chunk, so nothing 1.6 GB ever crosses the network;
only the per-chunk partial sums (a few numbers each) travel back.
"""

import argparse
import contextlib
import time

import numpy as np

import symdiff

TRUE_W = np.array([2.0, -3.0])   # the lecture's neuron: w = [2, -3], bias -3
TRUE_B = -3.0


def loss(w, b, X, y):
    """Mean logistic loss of the sigmoid neuron sigmoid(X @ w + b) on labels y in {0, 1}."""
    z = X @ w + b
    return np.mean(np.log(1 + np.exp(z)) - y * z)


def make_data(rows, chunk, seed=0):
    """Lazy data: X ~ N(0, 1) of shape (rows, 2) and y ~ Bernoulli(sigmoid(X @ TRUE_W + TRUE_B))."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, len(TRUE_W)), chunks=(chunk, len(TRUE_W)))
    p = 1 / (1 + np.exp(-(X @ TRUE_W + TRUE_B)))
    y = (rng.random(rows, chunks=chunk) < p).astype(np.float64)
    return X, y


def main(argv=None, rows=None):
    import dask
    import dask.array as da
    from symdiff.progress import dask_progress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e8, help="rows of data (default 1e8)")
    parser.add_argument("--chunk", type=float, default=1e6, help="rows per chunk (default 1e6)")
    parser.add_argument("--steps", type=int, default=5, help="gradient-descent steps (default 5)")
    parser.add_argument("--lr", type=float, default=4.0, help="learning rate (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    rows = int(rows if rows is not None else args.rows)
    chunk = min(int(args.chunk), rows)

    X, y = make_data(rows, chunk, args.seed)
    print(f"data: X {X.shape} in {X.numblocks[0]} chunks of {chunk} rows "
          f"({X.nbytes / 1e9:.2f} GB in all, {chunk * X.shape[1] * 8 / 1e6:.0f} MB per chunk), "
          f"generated lazily with seed {args.seed}")

    grad_fn = symdiff.compile(loss, wrt=["w", "b"])   # compiled once, used for NumPy and Dask

    # The same compiled function on NumPy arrays: the first chunk, materialized.
    w, b = np.zeros(2), 0.0
    X0, y0 = dask.compute(X[:chunk], y[:chunk])
    np_value, np_grads = grad_fn(w, b, X0, y0)
    lazy_value, lazy_grads = grad_fn(w, b, X[:chunk], y[:chunk])
    assert isinstance(lazy_value, da.Array)
    lazy_value, lazy_grads = dask.compute(lazy_value, lazy_grads)
    chunk_gap = max(abs(np_value - lazy_value),
                    *(np.max(np.abs(np_grads[k] - lazy_grads[k])) for k in np_grads))
    print(f"first chunk, NumPy arrays:  loss {np_value:.12f}  grad w {np_grads['w']}  "
          f"grad b {np_grads['b']:.6f}")
    print(f"first chunk, Dask arrays:   loss {lazy_value:.12f}  (largest difference "
          f"{chunk_gap:.1e})")

    progress = contextlib.nullcontext() if args.no_progress else dask_progress("one pass")
    history = []
    start = time.perf_counter()
    for step in range(args.steps + 1):
        value, grads = grad_fn(w, b, X, y)             # lazy: builds a task graph, runs nothing
        assert isinstance(value, da.Array) and isinstance(grads["w"], da.Array)
        tic = time.perf_counter()
        with progress:
            value, grads = dask.compute(value, grads)  # one pass over all chunks
        seconds = time.perf_counter() - tic
        g = np.append(grads["w"], grads["b"])
        history.append({"step": step, "loss": float(value), "grad_norm": float(np.linalg.norm(g)),
                        "w": w.copy(), "b": b, "seconds": seconds})
        print(f"step {step}  loss {value:.8f}  |grad| {np.linalg.norm(g):.3e}  "
              f"w {np.array2string(w, precision=4)}  b {b:.4f}  ({seconds:.1f} s for "
              f"{rows:.2e} rows)")
        if step < args.steps:
            w, b = w - args.lr * grads["w"], b - args.lr * float(grads["b"])
    total = time.perf_counter() - start
    print(f"{args.steps} gradient-descent steps over {rows:.2e} rows in {total:.1f} s "
          f"(the data was drawn with w = {TRUE_W}, b = {TRUE_B})")
    return {"history": history, "w": w, "b": b, "chunk_gap": float(chunk_gap),
            "rows": rows, "grad_fn": grad_fn, "data": (X, y)}


if __name__ == "__main__":
    main()
