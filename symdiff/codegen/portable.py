"""The array-API spelling of generated code: one function for NumPy, PyTorch, JAX, CuPy, Dask...

With ``symdiff.compile(..., backend="array_api")`` the generated function starts with
``xp = _namespace(inputs...)`` (``array_api_compat.array_namespace`` when that package is
installed, NumPy otherwise) and calls ``xp.exp``, ``xp.sum``... instead of ``np.``. Most ops print
the same text with ``np.`` read as ``xp.``; the ones whose NumPy spelling is not in the array API
standard (methods such as ``.reshape``, ``np.full`` with an array, ``np.add.at``) have their own
printer here. A backward pass the standard cannot express portably (a scatter whose positions may
repeat) is refused with a SymdiffError at compile time rather than run wrongly.
"""

from __future__ import annotations

import re

from ..errors import SymdiffError
from ..ops import OPS, PREC_ATOM, PREC_MUL
from ..ops.core import NP_NAME

NP_SHAPE = re.compile(r"\bnp\.shape\(")
NP = re.compile(r"\bnp\.")
HELPER_NAMES = {"_sum_to": "_xp_sum_to", "_max_mask": "_xp_max_mask",
                "_logsumexp": "_xp_logsumexp"}
HELPER_CALL = re.compile(r"\b(" + "|".join(HELPER_NAMES) + r")\(")


def translate(text: str) -> str:
    """NumPy spelling -> array-API spelling for ops whose functions share their names."""
    text = NP_SHAPE.sub("_shape(", text)
    text = HELPER_CALL.sub(lambda m: HELPER_NAMES[m.group(1)] + "(xp, ", text)
    return NP.sub("xp.", text)


def check(node) -> None:
    """Refuse at compile time what the standard does not promise: negative slice steps."""
    if node.op in ("index", "scatter") and any(
            item[0] == "slice" and item[3] is not None and item[3] < 0 for item in node.attrs[0]):
        raise SymdiffError("backend='array_api' does not take negative slice steps (x[::-1]): "
                           "the array API standard leaves them out; use the NumPy backend")
    check_standard(node)


# NumPy functions an entry may print (its ``uses``) whose spelling the standard does not share:
# np.var's ddof is the standard's correction, np.cumsum its cumulative_sum, np.linalg an optional
# extension, np.diff/np.einsum/np.diagonal absent, and a write through np.moveaxis(t, ...)[...]
# needs a mutable view. An op printing one (or calling a helper without an array-API twin) is
# refused for backend="array_api" at compile time, unless this module prints it.
NON_STANDARD_USES = frozenset({"var", "cumsum", "cumprod", "diff", "einsum", "linalg", "diagonal",
                               "moveaxis"})


def check_standard(node) -> None:
    """Refuse at compile time an op whose NumPy spelling is not the standard's."""
    op = OPS[node.op]
    if node.op in PRINTERS or node.op in STATEMENTS:
        return
    names = {name for text in op.uses for name in NP_NAME.findall(text)}
    if names & NON_STANDARD_USES or op.helpers and not set(op.helpers) <= set(HELPER_NAMES):
        spelled = ", ".join(sorted(op.uses)) or ", ".join(op.helpers)
        raise SymdiffError(f"backend='array_api' cannot compute {node.op} ({spelled}): the "
                           "array API standard has no such function with NumPy's arguments; "
                           "use the NumPy backend")


def helpers(names: set[str]) -> set[str]:
    return {HELPER_NAMES.get(n, n) for n in names} | {"_namespace", "_shape", "_xp_array"}


def _axis(axes) -> str:
    return str(axes[0]) if len(axes) == 1 else str(tuple(axes))


def _transpose(w, n):
    (axes,) = n.attrs
    x = w.expr(n.args[0], PREC_ATOM)
    if len(axes) == 2:
        return f"{x}.T", PREC_ATOM
    return f"xp.permute_dims({w.expr(n.args[0])}, {axes})", PREC_ATOM


def _sum_to(w, n):
    from ..ops.tensor import summed_axes

    (shape,) = n.attrs
    have = w.graph.shape(n.args[0])
    lead, axes = summed_axes(have, shape)
    g = w.expr(n.args[0])
    if lead == 0:
        return f"xp.sum({g}, axis={_axis(axes)}, keepdims=True)", PREC_ATOM
    text = f"xp.sum({g}, axis={_axis(axes)})"
    if tuple(s for i, s in enumerate(have) if i not in axes) != shape:
        text = f"xp.reshape({text}, {shape})"
    return text, PREC_ATOM


def _scatter(w, n, target):
    """A scatter whose positions are distinct (constant slices, or ``s[np.arange(N), y]``) is
    one indexed write (``.at[].set`` on JAX's immutable arrays); one whose positions may repeat
    would need an add-at, which the standard does not have."""
    from ..ops.tensor import _advanced, _distinct_positions, index_text

    spec, shape = n.attrs
    if _advanced(spec) and not _distinct_positions(w.graph, spec, n.args[1:]):
        raise SymdiffError("backend='array_api' cannot scatter into positions that may repeat "
                           "(integer-array indexing other than s[np.arange(N), y]); use the "
                           "NumPy backend for this program")
    index = translate(index_text(w, spec, n.args[1:], expression=True))
    return [f"{target} = _xp_scatter(xp, {w.expr(n.args[0])}, {shape}, ({index},))"]


PRINTERS = {
    "copy": lambda w, n: (f"xp.asarray({w.expr(n.args[0])}, copy=True)", PREC_ATOM),
    "expand": lambda w, n: (f"_xp_expand(xp, {w.expr(n.args[0])}, {n.attrs[0]})", PREC_ATOM),
    "transpose": _transpose,
    "reshape": lambda w, n: (f"xp.reshape({w.expr(n.args[0])}, {n.attrs[0]})", PREC_ATOM),
    "sum_to": _sum_to,
    "outer": lambda w, n: (f"{w.expr(n.args[0], PREC_ATOM)}[:, None] * "
                           f"{w.expr(n.args[1], PREC_ATOM)}[None, :]", PREC_MUL),
}
STATEMENTS = {"scatter": _scatter}
EXTRA_HELPERS = {"expand": "_xp_expand", "scatter": "_xp_scatter"}
