"""Linear algebra: inv, det, slogdet, solve, cholesky, pinv, svd values, norm, einsum, kron, trace,
diag, diagonal, triu, tril; the np.linalg names.

Each program is checked by ``oracle.check_program`` (NumPy values; gradients against central
differences, the interpreter and JAX in float64 where installed), on well-conditioned matrices
(``M @ M.T + n * I``), batches of them, and every argument variant.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from oracle import check_program
from symdiff.codegen.names import function_text

RNG = np.random.default_rng(11)


def spd(n, batch=()):
    m = RNG.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def calls(g, name: str) -> int:
    """How often the generated value-and-gradient function computes ``name``."""
    body = function_text(g.source, "f").splitlines()
    return sum(line.count(name) for line in body if not line.strip().startswith("#"))


def normal(*shape):
    return RNG.standard_normal(shape)


def well_conditioned(n, batch=()):
    """A nonsymmetric matrix far from singular."""
    return normal(*batch, n, n) + 3 * n ** 0.5 * np.eye(n)


MATRICES = [("square", lambda: well_conditioned(3)), ("spd", lambda: spd(4)),
            ("batch", lambda: well_conditioned(3, (2,))), ("batch2", lambda: spd(2, (2, 3)))]


@pytest.mark.parametrize("fn", ["inv", "det"])
@pytest.mark.parametrize("kind, make", MATRICES)
def test_inv_det(fn, kind, make):
    check_program(f"def f(A):\n    return np.linalg.{fn}(A)", {"A": make()})


@pytest.mark.parametrize("kind, make", MATRICES)
def test_slogdet(kind, make):
    a = make()
    a[..., 0, :] *= -1  # a negative determinant: the sign is -1
    check_program("def f(A):\n    s, logdet = np.linalg.slogdet(A)\n    return s * logdet",
                  {"A": a})
    check_program("def f(A):\n    return np.linalg.slogdet(A)[1]", {"A": a})


def test_inv_backward_reuses_the_forward_inverse():
    g = symdiff.compile("def f(A):\n    return np.linalg.inv(A)")
    g(well_conditioned(3))
    assert calls(g, "np.linalg.inv(") == 1


def test_det_backward_shares_the_inverse_with_the_program():
    g = symdiff.compile("def f(A):\n    return np.linalg.det(A) + np.sum(np.linalg.inv(A))")
    g(well_conditioned(3))
    assert calls(g, "np.linalg.inv(") == 1


@pytest.mark.parametrize("ashape, bshape", [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 1)),
    ((2, 3, 3), (3, 4)), ((3, 3), (2, 3, 2))])
def test_solve(ashape, bshape):
    a = well_conditioned(ashape[-1], ashape[:-2])
    check_program("def f(A, b):\n    return np.linalg.solve(A, b)", {"A": a, "b": normal(*bshape)})


def test_solve_backward_is_one_more_solve():
    g = symdiff.compile("def f(A, b):\n    return np.linalg.solve(A, b)")
    g(well_conditioned(3), normal(3))
    assert calls(g, "np.linalg.solve(") == 2
    assert calls(g, "inv") == 0


@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky(batch):
    """A is read as symmetric: the program symmetrizes its input, so any symmetric convention
    of the gradient composes to the true one (central differences see both triangles)."""
    src = "def f(A):\n    return np.linalg.cholesky(0.5 * (A + np.swapaxes(A, -1, -2)))"
    check_program(src.replace("np.swapaxes(A, -1, -2)", "A.T") if not batch else
                  src.replace("np.swapaxes(A, -1, -2)", "np.transpose(A, (0, 2, 1))"),
                  {"A": spd(3, batch)})


def test_cholesky_gradient_is_symmetric_like_jax():
    a = spd(4)
    _, grads = symdiff.compile("def f(A):\n    return np.sum(np.linalg.cholesky(A))")(a)
    np.testing.assert_allclose(grads["A"], grads["A"].T)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_pinv(shape):
    a = normal(*shape) + (np.eye(*shape[-2:]) * 2 if len(shape) == 2 else 0)
    check_program("def f(A):\n    return np.linalg.pinv(A)", {"A": a})


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 3, 4)])
def test_singular_values(shape):
    check_program("def f(A):\n    return np.linalg.svd(A, compute_uv=False)",
                  {"A": normal(*shape)})


VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 3, 0.5]


@pytest.mark.parametrize("order", VECTOR_ORDS)
@pytest.mark.parametrize("shape, axis, keepdims", [((5,), None, False), ((3, 4), 1, False),
                                                   ((3, 4), -2, True), ((2, 3, 4), 0, False)])
def test_vector_norms(order, shape, axis, keepdims):
    kw = f", ord={order!r}".replace("inf", "np.inf") if order is not None else ""
    kw += "" if axis is None else f", axis={axis}"
    kw += ", keepdims=True" if keepdims else ""
    check_program(f"def f(x):\n    return np.linalg.norm(x{kw})", {"x": normal(*shape)})


@pytest.mark.parametrize("order", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
@pytest.mark.parametrize("shape, axis, keepdims", [((3, 4), None, False), ((4, 3), None, True),
                                                   ((2, 3, 4), (1, 2), False),
                                                   ((3, 2, 4), (2, 0), True)])
def test_matrix_norms(order, shape, axis, keepdims):
    kw = f", ord={order!r}".replace("inf", "np.inf") if order is not None else ""
    kw += "" if axis is None else f", axis={axis}"
    kw += ", keepdims=True" if keepdims else ""
    check_program(f"def f(x):\n    return np.linalg.norm(x{kw})", {"x": normal(*shape)})


def test_norm_of_a_batch_flattened_and_numpy_module_name():
    check_program("def f(x):\n    return np.linalg.norm(x) * np.linalg.norm(x[0])",
                  {"x": normal(2, 3, 4)})
    x = normal(3)
    value, grads = symdiff.compile("def f(x):\n    return numpy.linalg.norm(x)")(x)
    np.testing.assert_allclose(grads["x"], x / np.linalg.norm(x))


def test_norm_gradient_at_zero_follows_jax():
    _, grads = symdiff.compile("def f(x):\n    return np.linalg.norm(x)")(np.zeros(3))
    assert np.all(np.isnan(grads["x"]))
    _, grads = symdiff.compile("def f(x):\n    return np.linalg.norm(x, 1)")(np.zeros(3))
    np.testing.assert_array_equal(grads["x"], 0.0)


EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("ij,jk", [(3, 4), (4, 2)]), ("ij->ji", [(3, 4)]),
    ("ij->j", [(3, 4)]), ("ij->", [(3, 4)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("...i,...i", [(3, 4), (4,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ijk->kij", [(2, 3, 4)]), ("ij,ij->i", [(3, 4), (3, 4)]), ("i,jk->ijk", [(2,), (3, 4)]),
    ("ab,bc", [(2, 3), (3, 3)]), ("ij, jk -> ki", [(3, 4), (4, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUMS)
def test_einsum(subscripts, shapes):
    names = "abcd"[:len(shapes)]
    src = f"def f({', '.join(names)}):\n    return np.einsum({subscripts!r}, {', '.join(names)})"
    check_program(src, {n: normal(*s) for n, s in zip(names, shapes)})


@pytest.mark.parametrize("subscripts, shapes", [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij,j->i", [(2, 2, 4), (4,)]), ("ij,jj", [(2, 3), (3, 3)]),
])
def test_einsum_with_an_index_repeated_in_one_operand(subscripts, shapes):
    test_einsum(subscripts, shapes)


def test_einsum_backward_is_an_einsum():
    g = symdiff.compile("def f(a, b):\n    return np.einsum('ij,jk->ik', a, b)")
    g(normal(3, 4), normal(4, 2))
    assert calls(g, "np.einsum(") == 3


@pytest.mark.parametrize("src, message", [
    ("np.einsum('ii->i', a)", "repeated index 'i'"),
    ("np.einsum('ij,jk->ik', a)", "subscripts for"),
    ("np.einsum('ij,jk->ik', a, a)", "sizes"),
    ("np.einsum('ij->k', a)", "output"),
    ("np.einsum('i$', a)", "subscript string"),
    ("np.einsum(3, a)", "subscript string"),
    ("np.linalg.svd(a)", "compute_uv"),
    ("np.linalg.inv(a)", "square"),
    ("np.linalg.norm(a, 'bogus')", "matrix norm"),
    ("np.linalg.norm(a, axis=(0, 1, 1))", "axis"),
    ("np.linalg.eig(a)", "unknown function"),
])
def test_errors_are_clear(src, message):
    with pytest.raises(symdiff.SymdiffError, match=message):
        symdiff.compile(f"def f(a):\n    return {src}")(np.ones((3, 4)))


@pytest.mark.parametrize("sa, sb", [((2, 3), (3, 2)), ((3,), (2,)), ((2, 2), (3,)),
                                    ((2, 1, 2), (2, 3))])
def test_kron(sa, sb):
    check_program("def f(a, b):\n    return np.kron(a, b)", {"a": normal(*sa), "b": normal(*sb)})


@pytest.mark.parametrize("shape, args", [((4, 4), ""), ((3, 5), ", 1"), ((5, 3), ", -2"),
                                         ((2, 3, 4), ", 0, 1, 2"), ((2, 3, 4), ", 1, -1, 0")])
def test_trace_and_diagonal(shape, args):
    check_program(f"def f(x):\n    return np.trace(x{args})", {"x": normal(*shape)})
    check_program(f"def f(x):\n    return np.diagonal(x{args}) * 2.0", {"x": normal(*shape)})


def test_methods_trace_diagonal():
    check_program("def f(x):\n    return x.trace() + np.sum(x.diagonal(1))", {"x": normal(3, 4)})


@pytest.mark.parametrize("shape, k", [((4,), 0), ((3,), 2), ((3,), -1), ((4, 4), 0),
                                      ((3, 5), 1), ((5, 3), -2)])
def test_diag_both_directions(shape, k):
    check_program(f"def f(x):\n    return np.diag(x, k={k})", {"x": normal(*shape)})


def test_returned_diagonal_is_not_a_view_of_the_input():
    x = normal(3, 3)
    value, _ = symdiff.compile("def f(x):\n    return np.diagonal(x)")(x)
    assert not np.shares_memory(value, x)


@pytest.mark.parametrize("fn", ["triu", "tril"])
@pytest.mark.parametrize("shape, k", [((4, 4), 0), ((3, 5), 1), ((5, 3), -1), ((2, 3, 3), 2)])
def test_triangles(fn, shape, k):
    check_program(f"def f(x):\n    return np.{fn}(x, {k}) * x", {"x": normal(*shape)})


def test_second_derivatives_through_inv_and_det():
    a = well_conditioned(3)
    h = symdiff.hessian("def f(A):\n    return np.linalg.det(A) + np.sum(np.linalg.inv(A))")
    _, _, hess = h(a)
    step = 1e-5
    numeric = np.zeros((3, 3, 3, 3))
    g = symdiff.compile("def f(A):\n    return np.linalg.det(A) + np.sum(np.linalg.inv(A))")
    for i in np.ndindex(3, 3):
        e = np.zeros((3, 3))
        e[i] = step
        numeric[:, :, i[0], i[1]] = (g(a + e)[1]["A"] - g(a - e)[1]["A"]) / (2 * step)
    np.testing.assert_allclose(hess["A"]["A"], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("src", ["np.linalg.inv(A)", "np.einsum('ij,jk->ik', A, A)",
                                 "np.linalg.norm(A, 'nuc')"])
def test_array_api_refuses_linalg_at_compile_time(src):
    g = symdiff.compile(f"def f(A):\n    return np.sum({src})", backend="array_api")
    with pytest.raises(symdiff.SymdiffError, match="array_api"):
        g(well_conditioned(3))


def test_array_api_kron_trace_and_norm_lower_to_standard_ops():
    src = "def f(a, b):\n    return np.sum(np.kron(a, b)) + np.linalg.norm(a) + np.linalg.norm(b, 1)"
    a, b = normal(2, 3), normal(3, 2)
    value, grads = symdiff.compile(src, backend="array_api")(a, b)
    value2, grads2 = symdiff.compile(src)(a, b)
    np.testing.assert_allclose(value, value2)
    np.testing.assert_allclose(grads["a"], grads2["a"])
