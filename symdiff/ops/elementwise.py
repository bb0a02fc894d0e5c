"""Elementwise entries: arithmetic, functions, comparisons, ``where``.

Each entry is one :func:`unary` / :func:`binary` / :func:`register` call. Its partials come from
``sympy.diff`` of its template unless the entry gives them, with the reason beside it: a form that
reads the output (``exp' = y``), one that stays finite where the plain derivative is 0/0 or
inf * 0, or a convention at a kink. Ops whose value is piecewise constant (floor, round...) have
zero partials: their derivative is zero wherever it exists.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..runtime import _sum_to
from .core import (A, B, PREC_ADD, PREC_COMPARE, PREC_IFELSE, PREC_MUL, PREC_POW, PREC_UNARY, Y,
                   Compare, Copysign, IsFinite, IsInf, IsNan, Op, Sign, Trunc, Where, register)

PI = sympy.pi


def _mask(kind: str, x, y):
    return Compare(sympy.Symbol(kind), x, y)


def _function(name: str, arity: int, template, numpy: str | None, impl, math_fmt: str | None,
              partials, spellings: tuple[str, ...], formula: bool, methods: tuple[str, ...],
              **kw) -> Op:
    """An elementwise function spelled ``np.<name>(...)`` unless told otherwise.

    ``math_fmt`` defaults to ``math.<name>`` where the math module has it (None: no scalar
    spelling, the float path then runs NumPy); ``formula`` also accepts the bare name, as
    formulas write it (``sinh(x)``); ``methods`` are array methods (``x.round()``)."""
    args = ", ".join(f"{{{k}}}" for k in range(arity))
    numpy = numpy or f"np.{name}({args})"
    if math_fmt == "":
        math_fmt = f"math.{name}({args})" if hasattr(math, name) else None
    names = {f"numpy.{name}", *spellings, *(f"method.{m}" for m in methods)}
    if formula:
        names.add(f"builtin.{name}")
    if math_fmt and math_fmt.startswith(f"math.{name}("):
        names.add(f"math.{name}")
    return register(Op(name, arity, numpy, impl or getattr(np, name), template, math=math_fmt,
                       partials=partials, spellings=tuple(sorted(names)),
                       symbol=kw.pop("symbol", name), **kw))


def unary(name: str, template, *, numpy: str | None = None, impl=None, math_fmt: str | None = "",
          partials=None, spellings: tuple[str, ...] = (), formula: bool = False,
          methods: tuple[str, ...] = (), **kw) -> Op:
    """An elementwise function of one argument (see :func:`_function`)."""
    return _function(name, 1, template, numpy, impl, math_fmt, partials, spellings, formula,
                     methods, **kw)


def binary(name: str, template, *, numpy: str | None = None, impl=None, math_fmt: str | None = "",
           partials=None, spellings: tuple[str, ...] = (), formula: bool = False, **kw) -> Op:
    """An elementwise function of two arguments (see :func:`_function`)."""
    return _function(name, 2, template, numpy, impl, math_fmt, partials, spellings, formula, (),
                     **kw)


def operator(name, symbol, impl, prec, arg_prec, template, partials=None, **kw) -> Op:
    """An arithmetic operator, printed as Python writes it (``a + b``)."""
    fmt = "{0} " + symbol + " {1}"
    return register(Op(name, 2, fmt, impl, template, prec, arg_prec, math=fmt, partials=partials,
                       symbol=symbol, **kw))


# ---------------------------------------------------------------- leaves
# Inputs and constants are nodes too; their entries only carry the kind, so any node's op can be
# looked up.
register(Op("input", 0, "", None, kind="leaf", symbol="input"))
register(Op("const", 0, "", None, kind="leaf", symbol="const"))

# ---------------------------------------------------------------- arithmetic
operator("add", "+", np.add, PREC_ADD, (PREC_ADD, PREC_ADD + 1), lambda a, b: a + b,
         spellings=("numpy.add",), augmented=("+=", "add"), commutes=True)
operator("sub", "-", np.subtract, PREC_ADD, (PREC_ADD, PREC_ADD + 1), lambda a, b: a - b,
         spellings=("numpy.subtract",), augmented=("-=", "subtract"))
operator("mul", "*", np.multiply, PREC_MUL, (PREC_MUL, PREC_MUL + 1), lambda a, b: a * b,
         spellings=("numpy.multiply",), augmented=("*=", "multiply"), commutes=True)
operator("div", "/", np.divide, PREC_MUL, (PREC_MUL, PREC_MUL + 1), lambda a, b: a / b,
         partials=(1 / B, -Y / B), spellings=("numpy.divide", "numpy.true_divide"),
         augmented=("/=", "divide"), domain=(0.5, 2.0))
# d(a**b)/da is written b*a**(b-1), not SymPy's a**b*b/a, which is 0/0 at a = 0; it is 0 where
# b = 0 (a**0 is constant, even at a = 0). d(a**b)/db = y*log(a) is 0 at a = 0 (0**b is 0 or 1
# for b >= 0), as in JAX; log(1) stands for log(0) there. With a constant b the selects fold away.
operator("pow", "**", np.power, PREC_POW, (PREC_POW + 1, PREC_UNARY), lambda a, b: a ** b,
         partials=(Where(_mask("eq", B, 0), 0, B * A ** (B - 1)),
                   Y * sympy.log(Where(_mask("eq", A, 0), 1, A))),
         spellings=("numpy.power", "numpy.float_power", "builtin.pow", "math.pow"),
         augmented=("**=", None), domain=(0.5, 2.0),
         kink="d/dx x**y = 0 where y = 0; d/dy x**y = 0 where x = 0 (0**0 = 1)")
# Python's % and NumPy's mod both take the sign of the divisor: a - floor(a/b)*b.
operator("mod", "%", np.mod, PREC_MUL, (PREC_MUL, PREC_MUL + 1),
         lambda a, b: a - sympy.floor(a / b) * b, partials=(1, -sympy.floor(A / B)),
         spellings=("numpy.mod", "numpy.remainder"), domain=(0.5, 2.0),
         kink="piecewise: d/da = 1, d/db = -floor(a/b) between the jumps")
operator("floordiv", "//", np.floor_divide, PREC_MUL, (PREC_MUL, PREC_MUL + 1),
         lambda a, b: sympy.floor(a / b), partials=(0, 0), spellings=("numpy.floor_divide",),
         domain=(0.5, 2.0), kink="piecewise constant: zero gradient")
register(Op("neg", 1, "-{0}", np.negative, lambda a: -a, PREC_UNARY, (PREC_UNARY,),
            math="-{0}", symbol="-", spellings=("numpy.negative",),
            inplace=("np.negative({0}, out={0})",)))

# A 0/1 mask as floats (bool arrays do not subtract).
register(Op("float", 1, "{0} * 1.0", lambda x: np.asarray(x, dtype=float), lambda a: a,
            PREC_MUL, (PREC_MUL,), math="float({0})", partials=(0,), symbol="float",
            fresh_array=True, makes_float64=True))
register(Op("copy", 1, "np.copy({0})", np.copy, lambda a: a, math="{0}", partials=(1,),
            symbol="copy"))

# ---------------------------------------------------------------- sugar (built from other ops)
register(Op("positive", 1, "", None, kind="alias", lower=lambda graph, x: x,
            spellings=("numpy.positive", "numpy.real", "numpy.conj", "numpy.conjugate",
                       "method.conj", "method.conjugate")))
register(Op("square", 1, "", None, kind="alias",
            lower=lambda graph, x: graph.apply("pow", x, graph.const(2.0)),
            spellings=("numpy.square",)))

# ---------------------------------------------------------------- elementary functions
unary("exp", sympy.exp, partials=(Y,), formula=True)
unary("log", sympy.log, formula=True, domain=(0.5, 2.0))
unary("sin", sympy.sin, formula=True)
unary("cos", sympy.cos, formula=True)
unary("tan", sympy.tan, formula=True, domain=(-1.2, 1.2))
unary("tanh", sympy.tanh, formula=True)
unary("sqrt", sympy.sqrt, partials=(sympy.Rational(1, 2) / Y,), formula=True, domain=(0.5, 2.0))
unary("abs", sympy.Abs, partials=(Sign(A),), math_fmt="abs({0})", formula=True,
      spellings=("numpy.absolute", "numpy.fabs", "builtin.fabs", "math.fabs"),
      kink="abs'(0) = 0")
unary("sign", sympy.sign, partials=(0,), math_fmt="_sign({0})", math_helpers=("_sign",),
      formula=True, kink="piecewise constant: zero gradient")
unary("sinh", sympy.sinh, formula=True)
unary("cosh", sympy.cosh, formula=True)
unary("arcsin", sympy.asin, math_fmt="math.asin({0})", formula=True, xp="xp.asin({0})",
      spellings=("builtin.asin", "math.asin"), domain=(-0.9, 0.9))
unary("arccos", sympy.acos, math_fmt="math.acos({0})", formula=True, xp="xp.acos({0})",
      spellings=("builtin.acos", "math.acos"), domain=(-0.9, 0.9))
unary("arctan", sympy.atan, math_fmt="math.atan({0})", formula=True, xp="xp.atan({0})",
      spellings=("builtin.atan", "math.atan"))
unary("arcsinh", sympy.asinh, math_fmt="math.asinh({0})", formula=True, xp="xp.asinh({0})",
      spellings=("builtin.asinh", "math.asinh"))
unary("arccosh", sympy.acosh, math_fmt="math.acosh({0})", formula=True, xp="xp.acosh({0})",
      spellings=("builtin.acosh", "math.acosh"), domain=(1.2, 3.0))
unary("arctanh", sympy.atanh, math_fmt="math.atanh({0})", formula=True, xp="xp.atanh({0})",
      spellings=("builtin.atanh", "math.atanh"), domain=(-0.9, 0.9))
unary("log2", lambda a: sympy.log(a) / sympy.log(2), formula=True, domain=(0.5, 2.0))
unary("log10", lambda a: sympy.log(a) / sympy.log(10), formula=True, domain=(0.5, 2.0))
unary("log1p", lambda a: sympy.log(1 + a), formula=True, domain=(-0.5, 2.0))
# expm1' = exp = y + 1: reads the output, one add instead of another exp.
unary("expm1", lambda a: sympy.exp(a) - 1, partials=(Y + 1,), formula=True)
unary("exp2", lambda a: 2 ** a, partials=(Y * sympy.log(2),), math_fmt="math.pow(2.0, {0})",
      formula=True)
# cbrt' = 1 / (3 y**2) from the output (SymPy's form goes through a**(-2/3), complex for a < 0).
unary("cbrt", lambda a: sympy.sign(a) * sympy.Abs(a) ** sympy.Rational(1, 3),
      partials=(1 / (3 * Y ** 2),), math_fmt=None, formula=True, domain=(0.5, 2.0))
unary("reciprocal", lambda a: 1 / a, partials=(-Y * Y,), math_fmt="(1.0 / ({0}))",
      domain=(0.5, 2.0))
unary("deg2rad", lambda a: a * PI / 180, math_fmt="math.radians({0})",
      spellings=("numpy.radians", "math.radians"), xp="xp.multiply({0}, 0.017453292519943295)")
unary("rad2deg", lambda a: a * 180 / PI, math_fmt="math.degrees({0})",
      spellings=("numpy.degrees", "math.degrees"), xp="xp.multiply({0}, 57.29577951308232)")
# sinc(x) = sin(pi x) / (pi x), sinc(0) = 1; its derivative (cos(pi x) - y) / x is 0 at 0.
unary("sinc", lambda a: sympy.sin(PI * a) / (PI * a), math_fmt=None,
      partials=(Where(_mask("eq", A, 0), 0, (sympy.cos(PI * A) - Y) / A),), quiet=True)
# nan_to_num(x): x where finite (x - x == 0), else a finite stand-in with no gradient.
unary("nan_to_num", lambda a: a, partials=(IsFinite(A),), math_fmt=None,
      kink="zero gradient where x is inf or NaN")
_STEPS = "piecewise constant: zero gradient"
unary("floor", sympy.floor, partials=(0,), math_fmt="float(math.floor({0}))", formula=True,
      spellings=("math.floor",), kink=_STEPS)
unary("ceil", sympy.ceiling, partials=(0,), math_fmt="float(math.ceil({0}))", formula=True,
      spellings=("math.ceil",), kink=_STEPS)
unary("trunc", Trunc, partials=(0,), math_fmt="float(math.trunc({0}))",
      spellings=("numpy.fix", "math.trunc"), kink=_STEPS)
unary("rint", lambda a: sympy.floor(a + sympy.Rational(1, 2)), partials=(0,),
      math_fmt=None, xp="xp.round({0})", kink=_STEPS,
      spellings=("numpy.round", "numpy.around", "builtin.round"), methods=("round",))


def _sigmoid(x):
    # exp(-logaddexp(0, -x)) never overflows: at x = -1000 it is exp(-1000) = 0.
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))


# The NumPy sigmoid is the plain formula: exp(-t) overflows to inf for t < -709, which gives the
# right value 0, so the statement runs with NumPy's overflow warning off (``quiet``). It costs a
# quarter of exp(-logaddexp(0, -t)), and is exact in both tails. On floats, math raises
# OverflowError there and the call falls back to NumPy.
_SIGMOID_IN_BUFFER = ("np.exp({0}, out={0})", "{0} += 1.0", "np.reciprocal({0}, out={0})")
register(Op("sigmoid", 1, "1.0 / (1.0 + np.exp(-{0}))", _sigmoid,
            lambda a: 1 / (1 + sympy.exp(-a)), arg_prec=(PREC_UNARY,),
            math="1.0 / (1.0 + math.exp(-{0}))", prec=PREC_MUL, quiet=True,
            partials=(Y * (1 - Y),), symbol="sigmoid",
            spellings=("builtin.sigmoid", "builtin.expit"),
            inplace=("np.negative({0}, out={0})",) + _SIGMOID_IN_BUFFER,
            inplace_fresh=("{0} = np.negative({1})",) + _SIGMOID_IN_BUFFER))
# softplus(t) = max(t, 0) + log1p(exp(-|t|)) never overflows and is half the cost of logaddexp;
# its derivative sigmoid(t) = exp(t - softplus(t)) reuses the output (one exp, no overflow).
register(Op("softplus", 1, "np.maximum({0}, 0.0) + np.log1p(np.exp(-np.abs({0})))",
            lambda x: np.logaddexp(0.0, x), lambda a: sympy.log(1 + sympy.exp(a)),
            prec=PREC_ADD, math="math.log1p(math.exp({0}))",
            partials=(sympy.exp(A - Y),), symbol="softplus", spellings=("builtin.softplus",),
            inplace_fresh=("{0} = np.abs({1})", "np.negative({0}, out={0})",
                           "np.exp({0}, out={0})", "np.log1p({0}, out={0})",
                           "{0} += np.maximum({1}, 0.0)")))
# relu'(0) = 0: the mask is a > 0, matching max(0, x) with its tie going to the first argument.
register(Op("relu", 1, "np.maximum({0}, 0.0)", lambda x: np.maximum(x, 0.0),
            lambda a: sympy.Max(0, a), math="max({0}, 0.0)",
            partials=(_mask("gt", A, 0),), symbol="relu", spellings=("builtin.relu",),
            inplace=("np.maximum({0}, 0.0, out={0})",), kink="relu'(0) = 0"))

# ---------------------------------------------------------------- functions of two arguments
# The max gate is a router: the whole gradient goes to the winner, to the first argument on ties.
_ROUTER = "the winner takes the gradient; the first argument on a tie"
register(Op("maximum", 2, "np.maximum({0}, {1})", np.maximum, sympy.Max,
            math="max({0}, {1})", partials=(_mask("ge", A, B), _mask("lt", A, B)), symbol="max",
            spellings=("numpy.maximum", "builtin.max"), augmented=(None, "maximum"),
            commutes=True, kink=_ROUTER))
register(Op("minimum", 2, "np.minimum({0}, {1})", np.minimum, sympy.Min,
            math="min({0}, {1})", partials=(_mask("le", A, B), _mask("gt", A, B)), symbol="min",
            spellings=("numpy.minimum", "builtin.min"), augmented=(None, "minimum"),
            commutes=True, kink=_ROUTER))
# fmax / fmin ignore a NaN: the other argument wins (b != b is True only for NaN).
def _wins_unless_nan(kind: str):
    """The partials of fmax / fmin: a takes the gradient if it wins or b is NaN."""
    first = Where(_mask(kind, A, B), 1, Where(_mask("ne", B, B), 1, 0))
    return first, Where(_mask(kind, A, B), 0, Where(_mask("ne", B, B), 0, 1))


binary("fmax", sympy.Max, math_fmt=None, partials=_wins_unless_nan("ge"),
       kink=_ROUTER + "; a NaN never wins")
binary("fmin", sympy.Min, math_fmt=None, partials=_wins_unless_nan("le"),
       kink=_ROUTER + "; a NaN never wins")
binary("arctan2", sympy.atan2, math_fmt="math.atan2({0}, {1})", xp="xp.atan2({0}, {1})",
       spellings=("math.atan2", "builtin.atan2"), domain=(0.5, 2.0))
binary("hypot", lambda a, b: sympy.sqrt(a ** 2 + b ** 2), partials=(A / Y, B / Y),
       domain=(0.5, 2.0))
# logaddexp' = exp(a - y): reads the output, never overflows.
binary("logaddexp", lambda a, b: sympy.log(sympy.exp(a) + sympy.exp(b)),
       partials=(sympy.exp(A - Y), sympy.exp(B - Y)), math_fmt=None)
binary("logaddexp2", lambda a, b: sympy.log(2 ** a + 2 ** b) / sympy.log(2),
       partials=(2 ** (A - Y), 2 ** (B - Y)), math_fmt=None)
binary("copysign", Copysign, partials=(Sign(A) * Copysign(1, B), 0),
       kink="d/da = sign(a) * sign of b (0 at a = 0); no gradient to b")
binary("fmod", lambda a, b: a - Trunc(a / b) * b, partials=(1, -Trunc(A / B)),
       domain=(0.5, 2.0), kink="piecewise: d/da = 1, d/db = -trunc(a/b) between the jumps")
binary("heaviside", lambda a, b: sympy.Heaviside(a, b), partials=(0, 0), math_fmt=None,
       kink=_STEPS)

# ---------------------------------------------------------------- comparisons (0/1 masks)
COMPARISONS = {"gt": (">", np.greater, sympy.StrictGreaterThan, "greater"),
               "ge": (">=", np.greater_equal, sympy.GreaterThan, "greater_equal"),
               "lt": ("<", np.less, sympy.StrictLessThan, "less"),
               "le": ("<=", np.less_equal, sympy.LessThan, "less_equal"),
               "eq": ("==", np.equal, sympy.Eq, "equal"),
               "ne": ("!=", np.not_equal, sympy.Ne, "not_equal")}
for _name, (_sym, _impl, _rel, _numpy) in COMPARISONS.items():
    register(Op(_name, 2, "{0} " + _sym + " {1}", _impl,
                (lambda rel: lambda a, b: sympy.Piecewise((1, rel(a, b)), (0, True)))(_rel),
                PREC_COMPARE, (PREC_COMPARE + 1, PREC_COMPARE + 1), math="{0} " + _sym + " {1}",
                partials=(0, 0), kind="compare", symbol=_sym, spellings=(f"numpy.{_numpy}",)))

for _name, _class, _math in (("isfinite", IsFinite, "math.isfinite({0})"),
                             ("isnan", IsNan, "math.isnan({0})"), ("isinf", IsInf, "math.isinf({0})")):
    register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), _class, math=_math,
                partials=(0,), kind="compare", symbol=_name,
                spellings=(f"numpy.{_name}", f"math.{_name}")))

# Masks combined: the conditions of branches on values, and (x > 0) & (x < 1) in user code. On
# floats, as NumPy: a number is true where it is not 0 (2.0 and 3.0 is True, not 3.0).
for _name, _arity, _math in (("logical_and", 2, "(({0}) != 0 and ({1}) != 0)"),
                             ("logical_or", 2, "(({0}) != 0 or ({1}) != 0)"),
                             ("logical_xor", 2, "((({0}) != 0) != (({1}) != 0))"),
                             ("logical_not", 1, "(({0}) == 0)")):
    _args = ", ".join(f"{{{k}}}" for k in range(_arity))
    register(Op(_name, _arity, f"np.{_name}({_args})", getattr(np, _name),
                (lambda name: lambda *xs: sympy.Function(name)(*xs))(_name), math=_math,
                partials=(0,) * _arity, kind="compare", symbol=_name,
                spellings=(f"numpy.{_name}",)))

# where(c, a, b): the branch not taken receives an exact zero, even where that branch's own
# derivative is inf or NaN (adjoint.py keeps masked gradients masked).
register(Op("where", 3, "np.where({0}, {1}, {2})", np.where,
            lambda c, a, b: sympy.Piecewise((a, sympy.Ne(c, 0)), (b, True)),
            arg_prec=(PREC_IFELSE + 1, PREC_IFELSE + 1, PREC_IFELSE),  # nested ifs need parens
            math="{1} if {0} else {2}", partials=(0, 0, 0), kind="where", symbol="where",
            spellings=("numpy.where",), fresh_array=True,
            kink="the branch not taken gets an exact zero"))


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
            numeric_vjp=lambda node, position, g, args, out: None, copies=True))
