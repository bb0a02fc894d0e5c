"""Tracing: run a checked program symbolically, adding one graph node per operation.

Values during tracing are either graph values (:class:`Var`, a node) or *static* Python values known
at compile time: numbers, shapes, loop counters. Arithmetic on static numbers is folded here, with
bounds, so ``2**2**2**100`` is an error rather than a hang. Loops over ``range`` with a constant count
are unrolled. The expression walk is iterative, so a long formula cannot exhaust the Python stack.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

from .budget import check_loop
from .errors import GraphShapeError, ShapeError
from .frontend import MAX_EXPONENT, MAX_INT, MODULE_CONSTANTS, MODULES, RESERVED, Program
from .graph import Graph, Shape
from .ops import OPS, SPELLINGS

MAX_GRAPH_NODES = 2_000_000
MAX_ITERATIONS = 200_000     # loop bodies run in all, across every loop


class NeedsShapes(Exception):
    """The program reads shapes or uses structural ops: trace it again with concrete shapes."""


@dataclass(frozen=True, slots=True)
class Var:
    """A traced value: one node of the graph."""

    node: int


@dataclass(frozen=True, slots=True)
class Module:
    name: str        # "numpy" or "math"


NEWAXIS = ("newaxis",)

BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
          ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floordiv"}
STATIC_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                 ast.Div: operator.truediv, ast.Pow: operator.pow,
                 ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
COMPARE_OPS = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq",
               ast.NotEq: "ne"}

# Call handlers by qualified name: "builtin.max", "numpy.exp", "math.exp", "method.sum".
Handler = Callable[["Tracer", ast.Call, list, dict], Any]
CALLS: dict[str, Handler] = {}


def call(*names: str):
    """Register a call handler under one or more qualified names."""
    def register(fn: Handler) -> Handler:
        for name in names:
            CALLS[name] = fn
        return fn
    return register


def _elementwise(op: str) -> Handler:
    def handler(t: "Tracer", node: ast.Call, args: list, kwargs: dict):
        t.no_keywords(node, kwargs)
        if len(args) != OPS[op].arity:
            raise t.program.error(f"{t.what(node.func)}() takes {OPS[op].arity} argument"
                                  f"{'s' * (OPS[op].arity > 1)}, got {len(args)}", node)
        return t.apply(op, args, node)
    return handler


# Every registry entry's spellings call it directly (its arguments in order).
for _qualified, _op in SPELLINGS.items():
    call(_qualified)(_elementwise(_op.name))


class Tracer:
    """Builds the graph of one program for one assignment of input shapes."""

    def __init__(self, program: Program, shapes: dict[str, Shape] | None = None,
                 kinds: dict[str, str] | None = None):
        self.program = program
        self.iterations = 0
        self.graph = Graph()
        self.env: dict[str, Any] = dict(program.constants)
        shapes = shapes or {}
        kinds = kinds or {}
        for p in program.params:
            self.env[p] = Var(self.graph.input(p, shapes.get(p), kinds.get(p, "float")))

    # ------------------------------------------------------------------ entry
    def run(self) -> Graph:
        tree = self.program.tree
        if isinstance(tree, ast.Expression):
            self.graph.current_line = 1
            self._set_outputs([self.evaluate(tree.body)], [None], tree.body)
            return self.graph
        body = [s for s in tree.body if not _is_doc(s)]
        if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
            raise self.program.error("the function must end with 'return <expression>'",
                                     body[-1] if body else tree)
        self.exec_block(body[:-1])
        ret = body[-1]
        self.graph.current_line = ret.lineno
        value = self.evaluate(ret.value)
        if isinstance(ret.value, ast.Tuple):
            names = [e.id if isinstance(e, ast.Name) else None for e in ret.value.elts]
            self._set_outputs(list(value), names, ret.value)
        else:
            name = ret.value.id if isinstance(ret.value, ast.Name) else None
            self._set_outputs([value], [name], ret.value)
        return self.graph

    def _set_outputs(self, values: list, names: list, node: ast.AST) -> None:
        bases: set[int] = set()
        for k, (value, name) in enumerate(zip(values, names)):
            out = self.as_node(value, node)
            base = self._viewed(out)
            if base in bases or self.graph[base].op == "input":
                # A value is a new array: never the caller's own (return x, x.T, x[1:]), the
                # same object twice, or a view of another output (return t.T, t).
                out = self.graph.apply("copy", out, attrs=("output", k))
            bases.add(self._viewed(out))
            self.graph.outputs.append(out)
            self.graph.output_names.append(name)

    def _viewed(self, n: int) -> int:
        """The array that ``n`` may be a view of (``n`` itself when it is a new array)."""
        while self.graph[n].op in ("transpose", "reshape", "index"):
            n = self.graph[n].args[0]
        return n

    # ------------------------------------------------------------------ statements
    def exec_block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.graph.current_line = stmt.lineno
            if isinstance(stmt, ast.Assign):
                self._assign(stmt)
            elif isinstance(stmt, ast.AugAssign):
                self._aug_assign(stmt)
            elif isinstance(stmt, ast.For):
                self._for(stmt)
            elif isinstance(stmt, ast.Return):
                raise self.program.error("'return' must be the last statement of the function",
                                         stmt)
            elif isinstance(stmt, (ast.Pass,)) or _is_doc(stmt):
                continue
            else:
                raise self.program.error("unsupported statement: only assignments, 'for i in "
                                         "range(K)' loops and a final 'return' are allowed", stmt)
            if len(self.graph) > MAX_GRAPH_NODES:
                raise self.program.error(f"program is too large (more than {MAX_GRAPH_NODES:,} "
                                         "operations after unrolling loops)", stmt)

    def _assign(self, stmt: ast.Assign) -> None:
        if len(stmt.targets) != 1:
            raise self.program.error("chained assignment (a = b = ...) is not supported", stmt)
        self.bind(stmt.targets[0], self.evaluate(stmt.value))

    def bind(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            if target.id == "_":
                return
            if target.id in RESERVED:
                raise self.program.error(f"cannot assign to '{target.id}': the name is reserved "
                                         "for generated code", target)
            if target.id in MODULES or f"builtin.{target.id}" in CALLS:
                raise self.program.error(f"cannot assign to '{target.id}': it names a function "
                                         "or module", target)
            self.env[target.id] = value
            if isinstance(value, Var) and self.graph[value.node].op not in ("input", "const"):
                self.graph.names.setdefault(value.node, target.id)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, Var):
                value = self.unpack(value, len(target.elts), target)
            if not isinstance(value, (tuple, list)) or len(value) != len(target.elts):
                count = len(value) if isinstance(value, (tuple, list)) else 1
                raise self.program.error(f"cannot unpack {count} value(s) into "
                                         f"{len(target.elts)} names", target)
            for t, v in zip(target.elts, value):
                self.bind(t, v)
            return
        what = self.what(target)
        raise self.program.error(f"in-place assignment to '{what}' is not supported: symdiff "
                                 "programs never modify arrays; build a new value instead", target)

    def unpack(self, value: Var, count: int, node: ast.AST) -> tuple:
        raise self.program.error("cannot unpack an array value", node)

    def _aug_assign(self, stmt: ast.AugAssign) -> None:
        target = stmt.target
        if not isinstance(target, ast.Name):
            self.bind(target, None)
        current = self.lookup(target)
        if isinstance(current, Var) and self.graph[current.node].op == "input":
            raise self.program.error(f"in-place update of the input '{target.id}' is not "
                                     f"supported: write {target.id} = {target.id} "
                                     f"{_op_text(stmt.op)} ... with a new name", stmt)
        value = self.binop(stmt.op, current, self.evaluate(stmt.value), stmt)
        self.bind(target, value)

    def _for(self, stmt: ast.For) -> None:
        it = stmt.iter
        if stmt.orelse or not isinstance(stmt.target, ast.Name) or not (
                isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range"):
            raise self.program.error("only 'for NAME in range(K)' loops with a constant K are "
                                     "supported", stmt)
        bounds = [self.evaluate(a) for a in it.args]
        if it.keywords or not 1 <= len(bounds) <= 3 or not all(
                isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise self.program.error("range() needs 1 to 3 integer constants", it)
        if len(bounds) == 3 and bounds[2] == 0:
            raise self.program.error("range() step must not be zero", it)
        self.iterations += len(range(*bounds))
        if self.iterations > MAX_ITERATIONS:
            raise self.program.error(f"loops run more than {MAX_ITERATIONS:,} iterations in "
                                     "all; symdiff unrolls them, so keep them shorter", stmt)
        check_loop(self, bounds, stmt)  # the work this loop will do, refused before doing it
        for i in range(*bounds):
            self.env[stmt.target.id] = i
            self.exec_block(stmt.body)

    # ------------------------------------------------------------------ expressions
    def evaluate(self, root: ast.AST) -> Any:
        """Evaluate an expression bottom-up with an explicit stack (no recursion)."""
        results: dict[int, Any] = {}
        stack: list[tuple[ast.AST, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            kids = self._operands(node)
            if not ready and kids:
                stack.append((node, True))
                stack.extend((k, False) for k in reversed(kids))
                continue
            values = [results.pop(id(k)) for k in kids]
            results[id(node)] = self._combine(node, values)
        return results[id(root)]

    def _operands(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.BinOp):
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.Compare):
            return [node.left, *node.comparators]
        if isinstance(node, ast.Call):
            self._check_callee(node)
            receiver = [node.func.value] if isinstance(node.func, ast.Attribute) else []
            return receiver + list(node.args) + [k.value for k in node.keywords]
        if isinstance(node, ast.Attribute):
            return [node.value]
        if isinstance(node, ast.Subscript):
            return [node.value, node.slice]
        if isinstance(node, (ast.Tuple, ast.List)):
            return list(node.elts)
        if isinstance(node, ast.Slice):
            return [p for p in (node.lower, node.upper, node.step) if p is not None]
        return []

    def _check_callee(self, node: ast.Call) -> None:
        """Reject an unknown function before its arguments are looked at."""
        func = node.func
        if isinstance(func, ast.Name):
            qualified = f"builtin.{func.id}"
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in MODULES and func.value.id not in self.env:
            qualified = f"{MODULES[func.value.id]}.{func.attr}"
        else:
            return
        if qualified not in CALLS:
            raise self.program.error(f"unknown function '{self.what(func)}'", node)

    def _combine(self, node: ast.AST, values: list) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float)):  # bools are static flags (keepdims=True)
                return node.value
            if node.value is None:
                return NEWAXIS  # meaningful only in an index: x[:, None]
            raise self.program.error(f"constant {node.value!r} is not a number", node)
        if isinstance(node, ast.Name):
            return self.lookup(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, values[0], values[1], node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, values[0])
        if isinstance(node, ast.Compare):
            return self.compare(node, values)
        if isinstance(node, ast.Call):
            return self.call(node, values)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, values[0])
        if isinstance(node, ast.Subscript):
            return self.subscript(node, values[0], values[1])
        if isinstance(node, ast.Tuple):
            return tuple(values)
        if isinstance(node, ast.List):
            return list(values)  # x[[0, 2]] is fancy indexing, x[(0, 2)] is x[0, 2]
        if isinstance(node, ast.Slice):
            return self.slice(node, values)
        raise self.program.error(f"unsupported expression '{type(node).__name__}'", node)

    def lookup(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in MODULES:
            return Module(MODULES[node.id])
        if f"builtin.{node.id}" in CALLS:
            raise self.program.error(f"'{node.id}' is a function: call it, as in "
                                     f"{node.id}(x)", node)
        raise self.program.error(f"name '{node.id}' is not defined", node)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        if _is_number(a) and _is_number(b):
            return self.static_binop(op, a, b, node)
        name = BINOPS.get(type(op))
        if name == "matmul":
            return CALLS["numpy.matmul"](self, node, [a, b], {})
        if name is None:
            raise self.program.error(f"operator {_op_text(op)} is only supported on integer "
                                     "constants", node)
        return self.apply(name, [a, b], node)

    def static_binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        fn = STATIC_BINOPS.get(type(op))
        if fn is None:
            raise self.program.error(f"operator {_op_text(op)} needs array operands", node)
        if isinstance(op, ast.Pow) and abs(b) > MAX_EXPONENT and abs(a) > 1:
            raise self.program.error(f"constant exponent {_short(b)} is too large "
                                     f"(the limit is {MAX_EXPONENT})", node)
        try:
            result = fn(a, b)
        except ZeroDivisionError:
            raise self.program.error("division by zero in a constant expression", node) from None
        except OverflowError:
            raise self.program.error("constant expression overflows", node) from None
        if isinstance(result, complex):
            raise self.program.error("constant expression is not a real number", node)
        if isinstance(result, int) and abs(result) > MAX_INT or \
                isinstance(result, float) and not math.isfinite(result):
            raise self.program.error("constant expression overflows", node)
        return result

    def unary(self, node: ast.UnaryOp, value: Any) -> Any:
        if isinstance(node.op, ast.UAdd):
            return value
        if _is_number(value):
            return -value
        return self.apply("neg", [value], node)

    def compare(self, node: ast.Compare, values: list) -> Any:
        if len(node.ops) != 1:
            raise self.program.error("chained comparisons (a < b < c) are not supported", node)
        return self.apply(COMPARE_OPS[type(node.ops[0])], values, node)

    def call(self, node: ast.Call, values: list) -> Any:
        func = node.func
        receiver = None
        if isinstance(func, ast.Name):
            qualified = f"builtin.{func.id}"
            if func.id in self.env:
                raise self.program.error(f"'{func.id}' is a value, not a function", func)
        elif isinstance(func, ast.Attribute):
            receiver, values = values[0], values[1:]
            if isinstance(receiver, Module):
                qualified = f"{receiver.name}.{func.attr}"
                receiver = None
            else:
                qualified = f"method.{func.attr}"
        else:
            raise self.program.error("only named functions can be called", node)
        handler = CALLS.get(qualified)
        if handler is None:
            raise self.program.error(f"unknown function '{self.what(func)}'", node)
        args = values[:len(node.args)]
        kwargs = {k.arg: v for k, v in zip(node.keywords, values[len(node.args):])}
        if any(k.arg is None for k in node.keywords):
            raise self.program.error("'**' arguments are not supported", node)
        if receiver is not None:
            args = [receiver] + args
        return handler(self, node, args, kwargs)

    def attribute(self, node: ast.Attribute, value: Any) -> Any:
        if isinstance(value, Module):
            if node.attr in MODULE_VALUES:
                return MODULE_VALUES[node.attr]
            raise self.program.error(f"'{self.what(node)}' is not supported here", node)
        handler = ATTRIBUTES.get(node.attr)
        if handler is None or not isinstance(value, Var):
            raise self.program.error(f"attribute '.{node.attr}' is not supported", node)
        return handler(self, node, value)

    def subscript(self, node: ast.Subscript, value: Any, index: Any) -> Any:
        if isinstance(value, (tuple, list)) and isinstance(index, int):
            if not -len(value) <= index < len(value):
                raise self.program.error(f"index {index} is out of range for {value}", node)
            return value[index]
        handler = CALLS.get("index")
        if handler is None or not isinstance(value, Var):
            raise self.program.error("indexing is only supported on arrays and shapes", node)
        return handler(self, node, [value, index], {})

    def slice(self, node: ast.Slice, values: list) -> slice:
        parts = iter(values)
        bounds = [next(parts) if p is not None else None
                  for p in (node.lower, node.upper, node.step)]
        if not all(b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise self.program.error("slice bounds must be integer constants", node)
        if bounds[2] == 0:
            raise self.program.error("slice step must not be zero", node)
        return slice(*bounds)

    def what(self, node: ast.AST) -> str:
        """Short source text of a node for messages (ast.unparse would recurse on deep trees)."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        segment = ast.get_source_segment(self.program.source, node)
        if segment is None:
            return type(node).__name__
        segment = " ".join(segment.split())
        return segment if len(segment) <= 60 else segment[:57] + "..."

    # ------------------------------------------------------------------ graph building
    def as_node(self, value: Any, node: ast.AST) -> int:
        if isinstance(value, Var):
            return value.node
        if _is_number(value):
            return self.graph.const(value)
        raise self.program.error(f"expected a number or an array here, got {_describe(value)}",
                                 node)

    def apply(self, op: str, args: list, node: ast.AST, attrs: tuple = ()) -> Var:
        ids = [self.as_node(a, node) for a in args]
        if OPS[op].lower is not None:  # sugar: built from other ops
            return Var(OPS[op].lower(self.graph, *ids))
        if op != "where":
            # A comparison used as a number is 0.0 or 1.0 (NumPy's bool arithmetic would not
            # add or negate it).
            ids = [self.graph.apply("float", i) if OPS[self.graph[i].op].kind == "compare"
                   else i for i in ids]
        if OPS[op].kind == "structural" and any(self.graph.shape(i) is None for i in ids):
            raise NeedsShapes()
        try:
            return Var(self.graph.apply(op, *ids, attrs=attrs))
        except GraphShapeError as exc:
            raise self.program.error(f"{self.what(node)}: {exc}", node, ShapeError) from None

    def no_keywords(self, node: ast.Call, kwargs: dict) -> None:
        if kwargs:
            raise self.program.error(f"{self.what(node.func)}() takes no keyword arguments", node)

    def shape_of(self, value: Any, node: ast.AST) -> tuple[int, ...]:
        """The concrete shape of a value; raises :class:`NeedsShapes` in shape-generic mode."""
        if _is_number(value):
            return ()
        shape = self.graph.shape(self.as_node(value, node))
        if shape is None:
            raise NeedsShapes()
        return shape


ATTRIBUTES: dict[str, Callable[[Tracer, ast.Attribute, Var], Any]] = {}
MODULE_VALUES: dict[str, Any] = dict(MODULE_CONSTANTS)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_doc(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _describe(value: Any) -> str:
    if value is NEWAXIS:
        return "None"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if any(isinstance(v, Var) for v in value):
            return f"a {kind} of {len(value)} values"
        return f"the {kind} {value}" if len(str(value)) < 40 else f"a {kind}"
    if isinstance(value, Module):
        return f"the module {value.name}"
    return type(value).__name__


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:17] + "..."


def _op_text(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%"}.get(type(op), type(op).__name__)


def trace(program: Program, shapes: dict[str, Shape] | None = None,
          kinds: dict[str, str] | None = None) -> Graph:
    """Build the graph of ``program`` (shape-generic when ``shapes`` is None)."""
    return Tracer(program, shapes, kinds).run()


from . import numpy_api  # noqa: E402,F401  -- registers the NumPy API handlers
