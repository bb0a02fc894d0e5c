"""Rolled loops: ``for i in range(K)`` traced once, whatever K, when each step does the same thing.

The body is traced a single time with the loop-carried values and the counter ``i`` as fresh
inputs (so ``x[i]`` and arithmetic on ``i`` are values of the step, and a branch on ``i`` becomes
a ``where``, exactly as a value condition is). What the body computed becomes a graph of its own,
a :class:`~symdiff.ops.loops.LoopBody`, and the program's graph gets one ``loop`` node (see
``symdiff/ops/loops.py``): compile time then depends on the body, not on K.

A ``while`` loop whose condition depends on the data (which cannot be unrolled) is rolled the same
way, its test traced on the step's carried values: the generated loop counts the steps it ran (the
backward loop runs as many, in reverse) and stops with a clear error past :data:`MAX_WHILE` steps.

Rolling is tried first and given up, leaving no trace, wherever its result could differ from the
unrolled program's; the loop is then unrolled as before. It is given up when the body contains
``break``, ``continue``, ``return``, a ``def`` or a ``lambda``; grows or changes a list or anything
outside it; binds a name to something other than an array or number (a tuple, a list; a number
known while tracing only where it is the same each step); reads a name before the first step
assigns it; changes the shape of a carried value; carries a mask or integers; leaves a carried
value equal to an input (``x = x``, ``a, b = b, a``); reads ``i`` where a number known while
tracing is needed (``range(i)``, ``x[i:i + 2]``; ``x[i + 1]`` and ``x[2 * i - 1]`` are integers
of the step, see :func:`counter_arithmetic`); or when a carried array is also held by another
name (an update in place would be seen there). Loops inside the body are unrolled in it.
"""

from __future__ import annotations

import ast
from collections import ChainMap
from typing import Any

from ..ir.graph import Graph, Node
from ..ops import OPS
from ..ops.loops import LoopBody
from .vectorized import vectorize

ENABLED = True        # symdiff's tests switch rolling off to compare with the unrolled program
MIN_STEPS = 2         # a loop of one step is unrolled
MAX_STEPS = 10 ** 7   # a longer one is unrolled, which refuses it (its tape would not fit)
MAX_WHILE = 100_000   # steps of a rolled while loop on a value condition (an error past it)
REFUSED = (ast.Break, ast.Continue, ast.Return, ast.FunctionDef, ast.Lambda, ast.Yield,
           ast.YieldFrom, ast.Global, ast.Nonlocal, ast.AsyncFunctionDef)


class LongRange:
    """``range(K)`` longer than unrolling allows: only a rolled ``for`` loop runs over it."""

    def __init__(self, steps: range):
        self.steps = steps

    def refusal(self, limit: int) -> str:
        return (f"range of {len(self.steps):,} steps: symdiff unrolls this loop (its steps are "
                f"not all alike, or it builds a list), so keep it under {limit:,} steps")


def long_range(t: Any, steps: range) -> LongRange | None:
    """The value of a ``range`` too long to unroll, where a rolled loop may run over it."""
    if _loops_kept(t) and not t.__dict__.get("_rolling") and len(steps) <= MAX_STEPS:
        return LongRange(steps)
    return None


def roll(t: Any, stmt: ast.For, steps: range, var: type, retrace: tuple = ()) -> bool:
    """Trace ``stmt`` as one rolled loop and bind its results; False (nothing changed) where
    it does not apply. ``var`` is the tracer's value class; its ``retrace`` exceptions (shapes
    needed, an input's value needed) propagate: unrolling would meet them after its budget."""
    if not 1 <= len(steps) <= MAX_STEPS or not isinstance(stmt.target, ast.Name) or \
            len(steps) < MIN_STEPS and not getattr(t, "vectorize", False):
        return False
    # A loop of one step vectorizes as one of many does (the same code for every size), but
    # is not worth a rolled loop: it unrolls.
    return _attempt(t, stmt, var, steps, retrace, rolls=len(steps) >= MIN_STEPS)


def roll_while(t: Any, stmt: ast.While, var: type, retrace: tuple = ()) -> bool:
    """``while c:`` on a value condition as a rolled loop that counts its steps (at most
    :data:`MAX_WHILE`, a clear error past it); False where it does not apply. The tracer's
    ``retrace`` exceptions (shapes needed, an input's value needed) propagate."""
    return _attempt(t, stmt, var, None, retrace)


def _attempt(t: Any, stmt: ast.For | ast.While, var: type, steps: range | None,
             retrace: tuple = (), rolls: bool = True) -> bool:
    if not _loops_kept(t) or t.__dict__.get("_rolling") or \
            any(isinstance(n, REFUSED) for s in stmt.body for n in ast.walk(s)):
        return False
    carried = _carried(t, stmt)
    if carried is None:
        return False
    saved = _snapshot(t.env)
    outer, t.env = t.env, t.env.new_child()
    t.__dict__["_rolling"] = True
    try:
        traced = _trace_body(t, stmt, steps, carried, var)
    except retrace as exc:
        if "@" in getattr(exc, "name", ""):
            traced = None  # the counter or a carried value asked for as a static integer
        else:
            _restore(outer, saved)
            raise
    except Exception:  # noqa: BLE001 -- anything the body does not allow: unroll instead
        traced = None
    finally:
        t.__dict__["_rolling"] = False
        t.env = outer
    if traced is None or not _unchanged(t.env, saved):
        _restore(t.env, saved)
        return False
    body, inits, frees, statics = traced
    t.graph.current_line = stmt.lineno
    results = vectorize(t.graph, body, inits, frees) if getattr(t, "vectorize", False) else None
    if results is None and not (rolls and getattr(t, "roll", False)):
        return False  # vectorizing only (a Hessian's trace, one step): the loop unrolls
    if results is None:
        loop = t.graph.apply("loop", *inits, *frees, attrs=(body,))
        results = [t.graph.apply("loop_out", loop, attrs=(k,)) for k in range(len(body.names))]
    for name, result in zip(body.names, results):
        t.bind_name(name, var(result))
    for name, value in statics.items():
        t.bind_name(name, value)
    if steps is not None:
        t.bind_name(stmt.target.id, steps[-1])
    return True


def _loops_kept(t: Any) -> bool:
    """Whether the tracer keeps loops from unrolling: as loops, or as array code."""
    return ENABLED and (getattr(t, "roll", False) or getattr(t, "vectorize", False))


def _carried(t: Any, stmt: ast.For | ast.While) -> dict[str, Any] | None:
    """The names the body assigns that hold an array or number before the loop, with their
    values; None where one holds something else, or shares its array with another name."""
    names = _assigned(stmt.body)
    if isinstance(stmt, ast.For) and stmt.target.id in names:
        return None
    carried = {}
    for name in names:
        if name not in t.env:
            continue
        value = t.env[name]
        if not t.is_data(value) or t.is_var(value) and not _plain_float(t.graph, value.node):
            return None
        carried[name] = value
    updated = _updated_in_place(stmt.body)
    calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in t.env
                for s in stmt.body for n in ast.walk(s))  # a function of the program: it may too
    arrays = [v for k, v in carried.items()
              if (calls or k in updated) and t.is_var(v) and t.graph.shape(v.node) != ()]
    if arrays and _shared(t.env, arrays, carried):
        return None
    return carried


def _updated_in_place(body: list[ast.stmt]) -> set[str]:
    """Names whose array the body may update in place (``x += 1``, ``x[i] = v``), which NumPy
    would show under every other name holding it."""
    names = set()
    for node in (n for stmt in body for n in ast.walk(stmt)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            if isinstance(node, ast.AugAssign) and isinstance(target, ast.Name):
                names.add(target.id)
            while isinstance(target, ast.Subscript):
                target = target.value
                if isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def _assigned(body: list[ast.stmt]) -> list[str]:
    """Names a block binds: assignment targets, updated arrays (``x[i] = v``), loop targets."""
    names: dict[str, None] = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names[node.id] = None
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    while isinstance(target, ast.Subscript):
                        target = target.value
                    if isinstance(target, ast.Name):
                        names[target.id] = None
    return list(names)


def _shared(env: ChainMap, arrays: list, carried: dict) -> bool:
    """Whether a carried array is also held under another name or in a list."""
    ids = {id(v) for v in arrays}
    for scope in env.maps:
        for name, value in scope.items():
            if id(value) in ids and (name not in carried or value is not carried[name]):
                return True
            if isinstance(value, (list, tuple)) and any(id(item) in ids for item in value):
                return True
    return len(ids) < len(arrays)


def _plain_float(graph: Graph, n: int) -> bool:
    """A float value: not an integer input or result, not a mask."""
    node = graph[n]
    if node.op == "input":
        return node.attrs[1] == "float"
    spec = OPS[node.op]
    return spec.kind != "compare" and not spec.integer and not spec.casts


def _integer(graph: Graph, n: int) -> bool:
    """An integer value (an index input, or what reshapes and indexing make of one)."""
    while True:
        node = graph[n]
        if node.op == "input":
            return node.attrs[1] == "index"
        if OPS[node.op].integer:
            return True
        if node.op not in ("reshape", "transpose", "index", "expand", "copy"):
            return False
        n = node.args[0]


def _trace_body(t: Any, stmt: ast.For | ast.While, steps: range | None, carried: dict,
                var: type):
    """Trace the body once with fresh inputs; the body graph, initial values, free values and
    the names bound to static numbers, or None where the steps would not all be alike."""
    graph = t.graph
    generic = bool(graph.inputs) and all(graph.shape(n) is None for n in graph.inputs.values())
    uid = t.__dict__["_loops"] = t.__dict__.get("_loops", 0) + 1
    fresh = {}
    for name, value in carried.items():
        shape = None if generic else graph.shape(value.node) if t.is_var(value) else ()
        fresh[name] = graph.intern(Node("input", (), (f"{name}@loop{uid}", "float"), shape))
        t.env[name] = var(fresh[name])
    target = stmt.target.id if steps is not None else None
    entry = _entry(t, stmt, target, uid, var)
    if entry is None:
        return None
    counters, condition = entry
    t.__dict__["_counters"] = counters
    try:
        t.exec_block(stmt.body)
    finally:
        del t.__dict__["_counters"]
    results = _results(t, target, counters, carried, fresh, generic, var)
    if results is None or condition is not None and any(k not in carried for k in results[0]):
        return None  # (a name first bound in a while loop's body: unbound after no steps)
    names, outputs, statics = results
    # A name first bound in the body to a value that does not depend on the step (y = 2 * x)
    # holds that value after the loop: it is no result of the loop.
    reached = graph.descendants(list(fresh.values()) + list(counters))
    invariant = [k for k, o in zip(names, outputs) if k not in carried and o not in reached]
    statics.update({k: t.env.maps[0][k] for k in invariant})
    kept = [(k, o) for k, o in zip(names, outputs) if k not in invariant]
    names, outputs = [k for k, _ in kept], [o for _, o in kept]
    inits = [t.as_node(carried[k], stmt) for k in carried]
    built = _body_graph(graph, [fresh[k] for k in carried], counters, outputs, names, condition)
    if built is None:
        return None
    body_graph, frees, free_names, counter_names, inner_condition = built
    body = LoopBody(body_graph, steps, target or "", names, list(carried), free_names,
                    counter_names, generic, condition=inner_condition, cap=MAX_WHILE,
                    header=f"while {t.what(stmt.test)}" if target is None else
                    f"for {target} in {_range_text(steps)}")
    return body, inits, frees, statics


def _entry(t: Any, stmt: ast.For | ast.While, target: str | None, uid: int, var: type):
    """A for loop's counter as a fresh input (``{node: (scale, offset)}``), or a while loop's
    test on the step's carried values (its mask node); None where the test is not a value."""
    if target is not None:
        counter = t.graph.intern(Node("input", (), (f"{target}@loop{uid}", "index"), ()))
        t.env[target] = var(counter)
        return {counter: (1, 0)}, None
    test = t.evaluate(stmt.test)
    if not t.is_var(test):
        return None
    condition = t.condition(test, stmt.test)
    if t.graph.shape(condition) not in (None, ()):
        return None  # Python's while refuses an array's truth too
    return {}, condition


def _results(t: Any, target: str | None, counters: dict, carried: dict, fresh: dict,
             generic: bool, var: type):
    """What the body bound: (names, their values' nodes, names bound to static numbers), or
    None where a step could differ from another (see the module's docstring)."""
    graph, scope = t.graph, t.env.maps[0]
    # Names bound to numbers known while tracing (an inner loop's variable) are the same each
    # step, as they cannot depend on the step; anything else static must not change.
    statics = {k: v for k, v in scope.items() if k != target and not t.is_var(v)}
    if target is not None and scope.get(target) != var(next(iter(counters))) or \
            any(k in carried or not _plain_static(v) for k, v in statics.items()):
        return None
    names = list(carried) + [k for k in scope if k not in carried and k != target
                             and k not in statics]
    outputs = [scope[k].node for k in names]
    if any(not _plain_float(graph, o) for o in outputs):
        return None
    if not generic and any(graph.shape(o) != graph.shape(fresh[k]) for k, o in
                           zip(names, outputs) if k in fresh):
        return None  # a carried value changes shape: each step is not the same
    return names, outputs, statics


def _plain_static(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_plain_static(v) for v in value)
    return value is None or isinstance(value, (int, float, str))


def _range_text(steps: range) -> str:
    if steps.step != 1:
        return f"range({steps.start}, {steps.stop}, {steps.step})"
    return f"range({steps.stop})" if steps.start == 0 else f"range({steps.start}, {steps.stop})"


def _body_graph(graph: Graph, inputs: list[int], counters: dict, outputs: list[int],
                names: list[str], condition: int | None):
    """Copy what the body computed into a graph of its own: (graph, free values, their input
    names there, the counters it reads as ``(input name, scale, offset)``, the condition's
    node there)."""
    reached = graph.descendants(inputs + list(counters))
    body: set[int] = set()
    stack = [o for o in outputs + [condition] if o in reached]
    while stack:
        n = stack.pop()
        if n not in body:
            body.add(n)
            stack.extend(a for a in graph[n].args if a in reached)
    if any(o not in body or graph[o].op == "input" for o in outputs):
        return None  # an output is an input or computed outside: it would alias it
    frees = sorted({a for n in body for a in graph[n].args
                    if a not in body and graph[a].op != "const"} |
                   ({condition} if condition is not None and condition not in body else set()))
    out = Graph()
    out.single = graph.single
    mapping: dict[int, int] = {}
    taken: set[str] = set()
    for name, n in zip(names, inputs):
        mapping[n] = out.input(_unique(name, taken), graph.shape(n), "float")
    counter_names = []
    for counter, (scale, offset) in counters.items():
        if counter in body:
            counter_names.append((_unique(_base_name(graph, counter), taken), scale, offset))
            mapping[counter] = out.input(counter_names[-1][0], (), "index")
    free_names = []
    for f in frees:
        kind = "float" if _plain_float(graph, f) else "index" if _integer(graph, f) else \
            "mask" if OPS[graph[f].op].kind == "compare" else None
        if kind is None:
            return None  # a cast: its gradient would need the dtype's rules
        free_names.append(_unique(_base_name(graph, f), taken))
        mapping[f] = out.input(free_names[-1], graph.shape(f), kind)
    for n in sorted(body - set(mapping)):
        node = graph[n]
        args = tuple(mapping[a] if a in mapping else out.intern(graph[a]) for a in node.args)
        mapping[n] = out.intern(Node(node.op, args, node.attrs, node.shape))
        if n in graph.names:
            out.names[mapping[n]] = graph.names[n]
    out.outputs = [mapping[o] for o in outputs]
    out.output_names = list(names)
    out.program_inputs = frozenset(out.inputs)
    return out, frees, free_names, counter_names, mapping.get(condition)


def counter_arithmetic(t: Any, op: ast.operator, a: Any, b: Any, var: type) -> Any:
    """``i + 1``, ``2 * i``, ``i - 1`` in a rolled body: an integer of the step (a counter of
    its own, printed ``i_1 = i + 1``), so that ``x[i + 1]`` indexes; None for anything else."""
    counters = t.__dict__.get("_counters")
    if not counters or not isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
        return None
    flipped = isinstance(b, var) and b.node in counters
    if flipped:
        a, b = b, a
    if not (isinstance(a, var) and a.node in counters and type(b) is int):
        return None
    scale, offset = counters[a.node]
    if isinstance(op, ast.Mult):
        scale, offset = scale * b, offset * b
    elif isinstance(op, ast.Add):
        offset += b
    elif flipped:  # b - i
        scale, offset = -scale, b - offset
    else:
        offset -= b
    found = next((n for n, key in counters.items() if key == (scale, offset)), None)
    if found is None:
        base = t.graph[next(iter(counters))].attrs[0]
        name, loop = base.split("@")
        found = t.graph.intern(Node("input", (), (f"{name}_{len(counters)}@{loop}", "index"), ()))
        counters[found] = (scale, offset)
    return var(found)


def _base_name(graph: Graph, n: int) -> str:
    node = graph[n]
    if node.op == "input":
        return node.attrs[0].split("@")[0]
    return graph.names.get(n, "t")


def _unique(name: str, taken: set[str]) -> str:
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    taken.add(candidate)
    return candidate


def _snapshot(env: ChainMap) -> list:
    """Every scope's bindings and every list's items, to see whether the body changed them."""
    scopes = [(scope, dict(scope)) for scope in env.maps]
    lists: dict[int, tuple] = {}
    stack = [value for scope in env.maps for value in scope.values()]
    while stack:
        value = stack.pop()
        if isinstance(value, (list, tuple)) and id(value) not in lists:
            lists[id(value)] = (value, list(value))
            stack.extend(value)
    return [scopes, [pair for pair in lists.values() if isinstance(pair[0], list)]]


def _unchanged(env: ChainMap, saved: list) -> bool:
    scopes, lists = saved
    for scope, before in scopes:
        if len(scope) != len(before) or any(scope.get(k, _MISSING) is not v
                                            for k, v in before.items()):
            return False
    return all(len(value) == len(items) and all(a is b for a, b in zip(value, items))
               for value, items in lists)


def _restore(env: ChainMap, saved: list) -> None:
    scopes, lists = saved
    for scope, before in scopes:
        scope.clear()
        scope.update(before)
    for value, items in lists:
        value[:] = items


_MISSING = object()
