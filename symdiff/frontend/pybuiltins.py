"""Python's own builtins and containers in traced programs: ``range``, ``enumerate``, ``zip``,
``reversed``, ``sum``, ``list``, ``tuple``, and lists that grow (``hs.append(h)``).

Containers are static: a list of traced values is a Python list while tracing, so a loop over it
unrolls and an index into it is resolved at once. ``sum`` of arrays adds them up in the graph.
"""

from __future__ import annotations


import ast

from .rolled import long_range
from .statements import MAX_ITERATIONS
from .calls import Tracer, call


def _no_keywords(t: Tracer, node: ast.Call, kwargs: dict) -> None:
    if kwargs:
        raise t.program.error(f"{t.what(node.func)}() takes no keyword arguments here", node)


def _sequence(t: Tracer, node: ast.Call, value) -> list:
    """A container's items (the rows of an array, the steps of a range)."""
    return t.items(value, node)


def _sequence_and_start(t: Tracer, node, args, kwargs, name: str) -> tuple:
    """``f(sequence, start)`` or ``f(sequence, start=...)``: enumerate's and sum's arguments."""
    start = kwargs.pop("start", 0)
    _no_keywords(t, node, kwargs)
    if len(args) == 2:
        args, start = args[:1], args[1]
    if len(args) != 1:
        raise t.program.error(f"{name}() takes one sequence (and a start)", node)
    return args[0], start


@call("builtin.range")
def _range(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    if not 1 <= len(args) <= 3:
        raise t.program.error("range() takes 1 to 3 integers", node)
    bounds = [t.static_int(a, node) for a in args]
    if len(bounds) == 3 and bounds[2] == 0:
        raise t.program.error("range() step must not be zero", node)
    steps = range(*bounds)
    if len(steps) > MAX_ITERATIONS and long_range(t, steps) is not None:
        return long_range(t, steps)  # only a rolled for loop runs over it (rolled.py)
    if len(steps) > MAX_ITERATIONS:
        raise t.program.error(f"range of {len(steps):,} steps: symdiff unrolls loops, so keep "
                              f"them under {MAX_ITERATIONS:,}", node)
    return steps


@call("builtin.enumerate")
def _enumerate(t: Tracer, node, args, kwargs):
    sequence, start = _sequence_and_start(t, node, args, kwargs, "enumerate")
    start = t.static_int(start, node)
    return [(start + k, item) for k, item in enumerate(_sequence(t, node, sequence))]


@call("builtin.zip")
def _zip(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    return list(zip(*[_sequence(t, node, a) for a in args]))


@call("builtin.reversed")
def _reversed(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    if len(args) != 1:
        raise t.program.error("reversed() takes one sequence", node)
    return _sequence(t, node, args[0])[::-1]


@call("builtin.list")
def _list(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    return [] if not args else list(_sequence(t, node, args[0]))


@call("builtin.tuple")
def _tuple(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    return () if not args else tuple(_sequence(t, node, args[0]))


@call("builtin.sum")
def _sum(t: Tracer, node, args, kwargs):
    """``sum(values, start=0)``: the values added up, left to right, as Python does."""
    sequence, total = _sequence_and_start(t, node, args, kwargs, "sum")
    for item in _sequence(t, node, sequence):
        total = t.binop(ast.Add(), total, item, node)
    return total


@call("list.append")
def _append(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    if len(args) != 2:
        raise t.program.error("append() takes one value", node)
    args[0].append(args[1])
    return None


@call("list.extend")
def _extend(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    if len(args) != 2:
        raise t.program.error("extend() takes one sequence", node)
    args[0].extend(_sequence(t, node, args[1]))
    return None


@call("list.pop")
def _pop(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    items, where = args[0], (t.static_int(args[1], node) if len(args) > 1 else -1)
    if not items or not -len(items) <= where < len(items):
        raise t.program.error("pop() from an empty list, or past its end", node)
    return items.pop(where)


@call("list.insert")
def _insert(t: Tracer, node, args, kwargs):
    _no_keywords(t, node, kwargs)
    if len(args) != 3:
        raise t.program.error("insert() takes a position and a value", node)
    args[0].insert(t.static_int(args[1], node), args[2])
    return None


@call("builtin.float")
def _float(t: Tracer, node, args, kwargs):
    """``float(x)``: a number stays a number, a traced scalar stays itself."""
    _no_keywords(t, node, kwargs)
    if len(args) != 1:
        raise t.program.error("float() takes one value", node)
    value = args[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if t.is_var(value) and t.shape_of(value, node) == ():
        return value
    raise t.program.error("float() takes a number or a scalar", node)


@call("builtin.int")
def _int(t: Tracer, node, args, kwargs):
    """``int(n)`` of a value known while tracing (a size, a count)."""
    _no_keywords(t, node, kwargs)
    if len(args) != 1:
        raise t.program.error("int() takes one value", node)
    value = args[0]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return t.static_int(value, node)
