"""The op registry: every operation symdiff knows is one entry of :data:`OPS`.

``core`` defines the entry (:class:`Op`) and the tables derived from all entries; ``elementwise``
and ``tensor`` hold the entries themselves.
"""

from .core import (A, ARG_SYMBOLS, B, C, ELEMENTWISE_KINDS, OPS, PREC_ADD, PREC_ATOM, PREC_COMPARE,
                   PREC_IFELSE, PREC_MUL, PREC_POW, PREC_UNARY, SPELLINGS, Y, Compare, Op, Sigmoid,
                   Sign, Where, evaluate_constant, index_spellings, inplace_lines, is_elementwise,
                   printed_names, register, spelled, sympy_functions)
from . import elementwise  # noqa: F401  -- registers the elementwise entries
from . import tensor  # noqa: F401  -- registers the structural entries
from . import shape  # noqa: F401  -- registers the shape entries and constant arrays
from . import reductions  # noqa: F401  -- var, prod, cumsum, cumprod, diff, argmax, argmin
from . import linalg  # noqa: F401  -- inv, det, solve, cholesky, einsum, diagonals...
from . import loops  # noqa: F401  -- rolled loops (symdiff/frontend/rolled.py)

index_spellings()

__all__ = ["A", "ARG_SYMBOLS", "B", "C", "ELEMENTWISE_KINDS", "OPS", "PREC_ADD", "PREC_ATOM",
           "PREC_COMPARE", "PREC_IFELSE", "PREC_MUL", "PREC_POW", "PREC_UNARY", "SPELLINGS", "Y",
           "Compare", "Op", "Sigmoid", "Sign", "Where", "evaluate_constant", "inplace_lines",
           "is_elementwise", "printed_names", "register", "spelled", "sympy_functions"]
