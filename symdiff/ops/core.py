"""The op registry: one entry per operation.

An :class:`Op` says how the operation is printed (NumPy and, where it exists, pure-Python ``math``
spelling), how it is evaluated by the interpreter, how it reads as a SymPy formula and how it is
differentiated. Elementwise ops are differentiated from their SymPy template: the partials come from
``sympy.diff`` once per op and are cached, unless an entry gives them explicitly because the plain
derivative is numerically poor (``tanh' = 1 - y*y`` reads the output ``y``) or because a kink needs a
chosen convention (the max gate routes to the winner, the first argument on ties).

The entries live in ``elementwise.py`` (arithmetic, functions, comparisons) and ``tensor.py``
(matmul, reductions, shapes, indexing). Adding an op touches one place: its entry. Every other
table is derived from the entries: the names the tracer accepts (``spellings``), the verifier's
allow-lists (the names the spellings print), the buffer-reuse tables, the SymPy functions partials
may use, and the op sweep of ``tests/test_ops.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy


# Symbols the templates are written in: the arguments A, B, C and the op's own output Y.
A, B, C, Y = sympy.symbols("a b c y")
ARG_SYMBOLS = (A, B, C)


class Sigmoid(sympy.Function):
    """The logistic function as one symbol, so partials can name it (softplus' = sigmoid)."""

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))


class Sign(sympy.Function):
    """sign(x) with sign(0) = 0, used by abs' so that abs'(0) = 0."""


class Compare(sympy.Function):
    """A 0/1 mask ``a <op> b`` in a partial; the comparison is the first argument's name."""


class Where(sympy.Function):
    """``where(c, a, b)`` in a partial: a select that never mixes in the branch not taken."""


class Trunc(sympy.Function):
    """Rounding toward zero (SymPy has floor and ceiling only)."""


class Copysign(sympy.Function):
    """``copysign(a, b)``: the magnitude of a with the sign of b."""


class IsFinite(sympy.Function):
    """A 0/1 mask: 1 where the argument is finite."""


class IsNan(sympy.Function):
    """A 0/1 mask: 1 where the argument is NaN."""


class IsInf(sympy.Function):
    """A 0/1 mask: 1 where the argument is infinite."""


def _mask(kind: str, x, y):
    return Compare(sympy.Symbol(kind), x, y)


# Python operator precedences, for parenthesizing printed expressions.
PREC_ATOM = 100
PREC_POW = 14
PREC_UNARY = 13
PREC_MUL = 12
PREC_ADD = 11
PREC_COMPARE = 6
PREC_IFELSE = 1


@dataclass(frozen=True)
class Op:
    """One operation of the graph.

    ``numpy``/``math`` are format strings over the printed arguments ``{0}``, ``{1}``...; ``math``
    is None where the op has no pure-Python scalar spelling. ``arg_prec`` is the precedence each
    printed argument needs to go in without parentheses. ``partials`` (SymPy expressions in
    ``a, b, y``) override ``sympy.diff`` of ``template``.
    """

    name: str
    arity: int
    numpy: str
    impl: Callable
    template: Callable | None = None
    prec: int = PREC_ATOM
    arg_prec: tuple[int, ...] = (0, 0, 0)
    math: str | None = None
    partials: tuple | None = None
    kind: str = "elementwise"
    helpers: tuple[str, ...] = ()
    math_helpers: tuple[str, ...] = ()
    symbol: str = ""
    # Structural ops (shapes, reductions, matmul...) say how to infer their shape, how to print
    # themselves with their attributes, and their vector-Jacobian product on graph nodes.
    shape_fn: Callable | None = field(default=None, compare=False)
    printer: Callable | None = field(default=None, compare=False)
    vjp: Callable | None = field(default=None, compare=False)
    # The interpreter's independent numeric forward (node, arg values) and VJP (node, position,
    # upstream, arg values, output value) for structural ops.
    numeric: Callable | None = field(default=None, compare=False)
    numeric_vjp: Callable | None = field(default=None, compare=False)
    # An op printed as several statements (a scatter: zeros, then add.at) gives them here.
    statement: Callable | None = field(default=None, compare=False)
    # Its NumPy spelling may warn about values it handles right (exp overflowing to inf).
    quiet: bool = False
    # How user code calls it directly: qualified names ("numpy.sinh", "math.sinh", "builtin.sinh"
    # for formulas, "method.round" for x.round()), each taking the op's arguments in order.
    spellings: tuple[str, ...] = ()
    # Its array-API spelling where the standard's name differs from NumPy's (np.arcsin: xp.asin).
    xp: str | None = None
    # NumPy / math names its printer emits (the verifier's allow-list reads these and the
    # format strings).
    uses: tuple[str, ...] = ()
    # Buffer reuse (symdiff/inplace.py): ufunc lines computing the op in the buffer {0}
    # (derived for a plain ``np.<ufunc>({0})``); the same starting from a new buffer {0} with
    # the argument {1}; for binary ops (augmented operator with the buffer on the left, ufunc).
    inplace: tuple[str, ...] = ()
    inplace_fresh: tuple[str, ...] = ()
    augmented: tuple[str | None, str | None] | None = None
    commutes: bool = False           # the value is symmetric in the two arguments
    copies: bool = False             # a structural op whose NumPy result is always a new array
    fresh_array: bool = False        # its NumPy result is always a new float array of its shape
    makes_float64: bool = False      # its NumPy spelling makes float64 whatever the inputs
    casts: bool = False              # its dtype is not its arguments' (astype, argsort): buffer reuse
                                     # never writes it, or what is computed from it
    integer: bool = False            # an integer result (argmax): no gradient, never a float buffer
    # For the op table and the op sweep: the convention at kinks, and the inputs it is tested on.
    kink: str = ""
    domain: tuple[float, float] = (-2.0, 2.0)
    # Syntactic sugar: built from other ops at trace time (graph, *args) -> node; never a node.
    lower: Callable | None = field(default=None, compare=False)

    def arg_uses(self, mode: str) -> tuple[int, ...]:
        """How many times each argument appears in the printed spelling (1 for printers)."""
        found = self._arg_uses.get(mode)
        if found is None:  # counted once per spelling: the writer asks once per node
            fmt = self.math if mode == "math" else self.numpy
            if not fmt or self.printer is not None and mode == "numpy":
                found = (1,) * max(self.arity, 0)
            else:
                found = tuple(max(1, fmt.count("{%d}" % i)) for i in range(self.arity))
            self._arg_uses[mode] = found
        return found

    @cached_property
    def _arg_uses(self) -> dict[str, tuple[int, ...]]:
        return {}

    def infer_shape(self, graph, args, attrs):
        return self.shape_fn(graph, args, attrs)

    @cached_property
    def partial_templates(self) -> tuple:
        """The local partial derivatives as SymPy expressions in ``a, b, c, y``, computed once."""
        if self.partials is not None:
            return tuple(sympy.Integer(p) if isinstance(p, int) else p for p in self.partials)
        expr = self.template(*ARG_SYMBOLS[:self.arity])
        return tuple(sympy.diff(expr, s) for s in ARG_SYMBOLS[:self.arity])

    @property
    def gate(self) -> str:
        """The short label of the gate in pictures and explanations."""
        return self.symbol or self.name


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


def spelled(qualified: str) -> Op | None:
    """The op user code calls as ``qualified`` ("numpy.sinh"), if one is spelled so."""
    return SPELLINGS.get(qualified)


SPELLINGS: dict[str, Op] = {}


def index_spellings() -> None:
    """Collect every entry's spellings (called once all entries are registered)."""
    for op in OPS.values():
        for name in op.spellings:
            if SPELLINGS.setdefault(name, op) is not op:
                raise ValueError(f"{name} spells both {SPELLINGS[name].name} and {op.name}")


NP_NAME = re.compile(r"\bnp\.([A-Za-z_][A-Za-z0-9_]*)")
MATH_NAME = re.compile(r"\bmath\.([A-Za-z_][A-Za-z0-9_]*)")


XP_NAME = re.compile(r"\bxp\.([A-Za-z_][A-Za-z0-9_]*)")
LINALG_NAME = re.compile(r"\bnp\.linalg\.([A-Za-z_][A-Za-z0-9_]*)")


def printed_names(module: str) -> frozenset[str]:
    """Every ``np.``, ``math.``, ``xp.`` or ``np.linalg.`` name (``module``) an entry's spellings
    print."""
    pattern = {"np": NP_NAME, "math": MATH_NAME, "xp": XP_NAME, "np.linalg": LINALG_NAME}[module]
    names: set[str] = set()
    for op in OPS.values():
        for text in (op.numpy, op.math, op.xp, *op.inplace, *op.inplace_fresh, *op.uses):
            names.update(pattern.findall(text or ""))
        if op.augmented and op.augmented[1] and module == "np":
            names.add(op.augmented[1])
    return frozenset(names)


def sympy_functions() -> dict:
    """SymPy function classes that partial templates may use, mapped to the ops they stand for:
    every entry whose template is such a class, and the classes partials use for conventions."""
    found = {op.template: op.name for op in OPS.values()
             if isinstance(op.template, sympy.FunctionClass)}
    found.update({Sign: "sign", Sigmoid: "sigmoid", Where: "where"})
    return found


UFUNC_CALL = re.compile(r"np\.([a-z0-9_]+)\(\{0\}\)")


def inplace_lines(op: Op) -> tuple[str, ...]:
    """The lines computing a unary op inside its argument's buffer {0} (empty: it cannot)."""
    if op.inplace or op.arity != 1 or op.kind != "elementwise":
        return op.inplace
    match = UFUNC_CALL.fullmatch(op.numpy)
    ufunc = getattr(np, match.group(1), None) if match else None
    if isinstance(ufunc, np.ufunc) and ufunc.nin == 1 and ufunc.nout == 1:
        return (f"np.{match.group(1)}({{0}}, out={{0}})",)
    return ()


ELEMENTWISE_KINDS = ("elementwise", "compare", "where")


def is_elementwise(op_name: str) -> bool:
    return OPS[op_name].kind in ELEMENTWISE_KINDS


def evaluate_constant(op_name: str, values: list[float]) -> float:
    """Fold an elementwise op over constants with NumPy's IEEE rules (1/0 is inf)."""
    with np.errstate(all="ignore"):
        return float(OPS[op_name].impl(*[np.float64(v) for v in values]))


