"""The computational graph: hash-consed SSA nodes in topological order.

A node is ``(op, args, attrs, shape)``; ``args`` are indices of earlier nodes, so the node list is
always in topological order. Building a node that already exists returns the existing one, which is
how a repeated subexpression becomes one value (common-subexpression elimination by construction).

``shape`` is a tuple of ints for programs specialized to concrete input shapes, or ``None`` for the
shape-generic mode of elementwise programs: there every value broadcasts and gradients are summed back
to the shape of their input at run time.
"""

from __future__ import annotations

import math
from itertools import compress
from typing import Iterator, NamedTuple

from ..errors import GraphShapeError
from ..ops import ELEMENTWISE_KINDS, OPS, evaluate_constant

Shape = tuple[int, ...] | None


class Node(NamedTuple):
    """One operation: a tuple, so that it is its own key in the graph's table (hashed and compared
    in C) and is made by ``tuple.__new__`` (a frozen dataclass took 1.6 us)."""

    op: str
    args: tuple[int, ...] = ()
    attrs: tuple = ()
    shape: Shape = ()

    @property
    def is_const(self) -> bool:
        return self.op == "const"

    @property
    def value(self):
        """The value of a ``const`` node."""
        return self.attrs[0]


COMMUTATIVE = frozenset({"add", "mul", "eq", "ne"})
_REACHED_ONLY = bytes([0, 1, 0]) + bytes(253)  # Graph.reached's marks: reached 1, excluded 2


def broadcast_shapes(shapes: list[Shape]) -> Shape:
    if len(shapes) == 2 and shapes[0] == shapes[1] or len(shapes) == 1:
        return shapes[0]  # the common case, first
    if None in shapes:  # (a shape is a tuple or None: the test is by identity, in C)
        return None
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            raise GraphShapeError("shapes " + " and ".join(str(s) for s in shapes) +
                                  f" do not broadcast ({a} != {b})")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def keep_shape(graph: "Graph", new: int, old: int) -> bool:
    return graph.shape(new) == graph.shape(old)


class Graph:
    """Nodes in topological order, with the program's inputs, outputs and user-given names."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._ids: dict[tuple, int] = {}  # (op, args, attrs, shape) -> node id
        self.inputs: dict[str, int] = {}          # parameter name -> input node, in order
        self.outputs: list[int] = []
        self.output_names: list[str | None] = []
        self.names: dict[int, str] = {}            # node -> the user's name for it
        self.lines: dict[int, int] = {}            # node -> source line that created it
        self.current_line: int | None = None
        self.single = False                        # traced for float32 arrays
        # Rolled loops' scalar steps may run on Python floats in NumPy code (codegen/loops.py);
        # not for code numba compiles, which has no float() of an array.
        self.python_steps = False
        self.program_inputs: frozenset[str] = frozenset()  # the inputs when tracing ended
        # Probe traces of a sized module (codegen/sizes.py): probe size -> traced size, so
        # that decisions taken on sizes (buffer reuse, blocks) are the traced call's.
        self.decision_sizes: dict[int, int] = {}

    def decision_shape(self, shape: Shape) -> Shape:
        """The shape that size-dependent code decisions look at (see decision_sizes)."""
        if not self.decision_sizes or shape is None:
            return shape
        return tuple(self.decision_sizes.get(n, n) for n in shape)

    # ------------------------------------------------------------ construction
    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def shape(self, node_id: int) -> Shape:
        return self.nodes[node_id].shape

    def intern(self, node: Node) -> int:
        """Return the id of ``node``, adding it if no equal node exists yet."""
        return self._interned(node)

    def _interned(self, key: tuple) -> int:
        """``intern`` of the node with fields ``key`` (made only if it is new)."""
        ids = self._ids
        # A commutative op is looked up and stored by its arguments in ascending order, so that
        # b * a finds a * b with one lookup; the node keeps the order it was written in.
        lookup = key if key[0] not in COMMUTATIVE or key[1][0] <= key[1][1] else \
            (key[0], key[1][::-1], key[2], key[3])
        found = ids.get(lookup)
        if found is not None:
            return found
        nodes = self.nodes
        new_id = len(nodes)
        nodes.append(tuple.__new__(Node, key))
        ids[lookup] = new_id
        if self.current_line is not None:
            self.lines[new_id] = self.current_line
        return new_id

    def input(self, name: str, shape: Shape, kind: str = "float") -> int:
        node_id = self.intern(Node("input", (), (name, kind), shape))
        self.inputs[name] = node_id
        return node_id

    def const(self, value: float) -> int:
        value = float(value)
        # -0.0 == 0.0 in Python, so the sign is part of the key: x / -0.0 is -inf.
        return self._interned(("const", (), (value, math.copysign(1.0, value)), ()))

    def is_const(self, node_id: int, value: float | None = None) -> bool:
        node = self.nodes[node_id]
        return node.op == "const" and (value is None or node.value == value)

    def apply(self, op: str, *args: int, attrs: tuple = ()) -> int:
        """Build ``op(*args)``, folding constants and identities (:data:`FOLDS`: one rule per op
        that has identities), and hash-cons it."""
        plan = _PLANS.get(op) or _plan(op)
        arity, elementwise, fold_constants, rule, spec = plan
        if arity >= 0 and len(args) != arity:
            raise TypeError(f"{op} takes {arity} arguments, got {len(args)}")
        if not elementwise:
            return self._interned((op, args, attrs, spec.infer_shape(self, args, attrs)))
        nodes = self.nodes
        if len(args) == 2:  # (the common cases without a loop: this runs for every node)
            first, second = nodes[args[0]], nodes[args[1]]
            operands: tuple | list = (first, second)
            shape = first.shape if first.shape == second.shape else \
                broadcast_shapes([first.shape, second.shape])
            constant = first.op == "const" and second.op == "const"
        elif len(args) == 1:
            first = nodes[args[0]]
            operands, shape, constant = (first,), first.shape, first.op == "const"
        else:
            operands = [nodes[a] for a in args]
            shape = broadcast_shapes([n.shape for n in operands])
            constant = all(n.op == "const" for n in operands)
        if constant and fold_constants:
            return self.const(evaluate_constant(op, [n.value for n in operands]))
        if rule is not None:
            folded = rule(self, args, operands, shape)
            if folded is not None:
                return folded
        return self._interned((op, args, attrs, shape))

    def kept(self, node_id: int, shape: Shape) -> int | None:
        """``node_id`` where an identity drops the other operand, if that keeps the result's
        shape (``x * 1`` is not ``x`` where the 1 broadcasts it)."""
        return node_id if self.nodes[node_id].shape == shape else None

    def _one_plus_exp(self, node_id: int) -> int | None:
        """``t`` if ``node_id`` is ``1 + exp(t)`` (either order), else None."""
        node = self.nodes[node_id]
        if node.op != "add":
            return None
        for one, e in (node.args, node.args[::-1]):
            if self.is_const(one, 1.0) and self.nodes[e].op == "exp":
                return self.nodes[e].args[0]
        return None

    # ------------------------------------------------------------ queries
    def consumers(self) -> list[list[int]]:
        """For each node, the nodes that use it (with repetition for repeated arguments)."""
        users: list[list[int]] = [[] for _ in self.nodes]
        for node_id, node in enumerate(self.nodes):
            for arg in node.args:
                users[arg].append(node_id)
        return users

    def ancestors(self, roots: list[int], stop=()) -> set[int]:
        """Every node that ``roots`` depend on, the roots included (iterative: no recursion); the
        walk does not go past the nodes in ``stop`` (which are included)."""
        return set(self.reached(roots, stop))

    def reached(self, roots: list[int], stop=(), exclude: list[int] = ()) -> list[int]:
        """:meth:`ancestors` in ascending (topological) order, leaving out the nodes of
        ``exclude`` and the walk past them (the ancestors of other roots already listed)."""
        nodes = self.nodes
        seen = bytearray(len(nodes))
        for node_id in exclude:
            seen[node_id] = 2
        stack = list(roots)
        while stack:
            node_id = stack.pop()
            if seen[node_id]:
                continue
            seen[node_id] = 1
            if not stop or node_id not in stop:
                stack.extend(nodes[node_id].args)
        if exclude:
            seen = seen.translate(_REACHED_ONLY)
        return list(compress(range(len(nodes)), seen))

    def descendants(self, roots: list[int]) -> set[int]:
        """Every node that depends on one of ``roots``, the roots included."""
        nodes = self.nodes
        reached = bytearray(len(nodes))
        for root in roots:
            reached[root] = 1
        for node_id in range(min(roots, default=len(nodes)), len(nodes)):
            for arg in nodes[node_id].args:
                if reached[arg]:
                    reached[node_id] = 1
                    break
        return set(compress(range(len(nodes)), reached))

    def topological(self, roots: list[int] | None = None) -> Iterator[int]:
        """Node ids in topological order, restricted to the ancestors of ``roots`` when given."""
        keep = None if roots is None else self.ancestors(roots)
        for node_id in range(len(self.nodes)):
            if keep is None or node_id in keep:
                yield node_id


# ---------------------------------------------------------------- folding rules (Graph._fold)
def _fold_where(g: Graph, args, nodes, shape) -> int | None:
    return g.kept(args[1] if nodes[0].value else args[2], shape) if nodes[0].is_const else None


def _fold_neg(g: Graph, args, nodes, shape) -> int | None:
    return g.kept(nodes[0].args[0], shape) if nodes[0].op == "neg" else None


def _fold_log(g: Graph, args, nodes, shape) -> int | None:
    # log(1 + exp(t)) is softplus(t): stable at large t, and its derivative is sigmoid(t).
    t = g._one_plus_exp(args[0])
    return None if t is None else g.kept(g.apply("softplus", t), shape)


def _fold_add(g: Graph, args, nodes, shape) -> int | None:
    a, b = args
    if a == b:
        return g.apply("mul", g.const(2.0), a)
    if nodes[1].op == "const" and nodes[1].value == 0.0:
        return g.kept(a, shape)
    if nodes[0].op == "const" and nodes[0].value == 0.0:
        return g.kept(b, shape)
    if nodes[1].op == "neg":
        return g.apply("sub", a, nodes[1].args[0])
    if nodes[0].op == "neg":
        return g.apply("sub", b, nodes[0].args[0])
    return None


def _fold_sub(g: Graph, args, nodes, shape) -> int | None:
    a, b = args
    if nodes[1].op == "const" and nodes[1].value == 0.0:
        return g.kept(a, shape)
    if nodes[0].op == "const" and nodes[0].value == 0.0 and g.kept(b, shape) is not None:
        return g.apply("neg", b)
    if nodes[1].op == "neg":
        return g.apply("add", a, nodes[1].args[0])
    return None


def _fold_mul(g: Graph, args, nodes, shape) -> int | None:
    a, b = args
    if nodes[0].op == "const" or nodes[1].op == "const":
        folded = _fold_constant_factor(g, a, b, nodes, shape)
        if folded is not None:
            return folded
    # Pull negations out of products so that they meet and cancel: -(a * -b) is a * b.
    if nodes[0].op == "neg" and nodes[1].op == "neg":
        return g.apply("mul", nodes[0].args[0], nodes[1].args[0])
    if nodes[1].op == "neg" and keep_shape(g, nodes[1].args[0], b):
        return g.apply("neg", g.apply("mul", a, nodes[1].args[0]))
    if nodes[0].op == "neg" and keep_shape(g, nodes[0].args[0], a):
        return g.apply("neg", g.apply("mul", nodes[0].args[0], b))
    return None


def _fold_constant_factor(g: Graph, a: int, b: int, nodes, shape: Shape) -> int | None:
    """``a * b`` (its operand nodes ``nodes``) where one is a constant: 1 and -1 drop out (the
    sweep's ``1 * g`` for every sum it differentiates), constants meet."""
    for x, factor in ((a, nodes[1]), (b, nodes[0])):
        if factor.op == "const" and factor.attrs[0] == 1.0:
            return g.kept(x, shape)
        if factor.op == "const" and factor.attrs[0] == -1.0 and g.kept(x, shape) is not None:
            return g.apply("neg", x)
    for x, y in ((a, b), (b, a)):
        inner = g.nodes[y]
        if g.is_const(x) and inner.op == "mul" and keep_shape(g, y, b if y == b else a):
            # c1 * (u * c2) -> (c1 * c2) * u: constants meet and fold.
            u, v = inner.args
            if g.is_const(v):
                return g.apply("mul", g.apply("mul", x, v), u)
            if g.is_const(u):
                return g.apply("mul", g.apply("mul", x, u), v)
    return None


def _fold_div(g: Graph, args, nodes, shape) -> int | None:
    a, b = args
    if g.is_const(b, 1.0):
        return g.kept(a, shape)
    # 1 / (1 + exp(-t)) is sigmoid(t): no overflow at t = -1000, and d/dt = y * (1 - y).
    t = g._one_plus_exp(b) if g.is_const(a, 1.0) else None
    if t is not None and g.nodes[t].op == "neg":
        return g.kept(g.apply("sigmoid", g.nodes[t].args[0]), shape)
    if nodes[0].op == "neg" and keep_shape(g, nodes[0].args[0], a):
        return g.apply("neg", g.apply("div", nodes[0].args[0], b))
    return None


def _fold_pow(g: Graph, args, nodes, shape) -> int | None:
    return g.kept(args[0], shape) if g.is_const(args[1], 1.0) else None


# Each op's identities (an op without any is folded only when every operand is a constant).
FOLDS = {"where": _fold_where, "neg": _fold_neg, "log": _fold_log, "add": _fold_add,
         "sub": _fold_sub, "mul": _fold_mul, "div": _fold_div, "pow": _fold_pow}

# Per op, what ``Graph.apply`` reads of its entry: (arity, elementwise, folded when every operand
# is a constant, identity rule, the entry), made on the op's first use.
_PLANS: dict[str, tuple] = {}


def _plan(op: str) -> tuple:
    spec = OPS[op]
    plan = (spec.arity, spec.kind in ELEMENTWISE_KINDS, spec.kind != "where", FOLDS.get(op), spec)
    _PLANS[op] = plan
    return plan
