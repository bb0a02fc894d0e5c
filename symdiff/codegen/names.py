"""Generated modules that no user name can break.

A module defines the program under the user's name (``name=``, or the ``def``'s), and its
functions use the user's names for their variables. A program called ``tuple``, ``len`` or
``max`` would shadow the builtin of that name for every function of the module that calls it.
:func:`immunize` makes that impossible by construction: every builtin a function reads as a global
is renamed to a private alias (``tuple`` -> ``_tuple``; user names never start with ``_``), and the
module binds the aliases right after its imports, before any definition can shadow them. The
verifier (:mod:`symdiff.codegen.verify`) then refuses any module that still reads a builtin by its global
name.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import types
from functools import lru_cache

# Builtins that generated code may use, through their aliases (``_float = float``).
ALIASABLE = frozenset({
    "abs", "dict", "enumerate", "float", "hasattr", "int", "isinstance", "len", "list", "max",
    "min", "range", "slice", "sum", "tuple", "zip", "ImportError"})
# (Not ``type``: with three arguments it makes a class, whose dunder attributes a string key can
# set; ``np.asarray`` of an object with ``__array_interface__`` reads any memory.)
ALL_BUILTINS = frozenset(name for name in dir(builtins) if name.isidentifier())


_NO_ARGS = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])


def alias(name: str) -> str:
    return "_" + name


def _bound(fn: ast.FunctionDef | ast.Lambda) -> set[str]:
    """The names a function binds in its own scope (parameters, assignments, loop targets,
    nested definitions)."""
    args = fn.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    stack = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            names.add(node.name)
            continue
        if kind is ast.Lambda:
            continue
        if kind is ast.Name and type(node.ctx) is not ast.Load:
            names.add(node.id)
        elif kind is ast.ExceptHandler and node.name:
            names.add(node.name)
        elif kind is ast.alias:
            names.add((node.asname or node.name).split(".")[0])
        stack.extend(ast.iter_child_nodes(node))
    return names


def global_reads(tree: ast.Module, candidates: frozenset[str], skip: frozenset[str] = frozenset()
                 ) -> tuple[list[ast.Name], set[str]]:
    """The ``Name`` nodes inside functions that read one of ``candidates`` as a global (no
    enclosing function binds it), and every name read anywhere in a function (skipping the
    top-level functions named in ``skip``)."""
    found: list[ast.Name] = []
    read: set[str] = set()
    work: list[tuple[ast.AST, frozenset[str]]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name not in skip:
            work.append((node, frozenset()))
    while work:
        fn, outer = work.pop()
        bound = outer | _bound(fn)
        # Defaults and decorators are evaluated in the enclosing scope.
        for expr in fn.args.defaults + [d for d in fn.args.kw_defaults if d is not None] + \
                getattr(fn, "decorator_list", []):
            work.append((ast.Lambda(args=_NO_ARGS, body=expr), outer))
        stack = list(fn.body) if isinstance(fn.body, list) else [fn.body]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.FunctionDef or kind is ast.Lambda:
                work.append((node, bound))
                continue
            if kind is ast.Name and type(node.ctx) is ast.Load:
                read.add(node.id)
                if node.id in candidates and node.id not in bound:
                    found.append(node)
            stack.extend(ast.iter_child_nodes(node))
    return found, read


def immunize(text: str, defined: list[str], helpers: list[str]) -> str:
    """A module whose functions cannot have a builtin shadowed by its own definitions.

    ``defined`` names the module's top-level functions, ``helpers`` the helpers it carries
    (which always call builtins through their aliases). When a definition is named after a
    builtin (a program called ``tuple``), every builtin a function reads as a global is renamed
    to its private alias; otherwise the text stays as written (readable, and no second parse).
    The aliases used are bound right after the imports."""
    if not ALL_BUILTINS.intersection(defined):
        used = sorted(set().union(*(helper_aliases(h) for h in helpers)))
        if not used:
            return text
        lines = text.split("\n")
        at = max(k for k, line in enumerate(lines) if line.startswith("import ")) + 1
        return "\n".join(lines[:at] + _alias_block(used) + lines[at:])
    tree = ast.parse(text)
    found, read = global_reads(tree, ALIASABLE)
    lines = text.split("\n")
    edits: dict[int, list[ast.Name]] = {}
    for node in found:
        edits.setdefault(node.lineno - 1, []).append(node)
    for row, nodes in edits.items():
        raw = lines[row].encode("utf-8")
        for node in sorted(nodes, key=lambda n: n.col_offset, reverse=True):
            raw = raw[:node.col_offset] + alias(node.id).encode() + raw[node.end_col_offset:]
        lines[row] = raw.decode("utf-8")
    used = sorted({n.id for n in found} | {n[1:] for n in read
                                            if n.startswith("_") and n[1:] in ALIASABLE})
    if not used:
        return "\n".join(lines)
    imports = [n for n in tree.body if isinstance(n, ast.Import)]
    at = imports[-1].end_lineno if imports else 0
    return "\n".join(lines[:at] + _alias_block(used) + lines[at:])


def _alias_block(used: list[str]) -> list[str]:
    return ["", "# Builtins under private names, which the module's own definitions cannot shadow.",
            *(f"{alias(name)} = {name}" for name in used)]


@lru_cache(maxsize=None)
def helper_aliases(name: str) -> frozenset[str]:
    """The builtins a helper of symdiff/helpers.py calls through their aliases."""
    from ..runtime import HELPERS

    tree = ast.parse(inspect.getsource(HELPERS[name]))
    return frozenset(n.id[1:] for n in ast.walk(tree) if isinstance(n, ast.Name)
                     and n.id.startswith("_") and n.id[1:] in ALIASABLE)


def function_text(module: str, name: str) -> str:
    """The source text of the top-level function ``name`` of a module."""
    for node in ast.parse(module).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return "\n".join(module.split("\n")[node.lineno - 1:node.end_lineno])
    raise KeyError(name)


def code_text(module: str, code: types.CodeType, most_lines: int) -> str | None:
    """The source text of a function compiled from ``module`` (read from its code's line
    positions, without parsing the module), or None where it spans more than ``most_lines``."""
    first = code.co_firstlineno
    if not hasattr(code, "co_positions"):  # Python 3.10
        return function_text(module, code.co_name)
    # (Each line's first instruction: a cheap test of the length; the end of the last
    # statement needs every instruction's position.)
    if any(line is not None and line - first > most_lines for _, _, line in code.co_lines()):
        return None
    last = max(end for _, end, _, _ in code.co_positions() if end is not None)
    return "\n".join(module.split("\n")[first - 1:last])
