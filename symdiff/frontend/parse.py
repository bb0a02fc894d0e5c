"""The frontend: user source -> a checked syntax tree -> the computational graph.

Parsing is a fence. The text goes to Python's own parser (``ast.parse``), never to ``eval``,
``exec``, ``sympify`` or ``parse_expr``; the tree it gives is then walked once, iteratively, against an
allow-list of node types and names, with limits on size and nesting checked before anything
recursive runs. Anything not on the list is a :class:`ParseError` naming the construct, with line,
column and a caret.

The checked program is then traced into a graph by :mod:`symdiff.frontend.trace`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import keyword
import linecache
import math
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from ..errors import ParseError, SourceError
from .files import read_source  # regular files only, UTF-8, bounded
from .origin import Origin, display_path
from ..codegen.verify import FORBIDDEN_NAMES
from ..syntax import nodes

MAX_SOURCE_CHARS = 300_000
MAX_AST_NODES = 150_000
MAX_DEPTH = 10_000         # nesting of the syntax tree (a long sum is a deep left spine)
MAX_INT = 2 ** 63
MAX_EXPONENT = 1_024
PARSE_RECURSION_LIMIT = 20_000

# Names generated code uses for itself, and names a user value must not take.
RESERVED = frozenset({"np", "numpy", "math", "dout", "cache", "grads", "range", "len",
                      "self",  # the compiled object's own methods take inputs by name
                      # builtins the generated code calls (max(a, b) in its float twin...)
                      "float", "max", "min", "abs", "slice", "type"}) | FORBIDDEN_NAMES
MODULES = {"np": "numpy", "numpy": "numpy", "math": "math"}
MODULE_CONSTANTS = {"pi": 3.141592653589793, "e": 2.718281828459045, "inf": float("inf")}

ALLOWED_EXPR = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant,
                ast.Attribute, ast.Subscript, ast.Tuple, ast.Compare, ast.keyword, ast.Slice,
                ast.Load, ast.Store, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult,
                ast.FloorDiv, ast.Mod, ast.USub, ast.UAdd, ast.Gt, ast.GtE, ast.Lt, ast.LtE,
                ast.Eq, ast.NotEq, ast.List, ast.IfExp, ast.BoolOp, ast.And, ast.Or, ast.Not,
                ast.Invert, ast.BitAnd, ast.BitOr, ast.Is, ast.IsNot, ast.Lambda, ast.ListComp,
                ast.comprehension, ast.Del)
ALLOWED_STMT = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign,
                ast.Return, ast.For, ast.Expr, ast.Pass, ast.If, ast.While, ast.Break,
                ast.Continue)
ALLOWED_NODES = ALLOWED_EXPR + ALLOWED_STMT
ALLOWED_TYPES = frozenset(ALLOWED_NODES)  # a set lookup first: cheaper than isinstance

DESCRIBE = {
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
    ast.Import: "an import", ast.ImportFrom: "an import", ast.Dict: "a dict", ast.Set: "a set",
    ast.With: "a with statement", ast.Try: "a try statement",
    ast.ClassDef: "a class definition", ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement", ast.Delete: "a del statement", ast.Raise: "a raise",
    ast.Assert: "an assert", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment expression (:=)",
    ast.Starred: "a starred expression", ast.AsyncFunctionDef: "an async function",
    ast.BitXor: "'^'", ast.LShift: "'<<'", ast.RShift: "'>>'", ast.In: "'in'",
    ast.NotIn: "'not in'", ast.AnnAssign: "an annotated assignment",
}
# Private names of generated code itself: the helpers it carries, the builtins' aliases, the
# compiled object's dispatcher; any other name with a leading underscore is the user's own.
GENERATED_PRIVATE = frozenset({"_self", "_rest", "_kwargs", "_general", "_fast", "_namespace",
                               "_shape", "_sign", "_sum_to", "_max_mask", "_logsumexp"})


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
    # Functions the program may call, by name: the other top-level definitions of the source
    # (``def``, ``name = lambda ...``, ``name = other_function``); inlined when called.
    functions: dict[str, ast.AST] = field(default_factory=dict)
    # Where the text is in the user's file (path.py:function, a Python function), for errors.
    origin: Origin | None = None

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
        if "[" not in self.source:
            return []  # no subscript at all (the walk below is a third of parsing a long program)
        for node in nodes(self.tree) if self.tree is not None else ():
            if type(node) is ast.Subscript:
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                used |= {i.id for i in items if isinstance(i, ast.Name)}
        return [p for p in self.params if p in used]

    def error(self, message: str, node: ast.AST | None, cls=ParseError) -> SourceError:
        if node is None or not hasattr(node, "lineno"):
            error = cls(message)
        else:
            error = cls(message, self.source, node.lineno, node.col_offset + 1)
        return self.origin.relocate(error) if self.origin else error


# ============================================================================ parsing
def parse(source_or_fn: str | Callable, name: str | None = None,
          constants: dict[str, float] | None = None, origin: Origin | None = None) -> Program:
    """Parse an expression, a ``def`` block, or a Python function into a checked :class:`Program`.

    ``constants`` are numbers the program may read by name (module-level settings such as ``reg``);
    ``origin`` places the text in a file (a Python function's own is found with ``inspect``), so
    that errors name the file and its lines.
    """
    if isinstance(source_or_fn, Program):
        return source_or_fn
    constants = dict(constants or {})
    entry = None
    if callable(source_or_fn) and not isinstance(source_or_fn, str):
        source, found, origin = _function_source(source_or_fn)
        constants.update(found)
        entry = source_or_fn.__name__
    elif isinstance(source_or_fn, str):
        source = source_or_fn
    else:
        raise ParseError(f"expected a formula string or a Python function, got "
                         f"{type(source_or_fn).__name__}")
    try:
        program = _parse_source(source, name, constants, entry)
    except SourceError as exc:
        raise (origin.relocate(exc) if origin else exc) from None
    program.origin = origin
    return program


def _parse_source(source: str, name: str | None, constants: dict, entry: str | None) -> Program:
    if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
        _parse_text(source)  # raises the size error before any other work
    # One kind of line break: Python's tokenizer and its parser disagree about a lone CR.
    source = _strip_indent(source.replace("\r\n", "\n").replace("\r", "\n"))
    if name is not None:
        _check_name(name)
    tree = _parse_text(source)
    identifiers = _check_tree(tree, source)
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.Expr) and not _is_docstring(body[0]):
        expr = ast.Expression(body[0].value)
        ast.copy_location(expr, body[0])
        params = _free_names(body[0].value, source)
        return Program(source, "expression", name or "f", params, expr,
                       identifiers, constants)
    functions, module_constants = _definitions(body, source)
    fn = _entry(functions, entry or name, source)
    params, annotations = _parameters(fn, source)
    helpers = {key: f for key, f in functions.items() if f is not fn}
    return Program(source, "function", name or fn.name, params, fn, identifiers,
                   {**module_constants, **constants}, annotations, helpers)


def _definitions(body: list[ast.stmt], source: str) -> tuple[dict[str, ast.AST], dict]:
    """The top level of a source text: ``def`` blocks, ``name = lambda ...``, ``name = other``
    (a function under a second name) and ``name = <number>`` constants; nothing else."""
    functions: dict[str, ast.AST] = {}
    constants: dict[str, float] = {}
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef):
            functions[stmt.name] = stmt
            continue
        if _is_docstring(stmt):
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
            if isinstance(value, ast.Lambda):
                functions[target] = value
                continue
            if isinstance(value, ast.Name) and value.id in functions:
                functions[target] = functions[value.id]
                continue
            number = _number(value)
            if number is not None:
                constants[target] = checked_constant(target, number)
                continue
        raise _located(source, stmt, "expected one expression, or 'def' blocks (the last one, "
                       "or the one named by name=, is the program; the others are helpers it "
                       "may call) with constants and 'name = lambda ...' helpers beside them")
    return functions, constants


def _entry(functions: dict[str, ast.AST], name: str | None, source: str) -> ast.FunctionDef:
    """The program among the definitions: the one named ``name``, else the last ``def``."""
    defs = [f for f in functions.values() if isinstance(f, ast.FunctionDef)]
    if not defs:
        raise ParseError("expected one expression or a 'def' block", source, 1, 1)
    chosen = functions.get(name) if name is not None else None
    return chosen if isinstance(chosen, ast.FunctionDef) else defs[-1]


def _function_source(fn: Callable) -> tuple[str, dict[str, float], Origin | None]:
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):
        label = getattr(fn, "__name__", None)
        raise ParseError(f"expected a formula string or a Python function, got "
                         f"{type(fn).__name__}" + (f" {label!r}" if label else ""))
    if fn.__name__ == "<lambda>":
        raise ParseError("lambdas are not accepted; write a 'def' or pass the formula as text")
    # The function's own text, after the texts of the functions it calls (read, never run),
    # so that one parse sees them all: the program is the last definition.
    pieces: dict[str, tuple] = {}
    constants: dict[str, float] = {}
    pending, seen = [(fn.__name__, fn)], set()
    while pending:
        label, current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        read = _read_function(current, fn)
        if current is not fn:
            pieces[label] = _helper_text(label, current, read)
        for scope in (read.closure.globals, read.closure.nonlocals):
            for key, value in scope.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    constants[key] = checked_constant(key, value)
                elif inspect.isfunction(value) and value.__module__ == fn.__module__ \
                        and len(pieces) < MAX_HELPERS:
                    pending.append((key, value))  # a helper of the same module
    main = _read_function(fn, fn)
    origin = _file_origin(fn)
    text = ""
    for piece, line, shift, first_shift, count in [*list(pieces.values())[::-1],
                                                   (main.text, main.line, main.shift, None, None)]:
        text = origin.add(text, piece, line, shift, first_shift, count) if origin else \
            f"{text}\n\n{piece}" if text else piece
    return text, constants, origin


MAX_HELPERS = 100


@dataclass
class _Read:
    text: str          # the definition, dedented
    closure: inspect.ClosureVars
    line: int          # its first line in the file
    shift: int         # the columns dedenting removed


def _read_function(current: Callable, fn: Callable) -> _Read:
    try:
        lines, first = inspect.getsourcelines(current)
        closure = inspect.getclosurevars(current)
    except (OSError, TypeError, ValueError) as exc:
        raise ParseError(f"cannot read the source of {current.__name__!r}"
                         f"{'' if current is fn else f' (called by {fn.__name__!r})'}: {exc}; "
                         "pass the source text instead") from None
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    shift = len(lines[0].rstrip("\r\n")) - len(text.split("\n", 1)[0].rstrip("\r")) if lines else 0
    return _Read(text, closure, max(first, 1), shift)


def _file_origin(fn: Callable) -> Origin | None:
    """The file of a function (its text as ``inspect`` read it), if it has one."""
    filename = inspect.getsourcefile(fn) or ""
    text = "".join(linecache.getlines(filename)) if filename else ""
    return Origin(display_path(filename), text) if text else None


def _helper_text(label: str, helper: Callable, read: _Read) -> tuple:
    """A called function's definition under the name the caller uses (its ``def``, a lambda's
    assignment line, or ``label = name`` for a function bound to a second name), with its place
    in the file: (text, first line, shift, shift of the first line, lines from the file)."""
    text = read.text
    if helper.__name__ == "<lambda>":
        stripped = text if not text[:1].isspace() else text.strip()
        tree = _parse_text(stripped)
        lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        if len(lambdas) != 1:
            raise ParseError(f"cannot read the lambda {label!r} on its own: define it on a "
                             "line of its own, or as a 'def'")
        lam = lambdas[0]
        head = f"{label} = "
        lead = read.shift + len(text) - len(text.lstrip()) if stripped is not text else read.shift
        return (head + ast.get_source_segment(stripped, lam), read.line + lam.lineno - 1,
                read.shift, lead + lam.col_offset - len(head), None)
    if helper.__name__ != label:
        return f"{text}\n{label} = {helper.__name__}", read.line, read.shift, None, \
            text.count("\n") + 1
    return text, read.line, read.shift, None, None


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


def _check_tree(tree: ast.AST, source: str) -> set[str]:
    """Walk the tree once, iteratively: allowed node types, identifiers, size and depth. Returns
    every identifier the program uses (names, parameters, functions)."""
    found: set[str] = set()
    count = 0
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth, where = pop()
        kind = type(node)
        shape = _SHAPES.get(kind) or _shape(kind)
        if shape.positioned:  # operator nodes (&, not, is...) report their expression's position
            where = node
        count += 1
        if count > MAX_AST_NODES or depth > MAX_DEPTH:
            _over_limits(count, where, source)
        if not shape.allowed:
            what = DESCRIBE.get(kind, f"'{kind.__name__}' syntax")
            raise _located(source, where, f"unsupported syntax: {what}")
        if shape.check is not None:
            shape.check(node, source, found)
        depth += 1
        if shape.has_ctx:  # its Load or Store: nothing to check, but it counts towards the limits
            count += 1
            if count > MAX_AST_NODES or depth > MAX_DEPTH:
                _over_limits(count, where, source)
        for name in shape.children:
            child = getattr(node, name, None)
            if type(child) is list:
                for item in child:
                    if isinstance(item, ast.AST):
                        push((item, depth, where))
            elif isinstance(child, ast.AST):
                push((child, depth, where))
    return found


def _over_limits(count: int, where: ast.AST, source: str) -> None:
    """The error of a tree past the node limit, or else past the depth limit."""
    if count > MAX_AST_NODES:
        raise ParseError(f"program is too large (more than {MAX_AST_NODES:,} syntax nodes)")
    raise _located(source, where, f"expression is nested too deeply (more than {MAX_DEPTH} levels)")


class _Shape(NamedTuple):
    """What the tree check needs of one node type, worked out once per type."""
    allowed: bool
    positioned: bool           # carries a line and column of its own
    children: tuple[str, ...]  # its fields that hold nodes (not ctx: Load, Store)
    has_ctx: bool
    check: Callable | None     # the node's own rule (identifiers, constants...)


_SHAPES: dict[type, _Shape] = {}


# Fields that hold names, flags or numbers in Python's grammar, never syntax nodes: the walk does
# not look into them (the tree always comes from ast.parse). ``value`` is a node but in Constant.
_LEAF_FIELDS = frozenset({"ctx", "id", "arg", "attr", "name", "kind", "type_comment", "level",
                          "module", "is_async", "conversion", "simple", "asname"})


def _shape(kind: type) -> _Shape:
    children = tuple(f for f in kind._fields if f not in _LEAF_FIELDS
                     and not (kind is ast.Constant and f == "value"))
    shape = _Shape(kind in ALLOWED_TYPES or issubclass(kind, ALLOWED_NODES),
                   "lineno" in kind._attributes, children, "ctx" in kind._fields,
                   _NODE_CHECKS.get(kind))
    _SHAPES[kind] = shape
    return shape


def _check_name_node(node: ast.Name, source: str, found: set[str]) -> None:
    _check_identifier(node.id, node, source)
    if node.id in FORBIDDEN_NAMES:  # eval, open...: refused wherever they appear
        raise _located(source, node, f"name '{node.id}' is reserved: it is not allowed in programs")
    found.add(node.id)


def _check_arg(node: ast.arg, source: str, found: set[str]) -> None:
    _check_identifier(node.arg, node, source)
    found.add(node.arg)


def _check_attribute(node: ast.Attribute, source: str, found: set[str]) -> None:
    if node.attr.startswith("_"):
        raise _located(source, node, f"attribute '{node.attr}' is not allowed")


def _check_constant(node: ast.Constant, source: str, found: set[str]) -> None:
    value = node.value
    if isinstance(value, bytes):
        raise _located(source, node, f"constant {value!r} is not allowed")
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise _located(source, node, "integer literal is too large")
    if isinstance(value, complex):
        raise _located(source, node, "complex numbers are not supported")
    if isinstance(value, float) and not math.isfinite(value):
        raise _located(source, node, "number literal overflows to infinity")


def _check_function(node: ast.FunctionDef, source: str, found: set[str]) -> None:
    _check_identifier(node.name, node, source)
    if node.name in RESERVED:
        raise _located(source, node, f"function name '{node.name}' is reserved for "
                       "generated code: rename the function")
    if node.decorator_list:
        raise _located(source, node.decorator_list[0], "decorators are not supported")
    found.add(node.name)


_NODE_CHECKS = {ast.Name: _check_name_node, ast.arg: _check_arg, ast.Attribute: _check_attribute,
                ast.Constant: _check_constant, ast.FunctionDef: _check_function}


def _check_name(name) -> None:
    """The ``name=`` of a generated function: an identifier like any in the source."""
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier() \
            or keyword.iskeyword(name) or is_generated_private(name) or name in RESERVED:
        raise ParseError(f"name={name!r} is not allowed: give a plain ASCII identifier that "
                         "does not start with '_'")


def _check_identifier(name: str, node: ast.AST, source: str) -> None:
    problem = _identifier_problem(name)
    if problem is not None:
        raise _located(source, node, problem)


@functools.lru_cache(maxsize=4096)  # a program names the same few identifiers over and over
def _identifier_problem(name: str) -> str | None:
    if not name.isascii() or not name.isidentifier():
        return f"identifier {name!r} must be plain ASCII"
    if is_generated_private(name):
        return f"name '{name}' is not allowed: the generated code uses it for itself; rename it"
    if keyword.iskeyword(name):
        return f"'{name}' is a Python keyword"
    return None


def is_generated_private(name: str) -> bool:
    """Whether a name with a leading underscore may be one generated code defines (a helper, a
    builtin's alias ``_len``, a block function ``_f_block``, a dunder)."""
    if not name.startswith("_") or name == "_":
        return False
    from ..runtime import HELPERS
    from ..codegen.names import ALIASABLE, alias
    return (name in GENERATED_PRIVATE or name in HELPERS or name.startswith("__")
            or name.startswith("_xp_") or name.endswith("_block")
            or any(name == alias(b) for b in ALIASABLE))


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
    bound = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and
             isinstance(n.ctx, ast.Store)}  # comprehension variables
    bound |= {a.arg for n in ast.walk(expr) if isinstance(n, ast.Lambda) for a in n.args.args}
    names = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in skip
             and n.id not in bound]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    seen: dict[str, None] = {}
    for n in names:
        if n.id in RESERVED:
            raise _located(source, n, f"name '{n.id}' is reserved for generated code")
        seen.setdefault(n.id, None)
    return list(seen)


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
    try:
        tree = _parse_text(text)
    except SourceError as exc:  # a syntax error anywhere in the file: the file's own place
        raise exc.moved(display_path(path), text, exc.line, exc.col) from None
    defs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    if function is None:
        if len(defs) != 1:
            raise ParseError(f"{path} defines {len(defs)} functions; name one as {path}:NAME")
        function = next(iter(defs))
    if function not in defs:
        raise ParseError(f"{path} has no top-level function {function!r} "
                         f"(it has: {', '.join(defs) or 'none'})")
    # The functions it calls (defs, name = lambda, name = other_function), and the ones those
    # call, come along as helpers; the file's other statements (imports, prints) are never read.
    constants, helpers = {}, {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            value = _number(stmt.value)
            if value is not None:
                constants[stmt.targets[0].id] = checked_constant(stmt.targets[0].id, value)
            elif isinstance(stmt.value, ast.Lambda) or \
                    isinstance(stmt.value, ast.Name) and stmt.value.id in defs:
                helpers[stmt.targets[0].id] = stmt
    helpers = {**{name: d for name, d in defs.items() if name != function}, **helpers}
    wanted, stack = set(), [defs[function]]
    while stack:
        for n in ast.walk(stack.pop()):
            if isinstance(n, ast.Name) and n.id in helpers and n.id not in wanted:
                wanted.add(n.id)
                stack.append(helpers[n.id])
    origin, combined = Origin(display_path(path), text), ""
    for stmt in [*(s for s in tree.body if any(s is helpers[name] for name in wanted)),
                 defs[function]]:  # top-level statements: nothing to dedent
        combined = origin.add(combined, ast.get_source_segment(text, stmt), stmt.lineno)
    return parse(combined, name=function, constants=constants, origin=origin)


def _number(node: ast.AST) -> float | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return sign * node.value
    return None
