"""Closed forms for printing: the partial derivatives of a scalar program as SymPy expressions
(``symdiff.gradients``, ``symdiff grad "formula"``) and its second derivatives."""

from __future__ import annotations

from typing import Any

import sympy

from .ad.adjoint import differentiate
from .ad.symbolic import to_sympy
from .arguments import _check_wrt
from .errors import SymdiffError
from .frontend.parse import Program, parse
from .frontend.trace import NeedsShapes, trace


class Gradients(dict):
    """``name -> SymPy expression`` of each partial derivative, plus the closed form of the value.

    For deep programs, values that are shared and large are named once: ``intermediates`` lists them
    as ``(symbol, expression)`` in dependency order, and the expressions refer to those symbols.
    """

    value: Any
    intermediates: list


def gradients(source, wrt=None) -> Gradients:
    """The closed-form partial derivatives of a scalar program, for printing.

    Returns a dict ``name -> sympy.Expr`` (with ``.value``, the program's own formula, and
    ``.intermediates``). Only SymPy's automatic canonicalization and a cheap local
    simplification are applied; never a global ``simplify`` on a large expression.
    """
    program = source if isinstance(source, Program) else parse(source)
    wrt = _check_wrt(wrt, program.params)
    try:
        graph = trace(program)
    except NeedsShapes:
        raise SymdiffError("closed forms are printed for scalar programs; this program uses "
                           "array operations (print its backward program with symdiff grad)"
                           ) from None
    backward = differentiate(graph, graph.outputs, wrt)
    roots = [graph.outputs[0]] + [backward.grads[n] for n in wrt if backward.grads[n] is not None]
    intermediates, exprs = to_sympy(graph, roots)
    result = Gradients()
    result.value = exprs[0]
    result.intermediates = intermediates
    found = iter(exprs[1:])
    for name in wrt:
        result[name] = _tidy(next(found)) if backward.grads[name] is not None else sympy.Integer(0)
    return result


def second_derivatives(source, wrt=None) -> dict[tuple[str, str], Any]:
    """Closed forms of the second partial derivatives of a scalar program, ``(a, b) -> expr``
    for ``a <= b`` in ``wrt`` order (the Hessian is symmetric). Built by differentiating each
    gradient node of the graph again, so shared work stays shared."""
    program = source if isinstance(source, Program) else parse(source)
    wrt = _check_wrt(wrt, program.params)
    try:
        graph = trace(program)
    except NeedsShapes:
        raise SymdiffError("closed forms are printed for scalar programs") from None
    first = differentiate(graph, graph.outputs, wrt)
    pairs, roots = [], []
    for i, a in enumerate(wrt):
        if first.grads[a] is None:
            continue
        second = differentiate(graph, [first.grads[a]], wrt[i:],
                               broadcast_ref=graph.outputs[0])
        for b in wrt[i:]:
            if second.grads[b] is not None:
                pairs.append((a, b))
                roots.append(second.grads[b])
    _, exprs = to_sympy(graph, roots, max_size=10 ** 9)
    result = {(a, b): sympy.Integer(0) for i, a in enumerate(wrt) for b in wrt[i:]}
    result.update({pair: _tidy(expr) for pair, expr in zip(pairs, exprs)})
    return result


def _tidy(expr):
    """Cheap simplification: cancel and factor only when the expression is small."""
    if sympy.count_ops(expr) > 60:
        return expr
    return min((expr, sympy.factor_terms(expr)), key=sympy.count_ops)
