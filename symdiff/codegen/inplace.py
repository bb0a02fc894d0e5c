"""Buffer reuse for large arrays: a value computed into the memory of a temporary that is dead.

NumPy allocates a new array for every operation. For arrays of a few hundred kilobytes and more
that can cost as much as the arithmetic (the C allocator returns large blocks to the kernel,
which zeroes fresh pages on first touch), so careful hand-written NumPy writes into temporaries it
no longer needs: ``np.exp(t, out=t)``, ``t *= s``. NumPy already does this itself for a binary
operator whose operand is an unnamed temporary (``a * x + b`` adds into the product); this plan
covers the rest:

* a unary ufunc (exp, tanh, ..., relu) whose argument is a fresh array read nowhere else computes
  into it; that argument gets a line of its own so that it has a name;
* a binary operator with a named fresh operand that no later statement reads updates that
  operand (``t *= s``, ``np.subtract(1.0, t, out=t)``);
* sigmoid and softplus, several ufuncs each, run in one buffer.

It applies to shape-specialized code only (the shapes say which values are big and that an
operand already has the result's shape), to arrays of at least :data:`MIN_SIZE` elements of the
program's float dtype, in the order statements run (forward, then backward), and never writes
into an input, a view, a value a view reads, a value the function returns or, in the layer API,
a forward value that the backward reads from the cache.
"""

from __future__ import annotations

import math
from collections import Counter

from ..ops import OPS, inplace_lines

MIN_SIZE = 1 << 15  # elements: 256 KiB of float64, where NumPy starts eliding temporaries too

# The tables below are read from the op registry (symdiff/ops): each entry says how it computes
# into a buffer.
# Unary ops as one ufunc line in the buffer {0}; several lines (a sigmoid) in SEQUENCES, the
# last line carrying the result's name when it has one.
_LINES = {name: inplace_lines(op) for name, op in OPS.items() if inplace_lines(op)}
UNARY = {name: lines[0] for name, lines in _LINES.items() if len(lines) == 1}
SEQUENCES = {name: list(lines) for name, lines in _LINES.items() if len(lines) > 1}
# The same from a new buffer {0} holding nothing yet ({1} is the argument): softplus, sigmoid.
FRESH_SEQUENCES = {name: list(op.inplace_fresh) for name, op in OPS.items() if op.inplace_fresh}
# Binary ops: (augmented operator with the buffer on the left, ufunc for the buffer on the right)
BINARY = {name: op.augmented for name, op in OPS.items() if op.augmented}
COMMUTATIVE = frozenset(name for name, op in OPS.items() if op.commutes)
# Ops whose NumPy spelling always makes a new float array of the node's shape.
FRESH = frozenset(UNARY) | frozenset(SEQUENCES) | frozenset(FRESH_SEQUENCES) | \
    frozenset(BINARY) | frozenset(name for name, op in OPS.items() if op.fresh_array)
# Structural ops whose NumPy result is always a new array (the others may be views).
COPYING_STRUCTURAL = frozenset(name for name, op in OPS.items()
                               if op.kind == "structural" and op.copies)
# Ops whose NumPy spelling makes float64 whatever the inputs' dtype (np.zeros, np.full, * 1.0).
FLOAT64_MAKERS = frozenset(name for name, op in OPS.items() if op.makes_float64)
# Ops whose result's dtype is not their arguments' (x.astype(np.float32), np.argsort).
CASTS = frozenset(name for name, op in OPS.items() if op.casts)


def dtype_classes(graph, nodes) -> dict[int, str]:
    """What each value's dtype is, as far as buffer reuse needs to know: ``"F"`` the program's
    float dtype, ``"W"`` a Python float constant, ``"B"`` a comparison's mask, ``"O"`` anything
    else (an index; a mask's own arithmetic, ``exp(mask)`` is float16). Only ``"F"`` values are
    written into each other.

    In double precision every float NumPy makes is the program's dtype: arithmetic with a float
    input or a constant, casts, ``np.zeros``. A single-precision graph (``graph.single``) also
    makes float64 values (``np.zeros`` of a scatter, masks times 1.0): nothing there is "F" but
    what float32 inputs and arithmetic among them give."""
    single = graph.single
    classes: dict[int, str] = {}
    for n in sorted(nodes):  # arguments come before their node
        node = graph[n]
        if node.op == "input":
            # In float32 code, inputs added after tracing (dout, a Hessian's vectors) may be
            # float64: only the program's own float inputs are known to be float32.
            own = not single or node.attrs[0] in graph.program_inputs
            classes[n] = "F" if node.attrs[1] == "float" and own else "O"
        elif node.op == "const":
            classes[n] = "W"
        elif OPS[node.op].kind == "compare":
            classes[n] = "B"
        elif OPS[node.op].integer:
            classes[n] = "O"
        elif node.op in FLOAT64_MAKERS:
            classes[n] = "O" if single else "F"
        elif node.op in CASTS:
            classes[n] = "O"
        else:
            data = node.args[1:] if node.op == "where" else \
                node.args[:1] if node.op in ("index", "scatter") else node.args
            args = {classes.get(a, "O") for a in data}
            floats = {"F"} if single else {"F", "W"}
            classes[n] = "F" if args & floats and "O" not in args else "O"
    return classes


class InPlacePlan:
    """Decides, while a :class:`~symdiff.codegen.writer.FunctionWriter` prints its statements in order,
    which values may be computed into a dead operand's memory.

    ``pending[m]`` counts the printed reads of ``m`` whose statements have not been printed yet
    (the function's return counts as one for every returned value, so those never die); a
    statement's reads include those of the values inlined into it.
    """

    def __init__(self, writer, enabled: bool):
        self.writer = writer
        self.graph = writer.graph
        # Shape-generic code (shapes None) cannot know which values are arrays.
        self.enabled = enabled and all(self.graph.shape(i) is not None
                                       for i in self.graph.inputs.values())
        self.pending = dict(writer.uses)
        self.reads: dict[int, Counter] = {}
        self.classes = dtype_classes(self.graph, writer.nodes) if self.enabled else {}
        self.consumers: dict[int, list[int]] = {n: [] for n in writer.nodes} if self.enabled else {}
        for n in writer.nodes if self.enabled else ():
            for arg in () if n in writer.given else self.graph[n].args:
                self.consumers[arg].append(n)
        self.split = False  # the layer API: the backward may not touch the forward's values

    # ---------------------------------------------------------------- bookkeeping
    def note_reads(self, n: int) -> None:
        """Record what evaluating ``n``'s text reads: named values, and the reads of inlined
        arguments."""
        if not self.enabled:
            return
        counts = self.writer.printed_counts(self.graph[n])
        reads: Counter = Counter()
        for arg, count in zip(self.graph[n].args, counts or (1,) * len(self.graph[n].args)):
            if arg in self.writer.names:
                reads[arg] += count
            elif arg in self.reads:
                for m, k in self.reads[arg].items():
                    reads[m] += k * count
        self.reads[n] = reads

    def printed(self, n: int) -> None:
        """``n``'s statement is out: its reads are done."""
        if not self.enabled:
            return
        for m, k in self.reads[n].items():
            self.pending[m] -= k

    # ---------------------------------------------------------------- decisions
    def big(self, n: int) -> bool:
        """A large array of the program's float dtype (not a 0-d result: NumPy hands those back
        as scalars, which cannot be written into)."""
        if not self.enabled:
            return False
        shape = self.graph.decision_shape(self.graph.shape(n))
        return bool(shape) and math.prod(shape) >= MIN_SIZE \
            and self.classes.get(n) == "F"

    def needs_line(self, n: int) -> bool:
        """A line of its own for ``n``: it is a sequence, or a fresh big value whose only
        consumer is a unary ufunc that can then compute into it."""
        if not self.big(n):
            return False
        op = self.graph[n].op
        if op in FRESH_SEQUENCES:
            return True
        users = self.consumers[n]
        return (op in FRESH and self.writer.uses[n] == 1 and len(users) == 1
                and (self.graph[users[0]].op in UNARY or self.graph[users[0]].op in SEQUENCES)
                and not self._crosses(n, users[0]))

    def host(self, n: int) -> int | None:
        """The dead operand whose memory ``n`` can be computed into, if any."""
        if not self.big(n):
            return None
        node = self.graph[n]
        if node.op in UNARY or node.op in SEQUENCES:
            candidates = node.args[:1]
        elif node.op in BINARY:
            left, right = BINARY[node.op]
            candidates = tuple(m for m, ok in zip(node.args, (
                left is not None or node.op in COMMUTATIVE,
                right is not None)) if ok)
        else:
            return None
        for m in candidates:
            if self._dead_after(m, n) and self.graph.shape(m) == self.graph.shape(n) \
                    and self.classes.get(m) == "F":
                return m
        return None

    def _dead_after(self, m: int, n: int) -> bool:
        return (m in self.writer.names and self.graph[m].op in FRESH
                and self.pending[m] == self.reads[n][m] and not self._crosses(m, n)
                and not any(self._may_view(c) for c in self.consumers[m]))

    def _may_view(self, c: int) -> bool:
        """Whether ``c``'s NumPy result may share memory with its argument (``t.T``,
        ``t.reshape(...)``, ``t[1:]``, ``np.broadcast_to``...): a live view would see the buffer
        change, so a value that has one is never written into."""
        op = self.graph[c].op
        return OPS[op].kind == "structural" and op not in COPYING_STRUCTURAL

    def _crosses(self, m: int, n: int) -> bool:
        """Reusing forward value ``m`` in backward statement ``n`` would change the cache."""
        forward = self.writer.forward
        return self.split and m in forward and n not in forward

    # ---------------------------------------------------------------- printing
    def statements(self, n: int, host: int, buffer: str, name: str) -> list[str]:
        """``n`` computed into ``buffer`` (the name of ``host``); ``name`` is ``n``'s own name."""
        node = self.graph[n]
        if node.op in UNARY or node.op in SEQUENCES:
            lines = [f.format(buffer) for f in SEQUENCES.get(node.op, [UNARY.get(node.op)])]
            return self._named(lines, buffer, name)
        other = node.args[1] if node.args[0] == host else node.args[0]
        text = self.writer.expr(other)
        augmented, ufunc = BINARY[node.op]
        host_first = node.args[0] == host or node.op in COMMUTATIVE
        if host_first and augmented is not None:
            update = [f"{name} {augmented} {text}"]
            return update if name == buffer else [f"{name} = {buffer}"] + update
        operands = f"{buffer}, {text}" if host_first else f"{text}, {buffer}"
        return self._named([f"np.{ufunc}({operands}, out={buffer})"], buffer, name)

    def fresh_sequence(self, n: int, name: str) -> list[str] | None:
        """A sigmoid or softplus computed in a new buffer of its own, or None."""
        node = self.graph[n]
        if node.op not in FRESH_SEQUENCES or not self.big(n):
            return None
        arg = self.writer.expr(node.args[0])
        return [f.format(name, arg) for f in FRESH_SEQUENCES[node.op]]

    @staticmethod
    def _named(lines: list[str], buffer: str, name: str) -> list[str]:
        if name != buffer:
            lines[-1] = f"{name} = {lines[-1]}"
        return lines
