"""Statements and control flow of traced programs: assignments, branches, loops, calls, returns.

Tracing runs the program once, symbolically. Python's control flow is resolved here:

* A condition known while tracing (a constant, a shape, a loop counter, a static integer input)
  picks its branch; nothing of the other branch is traced. A condition on input *values* traces
  both branches and joins them with ``where``: each name assigned in either branch becomes
  ``where(c, value_if_true, value_if_false)``, so the branch not taken gets an exact zero gradient
  (``where``'s rule), even where its own derivative is inf or NaN.
* Loops are unrolled: ``for`` over ``range``, a list or tuple, the rows of an array,
  ``enumerate``/``zip``; ``while`` under a static condition; ``break``/``continue`` under static
  conditions.
* A call to a function of the program (a ``def``, nested or not, a ``lambda``, a name bound to
  one) is inlined: its body is traced in a scope of its own.
* ``return`` may appear anywhere: a return under a value condition ``c`` makes the function's
  value ``where(c, returned, value_of_the_rest)``.
* ``x[i] = v`` is a functional update (a new value, as JAX's ``x.at[i].set(v)``): the caller's
  arrays are never modified.
"""

from __future__ import annotations

import ast
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

from .budget import check_loop
from .rolled import LongRange, roll, roll_while
from ..ops import OPS



class Scopes(ChainMap):
    """The names in scope, innermost first: a ChainMap that reads without raising KeyError in
    each scope it passes (a tracer reads a name for every leaf of every expression)."""

    def __getitem__(self, key):
        value = self.get(key, UNBOUND)
        return self.__missing__(key) if value is UNBOUND else value

    def __contains__(self, key) -> bool:
        for scope in self.maps:
            if key in scope:
                return True
        return False

    def get(self, key, default=None):
        for scope in self.maps:
            if key in scope:
                return scope[key]
        return default


UNBOUND = object()  # a name in no scope (what Scopes.get is given to tell)


class _NoneValue:
    """The value of a literal ``None``: a new axis in an index (``x[:, None]``), an absent
    argument (``axis=None``), or a default to compare with (``if b is None``)."""

    def __repr__(self) -> str:
        return "None"


NEWAXIS = _NoneValue()


class _EllipsisValue:
    """The value of ``...`` in an index: as many full slices as the array needs."""

    def __repr__(self) -> str:
        return "..."


ELLIPSIS = _EllipsisValue()

MAX_CALL_DEPTH = 64
MAX_ITERATIONS = 200_000     # loop bodies run in all, across every loop
MAX_WHILE_STEPS = 2_000      # steps of while loops, in all (an endless loop is refused quickly)


@dataclass(frozen=True, slots=True)
class Var:
    """A traced value: one node of the graph."""

    node: int


@dataclass(eq=False)
class Function:
    """A function of the program: its syntax (``def`` or ``lambda``) and the scope it was
    defined in (read when it runs, as Python's closures are)."""

    node: ast.AST
    scope: Any
    name: str


@dataclass
class Frame:
    """One function call being traced: its returns so far, each under its path condition."""

    returns: list[tuple[Any, Any]] = field(default_factory=list)
    return_node: ast.AST | None = None


class Returned(Exception):
    """A ``return`` ends the statements of its block (and of the blocks around it up to the
    branch or function that holds it)."""


class Break(Exception):
    pass


class Continue(Exception):
    pass


class Statements:
    """The statement half of :class:`symdiff.frontend.trace.Tracer` (which supplies ``evaluate``,
    ``apply``, ``lookup``, ``bind_name``...)."""

    path: int | None = None      # the value condition under which statements run (None: always)
    frame: Frame | None = None

    # ------------------------------------------------------------------ functions
    def run_body(self, body: list[ast.stmt], where: ast.AST) -> Any:
        """Trace a function body; return its value (returns under conditions joined)."""
        saved = self.frame, self.path
        self.frame, self.path = Frame(), None
        try:
            try:
                self.exec_block(body)
            except Returned:
                pass
            except (Break, Continue) as exc:
                raise self.program.error(f"'{type(exc).__name__.lower()}' outside a loop",
                                         exc.args[0]) from None
            else:
                raise self.program.error("the function must end with 'return <expression>' "
                                         "(a path through it returns nothing)", where)
            return self._joined_returns(where), self.frame.return_node
        finally:
            self.frame, self.path = saved

    def _joined_returns(self, where: ast.AST) -> Any:
        returns = self.frame.returns
        value = returns[-1][1]
        for condition, earlier in reversed(returns[:-1]):
            value = self.select(condition, earlier, value, where, "the returned value")
        return value

    def call_function(self, fn: Function, args: list, kwargs: dict, node: ast.Call) -> Any:
        """Inline a call of a program function."""
        stack = self.__dict__.setdefault("_calls", [])
        if any(active is fn.node for active in stack):
            raise self.program.error(f"'{fn.name}' calls itself (recursion is not supported: "
                                     "write the recursion as a loop)", node)
        if len(stack) >= MAX_CALL_DEPTH:
            raise self.program.error(f"function calls nest more than {MAX_CALL_DEPTH} deep", node)
        saved_env = self.env
        self.env = Scopes({}, fn.scope)
        stack.append(fn.node)
        try:
            self._bind_arguments(fn, args, kwargs, node)
            if isinstance(fn.node, ast.Lambda):
                return self.evaluate(fn.node.body)
            return self.run_body(fn.node.body, node)[0]
        finally:
            stack.pop()
            self.env = saved_env

    def _bind_arguments(self, fn: Function, args: list, kwargs: dict, node: ast.Call) -> None:
        spec = fn.node.args
        if spec.vararg or spec.kwarg:
            raise self.program.error(f"'{fn.name}' takes *args or **kwargs, which are not "
                                     "supported", node)
        positional = [a.arg for a in spec.posonlyargs + spec.args]
        if len(args) > len(positional):
            raise self.program.error(f"{fn.name}() takes {len(positional)} positional "
                                     f"argument(s), got {len(args)}", node)
        bound = dict(zip(positional, args))
        names = positional + [a.arg for a in spec.kwonlyargs]
        for key, value in kwargs.items():
            if key not in names or key in bound:
                raise self.program.error(f"{fn.name}() got an unexpected or repeated argument "
                                         f"'{key}'", node)
            bound[key] = value
        defaults = dict(zip(positional[len(positional) - len(spec.defaults):], spec.defaults))
        defaults.update({a.arg: d for a, d in zip(spec.kwonlyargs, spec.kw_defaults)
                         if d is not None})
        for name in names:
            if name not in bound:
                if name not in defaults:
                    raise self.program.error(f"{fn.name}() is missing the argument '{name}'",
                                             node)
                bound[name] = self.evaluate(defaults[name])
            self.env[name] = bound[name]

    # ------------------------------------------------------------------ statements
    def exec_block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.graph.current_line = stmt.lineno
            handler = STATEMENTS.get(type(stmt))
            if handler is None:
                raise self.program.error(f"unsupported statement: {type(stmt).__name__}", stmt)
            handler(self, stmt)
            self.check_size(stmt)

    def _assign(self, stmt: ast.Assign) -> None:
        value = self.evaluate(stmt.value)
        for target in stmt.targets:  # a = b = value binds both
            self.bind(target, value)

    def _aug_assign(self, stmt: ast.AugAssign) -> None:
        target = stmt.target
        load = ast.copy_location(
            ast.Subscript(target.value, target.slice, ast.Load()) if isinstance(target, ast.Subscript)
            else ast.Name(target.id, ast.Load()) if isinstance(target, ast.Name) else target, target)
        if not isinstance(target, (ast.Name, ast.Subscript)):
            raise self.program.error("only names and subscripts can be updated in place", target)
        current = self.evaluate(load)
        updated = self.binop(stmt.op, current, self.evaluate(stmt.value), stmt)
        self.bind(target, updated)
        if isinstance(target, ast.Name):
            self.update_aliases(current, self.env[target.id])

    def update_aliases(self, old: Any, new: Any) -> None:
        """An array updated in place (``a += 1``, ``a[i] = v``) is seen so under every name and
        in every list that holds the same array, as in NumPy (``b = a; a += 1`` changes b).
        Numbers, and values whose shape is not known, are immutable as Python's floats are."""
        if not isinstance(old, Var) or old is new or self.graph.shape(old.node) == ():
            return  # a number (the usual accumulator, s += ...) is never shared
        scopes = self.env.maps if isinstance(self.env, ChainMap) else [self.env]
        names = [(scope, name) for scope in scopes for name, value in scope.items()
                 if value is old]
        lists = [value for scope in scopes for value in scope.values()
                 if isinstance(value, list) and any(item is old for item in value)]
        if (names or lists) and self.graph.shape(old.node) is None:
            raise NeedsShapes()  # array or number? the shapes decide
        for scope, name in names:
            scope[name] = new
        for value in lists:
            value[:] = [new if item is old else item for item in value]

    def _expression(self, stmt: ast.Expr) -> None:
        if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return  # a docstring
        self.evaluate(stmt.value)  # a call for its effect: hs.append(h)

    def _define(self, stmt: ast.FunctionDef) -> None:
        if stmt.decorator_list:
            raise self.program.error("decorators are not supported", stmt)
        self.env[stmt.name] = Function(stmt, self.env, stmt.name)

    def _return(self, stmt: ast.Return) -> None:
        if stmt.value is None:
            raise self.program.error("'return' needs a value", stmt)
        self.frame.returns.append((self.path, self.evaluate(stmt.value)))
        self.frame.return_node = stmt.value
        raise Returned()

    def _loop_control(self, stmt: ast.stmt) -> None:
        if self.path is not None:
            raise self.program.error(f"'{type(stmt).__name__.lower()}' under a condition on "
                                     "input values is not supported (the loop's length would "
                                     "depend on the data): use np.where inside a loop of fixed "
                                     "length", stmt)
        raise Break(stmt) if isinstance(stmt, ast.Break) else Continue(stmt)

    # ------------------------------------------------------------------ branches
    def _if(self, stmt: ast.If) -> None:
        test = self.evaluate(stmt.test)
        truth = self.static_truth(test)
        if truth is not None:
            self.exec_block(stmt.body if truth else stmt.orelse)
            return
        condition = self.condition(test, stmt.test)
        arms = [self._arm(condition, True, stmt.body), self._arm(condition, False, stmt.orelse)]
        live = [arm for arm in arms if arm is not None]
        if not live:
            raise Returned()  # both arms returned: so has this block
        if len(live) == 1:
            scope, = live  # the other arm returned: going on means this arm was taken
            for name, value in scope.items():
                self.env[name] = value
            return
        self._join(condition, arms[0], arms[1], stmt)

    def _arm(self, condition: int, taken: bool, body: list[ast.stmt]) -> dict | None:
        """Trace one arm of a value-dependent branch; return the names it assigned (None if
        it returned on every path)."""
        outer_env, outer_path = self.env, self.path
        mask = condition if taken else self.negate(condition)
        self.env = outer_env.new_child() if isinstance(outer_env, ChainMap) else \
            Scopes({}, outer_env)
        self.path = mask if outer_path is None else self.both(outer_path, mask)
        try:
            self.exec_block(body)
            return self.env.maps[0]
        except Returned:
            return None
        finally:
            self.env, self.path = outer_env, outer_path

    def _join(self, condition: int, yes: dict, no: dict, stmt: ast.AST) -> None:
        """Bind each name either arm assigned to ``where(condition, yes, no)``."""
        for name in list(dict.fromkeys([*yes, *no])):
            before = self.env.get(name, _UNBOUND)
            a, b = yes.get(name, before), no.get(name, before)
            if a is _UNBOUND or b is _UNBOUND:
                # Assigned in one arm only and unbound before: Python would fail on the other
                # path if it read it, so the value of the arm that assigned it stands.
                self.bind_name(name, b if a is _UNBOUND else a)
                continue
            self.bind_name(name, self.select(condition, a, b, stmt, f"'{name}'"))

    def select(self, condition: Any, a: Any, b: Any, node: ast.AST, what: str) -> Any:
        """``where(condition, a, b)`` for traced values, element by element for containers;
        static values must agree."""
        if a is b:
            return a
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and \
                type(a) is type(b) and len(a) == len(b):
            return type(a)(self.select(condition, x, y, node, what) for x, y in zip(a, b))
        if self.is_data(a) and self.is_data(b):
            if not self.is_var(a) and not self.is_var(b) and a == b:
                return a
            self._same_shape(a, b, node, what)
            return self.apply("where", [Var(condition), a, b], node)
        if not self.is_var(a) and not self.is_var(b) and a == b:
            return a  # the same size, count or function on both sides
        raise self.program.error(f"{what} differs between the branches of a condition on input "
                                 "values, and is not an array or number that can be selected "
                                 "(a size, a count or a function must not depend on the data)",
                                 node)

    def _same_shape(self, a: Any, b: Any, node: ast.AST, what: str) -> None:
        if not (self.is_var(a) and self.is_var(b)):
            return  # a Python number broadcasts
        sa, sb = self.graph.shape(a.node), self.graph.shape(b.node)
        if sa is not None and sb is not None and sa != sb:
            raise self.program.error(f"the branches give {what} different shapes, {sa} and "
                                     f"{sb}: each branch must give the same shape", node)

    # ------------------------------------------------------------------ loops
    def _for(self, stmt: ast.For) -> None:
        iterable = self.evaluate(stmt.iter)
        steps = iterable.steps if isinstance(iterable, LongRange) else iterable
        if isinstance(steps, range) and roll(self, stmt, steps, Var, (NeedsShapes, NeedsStatic)):
            self.exec_block(stmt.orelse)  # the loop stays a loop (frontend/rolled.py)
            return
        items = self.items(iterable, stmt.iter)
        self._count(len(items), stmt)
        for item in items:
            self.bind(stmt.target, item)
            if not self._iteration(stmt.body):
                return
        self.exec_block(stmt.orelse)

    def _iteration(self, body: list[ast.stmt]) -> bool:
        """One step of a loop; False when it ends the loop (``break``)."""
        try:
            self._loop_body(body)
        except Break:
            return False
        except Continue:
            pass
        return True

    def _loop_body(self, body: list[ast.stmt]) -> None:
        """A loop's body, where ``if c: ...; continue`` on a value condition skips the rest of
        the body where ``c`` holds: the rest runs as the other arm of that branch."""
        for k, stmt in enumerate(body):
            if isinstance(stmt, ast.If) and stmt.body and isinstance(stmt.body[-1], ast.Continue):
                test = self.evaluate(stmt.test)
                if self.static_truth(test) is None:
                    rest = ast.If(test=stmt.test, body=stmt.body[:-1] or
                                  [ast.copy_location(ast.Pass(), stmt)],
                                  orelse=stmt.orelse + body[k + 1:])
                    ast.copy_location(rest, stmt)
                    self.graph.current_line = stmt.lineno
                    self._if(rest)
                    return
            self.exec_block([stmt])

    def _while(self, stmt: ast.While) -> None:
        while True:
            truth = self.static_truth(self.evaluate(stmt.test))
            if truth is None and roll_while(self, stmt, Var, (NeedsShapes, NeedsStatic)):
                break  # a loop counting its steps when it runs (frontend/rolled.py)
            if truth is None:
                raise self.program.error(
                    "a while loop whose condition depends on input values is kept a loop only "
                    "when its steps are alike (no break, continue or return, no list that "
                    "grows, values of a fixed shape; not for second derivatives); write 'for "
                    "i in range(K)' with a fixed K and keep each step's update under "
                    "np.where(condition, new, old)", stmt.test)
            if not truth:
                break
            steps = self.__dict__["_while_steps"] = self.__dict__.get("_while_steps", 0) + 1
            if steps > MAX_WHILE_STEPS:
                raise self.program.error(f"while loops ran more than {MAX_WHILE_STEPS:,} steps "
                                         "while tracing (symdiff unrolls them): is the "
                                         "condition ever false? Write a for loop over a range",
                                         stmt)
            self._count(1, stmt)
            if not self._iteration(stmt.body):
                return
        self.exec_block(stmt.orelse)

    def _count(self, steps: int, stmt: ast.stmt) -> None:
        self.iterations += steps
        if self.iterations > MAX_ITERATIONS:
            raise self.program.error(f"loops run more than {MAX_ITERATIONS:,} iterations in "
                                     "all; symdiff unrolls them, so keep them shorter", stmt)
        # The work the loop will do, refused before doing it (a while loop, step by step).
        if not isinstance(stmt, ast.For):  # a while loop's body, or a comprehension's element
            body = stmt.body if isinstance(stmt, ast.While) else [ast.Expr(stmt.elt)]
            stmt = ast.For(target=ast.Name("_", ast.Store()), iter=ast.Constant(0), body=body,
                           orelse=[])
        check_loop(self, [steps], stmt)

    def items(self, value: Any, node: ast.AST) -> list:
        """What a ``for`` loop or comprehension runs over, as a list of values."""
        if isinstance(value, range):
            if len(value) > MAX_ITERATIONS:
                raise self.program.error(f"range of {len(value):,} steps: symdiff unrolls loops, "
                                         f"so keep them under {MAX_ITERATIONS:,}", node)
            return list(value)
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, LongRange):
            raise self.program.error(value.refusal(MAX_ITERATIONS), node)
        if self.is_var(value):
            shape = self.shape_of(value, node)
            if not shape:
                raise self.program.error("cannot loop over a scalar", node)
            return [self.index_value(value, k, node) for k in range(shape[0])]
        raise self.program.error("a loop runs over range(...), a list, a tuple or the rows of an "
                                 "array", node)


    # ------------------------------------------------------------------ conditions
    def static_truth(self, value: Any) -> bool | None:
        """The truth of a value known while tracing; None for a traced (data) value."""
        if self.is_var(value):
            return None
        if isinstance(value, (tuple, list)):
            return len(value) > 0
        if value is NEWAXIS:
            return False
        return bool(value)

    def condition(self, value: Any, node: ast.AST) -> int:
        """The 0/1 mask node of a value used as a condition (``x > 0``, or ``x != 0``)."""
        n = self.as_node(value, node)
        if OPS[self.graph[n].op].kind == "compare":
            return n
        return self.graph.apply("ne", n, self.graph.const(0.0))

    def negate(self, mask: int) -> int:
        return self.graph.apply("logical_not", mask)

    def both(self, a: int, b: int) -> int:
        return self.graph.apply("logical_and", a, b)

    def logical(self, kind: str, a: Any, b: Any, node: ast.AST) -> Any:
        """``a and b`` / ``a or b`` (and ``&`` / ``|``) on masks."""
        if not self.is_var(a) and not self.is_var(b):
            return (a and b) if kind == "and" else (a or b)
        for known, other in ((a, b), (b, a)):
            truth = self.static_truth(known)
            if truth is not None:  # x > 0 and False is False; x > 0 or False is x > 0
                if kind == "and":
                    return other if truth else False
                return True if truth else other
        return Var(self.graph.apply(f"logical_{kind}", self.condition(a, node),
                                    self.condition(b, node)))

    def is_var(self, value: Any) -> bool:
        return isinstance(value, Var)

    def is_mask(self, value: Any) -> bool:
        """A 0/1 condition: a comparison, or masks combined."""
        return isinstance(value, Var) and OPS[self.graph[value.node].op].kind == "compare"

    def is_integer(self, value: Any) -> bool:
        """A traced value that holds integers: an integer input, or what reshapes, indexing and
        transposes make of one, or an integer result (argmax). An input that was taken for a
        float (it is not written as an index itself) is asked for again as an integer array."""
        if not isinstance(value, Var):
            return False
        n = value.node
        while True:
            node = self.graph[n]
            if node.op == "input":
                if node.attrs[1] == "index":
                    return True
                if node.attrs[0] in self.program.params:
                    raise NeedsStatic(node.attrs[0], "index")
                return False
            if OPS[node.op].integer:
                return True
            if node.op not in ("reshape", "transpose", "index", "expand", "copy"):
                return False
            n = node.args[0]

    def is_data(self, value: Any) -> bool:
        """A value that can be selected: a traced value or a number."""
        return self.is_var(value) or isinstance(value, (int, float)) and \
            not isinstance(value, bool)

    def static_int(self, value: Any, node: ast.AST) -> int:
        """An integer known while tracing. An integer input used here makes the program
        specialize on its value (like a shape): the trace starts over with it known."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.is_var(value) and self.graph[value.node].op == "input":
            raise NeedsStatic(self.graph[value.node].attrs[0])
        raise self.program.error("expected an integer known while tracing (a constant, a size "
                                 "or an integer input), got a value computed from the data",
                                 node)

    # ------------------------------------------------------------------ lazy expressions
    def _if_expression(self, node: ast.IfExp) -> Any:
        test = self.evaluate(node.test)
        truth = self.static_truth(test)
        if truth is not None:
            return self.evaluate(node.body if truth else node.orelse)
        condition = self.condition(test, node.test)
        return self.select(condition, self.evaluate(node.body), self.evaluate(node.orelse), node,
                           "the value of 'a if c else b'")

    def _bool_operation(self, node: ast.BoolOp) -> Any:
        kind = "and" if isinstance(node.op, ast.And) else "or"
        result = self.evaluate(node.values[0])
        for operand in node.values[1:]:
            truth = self.static_truth(result)
            if truth is not None and (truth if kind == "or" else not truth):
                return result  # short-circuit, as Python does
            value = self.evaluate(operand)
            result = value if truth is not None else self.logical(kind, result, value, node)
        return result

    def _lambda(self, node: ast.Lambda) -> Function:
        return Function(node, self.env, "lambda")

    def _list_comprehension(self, node: ast.ListComp) -> list:
        outer = self.env
        self.env = outer.new_child() if isinstance(outer, ChainMap) else Scopes({}, outer)
        try:
            out: list = []
            self._comprehend(node, 0, out)
            return out
        finally:
            self.env = outer

    def _comprehend(self, node: ast.ListComp, level: int, out: list) -> None:
        if level == len(node.generators):
            out.append(self.evaluate(node.elt))
            return
        generator = node.generators[level]
        items = self.items(self.evaluate(generator.iter), generator.iter)
        self._count(len(items), node)
        for item in items:
            self.bind(generator.target, item)
            keep = True
            for test in generator.ifs:
                truth = self.static_truth(self.evaluate(test))
                if truth is None:
                    raise self.program.error("a comprehension's 'if' must not depend on input "
                                             "values (the list's length would): use np.where",
                                             test)
                keep = keep and truth
            if keep:
                self._comprehend(node, level + 1, out)


class NeedsShapes(Exception):
    """The program reads shapes or uses structural ops: trace it again with concrete shapes."""


class NeedsStatic(Exception):
    """An integer input is used as a size or a count (``kind="static"``: trace again with its
    value known) or, through reshapes and indexing, as an index array (``kind="index"``: trace
    again with it kept an integer array)."""

    def __init__(self, name: str, kind: str = "static"):
        super().__init__(name)
        self.name = name
        self.kind = kind


_UNBOUND = object()

LAZY = {ast.IfExp: Statements._if_expression, ast.BoolOp: Statements._bool_operation,
        ast.Lambda: Statements._lambda, ast.ListComp: Statements._list_comprehension}

STATEMENTS = {
    ast.Assign: Statements._assign, ast.AugAssign: Statements._aug_assign,
    ast.For: Statements._for, ast.While: Statements._while, ast.If: Statements._if,
    ast.Return: Statements._return, ast.Expr: Statements._expression,
    ast.FunctionDef: Statements._define, ast.Pass: lambda self, stmt: None,
    ast.Break: Statements._loop_control, ast.Continue: Statements._loop_control,
}
