"""Second order and other array libraries: HVPs, Hessians, Jacobians, Dask inputs."""

import numpy as np
import pytest

import symdiff
from symdiff.check import numeric_gradient

NEURON = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"


def test_neuron_hessian_matches_differences_of_the_gradient():
    hess = symdiff.hessian(NEURON)
    point = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    _, _, H = hess(**point)
    grad = symdiff.compile(NEURON)
    for a in point:
        for b in point:
            fd = numeric_gradient(lambda **kw: grad(**kw)[1][a], point, b)
            assert H[a][b] == pytest.approx(fd, rel=1e-5, abs=1e-9)
            assert H[a][b] == pytest.approx(H[b][a], rel=1e-12, abs=1e-15)


def _rosenbrock_source(n: int) -> str:
    params = ", ".join(f"x{i}" for i in range(n))
    terms = " + ".join(f"100*(x{i+1} - x{i}**2)**2 + (1 - x{i})**2" for i in range(n - 1))
    return f"def rosen({params}):\n    return {terms}\n"


def test_rosenbrock_hessian_scalar_form():
    n = 100
    hess = symdiff.hessian(_rosenbrock_source(n))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=n)
    _, _, H = hess(*x)
    dense = np.array([[H[f"x{i}"][f"x{j}"] for j in range(n)] for i in range(n)])
    expected = np.zeros((n, n))
    for i in range(n - 1):
        expected[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        expected[i + 1, i + 1] += 200
        expected[i, i + 1] = expected[i + 1, i] = -400 * x[i]
    np.testing.assert_allclose(dense, expected, rtol=1e-10, atol=1e-9)


def test_rosenbrock_hvp_on_arrays_never_builds_a_matrix():
    import tracemalloc

    def rosen(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    n = 10_000
    h = symdiff.hvp(rosen)
    rng = np.random.default_rng(1)
    x, v = rng.uniform(-1, 1, n), rng.normal(size=n)
    h(x, v={"x": v})
    tracemalloc.start()
    _, hv = h(x, v={"x": v})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * n * 8  # a few dozen vectors, never n * n
    expected = np.zeros(n)
    expected[:-1] += (1200 * x[:-1] ** 2 - 400 * x[1:] + 2) * v[:-1] - 400 * x[:-1] * v[1:]
    expected[1:] += 200 * v[1:] - 400 * x[:-1] * v[:-1]
    np.testing.assert_allclose(hv["x"], expected, rtol=1e-10, atol=1e-8)


def test_two_layer_net_hessian_wrt_w2_matches_differences():
    def loss(X, y, W1, W2):
        h = np.maximum(0, X @ W1)
        return -np.mean(log_softmax(h @ W2, axis=1)[np.arange(6), y])  # noqa: F821

    rng = np.random.default_rng(2)
    args = dict(X=rng.normal(size=(6, 4)), y=rng.integers(0, 3, 6),
                W1=rng.normal(size=(4, 5)), W2=rng.normal(size=(5, 3)))
    hess = symdiff.hessian(loss, wrt=["W2"])
    _, _, H = hess(**args)
    grad = symdiff.compile(loss, wrt=["W2"])
    assert H["W2"]["W2"].shape == (5, 3, 5, 3)
    for j in np.ndindex(3, 3):                      # columns H[:, :, j] by differences
        W2 = args["W2"]
        h = 1e-5
        plus, minus = W2.copy(), W2.copy()
        plus[j] += h
        minus[j] -= h
        column = (grad(**{**args, "W2": plus})[1]["W2"]
                  - grad(**{**args, "W2": minus})[1]["W2"]) / (2 * h)
        np.testing.assert_allclose(H["W2"]["W2"][(Ellipsis,) + j], column, rtol=1e-5,
                                   atol=1e-8)


def test_hessian_diagonal_of_elementwise_function():
    hess = symdiff.hessian("sin(x) * x", diagonal=True)
    x = np.linspace(-2, 2, 7)
    _, _, H = hess(x)
    np.testing.assert_allclose(H["x"], 2 * np.cos(x) - x * np.sin(x), rtol=1e-12)


def test_jacobian_of_vector_output():
    def f(x, W):
        return np.tanh(W @ x)

    rng = np.random.default_rng(3)
    x, W = rng.normal(size=3), rng.normal(size=(4, 3))
    value, J = symdiff.jacobian(f)(x, W)
    expected = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(J["x"], expected, rtol=1e-12)
    assert J["W"].shape == (4, 4, 3)


def test_dask_inputs_give_the_same_gradients_lazily():
    da = pytest.importorskip("dask.array")

    def loss(X, y, w, b):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0) * 1.0
    w = rng.normal(size=3) * 0.1
    g = symdiff.compile(loss, wrt=["w", "b"])
    value, grads = g(X, y, w, 0.2)
    lazy_value, lazy_grads = g(da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100),
                               w, 0.2)
    assert isinstance(lazy_value, da.Array)
    assert all(isinstance(v, da.Array) for v in lazy_grads.values())
    np.testing.assert_allclose(lazy_value.compute(), value, rtol=1e-12)
    for name in grads:
        np.testing.assert_allclose(lazy_grads[name].compute(), grads[name], rtol=1e-12)


def test_hessians_agree_with_jax_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def rosen(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def rosen_jax(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x = np.random.default_rng(5).uniform(-1, 1, size=100)
    _, _, H = symdiff.hessian(rosen)(x)
    np.testing.assert_allclose(H["x"]["x"], np.asarray(jax.hessian(rosen_jax)(x)), rtol=1e-10,
                               atol=1e-10)

    def neuron(w):
        return 1 / (1 + jnp.exp(-(w[0] * w[1] + w[2] * w[3] + w[4])))

    point = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    _, _, Hn = symdiff.hessian(NEURON)(**point)
    dense = np.array([[Hn[a][b] for b in point] for a in point])
    expected = np.asarray(jax.hessian(neuron)(jnp.array(list(point.values()))))
    np.testing.assert_allclose(dense, expected, rtol=1e-10, atol=1e-12)


def test_two_layer_hessian_wrt_w2_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss(X, y, W1, W2):
        h = np.maximum(0, X @ W1)
        return -np.mean(log_softmax(h @ W2, axis=1)[np.arange(6), y])  # noqa: F821

    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    W1, W2 = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))

    def loss_jax(W2):
        h = jnp.maximum(0, X @ W1)
        return -jnp.mean(jax.nn.log_softmax(h @ W2, axis=1)[jnp.arange(6), y])

    _, _, H = symdiff.hessian(loss, wrt=["W2"])(X, y, W1, W2)
    np.testing.assert_allclose(H["W2"]["W2"], np.asarray(jax.hessian(loss_jax)(W2)), rtol=1e-9,
                               atol=1e-12)
