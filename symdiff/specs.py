"""What one trace of a program yields (a :class:`Specialization`), the cache a forward pass
hands its backward, and how generated modules are loaded (verified first)."""

from __future__ import annotations

import hashlib
import linecache
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .ad.adjoint import Backward
from .codegen.bytecode import verified_code
from .ir.graph import Graph, Shape


@dataclass
class Specialization:
    """One traced graph (for one input signature) with its generated code."""

    graph: Graph
    backward: Backward
    source: str                       # the module that runs: value-and-gradient function(s)
    function: Callable
    scalar_function: Callable | None  # the math twin, written on the first call with floats
    shapes: dict[str, Shape] | None
    kinds: dict[str, str] | None
    extra: list[str]
    docstring: str
    scalar_ok: bool
    full_source: str | None = None    # the same plus the forward/backward layer API
    layer_api: dict | None = None
    index_bounds: dict | None = None  # index input -> the size of the axis it selects along
    sizes: Any = None                 # general: the sized module (codegen/sizes.py Sized)
    bound_sizes: dict | None = None   # general: index input -> the size symbol it selects along
    rank: tuple | None = None         # the ranks and dtypes of the call it was traced for

    def defer(self, make: Callable[[], tuple[str, Callable]], now: bool = False) -> None:
        """Write ``source`` and ``function`` (``make()``) when first read, or ``now``."""
        if now:
            self.source, self.function = make()
            return
        del self.source, self.function
        self.__dict__["_make"] = make

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: deferred ones
        make = self.__dict__.get("_make")
        if make is None or name not in ("source", "function"):
            raise AttributeError(name)
        self.source, self.function = make()
        del self.__dict__["_make"]
        return self.__dict__[name]


class Cache(dict):
    """What a forward pass keeps for its backward: the generated forward's dict of arrays, which
    also remembers the specialization (input shapes) it came from."""

    def __init__(self, values: dict, specialization: Specialization, owner: object = None,
                 out: Any = None):
        super().__init__(values)
        self.out_shapes = None if out is None else [np.shape(o) for o in
                                                    (out if isinstance(out, tuple) else (out,))]
        self.owner = owner            # the compiled program it belongs to (its token)
        self.made = frozenset(values)  # what the backward will read
        self.specialization = specialization


def load_module(source: str, name: str) -> dict:
    """Verify generated code, then run it in a fresh namespace (linecache keeps tracebacks readable)."""
    return load_verified(source, name)


def load_verified(source: str, name: str) -> dict:
    """``load_module``'s work (one name that tests can watch for every module loaded)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"<symdiff-{name}-{digest}>"
    code = verified_code(source, filename)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"symdiff_generated_{digest}")
    exec(code, module.__dict__)  # noqa: S102 -- verified generated code, never user text
    return module.__dict__
