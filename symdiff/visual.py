"""Pictures of circuits: the computational graph with forward values and gradients on its wires.

    symdiff.visual.to_dot("(x+y)*z", at=dict(x=-2, y=5, z=-4))   # Graphviz DOT text
    symdiff.visual.render("(x+y)*z", "circuit.svg", at=...)      # .dot, .svg (and .png)

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
import math
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .files import write_atomic
from .gates import Circuit, _folded, as_circuit, format_number

__all__ = ["to_dot", "to_svg", "render", "Rendered", "VALUE_COLOR", "GRAD_COLOR"]

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
            lines = _wire_lines(arg.value if values else None, grad, arg.shape,
                                grads and arg.id in flows)
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

    ``circuit`` is a :class:`~symdiff.gates.Circuit`, a :class:`~symdiff.Compiled` or anything
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


# ================================================================= pure-Python layout and SVG
GATE_FONT = 14
LABEL_FONT = 11
LINE_H = 13.0
LANE_SPLIT = 24.0         # how far a fanned-out wire runs before it reaches its lane
NODE_GAP = 20.0           # between nodes in one layer (beyond their size)


def _text_width(text: str, size: float) -> float:
    """A conservative estimate of the width of ``text`` in Helvetica at ``size`` px."""
    wide = sum(1 for ch in text if ch in "mwMW@%")
    narrow = sum(1 for ch in text if ch in "il.,:;|!'()[] 1fjtrI-")
    normal = len(text) - wide - narrow
    return size * (0.58 * normal + 0.85 * wide + 0.34 * narrow)


@dataclass
class _Box:
    key: str
    kind: str
    w: float            # along the flow (x)
    h: float            # across the flow (y)
    x: float = 0.0
    y: float = 0.0
    rank: int = 0
    shape: str = "text"  # "circle", "ellipse" or "text"


def _boxes(scene: _Scene) -> dict[str, _Box]:
    boxes = {}
    for node in scene.nodes:
        if node.kind == "gate":
            tw = _text_width(node.label, GATE_FONT)
            if len(node.label) <= 3:
                r = max(17.0, tw / 2 + 8)
                box = _Box(node.key, node.kind, 2 * r, 2 * r, shape="circle")
            else:
                box = _Box(node.key, node.kind, tw + 24, 34.0, shape="ellipse")
        else:
            size = 16 if node.kind in ("input", "output") else 12
            w = _text_width(node.label, size) + 8
            h = size + 6
            for text, _ in node.extra:
                w = max(w, _text_width(text, LABEL_FONT) + 8)
            box = _Box(node.key, node.kind, w, h, shape="text")
        boxes[node.key] = box
    return boxes


def _ranks(scene: _Scene) -> dict[str, int]:
    """Longest-path layering: inputs (and constants) at 0, each gate one past its deepest input."""
    preds: dict[str, list[str]] = {n.key: [] for n in scene.nodes}
    for e in scene.edges:
        preds[e.dst].append(e.src)
    rank: dict[str, int] = {}
    for node in scene.nodes:                    # scene nodes: inputs, gates in topological order
        if node.kind in ("input", "const"):
            rank[node.key] = 0
    pending = [n.key for n in scene.nodes if n.key not in rank]
    while pending:
        rest = []
        for key in pending:
            if all(p in rank for p in preds[key]):
                rank[key] = 1 + max((rank[p] for p in preds[key]), default=-1)
            else:
                rest.append(key)
        if len(rest) == len(pending):       # pragma: no cover -- circuits are acyclic
            for key in rest:
                rank[key] = 0
            break
        pending = rest
    # Constants sit just before the gate that reads them, not at the far left.
    for e in scene.edges:
        if e.src.startswith("c"):
            rank[e.src] = max(0, rank[e.dst] - 1)
    return rank


def _isotonic(targets: list[float], gaps: list[float]) -> list[float]:
    """Positions closest to ``targets`` (least squares) keeping order and ``gaps`` between them."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    values = [t - o for t, o in zip(targets, offsets)]
    blocks: list[list[float]] = []          # [mean, weight]
    for v in values:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    fitted = []
    for mean, weight in blocks:
        fitted.extend([mean] * int(weight))
    return [f + o for f, o in zip(fitted, offsets)]


class _Layout:
    """Positions of nodes (``boxes``) and the bend points of long edges (``routes``)."""

    def __init__(self, boxes: dict[str, _Box], routes: dict[int, list[tuple[float, float]]],
                 engine: str):
        self.boxes = boxes
        self.routes = routes
        self.engine = engine


def _cross_size(scene: _Scene, boxes: dict[str, _Box]) -> dict[str, float]:
    """How much room across the flow each node needs, labels of its outgoing wires included."""
    room = {k: b.h for k, b in boxes.items()}
    for e in scene.edges:
        above = sum(1 for _, role in e.lines if role != "grad")
        below = len(e.lines) - above
        need = 2 * max(above, below) * LINE_H + 6
        room[e.src] = max(room[e.src], need)
    fanout: dict[str, int] = {}
    for e in scene.edges:
        if e.lines:
            fanout[e.src] = fanout.get(e.src, 0) + 1
    for e in scene.edges:            # wires that fan out part into lanes, one label each
        if fanout.get(e.src, 0) > 1:
            above = sum(1 for _, role in e.lines if role != "grad")
            block = 2 * max(above, len(e.lines) - above) * LINE_H + 6
            room[e.src] = max(room[e.src], fanout[e.src] * block - 6)
    for node in scene.nodes:
        if node.extra and boxes[node.key].shape != "text":
            room[node.key] += LINE_H * len(node.extra)
    return room


def _layered_layout(scene: _Scene, boxes: dict[str, _Box]) -> tuple[list[list[str]], dict]:
    """Own Sugiyama-style layout: longest-path ranks, dummy nodes, barycenter ordering."""
    rank = _ranks(scene)
    layers: dict[int, list[str]] = {}
    for node in scene.nodes:
        layers.setdefault(rank[node.key], []).append(node.key)
    chains: dict[int, list[str]] = {}
    for i, e in enumerate(scene.edges):
        r0, r1 = rank[e.src], rank[e.dst]
        chain = []
        for r in range(r0 + 1, r1):
            key = f"d{i}_{r}"
            layers.setdefault(r, []).append(key)
            chain.append(key)
            rank[key] = r
        chains[i] = chain
    up: dict[str, list[str]] = {k: [] for k in rank}
    down: dict[str, list[str]] = {k: [] for k in rank}
    for i, e in enumerate(scene.edges):
        path = [e.src] + chains[i] + [e.dst]
        for a, b in zip(path, path[1:]):
            down[a].append(b)
            up[b].append(a)
    order = [layers[r] for r in range(max(layers) + 1)]
    for _ in range(6):
        for r in range(1, len(order)):
            pos = {k: i for i, k in enumerate(order[r - 1])}
            order[r] = _by_barycenter(order[r], up, pos)
        for r in range(len(order) - 2, -1, -1):
            pos = {k: i for i, k in enumerate(order[r + 1])}
            order[r] = _by_barycenter(order[r], down, pos)
    return order, {"rank": rank, "chains": chains, "up": up, "down": down}


def _by_barycenter(layer: list[str], neighbours: dict[str, list[str]],
                   pos: dict[str, int]) -> list[str]:
    keyed = []
    for i, k in enumerate(layer):
        near = [pos[n] for n in neighbours[k] if n in pos]
        keyed.append((sum(near) / len(near) if near else float(i), i, k))
    return [k for _, _, k in sorted(keyed)]


def _grandalf_order(scene: _Scene, boxes: dict[str, _Box], room: dict[str, float]):
    """Ranks, layer order and coordinates across the flow from grandalf's Sugiyama layout."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        def __init__(self, w: float, h: float):
            self.w, self.h = w, h
            self.xy = (0.0, 0.0)

        def setpath(self, points):
            self.points = points

    vertices = {}
    for node in scene.nodes:
        v = Vertex(node.key)
        # grandalf lays out top to bottom: its w is our extent across the flow, its h along it.
        v.view = View(room[node.key], boxes[node.key].w)
        vertices[node.key] = v
    edge_objs = []
    seen_pairs = set()
    for e in scene.edges:
        pair = (e.src, e.dst)
        if pair in seen_pairs:           # a repeated argument (q * q): lay out one wire
            edge_objs.append(None)
            continue
        seen_pairs.add(pair)
        edge = Edge(vertices[e.src], vertices[e.dst])
        edge.view = View(0, 0)
        edge_objs.append(edge)
    graph = Graph([vertices[n.key] for n in scene.nodes], [x for x in edge_objs if x])
    rank: dict[str, int] = {}
    across: dict[str, float] = {}
    chains: dict[int, list[str]] = {}
    dummy_pos: dict[str, float] = {}
    offset = 0.0
    for component in graph.C:
        sug = SugiyamaLayout(component)
        sug.xspace = NODE_GAP
        sug.yspace = 40
        keys = [v.data for v in component.sV]
        roots = [vertices[n.key] for n in scene.nodes
                 if n.key in keys and n.kind in ("input", "const")
                 and not vertices[n.key].e_in()]
        sug.init_all(roots=roots or None)
        sug.draw(3)
        low = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        high = max(v.view.xy[0] + v.view.w / 2 for v in component.sV)
        for v in component.sV:
            rank[v.data] = sug.grx[v].rank
            across[v.data] = v.view.xy[0] - low + offset
        for i, e in enumerate(scene.edges):
            edge = edge_objs[i]
            if edge is None or edge not in sug.ctrls:
                continue
            ctrl = sug.ctrls[edge]
            r0, r1 = rank[e.src], rank[e.dst]
            chain = []
            for r in range(r0 + 1, r1):
                key = f"d{i}_{r}"
                chain.append(key)
                rank[key] = r
                dummy_pos[key] = ctrl[r].view.xy[0] - low + offset
            chains[i] = chain
        offset += high - low + 2 * NODE_GAP
    for i, e in enumerate(scene.edges):
        if edge_objs[i] is None:       # the repeated wire follows the first one
            first = next(j for j, f in enumerate(scene.edges)
                         if (f.src, f.dst) == (e.src, e.dst))
            chains[i] = chains.get(first, [])
        chains.setdefault(i, [])
    across.update(dummy_pos)
    return rank, chains, across


def _layout(scene: _Scene, engine: str) -> _Layout:
    boxes = _boxes(scene)
    room = _cross_size(scene, boxes)
    used = "layered"
    across: dict[str, float] | None = None
    if engine in ("auto", "grandalf"):
        try:
            import grandalf  # noqa: F401
        except ImportError:
            if engine == "grandalf":
                raise
        else:
            rank, chains, across = _grandalf_order(scene, boxes, room)
            used = "grandalf"
    if across is None:
        order, info = _layered_layout(scene, boxes)
        rank, chains = info["rank"], info["chains"]
        across = _place_across(order, info, room)
    # Along the flow: each rank as wide as its widest node, then a gap wide enough for the labels
    # of the wires that leave it.
    nranks = max(rank.values()) + 1
    width = [0.0] * nranks
    gap = [48.0] * nranks
    for key, r in rank.items():
        if key in boxes:
            width[r] = max(width[r], boxes[key].w)
    seen: set[tuple[str, str]] = set()
    fanout: dict[str, int] = {}
    for e in scene.edges:
        fanout[e.src] = fanout.get(e.src, 0) + 1
    for i, e in enumerate(scene.edges):
        r = rank[e.src]
        label = max((_text_width(t, LABEL_FONT) for t, _ in e.lines), default=0.0)
        if (e.src, e.dst) in seen:        # a repeated argument bows out: room for both bends
            gap[r] = max(gap[r], label + 110)
        seen.add((e.src, e.dst))
        # A wire runs straight under its label, then bends to where it goes.
        nxt = chains[i][0] if chains[i] else e.dst
        rise = abs(across[nxt] - across[e.src])
        gap[r] = max(gap[r], label + 28 + (max(24.0, min(rise, 150.0) * 0.6) if label and
                                             rise > 4 else 0.0))
        if label and fanout[e.src] > 1:   # wires that fan out part into lanes first
            gap[r] = max(gap[r], label + 14 + LANE_SPLIT + max(40.0, min(rise, 200.0) * 0.5))
    xs = []
    x = 0.0
    for r in range(nranks):
        xs.append(x + width[r] / 2)
        x += width[r] + gap[r]
    for key, box in boxes.items():
        box.rank = rank[key]
        box.x = xs[rank[key]]
        box.y = across[key]
        if box.kind == "input":       # inputs are right-aligned against their wires
            box.x = xs[0] + width[0] / 2 - box.w / 2
        elif box.kind == "output":
            box.x = xs[rank[key]] - width[rank[key]] / 2 + box.w / 2
    routes = {i: [(xs[rank[k]], across[k]) for k in chains[i]] for i in range(len(scene.edges))}
    return _Layout(boxes, routes, used)


def _place_across(order: list[list[str]], info: dict, room: dict[str, float]) -> dict[str, float]:
    """Coordinates across the flow: each node near its neighbours' mean, in order, apart."""
    size = {k: room.get(k, 12.0) for layer in order for k in layer}
    pos: dict[str, float] = {}
    for layer in order:
        y = 0.0
        for k in layer:
            pos[k] = y + size[k] / 2
            y += size[k] + NODE_GAP
        shift = y / 2
        for k in layer:
            pos[k] -= shift
    up, down = info["up"], info["down"]
    for sweep in range(8):
        layers = order if sweep % 2 == 0 else order[::-1]
        for layer in layers:
            targets = []
            for k in layer:
                near = [pos[n] for n in up[k] + down[k]]
                targets.append(sum(near) / len(near) if near else pos[k])
            gaps = [(size[a] + size[b]) / 2 + NODE_GAP for a, b in zip(layer, layer[1:])]
            for k, p in zip(layer, _isotonic(targets, gaps)):
                pos[k] = p
    low = min(pos[k] - size[k] / 2 for k in pos)
    return {k: v - low for k, v in pos.items()}


# ---------------------------------------------------------------- SVG drawing
def _f(v: float) -> str:
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


def _boundary(box: _Box, toward: tuple[float, float], side: str) -> tuple[float, float]:
    """Where a wire leaves (side="out") or enters (side="in") ``box``, heading to ``toward``."""
    if box.shape == "text":
        return (box.x + box.w / 2 + 2, box.y) if side == "out" else (box.x - box.w / 2 - 2, box.y)
    dx, dy = toward[0] - box.x, toward[1] - box.y
    norm = math.hypot(dx, dy) or 1.0
    rx, ry = box.w / 2, box.h / 2
    ux, uy = dx / norm, dy / norm
    # the ray from the centre meets the ellipse (x/rx)^2 + (y/ry)^2 = 1 at distance t
    t = 1.0 / math.sqrt((ux / rx) ** 2 + (uy / ry) ** 2)
    return box.x + ux * t, box.y + uy * t


def _bezier(p0, p1, p2, p3, t):
    s = 1 - t
    return (s ** 3 * p0[0] + 3 * s * s * t * p1[0] + 3 * s * t * t * p2[0] + t ** 3 * p3[0],
            s ** 3 * p0[1] + 3 * s * s * t * p1[1] + 3 * s * t * t * p2[1] + t ** 3 * p3[1])


def _segments(points: list[tuple[float, float]], start_dir, end_dir):
    """Cubic pieces through ``points`` with horizontal tangents at the bends."""
    pieces = []
    for k in range(len(points) - 1):
        a, b = points[k], points[k + 1]
        reach = max(12.0, (b[0] - a[0]) * 0.45)
        da = start_dir if k == 0 else (1.0, 0.0)
        db = end_dir if k == len(points) - 2 else (1.0, 0.0)
        c1 = (a[0] + da[0] * reach, a[1] + da[1] * reach)
        c2 = (b[0] - db[0] * reach, b[1] - db[1] * reach)
        pieces.append((a, c1, c2, b))
    return pieces


def _overlaps(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _svg_text(x, y, text, size, color, anchor="middle", weight=None, cls=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    extra += f' class="{cls}"' if cls else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{color}"{extra}>{html.escape(text)}</text>')


def _svg_text_from(scene: _Scene, layout: _Layout) -> str:
    boxes = layout.boxes
    nodes = {n.key: n for n in scene.nodes}
    pad = 16.0
    body: list[str] = []
    taken: list[tuple[float, float, float, float]] = []
    for box in boxes.values():
        taken.append((box.x - box.w / 2, box.y - box.h / 2, box.x + box.w / 2, box.y + box.h / 2))
    # Wires first, so that nodes are drawn on top of them.
    wire_svg, label_svg = [], []
    repeats: dict[tuple[str, str], int] = {}
    fanout: dict[str, int] = {}
    for e in scene.edges:
        fanout[e.src] = fanout.get(e.src, 0) + 1
    # A value that fans out: its wires part into lanes, ordered like their targets, so that each
    # carries its own numbers on a straight run.
    lanes: dict[int, float] = {}
    by_source: dict[str, list[int]] = {}
    for i, e in enumerate(scene.edges):
        if e.lines and fanout[e.src] > 1:
            by_source.setdefault(e.src, []).append(i)
    for key, wires in by_source.items():
        def toward(i: int) -> float:
            route = layout.routes.get(i)
            return route[0][1] if route else boxes[scene.edges[i].dst].y
        wires = sorted(wires, key=lambda i: (toward(i), i))
        blocks = []
        for i in wires:
            above = sum(1 for _, role in scene.edges[i].lines if role != "grad")
            blocks.append(2 * max(above, len(scene.edges[i].lines) - above) * LINE_H + 6)
        total = sum(blocks) - 6
        y = boxes[key].y - total / 2
        for i, block in zip(wires, blocks):
            lanes[i] = y + (block - 6) / 2
            y += block
    all_pieces = []
    for i, e in enumerate(scene.edges):
        src, dst = boxes[e.src], boxes[e.dst]
        k = repeats.get((e.src, e.dst), 0)
        repeats[(e.src, e.dst)] = k + 1
        bends = list(layout.routes.get(i, []))
        if i in lanes:
            lane = lanes[i]
            first_target = bends[0] if bends else (dst.x, dst.y)
            start = _boundary(src, (src.x + 100, src.y), "out")
            run = max(_text_width(t, LABEL_FONT) for t, _ in e.lines) + 14
            if start[0] + LANE_SPLIT + run < first_target[0] - 30:
                split = start[0] + LANE_SPLIT
                bends = [(split, lane), (split + run, lane)] + bends
                end = _boundary(dst, bends[-1], "in")
                end_dir = (1.0, 0.0) if dst.shape == "text" else _unit((dst.x, dst.y), end)
                pieces = _segments([start] + bends + [end], (1.0, 0.0), end_dir)
                all_pieces.append(pieces)
                wire_svg.append(_wire_svg(i, e, start, pieces))
                continue
        if k:
            # A repeated argument (h * h): the second wire bows out far enough for its labels.
            above = sum(1 for _, role in e.lines if role != "grad")
            spread = (2 * max(above, len(e.lines) - above) * LINE_H + 10) * ((k + 1) // 2)
            spread = -spread if k % 2 else spread
            if bends:
                bends = [(x, y + spread) for x, y in bends]
            else:
                mx, my = (src.x + dst.x) / 2, (src.y + dst.y) / 2 + spread
                half = max((_text_width(t, LABEL_FONT) for t, _ in e.lines), default=0) / 2 + 6
                half = min(half, max(0.0, (dst.x - src.x - dst.w / 2 - src.w / 2) / 2 - 30))
                bends = [(mx - half, my), (mx + half, my)] if half > 0 else [(mx, my)]
        first_target = bends[0] if bends else (dst.x, dst.y)
        last_source = bends[-1] if bends else (src.x, src.y)
        start = _boundary(src, first_target, "out")
        end = _boundary(dst, last_source, "in")
        if e.lines and fanout[e.src] == 1 and not k and abs(first_target[1] - start[1]) > 4:
            # As on the slides: the wire leaves straight, carrying its numbers, then bends.
            run = max(_text_width(t, LABEL_FONT) for t, _ in e.lines) + 14
            if src.shape != "text":
                start = _boundary(src, (src.x + 100, src.y), "out")
            limit = first_target[0] - start[0] - 28
            if run < limit:
                bends = [(start[0] + run, start[1])] + bends
        start_dir = (1.0, 0.0) if src.shape == "text" else _unit(start, (src.x, src.y))
        end_dir = (1.0, 0.0) if dst.shape == "text" else _unit((dst.x, dst.y), end)
        pieces = _segments([start] + bends + [end], start_dir, end_dir)
        all_pieces.append(pieces)
        wire_svg.append(_wire_svg(i, e, start, pieces))
    # Every wire is an obstacle for the other wires' labels.
    wire_points = []
    for i, pieces in enumerate(all_pieces):
        for piece in pieces:
            for s in range(1, 24):
                x, y = _bezier(*piece, s / 24)
                wire_points.append((i, (x - 1.5, y - 1.5, x + 1.5, y + 1.5)))
    for key, box in boxes.items():        # the texts under nodes (a fan-out's total gradient)
        extra = nodes[key].extra
        if extra:
            width = max(_text_width(t, LABEL_FONT) for t, _ in extra) + 4
            top = box.y + box.h / 2 + 2
            if box.shape != "text" and width - 4 > box.w:
                right = box.x + box.w / 4
                taken.append((right - width, top, right, top + LINE_H * len(extra)))
            else:
                taken.append((box.x - width / 2, top, box.x + width / 2,
                              top + LINE_H * len(extra)))
    for i, e in enumerate(scene.edges):
        if e.lines:
            label_svg.append(_place_label(i, e, all_pieces[i], taken, wire_points))
    body.extend(wire_svg)
    for key, box in boxes.items():
        node = nodes[key]
        parts = [f'<g class="node {node.kind}" id="{key}"><title>{html.escape(node.title)}'
                 "</title>"]
        if box.shape == "circle":
            parts.append(f'<circle cx="{_f(box.x)}" cy="{_f(box.y)}" r="{_f(box.w / 2)}" '
                         f'fill="white" stroke="{INK}" stroke-width="1.3"/>')
        elif box.shape == "ellipse":
            parts.append(f'<ellipse cx="{_f(box.x)}" cy="{_f(box.y)}" rx="{_f(box.w / 2)}" '
                         f'ry="{_f(box.h / 2)}" fill="white" stroke="{INK}" stroke-width="1.3"/>')
        if node.kind == "gate":
            parts.append(_svg_text(box.x, box.y + GATE_FONT * 0.36, node.label, GATE_FONT, INK,
                                   cls="label"))
            y = box.y + box.h / 2 + LINE_H
            for text, role in node.extra:
                # centred under the gate, or ending there when wider: wires leave to the right
                wide = _text_width(text, LABEL_FONT) > box.w
                parts.append(_svg_text(box.x + (box.w / 4 if wide else 0), y, text, LABEL_FONT,
                                       _ROLE_COLOR[role], anchor="end" if wide else "middle",
                                       cls=role))
                y += LINE_H
        else:
            size = 16 if node.kind in ("input", "output") else 12
            color = INK if node.kind != "const" else SHAPE_COLOR
            parts.append(_svg_text(box.x, box.y + size * 0.36, node.label, size, color,
                                   cls="label"))
            y = box.y + size * 0.36 + LINE_H + 2
            for text, role in node.extra:
                parts.append(_svg_text(box.x, y, text, LABEL_FONT, _ROLE_COLOR[role],
                                       cls=role))
                y += LINE_H
        parts.append("</g>")
        body.append("".join(parts))
    body.extend(label_svg)
    # Extent of the drawing: nodes, wires' labels, the legend.
    xs0 = [b.x - b.w / 2 for b in boxes.values()] + [t[0] for t in taken]
    xs1 = [b.x + b.w / 2 for b in boxes.values()] + [t[2] for t in taken]
    ys0 = [b.y - b.h / 2 for b in boxes.values()] + [t[1] for t in taken]
    ys1 = [b.y + b.h / 2 + LINE_H * len(nodes[k].extra) for k, b in boxes.items()] + \
        [t[3] for t in taken]
    for route in layout.routes.values():
        ys0 += [y for _, y in route]
        ys1 += [y for _, y in route]
    x0, y0 = min(xs0) - pad, min(ys0) - pad
    x1, y1 = max(xs1) + pad, max(ys1) + pad
    legend = _legend(scene)
    if legend:
        lx = x0 + pad
        ly = y1 + 4
        items = []
        for text, role in legend:
            items.append(_svg_text(lx, ly, text, 10, _ROLE_COLOR[role], anchor="start",
                                   cls="legend"))
            lx += _text_width(text, 10) + 18
        body.extend(items)
        y1 = ly + 10
        x1 = max(x1, lx)
    w, h = x1 - x0, y1 - y0
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(w)}pt" height="{_f(h)}pt" '
        f'viewBox="{_f(x0)} {_f(y0)} {_f(w)} {_f(h)}" font-family="{FONT}">',
        f"<title>{html.escape(scene.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto" markerUnits="userSpaceOnUse">'
        f'<path d="M0,0.8 L10,5 L0,9.2 z" fill="{INK}"/></marker></defs>',
        f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(h)}" fill="white"/>',
    ]
    return "\n".join(head + body + ["</svg>"]) + "\n"


def _wire_svg(i: int, e: _VEdge, start, pieces) -> str:
    d = f"M{_f(start[0])},{_f(start[1])}" + "".join(
        f" C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(b[0])},{_f(b[1])}"
        for _, c1, c2, b in pieces)
    return (f'<g class="edge" id="edge{i}"><title>{html.escape(e.title)}</title>'
            f'<path d="{d}" fill="none" stroke="{INK}" stroke-width="1.2" '
            'marker-end="url(#arrow)"/></g>')


def _unit(a, b) -> tuple[float, float]:
    dx, dy = a[0] - b[0], a[1] - b[1]
    n = math.hypot(dx, dy) or 1.0
    return dx / n, dy / n


def _place_label(i: int, e: _VEdge, pieces, taken: list, wire_points: list) -> str:
    """Put a wire's texts beside it: values above, gradient below, where the wire runs flat
    between them and they overlap no node, no other wire and no other label."""
    above = [(t, r) for t, r in e.lines if r != "grad"]
    below = [(t, r) for t, r in e.lines if r == "grad"]
    width = max(_text_width(t, LABEL_FONT) for t, _ in e.lines) + 4
    own = [_bezier(*piece, s / 48) for piece in pieces for s in range(49)]
    # The wire's first straight run long enough to carry the label, else its first piece.
    flat = [p for p in pieces if abs(p[0][1] - p[3][1]) < 1 and p[3][0] - p[0][0] >= width - 8]
    piece = flat[0] if flat else pieces[0]
    ts = (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8, 0.15, 0.85, 0.1,
          0.9)
    best = None
    for t in ts:
        px, py = _bezier(*piece, t)
        top = py - 3 - LINE_H * len(above) - 1
        bottom = py + 3 + LINE_H * len(below) + 1
        box = (px - width / 2, top, px + width / 2, bottom)
        hits = sum(1 for other in taken if _overlaps(box, other))
        hits += sum(1 for j, p in wire_points if j != i and _overlaps(box, p))
        near = [abs(y - py) for x, y in own if box[0] <= x <= box[2]]
        drift = max(near, default=0.0)
        score = 10.0 * hits + max(0.0, drift - 3.0)
        if best is None or score < best[0] - 1e-9:
            best = (score, px, py, box)
        if score == 0:
            break
    _, px, py, box = best
    taken.append(box)
    parts = [f'<g class="wire-label" id="label{i}"><title>{html.escape(e.title)}</title>']
    y = py - 4 - LINE_H * (len(above) - 1)
    for text, role in above:
        parts.append(_svg_text(px, y, text, LABEL_FONT, _ROLE_COLOR[role], cls=role))
        y += LINE_H
    y = py + 4 + LINE_H * 0.8
    for text, role in below:
        parts.append(_svg_text(px, y, text, LABEL_FONT, _ROLE_COLOR[role], cls=role))
        y += LINE_H
    parts.append("</g>")
    return "".join(parts)


# ================================================================= front doors
def _dot_executable() -> str | None:
    return shutil.which("dot")


def _graphviz(dot_text: str, fmt: str) -> bytes:
    exe = _dot_executable()
    if exe is None:
        raise FileNotFoundError("Graphviz's dot is not on PATH")
    result = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                            capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError("dot failed: " + result.stderr.decode("utf-8", "replace").strip())
    return result.stdout


def to_svg(circuit: Any, at: dict | None = None, wrt: list[str] | None = None,
           engine: str = "auto") -> str:
    """The picture as SVG text.

    ``engine``: ``"auto"`` (Graphviz's ``dot`` when on PATH, else pure Python), ``"graphviz"``,
    ``"python"`` (grandalf when importable, else the built-in layered layout), ``"grandalf"`` or
    ``"layered"``.
    """
    return _svg(_scene(as_circuit(circuit, at), wrt), engine)[0]


def _svg(scene: _Scene, engine: str) -> tuple[str, str]:
    if engine not in ("auto", "graphviz", "python", "grandalf", "layered"):
        raise ValueError(f"unknown engine {engine!r}")
    if engine == "graphviz" or (engine == "auto" and _dot_executable()):
        try:
            return _graphviz(_dot_text(scene), "svg").decode("utf-8"), "graphviz"
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            if engine == "graphviz":
                raise
            warnings.warn(f"Graphviz failed ({exc}); drawing the SVG in Python", RuntimeWarning,
                          stacklevel=3)
    layout = _layout(scene, "grandalf" if engine == "grandalf" else
                     "layered" if engine == "layered" else "auto")
    return _svg_text_from(scene, layout), layout.engine


@dataclass
class Rendered:
    """What :func:`render` wrote: the paths (None where a format could not be made)."""

    dot: Path
    svg: Path | None
    png: Path | None
    engine: str
    notes: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return [p for p in (self.dot, self.svg, self.png) if p is not None]


PNG_NEEDS_GRAPHVIZ = ("PNG output needs Graphviz's dot (apt-get install graphviz, brew install "
                      "graphviz, or conda install graphviz), or rsvg-convert / cairosvg to convert "
                      "the SVG; wrote the .dot and .svg only")


def render(circuit: Any, path: str | os.PathLike, at: dict | None = None,
           wrt: list[str] | None = None, formats: tuple[str, ...] = ("dot", "svg", "png"),
           engine: str = "auto") -> Rendered:
    """Write the picture of ``circuit`` (at the point ``at``) next to ``path``.

    ``path`` names the files: ``out/circuit`` or ``out/circuit.svg`` both give ``out/circuit.dot``
    (always), ``out/circuit.svg`` and ``out/circuit.png``. SVG comes from Graphviz when ``dot`` is
    on PATH, else from the pure-Python layout; PNG needs Graphviz (or an SVG converter), and when
    none is there a warning says so and ``Rendered.png`` is None.
    """
    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".dot", ".svg", ".png", ".gv") \
        else path
    base.parent.mkdir(parents=True, exist_ok=True)
    scene = _scene(as_circuit(circuit, at), wrt)
    dot_text = _dot_text(scene)
    dot_path = base.with_name(base.name + ".dot")
    write_atomic(dot_path, dot_text)
    result = Rendered(dot_path, None, None, "none")
    if "svg" in formats or "png" in formats:
        svg_text, used = _svg(scene, engine)
        result.engine = used
        if "svg" in formats:
            result.svg = base.with_name(base.name + ".svg")
            write_atomic(result.svg, svg_text)
    if "png" in formats:
        png_path = base.with_name(base.name + ".png")
        made = False
        if engine in ("auto", "graphviz") and _dot_executable():
            try:
                write_atomic(png_path, _graphviz(dot_text, "png"))
                made = True
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
                result.notes.append(f"Graphviz could not write the PNG: {exc}")
        if not made:
            made = _png_from_svg(svg_text, png_path)
        if made:
            result.png = png_path
        else:
            result.notes.append(PNG_NEEDS_GRAPHVIZ)
            warnings.warn(PNG_NEEDS_GRAPHVIZ, RuntimeWarning, stacklevel=2)
    return result


def _png_from_svg(svg_text: str, png_path: Path) -> bool:
    """Convert with rsvg-convert or cairosvg when one of them is there (neither is required)."""
    exe = shutil.which("rsvg-convert")
    if exe:
        result = subprocess.run([exe, "-f", "png", "-z", "1.5", "-b", "white"],
                                input=svg_text.encode("utf-8"), capture_output=True, timeout=120,
                                check=False)
        if result.returncode == 0 and result.stdout:
            write_atomic(png_path, result.stdout)
            return True
    try:
        import cairosvg  # type: ignore[import-not-found]
    except Exception:
        return False
    write_atomic(png_path, cairosvg.svg2png(bytestring=svg_text.encode("utf-8"), scale=1.5,
                                            background_color="white"))
    return True
