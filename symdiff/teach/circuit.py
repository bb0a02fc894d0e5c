"""The lecture's gate API: a circuit of gates with ``forward()`` / ``backward()``, and explanations.

A :class:`Circuit` is the computational graph of a program (a formula, a ``def`` block, a Python
function, or a :class:`~symdiff.Compiled`), seen as gates wired together::

    c = symdiff.Circuit("(x + y) * z")
    c.forward(x=-2, y=5, z=-4)          # -12.0
    grads = c.backward()                # {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    for gate in c.nodes():              # inputs first, then each gate in topological order
        print(gate.name, gate.op, gate.value, gate.grad)

Each :class:`Gate` knows its label (``+``, ``*``, ``exp``, ``1/x``, ``@``...), its name (the user's
name for the value, or a generated one), the gates it reads, its forward value, the upstream
gradient ``dL/d(gate)`` it received, its local gradients (SymPy expressions from the op's partial
templates, and their numbers) and the gradient it sent to each input. The numbers come from
:class:`symdiff.ad.interpret.Interpreter`, the engine the generated code is tested against.

:func:`explain` prints the backward pass step by step; :func:`latex_gradients` gives the closed-form
partial derivatives as LaTeX (:mod:`symdiff.teach.explain`). Pictures of circuits are in
:mod:`symdiff.teach.pictures`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import sympy

from ..compiler import Compiled, bind_arguments
from ..errors import SymdiffError
from ..frontend.parse import Program, parse
from ..ir.graph import Graph as _Graph
from ..ad.interpret import Interpreter, _vjp
from ..ops import ARG_SYMBOLS, OPS, Y
from ..frontend.trace import NeedsShapes, trace
from .labels import (_const_text, _readable, _statement_text, _sympy_number,
                     format_number, gate_label)

# The views of a circuit that live in their own modules (pictures, explanations) register
# here when imported, so that they import the circuit and not the other way round.
VIEWS: dict[str, Any] = {}

__all__ = ["Circuit", "Gate", "Local", "as_circuit"]

# Names for the values the user did not name, in the lecture's spirit: q = x + y, f = q * z.
_SIGMOID = sympy.Function("sigmoid")
_NAME_POOL = ("q", "r", "s", "t", "u", "v", "w", "p", "g", "h", "k", "m")


# ================================================================= gates
@dataclass
class Local:
    """One local gradient of a gate: ``d(gate)/d(input)`` at argument ``position``.

    ``expr`` is a SymPy expression in the names of the gate's inputs (``z`` for ``d(q*z)/dq``);
    ``full`` is the same with every name replaced by its formula in the program's inputs;
    ``value`` its number after :meth:`Circuit.forward` (None for structural gates such as ``@``,
    whose backward is a vector-Jacobian product rather than a local gradient).
    """

    gate: "Gate"
    input: "Gate"
    position: int
    expr: Any
    value: Any = None

    @property
    def full(self):
        if self.expr is None:
            return None
        circuit = self.gate.circuit
        return self.expr.xreplace({g.symbol: g.formula for g in circuit.nodes()
                                   if g.kind != "input" and g.symbol in self.expr.free_symbols})


class Gate:
    """One node of a :class:`Circuit`: an input, a constant or an operation (a gate)."""

    def __init__(self, circuit: "Circuit", node_id: int, name: str):
        self.circuit = circuit
        self.id = node_id
        self.name = name
        node = circuit.graph[node_id]
        self.node = node
        self.kind = node.op if node.op in ("input", "const") else "gate"
        self.op = gate_label(circuit.graph, node_id)
        self.shape = node.shape
        self.symbol = (sympy.Symbol(name, real=True) if self.kind != "const"
                       else _sympy_number(node.value))
        self.args: list[Gate] = []          # every argument, constants included
        self.inputs: list[Gate] = []        # the gates it reads (constants left out)

    def __repr__(self) -> str:
        value = self.value
        shown = "" if value is None else " value=" + (
            format_number(value, 4) if np.ndim(value) == 0 else f"array{np.shape(value)}")
        return f"<Gate {self.name} = {self.statement}{shown}>"

    # ------------------------------------------------------------ structure
    @property
    def op_name(self) -> str:
        """The op's name in symdiff's op table (``add``, ``mul``, ``matmul``...)."""
        return self.node.op

    @property
    def statement(self) -> str:
        """The gate over its inputs' names: ``q * z``; an input's or a constant's own name."""
        if self.kind == "input":
            return self.name
        if self.kind == "const":
            return _const_text(self.node.value)
        return _statement_text(self.circuit.graph, self.id, self.circuit._names)

    @property
    def expr(self):
        """This gate as SymPy in its inputs' names (``q*z``); None for structural ops."""
        if self.kind != "gate":
            return self.symbol
        spec = OPS[self.node.op]
        if spec.kind == "structural" or spec.template is None:
            return None
        return spec.template(*[a.symbol for a in self.args])

    @property
    def formula(self):
        """This value's closed form in the program's inputs (scalar programs)."""
        if self.kind != "gate":
            return self.symbol
        return self.circuit._formula(self.id)

    # ------------------------------------------------------------ numbers
    @property
    def value(self):
        """The forward value (None before :meth:`Circuit.forward`)."""
        return _plain(self.circuit._interp.values.get(self.id)) if self.circuit._interp else None

    @property
    def grad(self):
        """The upstream gradient dL/d(this gate) it received (None before backward())."""
        c = self.circuit
        if not c._backward_done or self.kind == "const":
            return None
        return _plain(c._grad_of(self.id))

    @property
    def local(self) -> list[Local]:
        """One :class:`Local` per non-constant argument: the local gradient and its number."""
        if self.kind != "gate":
            return []
        return self.circuit._locals(self)

    @property
    def sent(self) -> list[tuple["Gate", Any]]:
        """``(input gate, gradient sent)`` per argument it sent a gradient to, after backward."""
        c = self.circuit
        if not c._backward_done or self.kind != "gate":
            return []
        return [(self.args[pos], _plain(v)) for pos, v in sorted(c._sent_by_position(self).items())]

    def sent_to(self, position: int):
        """The gradient sent through argument ``position`` (0 where nothing was sent)."""
        found = self.circuit._sent_by_position(self).get(position)
        if found is None:
            value = self.circuit._interp.values.get(self.args[position].id, 0.0)
            return _plain(np.zeros_like(np.asarray(value, dtype=float)))
        return _plain(found)


def _plain(value):
    """0-d arrays as Python floats; arrays as they are."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        return float(value)
    return np.asarray(value)


# ================================================================= the circuit
class Circuit:
    """A program as a circuit of gates, with the lecture's ``forward()`` / ``backward()`` API.

    Build it from a formula (``"(x+y)*z"``), a ``def`` block, a Python function or a
    :class:`~symdiff.Compiled`. Array programs whose graph depends on input shapes are built on the
    first :meth:`forward` (or give ``shapes={"W": (3, 4), ...}``).
    """

    def __init__(self, source: Any, name: str | None = None,
                 shapes: dict[str, tuple] | None = None, elementary: bool = False):
        self.elementary = elementary
        graph = None
        if isinstance(source, Circuit):
            source = source.program
        if isinstance(source, Compiled):
            program = source.program
            try:
                graph = source.graph
            except SymdiffError:
                graph = None
            if graph is not None and any(node.op == "loop" for node in graph.nodes):
                graph = None  # a loop kept rolled (frontend/rolled.py): gates trace it unrolled
        elif isinstance(source, Program):
            program = source
        else:
            program = parse(source, name)
        self.program = program
        self.name = program.name
        self.params = list(program.params)
        self.graph: _Graph | None = None
        self._shapes: dict[str, tuple] | None = None
        self._interp: Interpreter | None = None
        self._backward_done = False
        self._dout = None
        if graph is not None:
            self._set_graph(graph, None)
        else:
            try:
                self._set_graph(trace(program, shapes, _kinds(program, shapes)),
                                dict(shapes) if shapes else None)
            except NeedsShapes:
                if shapes:
                    raise
                self._gates, self._order, self._names = {}, [], {}

    # ------------------------------------------------------------ building
    def _set_graph(self, graph: _Graph, shapes: dict[str, tuple] | None) -> None:
        if self.elementary:
            graph = _elementary(graph)
        self.graph = graph
        self._shapes = shapes
        self._interp = None
        self._backward_done = False
        forward = graph.ancestors(list(graph.outputs))
        inputs = [graph.inputs[p] for p in self.params if p in graph.inputs]
        order = inputs + [n for n in sorted(forward) if n not in inputs
                          and graph[n].op != "input"]
        self._order = [n for n in order if graph[n].op != "const"]
        self._names = self._assign_names(graph, order)
        self._gates: dict[int, Gate] = {}
        for n in order:
            self._gates[n] = Gate(self, n, self._names[n])
        for n in order:
            gate = self._gates[n]
            gate.args = [self._gates[a] for a in graph[n].args]
            gate.inputs = [a for a in gate.args if a.kind != "const"]
        self._formulas: dict[int, Any] | None = None

    def _assign_names(self, graph: _Graph, order: list[int]) -> dict[int, str]:
        from ..codegen.writer import Namer

        namer = Namer(set(self.program.identifiers) | {"L"})
        names: dict[int, str] = {}
        for n in order:
            if graph[n].op == "input":
                names[n] = graph[n].attrs[0]
                namer.used.add(names[n])
        outputs = list(graph.outputs)
        for k, n in enumerate(outputs):
            if n in names:
                continue
            given = graph.output_names[k] if k < len(graph.output_names) else None
            default = self.name if len(outputs) == 1 else f"{self.name}{k}"
            names[n] = namer.claim(graph.names.get(n) or given or default)
        pool = iter(_NAME_POOL)
        for n in order:
            if n in names:
                continue
            if graph[n].op == "const":
                names[n] = _const_text(graph[n].value)
            elif n in graph.names:
                names[n] = namer.claim(graph.names[n])
            else:
                for candidate in pool:
                    if candidate not in namer.used and candidate not in namer.reserved:
                        names[n] = namer.claim(candidate)
                        break
                else:
                    names[n] = namer.numbered("t")
        return names

    def _ensure_graph(self, inputs: dict[str, Any]) -> None:
        shapes = {p: np.shape(v) for p, v in inputs.items()}
        if self.graph is not None and (self._shapes is None or self._shapes == shapes):
            return
        self._set_graph(trace(self.program, shapes, {p: _kind_of(v) for p, v in inputs.items()}),
                        shapes)

    def _need_graph(self) -> _Graph:
        if self.graph is None:
            raise SymdiffError(f"{self.name} works on arrays whose shapes it reads: call "
                               "forward() with example inputs first (or pass shapes=)")
        return self.graph

    # ------------------------------------------------------------ the gate API
    def nodes(self, constants: bool = False) -> list[Gate]:
        """The circuit's nodes in topological order: inputs first, then each gate.

        Only the forward circuit (the ancestors of the outputs); constants are folded into their
        gates' labels and left out unless ``constants=True``.
        """
        self._need_graph()
        if constants:
            return [self._gates[n] for n in sorted(self._gates, key=self._position)]
        return [self._gates[n] for n in self._order]

    def _position(self, n: int) -> tuple:
        return (0 if self.graph[n].op == "input" else 1, n)

    def __iter__(self) -> Iterator[Gate]:
        return iter(self.nodes())

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, name: str) -> Gate:
        for gate in self.nodes():
            if gate.name == name:
                return gate
        raise KeyError(name)

    @property
    def inputs(self) -> dict[str, Gate]:
        """The input gates by name, in the program's parameter order."""
        self._need_graph()
        return {p: self._gates[self.graph.inputs[p]] for p in self.params
                if p in self.graph.inputs and self.graph.inputs[p] in self._gates}

    @property
    def outputs(self) -> list[Gate]:
        self._need_graph()
        return [self._gates[n] for n in self.graph.outputs]

    @property
    def output(self) -> Gate:
        return self.outputs[0]

    def forward(self, *args: Any, **inputs: Any) -> Any:
        """Run every gate forward; return the output (a tuple for several outputs)."""
        bound = self._bind(args, inputs)
        self._ensure_graph(bound)
        self._interp = Interpreter(self.graph)
        self._backward_done = False
        self._last_inputs = bound
        out = self._interp.forward(**bound)
        return tuple(_plain(o) for o in out) if isinstance(out, tuple) else _plain(out)

    def backward(self, dout: Any = None) -> dict[str, Any]:
        """Backpropagate ``dout`` (default 1, the gradient of the output's sum) through every gate.

        Returns ``dL/d(node)`` for every input *and* intermediate, by node name (inputs first, in
        the order of :meth:`nodes`); an input's gradient has the input's shape.
        """
        if self._interp is None or not self._interp.values:
            raise SymdiffError("call forward() before backward()")
        input_grads = self._interp.backward(dout)
        self._backward_done = True
        self._dout = dout
        self._input_grads = input_grads
        return {g.name: g.grad for g in self.nodes()}

    def _grad_of(self, n: int):
        node = self.graph[n]
        if node.op == "input" and node.attrs[0] in self._input_grads:
            return self._input_grads[node.attrs[0]]
        found = self._interp.grads.get(n)
        if found is None:
            return np.zeros_like(np.asarray(self._interp.values[n], dtype=float))
        return found

    def _bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        return bind_arguments(self.name, self.params, args, kwargs)

    @property
    def evaluated(self) -> bool:
        """Whether forward() has run (the gates have values)."""
        return self._interp is not None and bool(self._interp.values)

    @property
    def differentiated(self) -> bool:
        """Whether backward() has run (the gates have gradients)."""
        return self._backward_done

    # ------------------------------------------------------------ local gradients
    def _locals(self, gate: Gate) -> list[Local]:
        node = gate.node
        spec = OPS[node.op]
        out = []
        positions = [p for p, a in enumerate(gate.args) if a.kind != "const"]
        recorded = None
        if self._backward_done and gate.id in self._interp.local:
            recorded = self._interp.local[gate.id]
            if len(recorded) != len(positions):
                recorded = None
        for i, pos in enumerate(positions):
            expr = self._local_expr(gate, pos)
            value = None
            if self.evaluated:
                if recorded is not None:
                    value = recorded[i]
                elif spec.kind != "structural":
                    args = [self._interp.values[a.id] for a in gate.args]
                    with np.errstate(all="ignore"):
                        value = _vjp(node, pos, np.float64(1.0), args,
                                     self._interp.values[gate.id])[0]
            out.append(Local(gate, gate.args[pos], pos, expr, _plain(value)))
        return out

    def _local_expr(self, gate: Gate, position: int):
        node = gate.node
        spec = OPS[node.op]
        if spec.kind == "structural":
            return None
        symbols = [a.symbol for a in gate.args]
        if node.op == "where":
            cond = symbols[0]
            if position == 0:
                return sympy.Integer(0)
            rel = sympy.Ne(cond, 0) if position == 1 else sympy.Eq(cond, 0)
            return sympy.Piecewise((1, rel), (0, True))
        partial = spec.partial_templates[position]
        own = spec.template(*symbols) if spec.template is not None else gate.symbol
        # y (the gate's output) reads as the gate's formula when that is one function of its
        # inputs (exp(u), 1/t), and as the gate's name when it is longer: s*(1 - s) for sigmoid.
        y_value = own if sympy.count_ops(own) <= 1 and not own.has(sympy.Piecewise) \
            else gate.symbol
        subs = {ARG_SYMBOLS[k]: s for k, s in enumerate(symbols)}
        subs[Y] = y_value
        return _readable(partial.xreplace(subs))

    def _formula(self, n: int):
        if self._formulas is None:
            from ..ad.symbolic import to_sympy

            graph = self.graph
            gates = [g for g in self._order if graph[g].op != "input"]
            try:
                _, exprs = to_sympy(graph, gates, max_size=10 ** 9)
            except NotImplementedError:
                exprs = [None] * len(gates)
            self._formulas = dict(zip(gates, exprs))
        return self._formulas.get(n)

    # ------------------------------------------------------------ sending
    def _sent_by_position(self, gate: Gate) -> dict[int, Any]:
        """position -> gradient sent, matched from the interpreter's ``sent`` list."""
        if not self._backward_done or gate.id not in self._interp.sent:
            return {}
        sent = list(self._interp.sent[gate.id])
        spec = OPS[gate.node.op]
        result = {}
        k = 0
        recorded = self._interp.local.get(gate.id, [])
        positions = [p for p, a in enumerate(gate.args) if a.kind != "const"]
        for i, pos in enumerate(positions):
            if k >= len(sent):
                break
            if gate.node.op == "where" and pos == 0:
                continue
            if spec.kind != "structural" and gate.node.op != "where" and i < len(recorded) \
                    and recorded[i] is not None and np.all(np.asarray(recorded[i]) == 0):
                continue
            arg, value = sent[k]
            if arg == gate.args[pos].id:
                result[pos] = value
                k += 1
        return result

    # ------------------------------------------------------------ pictures
    def to_dot(self, at: dict | None = None, wrt: list[str] | None = None) -> str:
        return VIEWS["dot"](self, at=at, wrt=wrt)

    def to_svg(self, at: dict | None = None, wrt: list[str] | None = None,
               engine: str = "auto") -> str:
        return VIEWS["svg"](self, at=at, wrt=wrt, engine=engine)

    def render(self, path, at: dict | None = None, wrt: list[str] | None = None, **kwargs):
        return VIEWS["render"](self, path, at=at, wrt=wrt, **kwargs)

    def _repr_svg_(self) -> str:
        try:
            return self.to_svg()
        except Exception:  # pragma: no cover -- Jupyter falls back to the text repr
            return None

    def explain(self, at: dict | None = None, dout: Any = None,
                wrt: list[str] | None = None) -> str:
        return VIEWS["explain"](self, at=at, dout=dout, wrt=wrt)

    def __repr__(self) -> str:
        return f"<symdiff.Circuit {self.name}({', '.join(self.params)}): {len(self._order)} nodes>"


def _elementary(graph: _Graph) -> _Graph:
    """A copy of the forward graph with the fused gates spelled out in elementary gates.

    symdiff's graph rewrites ``1/(1+exp(-t))`` to one ``sigmoid`` gate (stable, and its local
    gradient is ``y*(1-y)``) and ``log(1+exp(t))`` to ``softplus``. The lecture draws the first as
    the ``*-1``, ``exp``, ``+1`` and ``1/x`` gates; this copy does the same. Nodes are interned
    directly, so the graph's folding does not fuse them again. The values are the same.
    """
    from ..ir.graph import Node

    out = _Graph()
    mapping: dict[int, int] = {}
    forward = graph.ancestors(list(graph.outputs))
    for name, n in graph.inputs.items():
        if n in forward:
            node = graph[n]
            mapping[n] = out.input(name, node.shape, node.attrs[1])
    for n in sorted(forward):
        node = graph[n]
        if n in mapping:
            continue
        args = tuple(mapping[a] for a in node.args)
        if node.op == "sigmoid":
            one = out.const(1.0)
            neg = out.intern(Node("neg", args, (), node.shape))
            exp = out.intern(Node("exp", (neg,), (), node.shape))
            den = out.intern(Node("add", (one, exp), (), node.shape))
            mapping[n] = out.intern(Node("div", (one, den), (), node.shape))
        elif node.op == "softplus":
            one = out.const(1.0)
            exp = out.intern(Node("exp", args, (), node.shape))
            mapping[n] = out.intern(Node("log", (out.intern(Node("add", (one, exp), (),
                                                                 node.shape)),), (), node.shape))
        else:
            mapping[n] = out.intern(Node(node.op, args, node.attrs, node.shape))
    out.outputs = [mapping[o] for o in graph.outputs]
    out.output_names = list(graph.output_names)
    out.names = {mapping[n]: name for n, name in graph.names.items() if n in mapping}
    return out


def _kinds(program: Program, shapes: dict | None) -> dict[str, str] | None:
    if not shapes:
        return None
    return {p: ("index" if p in program.index_params else "float") for p in program.params}


def _kind_of(value: Any) -> str:
    return "index" if np.asarray(value).dtype.kind in "iub" else "float"


def as_circuit(source: Any, at: dict | None = None) -> Circuit:
    """A :class:`Circuit` for ``source`` (returned as is when it is one), evaluated at ``at``."""
    circuit = source if isinstance(source, Circuit) else Circuit(source)
    if at is not None:
        circuit.forward(**at)
        circuit.backward()
    return circuit


Graph = Circuit  # the public name symdiff exports it under: symdiff.Graph
