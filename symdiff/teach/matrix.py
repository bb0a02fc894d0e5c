"""The passes of an array program in matrix notation, as the lecture's dimension analysis writes them.

One line per step, named as the generated code names it (the user's names, ``d`` + name for
gradients, ``t1, t2...`` for the rest), with the shape of each result::

    dW2 = hᵀ · dscores          [100×10]
    dh = dscores · W2ᵀ          [200×100]
    dt2 = [t2 > 0] ⊙ dh         [200×100]
    db1 = Σ₀ dt2                [100]

``·`` is the matrix product (and a product with a scalar), ``⊙`` the elementwise one, ``ᵀ`` a
transpose, ``Σ₀`` a sum over axis 0 and ``[c]`` the 0/1 mask of a condition. With ``latex=True``
the same lines are LaTeX. Steps with no such notation (a reshape, a slice) print as NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..codegen import emit
from ..codegen.inplace import InPlacePlan
from ..codegen.writer import FunctionWriter
from ..ops import OPS

_SUBSCRIPTS = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
_FLIP = {"lt": ">", "le": ">=", "gt": "<", "ge": "<=", "eq": "==", "ne": "!="}
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_FUNCTIONS = {"maximum": "max", "minimum": "min"}
_INFIX = {"add": (" + ", 0), "sub": (" - ", 0), "div": (" / ", 1)}


@dataclass(frozen=True)
class Notation:
    """The symbols of one spelling (text or LaTeX)."""

    matmul: str
    scale: str
    hadamard: str
    transpose: str
    times: str
    latex: bool

    def name(self, text: str) -> str:
        return sympy.latex(sympy.Symbol(text)) if self.latex else text

    def total(self, axes: tuple[int, ...] | None) -> str:
        if self.latex:
            return r"\sum" + (f"_{{{','.join(map(str, axes))}}}" if axes else "") + " "
        return "Σ" + (",".join(map(str, axes)).translate(_SUBSCRIPTS) if axes else "") + " "

    def function(self, name: str) -> str:
        if not self.latex:
            return name
        return f"\\{name}" if name in ("exp", "log", "tanh", "sin", "cos", "max", "min") else \
            rf"\operatorname{{{name}}}"

    def shape(self, shape) -> str:
        if shape is None:
            return ""
        inner = self.times.join(map(str, shape)) if shape else "scalar"
        return rf"\quad [{inner}]" if self.latex else f"[{inner}]"


TEXT = Notation(" · ", "·", " ⊙ ", "ᵀ", "×", False)
LATEX = Notation(r" \cdot ", r" \, ", r" \odot ", r"^{\top}", r" \times ", True)
LEGEND = ("· is the matrix product (or a product with a scalar), ⊙ the elementwise product, ᵀ a transpose,\n"
          "Σₖ a sum over axis k, and [c] is 1 where c holds, 0 elsewhere.")


class _Printer:
    """Renders graph nodes in a notation, with the names the generated code gives them."""

    def __init__(self, graph, names: dict[int, str], numpy_text: dict, notation: Notation):
        self.graph, self.names, self.numpy_text, self.n = graph, names, numpy_text, notation

    def ref(self, node_id: int) -> tuple[str, int]:
        """A node as an operand: its name, a number, or its expression inline."""
        node = self.graph[node_id]
        if node_id in self.names or node.op == "input":
            return self.n.name(self.names.get(node_id) or node.attrs[0]), 9
        if node.op == "const":
            value = float(node.attrs[0])
            return (str(int(value)) if value.is_integer() else f"{value:g}"), 9
        return self.render(node_id)

    def wrap(self, node_id: int, at_least: int) -> str:
        text, level = self.ref(node_id)
        return text if level >= at_least else f"({text})"

    def render(self, node_id: int) -> tuple[str, int]:
        """(text, precedence): 0 sums, 1 products, 2 prefix, 9 atoms."""
        node, n, g = self.graph[node_id], self.n, self.graph
        op, args = node.op, node.args
        if op in _INFIX:
            symbol, level = _INFIX[op]
            return self.wrap(args[0], level) + symbol + self.wrap(args[1], level + 1), level
        if op == "mul":
            arrays = all(g.shape(a) not in ((), None) for a in args)
            symbol = n.hadamard if arrays else n.scale
            return self.wrap(args[0], 1) + symbol + self.wrap(args[1], 2), 1
        if op == "matmul":
            return self.wrap(args[0], 1) + n.matmul + self.wrap(args[1], 2), 1
        if op == "neg":
            return "-" + self.wrap(args[0], 2), 2
        if op == "transpose" and len(g.shape(args[0]) or ()) == 2:
            return self.wrap(args[0], 9) + n.transpose, 9
        if op == "expand":  # a broadcast: the shape column shows it
            return self.ref(args[0])
        if op in _COMPARE:
            return self._mask(op, args), 9
        if op == "float" and g[args[0]].op in _COMPARE:
            return self.ref(args[0])
        if op in ("sum", "sum_to"):
            return n.total(self._summed(node_id)) + self.wrap(args[0], 3), 0
        if OPS[op].kind == "elementwise" and not node.attrs:
            inner = ", ".join(self.ref(a)[0] for a in args)
            return f"{n.function(_FUNCTIONS.get(op, op))}({inner})", 9
        return self.numpy_text[node_id][0], 0  # no notation for it: NumPy's own spelling

    def _mask(self, op: str, args: tuple[int, int]) -> str:
        left, right = args
        if self.graph[left].op == "const":  # 0 < t2 reads [t2 > 0]
            left, right, symbol = right, left, _FLIP[op]
        else:
            symbol = _COMPARE[op]
        if self.n.latex:
            symbol = {"<=": r"\le", ">=": r"\ge", "==": "=", "!=": r"\ne"}.get(symbol, symbol)
        return f"[{self.ref(left)[0]} {symbol} {self.ref(right)[0]}]"

    def _summed(self, node_id: int) -> tuple[int, ...] | None:
        """The axes a sum adds over (None: every axis)."""
        node, g = self.graph[node_id], self.graph
        before, after = g.shape(node.args[0]) or (), g.shape(node_id) or ()
        if not after:
            return None
        if node.op == "sum":
            axes = node.attrs[0]
            return tuple(axes) if axes is not None else None
        lead = len(before) - len(after)
        return tuple(range(lead)) + tuple(i + lead for i, s in enumerate(after)
                                          if s == 1 and before[i + lead] != 1)


def passes(compiled, latex: bool = False) -> tuple[list[str], list[str]]:
    """The forward and backward steps of a shape-specialized compiled program, one line each."""
    spec = compiled._last
    program, graph, backward = compiled.program, spec.graph, spec.backward
    fspec = emit._spec(program, graph, backward, program.name, list(program.params), "")
    writer = FunctionWriter(graph, fspec, emit._reserved(program))
    writer.inplace = InPlacePlan(writer, enabled=False)  # one name per value, as in the lecture
    writer.body()
    printer = _Printer(graph, writer.names, writer.text, LATEX if latex else TEXT)
    owners = {g: f"d{name}" for name, g in backward.grads.items() if g is not None}
    steps: tuple[list, list] = ([], [])
    for node_id in writer.nodes:
        name = writer.names.get(node_id)
        if name is None or graph[node_id].op in ("input", "const"):
            continue
        shape = printer.n.shape(graph.shape(node_id))
        statement = OPS[graph[node_id].op].statement
        if statement:  # an op printed as statements (a scatter): shown as NumPy
            steps[node_id not in writer.forward].append(
                ("", "; ".join(statement(writer, graph[node_id], name)), shape))
            continue
        text = printer.render(node_id)[0]
        if node_id in owners and owners[node_id] != name:  # a gradient that is also a value
            name = f"{name} = {owners[node_id]}"
        steps[node_id not in writer.forward].append((printer.n.name(name), text, shape))
    return _aligned(steps[0], latex), _aligned(steps[1], latex)


def _aligned(steps: list[tuple[str, str, str]], latex: bool) -> list[str]:
    lines = [(f"{name} = {text}" if name else text, shape) for name, text, shape in steps]
    if latex:
        return [f"{line} {shape}".rstrip() for line, shape in lines]
    width = max((len(line) for line, _ in lines), default=0)
    return [f"{line.ljust(width)}   {shape}".rstrip() for line, shape in lines]
