"""Budgets in work, checked before the work is done.

symdiff unrolls loops, so a few lines can stand for millions of operations. Counting iterations is
not enough (a ten-line body costs ten times a one-line one, and two nested loops multiply), and
counting graph nodes as they are built refuses only after the time is spent. Instead the tracer asks
:func:`check_loop` at the start of every loop: the syntax nodes the loop will evaluate (its body's
nodes times its length, nested loops multiplied by their own lengths where those are constants) are
added to the work done so far, and a total over the budget is refused at once, with a message that
says what to do. The command line applies smaller budgets to what it prints
(:func:`check_printing`): closed forms and gate-by-gate explanations cost far more per operation
than generated code.
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import SymdiffError

# Syntax nodes that unrolled loops may evaluate in all (a 20,000-step loop of one short line,
# x = x*y + 1, is about 140,000; compiling it takes about six seconds).
MAX_UNROLLED = 150_000
SUBSCRIPT = 5
# What the command line prints: closed forms (symdiff grad) and pictures (symdiff graph) ...
MAX_PRINTED = 5_000
# ... and the backward pass gate by gate (symdiff grad --explain).
MAX_EXPLAINED = 1_500


def _size(node: ast.AST) -> int:
    """Expressions and statements in a syntax tree (not the operator and context markers); a
    subscript counts five (an index in the forward pass, a scatter into zeros in the backward)."""
    return sum(SUBSCRIPT if type(n) is ast.Subscript else 1 for n in ast.walk(node)
               if isinstance(n, (ast.expr, ast.stmt)))


def _constant_range(call: ast.AST, env: dict) -> range | None:
    """range(...) when its arguments are constants or names bound to integers."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "range" and 1 <= len(call.args) <= 3 and not call.keywords):
        return None
    bounds = []
    for arg in call.args:
        sign = 1
        if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
            sign, arg = -1, arg.operand
        if isinstance(arg, ast.Constant) and type(arg.value) is int:
            bounds.append(sign * arg.value)
        elif isinstance(arg, ast.Name) and type(env.get(arg.id)) is int:
            bounds.append(sign * env[arg.id])
        else:
            return None
    if len(bounds) == 3 and bounds[2] == 0:
        return None
    return range(*bounds)


def _middle(env: dict, target: ast.AST, steps: range) -> dict:
    """The environment of a loop's body at its middle step: a nested loop whose length follows
    the loop variable (range(i)) then counts its average length."""
    if isinstance(target, ast.Name) and len(steps):
        return {**env, target.id: steps[len(steps) // 2]}
    return env


def weight(stmts: list[ast.stmt], env: dict, nested: bool = True) -> int:
    """The syntax nodes evaluated by running ``stmts`` once; with ``nested``, loops inside count
    their bodies times their lengths (a length that is not a constant counts once), without
    them only the loop headers count (the loops count themselves when they run)."""
    total = 0
    stack = [(s, 1, env) for s in stmts]
    while stack:
        node, times, scope = stack.pop()
        if isinstance(node, ast.For):
            total += times * (1 + _size(node.target) + _size(node.iter))
            if nested:
                steps = _constant_range(node.iter, scope)
                inner = scope if steps is None else _middle(scope, node.target, steps)
                length = 1 if steps is None else len(steps)
                stack.extend((s, times * length, inner) for s in node.body)
        else:
            total += times * _size(node)
    return total


def check_loop(tracer: Any, bounds: list[int], stmt: ast.For) -> None:
    """Called by the tracer before it unrolls a loop; refuses one that would go over budget."""
    steps = range(*bounds)
    length = len(steps)
    done = getattr(tracer, "unrolled", 0)
    projected = done + length * weight(stmt.body, _middle(tracer.env, stmt.target, steps))
    if projected > MAX_UNROLLED:
        raise tracer.program.error(
            f"loops would unroll to about {projected:,} operations (the limit is "
            f"{MAX_UNROLLED:,}); symdiff unrolls every loop into straight-line code, so write "
            "this with array operations (np.sum(x * x) rather than a loop over x[i]) or make "
            "the loop shorter", stmt)
    tracer.unrolled = done + length * weight(stmt.body, tracer.env, nested=False)


def program_weight(program: Any) -> int:
    """The syntax nodes a program evaluates, loops unrolled (estimated before tracing)."""
    tree = program.tree
    if isinstance(tree, ast.Module) and len(tree.body) == 1:
        tree = tree.body[0]
    if not isinstance(tree, ast.FunctionDef):
        return _size(tree)
    body = tree.body
    return weight(body, dict(getattr(program, "constants", {}) or {}))


def check_printing(program: Any, limit: int, what: str, instead: str) -> None:
    """Refuse to print (closed forms, explanations, pictures) a program too large to print."""
    size = program_weight(program)
    if size > limit:
        raise SymdiffError(f"{program.name} unrolls to about {size:,} operations; {what} at "
                           f"most {limit:,}, since the output would take long to make and to "
                           f"read: {instead}")
