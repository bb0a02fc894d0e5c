"""The backward pass in words and numbers (explain) and closed forms as LaTeX."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from ..compiler import Compiled, gradients
from ..errors import InputError, SymdiffError
from ..frontend.parse import Program, parse
from .circuit import VIEWS, Circuit, Gate
from .labels import _readable, _sympy_text

__all__ = ["explain", "latex_gradients"]

# Names for the values the user did not name, in the lecture's spirit: q = x + y, f = q * z.
_SIGMOID = sympy.Function("sigmoid")
_NAME_POOL = ("q", "r", "s", "t", "u", "v", "w", "p", "g", "h", "k", "m")


# ================================================================= explain
def _num(value: Any) -> str:
    """Numbers in explanations: integers as integers, others with 6 significant digits."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        v = float(array)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v)) if v != 0 else "0"
        return f"{v:.6g}"
    if array.size <= 6:
        return "[" + ", ".join(_num(x) for x in array.ravel()) + "]" + (
            "" if array.ndim == 1 else f" (shape {array.shape})")
    return (f"array{array.shape} (min {_num(array.min())}, mean {_num(array.mean())}, "
            f"max {_num(array.max())})")


def _relevant(circuit: Circuit, wrt: list[str] | None) -> set[int]:
    """Nodes the gradient of ``wrt`` flows through (every node when wrt is None)."""
    graph = circuit.graph
    if wrt is None:
        return set(circuit._gates)
    return graph.descendants([graph.inputs[w] for w in wrt])


def explain(source: Any, at: dict | None = None, dout: Any = None,
            wrt: list[str] | str | None = None) -> str:
    """The backward pass of ``source`` at the point ``at``, step by step, in words and numbers.

    One line per (gate, input) in reverse topological order: the upstream gradient the gate
    received, its local gradient (formula and number) and the gradient it sends, then the
    gradients of the inputs. The numbers are the interpreter's, which the generated code is tested
    against::

        node `*` (f = q * z): upstream dL/df = 1; local d(q * z)/dq = z = -4; sends -4 to q
    """
    circuit = source if isinstance(source, Circuit) else Circuit(source)
    if at is None:
        if not circuit.evaluated:
            raise SymdiffError("explain needs a point: at={'x': ..., ...}")
        at = circuit._last_inputs
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    if wrt is not None:
        for w in wrt:
            if w not in circuit.params:
                raise InputError(f"cannot differentiate with respect to {w!r}: it is not an "
                                 f"input (inputs: {', '.join(circuit.params)})")
    circuit.forward(**at)
    circuit.backward(dout)
    relevant = _relevant(circuit, wrt)
    outputs = circuit.outputs
    lines = []
    point = ", ".join(f"{k} = {_num(v)}" for k, v in at.items())
    lines.append("; ".join(f"{o.name} = {_pretty(o, circuit)}" for o in outputs)
                 + (f"   at {point}" if point else ""))
    lines.append("")
    lines.append("forward (each gate computes its value from its inputs):")
    for gate in circuit.nodes():
        if gate.kind == "gate":
            lines.append(f"  {gate.name} = {gate.statement} = {_num(gate.value)}")
    lines.append("")
    seeds = ", ".join(f"dL/d{o.name} = {_num(o.grad)}" for o in outputs)
    if len(outputs) == 1:
        lines.append(f"backward (L = {outputs[0].name}, so {seeds}; each gate multiplies the "
                     "gradient it receives by its local gradient and sends the product to its "
                     "inputs):")
    else:
        lines.append(f"backward (L = {' + '.join('sum(' + o.name + ')' for o in outputs)}; "
                     f"{seeds}):")
    for gate in reversed(circuit.nodes()):
        if gate.kind != "gate" or gate.id not in relevant:
            continue
        sent = circuit._sent_by_position(gate)
        locals_ = {loc.position: loc for loc in gate.local}
        counts = {}
        for a in gate.inputs:
            counts[a.id] = counts.get(a.id, 0) + 1
        for pos, arg in enumerate(gate.args):
            if arg.kind == "const" or arg.id not in relevant:
                continue
            head = (f"  node `{gate.op}` ({gate.name} = {gate.statement}): "
                    f"upstream dL/d{gate.name} = {_num(gate.grad)}; ")
            which = f" (argument {pos + 1})" if counts.get(arg.id, 0) > 1 else ""
            loc = locals_.get(pos)
            if loc is None or loc.expr is None:
                local = f"vector-Jacobian product of {gate.op}{which}"
            else:
                expr_text = _sympy_text(loc.expr)
                sigmoid = gate.op_name == "sigmoid"  # the lecture's form, σ its output
                expr_text = "σ(1−σ)" if sigmoid else expr_text
                local = f"local d({gate.statement})/d{arg.name}{which} = {expr_text}"
                if loc.value is not None and expr_text != _num(loc.value):
                    local += f" = {_num(loc.value)}"
                local += f" (σ = {gate.name})" if sigmoid else ""
            if pos in sent:
                tail = f"; sends {_num(sent[pos])} to {arg.name}"
            else:
                tail = f"; sends nothing to {arg.name}"
                if gate.op_name == "where" and pos == 0:
                    tail += " (a condition has no gradient)"
                elif loc is not None and loc.value is not None:
                    tail += " (its local gradient is 0 here)"
            lines.append(head + local + tail)
    lines.append("")
    lines.append("gradients:")
    fname = outputs[0].name if len(outputs) == 1 else "L"
    for name, gate in circuit.inputs.items():
        if wrt is not None and name not in wrt:
            continue
        senders = [(g, pos) for g in circuit.nodes() if g.kind == "gate"
                   for pos, a in enumerate(g.args) if a is gate]
        note = ""
        if len(senders) > 1:
            parts = [_num(g.sent_to(pos)) for g, pos in senders]
            note = "   (" + " + ".join(parts) + ": gradients add where a value fans out)"
        lines.append(f"  d{fname}/d{name} = {_num(gate.grad)}{note}")
    return "\n".join(lines)


def _pretty(gate: Gate, circuit: Circuit) -> str:
    """The formula as the user wrote it (a one-line expression), else the output's closed form
    when it is short, else its gate over its inputs."""
    program = circuit.program
    if program.kind == "expression" and len(circuit.outputs) == 1 and "\n" not in program.source:
        return program.source.strip()
    if len(gate.circuit) <= 60:
        formula = gate.formula
        if formula is not None and sympy.count_ops(formula) <= 40:
            return _sympy_text(formula)
    return gate.statement


# ================================================================= LaTeX
def latex_gradients(source: Any, wrt: list[str] | str | None = None,
                    value: bool = False) -> list[str]:
    r"""The closed-form partial derivatives as LaTeX lines, ``\frac{\partial f}{\partial x} = z``.

    Built with ``sympy.latex`` from :func:`symdiff.gradients`. Shared intermediates come first as
    ``t_{1} = ...``; with ``value=True`` the first line is the program's own formula.
    """
    if isinstance(source, Circuit):
        source = source.program
    if isinstance(source, Compiled):
        source = source.program
    program = source if isinstance(source, Program) else parse(source)
    forms = gradients(program, wrt)
    f = sympy.latex(sympy.Symbol(program.name))
    lines = []
    for symbol, expr in forms.intermediates:
        lines.append(f"{sympy.latex(symbol)} = {sympy.latex(_readable(expr))}")
    if value:
        lines.append(f"{f} = {sympy.latex(_readable(forms.value))}")
    for name, expr in forms.items():
        x = sympy.latex(sympy.Symbol(name))
        lines.append(rf"\frac{{\partial {f}}}{{\partial {x}}} = {sympy.latex(_readable(expr))}")
    return lines




VIEWS["explain"] = explain
