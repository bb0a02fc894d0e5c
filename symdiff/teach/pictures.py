"""Drawing circuits: SVG text, and the front doors to_dot, to_svg and render."""

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


from ..frontend.files import write_atomic
from ..compiler import Compiled
from .circuit import VIEWS, as_circuit
from .layout import (GATE_FONT, LABEL_FONT, LANE_SPLIT, LINE_H, _Box, _Layout, _layout,
                     _text_width)
from .scene import (FONT, INK, SHAPE_COLOR, _ROLE_COLOR, _Scene,
                    _VEdge, _dot_text, _legend, _scene)

__all__ = ["to_svg", "render", "Rendered"]



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


PNG_NEEDS = ("PNG output needs Graphviz's dot (apt-get install graphviz, brew install graphviz, or "
             "conda install graphviz), or rsvg-convert / cairosvg to convert the SVG")
PNG_NEEDS_GRAPHVIZ = PNG_NEEDS + "; wrote the .dot and .svg only"


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


def png_possible(engine: str = "auto") -> bool:
    """Whether :func:`render` can write a PNG here: Graphviz's dot (for the engines that use it),
    rsvg-convert or cairosvg."""
    if engine in ("auto", "graphviz") and _dot_executable():
        return True
    if shutil.which("rsvg-convert"):
        return True
    try:
        import cairosvg  # type: ignore[import-not-found]  # noqa: F401
    except Exception:  # not installed, or installed without the cairo library it loads
        return False
    return True


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


VIEWS["svg"] = to_svg
VIEWS["render"] = render
Compiled.draw_svg = staticmethod(to_svg)
