"""Vectorized loops: a rolled loop whose steps are independent except for sums becomes array code.

``for i in range(n - 1): s = s + 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2`` adds up
terms that do not depend on one another: each step reads ``x`` at the counter and adds to ``s``.
Such a loop is the sum of one array expression over the steps::

    s = s + np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

and its gradient is the vectorized one a person writes by hand, with no loop and no tape.

:func:`vectorize` reads the body a rolled loop traced (:class:`~symdiff.ops.loops.LoopBody`) and
rebuilds it in the program's graph with one more leading axis, the steps: ``x[i + c]`` becomes the
slice of ``x`` the counter runs over, the counter used as a number ``np.arange``, an elementwise
op the same op on the stacked operands (axes aligned as NumPy broadcasts them per step), a sum
the same sum one axis further, ``row @ w`` the stacked rows times ``w``. A carried value must be
its value before the loop plus (or minus) terms that read no carried value; it becomes that
value plus the terms summed over the steps. A value first bound in the body holds its last
step's value after the loop. Anything else (a carried value read by a term: a recurrence, a
product, an index outside the array, an op with no rule here) leaves the loop rolled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.graph import Graph, Node
from ..ops import OPS, is_elementwise
from ..ops.loops import LoopBody

ENABLED = True  # symdiff's tests switch it off to compare with the rolled loop


@dataclass(frozen=True)
class Stacked:
    """A body value that differs per step: ``node`` of the program's graph holds every step's
    value stacked on a leading axis; ``shape`` is the value's shape in one step."""

    node: int
    shape: tuple


@dataclass(frozen=True)
class Counter:
    """An integer of the step, ``scale * i + offset``, not yet made an array."""

    scale: int
    offset: int


class NotVectorizable(Exception):
    """The loop stays rolled."""


def vectorize(graph: Graph, body: LoopBody, inits: list[int], frees: list[int]) -> list[int] | None:
    """The loop's results (one node of ``graph`` per ``body.names``) as array code, or None."""
    if not ENABLED or body.steps is None or body.generic:
        return None
    try:
        return _Vectorizer(graph, body, frees).results(inits)
    except Exception:  # noqa: BLE001 -- NotVectorizable, or a shape no rule foresaw: stay rolled
        return None


class _Vectorizer:
    def __init__(self, graph: Graph, body: LoopBody, frees: list[int]):
        self.graph, self.body, self.inner = graph, body, body.graph
        self.steps = body.steps
        self.carried = {self.inner.inputs[name]: name for name in body.carried}
        self.values: dict[int, object] = {}  # body node -> outer node, Stacked or Counter
        for name, scale, offset in body.counters:
            self.values[self.inner.inputs[name]] = Counter(scale, offset)
        for name, node in zip(body.free, frees):
            self.values[self.inner.inputs[name]] = node
        self.reads_carried = self._reads_carried()

    def _reads_carried(self) -> set[int]:
        return self.inner.descendants(list(self.carried)) if self.carried else set()

    # ------------------------------------------------------------------ the loop's results
    def results(self, inits: list[int]) -> list[int]:
        outputs = self.inner.outputs
        out = []
        for k, node in enumerate(outputs):
            if k < len(inits):
                out.append(self._accumulated(node, inits[k], self.inner.inputs[self.body.carried[k]]))
            else:
                out.append(self._last(node))
        return out

    def _accumulated(self, node: int, init: int, carried: int) -> int:
        """``carried`` after the loop: its value before plus every step's terms, added up in
        one array and summed."""
        if node not in self.reads_carried:
            return self._last(node)  # overwritten each step: the last step's value
        if self.inner.shape(node) != self.inner.shape(carried):
            raise NotVectorizable
        step = self._added(self._terms(node, carried), self.inner.shape(node))
        if step is None:
            return init
        if isinstance(step, Counter):  # s = s + i
            step = Stacked(self._arange(step), ())
        if isinstance(step, Stacked):
            return self.graph.apply("add", init, self.graph.apply("sum", step.node,
                                                                  attrs=((0,), False)))
        return self.graph.apply("add", init, self.graph.apply(
            "mul", self.graph.const(len(self.steps)), step))

    def _terms(self, node: int, base: int) -> list[tuple[int, object]]:
        """``node`` as ``base`` plus or minus terms that read no carried value: the terms'
        values, signed, in the order the body adds them. A ``where`` that adds in one branch
        only (``if i > 1: s = s + t``) adds ``where(i > 1, t, 0)``."""
        terms = []
        while node != base:
            op, args = self.inner[node].op, self.inner[node].args
            if op in ("add", "sub") and len(args) == 2:
                a, b = args
                if a in self.reads_carried and b not in self.reads_carried:
                    terms.append((1 if op == "add" else -1, self._value(b)))
                    node = a
                elif op == "add" and b in self.reads_carried and a not in self.reads_carried:
                    terms.append((1, self._value(a)))
                    node = b
                else:
                    raise NotVectorizable  # a recurrence, or carried - term
            elif op == "where" and args[0] not in self.reads_carried:
                terms.append((1, self._branch(node)))
                node = args[2] if self._on_chain(args[1], args[2]) else args[1]
            else:
                raise NotVectorizable  # a product, a maximum: no sum
        return terms[::-1]

    def _on_chain(self, node: int, base: int) -> bool:
        try:
            self._terms(node, base)
        except NotVectorizable:
            return False
        return True

    def _branch(self, node: int):
        """``where(m, base + terms, base)`` (or the branches swapped) as ``where(m, terms, 0)``."""
        mask, a, b = self.inner[node].args
        shape = self.inner.shape(node)
        zero = self.graph.const(0.0)
        if self._on_chain(a, b):
            taken = (self._added(self._terms(a, b), shape) or zero, zero)
        elif self._on_chain(b, a):
            taken = (zero, self._added(self._terms(b, a), shape) or zero)
        else:
            raise NotVectorizable
        return self.apply("where", [self._value(mask), *taken], shape)

    def _added(self, terms: list[tuple[int, object]], shape: tuple):
        """Signed terms added up: a value, or None for no terms."""
        total = None
        for sign, value in terms:
            if total is None:
                total = value if sign > 0 else self.apply("neg", [value], shape)
            else:
                total = self.apply("add" if sign > 0 else "sub", [total, value], shape)
        return total

    def _last(self, node: int) -> int:
        if node in self.reads_carried:
            raise NotVectorizable
        value = self._value(node)
        if isinstance(value, Counter):
            raise NotVectorizable  # an integer of the step: left to the rolled loop
        if isinstance(value, Stacked):
            return self.graph.apply("index", value.node, attrs=((("int", -1),),))
        return value

    # ------------------------------------------------------------------ the body, stacked
    def _value(self, node: int):
        """The body value ``node`` in the program's graph: a node (the same every step), a
        :class:`Stacked` node or a :class:`Counter`."""
        if node not in self.values:
            for n in self._needed(node):
                self.values[n] = self._stack(n)
        return self.values[node]

    def _needed(self, node: int) -> list[int]:
        """The body nodes ``node`` needs that are not built yet, in graph order."""
        seen, stack = set(), [node]
        while stack:
            n = stack.pop()
            if n not in seen and n not in self.values:
                if n in self.carried:
                    raise NotVectorizable
                seen.add(n)
                stack.extend(self.inner[n].args)
        return sorted(seen)

    def _stack(self, n: int):
        node = self.inner[n]
        if node.op == "const":
            return self.graph.intern(node)
        if node.shape is None:
            raise NotVectorizable
        args = [self.values[a] for a in node.args]
        if not any(isinstance(a, (Stacked, Counter)) for a in args):
            return self.graph.apply(node.op, *args, attrs=node.attrs)
        rule = _RULES.get(node.op) or (_elementwise if is_elementwise(node.op) else None)
        if rule is None:
            raise NotVectorizable
        built = rule(self, node, args)
        if self.graph.shape(built.node) != (len(self.steps),) + node.shape:
            raise NotVectorizable  # a broadcast the rule did not foresee
        return built

    def _arange(self, counter: Counter) -> int:
        first = counter.scale * self.steps[0] + counter.offset
        stride = counter.scale * self.steps.step
        last = counter.scale * self.steps[-1] + counter.offset
        stop = last + (1 if stride > 0 else -1)
        return self.graph.apply("arange", attrs=(first, stop, stride))

    def apply(self, op: str, values: list, shape: tuple, attrs: tuple = ()):
        """An elementwise op on body values whose result has ``shape`` in one step."""
        if not any(isinstance(a, (Stacked, Counter)) for a in values):
            return self.graph.apply(op, *values, attrs=attrs)
        operands = [self.stacked(a, shape) if isinstance(a, (Stacked, Counter)) else a
                    for a in values]
        return Stacked(self.graph.apply(op, *operands, attrs=attrs), shape)

    def stacked(self, value, shape: tuple) -> int:
        """A stacked value (a counter made an array) with axes after the steps' so that it
        broadcasts as a value of ``shape`` does in one step."""
        if isinstance(value, Counter):
            value = Stacked(self._arange(value), ())
        missing = len(shape) - len(value.shape)
        if missing <= 0:
            return value.node
        full = (len(self.steps),) + (1,) * missing + value.shape
        return self.graph.apply("reshape", value.node, attrs=(full,))

    def slice_at(self, counter: Counter, length: int) -> tuple | None:
        """The slice ``("slice", start, stop, step)`` the counter runs over in an axis of
        ``length``; None where an index falls outside it or changes sign (wraps around)."""
        first = counter.scale * self.steps[0] + counter.offset
        last = counter.scale * self.steps[-1] + counter.offset
        stride = counter.scale * self.steps.step
        if stride == 0 or not (-length <= min(first, last) and max(first, last) < length) or \
                (first < 0) != (last < 0):
            return None
        if first < 0:
            first, last = first + length, last + length
        if stride > 0:  # a stop near the end counts from it, as x[:-1] does
            stop = None if last + 1 == length else last + 1 if stride > 1 or \
                length - last - 1 > last + 1 else last + 1 - length
            return ("slice", None if first == 0 else first, stop, None if stride == 1 else stride)
        return ("slice", first, None if last == 0 else last - 1, stride)


def _elementwise(v: _Vectorizer, node: Node, args: list) -> Stacked:
    return v.apply(node.op, args, node.shape, node.attrs)


def _index(v: _Vectorizer, node: Node, args: list) -> Stacked:
    """``x[i + c, ...]`` of an array the same every step: the slice of steps; ``row[...]`` of a
    stacked value: the same index after the steps' axis."""
    (spec,) = node.attrs
    source, positions = args[0], args[1:]
    if isinstance(source, Stacked):
        if positions:
            raise NotVectorizable  # index arrays after the steps' axis could move it
        full = (("slice", None, None, None),) + spec
        return Stacked(v.graph.apply("index", source.node, *positions, attrs=(full,)), node.shape)
    if isinstance(source, Counter) or not spec or spec[0][0] != "array":
        raise NotVectorizable
    counter = positions[spec[0][1]]
    rest = spec[1:]
    if not isinstance(counter, Counter) or \
            any(item[0] == "array" and isinstance(positions[item[1]], (Stacked, Counter))
                for item in rest):
        raise NotVectorizable
    shape = v.graph.shape(source)
    steps = v.slice_at(counter, shape[0]) if shape else None
    if steps is None:
        raise NotVectorizable
    if steps == ("slice", None, None, None) and not rest:
        return Stacked(source, node.shape)  # the steps run over the whole axis: x itself
    others = [p for k, p in enumerate(positions) if k != spec[0][1]]
    renumbered = tuple(("array", item[1] - (item[1] > spec[0][1])) if item[0] == "array" else item
                       for item in rest)
    return Stacked(v.graph.apply("index", source, *others, attrs=((steps,) + renumbered,)),
                   node.shape)


def _sum(v: _Vectorizer, node: Node, args: list) -> Stacked:
    axes, keepdims = node.attrs
    (value,) = args
    stacked = v.stacked(value, ())
    if not axes:
        return Stacked(stacked, node.shape)
    ndim = len(v.inner.shape(node.args[0]))
    shifted = tuple(a % ndim + 1 for a in axes)
    return Stacked(v.graph.apply("sum", stacked, attrs=(shifted, keepdims)), node.shape)


def _matmul(v: _Vectorizer, node: Node, args: list) -> Stacked:
    """``row @ w`` with a stacked row and ``w`` the same every step: the rows times ``w``."""
    a, b = args
    if not isinstance(a, Stacked) or isinstance(b, (Stacked, Counter)) or len(a.shape) != 1:
        raise NotVectorizable
    return Stacked(v.graph.apply("matmul", a.node, b), node.shape)


_RULES = {"index": _index, "sum": _sum, "matmul": _matmul}

assert all(op in OPS for op in _RULES)
