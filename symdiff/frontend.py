"""The frontend: user source -> a checked syntax tree -> the computational graph.

Parsing is a fence. The text goes to Python's own parser (``ast.parse``), never to ``eval``,
``exec``, ``sympify`` or ``parse_expr``; the tree it gives is then walked once, iteratively, against an
allow-list of node types and names, with limits on size and nesting checked before anything
recursive runs. Anything not on the list is a :class:`ParseError` naming the construct, with line,
column and a caret.

The checked program is then traced into a graph by :mod:`symdiff.trace`.
"""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import math
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from typing import Callable

from .errors import ParseError, SourceError
from .files import read_source  # regular files only, UTF-8, bounded
from .verify import FORBIDDEN_NAMES

MAX_SOURCE_CHARS = 300_000
MAX_AST_NODES = 150_000
MAX_DEPTH = 10_000         # nesting of the syntax tree (a long sum is a deep left spine)
MAX_INT = 2 ** 63
MAX_EXPONENT = 1_024
PARSE_RECURSION_LIMIT = 20_000

# Names generated code uses for itself, and names a user value must not take.
RESERVED = frozenset({"np", "numpy", "math", "xp", "dout", "cache", "grads", "range", "len",
                      "self",  # the compiled object's own methods take inputs by name
                      # builtins the generated code calls (max(a, b) in its float twin...)
                      "float", "max", "min", "abs", "slice", "type"}) | FORBIDDEN_NAMES
MODULES = {"np": "numpy", "numpy": "numpy", "math": "math"}
MODULE_CONSTANTS = {"pi": 3.141592653589793, "e": 2.718281828459045, "inf": float("inf")}

ALLOWED_EXPR = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant,
                ast.Attribute, ast.Subscript, ast.Tuple, ast.Compare, ast.keyword, ast.Slice,
                ast.Load, ast.Store, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
                ast.FloorDiv, ast.Mod, ast.USub, ast.UAdd, ast.Gt, ast.GtE, ast.Lt, ast.LtE,
                ast.Eq, ast.NotEq, ast.List)
ALLOWED_STMT = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign,
                ast.Return, ast.For, ast.Expr, ast.Pass)

DESCRIBE = {
    ast.Lambda: "a lambda", ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
    ast.Import: "an import", ast.ImportFrom: "an import", ast.Dict: "a dict", ast.Set: "a set",
    ast.IfExp: "a conditional expression (use np.where)", ast.If: "an if statement (use np.where)",
    ast.While: "a while loop", ast.With: "a with statement", ast.Try: "a try statement",
    ast.ClassDef: "a class definition", ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement", ast.Delete: "a del statement", ast.Raise: "a raise",
    ast.Assert: "an assert", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment expression (:=)",
    ast.BoolOp: "'and'/'or' (use & or np.where)", ast.Starred: "a starred expression",
    ast.AsyncFunctionDef: "an async function", ast.Not: "'not'", ast.Invert: "'~'",
    ast.BitAnd: "'&'", ast.BitOr: "'|'", ast.BitXor: "'^'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.Is: "'is'", ast.IsNot: "'is not'", ast.In: "'in'",
    ast.NotIn: "'not in'", ast.AnnAssign: "an annotated assignment", ast.Break: "break",
    ast.Continue: "continue",
}


@dataclass
class Program:
    """A checked program: what the user wrote, ready to be traced for any input shapes."""

    source: str
    kind: str                    # "expression" or "function"
    name: str
    params: list[str]
    tree: ast.AST
    identifiers: set[str]
    constants: dict[str, float] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def annotated_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes from annotations like ``W1: "100,3072"`` (all parameters, or none)."""
        if set(self.annotations) != set(self.params):
            return {}
        shapes = {}
        for name, text in self.annotations.items():
            parts = [p.strip() for p in text.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ParseError(f"shape annotation of {name!r} must list integer sizes, "
                                 f"got {text!r}")
            shapes[name] = tuple(int(p) for p in parts)
        return shapes

    @property
    def index_params(self) -> list[str]:
        """Parameters used directly as an index (``y`` in ``s[np.arange(N), y]``): kept integer."""
        used = set()
        for node in ast.walk(self.tree) if self.tree is not None else ():
            if isinstance(node, ast.Subscript):
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                used |= {i.id for i in items if isinstance(i, ast.Name)}
        return [p for p in self.params if p in used]

    def error(self, message: str, node: ast.AST | None, cls=ParseError) -> SourceError:
        if node is None or not hasattr(node, "lineno"):
            return cls(message)
        return cls(message, self.source, node.lineno, node.col_offset + 1)


# ============================================================================ parsing
def parse(source_or_fn: str | Callable, name: str | None = None,
          constants: dict[str, float] | None = None) -> Program:
    """Parse an expression, a ``def`` block, or a Python function into a checked :class:`Program`.

    ``constants`` are numbers the program may read by name (module-level settings such as ``reg``).
    """
    if isinstance(source_or_fn, Program):
        return source_or_fn
    constants = dict(constants or {})
    if callable(source_or_fn) and not isinstance(source_or_fn, str):
        source, found = _function_source(source_or_fn)
        constants.update(found)
    elif isinstance(source_or_fn, str):
        source = source_or_fn
    else:
        raise ParseError(f"expected a formula string or a Python function, got "
                         f"{type(source_or_fn).__name__}")
    if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
        _parse_text(source)  # raises the size error before any other work
    # One kind of line break: Python's tokenizer and its parser disagree about a lone CR.
    source = _strip_indent(source.replace("\r\n", "\n").replace("\r", "\n"))
    if name is not None:
        _check_name(name)
    tree = _parse_text(source)
    _check_tree(tree, source)
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.Expr) and not _is_docstring(body[0]):
        expr = ast.Expression(body[0].value)
        ast.copy_location(expr, body[0])
        params = _free_names(body[0].value, source)
        return Program(source, "expression", name or "f", params, expr,
                       _identifiers(tree), constants)
    defs = [s for s in body if isinstance(s, ast.FunctionDef)]
    if len(defs) != 1 or len(body) != 1:
        node = body[0] if body else None
        raise ParseError("expected one expression or one 'def' block", source,
                         getattr(node, "lineno", None), getattr(node, "col_offset", 0) + 1)
    fn = defs[0]
    params, annotations = _parameters(fn, source)
    return Program(source, "function", name or fn.name, params, fn, _identifiers(tree),
                   constants, annotations)


def _function_source(fn: Callable) -> tuple[str, dict[str, float]]:
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):
        label = getattr(fn, "__name__", None)
        raise ParseError(f"expected a formula string or a Python function, got "
                         f"{type(fn).__name__}" + (f" {label!r}" if label else ""))
    if fn.__name__ == "<lambda>":
        raise ParseError("lambdas are not accepted; write a 'def' or pass the formula as text")
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        closure = inspect.getclosurevars(fn)
    except (OSError, TypeError, ValueError) as exc:
        raise ParseError(f"cannot read the source of {fn.__name__!r}: {exc}; "
                         "pass the source text instead") from None
    # Numeric constants the function reads from its module or closure (``reg = 1e-3``).
    constants: dict[str, float] = {}
    for scope in (closure.globals, closure.nonlocals):
        for key, value in scope.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                constants[key] = checked_constant(key, value)
    return source, constants


def checked_constant(name: str, value: int | float) -> int | float:
    """A number the program reads by name obeys the limits of a literal."""
    if isinstance(value, int) and abs(value) > MAX_INT or \
            isinstance(value, float) and not math.isfinite(value):
        raise ParseError(f"the constant {name!r} is too large or not finite")
    return value


def _parse_text(source: str) -> ast.Module:
    if len(source) > MAX_SOURCE_CHARS:
        raise ParseError(f"source is too long: {len(source):,} characters "
                         f"(the limit is {MAX_SOURCE_CHARS:,})")
    if not source.strip():
        raise ParseError("empty source: expected an expression or a 'def' block")
    if "\x00" in source:
        raise ParseError("source contains a NUL character")
    if not source.isascii():
        _reject_non_ascii(source)
    old_limit = sys.getrecursionlimit()
    try:
        # CPython's parser builds long left-nested sums recursively; give it room, bounded.
        sys.setrecursionlimit(max(old_limit, PARSE_RECURSION_LIMIT))
        return ast.parse(source)
    except SyntaxError as exc:
        col = exc.offset or 1
        raise ParseError(f"syntax error: {exc.msg}", source, exc.lineno, col) from None
    except (RecursionError, MemoryError):
        raise ParseError("source is nested too deeply to parse") from None
    except ValueError as exc:  # e.g. integer literals beyond Python's digit limit
        raise ParseError(f"cannot parse source: {exc}") from None
    finally:
        sys.setrecursionlimit(old_limit)


def _strip_indent(source: str) -> str:
    return textwrap.dedent(source) if source[:1] in " \t" else source


def _reject_non_ascii(source: str) -> None:
    """Identifiers must be ASCII: Python folds look-alikes (``ｘ`` is ``x``), SymPy would not."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                continue
            if not tok.string.isascii():
                line, col = tok.start
                raise ParseError(f"non-ASCII character in {tok.string!r}: identifiers and "
                                 "operators must be plain ASCII", source, line, col + 1)
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise ParseError(f"syntax error: {exc}") from None


def _check_tree(tree: ast.AST, source: str) -> None:
    """Walk the tree once, iteratively: allowed node types, identifiers, size and depth."""
    count = 0
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, parent = stack.pop()
        count += 1
        if count > MAX_AST_NODES:
            raise ParseError(f"program is too large (more than {MAX_AST_NODES:,} syntax nodes)")
        # Operator nodes (&, not, is...) carry no position: report their expression's.
        where = node if hasattr(node, "lineno") else parent
        if depth > MAX_DEPTH:
            raise _located(source, where, f"expression is nested too deeply (more than "
                           f"{MAX_DEPTH} levels)")
        if not isinstance(node, ALLOWED_EXPR + ALLOWED_STMT):
            what = DESCRIBE.get(type(node), f"'{type(node).__name__}' syntax")
            raise _located(source, where, f"unsupported syntax: {what}")
        _check_node(node, source)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, where))


def _check_node(node: ast.AST, source: str) -> None:
    if isinstance(node, ast.Name):
        _check_identifier(node.id, node, source)
    elif isinstance(node, ast.arg):
        _check_identifier(node.arg, node, source)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise _located(source, node, f"attribute '{node.attr}' is not allowed")
    elif isinstance(node, ast.Constant):
        if node.value is Ellipsis or isinstance(node.value, bytes):
            raise _located(source, node, f"constant {node.value!r} is not allowed")
        if isinstance(node.value, int) and abs(node.value) > MAX_INT:
            raise _located(source, node, "integer literal is too large")
        if isinstance(node.value, complex):
            raise _located(source, node, "complex numbers are not supported")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise _located(source, node, "number literal overflows to infinity")
    elif isinstance(node, ast.FunctionDef):
        _check_identifier(node.name, node, source)
        if node.name in RESERVED:
            raise _located(source, node, f"function name '{node.name}' is reserved for "
                           "generated code: rename the function")
        if node.decorator_list:
            raise _located(source, node.decorator_list[0], "decorators are not supported")


def _check_name(name) -> None:
    """The ``name=`` of a generated function: an identifier like any in the source."""
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier() \
            or keyword.iskeyword(name) or name.startswith("_") or name in RESERVED:
        raise ParseError(f"name={name!r} is not allowed: give a plain ASCII identifier that "
                         "does not start with '_'")


def _check_identifier(name: str, node: ast.AST, source: str) -> None:
    if not name.isascii() or not name.isidentifier():
        raise _located(source, node, f"identifier {name!r} must be plain ASCII")
    if name.startswith("_") and name != "_":
        raise _located(source, node, f"name '{name}' is not allowed: names starting with '_' "
                       "are reserved for generated code")
    if keyword.iskeyword(name):
        raise _located(source, node, f"'{name}' is a Python keyword")


def _located(source: str, node: ast.AST, message: str) -> ParseError:
    line = getattr(node, "lineno", None)
    return ParseError(message, source, line, getattr(node, "col_offset", 0) + 1)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _call_targets(tree: ast.AST) -> set[int]:
    """ids of Name nodes that are called (``exp`` in ``exp(x)``) or are module prefixes."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            out.add(id(node.func))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in MODULES:
            out.add(id(node.value))
    return out


def _free_names(expr: ast.AST, source: str) -> list[str]:
    """The free names of one expression, in order of first appearance."""
    skip = _call_targets(expr)
    names = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in skip]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    seen: dict[str, None] = {}
    for n in names:
        if n.id in RESERVED:
            raise _located(source, n, f"name '{n.id}' is reserved for generated code")
        seen.setdefault(n.id, None)
    return list(seen)


def _identifiers(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            found.add(node.name)
    return found


def _parameters(fn: ast.FunctionDef, source: str) -> tuple[list[str], dict[str, str]]:
    args = fn.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
        raise _located(source, fn, "only plain positional parameters are supported "
                       "(no *args, **kwargs, keyword-only parameters or defaults)")
    params, annotations = [], {}
    for a in args.args:
        if a.arg in RESERVED:
            raise _located(source, a, f"parameter name '{a.arg}' is reserved")
        params.append(a.arg)
        if a.annotation is not None:
            if not (isinstance(a.annotation, ast.Constant) and isinstance(a.annotation.value, str)):
                raise _located(source, a.annotation, "a parameter annotation must be a shape "
                               "string such as \"N,D\"")
            annotations[a.arg] = a.annotation.value
    if not params:
        raise _located(source, fn, "the function takes no inputs")
    return params, annotations


def parse_file_function(path: str, function: str | None = None) -> Program:
    """Parse one top-level function of a Python file, without importing or running the file.

    Module-level assignments of plain numbers (``reg = 1e-3``) are made available as constants.
    """
    text = read_source(path, MAX_SOURCE_CHARS)
    tree = _parse_text(text)
    defs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    if function is None:
        if len(defs) != 1:
            raise ParseError(f"{path} defines {len(defs)} functions; name one as {path}:NAME")
        function = next(iter(defs))
    if function not in defs:
        raise ParseError(f"{path} has no top-level function {function!r} "
                         f"(it has: {', '.join(defs) or 'none'})")
    segment = ast.get_source_segment(text, defs[function])
    constants = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            value = _number(stmt.value)
            if value is not None:
                constants[stmt.targets[0].id] = checked_constant(stmt.targets[0].id, value)
    return parse(textwrap.dedent(segment), constants=constants)


def _number(node: ast.AST) -> float | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return sign * node.value
    return None
