"""Pictures of circuits: the computational graph with forward values and gradients on its wires.

    symdiff.to_dot("(x+y)*z", at=dict(x=-2, y=5, z=-4))   # Graphviz DOT text
    symdiff.render("(x+y)*z", "circuit.svg", at=...)      # .dot, .svg (and .png)

The picture reads like the lecture's slides: inputs on the left, one node per gate labelled with the
gate (``+``, ``*``, ``exp``, ``1/x``, ``@``...), data flowing left to right. Given a point, every
wire shows its forward value (green, above) and the gradient flowing back along it (red, below).
Wires of array programs show their shapes instead, and with a point the min, mean and max of the
value and of the gradient.

SVG and PNG come from Graphviz's ``dot`` when it is installed. Without it, symdiff lays the graph
out itself: with ``grandalf`` (a pure-Python Sugiyama layout, ``pip install "symdiff[graph]"``)
when it is importable, else with a simple layered layout of its own, so ``pip install symdiff``
alone always gives an SVG. A PNG needs Graphviz (or ``rsvg-convert`` / ``cairosvg`` to convert
the SVG). Output is deterministic: the same circuit and point give the same text.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .circuit import VIEWS, Circuit, as_circuit
from .labels import _folded, format_number

__all__ = ["to_dot", "VALUE_COLOR", "GRAD_COLOR"]

VALUE_COLOR = "#1a7f37"     # forward values: green, as on the slides
GRAD_COLOR = "#cf222e"      # gradients: red
SHAPE_COLOR = "#555555"     # shapes of array wires
INK = "#222222"
FONT = "Helvetica, Arial, sans-serif"


# ================================================================= the scene: what to draw
@dataclass
class _VNode:
    key: str
    kind: str                      # "input", "gate", "const" or "output"
    label: str
    title: str
    order: int
    extra: list[tuple[str, str]] = field(default_factory=list)   # (text, role) under the node


@dataclass
class _VEdge:
    src: str
    dst: str
    lines: list[tuple[str, str]]    # (text, role): role "shape", "value" or "grad"
    title: str


@dataclass
class _Scene:
    name: str
    nodes: list[_VNode]
    edges: list[_VEdge]
    has_values: bool
    has_grads: bool
    tensor: bool


def _stats(value) -> str:
    array = np.asarray(value, dtype=float)
    if array.size == 0:
        return "empty"
    return (f"min {format_number(array.min())}, mean {format_number(array.mean())}, "
            f"max {format_number(array.max())}")


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _wire_lines(value, grad, shape, show_grad: bool) -> list[tuple[str, str]]:
    """The texts on one wire: its value and gradient (or shape and summary statistics)."""
    lines: list[tuple[str, str]] = []
    array_value = value is not None and np.ndim(value) > 0
    if array_value:
        lines.append((_shape_text(np.shape(value)), "shape"))
        lines.append((_stats(value), "value"))
    elif value is not None:
        lines.append((format_number(value), "value"))
    elif shape:
        lines.append((_shape_text(shape), "shape"))
    if grad is not None and show_grad:
        lines.append((_stats(grad) if np.ndim(grad) > 0 else format_number(grad), "grad"))
    return lines


# Gates whose operands do not commute: each wire into one says which side it is on (a - b, A @ B).
ORDERED = frozenset({"sub", "div", "matmul", "pow"})


def _side(gate, position: int) -> list[tuple[str, str]]:
    if gate.node.op not in ORDERED or len(gate.args) != 2:
        return []
    return [("left operand" if position == 0 else "right operand", "shape")]


def _scene(circuit: Circuit, wrt: list[str] | None = None) -> _Scene:
    graph = circuit._need_graph()
    values = circuit.evaluated
    grads = circuit.differentiated
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    flows = (set(circuit._gates) if wrt is None
             else graph.descendants([graph.inputs[w] for w in wrt if w in graph.inputs]))
    nodes: list[_VNode] = []
    edges: list[_VEdge] = []
    order = 0
    tensor = any(g.shape not in (None, ()) for g in circuit.nodes())
    gates = circuit.nodes()
    for gate in gates:
        key = f"n{gate.id}"
        if gate.kind == "input":
            nodes.append(_VNode(key, "input", gate.name, f"input {gate.name}", order))
        else:
            nodes.append(_VNode(key, "gate", gate.op, f"{gate.name} = {gate.statement}", order))
        order += 1
    for gate in gates:
        if gate.kind != "gate":
            continue
        folded = _folded(graph, gate.id)
        for pos, arg in enumerate(gate.args):
            if arg.kind == "const":
                if folded is not None:
                    continue
                src = f"c{gate.id}_{pos}"
                nodes.append(_VNode(src, "const", arg.name, f"constant {arg.name}", order))
                order += 1
                lines = [] if not values else _wire_lines(arg.value, None, None, False)
                edges.append(_VEdge(src, f"n{gate.id}", lines, f"{arg.name} -> {gate.name}"))
                continue
            grad = gate.sent_to(pos) if grads else None
            lines = _side(gate, pos) + _wire_lines(arg.value if values else None, grad,
                                                   arg.shape, grads and arg.id in flows)
            edges.append(_VEdge(f"n{arg.id}", f"n{gate.id}", lines,
                                f"{arg.name} -> {gate.name}"))
    for k, out in enumerate(circuit.outputs):
        key = f"out{k}"
        nodes.append(_VNode(key, "output", out.name, f"output {out.name}", order))
        order += 1
        lines = _wire_lines(out.value if values else None, out.grad if grads else None,
                            out.shape, grads)
        edges.append(_VEdge(f"n{out.id}", key, lines, f"{out.name}"))
    # Where a value fans out, its gradient is the sum of what comes back along each wire.
    if grads:
        fanout: dict[str, int] = {}
        for e in edges:
            fanout[e.src] = fanout.get(e.src, 0) + 1
        for node in nodes:
            if fanout.get(node.key, 0) > 1 and node.key.startswith("n"):
                gate = circuit._gates[int(node.key[1:])]
                if gate.id in flows and gate.grad is not None:
                    total = _stats(gate.grad) if np.ndim(gate.grad) > 0 \
                        else format_number(gate.grad)
                    node.extra.append((f"\u03a3 {total}", "grad"))
    return _Scene(circuit.name, nodes, edges, values, grads, tensor)


def _legend(scene: _Scene) -> str:
    parts = []
    if scene.has_values:
        parts.append(("forward value" if not scene.tensor else
                      "forward value (min, mean, max for arrays)", "value"))
    if scene.has_grads:
        parts.append(("gradient dL/d(wire)" if not scene.tensor else
                      "gradient (min, mean, max for arrays)", "grad"))
    if scene.tensor and not scene.has_values:
        parts.append(("shapes on the wires", "shape"))
    return parts


# ================================================================= DOT
def _dot_id(key: str) -> str:
    return key


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ROLE_COLOR = {"value": VALUE_COLOR, "grad": GRAD_COLOR, "shape": SHAPE_COLOR}


def _html_lines(lines: list[tuple[str, str]]) -> str:
    return "<br/>".join(f'<font color="{_ROLE_COLOR[role]}">{html.escape(text)}</font>'
                        for text, role in lines)


def to_dot(circuit: Any, at: dict | None = None, wrt: list[str] | None = None) -> str:
    """The circuit as Graphviz DOT text, left to right, with values and gradients at ``at``.

    ``circuit`` is a :class:`~symdiff.teach.gates.Circuit`, a :class:`~symdiff.Compiled` or anything
    :func:`symdiff.compile` accepts. With ``at``, the forward and backward passes run there first;
    a circuit that has already run shows its current values. ``wrt`` limits the gradients shown to
    the wires that lead to those inputs.
    """
    scene = _scene(as_circuit(circuit, at), wrt)
    return _dot_text(scene)


def _dot_text(scene: _Scene) -> str:
    out = [f"digraph {_dot_string(scene.name)} {{"]
    out.append('  graph [rankdir=LR, bgcolor="white", nodesep=0.35, ranksep=0.55, '
               'fontname="Helvetica", fontsize=10, pad=0.2];')
    out.append(f'  node [fontname="Helvetica", fontsize=14, color="{INK}", fontcolor="{INK}"];')
    out.append(f'  edge [fontname="Helvetica", fontsize=11, color="{INK}", arrowsize=0.7];')
    legend = _legend(scene)
    if legend:
        text = " &#160; &#183; &#160; ".join(
            f'<font color="{_ROLE_COLOR[role]}">{html.escape(t)}</font>' for t, role in legend)
        out.append(f"  labelloc=b; labeljust=l; label=<{text}>;")
    inputs = [n for n in scene.nodes if n.kind == "input"]
    if inputs:
        # Inputs stacked top to bottom in the program's order (x, y, z), as on the slides.
        chain = " -> ".join(_dot_id(n.key) for n in inputs)
        out.append("  { rank=source; " + " ".join(_dot_id(n.key) + ";" for n in inputs)
                   + (f" {chain} [style=invis];" if len(inputs) > 1 else "") + " }")
    for node in scene.nodes:
        attrs = [f"tooltip={_dot_string(node.title)}"]
        if node.kind in ("input", "output"):
            attrs += ["shape=plaintext", "fontsize=16"]
        elif node.kind == "const":
            attrs += ["shape=plaintext", "fontsize=12", f'fontcolor="{SHAPE_COLOR}"']
        elif len(node.label) <= 3:
            width = "0.5" if len(node.label) < 3 or node.label in ("*-1", "1/x", "x^2") \
                else "0.6"
            attrs += ["shape=circle", f"width={width}", "fixedsize=true"]
        else:
            attrs += ["shape=ellipse", "height=0.5", "margin=\"0.06,0.02\""]
        if node.extra and node.kind in ("input", "output", "const"):
            label = (f'<{html.escape(node.label)}<br/><font point-size="11">'
                     + _html_lines(node.extra) + "</font>>")
            attrs.append(f"label={label}")
        else:
            attrs.append(f"label={_dot_string(node.label)}")
            if node.extra:
                attrs.append(f'xlabel=<<font point-size="11">{_html_lines(node.extra)}</font>>')
        out.append(f"  {_dot_id(node.key)} [{', '.join(attrs)}];")
    outputs = [n for n in scene.nodes if n.kind == "output"]
    if outputs:
        out.append("  { rank=sink; " + " ".join(_dot_id(n.key) + ";" for n in outputs) + " }")
    for edge in scene.edges:
        attrs = [f"tooltip={_dot_string(edge.title)}"]
        if edge.lines:
            attrs.append(f"label=<{_html_lines(edge.lines)}>")
        out.append(f"  {_dot_id(edge.src)} -> {_dot_id(edge.dst)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


VIEWS["dot"] = to_dot
