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
:class:`symdiff.interpret.Interpreter`, the engine the generated code is tested against.

:func:`explain` prints the backward pass step by step; :func:`latex_gradients` gives the closed-form
partial derivatives as LaTeX. Pictures of circuits are in :mod:`symdiff.visual`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

import numpy as np
import sympy
from sympy.printing.str import StrPrinter

from .compiler import Compiled, bind_arguments, gradients
from .errors import InputError, SymdiffError
from .frontend import Program, parse
from .graph import Graph as _Graph
from .interpret import Interpreter, _vjp
from .ops import ARG_SYMBOLS, OPS, PREC_ATOM, PREC_UNARY, Compare, Sigmoid, Sign, Y
from .trace import NeedsShapes, trace

__all__ = ["Circuit", "Gate", "Local", "explain", "latex_gradients", "format_number"]

# Names for the values the user did not name, in the lecture's spirit: q = x + y, f = q * z.
_SIGMOID = sympy.Function("sigmoid")
_NAME_POOL = ("q", "r", "s", "t", "u", "v", "w", "p", "g", "h", "k", "m")


# ================================================================= numbers and labels
def format_number(value: Any, digits: int = 2) -> str:
    """A short, stable spelling of a number for pictures and explanations.

    Integers print as integers (``-12``); others with ``digits`` decimals (``0.73``, ``-0.20``) or,
    when that would hide the value, ``digits + 1`` significant digits (``0.00123``, ``1.5e+06``).
    """
    v = float(value)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v)) if v != 0 else "0"
    if 10.0 ** -digits <= abs(v) < 1e5:
        text = f"{v:.{digits}f}"
    else:
        text = f"{v:.{digits + 1}g}"
    return "0" if float(text) == 0 and text.lstrip("-") in ("0", "0.0", "0.00") else text


def _const_text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _sympy_number(value: float) -> sympy.Expr:
    fraction = Fraction(float(value))
    if fraction.denominator <= 1024:
        return sympy.Rational(fraction.numerator, fraction.denominator)
    return sympy.Float(value)


def gate_label(graph: _Graph, n: int) -> str:
    """The label of node ``n`` in pictures: its gate, with a constant argument folded in.

    ``add(x, 1)`` is the ``+1`` gate, ``div(1, x)`` the ``1/x`` gate, ``neg`` the ``*-1`` gate, as
    on the lecture's slides; an input is labelled with its name.
    """
    node = graph[n]
    if node.op == "input":
        return node.attrs[0]
    if node.op == "const":
        return _const_text(node.value)
    folded = _folded(graph, n)
    if folded is not None:
        return folded[0]
    if node.op == "neg":
        return "*-1"
    label = OPS[node.op].gate
    if node.op in ("sum", "max", "min", "logsumexp") and node.attrs and node.attrs[0] is not None:
        axes = tuple(node.attrs[0])
        arg_shape = graph.shape(node.args[0])
        if arg_shape is None or len(axes) < len(arg_shape):      # not a reduction to a scalar
            label += f" axis={axes[0] if len(axes) == 1 else axes}"
    return label


def _folded(graph: _Graph, n: int) -> tuple[str, int] | None:
    """(label, position of the constant) when ``n`` is a binary gate with one constant input."""
    node = graph[n]
    if len(node.args) != 2 or OPS[node.op].kind not in ("elementwise", "compare"):
        return None
    consts = [graph[a].op == "const" for a in node.args]
    if consts.count(True) != 1:
        return None
    k = consts.index(True)
    c = graph[node.args[k]].value
    ct = _const_text(c)
    op = node.op
    if op == "add":
        label = f"+{ct}" if c >= 0 else f"-{_const_text(-c)}"
    elif op == "mul":
        label = f"*{ct}"
    elif op == "sub":
        label = (f"-{ct}" if c >= 0 else f"+{_const_text(-c)}") if k == 1 else f"{ct}-x"
    elif op == "div":
        label = f"/{ct}" if k == 1 else ("1/x" if c == 1 else f"{ct}/x")
    elif op == "pow":
        label = f"x^{ct}" if k == 1 else f"{ct}^x"
    elif op in ("maximum", "minimum"):
        label = f"{OPS[op].gate}({ct},x)" if k == 0 else f"{OPS[op].gate}(x,{ct})"
    else:  # comparisons
        label = f"{OPS[op].gate}{ct}" if k == 1 else f"{ct}{OPS[op].gate}"
    return label, k


class _NameWriter:
    """Stands in for codegen's writer so that structural ops' printers spell a node over names."""

    def __init__(self, graph: _Graph, names: dict[int, str]):
        self.graph = graph
        self.names = names

    def expr(self, n: int, need: int = 0) -> str:
        node = self.graph[n]
        if node.op == "const":
            text = _const_text(node.value)
            return f"({text})" if text.startswith("-") and need > PREC_UNARY else text
        return self.names[n]


def _statement_text(graph: _Graph, n: int, names: dict[int, str]) -> str:
    """Node ``n`` over its inputs' names: ``q * z``, ``exp(u)``, ``X @ W1``."""
    node = graph[n]
    spec = OPS[node.op]
    writer = _NameWriter(graph, names)
    if spec.printer is not None:
        try:
            text = spec.printer(writer, node)[0]
        except Exception:  # pragma: no cover -- a printer that needs more of codegen's writer
            text = None
        if text is not None:
            return text.replace("np.", "")
    args = [writer.expr(a, PREC_ATOM) for a in node.args]
    symbol = spec.symbol or node.op
    if node.op == "neg":
        return f"-{args[0]}"
    if len(args) == 2 and not symbol.isidentifier():        # + - * / ** and comparisons
        return f"{args[0]} {symbol} {args[1]}"
    # a function of its inputs: exp(u), sigmoid(t), max(a, x), where(c, a, b)
    return f"{symbol}({', '.join(args)})"


class _Printer(StrPrinter):
    """SymPy's spelling, except where Python's reads better: ``1 if a >= x else 0``,
    ``r != 0``, ``max(x, y)``."""

    _relations = {"==": "==", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        *cases, (last, cond) = expr.args
        text = self._print(last) if cond == sympy.true else \
            f"{self._print(last)} if {self._print(cond)} else nan"
        for value, cond in reversed(cases):
            text = f"{self._print(value)} if {self._print(cond)} else {text}"
        return f"({text})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"


def _sympy_text(expr) -> str:
    """A SymPy expression as people write it (see :class:`_Printer`)."""
    return _Printer().doprint(expr)


def _readable(expr):
    """Replace the op table's helper functions (0/1 masks, sign with sign(0)=0) by SymPy's own."""
    relations = {"gt": sympy.StrictGreaterThan, "ge": sympy.GreaterThan,
                 "lt": sympy.StrictLessThan, "le": sympy.LessThan, "eq": sympy.Eq,
                 "ne": sympy.Ne}
    if not isinstance(expr, sympy.Basic):
        return expr
    masks = {m: sympy.Piecewise((1, relations[str(m.args[0])](m.args[1], m.args[2])), (0, True))
             for m in expr.atoms(Compare)}
    signs = {s: sympy.sign(s.args[0]) for s in expr.atoms(Sign)}
    sigmoids = {s: _SIGMOID(s.args[0]) for s in expr.atoms(Sigmoid)}
    found = {**masks, **signs, **sigmoids}
    return expr.xreplace(found) if found else expr


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
        from .codegen import Namer

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
            from .symbolic import to_sympy

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
        from .visual import to_dot

        return to_dot(self, at=at, wrt=wrt)

    def to_svg(self, at: dict | None = None, wrt: list[str] | None = None,
               engine: str = "auto") -> str:
        from .visual import to_svg

        return to_svg(self, at=at, wrt=wrt, engine=engine)

    def render(self, path, at: dict | None = None, wrt: list[str] | None = None, **kwargs):
        from .visual import render

        return render(self, path, at=at, wrt=wrt, **kwargs)

    def _repr_svg_(self) -> str:
        try:
            return self.to_svg()
        except Exception:  # pragma: no cover -- Jupyter falls back to the text repr
            return None

    def explain(self, at: dict | None = None, dout: Any = None,
                wrt: list[str] | None = None) -> str:
        return explain(self, at=at, dout=dout, wrt=wrt)

    def __repr__(self) -> str:
        return f"<symdiff.Circuit {self.name}({', '.join(self.params)}): {len(self._order)} nodes>"


def _elementary(graph: _Graph) -> _Graph:
    """A copy of the forward graph with the fused gates spelled out in elementary gates.

    symdiff's graph rewrites ``1/(1+exp(-t))`` to one ``sigmoid`` gate (stable, and its local
    gradient is ``y*(1-y)``) and ``log(1+exp(t))`` to ``softplus``. The lecture draws the first as
    the ``*-1``, ``exp``, ``+1`` and ``1/x`` gates; this copy does the same. Nodes are interned
    directly, so the graph's folding does not fuse them again. The values are the same.
    """
    from .graph import Node

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


# ================================================================= explain
def _num(value: Any) -> str:
    """Numbers in explanations: integers as integers, others with 6 significant digits."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        v = float(array)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v)) if v != 0 else "0"
        return f"{v:.6g}"
    if array.size <= 6:
        return "[" + ", ".join(_num(x) for x in array.ravel()) + "]" + (
            "" if array.ndim == 1 else f" (shape {array.shape})")
    return (f"array{array.shape} (min {_num(array.min())}, mean {_num(array.mean())}, "
            f"max {_num(array.max())})")


def _relevant(circuit: Circuit, wrt: list[str] | None) -> set[int]:
    """Nodes the gradient of ``wrt`` flows through (every node when wrt is None)."""
    graph = circuit.graph
    if wrt is None:
        return set(circuit._gates)
    return graph.descendants([graph.inputs[w] for w in wrt])


def explain(source: Any, at: dict | None = None, dout: Any = None,
            wrt: list[str] | str | None = None) -> str:
    """The backward pass of ``source`` at the point ``at``, step by step, in words and numbers.

    One line per (gate, input) in reverse topological order: the upstream gradient the gate
    received, its local gradient (formula and number) and the gradient it sends, then the
    gradients of the inputs. The numbers are the interpreter's, which the generated code is tested
    against::

        node `*` (f = q * z): upstream dL/df = 1; local d(q * z)/dq = z = -4; sends -4 to q
    """
    circuit = source if isinstance(source, Circuit) else Circuit(source)
    if at is None:
        if not circuit.evaluated:
            raise SymdiffError("explain needs a point: at={'x': ..., ...}")
        at = circuit._last_inputs
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    if wrt is not None:
        for w in wrt:
            if w not in circuit.params:
                raise InputError(f"cannot differentiate with respect to {w!r}: it is not an "
                                 f"input (inputs: {', '.join(circuit.params)})")
    circuit.forward(**at)
    circuit.backward(dout)
    relevant = _relevant(circuit, wrt)
    outputs = circuit.outputs
    lines = []
    point = ", ".join(f"{k} = {_num(v)}" for k, v in at.items())
    lines.append("; ".join(f"{o.name} = {_pretty(o)}" for o in outputs)
                 + (f"   at {point}" if point else ""))
    lines.append("")
    lines.append("forward (each gate computes its value from its inputs):")
    for gate in circuit.nodes():
        if gate.kind == "gate":
            lines.append(f"  {gate.name} = {gate.statement} = {_num(gate.value)}")
    lines.append("")
    seeds = ", ".join(f"dL/d{o.name} = {_num(o.grad)}" for o in outputs)
    if len(outputs) == 1:
        lines.append(f"backward (L = {outputs[0].name}, so {seeds}; each gate multiplies the "
                     "gradient it receives by its local gradient and sends the product to its "
                     "inputs):")
    else:
        lines.append(f"backward (L = {' + '.join('sum(' + o.name + ')' for o in outputs)}; "
                     f"{seeds}):")
    for gate in reversed(circuit.nodes()):
        if gate.kind != "gate" or gate.id not in relevant:
            continue
        sent = circuit._sent_by_position(gate)
        locals_ = {loc.position: loc for loc in gate.local}
        counts = {}
        for a in gate.inputs:
            counts[a.id] = counts.get(a.id, 0) + 1
        for pos, arg in enumerate(gate.args):
            if arg.kind == "const" or arg.id not in relevant:
                continue
            head = (f"  node `{gate.op}` ({gate.name} = {gate.statement}): "
                    f"upstream dL/d{gate.name} = {_num(gate.grad)}; ")
            which = f" (argument {pos + 1})" if counts.get(arg.id, 0) > 1 else ""
            loc = locals_.get(pos)
            if loc is None or loc.expr is None:
                local = f"vector-Jacobian product of {gate.op}{which}"
            else:
                expr_text = _sympy_text(loc.expr)
                local = f"local d({gate.statement})/d{arg.name}{which} = {expr_text}"
                if loc.value is not None and expr_text != _num(loc.value):
                    local += f" = {_num(loc.value)}"
            if pos in sent:
                tail = f"; sends {_num(sent[pos])} to {arg.name}"
            else:
                tail = f"; sends nothing to {arg.name}"
                if gate.op_name == "where" and pos == 0:
                    tail += " (a condition has no gradient)"
                elif loc is not None and loc.value is not None:
                    tail += " (its local gradient is 0 here)"
            lines.append(head + local + tail)
    lines.append("")
    lines.append("gradients:")
    fname = outputs[0].name if len(outputs) == 1 else "L"
    for name, gate in circuit.inputs.items():
        if wrt is not None and name not in wrt:
            continue
        senders = [(g, pos) for g in circuit.nodes() if g.kind == "gate"
                   for pos, a in enumerate(g.args) if a is gate]
        note = ""
        if len(senders) > 1:
            parts = [_num(g.sent_to(pos)) for g, pos in senders]
            note = "   (" + " + ".join(parts) + ": gradients add where a value fans out)"
        lines.append(f"  d{fname}/d{name} = {_num(gate.grad)}{note}")
    return "\n".join(lines)


def _pretty(gate: Gate) -> str:
    """The output's closed form when it is short, else its gate over its inputs."""
    if len(gate.circuit) <= 60:
        formula = gate.formula
        if formula is not None and sympy.count_ops(formula) <= 40:
            return _sympy_text(formula)
    return gate.statement


# ================================================================= LaTeX
def latex_gradients(source: Any, wrt: list[str] | str | None = None,
                    value: bool = False) -> list[str]:
    r"""The closed-form partial derivatives as LaTeX lines, ``\frac{\partial f}{\partial x} = z``.

    Built with ``sympy.latex`` from :func:`symdiff.gradients`. Shared intermediates come first as
    ``t_{1} = ...``; with ``value=True`` the first line is the program's own formula.
    """
    if isinstance(source, Circuit):
        source = source.program
    if isinstance(source, Compiled):
        source = source.program
    program = source if isinstance(source, Program) else parse(source)
    forms = gradients(program, wrt)
    f = sympy.latex(sympy.Symbol(program.name))
    lines = []
    for symbol, expr in forms.intermediates:
        lines.append(f"{sympy.latex(symbol)} = {sympy.latex(_readable(expr))}")
    if value:
        lines.append(f"{f} = {sympy.latex(_readable(forms.value))}")
    for name, expr in forms.items():
        x = sympy.latex(sympy.Symbol(name))
        lines.append(rf"\frac{{\partial {f}}}{{\partial {x}}} = {sympy.latex(_readable(expr))}")
    return lines


Graph = Circuit  # the public name symdiff exports it under: symdiff.Graph
