"""np.linalg.eigvalsh and np.linalg.eigh (issue 12): values as NumPy's, gradients against central
differences along symmetric perturbations, the interpreter and JAX (``oracle.check_program``),
for eigenvalues and for uses of the eigenvectors that do not depend on their signs
(``V ** 2``, outer products), on matrices with distinct eigenvalues; batches of them.

A is read as symmetric, as NumPy (which reads one triangle) and JAX (which symmetrizes) do: the
gradient is symmetric. The programs symmetrize their input (``0.5 * (X + X.T)``) so that the
oracle's one-element perturbations are symmetric ones.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from oracle import check_program
from symdiff.errors import SymdiffError

RNG = np.random.default_rng(5)


def sym(n, batch=()):
    m = RNG.standard_normal(batch + (n, n))
    return 0.5 * (m + np.swapaxes(m, -1, -2))


SYM = "A = 0.5 * (X + np.swapaxes(X, -1, -2))\n    "


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 5), (2, 4, 4)])
def test_eigvalsh(shape):
    check_program(f"def f(X):\n    {SYM}return np.linalg.eigvalsh(A)",
                  {"X": RNG.standard_normal(shape)})


@pytest.mark.parametrize("body", [
    "w, V = np.linalg.eigh(A)\n    return np.sum(V ** 2 * w[..., None, :])",
    "w, V = np.linalg.eigh(A)\n    return V ** 2",
    "w, V = np.linalg.eigh(A)\n    return w",
    "V = np.linalg.eigh(A)[1]\n    return V[..., :, 1:2] @ np.swapaxes(V[..., :, 1:2], -1, -2)",
    "w, V = np.linalg.eigh(A)\n    return (V * np.exp(w)[..., None, :]) @ np.swapaxes(V, -1, -2)",
])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)])
def test_eigh_sign_invariant_uses(body, shape):
    check_program(f"def f(X):\n    {SYM}{body}", {"X": RNG.standard_normal(shape)})


def test_gradients_on_a_symmetric_input_are_symmetric_and_match_symmetric_differences():
    a = sym(4)
    weights = np.arange(1.0, 5.0)
    g = symdiff.compile("def f(A):\n    w, V = np.linalg.eigh(A)\n"
                        "    return np.sum(V ** 2 * np.arange(1.0, 5.0)[:, None] * w)")
    value, grads = g(a)
    v = np.linalg.eigh(a)[1]

    def fn(m):
        w, v = np.linalg.eigh(m)
        return np.sum(v ** 2 * weights[:, None] * w)

    np.testing.assert_allclose(value, fn(a), rtol=1e-12)
    np.testing.assert_allclose(grads["A"], grads["A"].T, atol=1e-12)
    # <G, E> along a symmetric direction E equals the directional derivative.
    for i, j in [(0, 0), (1, 2), (3, 0), (2, 2)]:
        e = np.zeros_like(a)
        e[i, j] = e[j, i] = 1.0
        numeric = (fn(a + 1e-6 * e) - fn(a - 1e-6 * e)) / 2e-6
        np.testing.assert_allclose(np.sum(grads["A"] * e), numeric, rtol=1e-6, atol=1e-8)
    g_vals = symdiff.compile("def f(A):\n    return np.sum(np.linalg.eigvalsh(A) * np.arange(4.0))")
    _, grads = g_vals(a)
    np.testing.assert_allclose(grads["A"], (v * np.arange(4.0)) @ v.T, atol=1e-12)


def test_eigenvalues_are_ascending_and_equal_to_numpys():
    a = sym(3, (2,))
    value, _ = symdiff.compile("def f(A):\n    return np.linalg.eigvalsh(A)")(a)
    np.testing.assert_allclose(value, np.linalg.eigvalsh(a), rtol=1e-12, atol=1e-12)


def test_the_backward_is_written_from_a_second_eigh_not_a_jacobian():
    g = symdiff.compile("def f(A):\n    w, V = np.linalg.eigh(A)\n    return np.sum(V ** 2 * w)")
    g(sym(3))
    assert "np.linalg.eigh(" in g.source and "np.linalg.eigvalsh(" in g.source


def test_second_derivatives_are_refused_not_zero():
    with pytest.raises(SymdiffError, match="second derivatives through eigen"):
        symdiff.hessian("def f(A):\n    return np.sum(np.linalg.eigvalsh(A))")(sym(3))


@pytest.mark.parametrize("call", ["np.linalg.eigh(A, UPLO='U')[0]", "np.linalg.eigvalsh(A, 'U')",
                                  "np.linalg.eigvalsh(A[0])"])
def test_unsupported_forms_are_clear_errors(call):
    with pytest.raises(SymdiffError):
        symdiff.compile(f"def f(A):\n    return np.sum({call})")(sym(3))
