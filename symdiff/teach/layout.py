"""Laying out a circuit without Graphviz: layers, order within layers, positions."""

from __future__ import annotations

from dataclasses import dataclass


from .scene import _Scene




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
