"""What a traced program may call, by name: the tables the tracer reads and the handler
modules (``numpy_api``, ``numpy_shapes``, ``numpy_linalg``, ``pybuiltins``) fill.

Handlers receive the tracer, the call's syntax node, the evaluated positional arguments and the
keyword arguments, and build graph nodes (or return static values such as shapes). This module
sits below both the tracer and the handlers, so imports run one way: ``trace`` imports the
handler modules, which import this one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

from .hints import hint
from .parse import MODULE_CONSTANTS
from .statements import ELLIPSIS, NEWAXIS, NeedsShapes, Var

__all__ = ["ATTRIBUTES", "CALLS", "ELLIPSIS", "MODULE_VALUES", "NEWAXIS", "Module",
           "NeedsShapes", "Selection", "Tracer", "Var", "call"]

# Handlers receive the tracer (trace.Tracer) as their first argument; they name its type here,
# not by importing it, so that imports run one way.
Tracer = Any


@dataclass(frozen=True, slots=True)
class Selection:
    """``x[mask]`` for a mask computed from the data: as many elements as the mask holds, a
    number known only when the program runs. It is kept as the whole array and its mask, so
    elementwise arithmetic and full reductions (sum, mean, max, min) need no data-dependent
    shape: ``np.sum(x[x > 0])`` is ``np.sum(np.where(x > 0, x, 0))``."""

    values: Var
    mask: Var


@dataclass(frozen=True, slots=True)
class Module:
    name: str        # "numpy" or "math"


# Call handlers by qualified name: "builtin.max", "numpy.exp", "math.exp", "method.sum".
Handler = Callable[[Tracer, ast.Call, list, dict], Any]
CALLS: dict[str, Handler] = {}
# Attributes of traced values (x.T, x.shape) and values of modules (np.pi, np.newaxis).
ATTRIBUTES: dict[str, Callable[[Tracer, ast.Attribute, Var], Any]] = {}
MODULE_VALUES: dict[str, Any] = dict(MODULE_CONSTANTS)


def call(*names: str):
    """Register a call handler under one or more qualified names."""
    def register(fn: Handler) -> Handler:
        for name in names:
            CALLS[name] = fn
        return fn
    return register


def unknown_function(written: str, qualified: str) -> str:
    """The message for a call of a function symdiff does not know: the close matches among the
    functions it does know, in the namespace the program wrote (``np.sigmod`` suggests ``np.`` names,
    ``x.summ`` methods), and where to find the whole list."""
    import difflib

    instead = hint(qualified)
    if instead is not None:  # a NumPy function with an equivalent symdiff accepts
        return f"'{written}' is not supported: {instead} {OPS_POINTER}"
    namespace, _, name = qualified.rpartition(".")
    prefix = written[:len(written) - len(name)] if written.endswith(name) else ""

    def names(space: str) -> list[str]:
        return sorted(k[len(space) + 1:] for k in CALLS
                      if k.startswith(space + ".") and "." not in k[len(space) + 1:])

    candidates = {prefix + m: m for m in names(namespace)}
    if namespace in ("numpy", "math"):  # np.sigmoid: a function symdiff knows by its bare name
        bare = names("builtin")
        if name in bare:
            candidates = {name: name}
        else:
            candidates.update({m: m for m in bare if prefix + m not in candidates})
    matches = difflib.get_close_matches(name, list(candidates.values()), n=3, cutoff=0.65)
    spelled = [w for m in matches for w, c in candidates.items() if c == m][:3]
    message = f"unknown function '{written}'"
    if spelled:
        message += "; did you mean " + " or ".join(dict.fromkeys(spelled)) + "?"
    return f"{message} {OPS_POINTER}"


OPS_POINTER = "(`symdiff ops` lists the functions programs may call, as does docs/ops.md)"


def unsupported_attribute(written: str, qualified: str) -> str:
    """The message for ``np.random`` and other parts of a module symdiff does not know."""
    instead = hint(qualified)
    return f"'{written}' is not supported" + (f": {instead} {OPS_POINTER}" if instead else " here")
