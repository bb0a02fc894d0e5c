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
from typing import Any

from ..errors import GraphShapeError, ShapeError
from .parse import MAX_EXPONENT, MAX_INT, MODULES, RESERVED, Program
from ..ir.graph import Graph, Shape
from ..ops import OPS, SPELLINGS
from .calls import (ATTRIBUTES, CALLS, MODULE_VALUES, Handler, Module, NeedsShapes,  # noqa: F401
                    Selection, call, unknown_function, unsupported_attribute)
from .rolled import counter_arithmetic
from .statements import (ELLIPSIS, LAZY, NEWAXIS, UNBOUND, Function, NeedsStatic, Scopes,  # noqa: F401
                         Statements, Var)

MAX_GRAPH_NODES = 2_000_000
SELECTION_HELP = ("x[mask] holds as many elements as the mask selects, a number known only when "
                  "the program runs: use it in elementwise arithmetic with numbers and reduce it "
                  "whole (np.sum, np.mean, np.max, np.min), or write np.where(mask, x, 0)")


BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
          ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floordiv"}
STATIC_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                 ast.Div: operator.truediv, ast.Pow: operator.pow,
                 ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
COMPARE_OPS = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq",
               ast.NotEq: "ne"}

def _elementwise(op: str) -> Handler:
    arity = OPS[op].arity

    def handler(t: "Tracer", node: ast.Call, args: list, kwargs: dict):
        if kwargs:
            t.no_keywords(node, kwargs)
        if len(args) != arity:
            raise t.program.error(f"{t.what(node.func)}() takes {arity} argument"
                                  f"{'s' * (arity > 1)}, got {len(args)}", node)
        return t.apply(op, args, node)
    handler.op = op  # the registry entry it calls (read by the op table)
    return handler


# Every registry entry's spellings call it directly (its arguments in order).
for _qualified, _op in SPELLINGS.items():
    call(_qualified)(_elementwise(_op.name))


class Tracer(Statements):
    """Builds the graph of one program for one assignment of input shapes."""

    def __init__(self, program: Program, shapes: dict[str, Shape] | None = None,
                 kinds: dict[str, str] | None = None, roll: bool = False,
                 vectorize: bool = False):
        self.program = program
        self.roll = roll  # keep loops over ranges as loops where they allow (rolled.py)
        self.vectorize = vectorize  # or as array code, where steps only add up (vectorized.py)
        self.iterations = 0
        self.graph = Graph()
        # The program's globals (its constants and helper functions), under its own scope.
        module: dict[str, Any] = dict(program.constants)
        module.update({name: Function(node, module, name)
                       for name, node in program.functions.items()})
        self.env: Any = Scopes({}, module)
        shapes = shapes or {}
        kinds = kinds or {}
        for p in program.params:
            kind = kinds.get(p, "float")
            node = self.graph.input(p, shapes.get(p), kind)
            # An integer input used as a size or a count is known while tracing (its value
            # is part of the specialization, like a shape).
            self.env[p] = static_value(kind) if kind.startswith(STATIC) else Var(node)

    # ------------------------------------------------------------------ entry
    def run(self) -> Graph:
        tree = self.program.tree
        if isinstance(tree, ast.Expression):
            self.graph.current_line = 1
            self._set_outputs([self.evaluate(tree.body)], [None], tree.body)
            return self.graph
        value, ret = self.run_body(tree.body, tree)
        if isinstance(value, (tuple, list)):
            names = [e.id if isinstance(e, ast.Name) else None for e in ret.elts] \
                if isinstance(ret, (ast.Tuple, ast.List)) and len(ret.elts) == len(value) \
                else [None] * len(value)
            self._set_outputs(list(value), names, ret)
        else:
            name = ret.id if isinstance(ret, ast.Name) else None
            self._set_outputs([value], [name], ret)
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
    def check_size(self, stmt: ast.stmt) -> None:
        if len(self.graph) > MAX_GRAPH_NODES:
            raise self.program.error(f"program is too large (more than {MAX_GRAPH_NODES:,} "
                                     "operations after unrolling loops)", stmt)

    def bind(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            if target.id == "_":
                return
            if target.id in RESERVED:
                raise self.program.error(f"cannot assign to '{target.id}': the name is reserved "
                                         "for generated code", target)
            if target.id in MODULES:
                raise self.program.error(f"cannot assign to '{target.id}': it names a module",
                                         target)
            self.bind_name(target.id, value)
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
        if isinstance(target, ast.Subscript):
            self._set_item(target, value)
            return
        raise self.program.error(f"cannot assign to '{self.what(target)}'", target)

    def bind_name(self, name: str, value: Any) -> None:
        self.env[name] = value
        if isinstance(value, Var) and self.graph[value.node].op not in ("input", "const"):
            self.graph.names.setdefault(value.node, name)

    def _set_item(self, target: ast.Subscript, value: Any) -> None:
        """``x[i] = v``: an item of a list, or a new array equal to ``x`` but at ``i``."""
        container = self.evaluate(target.value)
        index = self.evaluate(target.slice)
        if isinstance(container, list):
            if not isinstance(index, int) or not -len(container) <= index < len(container):
                raise self.program.error("a list item is assigned by an integer constant "
                                         "within its length", target)
            container[index] = value
            return
        if not isinstance(container, Var) or not isinstance(target.value, ast.Name):
            raise self.program.error(f"cannot assign into '{self.what(target.value)}': assign "
                                     "into an array held by a name (x[i] = v)", target)
        updated = CALLS["setitem"](self, target, [container, index, value], {})
        self.bind(target.value, updated)
        self.update_aliases(container, updated)

    def unpack(self, value: Var, count: int, node: ast.AST) -> tuple:
        """``a, b = x``: the rows of an array."""
        shape = self.shape_of(value, node)
        if not shape or shape[0] != count:
            raise self.program.error(f"cannot unpack an array of shape {shape} into {count} "
                                     "names", node)
        return tuple(self.index_value(value, k, node) for k in range(count))

    def index_value(self, value: Var, k: int, node: ast.AST) -> Any:
        return CALLS["index"](self, node, [value, k], {})

    # ------------------------------------------------------------------ expressions
    def evaluate(self, root: ast.AST) -> Any:
        """Evaluate an expression bottom-up with an explicit stack (no recursion)."""
        values: list = []  # the operands' values, in order, until their node combines them
        # A syntax node to look at, or (node, operand count) once its operands are on their way.
        stack: list = [root]
        lookup = self.lookup
        while stack:
            item = stack.pop()
            kind = type(item)
            if kind is tuple:
                node, count = item
                operands = values[-count:]
                del values[-count:]
                values.append(self._combine(node, operands))
                continue
            if kind is ast.Name:  # (the most common leaf: read without the general steps)
                values.append(lookup(item))
                continue
            kids = self._operands(item)
            if kids:
                stack.append((item, len(kids)))
                stack.extend(reversed(kids))
            else:
                values.append(self._combine(item, kids))
        return values[0]

    def _operands(self, node: ast.AST) -> list[ast.AST]:
        kind = type(node)
        if kind is ast.Constant:  # the most common leaf (evaluate reads names itself)
            return []
        if kind is ast.BinOp:
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.Compare):
            return [node.left, *node.comparators]
        if isinstance(node, ast.Call):
            self._check_callee(node)
            receiver = [node.func.value] if isinstance(node.func, ast.Attribute) else \
                [] if isinstance(node.func, ast.Name) else [node.func]  # (lambda t: t)(x)
            return receiver + list(node.args) + [k.value for k in node.keywords]
        if isinstance(node, ast.Attribute):
            return [node.value]
        if isinstance(node, ast.Subscript):
            return [node.value, node.slice]
        if isinstance(node, (ast.Tuple, ast.List)):
            return list(node.elts)
        if isinstance(node, ast.Slice):
            return [p for p in (node.lower, node.upper, node.step) if p is not None]
        return []  # leaves, and the constructs that evaluate their parts themselves (lazy)

    def _check_callee(self, node: ast.Call) -> None:
        """Reject an unknown function before its arguments are looked at."""
        func = node.func
        if isinstance(func, ast.Name):
            if isinstance(self.env.get(func.id), Function):
                return
            qualified = f"builtin.{func.id}"
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in MODULES and func.value.id not in self.env:
            qualified = f"{MODULES[func.value.id]}.{func.attr}"
        else:
            return
        if qualified not in CALLS:
            raise self.program.error(unknown_function(self.what(func), qualified), node)

    def _combine(self, node: ast.AST, values: list) -> Any:
        kind = type(node)  # (a name never comes here: evaluate reads it)
        if kind is ast.BinOp:  # the most common, first
            return self.binop(node.op, values[0], values[1], node)
        combine = _COMBINE.get(kind)
        if combine is not None:
            return combine(self, node, values)
        lazy = LAZY.get(kind)
        if lazy is not None:
            return lazy(self, node)
        raise self.program.error(f"unsupported expression '{kind.__name__}'", node)

    def constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, (int, float)):  # bools are static flags (keepdims=True)
            return node.value
        if node.value is None:
            return NEWAXIS  # meaningful only in an index: x[:, None]
        if node.value is Ellipsis:
            return ELLIPSIS
        if isinstance(node.value, str):
            return node.value  # a static string: einsum's subscripts, norm's ord="fro"
        raise self.program.error(f"constant {node.value!r} is not a number", node)

    def lookup(self, node: ast.Name) -> Any:
        value = self.env.get(node.id, UNBOUND)  # (one walk of the scopes, no KeyError)
        if value is not UNBOUND:
            return value
        if node.id in MODULES:
            return _MODULE_OF[node.id]
        if node.id == "float" and "float64" in MODULE_VALUES:
            return MODULE_VALUES["float64"]  # a dtype: x.astype(float)
        if f"builtin.{node.id}" in CALLS:
            raise self.program.error(f"'{node.id}' is a function: call it, as in "
                                     f"{node.id}(x)", node)
        raise self.program.error(f"name '{node.id}' is not defined", node)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        if type(a) is Var and type(b) is Var and "_counters" not in self.__dict__:
            name = BINOPS.get(type(op))  # two values: the common case, without the checks below
            if name is not None and name != "matmul":
                return self.apply(name, [a, b], node)
        if "_counters" in self.__dict__:  # i + 1 in a rolled loop's body: an integer
            counter = counter_arithmetic(self, op, a, b, Var)
            if counter is not None:
                return counter
        if _is_number(a) and _is_number(b):
            return self.static_binop(op, a, b, node)
        if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
            return self._sequence_binop(op, a, b, node)  # shapes: (3,) + x.shape[1:]
        if isinstance(op, (ast.BitAnd, ast.BitOr)):  # masks: (x > 0) & (x < 1)
            if not all(self._is_mask(v) for v in (a, b)):
                raise self.program.error(f"'{_op_text(op)}' combines conditions, as in "
                                         "(x > 0) & (x < 1); its operands here are numbers",
                                         node)
            return self.logical("and" if isinstance(op, ast.BitAnd) else "or", a, b, node)
        name = BINOPS.get(type(op))
        if name == "matmul":
            return CALLS["numpy.matmul"](self, node, [a, b], {})
        if name is None:
            raise self.program.error(f"operator {_op_text(op)} is only supported on integer "
                                     "constants", node)
        return self.apply(name, [a, b], node)

    def _sequence_binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        """``+`` of two tuples (or two lists), ``*`` of one by an integer, as Python does."""
        if isinstance(op, ast.Add) and type(a) is type(b):
            return a + b
        if isinstance(op, ast.Mult):
            seq, count = (a, b) if isinstance(a, (tuple, list)) else (b, a)
            if isinstance(count, int) and not isinstance(count, bool) and \
                    0 <= count * len(seq) <= 10_000:
                return seq * count
        raise self.program.error(f"operator {_op_text(op)} on {_describe(a)} and {_describe(b)} "
                                 "is not supported", node)

    def _is_mask(self, value: Any) -> bool:
        return isinstance(value, bool) or isinstance(value, Var) and \
            OPS[self.graph[value.node].op].kind == "compare"

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
        if isinstance(node.op, (ast.Not, ast.Invert)):
            truth = self.static_truth(value)
            if truth is not None and not isinstance(node.op, ast.Invert):
                return not truth
            if isinstance(node.op, ast.Invert) and isinstance(value, int) and \
                    not isinstance(value, bool):
                return ~value
            return Var(self.negate(self.condition(value, node)))
        if _is_number(value):
            return -value
        return self.apply("neg", [value], node)

    def compare(self, node: ast.Compare, values: list) -> Any:
        """``a < b``, chains ``a < b < c`` (each pair, all must hold), ``x is None``."""
        result = True
        for op, left, right in zip(node.ops, values, values[1:]):
            if isinstance(op, (ast.Is, ast.IsNot)):
                same = left is right or left == right is True or \
                    (left is NEWAXIS and right is NEWAXIS)
                pair: Any = same if isinstance(op, ast.Is) else not same
            elif _is_static(left) and _is_static(right):
                pair = STATIC_COMPARE[type(op)](left, right)
            else:
                pair = self.apply(COMPARE_OPS[type(op)], [left, right], node)
            result = pair if result is True else self.logical("and", result, pair, node)
        return result

    def call(self, node: ast.Call, values: list) -> Any:
        func = node.func
        receiver = None
        if isinstance(func, ast.Name):
            qualified = f"builtin.{func.id}"
            if func.id in self.env:
                target = self.env[func.id]
                if not isinstance(target, Function):
                    raise self.program.error(f"'{func.id}' is a value, not a function", func)
                args = values[:len(node.args)]
                kwargs = {k.arg: v for k, v in zip(node.keywords, values[len(node.args):])}
                return self.call_function(target, args, kwargs, node)
        elif isinstance(func, ast.Attribute):
            receiver, values = values[0], values[1:]
            if isinstance(receiver, Module):
                qualified = f"{receiver.name}.{func.attr}"
                receiver = None
            elif isinstance(receiver, list):
                qualified = f"list.{func.attr}"  # hs.append(h): the list of values grows
            else:
                qualified = f"method.{func.attr}"
        else:
            callee, values = values[0], values[1:]
            if not isinstance(callee, Function):
                raise self.program.error("only functions can be called", node)
            kwargs = {k.arg: v for k, v in zip(node.keywords, values[len(node.args):])}
            return self.call_function(callee, values[:len(node.args)], kwargs, node)
        handler = CALLS.get(qualified)
        if handler is None:
            raise self.program.error(unknown_function(self.what(func), qualified), node)
        args = values[:len(node.args)]
        kwargs = {}
        if node.keywords:
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
            raise self.program.error(unsupported_attribute(self.what(node), f"{value.name}.{node.attr}"),
                                     node)
        handler = ATTRIBUTES.get(node.attr)
        if handler is None or not isinstance(value, Var):
            raise self.program.error(f"attribute '.{node.attr}' is not supported", node)
        return handler(self, node, value)

    def subscript(self, node: ast.Subscript, value: Any, index: Any) -> Any:
        if isinstance(value, (tuple, list)) and isinstance(index, Var):
            index = self.static_int(index, node)
        if isinstance(value, (tuple, list)) and isinstance(index, slice):
            return value[index]
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
        if isinstance(value, Selection):
            raise self.program.error(SELECTION_HELP, node)
        raise self.program.error(f"expected a number or an array here, got {_describe(value)}",
                                 node)

    def apply(self, op: str, args: list, node: ast.AST, attrs: tuple = ()) -> Var:
        if op == "where" and isinstance(args[0], bool):  # np.where(False, a, b)
            args = [float(args[0]), *args[1:]]
        graph, spec = self.graph, OPS[op]
        ids = [a.node for a in args if type(a) is Var]
        if len(ids) != len(args):  # numbers, or a selection x[mask]
            if any(isinstance(a, Selection) for a in args):
                return self._apply_selected(op, args, node, attrs)
            ids = [a.node if type(a) is Var else self.as_node(a, node) for a in args]
        if spec.lower is not None:  # sugar: built from other ops
            return Var(spec.lower(graph, *ids))
        if op != "where":
            # A comparison used as a number is 0.0 or 1.0 (NumPy's bool arithmetic would not
            # add or negate it).
            nodes = graph.nodes
            for i in ids:
                if nodes[i].op in COMPARISONS:
                    ids = [graph.apply("float", i) if nodes[i].op in COMPARISONS else i
                           for i in ids]
                    break
        if spec.kind == "structural" and any(graph.shape(i) is None for i in ids):
            raise NeedsShapes()
        try:
            return Var(graph.apply(op, *ids, attrs=attrs) if attrs else graph.apply(op, *ids))
        except GraphShapeError as exc:
            raise self.program.error(f"{self.what(node)}: {exc}", node, ShapeError) from None

    def _apply_selected(self, op: str, args: list, node: ast.AST, attrs: tuple) -> Selection:
        """An elementwise op on ``x[mask]`` (and numbers): computed on the whole array, the
        selection kept."""
        masks = {a.mask for a in args if isinstance(a, Selection)}
        others = [a for a in args if not isinstance(a, Selection)]
        if OPS[op].kind not in ("elementwise", "compare") or len(masks) > 1 or \
                any(isinstance(a, Var) and self.graph.shape(a.node) != () for a in others):
            raise self.program.error(SELECTION_HELP, node)
        values = [a.values if isinstance(a, Selection) else a for a in args]
        return Selection(self.apply(op, values, node, attrs), masks.pop())

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




# How each kind of expression combines its operands' values (Tracer._combine).
_COMBINE = {
    ast.Constant: lambda t, node, values: t.constant(node),
    ast.UnaryOp: lambda t, node, values: t.unary(node, values[0]),
    ast.Compare: Tracer.compare,
    ast.Call: Tracer.call,
    ast.Attribute: lambda t, node, values: t.attribute(node, values[0]),
    ast.Subscript: lambda t, node, values: t.subscript(node, values[0], values[1]),
    ast.Tuple: lambda t, node, values: tuple(values),
    ast.List: lambda t, node, values: list(values),  # x[[0, 2]] is fancy indexing, x[(0, 2)] is x[0, 2]
    ast.Slice: Tracer.slice,
}
COMPARISONS = frozenset(name for name, op in OPS.items() if op.kind == "compare")
_MODULE_OF = {name: Module(module) for name, module in MODULES.items()}


def _is_static(value: Any) -> bool:
    """A value known while tracing (not a graph value)."""
    return not isinstance(value, Var)


STATIC_COMPARE = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt,
                  ast.LtE: operator.le, ast.Eq: operator.eq, ast.NotEq: operator.ne}


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
    if isinstance(value, Function):
        return f"the function {value.name}" if value.name != "lambda" else "a lambda"
    if isinstance(value, range):
        return f"{value!r} (a range: write np.arange for an array)"
    if isinstance(value, bool):
        return f"the truth value {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is ELLIPSIS:
        return "'...'"
    # Never a class name of the compiler: say what kind of thing the user wrote.
    return "a value that is neither a number nor an array"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:17] + "..."


def _op_text(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&",
            ast.BitOr: "|"}.get(type(op), type(op).__name__)


STATIC = "static:"


def static_kind(value: int) -> str:
    """The kind of an input whose integer value the trace knows (``static:3``)."""
    return f"{STATIC}{int(value)}"


def static_value(kind: str) -> int:
    return int(kind[len(STATIC):])


def trace(program: Program, shapes: dict[str, Shape] | None = None,
          kinds: dict[str, str] | None = None, roll: bool = False,
          vectorize: bool = False) -> Graph:
    """Build the graph of ``program`` (shape-generic when ``shapes`` is None); with ``roll``,
    loops whose steps are alike stay loops (one ``loop`` node: frontend/rolled.py); with
    ``vectorize``, loops whose steps only add up become array code (frontend/vectorized.py)."""
    return Tracer(program, shapes, kinds, roll, vectorize).run()


# The handlers register themselves into CALLS when imported.
from . import (numpy_api, numpy_constructors, numpy_linalg, numpy_shapes,  # noqa: E402,F401
               numpy_stats, pybuiltins)
