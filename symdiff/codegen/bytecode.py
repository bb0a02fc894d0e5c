"""The fast fence: generated code checked as the code object Python will run, not re-parsed.

A module of 8,000 lines (a straight-line program of 1,000 statements) takes 0.13 s to re-parse
into a syntax tree and 0.15 s more to walk it; compiling its text takes 0.12 s, and what that
yields can be checked in a few milliseconds, because a code object lists what its code can touch:

* ``co_names``: every global and attribute it reads or calls. All must come from the allow-lists
  of :mod:`symdiff.codegen.verify` (NumPy's and ``math``'s functions, array methods, builtins
  and their aliases, symdiff's helpers, the module's block functions): nothing starting with
  ``__``, no ``eval``, ``open`` or ``getattr``, no import but NumPy's and ``math``'s.
* ``co_varnames``: its locals. None rebinds a helper, an alias or a block function, and none is
  a builtin that runs code.
* ``co_consts``: numbers, strings, ``None``, ``...`` and tuples of them; no nested code.
* its opcodes: only those Python emits for the constructs codegen writes (found by compiling a
  reference function that uses each of them, so the list follows the running Python); every
  jump back goes to a ``for`` loop's next step, every exception handler is a ``with``'s.
* the module's own code: a docstring, the two imports, builtins' aliases before any definition,
  then definitions (none named ``np``, ``math`` or an alias), and nothing called.

A helper's text (found from its code's line positions) must equal the helper's own. A module the
fast check does not accept (or one where a definition shadows a builtin, which needs the syntax
tree to tell a global read from a local one) gets the syntax-tree check, which names the line.
A module is run only if one of the two checks accepts it.
"""

from __future__ import annotations

import builtins
import dis
import types

from ..runtime import HELPERS
from .names import ALIASABLE, ALL_BUILTINS, alias, code_text, helper_aliases
from .verify import (ALIASES, BLOCK_FUNCTION, IMPORTS, BUILTINS, FORBIDDEN_NAMES, LINALG_FUNCTIONS,
                     MATH_FUNCTIONS, METHODS, NUMPY_FUNCTIONS, XP_FUNCTIONS, _helper_source,
                     verify_module)

# Every construct the syntax-tree check allows in a function, once (never run: only compiled).
_REFERENCE = '''
def reference(a, b, c=None):
    """A docstring."""
    t = -a + b - a * b / a // b % a ** b @ a
    t = a & b | a ^ b << a >> b
    t = +a, ~a, not a
    t += a; t -= a; t *= a; t /= a; t //= a; t %= a; t **= a; t @= a
    t = a < b <= c > a >= b == c != a
    t = a in b, a not in b, a is None, a is not None
    t = a if b else c
    t = a and b or c
    t = c(a, b, key=c)
    c(a)
    t = a.b.c(a)
    t = {"a": a, "b": b}
    t = {a: b}
    t = (a, b)
    u, v = t
    t = [a, b]
    t = [1.0, 2.0, 3.0]
    t = a[1], a[1:2], a[1:2:3], a[..., None], a[:, 1], a[a:], a[:b]
    a[1] = b
    a[1:2] = b
    a[1] += b
    a[1:2] += b
    a[:, 1] = b
    if a:
        t = b
    elif b:
        t = c
    else:
        t = a
    if not a:
        return
    with a.b(all="ignore"):
        t = a
    for k in c(3):
        if k and a:
            break
        if a < 0 or b:
            t = k
    for k in c(3):
        t = k
    if a:
        raise ValueError("message")
    return t
'''
# Long literals are built in pieces (a dict of the gradients of many inputs, say).
_LITERALS = "def literals(a):\n    return {%s}, [%s], (%s)\n" % (
    ", ".join(f"'k{k}': a" for k in range(40)), ", ".join(["a"] * 40), ", ".join(["a"] * 40))
# What a module runs at import: a docstring, imports, aliases, definitions (with defaults).
_MODULE = '''"""A docstring."""
import numpy as np
import math
_abs = abs
def f(x, y=None, z=(1, 2)):
    return x
def g(x):
    return x
'''
_ANY = frozenset({"EXTENDED_ARG", "CACHE", "NOP", "RESUME"})  # arguments past 255, padding


def _code_of(text: str, name: str | None = None) -> types.CodeType:
    code = builtins.compile(text, "<symdiff-reference>", "exec", dont_inherit=True)
    return code if name is None else next(c for c in code.co_consts
                                          if isinstance(c, types.CodeType) and c.co_name == name)


def _opcodes(code: types.CodeType) -> frozenset[int]:
    return frozenset(code.co_code[::2])


FUNCTION_OPCODES = _opcodes(_code_of(_REFERENCE, "reference")) \
    | _opcodes(_code_of(_LITERALS, "literals")) | {dis.opmap[n] for n in _ANY if n in dis.opmap}
MODULE_OPNAMES = frozenset(dis.opname[op] for op in _opcodes(_code_of(_MODULE))) | _ANY
NAMES = (NUMPY_FUNCTIONS | XP_FUNCTIONS | LINALG_FUNCTIONS | MATH_FUNCTIONS | BUILTINS | METHODS
         | ALIASES | frozenset(HELPERS) | {"np", "math", "xp", "linalg", "add", "at"})
CONSTANTS = (int, float, str, type(None), type(Ellipsis))  # bool is an int
# Jumps back: each must be a for loop's (no while loop; Python 3.10 jumps back absolutely).
BACKWARD = frozenset(op for name, op in dis.opmap.items() if "BACKWARD" in name
                     or name == "JUMP_ABSOLUTE")
# Each exception handler a function enters must be a with statement's (no try: except:, which
# could also swallow KeyboardInterrupt); Python 3.10 spells them otherwise (the tree decides).
HANDLERS = tuple(dis.opmap[n] for n in ("PUSH_EXC_INFO", "WITH_EXCEPT_START")) \
    if "PUSH_EXC_INFO" in dis.opmap else ()


class _Undecided(Exception):
    """What the fast check cannot accept; the syntax-tree check decides (and locates)."""


def verified_code(source: str, filename: str) -> types.CodeType:
    """The code object of a generated module, after one of the two checks has accepted it."""
    # Codegen's text (compiling runs nothing), without this module's __future__ flags.
    code = builtins.compile(source, filename, "exec", dont_inherit=True)
    try:
        _check(code, source)
    except _Undecided:
        verify_module(source)  # raises GeneratedCodeError where the line is, or accepts
    return code


def _check(module: types.CodeType, source: str) -> None:
    functions, aliases = _check_module(module)
    blocks = {name for name in functions if BLOCK_FUNCTION.fullmatch(name)}
    protected = blocks | set(HELPERS) | ALIASES
    names = NAMES | blocks
    for name, code in functions.items():
        if name in HELPERS:
            _check_helper(name, code, aliases, source)
        else:
            _check_function(code, names, protected, aliases)


def _check_module(code: types.CodeType) -> tuple[dict[str, types.CodeType], set[str]]:
    """The module's own code binds only its docstring, the two imports, aliases of builtins
    (before any definition) and its functions; returns the functions and the aliases."""
    functions: dict[str, types.CodeType] = {}
    aliases: set[str] = set()
    loaded: object = None  # what the next store binds
    made = None            # the code of the function being made
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op not in MODULE_OPNAMES:
            raise _Undecided(f"{op} at the top level")
        if op == "LOAD_CONST" and isinstance(ins.argval, types.CodeType):
            made = ins.argval
        elif op in ("LOAD_CONST", "LOAD_NAME", "IMPORT_NAME"):
            loaded = (op, ins.argval)
        elif op == "MAKE_FUNCTION":
            loaded = ("function", made)
        elif op == "STORE_NAME":
            _check_store(ins.argval, loaded, functions, aliases)
            if loaded[0] == "function":
                functions[ins.argval] = loaded[1]
            loaded = None
    if ALL_BUILTINS.intersection(functions):
        raise _Undecided("a definition named like a builtin")
    return functions, aliases


def _check_store(target: str, loaded, functions: dict, aliases: set[str]) -> None:
    kind, value = loaded if loaded is not None else (None, None)
    if kind == "LOAD_CONST" and target == "__doc__" and isinstance(value, str) \
            and not functions and not aliases:
        return
    if kind == "IMPORT_NAME" and IMPORTS.get(value) == target:
        return
    if kind == "LOAD_NAME" and value in ALIASABLE and target == alias(value) and not functions:
        aliases.add(target)
        return
    if kind == "function" and value is not None and value.co_name == target \
            and not target.startswith("__") and target not in functions \
            and target not in ALIASES and target not in IMPORTS.values():
        return  # (a definition never takes the name of an import or an alias)
    raise _Undecided(f"the top level binds {target!r}")


def _check_function(code: types.CodeType, names: frozenset[str], protected: set[str],
                    aliases: set[str]) -> None:
    what = f"function {code.co_name!r}"
    ops = code.co_code[::2]  # (every instruction's opcode: code units are two bytes)
    used = frozenset(ops)
    if not used <= FUNCTION_OPCODES:
        raise _Undecided(f"{what}: {', '.join(sorted(dis.opname[op] for op in used - FUNCTION_OPCODES))}")
    if used & BACKWARD and not _only_for_loops(code):
        raise _Undecided(f"{what}: a loop other than a for loop")
    if HANDLERS and ops.count(HANDLERS[0]) != ops.count(HANDLERS[1]):
        raise _Undecided(f"{what}: an exception handler that is not a with statement's")
    unknown = set(code.co_names) - names
    if unknown:
        raise _Undecided(f"{what} reads {sorted(unknown)[0]!r}")
    unbound = ALIASES.intersection(code.co_names) - aliases
    if unbound:
        raise _Undecided(f"{what}: alias {sorted(unbound)[0]!r} used but not bound")
    for local in code.co_varnames + code.co_cellvars + code.co_freevars:
        if local in protected or local in FORBIDDEN_NAMES or local.startswith("__"):
            raise _Undecided(f"{what} binds {local!r}")
    if code.co_cellvars or code.co_freevars:
        raise _Undecided(f"{what} has closures")
    for constant in code.co_consts:
        if not _plain(constant):
            raise _Undecided(f"{what}: constant {constant!r}"[:200])


def _only_for_loops(code: types.CodeType) -> bool:
    """Whether every jump back goes to a ``for`` loop's next step (no ``while``: its jumps go
    back to its test). Read instruction by instruction, only for code that jumps back."""
    instructions = list(dis.get_instructions(code))
    targets = {ins.offset: ins.opname for ins in instructions}
    return all(targets.get(ins.argval) == "FOR_ITER" for ins in instructions
               if ins.opcode in BACKWARD)


def _plain(constant) -> bool:
    if type(constant) is tuple:
        return all(_plain(c) for c in constant)
    return isinstance(constant, CONSTANTS) and type(constant) is not complex


def _check_helper(name: str, code: types.CodeType, aliases: set[str], source: str) -> None:
    """A helper's text (found from its code's line positions) is symdiff's own, defaults and
    annotations included."""
    if code_text(source, code, len(source)) != _helper_source(name):
        raise _Undecided(f"helper {name} differs from symdiff's own")
    if not helper_aliases(name) <= {a[1:] for a in aliases}:
        raise _Undecided(f"helper {name} needs aliases the module does not bind")
