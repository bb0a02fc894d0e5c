"""A corpus of NumPy gradient cases of the scope of HIPS/autograd's NumPy tests (``test_numpy.py``,
``test_linalg.py``, ``test_systematic.py``), written as small programs for symdiff.

    python -m benchmarks.corpus_autograd              # the report: right / refused / wrong / crashed
    python -m benchmarks.corpus_autograd --only sort  # the cases whose name matches
    python -m benchmarks.corpus_autograd --verbose    # one line per case on stderr as it goes

Every case is checked by ``benchmarks/corpus.py``: value against NumPy, gradients against central
differences and (where installed) JAX in float64. Inputs are drawn away from kinks and ties.
"""

from __future__ import annotations

import sys

from .corpus import D, F, I, N, P, SPD, U, W, case, main

C = case

# ============================================================================ elementwise (unary)
UNARY = [
    # name, expression, input
    ("abs", "np.abs(x)", N(3, 2)), ("absolute", "np.absolute(x)", N(4)),
    ("fabs", "np.fabs(x)", N(4)), ("negative", "np.negative(x)", N(3)),
    ("positive", "np.positive(x)", N(3)), ("exp", "np.exp(x)", N(2, 3)),
    ("exp2", "np.exp2(x)", N(3)), ("expm1", "np.expm1(x)", N(3)),
    ("log", "np.log(x)", P(2, 3)), ("log2", "np.log2(x)", P(3)), ("log10", "np.log10(x)", P(3)),
    ("log1p", "np.log1p(x)", P(3)), ("sqrt", "np.sqrt(x)", P(2, 2)), ("cbrt", "np.cbrt(x)", N(4)),
    ("square", "np.square(x)", N(3)), ("reciprocal", "np.reciprocal(x)", P(3)),
    ("sin", "np.sin(x)", N(3)), ("cos", "np.cos(x)", N(3)), ("tan", "np.tan(x)", U(3)),
    ("arcsin", "np.arcsin(x)", U(3)), ("arccos", "np.arccos(x)", U(3)),
    ("arctan", "np.arctan(x)", N(3)), ("sinh", "np.sinh(x)", N(3)), ("cosh", "np.cosh(x)", N(3)),
    ("tanh", "np.tanh(x)", N(2, 3)), ("arcsinh", "np.arcsinh(x)", N(3)),
    ("arccosh", "np.arccosh(x + 1.5)", P(3)), ("arctanh", "np.arctanh(x)", U(3)),
    ("deg2rad", "np.deg2rad(x)", N(3)), ("rad2deg", "np.rad2deg(x)", N(3)),
    ("degrees", "np.degrees(x)", N(3)), ("radians", "np.radians(x)", N(3)),
    ("sinc", "np.sinc(x)", N(3)), ("sign", "np.sign(x) * x", N(3)),
    ("floor", "np.floor(x) + x", N(3)), ("ceil", "np.ceil(x) * x", N(3)),
    ("rint", "np.rint(x) + x", N(3)), ("round", "np.round(x, 2) + x", N(3)),
    ("trunc", "np.trunc(x) + x", N(3)), ("fix", "np.fix(x) + x", N(3)),
    ("real", "np.real(x)", N(3)), ("conj", "np.conj(x) * x", N(3)),
    ("nan_to_num", "np.nan_to_num(x)", N(3)),
    ("logistic", "1.0 / (1.0 + np.exp(-x))", N(3)),
    ("relu", "np.maximum(x, 0.0)", N(4)),
    ("x_pow_3", "x ** 3", N(3)), ("x_pow_half", "x ** 0.5", P(3)),
    ("method_round", "x.round(1) + x", N(3)),
]

# ============================================================================ elementwise (binary)
BINARY = [
    ("add", "np.add(x, y)", N(2, 3), N(3)), ("subtract", "np.subtract(x, y)", N(2, 3), N(2, 1)),
    ("multiply", "np.multiply(x, y)", N(3, 1), N(1, 4)), ("divide", "np.divide(x, y)", N(3), P(3)),
    ("true_divide", "np.true_divide(x, y)", N(2, 3), P(3)),
    ("power", "np.power(x, y)", P(3), N(3)), ("float_power", "np.float_power(x, y)", P(3), N(3)),
    ("pow_op", "x ** y", P(2, 3), N(3)), ("mod", "np.mod(x, y)", N(3), P(3)),
    ("remainder", "np.remainder(x, y)", N(4), P(4)), ("fmod", "np.fmod(x, y)", N(3), P(3)),
    ("mod_op", "x % 0.7", N(4), None), ("floordiv_op", "x // 0.7 + x", N(4), None),
    ("maximum", "np.maximum(x, y)", D(2, 3), D(3)), ("minimum", "np.minimum(x, y)", D(3), D(3)),
    ("fmax", "np.fmax(x, y)", D(3), D(3)), ("fmin", "np.fmin(x, y)", D(3), D(3)),
    ("arctan2", "np.arctan2(x, y)", N(3), P(3)), ("hypot", "np.hypot(x, y)", N(3), N(3)),
    ("logaddexp", "np.logaddexp(x, y)", N(2, 3), N(3)),
    ("logaddexp2", "np.logaddexp2(x, y)", N(3), N(3)),
    ("copysign", "np.copysign(x, y)", N(3), N(3)),
    ("broadcast_3d", "x * y + x / (1.0 + y * y)", N(2, 1, 3), N(4, 1)),
    ("scalar_broadcast", "x * y", N(2, 3), F(1.5)),
    ("float_input", "np.sin(x) * y", F(0.3), F(1.2)),
    ("ldexp", "np.ldexp(x, 2)", N(3), None),
]

# ============================================================================ reductions
REDUCTIONS = [
    ("sum", "np.sum(x)", N(2, 3)), ("sum_axis0", "np.sum(x, axis=0)", N(2, 3)),
    ("sum_axis_neg", "np.sum(x, axis=-1)", N(2, 3, 2)),
    ("sum_axes_tuple", "np.sum(x, axis=(0, 2))", N(2, 3, 2)),
    ("sum_keepdims", "np.sum(x, axis=1, keepdims=True) * x", N(2, 3)),
    ("method_sum", "x.sum(axis=1)", N(3, 2)),
    ("mean", "np.mean(x)", N(2, 3)), ("mean_axis", "np.mean(x, axis=1)", N(2, 3)),
    ("mean_keepdims", "x - np.mean(x, axis=0, keepdims=True)", N(3, 2)),
    ("method_mean", "x.mean(0)", N(3, 2)),
    ("prod", "np.prod(x)", N(2, 3)), ("prod_axis", "np.prod(x, axis=0)", N(3, 2)),
    ("prod_keepdims", "np.prod(x, axis=1, keepdims=True)", N(3, 2)),
    ("var", "np.var(x)", N(2, 3)), ("var_axis", "np.var(x, axis=0)", N(4, 2)),
    ("var_ddof", "np.var(x, axis=1, ddof=1)", N(2, 4)),
    ("std", "np.std(x)", N(2, 3)), ("std_ddof", "np.std(x, ddof=1)", N(5)),
    ("std_axis_keepdims", "np.std(x, axis=0, keepdims=True)", N(4, 2)),
    ("method_var", "x.var(axis=1)", N(2, 3)), ("method_std", "x.std()", N(3)),
    ("max", "np.max(x)", D(2, 3)), ("max_axis", "np.max(x, axis=1)", D(3, 4)),
    ("max_keepdims", "np.max(x, axis=0, keepdims=True)", D(3, 2)),
    ("amax", "np.amax(x, axis=1)", D(2, 3)), ("min", "np.min(x)", D(2, 3)),
    ("min_axis", "np.min(x, axis=0)", D(3, 2)), ("amin", "np.amin(x)", D(4)),
    ("method_max", "x.max(axis=-1)", D(2, 3)),
    ("ptp", "np.ptp(x, axis=1)", D(2, 4)),
    ("cumsum", "np.cumsum(x)", N(2, 3)), ("cumsum_axis0", "np.cumsum(x, axis=0)", N(3, 2)),
    ("cumsum_axis1", "np.cumsum(x, axis=1)", N(2, 3)), ("method_cumsum", "x.cumsum()", N(4)),
    ("cumprod", "np.cumprod(x)", N(4)), ("cumprod_axis", "np.cumprod(x, axis=1)", N(2, 3)),
    ("diff", "np.diff(x)", N(5)), ("diff_axis0", "np.diff(x, axis=0)", N(3, 2)),
    ("diff_n2", "np.diff(x, n=2)", N(5)),
    ("average", "np.average(x)", N(2, 3)),
    ("average_weights", "np.average(x, axis=0, weights=y)", N(3, 2), P(3)),
    ("median", "np.median(x)", D(5)), ("median_axis", "np.median(x, axis=1)", D(2, 4)),
    ("percentile", "np.percentile(x, 30)", D(6)), ("quantile", "np.quantile(x, 0.75, axis=0)", D(5, 2)),
    ("logsumexp_manual", "np.log(np.sum(np.exp(x - np.max(x)))) + np.max(x)", D(4)),
    ("nansum", "np.nansum(x)", N(2, 3)), ("nanmean", "np.nanmean(x, axis=0)", N(2, 3)),
    ("sum_of_squares", "np.sum(x ** 2, axis=0) / np.sum(x)", P(3, 2)),
    ("norm_manual", "np.sqrt(np.sum(x * x))", N(4)),
    ("count_mean", "np.mean(x > 0) * np.sum(x)", N(6)),
]

# ============================================================================ matrix products
MATRIX = [
    ("dot_vv", "np.dot(x, y)", N(3), N(3)), ("dot_mv", "np.dot(x, y)", N(2, 3), N(3)),
    ("dot_vm", "np.dot(x, y)", N(3), N(3, 2)), ("dot_mm", "np.dot(x, y)", N(2, 3), N(3, 4)),
    ("dot_3d", "np.dot(x, y)", N(2, 3), N(2, 3, 4)), ("dot_float", "np.dot(x, 2.0)", N(3), None),
    ("method_dot", "x.dot(y)", N(2, 3), N(3)),
    ("matmul_op", "x @ y", N(2, 3), N(3, 2)), ("matmul_batch", "np.matmul(x, y)", N(2, 2, 3), N(2, 3, 2)),
    ("matmul_broadcast", "x @ y", N(2, 2, 3), N(3, 4)), ("matmul_vec", "x @ y", N(2, 4, 3), N(3)),
    ("inner", "np.inner(x, y)", N(2, 3), N(4, 3)), ("outer", "np.outer(x, y)", N(3), N(2)),
    ("vdot", "np.vdot(x, y)", N(2, 3), N(2, 3)), ("kron", "np.kron(x, y)", N(2, 2), N(2, 3)),
    ("tensordot_int", "np.tensordot(x, y, 1)", N(2, 3), N(3, 2)),
    ("tensordot_axes", "np.tensordot(x, y, axes=([0, 2], [1, 0]))", N(2, 3, 4), N(4, 2, 3)),
    ("tensordot_0", "np.tensordot(x, y, axes=0)", N(2), N(3)),
    ("einsum_ij_jk", "np.einsum('ij,jk->ik', x, y)", N(2, 3), N(3, 2)),
    ("einsum_trace", "np.einsum('ii', x)", N(3, 3), None),
    ("einsum_batch", "np.einsum('bij,bjk->bik', x, y)", N(2, 2, 3), N(2, 3, 2)),
    ("einsum_implicit", "np.einsum('ij,ij', x, y)", N(2, 3), N(2, 3)),
    ("einsum_ellipsis", "np.einsum('...i,...i->...', x, y)", N(2, 3), N(2, 3)),
    ("einsum_outer", "np.einsum('i,j->ij', x, y)", N(3), N(2)),
    ("trace", "np.trace(x)", N(3, 3)), ("trace_offset", "np.trace(x, offset=1)", N(3, 3)),
    ("method_trace", "x.trace()", N(2, 2)),
    ("diag_of_matrix", "np.diag(x)", N(3, 3)), ("diag_of_vector", "np.diag(x)", N(3)),
    ("diag_k", "np.diag(x, k=1)", N(3, 3)), ("diagonal", "np.diagonal(x)", N(2, 3)),
    ("diagonal_3d", "np.diagonal(x, axis1=1, axis2=2)", N(2, 3, 3)),
    ("diagflat", "np.diagflat(x)", N(3)),
    ("triu", "np.triu(x)", N(3, 3)), ("tril_k", "np.tril(x, k=-1)", N(3, 4)),
    ("cross", "np.cross(x, y)", N(3), N(3)), ("cross_batch", "np.cross(x, y)", N(2, 3), N(2, 3)),
    ("quadratic_form", "x @ y @ x", N(3), N(3, 3)),
    ("matrix_power", "np.linalg.matrix_power(x, 3)", N(2, 2), None),
]

# ============================================================================ linear algebra
LINALG = [
    ("inv", "np.linalg.inv(x)", W(3, 3)), ("inv_batch", "np.linalg.inv(x)", W(2, 3, 3)),
    ("det", "np.linalg.det(x)", W(3, 3)), ("det_batch", "np.linalg.det(x)", W(2, 2, 2)),
    ("slogdet", "np.linalg.slogdet(x)[1]", W(3, 3)),
    ("slogdet_tuple", "def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n    return sign * logdet\n",
     W(3, 3)),
    ("solve_vec", "np.linalg.solve(x, y)", W(3, 3), N(3)),
    ("solve_mat", "np.linalg.solve(x, y)", W(3, 3), N(3, 2)),
    # NumPy reads the lower triangle; symdiff (as JAX, PyTorch, autograd) reads A as symmetric:
    # the input is symmetrized, as autograd's own test does.
    ("cholesky", "np.linalg.cholesky(0.5 * (x + x.T))", SPD(3, 3)),
    ("pinv", "np.linalg.pinv(x)", N(3, 2)),
    ("norm", "np.linalg.norm(x)", N(4)), ("norm_fro", "np.linalg.norm(x, 'fro')", N(2, 3)),
    ("norm_ord1", "np.linalg.norm(x, 1)", N(4)), ("norm_inf", "np.linalg.norm(x, np.inf)", D(4)),
    ("norm_ord3", "np.linalg.norm(x, ord=3)", N(4)),
    ("norm_axis", "np.linalg.norm(x, axis=1)", N(3, 2)),
    ("norm_keepdims", "x / np.linalg.norm(x, axis=0, keepdims=True)", N(3, 2)),
    ("norm_nuc", "np.linalg.norm(x, 'nuc')", N(3, 2)), ("norm_2_matrix", "np.linalg.norm(x, 2)", N(3, 2)),
    ("svd_s", "np.linalg.svd(x, compute_uv=False)", N(3, 2)),
    ("eigh_values", "np.linalg.eigh(x)[0]", SPD(3, 3)),
    ("eigvalsh", "np.linalg.eigvalsh(x)", SPD(3, 3)),
    ("qr_r", "np.linalg.qr(x)[1]", N(3, 2)),
    ("inv_solve_mix", "np.sum(np.linalg.inv(x) @ y) + np.linalg.det(x)", W(2, 2), N(2, 2)),
    ("gaussian_logpdf",
     "def f(x, y):\n    L = np.linalg.cholesky(0.5 * (y + y.T))\n    z = np.linalg.solve(L, x)\n"
     "    return -0.5 * np.dot(z, z) - np.sum(np.log(np.diag(L)))\n", N(3), SPD(3, 3)),
]

# ============================================================================ shapes
SHAPES = [
    ("reshape", "np.reshape(x, (3, 2))", N(2, 3)), ("reshape_minus1", "x.reshape(-1, 2)", N(2, 3)),
    ("method_reshape_args", "x.reshape(3, 2)", N(6)),
    ("ravel", "np.ravel(x)", N(2, 3)), ("flatten", "x.flatten()", N(2, 3)),
    ("transpose", "np.transpose(x)", N(2, 3)), ("transpose_axes", "np.transpose(x, (1, 2, 0))", N(2, 3, 4)),
    ("dot_T", "x.T", N(2, 3)), ("method_transpose", "x.transpose(1, 0)", N(2, 3)),
    ("swapaxes", "np.swapaxes(x, 0, 2)", N(2, 3, 2)), ("moveaxis", "np.moveaxis(x, 0, -1)", N(2, 3, 2)),
    ("rollaxis", "np.rollaxis(x, 2)", N(2, 3, 2)),
    ("squeeze", "np.squeeze(x)", N(1, 3, 1)), ("squeeze_axis", "np.squeeze(x, axis=0)", N(1, 3)),
    ("expand_dims", "np.expand_dims(x, 1)", N(3)), ("newaxis", "x[:, np.newaxis] * x", N(3)),
    ("none_index", "x[None, :] + x[:, None]", N(3)),
    ("broadcast_to", "np.broadcast_to(x, (2, 3))", N(3)),
    ("atleast_1d", "np.atleast_1d(x)", F(0.5)), ("atleast_2d", "np.atleast_2d(x)", N(3)),
    ("atleast_3d", "np.atleast_3d(x)", N(2, 3)),
    ("concatenate", "np.concatenate([x, y])", N(2), N(3)),
    ("concatenate_axis1", "np.concatenate((x, y), axis=1)", N(2, 2), N(2, 3)),
    ("concatenate_none", "np.concatenate([x, y], axis=None)", N(2, 2), N(3)),
    ("stack", "np.stack([x, y])", N(3), N(3)), ("stack_axis1", "np.stack((x, y), axis=1)", N(2, 2), N(2, 2)),
    ("hstack", "np.hstack([x, y])", N(2), N(3)), ("vstack", "np.vstack([x, y])", N(3), N(2, 3)),
    ("column_stack", "np.column_stack([x, y])", N(3), N(3)),
    ("dstack", "np.dstack([x, y])", N(2, 2), N(2, 2)),
    ("split", "np.split(x, 3)[1]", N(6)), ("split_axis", "np.split(x, [1], axis=1)[1]", N(2, 3)),
    ("array_split", "np.array_split(x, 2)[0]", N(5)),
    ("hsplit", "np.hsplit(x, 2)[0] * np.hsplit(x, 2)[1]", N(2, 4)),
    ("vsplit", "np.vsplit(x, 2)[1]", N(4, 2)),
    ("flip", "np.flip(x)", N(2, 3)), ("flip_axis", "np.flip(x, axis=1)", N(2, 3)),
    ("fliplr", "np.fliplr(x)", N(2, 3)), ("flipud", "np.flipud(x)", N(2, 3)),
    ("rot90", "np.rot90(x)", N(2, 3)), ("rot90_k2", "np.rot90(x, 2)", N(2, 3)),
    ("roll", "np.roll(x, 1)", N(5)), ("roll_axis", "np.roll(x, -1, axis=1)", N(2, 3)),
    ("roll_no_axis_2d", "np.roll(x, 2)", N(2, 3)),
    ("repeat", "np.repeat(x, 2)", N(3)), ("repeat_axis", "np.repeat(x, 2, axis=0)", N(2, 2)),
    ("repeat_counts", "np.repeat(x, [1, 2, 0], axis=0)", N(3, 2)),
    ("tile", "np.tile(x, 2)", N(3)), ("tile_2d", "np.tile(x, (2, 1))", N(2, 2)),
    ("pad", "np.pad(x, 1)", N(3)), ("pad_tuple", "np.pad(x, ((1, 0), (0, 2)))", N(2, 2)),
    ("pad_constant", "np.pad(x, (2, 1), constant_values=1.5)", N(3)),
    ("pad_edge", "np.pad(x, 1, mode='edge')", N(3)),
    ("astype", "x.astype(np.float32).astype(np.float64) * 0.0 + x", N(3)),
    ("array_of_values", "np.array([x, y, x * y])", F(0.5), F(2.0)),
    ("array_of_arrays", "np.array([x, 2 * x])", N(3), None),
    ("append", "np.append(x, y)", N(2), N(3)),
    ("copy", "np.copy(x) * 2", N(3)),
]

# ============================================================================ indexing
INDEXING = [
    ("index_int", "x[1]", N(3, 2)), ("index_neg", "x[-1]", N(4)), ("index_2d", "x[1, 0]", N(3, 2)),
    ("slice", "x[1:3]", N(4)), ("slice_step", "x[::2]", N(5)), ("slice_reverse", "x[::-1]", N(4)),
    ("slice_2d", "x[:, 1:]", N(2, 3)), ("slice_3d", "x[1:, :, ::2]", N(2, 3, 4)),
    ("ellipsis", "x[..., 0]", N(2, 3, 2)),
    ("list_index", "x[[0, 2]]", N(3)), ("list_repeat", "x[[0, 0, 2]]", N(3)),
    ("array_index", "x[np.array([2, 0])]", N(3, 2)),
    ("two_lists", "x[[0, 1], [1, 2]]", N(2, 3)), ("mixed_slice_list", "x[1:, [0, 2]]", N(3, 3)),
    ("int_array_input", "x[y]", N(4), I(0, 4, 5)),
    ("int_array_2d", "x[np.arange(3), y]", N(3, 4), I(0, 4, 3)),
    ("bool_mask_sum", "np.sum(x[x > 0])", N(6)),
    ("bool_mask_const", "np.sum(x[np.array([True, False, True])])", N(3)),
    ("index_dot_slices", "np.dot(x[0], x[1])", N(2, 3)),
    ("argmax_index", "x[np.argmax(x)]", D(5)),
    ("argmax_axis_gather", "x[np.arange(2), np.argmax(x, axis=1)]", D(2, 3)),
    ("argsort_index", "x[np.argsort(x)]", D(5)),
    ("argsort_method", "x[x.argsort()[::-1]]", D(4)),
    ("take", "np.take(x, [0, 2])", N(3)), ("take_axis", "np.take(x, [1, 0, 1], axis=1)", N(2, 2)),
    ("method_take", "x.take([2, 1])", N(4)),
    ("take_along_axis", "np.take_along_axis(x, np.argsort(x, axis=1), axis=1)", D(2, 3)),
    ("nonzero_index", "x[np.nonzero(y > 0)]", N(5), I(-2, 3, 5)),
    ("where_one_arg", "x[np.where(y > 0)[0]]", N(5), I(-2, 3, 5)),
    ("searchsorted_const", "x[np.searchsorted(np.array([0.0, 1.0, 2.0]), 1.5)]", N(4)),
    ("unravel_index", "x[np.unravel_index(3, (2, 3))]", N(2, 3)),
]

# ============================================================================ selection and sorting
SELECT = [
    ("where", "np.where(x > 0, x, 0.1 * x)", N(5)), ("where_two", "np.where(x > y, x * y, y)", D(3), D(3)),
    ("where_broadcast", "np.where(x > 0.0, y, 2.0 * y)", N(3), N(2, 3)),
    ("where_scalar_branch", "np.where(x > 0, np.sqrt(np.abs(x)), 0.0)", N(4)),
    ("clip", "np.clip(x, -0.5, 0.5)", N(6)), ("method_clip", "x.clip(0.0, 1.0)", N(4)),
    ("clip_none", "np.clip(x, None, 0.3)", N(4)),
    ("select", "np.select([x < -0.5, x > 0.5], [x ** 2, x * 3.0], default=x)", N(6)),
    ("sort", "np.sort(x)", D(5)), ("sort_axis0", "np.sort(x, axis=0)", D(3, 2)),
    ("sort_method", "def f(x):\n    y = x.copy()\n    y.sort()\n    return y * np.arange(4.0)\n", D(4)),
    ("sort_none", "np.sort(x, axis=None)", D(2, 3)),
    ("partition", "np.partition(x, 2)[2]", D(5)),
    ("abs_max", "np.max(np.abs(x))", D(5)),
    ("max_of_stack", "np.max(np.stack([x, y]), axis=0)", D(3), D(3)),
    ("logical_mask", "x * np.logical_and(x > -1.0, x < 1.0)", N(5)),
    ("heaviside", "np.heaviside(x, 0.5) * x", N(4)),
]

# ============================================================================ constructors
CONSTRUCT = [
    ("zeros_plus", "np.zeros((2, 3)) + x", N(3)), ("ones_like", "np.ones_like(x) * x", N(3)),
    ("zeros_like_shape", "np.zeros_like(x) + x ** 2", N(2, 2)),
    ("full", "np.full((2, 3), 2.0) * x", N(3)), ("full_like", "np.full_like(x, 3.0) - x", N(3)),
    ("eye", "np.eye(3) @ x", N(3, 2)), ("identity", "np.identity(2) * x", N(2, 2)),
    ("eye_k", "np.eye(3, k=1) * x", N(3, 3)),
    ("arange", "np.arange(3) * x", N(3)), ("arange_float", "np.arange(0.0, 1.0, 0.25) * x", N(4)),
    ("linspace", "np.linspace(0, 1, 5) * x", N(5)),
    ("linspace_endpoint", "np.linspace(0, 1, 4, endpoint=False) * x", N(4)),
    ("meshgrid", "def f(x):\n    a, b = np.meshgrid(np.arange(3.0), np.arange(2.0))\n    return a * x + b\n",
     N(2, 3)),
    ("tri", "np.tri(3) * x", N(3, 3)),
    ("outer_ones", "np.outer(np.ones(2), x)", N(3)),
    ("array_const", "np.array([[1.0, 2.0], [3.0, 4.0]]) @ x", N(2)),
    ("empty_fill", "def f(x):\n    y = np.zeros(4)\n    y[1:3] = x\n    return y * y\n", N(2)),
]

# ============================================================================ composites
COMPOSITE = [
    ("softmax", "def f(x):\n    e = np.exp(x - np.max(x, axis=1, keepdims=True))\n"
                "    return e / np.sum(e, axis=1, keepdims=True)\n", N(2, 3)),
    ("log_softmax", "x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))", N(2, 3)),
    ("mlp", "def f(x, y):\n    h = np.tanh(x @ y)\n    return np.sum(h ** 2)\n", N(2, 3), N(3, 2)),
    ("cosine", "np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))", N(3), N(3)),
    ("layernorm", "(x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)",
     N(2, 4)),
    ("rbf_kernel", "np.exp(-np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1))", N(3, 2), N(2, 2)),
    ("pairwise_sq", "np.sum(x ** 2, 1)[:, None] + np.sum(y ** 2, 1)[None, :] - 2 * x @ y.T",
     N(3, 2), N(2, 2)),
    ("rosenbrock", "np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)", N(5)),
    ("polyval_manual", "x[0] + x[1] * y + x[2] * y ** 2", N(3), N(4)),
    ("loop_sum", "def f(x):\n    s = 0.0\n    for i in range(3):\n        s = s + np.sin(x[i]) * i\n"
                 "    return s\n", N(3)),
    ("tuple_out", "def f(x):\n    return np.sum(x), x * 2\n", N(3)),
    ("fanout_array", "np.array([x, x, x]).sum(0)", N(2)),
    ("len_shape", "x * len(x) + x.shape[0] * x.size", N(3)),
    ("ndim", "x * x.ndim", N(2, 2)),
    ("convolve", "np.convolve(x, y)", N(4), N(3)),
    ("correlate_valid", "np.correlate(x, y, mode='valid')", N(5), N(3)),
    ("polyval", "np.polyval(x, y)", N(3), N(2)),
    ("trapz", "np.trapezoid(x)", N(5)),
    ("interp_weights", "np.sum(np.interp(np.array([0.5, 1.5]), np.arange(3.0), x))", N(3)),
    ("cov", "np.cov(x)", N(2, 4)), ("corrcoef", "np.corrcoef(x)[0, 1]", N(2, 4)),
    ("outer_sub", "np.subtract.outer(x, y)", N(3), N(2)),
    ("add_reduce", "np.add.reduce(x, axis=0)", N(2, 3)),
    ("maximum_accumulate", "np.maximum.accumulate(x)", D(4)),
    ("cumsum_reverse", "np.cumsum(x[::-1])[::-1]", N(4)),
    ("gradient", "np.gradient(x)", N(5)),
    ("sum_builtin", "sum(x) * max(x[0], x[1])", D(3)),
]

# ============================================================================ edges (axes, zeros, kinks)
EDGES = [
    ("prod_with_zero", "np.prod(x * np.array([1.0, 0.0, 1.0]))", N(3)),
    ("prod_two_zeros", "np.prod(x * np.array([0.0, 1.0, 0.0, 1.0]), axis=0)", N(4)),
    ("cumprod_zero", "np.cumprod(x * np.array([1.0, 0.0, 1.0, 1.0]))", N(4)),
    ("pow_zero_base", "(x * 0.0) ** y", P(3), P(3)),
    ("pow_int_exponent_neg_base", "x ** 2.0 + x ** 3", N(4)),
    ("var_axes_tuple", "np.var(x, axis=(0, 2), ddof=1)", N(2, 3, 2)),
    ("std_neg_axis_keepdims", "np.std(x, axis=-2, keepdims=True)", N(3, 2)),
    ("mean_axes_tuple_keepdims", "np.mean(x, axis=(-1, 0), keepdims=True) * x", N(2, 3, 2)),
    ("max_axes_tuple", "np.max(x, axis=(0, 1))", D(2, 3, 2)),
    ("min_neg_axis_keepdims", "x - np.min(x, axis=-1, keepdims=True)", D(2, 3)),
    ("cumsum_neg_axis", "np.cumsum(x, axis=-2)", N(3, 2)),
    ("diff_prepend", "np.diff(x, prepend=0.0)", N(4)),
    ("diff_append_axis", "np.diff(x, axis=0, append=x[:1])", N(3, 2)),
    ("median_even", "np.median(x, axis=0)", D(4, 3)),
    ("percentile_list", "np.percentile(x, [10, 90], axis=1)", D(2, 5)),
    ("sort_neg_axis", "np.sort(x, axis=-1) * np.arange(3.0)", D(2, 3)),
    ("repeat_neg_axis", "np.repeat(x, 3, axis=-1)", N(2, 2)),
    ("slice_neg_step_2d", "x[::-1, 1:] * x[:, :2]", N(3, 3)),
    ("index_negative_list", "x[[-1, 0, -1]]", N(4)),
    ("index_bool_and_slice", "np.sum(x[x > 0.2] ** 2)", N(3, 3)),
    ("index_newaxis_ellipsis", "x[..., None] * x[None, ...]", N(2)),
    ("where_cond_from_other", "np.where(y > 0, np.exp(x), -x)", N(2, 3), N(3)),
    ("norm_ord_minus1", "np.linalg.norm(x, -1)", P(4)),
    ("norm_ord_neg_inf", "np.linalg.norm(x, -np.inf)", D(4)),
    ("norm_matrix_ord1", "np.linalg.norm(x, 1)", D(3, 3)),
    ("norm_matrix_inf", "np.linalg.norm(x, np.inf)", D(3, 3)),
    ("norm_axis_tuple", "np.linalg.norm(x, axis=(1, 2))", N(2, 2, 3)),
    ("dot_1d_scalar_out", "np.dot(x, x) * x", N(3)),
    ("matmul_1d_1d", "x @ y", N(4), N(4)),
    ("matmul_vec_mat", "x @ y", N(3), N(2, 3, 2)),
    ("tensordot_scalar_axes", "np.tensordot(x, y, 2)", N(2, 3), N(2, 3)),
    ("einsum_diag_out", "np.einsum('ii->i', x)", N(3, 3)),
    ("einsum_three", "np.einsum('i,ij,j->', x, y, x)", N(3), N(3, 3)),
    ("transpose_neg_axes", "np.transpose(x, (-1, 0, 1))", N(2, 3, 2)),
    ("expand_dims_tuple", "np.expand_dims(x, (0, 2))", N(3)),
    ("squeeze_neg", "np.squeeze(x, axis=-1)", N(3, 1)),
    ("concatenate_neg_axis", "np.concatenate([x, y], axis=-1)", N(2, 1), N(2, 2)),
    ("stack_neg_axis", "np.stack([x, y], axis=-1)", N(2, 2), N(2, 2)),
    ("split_sections", "np.split(x, [1, 3])[2] * 2 + np.split(x, [1, 3])[0]", N(5)),
    ("reshape_order_F", "np.reshape(x, (3, 2), order='F')", N(2, 3)),
    ("ravel_order_F", "np.ravel(x, order='F')", N(2, 3)),
    ("clip_arrays", "np.clip(x, y, y + 1.0)", N(5), N(5)),
    ("maximum_scalar_left", "np.maximum(0.5, x)", N(5)),
    ("abs_of_product", "np.abs(x * y)", N(3), N(3)),
    ("sum_where_kw", "np.sum(x, where=np.array([True, False, True]))", N(3)),
    ("sum_initial", "np.sum(x, initial=2.0)", N(3)),
    ("mean_dtype", "np.mean(x, dtype=np.float64)", N(3)),
    ("astype_float32_roundtrip", "x.astype(np.float64) * 2", N(3)),
    ("average_returned", "np.average(x, weights=y, returned=True)[0]", N(3), P(3)),
    ("trace_3d", "np.trace(x, axis1=1, axis2=2)", N(2, 2, 2)),
    ("outer_2d", "np.outer(x, y)", N(2, 2), N(3)),
    ("inner_scalar", "np.inner(x, 2.0)", N(3)),
    ("kron_vec", "np.kron(x, y)", N(2), N(3)),
    ("solve_batch", "np.linalg.solve(x, y)", W(2, 3, 3), N(2, 3, 1)),
    ("det_of_product", "np.linalg.det(x @ x.T + np.eye(2))", N(2, 3)),
    ("inv_of_sym", "np.sum(np.linalg.inv(x) * y)", SPD(3, 3), N(3, 3)),
]


def cases():
    out = []
    for name, expr, spec in UNARY:
        out.append(C(f"unary_{name}", expr, "elementwise", x=spec))
    for name, expr, a, b in BINARY:
        out.append(C(f"binary_{name}", expr, "binary", **_inputs(a, b)))
    for group, table in (("reduce", REDUCTIONS), ("matrix", MATRIX), ("linalg", LINALG),
                         ("shape", SHAPES), ("index", INDEXING), ("select", SELECT),
                         ("construct", CONSTRUCT), ("composite", COMPOSITE), ("edge", EDGES)):
        for name, expr, *specs in table:
            out.append(C(f"{group}_{name}", expr, group, **_inputs(*specs)))
    return out


def _inputs(*specs):
    return {n: s for n, s in zip(("x", "y", "z"), specs) if s is not None}


CASES = cases()

if __name__ == "__main__":
    sys.exit(main(CASES, "python -m benchmarks.corpus_autograd"))
