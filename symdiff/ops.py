"""The op registry: one entry per operation.

An :class:`Op` says how the operation is printed (NumPy and, where it exists, pure-Python ``math``
spelling), how it is evaluated by the interpreter, how it reads as a SymPy formula and how it is
differentiated. Elementwise ops are differentiated from their SymPy template: the partials come from
``sympy.diff`` once per op and are cached, unless an entry gives them explicitly because the plain
derivative is numerically poor (``tanh' = 1 - y*y`` reads the output ``y``) or because a kink needs a
chosen convention (the max gate routes to the winner, the first argument on ties).

Adding an elementwise op touches one place: its :func:`register` call below. The op sweep in
``tests/test_ops.py`` picks it up from :data:`OPS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy

from .helpers import _sum_to

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

    def arg_uses(self, mode: str) -> tuple[int, ...]:
        """How many times each argument appears in the printed spelling (1 for printers)."""
        fmt = self.math if mode == "math" else self.numpy
        if not fmt or self.printer is not None and mode == "numpy":
            return (1,) * max(self.arity, 0)
        return tuple(max(1, fmt.count("{%d}" % i)) for i in range(self.arity))

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


def _binary(name, symbol, impl, prec, arg_prec, template, partials=None):
    fmt = "{0} " + symbol + " {1}"
    return register(Op(name, 2, fmt, impl, template, prec, arg_prec, math=fmt,
                       partials=partials, symbol=symbol))


def _unary(name, numpy_name, impl, template, partials=None, math_fmt=None, symbol="",
           math_helpers=()):
    return register(Op(name, 1, f"np.{numpy_name}({{0}})", impl, template,
                       math=math_fmt or f"math.{name}({{0}})", partials=partials,
                       symbol=symbol or name, math_helpers=math_helpers))


# ---------------------------------------------------------------- leaves
# Inputs and constants are nodes too; their entries only carry the kind, so any node's op can be
# looked up.
register(Op("input", 0, "", None, kind="leaf", symbol="input"))
register(Op("const", 0, "", None, kind="leaf", symbol="const"))

# ---------------------------------------------------------------- arithmetic
_binary("add", "+", np.add, PREC_ADD, (PREC_ADD, PREC_ADD + 1), lambda a, b: a + b)
_binary("sub", "-", np.subtract, PREC_ADD, (PREC_ADD, PREC_ADD + 1), lambda a, b: a - b)
_binary("mul", "*", np.multiply, PREC_MUL, (PREC_MUL, PREC_MUL + 1), lambda a, b: a * b)
_binary("div", "/", np.divide, PREC_MUL, (PREC_MUL, PREC_MUL + 1), lambda a, b: a / b,
        partials=(1 / B, -Y / B))
# d(a**b)/da is written b*a**(b-1), not SymPy's a**b*b/a, which is 0/0 at a = 0; it is 0 where
# b = 0 (a**0 is constant, even at a = 0). d(a**b)/db = y*log(a) is 0 at a = 0 (0**b is 0 or 1
# for b >= 0), as in JAX; log(1) stands for log(0) there. With a constant b the selects fold away.
_binary("pow", "**", np.power, PREC_POW, (PREC_POW + 1, PREC_UNARY), lambda a, b: a ** b,
        partials=(Where(_mask("eq", B, 0), 0, B * A ** (B - 1)),
                  Y * sympy.log(Where(_mask("eq", A, 0), 1, A))))
register(Op("neg", 1, "-{0}", np.negative, lambda a: -a, PREC_UNARY, (PREC_UNARY,),
            math="-{0}", symbol="-"))

# A 0/1 mask as floats (bool arrays do not subtract).
register(Op("float", 1, "{0} * 1.0", lambda x: np.asarray(x, dtype=float), lambda a: a,
            PREC_MUL, (PREC_MUL,), math="float({0})", partials=(0,), symbol="float"))
register(Op("copy", 1, "np.copy({0})", np.copy, lambda a: a, math="{0}", partials=(1,),
            symbol="copy"))

# ---------------------------------------------------------------- elementary functions
_unary("exp", "exp", np.exp, sympy.exp, partials=(Y,))
_unary("log", "log", np.log, sympy.log)
_unary("sin", "sin", np.sin, sympy.sin)
_unary("cos", "cos", np.cos, sympy.cos)
_unary("tan", "tan", np.tan, sympy.tan)
_unary("tanh", "tanh", np.tanh, sympy.tanh)
_unary("sqrt", "sqrt", np.sqrt, sympy.sqrt, partials=(sympy.Rational(1, 2) / Y,))
_unary("abs", "abs", np.abs, sympy.Abs, partials=(Sign(A),), math_fmt="abs({0})")
_unary("sign", "sign", np.sign, sympy.sign, partials=(0,), math_fmt="_sign({0})",
       math_helpers=("_sign",))


def _sigmoid(x):
    # exp(-logaddexp(0, -x)) never overflows: at x = -1000 it is exp(-1000) = 0.
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


# The NumPy sigmoid is the plain formula: exp(-t) overflows to inf for t < -709, which gives the
# right value 0, so the statement runs with NumPy's overflow warning off (``quiet``). It costs a
# quarter of exp(-logaddexp(0, -t)), and is exact in both tails. On floats, math raises
# OverflowError there and the call falls back to NumPy.
register(Op("sigmoid", 1, "1.0 / (1.0 + np.exp(-{0}))", _sigmoid,
            lambda a: 1 / (1 + sympy.exp(-a)), arg_prec=(PREC_UNARY,),
            math="1.0 / (1.0 + math.exp(-{0}))", prec=PREC_MUL, quiet=True,
            partials=(Y * (1 - Y),), symbol="sigmoid"))
# softplus(t) = max(t, 0) + log1p(exp(-|t|)) never overflows and is half the cost of logaddexp;
# its derivative sigmoid(t) = exp(t - softplus(t)) reuses the output (one exp, no overflow).
register(Op("softplus", 1, "np.maximum({0}, 0.0) + np.log1p(np.exp(-np.abs({0})))",
            lambda x: np.logaddexp(0.0, x), lambda a: sympy.log(1 + sympy.exp(a)),
            prec=PREC_ADD, math="math.log1p(math.exp({0}))",
            partials=(sympy.exp(A - Y),), symbol="softplus"))
# relu'(0) = 0: the mask is a > 0, matching max(0, x) with its tie going to the first argument.
register(Op("relu", 1, "np.maximum({0}, 0.0)", lambda x: np.maximum(x, 0.0),
            lambda a: sympy.Max(0, a), math="max({0}, 0.0)",
            partials=(_mask("gt", A, 0),), symbol="relu"))
# The max gate is a router: the whole gradient goes to the winner, to the first argument on ties.
register(Op("maximum", 2, "np.maximum({0}, {1})", np.maximum, sympy.Max,
            math="max({0}, {1})", partials=(_mask("ge", A, B), _mask("lt", A, B)), symbol="max"))
register(Op("minimum", 2, "np.minimum({0}, {1})", np.minimum, sympy.Min,
            math="min({0}, {1})", partials=(_mask("le", A, B), _mask("gt", A, B)), symbol="min"))

# ---------------------------------------------------------------- comparisons (0/1 masks)
COMPARISONS = {"gt": (">", np.greater, sympy.StrictGreaterThan),
               "ge": (">=", np.greater_equal, sympy.GreaterThan),
               "lt": ("<", np.less, sympy.StrictLessThan),
               "le": ("<=", np.less_equal, sympy.LessThan),
               "eq": ("==", np.equal, sympy.Eq),
               "ne": ("!=", np.not_equal, sympy.Ne)}
for _name, (_sym, _impl, _rel) in COMPARISONS.items():
    register(Op(_name, 2, "{0} " + _sym + " {1}", _impl,
                (lambda rel: lambda a, b: sympy.Piecewise((1, rel(a, b)), (0, True)))(_rel),
                PREC_COMPARE, (PREC_COMPARE + 1, PREC_COMPARE + 1), math="{0} " + _sym + " {1}",
                partials=(0, 0), kind="compare", symbol=_sym))

# where(c, a, b): its VJP is special-cased in adjoint.py so that the branch not taken receives an
# exact zero, even where that branch's own derivative is inf or NaN.
register(Op("where", 3, "np.where({0}, {1}, {2})", np.where,
            lambda c, a, b: sympy.Piecewise((a, sympy.Ne(c, 0)), (b, True)),
            arg_prec=(PREC_IFELSE + 1, PREC_IFELSE + 1, PREC_IFELSE),  # nested ifs need parens
            math="{1} if {0} else {2}", partials=(0, 0, 0), kind="where", symbol="where"))


# In the shape-generic mode an input's gradient is summed back to the input's shape at run time.
register(Op("sum_like", 3, "_sum_to({0}, np.shape({1}), np.shape({2}))",
            lambda g, x, out: _sum_to(g, np.shape(x), np.shape(out)), lambda g, x, out: g,
            math="{0}", kind="structural", helpers=("_sum_to",), symbol="sum_to",
            shape_fn=lambda graph, args, attrs: graph.shape(args[1]),
            numeric=lambda node, args: _sum_to(args[0], np.shape(args[1]), np.shape(args[2])),
            # Differentiated again (Hessians): the summed gradient's adjoint flows back unchanged,
            # standing for its broadcast over the output's shape.
            vjp=lambda graph, node_id, position, g: g if position == 0 else None,
            numeric_vjp=lambda node, position, g, args, out: g if position == 0 else None))
# The upstream gradient of an output when there are several: ones of that output's shape.
register(Op("ones_like", 1, "np.ones_like({0})", np.ones_like, lambda a: 1, math="1.0",
            kind="structural", symbol="ones", shape_fn=lambda graph, args, attrs: graph.shape(args[0]),
            numeric=lambda node, args: np.ones_like(args[0]),
            vjp=lambda graph, node_id, position, g: None,  # a constant: no gradient
            numeric_vjp=lambda node, position, g, args, out: None))

# Names the frontend accepts in calls, mapped to op names (after stripping np./numpy./math.).
FUNCTIONS = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
    "sqrt": "sqrt", "abs": "abs", "fabs": "abs", "absolute": "abs", "sign": "sign",
    "sigmoid": "sigmoid", "expit": "sigmoid", "relu": "relu", "softplus": "softplus",
    "max": "maximum", "min": "minimum", "maximum": "maximum", "minimum": "minimum",
}

ELEMENTWISE_KINDS = ("elementwise", "compare", "where")


def is_elementwise(op_name: str) -> bool:
    return OPS[op_name].kind in ELEMENTWISE_KINDS


def evaluate_constant(op_name: str, values: list[float]) -> float:
    """Fold an elementwise op over constants with NumPy's IEEE rules (1/0 is inf)."""
    with np.errstate(all="ignore"):
        return float(OPS[op_name].impl(*[np.float64(v) for v in values]))


from . import tensor_ops  # noqa: E402,F401  -- registers the structural ops into OPS
