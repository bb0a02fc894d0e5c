"""The bridge between SymPy and the graph, in both directions.

* SymPy -> graph: an op's partial derivatives are small SymPy expressions in ``a, b, c, y``. Each is
  compiled once into a *recipe* (nested tuples) that builds graph nodes quickly, so differentiating a
  program costs a few node constructions per op and never a call into SymPy.
* graph -> SymPy: closed-form formulas for people. A value that is used several times and would be
  large when written out is given a name of its own, as ``sympy.cse`` output reads, so that deep
  programs print in size proportional to the graph rather than exponentially.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Callable

import sympy

from ..ir.graph import Graph
from ..ops import ARG_SYMBOLS, OPS, Y, Compare, sympy_functions

Recipe = tuple
MAX_SYMPY_DEPTH = 60


# ---------------------------------------------------------------------------- SymPy -> recipe
def compile_recipe(expr: sympy.Expr) -> Recipe:
    """Turn a small SymPy expression into nested ``(op, children...)`` tuples."""
    if expr == Y:
        return ("y",)
    if expr in ARG_SYMBOLS:
        return ("arg", ARG_SYMBOLS.index(expr))
    if expr.is_number:  # 2, 1/3, and constants such as pi or log(2)
        return ("const", float(expr))
    if expr.is_Add:
        return _sum_recipe(expr.as_ordered_terms())
    if expr.is_Mul:
        return _product_recipe(expr)
    if expr.is_Pow:
        return _power_recipe(expr.base, expr.exp)
    if isinstance(expr, Compare):
        kind, lhs, rhs = expr.args
        return ("op", str(kind), compile_recipe(lhs), compile_recipe(rhs))
    op = _sympy_functions().get(expr.func)
    if op is None:
        raise NotImplementedError(f"no op for SymPy function {expr.func}")
    return ("op", op, *(compile_recipe(a) for a in expr.args))


@lru_cache(maxsize=1)
def _sympy_functions() -> dict:
    return sympy_functions()


def _sum_recipe(terms) -> Recipe:
    positive = [t for t in terms if not t.could_extract_minus_sign()]
    negative = [-t for t in terms if t.could_extract_minus_sign()]
    if positive:
        out = compile_recipe(positive[0])
        for term in positive[1:]:
            out = ("op", "add", out, compile_recipe(term))
    else:
        out = ("op", "neg", compile_recipe(negative.pop(0)))
    for term in negative:
        out = ("op", "sub", out, compile_recipe(term))
    return out


def _product_recipe(expr: sympy.Mul) -> Recipe:
    coeff, factors = expr.as_coeff_mul()
    numer = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
    denom = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
    sign = -1 if coeff < 0 else 1
    coeff = abs(coeff)
    parts = ([("const", float(coeff))] if coeff != 1 or not numer else [])
    parts += [compile_recipe(f) for f in numer]
    out = parts[0]
    for part in parts[1:]:
        out = ("op", "mul", out, part)
    for f in denom:
        out = ("op", "div", out, compile_recipe(f))
    return ("op", "neg", out) if sign < 0 else out


def _power_recipe(base, exponent) -> Recipe:
    if exponent == sympy.Rational(1, 2):
        return ("op", "sqrt", compile_recipe(base))
    if exponent.is_negative:
        return ("op", "div", ("const", 1.0), _power_recipe(base, -exponent))
    return ("op", "pow", compile_recipe(base), compile_recipe(exponent))


@lru_cache(maxsize=None)
def partial_recipes(op_name: str) -> tuple[Recipe, ...]:
    """The recipes of an op's local partials, derived (by ``sympy.diff`` if need be) once per op."""
    return tuple(compile_recipe(p) for p in OPS[op_name].partial_templates)


def run_recipe(recipe: Recipe, args, out, const, apply):
    """Walk a recipe with ``args``/``out`` for its leaves, ``const(value)`` for numbers and
    ``apply(op, *values)`` for operations: graph nodes or numbers, as the callbacks decide."""
    tag = recipe[0]
    if tag == "y":
        return out
    if tag == "arg":
        return args[recipe[1]]
    if tag == "const":
        return const(recipe[1])
    return apply(recipe[1], *(run_recipe(r, args, out, const, apply) for r in recipe[2:]))


Builder = Callable[[Graph, tuple, int], int]


@lru_cache(maxsize=None)
def partial_builders(op_name: str) -> tuple[Builder, ...]:
    """An op's partials as functions ``(graph, args, out) -> node`` that build them in ``graph``
    for the op's arguments ``args`` and output ``out``: :func:`run_recipe`'s walk of the recipe,
    done once per op instead of once per edge the sweep differentiates."""
    return tuple(_builder(r) for r in partial_recipes(op_name))


def _builder(recipe: Recipe) -> Builder:
    tag = recipe[0]
    if tag == "y":
        return lambda graph, args, out: out
    if tag == "arg":
        k = recipe[1]
        return lambda graph, args, out: args[k]
    if tag == "const":
        value = recipe[1]
        return lambda graph, args, out: graph.const(value)
    op, parts = recipe[1], [_builder(r) for r in recipe[2:]]
    if len(parts) == 1 and recipe[2][0] == "arg":  # sin's cos(a), say: no call for the leaf
        k = recipe[2][1]
        return lambda graph, args, out: graph.apply(op, args[k])
    if len(parts) == 1:
        (part,) = parts
        return lambda graph, args, out: graph.apply(op, part(graph, args, out))
    return lambda graph, args, out: graph.apply(op, *[p(graph, args, out) for p in parts])


# ---------------------------------------------------------------------------- graph -> SymPy
def to_sympy(graph: Graph, roots: list[int], max_size: int = 400
             ) -> tuple[list[tuple[sympy.Symbol, sympy.Expr]], list[sympy.Expr]]:
    """SymPy expressions for ``roots``, with large shared values pulled out as named intermediates.

    Returns ``(intermediates, expressions)``; ``intermediates`` is a list of ``(symbol, expr)`` in
    dependency order (empty for small programs).
    """
    order = list(graph.topological(roots))
    uses = {n: 0 for n in order}
    for n in order:
        for arg in graph[n].args:
            uses[arg] += 1
    size: dict[int, int] = {}
    exprs: dict[int, sympy.Expr] = {}
    intermediates: list[tuple[sympy.Symbol, sympy.Expr]] = []
    taken = {name for name in graph.inputs} | set(graph.names.values())
    depth: dict[int, int] = {}
    for n in order:
        node = graph[n]
        size[n] = 1 + sum(size[a] for a in node.args)
        depth[n] = 1 + max((depth[a] for a in node.args), default=0)
        exprs[n] = _node_to_sympy(graph, n, [exprs[a] for a in node.args])
        # Shared large values are named once; so is any value nested deeper than SymPy's
        # recursive algorithms go comfortably.
        if uses[n] > 1 and size[n] > max_size or depth[n] > MAX_SYMPY_DEPTH and \
                node.op not in ("input", "const"):
            symbol = sympy.Symbol(_fresh(graph.names.get(n, "t"), taken), real=True)
            intermediates.append((symbol, exprs[n]))
            exprs[n], size[n], depth[n] = symbol, 1, 1
    return intermediates, [exprs[r] for r in roots]


def _fresh(base: str, taken: set[str]) -> str:
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    taken.add(f"{base}_{k}")
    return f"{base}_{k}"


def _node_to_sympy(graph: Graph, n: int, args: list[sympy.Expr]) -> sympy.Expr:
    node = graph[n]
    if node.op == "input":
        return sympy.Symbol(node.attrs[0], real=True)
    if node.op == "const":
        if not math.isfinite(node.value):
            return sympy.nan if node.value != node.value else \
                (sympy.oo if node.value > 0 else -sympy.oo)
        fraction = Fraction(node.value)
        if fraction.denominator <= 1024:  # 0.5 prints as 1/2, 0.1 stays 0.1
            return sympy.Rational(fraction.numerator, fraction.denominator)
        return sympy.Float(node.value)
    if node.op == "where" and isinstance(args[0], sympy.Piecewise):
        # The condition prints as its comparison, not as a 0/1 mask compared with zero.
        return sympy.Piecewise((args[1], args[0].args[0].cond), (args[2], True))
    template = OPS[node.op].template
    if template is None:
        raise NotImplementedError(f"no closed form for {node.op}")
    return template(*args)

