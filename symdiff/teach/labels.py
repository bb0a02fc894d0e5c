"""Numbers, gate labels and statement texts for the teaching views."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from sympy.printing.str import StrPrinter

from ..ir.graph import Graph as _Graph
from ..ops import OPS, PREC_ATOM, PREC_UNARY, Compare, Sigmoid, Sign

__all__ = ["format_number", "gate_label"]

# Names for the values the user did not name, in the lecture's spirit: q = x + y, f = q * z.
_SIGMOID = sympy.Function("sigmoid")
_NAME_POOL = ("q", "r", "s", "t", "u", "v", "w", "p", "g", "h", "k", "m")


# ================================================================= numbers and labels
def format_number(value: Any, digits: int = 2) -> str:
    """A short, stable spelling of a number for pictures and explanations.

    Integers print as integers (``-12``); others with ``digits`` decimals (``0.73``, ``-0.20``) or,
    when that would hide the value, ``digits + 1`` significant digits (``0.00123``, ``1.5e+06``).
    """
    v = float(value)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v)) if v != 0 else "0"
    if 10.0 ** -digits <= abs(v) < 1e5:
        text = f"{v:.{digits}f}"
    else:
        text = f"{v:.{digits + 1}g}"
    return "0" if float(text) == 0 and text.lstrip("-") in ("0", "0.0", "0.00") else text


def _const_text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _sympy_number(value: float) -> sympy.Expr:
    fraction = Fraction(float(value))
    if fraction.denominator <= 1024:
        return sympy.Rational(fraction.numerator, fraction.denominator)
    return sympy.Float(value)


def gate_label(graph: _Graph, n: int) -> str:
    """The label of node ``n`` in pictures: its gate, with a constant argument folded in.

    ``add(x, 1)`` is the ``+1`` gate, ``div(1, x)`` the ``1/x`` gate, ``neg`` the ``*-1`` gate, as
    on the lecture's slides; an input is labelled with its name.
    """
    node = graph[n]
    if node.op == "input":
        return node.attrs[0]
    if node.op == "const":
        return _const_text(node.value)
    folded = _folded(graph, n)
    if folded is not None:
        return folded[0]
    if node.op == "neg":
        return "*-1"
    label = OPS[node.op].gate
    if node.op in ("sum", "max", "min", "logsumexp") and node.attrs and node.attrs[0] is not None:
        axes = tuple(node.attrs[0])
        arg_shape = graph.shape(node.args[0])
        if arg_shape is None or len(axes) < len(arg_shape):      # not a reduction to a scalar
            label += f" axis={axes[0] if len(axes) == 1 else axes}"
    return label


def _folded(graph: _Graph, n: int) -> tuple[str, int] | None:
    """(label, position of the constant) when ``n`` is a binary gate with one constant input."""
    node = graph[n]
    if len(node.args) != 2 or OPS[node.op].kind not in ("elementwise", "compare"):
        return None
    consts = [graph[a].op == "const" for a in node.args]
    if consts.count(True) != 1:
        return None
    k = consts.index(True)
    c = graph[node.args[k]].value
    ct = _const_text(c)
    op = node.op
    if op == "add":
        label = f"+{ct}" if c >= 0 else f"-{_const_text(-c)}"
    elif op == "mul":
        label = f"*{ct}"
    elif op == "sub":
        label = (f"-{ct}" if c >= 0 else f"+{_const_text(-c)}") if k == 1 else f"{ct}-x"
    elif op == "div":
        label = f"/{ct}" if k == 1 else ("1/x" if c == 1 else f"{ct}/x")
    elif op == "pow":
        label = f"x^{ct}" if k == 1 else f"{ct}^x"
    elif op in ("maximum", "minimum"):
        label = f"{OPS[op].gate}({ct},x)" if k == 0 else f"{OPS[op].gate}(x,{ct})"
    else:  # comparisons
        label = f"{OPS[op].gate}{ct}" if k == 1 else f"{ct}{OPS[op].gate}"
    return label, k


class _NameWriter:
    """Stands in for codegen's writer so that structural ops' printers spell a node over names."""

    def __init__(self, graph: _Graph, names: dict[int, str]):
        self.graph = graph
        self.names = names

    def expr(self, n: int, need: int = 0) -> str:
        node = self.graph[n]
        if node.op == "const":
            text = _const_text(node.value)
            return f"({text})" if text.startswith("-") and need > PREC_UNARY else text
        return self.names[n]


def _statement_text(graph: _Graph, n: int, names: dict[int, str]) -> str:
    """Node ``n`` over its inputs' names: ``q * z``, ``exp(u)``, ``X @ W1``."""
    node = graph[n]
    spec = OPS[node.op]
    writer = _NameWriter(graph, names)
    if spec.printer is not None:
        try:
            text = spec.printer(writer, node)[0]
        except Exception:  # pragma: no cover -- a printer that needs more of codegen's writer
            text = None
        if text is not None:
            return text.replace("np.", "")
    args = [writer.expr(a, PREC_ATOM) for a in node.args]
    symbol = spec.symbol or node.op
    if node.op == "neg":
        return f"-{args[0]}"
    if len(args) == 2 and not symbol.isidentifier():        # + - * / ** and comparisons
        return f"{args[0]} {symbol} {args[1]}"
    # a function of its inputs: exp(u), sigmoid(t), max(a, x), where(c, a, b)
    return f"{symbol}({', '.join(args)})"


class _Printer(StrPrinter):
    """SymPy's spelling, except where Python's reads better: ``1 if a >= x else 0``,
    ``r != 0``, ``max(x, y)``."""

    _relations = {"==": "==", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        *cases, (last, cond) = expr.args
        text = self._print(last) if cond == sympy.true else \
            f"{self._print(last)} if {self._print(cond)} else nan"
        for value, cond in reversed(cases):
            text = f"{self._print(value)} if {self._print(cond)} else {text}"
        return f"({text})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"


def _sympy_text(expr) -> str:
    """A SymPy expression as people write it (see :class:`_Printer`)."""
    return _Printer().doprint(expr)


def _readable(expr):
    """Replace the op table's helper functions (0/1 masks, sign with sign(0)=0) by SymPy's own."""
    relations = {"gt": sympy.StrictGreaterThan, "ge": sympy.GreaterThan,
                 "lt": sympy.StrictLessThan, "le": sympy.LessThan, "eq": sympy.Eq,
                 "ne": sympy.Ne}
    if not isinstance(expr, sympy.Basic):
        return expr
    masks = {m: sympy.Piecewise((1, relations[str(m.args[0])](m.args[1], m.args[2])), (0, True))
             for m in expr.atoms(Compare)}
    signs = {s: sympy.sign(s.args[0]) for s in expr.atoms(Sign)}
    sigmoids = {s: _SIGMOID(s.args[0]) for s in expr.atoms(Sigmoid)}
    found = {**masks, **signs, **sigmoids}
    return expr.xreplace(found) if found else expr
