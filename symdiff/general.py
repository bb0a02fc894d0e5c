"""One module for every size: the library's side of symbolic sizes (codegen/sizes.py).

A program that reads shapes is traced at the shapes of its first call. When it is written out
(``g.source``, ``g.write``) or called again with other sizes of the same ranks and dtypes, the
traced module is generalized: its sizes become symbols read from the inputs, and that one
module then serves every call of that rank signature, so a training loop whose last batch is
smaller does not trace again.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from .arguments import check_graph_sizes
from .codegen import emit
from .codegen.sizes import (HELPERS as SIZE_HELPERS, Sized, dims_tuple, generalize, specialized,
                            with_sizes_note)
from .frontend.trace import trace
from .runtime import _sizes
from .specs import Specialization, load_module


def module_text(compiled: Any, spec: Specialization, check: bool, sized: bool = False) -> str:
    """The module of a traced specialization: value and gradients, the layer API (retraced, as
    it seeds its own upstream gradient), ``check_gradients`` when asked."""
    program = compiled.program
    main = emit.value_and_grad(program, spec.graph, spec.backward, compiled.wrt, spec.extra,
                               spec.docstring, (compiled.spelling, "math"))
    parts = [main]
    if compiled.has_layers:
        graph = trace(program, spec.shapes, spec.kinds, **compiled.loop_options())
        graph.single, graph.python_steps = spec.graph.single, spec.graph.python_steps
        graph.program_inputs = frozenset(graph.inputs)
        graph.decision_sizes = spec.graph.decision_sizes
        parts.append(emit.layers(program, graph, compiled.wrt))
        if check:
            parts.append(emit.check_function(program, graph, compiled.wrt))
    if sized:
        parts.append(emit.Emitted([], set(SIZE_HELPERS), False))
    return emit.module_text(program, parts)


def traced_at(compiled: Any, spec: Specialization, shapes: dict,
              decisions: dict[int, int] | None = None) -> Specialization:
    """A specialization like ``spec`` at other input shapes (a probe: no module is loaded;
    ``decisions`` maps its sizes to the traced ones for size-dependent choices)."""
    graph = trace(compiled.program, shapes, spec.kinds, **compiled.loop_options())
    graph.single, graph.python_steps = spec.graph.single, spec.graph.python_steps
    graph.program_inputs = frozenset(graph.inputs)
    graph.decision_sizes = decisions or {}
    check_graph_sizes(graph, 4 if graph.single else 8)
    backward, extra = compiled._derivatives(graph, False)
    return replace(spec, graph=graph, backward=backward, extra=extra, shapes=shapes,
                   docstring=compiled._describe(graph, False), full_source=None,
                   layer_api=None, index_bounds=None)


def sized(compiled: Any, spec: Specialization, check: bool) -> Sized:
    """The module of ``spec`` written for any sizes (or checking its own, when it cannot be)."""
    def make_text(shapes: dict, decisions: dict[int, int]) -> str:
        at = spec if shapes == spec.shapes else traced_at(compiled, spec, shapes, decisions)
        return module_text(compiled, at, check, sized=True)

    result = generalize(make_text, compiled.params, spec.shapes, user_size_names(compiled.program),
                        _input_functions(compiled))
    result.text = with_sizes_note(result.text, result)
    return result


def checked_text(compiled: Any, spec: Specialization) -> str:
    """The module of ``spec`` at its own sizes, each function checking its inputs' shapes."""
    base = module_text(compiled, spec, False, sized=True)
    return specialized(base, compiled.params, spec.shapes, _input_functions(compiled)).text


def _input_functions(compiled: Any) -> dict[str, list[str]]:
    """The generated functions that take the program's inputs, and their parameters."""
    name = compiled.program.name
    functions = {name: compiled.params}
    if compiled.has_layers:
        functions[f"{name}_forward"] = compiled.params
    return functions


def general_specialization(compiled: Any, spec: Specialization) -> Specialization | None:
    """A specialization that runs the sized module for every call of ``spec``'s ranks and
    dtypes; None when the program's code depends on its sizes (it stays per shape)."""
    result = sized(compiled, spec, check=False)
    if not result.symbols:
        spec.full_source, spec.layer_api = result.text, None  # the same code, checking its sizes
        return None
    namespace = load_module(result.text, compiled.program.name)
    general = replace(spec, source=result.text, full_source=result.text, layer_api=None,
                      function=namespace[compiled.program.name], index_bounds=None)
    general.sizes = result
    general.bound_sizes = _bound_symbols(compiled, spec, result)
    return general


def _bound_symbols(compiled: Any, spec: Specialization, result: Sized) -> dict[str, str | None]:
    """For each index input: the size symbol of the axis it selects from (for the label check
    of each call), when exactly one symbol had that size."""
    out = {}
    for name in compiled.params:
        bound = emit.index_bound(spec.graph, name) if name in spec.graph.inputs and \
            spec.graph[spec.graph.inputs[name]].attrs[1] == "index" else None
        if bound is None:
            continue
        fits = [s for s, where in result.symbols.items()
                if spec.shapes[where[0][0]][where[0][1]] == bound]
        out[name] = fits[0] if len(fits) == 1 else (None if fits else bound)
    return out


def fits(spec: Specialization, params: list[str], arrays: list) -> bool:
    """Whether a call's shapes fit the sized module (ranks, and equal sizes equal)."""
    try:
        _sizes((), *[(p, a, dims_tuple(spec.sizes.dims[p])) for p, a in zip(params, arrays)])
    except ValueError:
        return False
    return True


def labels_view(spec: Specialization, params: list[str], arrays: list) -> SimpleNamespace:
    """What the label check reads, for one call of a general specialization."""
    return SimpleNamespace(graph=spec.graph, index_bounds=label_bounds(spec, params, arrays))


def label_bounds(spec: Specialization, params: list[str], arrays: list) -> dict:
    """The index bounds of one call of a general specialization, from its inputs' sizes."""
    shapes = {p: np.shape(a) for p, a in zip(params, arrays)}
    out = {}
    for name, symbol in spec.bound_sizes.items():
        if isinstance(symbol, str):
            p, k = spec.sizes.symbols[symbol][0]
            out[name] = shapes[p][k] if len(shapes[p]) > k else None
        else:
            out[name] = symbol
    return out


def user_size_names(program: Any) -> dict[tuple[str, int], str]:
    """Names the program gives its sizes: ``N = X.shape[0]``, ``N, D = X.shape``,
    ``T = len(x)``, and annotations such as ``W1: "D, H"``."""
    names: dict[tuple[str, int], str] = {}
    for p, text in getattr(program, "annotations", {}).items():
        for k, word in enumerate(str(text).replace(",", " ").split()):
            if word.isidentifier():
                names.setdefault((p, k), word)
    try:
        tree = ast.parse(program.source)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            for key, name in _shape_reads(node.targets[0], node.value):
                names.setdefault(key, name)
    return names


def _shape_reads(target: ast.AST, value: ast.AST):
    if isinstance(target, ast.Name):
        if isinstance(value, ast.Subscript) and _is_shape(value.value) and \
                isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, int):
            yield (value.value.value.id, value.slice.value), target.id
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and \
                value.func.id == "len" and len(value.args) == 1 and \
                isinstance(value.args[0], ast.Name):
            yield (value.args[0].id, 0), target.id
    elif isinstance(target, ast.Tuple) and _is_shape(value):
        for k, element in enumerate(target.elts):
            if isinstance(element, ast.Name) and element.id != "_":
                yield (value.value.id, k), element.id


def _is_shape(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "shape" and \
        isinstance(node.value, ast.Name)
