"""backend="array_api": one compiled function, run on NumPy, Dask, PyTorch and JAX arrays.

NumPy always runs (without array_api_compat the namespace falls back to NumPy); Dask, PyTorch and
JAX run where installed. Every result is compared with the NumPy backend.
"""

import numpy as np
import pytest

import symdiff

PROGRAMS = {
    "neuron": ("1/(1+exp(-(w0*x0 + w1*x1 + w2)))",
               lambda r: [r.normal(size=5) for _ in range(5)]),
    "where": ("np.where(x > 0, np.sqrt(x), 0.0) + softplus(x) * relu(x)",
              lambda r: [r.uniform(0.1, 2.0, size=6) * r.choice([-1, 1], size=6)]),
    "reductions": ("def f(x, w):\n    return np.sum(np.max(np.tanh(x * w), axis=1)) + "
                   "np.sum(x.reshape(6, 2).T @ x.reshape(6, 2))\n",
                   lambda r: [r.normal(size=(3, 4)), r.normal(size=4)]),
    "slices": ("def f(x, y):\n    return np.sum(logsumexp(x, axis=0) * y) + np.mean(x[:, 1:3])\n",
               lambda r: [r.normal(size=(3, 4)), r.normal(size=4)]),
    "two_layer": ("def f(X, y, W1, b1, W2):\n    N = X.shape[0]\n"
                  "    h = np.maximum(0, X @ W1 + b1)\n"
                  "    return -np.mean(log_softmax(h @ W2, axis=1)[np.arange(N), y])\n",
                  lambda r: [r.normal(size=(8, 5)), r.integers(0, 3, 8), r.normal(size=(5, 4)),
                             r.normal(size=4), r.normal(size=(4, 3))]),
}


def _numpy(x):
    return np.asarray(x.compute() if hasattr(x, "compute") else x)


def _libraries():
    libs = [pytest.param(lambda a: a, id="numpy")]
    for name in ("dask", "torch", "jax"):
        libs.append(pytest.param(name, id=name))
    return libs


def _converter(lib):
    if callable(lib):
        return lib
    pytest.importorskip("array_api_compat")
    if lib == "dask":
        da = pytest.importorskip("dask.array")
        return lambda a: da.from_array(a) if isinstance(a, np.ndarray) else a
    if lib == "torch":
        torch = pytest.importorskip("torch")
        return lambda a: torch.from_numpy(a) if isinstance(a, np.ndarray) else a
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return lambda a: jax.numpy.asarray(a) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("lib", _libraries())
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_array_api_backend_matches_numpy(program, lib):
    source, make = PROGRAMS[program]
    if program == "two_layer" and lib == "dask":
        pytest.skip("Dask does not index with two integer arrays (s[np.arange(N), y])")
    args = make(np.random.default_rng(0))
    convert = _converter(lib)
    with np.errstate(all="ignore"):
        expected_value, expected = symdiff.compile(source)(*args)
        value, grads = symdiff.compile(source, backend="array_api")(*[convert(a) for a in args])
    np.testing.assert_allclose(_numpy(value), expected_value, rtol=1e-12, atol=1e-14)
    assert set(grads) == set(expected)
    for name, grad in grads.items():
        np.testing.assert_allclose(_numpy(grad), expected[name], rtol=1e-12, atol=1e-14)


def test_array_api_source_uses_the_namespace_of_its_inputs():
    g = symdiff.compile("def f(x):\n    return np.sum(np.tanh(x))\n", backend="array_api")
    g(np.ones(3))
    code = g.source.split("\ndef f(")[1].split("\ndef f_forward")[0]
    assert "xp = _namespace(x)" in code and "xp.tanh(x)" in code and "np." not in code


def test_unportable_scatter_is_refused_clearly():
    source = "def f(v, idx):\n    return np.sum(v[idx])\n"
    g = symdiff.compile(source, backend="array_api")
    with pytest.raises(symdiff.SymdiffError, match="positions that may repeat"):
        g(np.ones(4), np.array([0, 0, 1]))


def test_unknown_backend():
    with pytest.raises(symdiff.SymdiffError, match="backend"):
        symdiff.compile("x*y", backend="tensorflow")


class _ForeignDtype:
    """A dtype of another library: no NumPy ``kind``, only a name (``torch.float64``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


@pytest.mark.parametrize("name, expected", [("torch.float64", True), ("torch.float32", False),
                                            ("torch.bfloat16", False), ("torch.int64", True),
                                            ("torch.bool", True)])
def test_another_librarys_dtype_is_read_by_its_name(name, expected):
    """PyTorch's dtypes have no ``kind``: whether a loop's steps may run on Python floats is read
    from the name (this raised AttributeError for every PyTorch tensor)."""
    from symdiff.compiler import _float64_or_not_float
    assert _float64_or_not_float(_ForeignDtype(name)) is expected
    assert _float64_or_not_float(np.dtype(name.split(".")[1] if name != "torch.bfloat16"
                                          else "float16")) is expected
