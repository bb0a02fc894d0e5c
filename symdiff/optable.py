"""The table of what a program may call, read from the registry and the tracer's handlers.

``symdiff ops`` prints it; ``docs/ops.md`` is this table as Markdown (``symdiff ops --markdown``),
and a test checks the two agree, so the list of supported functions cannot go stale.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import sympy

from .ops import OPS, Y
from .frontend.trace import CALLS

ARG_NAMES = ("a", "b", "c")


@dataclass(frozen=True)
class Row:
    spelling: str      # as a user writes it: np.sinh(x), x.sum(...), sigmoid(x)
    op: str            # the registry entry (or the handler) that takes it
    rule: str          # the derivative (elementwise) or the backward rule, in one line
    kink: str          # the convention at kinks, where the op has one


def _spelling(qualified: str) -> str:
    module, name = qualified.split(".", 1)
    return {"numpy": f"np.{name}", "math": f"math.{name}", "method": f"x.{name}()",
            "builtin": f"{name}()", "list": f"list.{name}()"}.get(module, qualified)


def _derivative(op_name: str) -> str:
    """``d/da = ...`` for each argument, from the partials the entry uses."""
    op = OPS[op_name]
    if op.kind == "alias":
        return "rewritten into other ops"
    parts = []
    for k, partial in enumerate(op.partial_templates):
        text = str(partial.subs(Y, sympy.Symbol("y"))).replace("Compare(", "mask(")
        parts.append(f"d/d{ARG_NAMES[k]} = {text}")
    return "; ".join(parts) + ("  (y: the output)" if any(
        p.has(Y) for p in op.partial_templates) else "")


def _handler_rule(handler) -> str:
    doc = inspect.getdoc(handler) or ""
    return doc.splitlines()[0] if doc else "backward by the ops it is made of"


def rows() -> list[Row]:
    """One row per spelling a program may call, in a stable order."""
    out = []
    for qualified in sorted(CALLS):
        if "." not in qualified or qualified.startswith("list."):
            continue  # internal handlers (index, setitem) and list methods
        handler = CALLS[qualified]
        op_name = getattr(handler, "op", None)
        if op_name is not None:
            op = OPS[op_name]
            out.append(Row(_spelling(qualified), op_name, _derivative(op_name), op.kink))
        else:
            out.append(Row(_spelling(qualified), handler.__name__.strip("_"),
                           _handler_rule(handler), ""))
    return out


def text_table() -> str:
    lines = []
    for row in rows():
        kink = f"   [{row.kink}]" if row.kink else ""
        lines.append(f"{row.spelling:<28} {row.op:<16} {row.rule}{kink}")
    lines += ["", "Not supported, and what to write instead:"]
    lines += [f"{spelling:<28} {text}" for spelling, text in unsupported()]
    return "\n".join(lines)


def unsupported() -> list[tuple[str, str]]:
    """NumPy functions symdiff does not support that have an equivalent it does (frontend/hints)."""
    from .frontend.hints import HINTS
    return [(_spelling(name) + (".*" if name == "numpy.random" else ""), text)
            for name, text in sorted(HINTS.items())]


def markdown() -> str:
    head = ("# Supported functions\n\n"
            "Generated from the op registry by `symdiff ops --markdown`; a test keeps this page "
            "equal to that output.\nElementwise functions list their local derivatives (`y` is "
            "the op's own output, `mask(gt, a, b)` the 0/1 mask `a > b`); the others name the "
            "rule their backward follows.\n\n"
            "| spelling | op | derivative or backward rule | convention at kinks |\n"
            "|---|---|---|---|\n")
    body = "".join(f"| `{r.spelling}` | {r.op} | {_cell(r.rule)} | {_cell(r.kink)} |\n"
                   for r in rows())
    missing = ("\n## Not supported, and what to write instead\n\n"
               "| function | why, and what to write instead |\n|---|---|\n" +
               "".join(f"| `{name}` | {_cell(text)} |\n" for name, text in unsupported()))
    return head + body + missing


def _cell(text: str) -> str:
    return text.replace("|", "\\|")

