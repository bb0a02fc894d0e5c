"""Linear algebra entries: inv, det, slogdet, solve, cholesky, pinv, svdvals, eigvalsh, eigh,
tril/triu, diagonal, einsum.

Every backward is written with other graph ops, never a Jacobian, and reuses the forward values:
``inv`` sends ``-inv(A).T @ g @ inv(A).T`` with the forward inverse node itself; ``det`` sends
``g * det * inv(A).T``; ``solve`` one more solve (``db = solve(A.T, g)``, ``dA = -db @ x.T``);
``cholesky`` the symmetric form of Murray (2016), ``S = L^-T Phi(L^T g) L^-1``, ``dA = (S + S.T)/2``
(``Phi`` keeps the lower triangle and halves the diagonal), as JAX does; ``pinv`` Golub and
Pereyra's formula (valid where the rank does not change); ``eigvalsh`` ``V diag(g) V^T`` and ``eigh``'s
eigenvectors ``V (F o V^T g) V^T`` symmetrized (``F_ij = 1/(w_j - w_i)`` off the diagonal), as
JAX's; an einsum operand an einsum of ``g``
with the other operands. Batches of matrices (leading axes) work throughout. The NumPy spellings
are ``np.linalg.<name>``, which the verifier allows for the names these entries print.
"""

from __future__ import annotations

import numpy as np

from ..errors import GraphShapeError
from .core import PREC_ATOM, Op, register
from .reductions import no_second_derivative
from .tensor import expand, transpose


def _structural(name, arity, shape_fn, printer, vjp, numeric, numeric_vjp, **kw):
    return register(Op(name, arity, "", None, kind="structural", shape_fn=shape_fn,
                       printer=printer, vjp=vjp, numeric=numeric, numeric_vjp=numeric_vjp,
                       symbol=kw.pop("symbol", name), **kw))


def _square(graph, args, attrs):
    shape = graph.shape(args[0])
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise GraphShapeError(f"expected square matrices (..., M, M), got shape {shape}")
    return shape


def _call(fn):
    return lambda w, n: (f"np.linalg.{fn}({', '.join(w.expr(a) for a in n.args)})", PREC_ATOM)


def _T(x):
    return np.swapaxes(x, -1, -2)


def _matrix_scale(graph, g, node_shape):
    """A gradient of one number per matrix, shaped to multiply a batch of matrices."""
    if graph.shape(g) == ():
        return g
    g = expand(graph, g, node_shape)
    return graph.apply("reshape", g, attrs=(node_shape + (1, 1),))


def _mm(graph, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = graph.apply("matmul", out, x)
    return out


# ------------------------------------------------------------------------------- inv
def _inv_vjp(graph, n, pos, g):
    inv_t = transpose(graph, n)  # the forward inverse, transposed: computed once
    return graph.apply("neg", _mm(graph, inv_t, expand(graph, g, graph[n].shape), inv_t))


_structural(
    "inv", 1, _square, _call("inv"), _inv_vjp, lambda n, args: np.linalg.inv(args[0]),
    lambda n, pos, g, args, out: -_T(out) @ np.broadcast_to(g, out.shape) @ _T(out),
    copies=True, uses=("np.linalg.inv",))


# ------------------------------------------------------------------------------- det, slogdet
def _det_shape(graph, args, attrs):
    return _square(graph, args, attrs)[:-2]


def _det_vjp(graph, n, pos, g):
    a = graph[n].args[0]
    inv_t = transpose(graph, graph.apply("inv", a))
    scale = _matrix_scale(graph, graph.apply("mul", g, n), graph[n].shape)
    return graph.apply("mul", scale, inv_t)


def _numeric_det_vjp(n, pos, g, args, out):
    scale = np.broadcast_to(g, out.shape) * out
    return scale[..., None, None] * _T(np.linalg.inv(args[0]))


_structural(
    "det", 1, _det_shape, _call("det"), _det_vjp, lambda n, args: np.linalg.det(args[0]),
    _numeric_det_vjp, copies=True, uses=("np.linalg.det",))

_structural(
    "slogdet_sign", 1, _det_shape,
    lambda w, n: (f"np.linalg.slogdet({w.expr(n.args[0])})[0]", PREC_ATOM),
    lambda graph, n, pos, g: None, lambda n, args: np.linalg.slogdet(args[0])[0],
    lambda n, pos, g, args, out: None, copies=True, uses=("np.linalg.slogdet",),
    kink="the sign is piecewise constant: no gradient")


def _logabsdet_vjp(graph, n, pos, g):
    a = graph[n].args[0]
    return graph.apply("mul", _matrix_scale(graph, g, graph[n].shape),
                       transpose(graph, graph.apply("inv", a)))


_structural(
    "logabsdet", 1, _det_shape,
    lambda w, n: (f"np.linalg.slogdet({w.expr(n.args[0])})[1]", PREC_ATOM),
    _logabsdet_vjp, lambda n, args: np.linalg.slogdet(args[0])[1],
    lambda n, pos, g, args, out: np.broadcast_to(g, out.shape)[..., None, None]
    * _T(np.linalg.inv(args[0])), copies=True, uses=("np.linalg.slogdet",))


# ------------------------------------------------------------------------------- solve
def _solve_shape(graph, args, attrs):
    a, b = _square(graph, args[:1], ()), graph.shape(args[1])
    if len(b) == 1:  # NumPy 2: a 1-d b is one vector, for every matrix of a batch
        if b[0] != a[-1]:
            raise GraphShapeError(f"solve: shapes {a} and {b} do not match")
        return a[:-1]
    if len(b) < 2 or b[-2] != a[-1]:
        raise GraphShapeError(f"solve: b of shape {b} does not fit a of shape {a}: b must be "
                              "a vector (M,) or matrices (..., M, K)")
    try:
        batch = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise GraphShapeError(f"solve: batch shapes of {a} and {b} do not broadcast") from None
    return tuple(batch) + b[-2:]


def _solve_vjp(graph, n, pos, g):
    """db = solve(A.T, g); dA = -db @ x.T (a vector b: as a one-column matrix)."""
    a, b = graph[n].args
    shape = graph[n].shape
    g = expand(graph, g, shape)
    x = n
    if len(graph.shape(b)) == 1:
        g = graph.apply("reshape", g, attrs=(shape + (1,),))
        x = graph.apply("reshape", n, attrs=(shape + (1,),))
    db = graph.apply("solve", transpose(graph, a), g)
    if pos == 1:
        return db if len(graph.shape(b)) > 1 else graph.apply("reshape", db, attrs=(shape,))
    return graph.apply("neg", graph.apply("matmul", db, transpose(graph, x)))


def _numeric_solve_vjp(n, pos, g, args, out):
    a, b = args
    g = np.broadcast_to(g, out.shape)
    vector = b.ndim == 1
    gm, xm = (g[..., None], out[..., None]) if vector else (g, out)
    db = np.linalg.solve(_T(a), gm)
    if pos == 1:
        return db[..., 0] if vector else db
    return -db @ _T(xm)


_structural(
    "solve", 2, _solve_shape, _call("solve"), _solve_vjp,
    lambda n, args: np.linalg.solve(args[0], args[1]), _numeric_solve_vjp, copies=True,
    uses=("np.linalg.solve",))


# ------------------------------------------------------------------------------- triangles
def _triangle(name):
    def shape(graph, args, attrs):
        s = graph.shape(args[0])
        if len(s) < 2:
            raise GraphShapeError(f"{name} needs matrices (..., M, N), got shape {s}")
        return s

    def printer(w, n):
        (k,) = n.attrs
        return f"np.{name}({w.expr(n.args[0])}{f', k={k}' if k else ''})", PREC_ATOM

    _structural(
        name, 1, shape, printer,
        lambda graph, n, pos, g: graph.apply(name, expand(graph, g, graph[n].shape),
                                             attrs=graph[n].attrs),
        lambda n, args: getattr(np, name)(args[0], n.attrs[0]),
        lambda n, pos, g, args, out: np.broadcast_to(g, out.shape) * getattr(np, name)(
            np.ones(out.shape[-2:]), n.attrs[0]), copies=True, uses=(f"np.{name}",))


_triangle("tril")
_triangle("triu")


# ------------------------------------------------------------------------------- cholesky
def _cholesky_vjp(graph, n, pos, g):
    lower_t = transpose(graph, n)
    p = graph.apply("matmul", lower_t, expand(graph, g, graph[n].shape))
    phi = graph.apply("mul", graph.const(0.5), graph.apply(
        "add", graph.apply("tril", p, attrs=(0,)), graph.apply("tril", p, attrs=(-1,))))
    left = graph.apply("solve", lower_t, phi)                                  # L^-T Phi
    s = transpose(graph, graph.apply("solve", lower_t, transpose(graph, left)))  # ... L^-1
    return graph.apply("mul", graph.const(0.5), graph.apply("add", s, transpose(graph, s)))


def _numeric_cholesky_vjp(n, pos, g, args, out):
    g = np.broadcast_to(g, out.shape)
    inv = np.linalg.inv(out)
    p = _T(out) @ g
    phi = np.tril(p) - 0.5 * np.eye(p.shape[-1]) * p
    s = _T(inv) @ phi @ inv
    return 0.5 * (s + _T(s))


_structural(
    "cholesky", 1, _square, _call("cholesky"), _cholesky_vjp,
    lambda n, args: np.linalg.cholesky(args[0]), _numeric_cholesky_vjp, copies=True,
    uses=("np.linalg.cholesky",),
    kink="the gradient is symmetric (A is read as symmetric), as in JAX")


# ------------------------------------------------------------------------------- pinv
def _pinv_shape(graph, args, attrs):
    s = graph.shape(args[0])
    if len(s) < 2:
        raise GraphShapeError(f"pinv needs matrices (..., M, N), got shape {s}")
    return s[:-2] + (s[-1], s[-2])


def _pinv_vjp(graph, n, pos, g):
    """-P.T g P.T + (I - A P) g.T P P.T + P.T P g.T (I - P A), with P = pinv(A)."""
    a = graph[n].args[0]
    p, p_t = n, transpose(graph, n)
    g = expand(graph, g, graph[n].shape)
    g_t = transpose(graph, g)
    first = graph.apply("neg", _mm(graph, p_t, g, p_t))
    m = _mm(graph, g_t, p, p_t)
    second = graph.apply("sub", m, _mm(graph, a, p, m))
    k = _mm(graph, p_t, p, g_t)
    third = graph.apply("sub", k, _mm(graph, k, p, a))
    return graph.apply("add", graph.apply("add", first, second), third)


def _numeric_pinv_vjp(n, pos, g, args, out):
    a, p = args[0], out
    g = np.broadcast_to(g, out.shape)
    eye_m, eye_n = np.eye(a.shape[-2]), np.eye(a.shape[-1])
    return (-_T(p) @ g @ _T(p) + (eye_m - a @ p) @ _T(g) @ p @ _T(p)
            + _T(p) @ p @ _T(g) @ (eye_n - p @ a))


_structural(
    "pinv", 1, _pinv_shape, _call("pinv"), _pinv_vjp, lambda n, args: np.linalg.pinv(args[0]),
    _numeric_pinv_vjp, copies=True, uses=("np.linalg.pinv",),
    kink="differentiable where the rank is constant (full rank: always)")


# ------------------------------------------------------------------------------- svdvals
def _svdvals_shape(graph, args, attrs):
    s = graph.shape(args[0])
    if len(s) < 2:
        raise GraphShapeError(f"singular values need matrices (..., M, N), got shape {s}")
    return s[:-2] + (min(s[-2:]),)


def _svd_grad(a, g):
    """U diag(g) V^T: the gradient of the singular values (distinct, nonzero)."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return (u * np.broadcast_to(g, u.shape[:-2] + u.shape[-1:])[..., None, :]) @ vt


_structural(
    "svdvals", 1, _svdvals_shape,
    lambda w, n: (f"np.linalg.svd({w.expr(n.args[0])}, compute_uv=False)", PREC_ATOM),
    lambda graph, n, pos, g: graph.apply("svdvals_grad", graph[n].args[0],
                                         expand(graph, g, graph[n].shape)),
    lambda n, args: np.linalg.svd(args[0], compute_uv=False),
    lambda n, pos, g, args, out: _svd_grad(args[0], np.broadcast_to(g, out.shape)),
    copies=True, uses=("np.linalg.svd",),
    kink="differentiable where the singular values are distinct and nonzero")


def _svdvals_grad_lines(w, n, target):
    a, g = w.expr(n.args[0]), w.expr(n.args[1])
    u, vt = w.namer.numbered("u"), w.namer.numbered("vt")
    return [f"{u}, _, {vt} = np.linalg.svd({a}, full_matrices=False)",
            f"{target} = {u} * np.expand_dims({g}, -2) @ {vt}"]


# The backward of svdvals: U diag(g) V^T, from a second SVD of A (a thin one).
_structural(
    "svdvals_grad", 2, lambda graph, args, attrs: graph.shape(args[0]), None,
    no_second_derivative("singular values"),
    lambda n, args: _svd_grad(args[0], args[1]), no_second_derivative("singular values"),
    statement=_svdvals_grad_lines, copies=True, uses=("np.linalg.svd",), symbol="svd'")


# ------------------------------------------------------------------------------- eigh, eigvalsh
def _eigvals_shape(graph, args, attrs):
    return _square(graph, args, attrs)[:-1]


def _eigvalsh_grad(a, g):
    """V diag(g) V^T: the gradient of the eigenvalues of a symmetric A (already symmetric)."""
    v = np.linalg.eigh(a)[1]
    return (v * np.expand_dims(g, -2)) @ _T(v)


def _eigvecs_grad(a, g):
    """V (F o V^T g) V^T, symmetrized, with F_ij = 1/(w_j - w_i) off the diagonal, 0 on it."""
    w, v = np.linalg.eigh(a)
    eye = np.eye(w.shape[-1])
    f = 1.0 / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye) - eye
    s = v @ (f * (_T(v) @ g)) @ _T(v)
    return 0.5 * (s + _T(s))


_structural(
    "eigvalsh", 1, _eigvals_shape, _call("eigvalsh"),
    lambda graph, n, pos, g: graph.apply("eigvalsh_grad", graph[n].args[0],
                                         expand(graph, g, graph[n].shape)),
    lambda n, args: np.linalg.eigvalsh(args[0]),
    lambda n, pos, g, args, out: _eigvalsh_grad(args[0], np.broadcast_to(g, out.shape)),
    copies=True, uses=("np.linalg.eigvalsh",),
    kink="A is read as symmetric (the gradient is symmetric, as in JAX); differentiable where "
         "the eigenvalues are distinct")

_structural(
    "eigh_vectors", 1, _square,
    lambda w, n: (f"np.linalg.eigh({w.expr(n.args[0])})[1]", PREC_ATOM),
    lambda graph, n, pos, g: graph.apply("eigh_vectors_grad", graph[n].args[0],
                                         expand(graph, g, graph[n].shape)),
    lambda n, args: np.linalg.eigh(args[0])[1],
    lambda n, pos, g, args, out: _eigvecs_grad(args[0], np.broadcast_to(g, out.shape)),
    copies=True, uses=("np.linalg.eigh",), symbol="eigh",
    kink="A is read as symmetric (the gradient is symmetric, as in JAX); differentiable where "
         "the eigenvalues are distinct; each eigenvector's sign is LAPACK's")


def _eigvalsh_grad_lines(w, n, target):
    a, g = w.expr(n.args[0]), w.expr(n.args[1])
    v = w.namer.numbered("v")
    return [f"{v} = np.linalg.eigh({a})[1]",
            f"{target} = {v} * np.expand_dims({g}, -2) @ np.swapaxes({v}, -1, -2)"]


def _eigvecs_grad_lines(w, n, target):
    a, g = w.expr(n.args[0]), w.expr(n.args[1])
    ev, v, eye, f, s = (w.namer.numbered(x) for x in ("ev", "v", "eye", "f", "s"))
    return [f"{ev}, {v} = np.linalg.eigh({a})",
            f"{eye} = np.eye({ev}.shape[-1])",
            f"{f} = 1.0 / (np.expand_dims({ev}, -2) - np.expand_dims({ev}, -1) + {eye}) - {eye}",
            f"{s} = {v} @ ({f} * (np.swapaxes({v}, -1, -2) @ ({g}))) @ np.swapaxes({v}, -1, -2)",
            f"{target} = 0.5 * ({s} + np.swapaxes({s}, -1, -2))"]


# The backwards of eigvalsh and of eigh's eigenvectors, from a second eigh of A.
_structural(
    "eigvalsh_grad", 2, lambda graph, args, attrs: graph.shape(args[0]), None,
    no_second_derivative("eigenvalues"),
    lambda n, args: _eigvalsh_grad(args[0], args[1]), no_second_derivative("eigenvalues"),
    statement=_eigvalsh_grad_lines, copies=True,
    uses=("np.linalg.eigh", "np.expand_dims", "np.swapaxes"), symbol="eigvalsh'")

_structural(
    "eigh_vectors_grad", 2, lambda graph, args, attrs: graph.shape(args[0]), None,
    no_second_derivative("eigenvectors"),
    lambda n, args: _eigvecs_grad(args[0], args[1]), no_second_derivative("eigenvectors"),
    statement=_eigvecs_grad_lines, copies=True,
    uses=("np.linalg.eigh", "np.eye", "np.expand_dims", "np.swapaxes"), symbol="eigh'")


# ------------------------------------------------------------------------------- diagonals
def diagonal_shape(shape, offset, axis1, axis2):
    n1, n2 = shape[axis1], shape[axis2]
    size = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    return tuple(n for i, n in enumerate(shape) if i not in (axis1, axis2)) + (size,)


def _diagonal_vjp(graph, n, pos, g):
    x = graph[n].args[0]
    return graph.apply("embed_diagonal", expand(graph, g, graph[n].shape),
                       attrs=graph[n].attrs + (graph.shape(x),))


def _numeric_embed(g, offset, axis1, axis2, shape):
    out = np.zeros(shape)
    moved = np.moveaxis(out, (axis1, axis2), (-2, -1))
    for k in range(g.shape[-1]):
        moved[..., k + max(-offset, 0), k + max(offset, 0)] = g[..., k]
    return out


# np.diagonal is a read-only view of its argument: the copy makes it a value of its own.
_structural(
    "diagonal", 1,
    lambda graph, args, attrs: diagonal_shape(graph.shape(args[0]), *attrs),
    lambda w, n: (f"np.diagonal({w.expr(n.args[0])}, {n.attrs[0]}, {n.attrs[1]}, "
                  f"{n.attrs[2]}).copy()", PREC_ATOM),
    _diagonal_vjp, lambda n, args: np.diagonal(args[0], *n.attrs).copy(),
    lambda n, pos, g, args, out: _numeric_embed(np.broadcast_to(g, out.shape), *n.attrs,
                                                args[0].shape),
    copies=True, uses=("np.diagonal",))


def _embed_lines(w, n, target):
    offset, axis1, axis2, shape = n.attrs
    size = w.graph.shape(n.args[0])[-1]
    rows = f"np.arange({size})" + (f" + {-offset}" if offset < 0 else "")
    cols = f"np.arange({size})" + (f" + {offset}" if offset > 0 else "")
    index = ", ".join([":"] * (len(shape) - 2) + [rows, cols])
    return [f"{target} = np.zeros({shape})",
            f"np.moveaxis({target}, ({axis1}, {axis2}), (-2, -1))[{index}] = "
            f"{w.expr(n.args[0])}"]


# Zeros with ``g`` on a diagonal: the backward of np.diagonal (and np.diag of a vector).
_structural(
    "embed_diagonal", 1, lambda graph, args, attrs: attrs[3], None,
    lambda graph, n, pos, g: graph.apply("diagonal", expand(graph, g, graph[n].shape),
                                         attrs=graph[n].attrs[:3]),
    lambda n, args: _numeric_embed(np.asarray(args[0]), *n.attrs),
    lambda n, pos, g, args, out: np.diagonal(np.broadcast_to(g, out.shape),
                                             *n.attrs[:3]).copy(),
    statement=_embed_lines, copies=True, makes_float64=True,
    uses=("np.zeros", "np.moveaxis", "np.arange"), symbol="diag")


# ------------------------------------------------------------------------------- einsum
def parse_einsum(subscripts: str) -> tuple[list[str], str]:
    """``"ij,jk->ik"`` (explicit, letters only) -> (["ij", "jk"], "ik")."""
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_shape(graph, args, attrs):
    inputs, output = parse_einsum(attrs[0])
    sizes = {}
    for sub, a in zip(inputs, args):
        for letter, size in zip(sub, graph.shape(a)):
            sizes[letter] = size
    return tuple(sizes[letter] for letter in output)


def _einsum_print(w, n):
    operands = ", ".join(w.expr(a) for a in n.args)
    optimize = ", optimize=True" if len(n.args) > 2 else ""
    return f"np.einsum({n.attrs[0]!r}, {operands}{optimize})", PREC_ATOM


def einsum_vjp_parts(subscripts: str, position: int):
    """The operands (indices into the einsum's, -1 for g) and subscripts of the einsum giving
    operand ``position``'s gradient; and the letters it lacks (summed only in that operand),
    which the gradient is broadcast along."""
    inputs, output = parse_einsum(subscripts)
    others = [(k, sub) for k, sub in enumerate(inputs) if k != position]
    present = set(output).union(*(set(sub) for _, sub in others))
    target = "".join(letter for letter in inputs[position] if letter in present)
    subs = [output] + [sub for _, sub in others]
    return [-1] + [k for k, _ in others], ",".join(subs) + "->" + target, target


def _einsum_vjp(graph, n, pos, g):
    node = graph[n]
    order, subscripts, target = einsum_vjp_parts(node.attrs[0], pos)
    g = expand(graph, g, node.shape)
    operands = [g if k == -1 else node.args[k] for k in order]
    out = graph.apply("einsum", *operands, attrs=(subscripts,))
    sub = parse_einsum(node.attrs[0])[0][pos]
    shape = graph.shape(node.args[pos])
    if target != sub:  # letters summed only here: the gradient is the same along them
        out = graph.apply("reshape", out, attrs=(tuple(
            s if letter in target else 1 for letter, s in zip(sub, shape)),))
        out = expand(graph, out, shape)
    return out


def _numeric_einsum_vjp(n, pos, g, args, out):
    order, subscripts, target = einsum_vjp_parts(n.attrs[0], pos)
    g = np.broadcast_to(g, out.shape)
    result = np.einsum(subscripts, *[g if k == -1 else args[k] for k in order])
    sub = parse_einsum(n.attrs[0])[0][pos]
    shape = args[pos].shape
    result = result.reshape(tuple(s if c in target else 1 for c, s in zip(sub, shape)))
    return np.broadcast_to(result, shape)


_structural(
    "einsum", -1, _einsum_shape, _einsum_print, _einsum_vjp,
    lambda n, args: np.einsum(n.attrs[0], *args), _numeric_einsum_vjp, copies=True,
    uses=("np.einsum",))

