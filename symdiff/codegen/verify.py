"""The last fence: every generated module is re-parsed and checked before it is returned or run.

Codegen only ever emits a small Python subset: assignments of arithmetic, calls to NumPy and
``math`` functions from a fixed list, the helpers of :mod:`symdiff.runtime`, a few array methods.
This check walks the parsed module and rejects anything else, so that even a bug in codegen (or a
name the frontend should have refused) cannot turn into code that does something other than
arithmetic.
"""

from __future__ import annotations

import ast
import inspect
import re
from functools import lru_cache

from ..errors import SymdiffError
from ..runtime import HELPERS
from ..ops import printed_names
from .names import ALIASABLE, ALL_BUILTINS, alias, global_reads, helper_aliases
from ..syntax import nodes

# What codegen's own scaffolding prints (scatters' zeros, errstate, shapes, casts, helpers'
# calls); each op's own NumPy and math names are read from its registry entry.
NUMPY_FUNCTIONS = printed_names("np") | frozenset({
    "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs", "sign", "maximum", "minimum",
    "logaddexp", "where", "shape", "zeros", "ones", "zeros_like", "ones_like", "full",
    "broadcast_to", "broadcast_shapes", "sum", "mean", "max", "min", "transpose", "reshape",
    "matmul", "dot", "outer", "arange", "add", "errstate", "argmax", "argmin", "take_along_axis",
    "expand_dims", "exp2", "log1p", "expm1", "clip", "asarray", "squeeze", "copy", "isfinite",
    "bincount", "zeros", "empty", "multiply", "equal", "einsum", "newaxis", "float64", "float32",
    "int64",  # a rolled loop's counter in NumPy steps that compute with it
    "logical_and", "put_along_axis", "vdot", "swapaxes", "moveaxis", "amax", "errstate", "inf", "nan",
    "negative", "reciprocal", "subtract", "divide", "empty_like", "result_type",
})
# The array API standard's names that the portable spelling uses (symdiff/portable.py).
XP_FUNCTIONS = NUMPY_FUNCTIONS | printed_names("xp") | frozenset({
    "permute_dims", "astype", "asarray", "float64", "expand_dims", "broadcast_to", "reshape",
    "argmax", "argmin", "isfinite", "squeeze", "full", "zeros_like", "ones_like", "arange"})
# np.linalg functions: the ones the entries print (np.linalg.inv...).
LINALG_FUNCTIONS = printed_names("np.linalg")
ALIASES = frozenset(alias(name) for name in ALIASABLE)
IMPORTS = {"numpy": "np", "math": "math"}  # the only imports: module -> the name it binds
MATH_FUNCTIONS = printed_names("math") | frozenset({
    "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "log1p", "pow", "fabs", "inf", "nan", "pi",
    "e"})
BUILTINS = frozenset({"max", "min", "abs", "float", "tuple", "range", "len", "isinstance",
                      "int", "None", "True", "False", "dict", "zip", "slice",
                      "ValueError"})  # a rolled while loop past its limit of steps
METHODS = frozenset({"sum", "T", "reshape", "shape", "ndim", "copy", "max", "min", "mean", "at",
                     "astype", "dtype", "size", "dot", "transpose", "squeeze", "get", "item",
                     "append",  # a rolled while loop's tape
                     "tolist"})  # a rolled loop's step on floats reads an array as a list
ALLOWED = (ast.Module, ast.Expr, ast.Import, ast.alias, ast.FunctionDef, ast.arguments, ast.arg,
           ast.Assign, ast.AugAssign, ast.Return, ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp,
           ast.Compare, ast.IfExp, ast.Call, ast.Attribute, ast.Dict, ast.Tuple, ast.keyword,
           ast.Subscript, ast.Slice, ast.If, ast.With, ast.withitem, ast.Load, ast.Store,
           ast.operator, ast.unaryop, ast.cmpop, ast.List, ast.BoolOp, ast.boolop, ast.For,
           ast.Break, ast.Raise)  # rolled loops: a while loop's end, and its limit of steps


def _concrete(classes) -> frozenset:
    """The node classes themselves: a set lookup per node is cheaper than isinstance chains."""
    out = set()
    for cls in classes:
        out.add(cls)
        out.update(cls.__subclasses__())
    return frozenset(out)


ALLOWED_TYPES = _concrete(ALLOWED)
BLOCK_FUNCTION = re.compile(r"_[A-Za-z][A-Za-z0-9_]*_block")
# Builtins that run code, reach objects' internals or the outside world: never in generated code.
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "exit", "quit", "memoryview", "super", "classmethod", "staticmethod",
    "property", "type"})  # (type(name, bases, dict) makes a class)


class GeneratedCodeError(SymdiffError):
    """Codegen produced something outside its allow-list (a symdiff bug, never user input)."""


def verify_module(source: str) -> ast.Module:
    """Parse ``source`` and check it against the codegen allow-list; return the tree."""
    tree = ast.parse(source)
    aliases = _check_top_level(tree)
    # A blocked driver calls its block function, defined (and verified) in the same module.
    blocks = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)
              and BLOCK_FUNCTION.fullmatch(n.name)}
    protected = blocks | set(HELPERS) | ALIASES
    body = ast.Module(body=[n for n in tree.body if not _is_alias(n)], type_ignores=[])
    for node in _walk(body, source.splitlines()):
        kind = type(node)
        if kind not in ALLOWED_TYPES:
            _fail(node, f"{kind.__name__} is not something codegen emits")
        if kind is ast.Call and type(node.func) is ast.Name and node.func.id in blocks:
            continue
        if kind is ast.Name or kind is ast.arg:
            _check_binding(node, protected)
            if kind is ast.Name and node.id in ALIASES and node.id not in aliases:
                _fail(node, f"alias {node.id!r} used but not bound")
        check = CHECKS.get(kind)
        if check is not None:
            check(node)
    # Where a definition shadows a builtin (a program named ``tuple``), no function may read a
    # builtin by its global name (symdiff/names.py renames them to the aliases bound after the
    # imports); helpers always use the aliases.
    shadowing = ALL_BUILTINS.intersection(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
    if shadowing:
        found, _ = global_reads(tree, ALL_BUILTINS, frozenset(HELPERS))
        if found:
            _fail(found[0], f"the builtin {found[0].id!r} read by its global name, which "
                  f"{', '.join(sorted(shadowing))} shadows")
    for name in sorted(HELPERS.keys() & {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}):
        if not helper_aliases(name) <= {a[1:] for a in aliases}:
            _fail(tree, f"helper {name} needs aliases the module does not bind")
    return tree


def _check_binding(node: ast.Name | ast.arg, protected: set[str]) -> None:
    """A name generated code may call (a helper, a block function) is never rebound, and no
    builtin that runs or reaches code is even mentioned."""
    if type(node) is ast.arg:
        bound = node.arg
    else:
        if node.id in FORBIDDEN_NAMES:
            _fail(node, f"name {node.id!r}")
        bound = node.id if type(node.ctx) is ast.Store else None
    if bound in protected:
        _fail(node, f"{bound!r} rebound")


def _check_top_level(tree: ast.Module) -> set[str]:
    """A module is imports, aliases of builtins (``_float = float``, before any definition) and
    function definitions, after its docstring: nothing runs at import but the imports. Returns
    the aliases bound."""
    aliases, defined = set(), False
    for k, node in enumerate(tree.body):
        docstring = k == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if _is_alias(node) and not defined:
            aliases.add(node.targets[0].id)
            continue
        defined = defined or isinstance(node, ast.FunctionDef)
        if isinstance(node, ast.FunctionDef) and (node.name in ALIASES
                                                  or node.name in IMPORTS.values()):
            _fail(node, f"a definition named {node.name!r}, which the module imports or aliases")
        if not (docstring or isinstance(node, (ast.Import, ast.FunctionDef))):
            _fail(node, f"a top-level {type(node).__name__}: modules only import and define")
    return aliases


def _is_alias(node: ast.AST) -> bool:
    """``_name = name`` for a builtin generated code may use."""
    return type(node) is ast.Assign and len(node.targets) == 1 \
        and type(node.targets[0]) is ast.Name and type(node.value) is ast.Name \
        and node.value.id in ALIASABLE and node.targets[0].id == alias(node.value.id)


def _check_import(node: ast.Import) -> None:
    if len(node.names) != 1 or IMPORTS.get(node.names[0].name) != (node.names[0].asname
                                                                 or node.names[0].name):
        _fail(node, "only 'import numpy as np' and 'import math' are allowed")


def _check_name(node: ast.Name) -> None:
    if node.id.startswith("__"):
        _fail(node, f"name {node.id!r}")


def _check_constant(node: ast.Constant) -> None:
    if not isinstance(node.value, (int, float, str)) and node.value is not None \
            and node.value is not Ellipsis:  # x[...] in an index
        _fail(node, f"constant {node.value!r}")


def _check_function(node: ast.FunctionDef) -> None:
    if node.decorator_list:
        _fail(node, "decorators")


def _walk(tree: ast.AST, lines: list[str]):
    """Every node of the tree but the helpers' bodies (a leaner ast.walk: modules can be large).

    A helper (a top-level function named as one in :mod:`symdiff.runtime`) is accepted only if its
    text is exactly that helper's source; its body is then not walked.
    """
    def helper(node: ast.AST) -> bool:
        if not (isinstance(node, ast.FunctionDef) and node.name in HELPERS):
            return False
        if "\n".join(lines[node.lineno - 1:node.end_lineno]) != _helper_source(node.name):
            _fail(node, f"helper {node.name} differs from symdiff's own")
        return True

    return nodes(tree, helper)


@lru_cache(maxsize=None)
def _helper_source(name: str) -> str:
    return inspect.getsource(HELPERS[name]).rstrip()


def _check_attribute(node: ast.Attribute) -> None:
    if node.attr.startswith("_"):
        _fail(node, f"attribute {node.attr!r}")
    if isinstance(node.value, ast.Name) and node.value.id == "np":
        if node.attr not in NUMPY_FUNCTIONS:
            _fail(node, f"np.{node.attr}")
    elif isinstance(node.value, ast.Name) and node.value.id == "xp":
        if node.attr not in XP_FUNCTIONS:
            _fail(node, f"xp.{node.attr}")
    elif isinstance(node.value, ast.Name) and node.value.id == "math":
        if node.attr not in MATH_FUNCTIONS:
            _fail(node, f"math.{node.attr}")
    elif isinstance(node.value, ast.Attribute) and node.value.attr == "add" and node.attr == "at":
        return
    elif isinstance(node.value, ast.Attribute) and node.value.attr == "linalg" \
            and isinstance(node.value.value, ast.Name) and node.value.value.id == "np":
        if node.attr not in LINALG_FUNCTIONS:
            _fail(node, f"np.linalg.{node.attr}")
    elif node.attr not in METHODS:
        _fail(node, f"method .{node.attr}")


def _check_call(node: ast.Call) -> None:
    func = node.func
    if isinstance(func, ast.Name) and func.id not in BUILTINS and func.id not in ALIASES \
            and func.id not in HELPERS:
        _fail(node, f"call to {func.id!r}")


def _check_for(node: ast.For) -> None:
    """Only the blocked driver's loop over row blocks: ``for name in _range(...)``."""
    if not (isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name) and node.iter.func.id in ("range", "_range")
            and not node.orelse):
        _fail(node, "a loop other than 'for name in _range(...)'")


def _fail(node: ast.AST, what: str) -> None:
    raise GeneratedCodeError(f"generated code failed verification at line "
                             f"{getattr(node, 'lineno', '?')}: {what}")


CHECKS = {ast.Import: _check_import, ast.Attribute: _check_attribute, ast.Name: _check_name,
          ast.Constant: _check_constant, ast.Call: _check_call, ast.FunctionDef: _check_function,
          ast.For: _check_for}


def verify_template(text: str, template: str, slots: tuple[str, ...]) -> ast.Module:
    """Check that ``text`` is ``template`` with each ``{slot}`` filled by one string literal and
    nothing else: same statements, names, calls and constants. Used for the files written
    beside a module (``symdiff compile --tests``), whose only varying part is a file name."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise GeneratedCodeError(f"generated file failed verification: {exc.msg}") from None
    marks = {slot: repr(f"\x00slot {slot}") for slot in slots}
    reference = ast.parse(template.format(**marks))
    got, want = list(ast.walk(tree)), list(ast.walk(reference))
    if len(got) == len(want):
        for g, w in zip(got, want):
            if type(w) is ast.Constant and isinstance(w.value, str) \
                    and w.value.startswith("\x00slot ") and type(g) is ast.Constant \
                    and type(g.value) is str:
                g.value = w.value
    if ast.dump(tree) != ast.dump(reference):
        raise GeneratedCodeError("generated file failed verification: it is not the template "
                                 "with string literals filled in")
    return tree
