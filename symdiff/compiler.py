"""The library's front door: ``symdiff.compile`` and the :class:`Compiled` function it returns.

A program is parsed once. Elementwise programs are traced once, shape-generic: their generated
function accepts floats and any arrays that broadcast. Programs that read shapes or use structural
ops (matmul, reductions, indexing) are specialized per input shape/dtype signature on first call and
cached, as a JIT would.
"""

from __future__ import annotations

import builtins
import hashlib
import linecache
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import sympy

from . import codegen
from .adjoint import Backward, differentiate
from .errors import InputError, SymdiffError
from .frontend import Program, parse
from .graph import Graph, Shape
from .ops import OPS
from .symbolic import to_sympy
from .trace import NeedsShapes, trace
from .verify import verify_module


@dataclass
class Specialization:
    """One traced graph with its generated module and the functions in it."""

    graph: Graph
    backward: Backward
    source: str
    function: Callable
    scalar_function: Callable | None
    seeded: bool


class Compiled:
    """A compiled program: call it for the value and the gradients.

    ``value, grads = g(*args, **kwargs)``; ``grads[name]`` has the shape of input ``name`` (a float
    for a float input). For an array output the gradients are those of the output's sum; pass
    ``dout=`` (an array shaped like the output) for the vector-Jacobian product with ``dout``.
    """

    def __init__(self, program: Program, wrt: list[str] | None = None,
                 shapes: dict[str, tuple] | None = None):
        self.program = program
        self.params = list(program.params)
        self.index_params = set(program.index_params)
        self.wrt = _check_wrt(wrt, [p for p in self.params if p not in self.index_params])
        self._cache: dict[tuple, Specialization] = {}
        self._last: Specialization | None = None
        self.generic = self._specialize(None, seeded=False)
        shapes = shapes or program.annotated_shapes()
        if self.generic is None and shapes:
            self._specialize_ahead(shapes)

    def _specialize_ahead(self, shapes: dict[str, tuple]) -> None:
        """Generate code for given shapes before any call (``shapes=`` or annotations)."""
        missing = [p for p in self.params if p not in shapes]
        if missing:
            raise InputError(f"shapes= is missing {', '.join(missing)}")
        examples = [np.zeros(shapes[p], dtype=np.intp if p in self.index_params else float)
                    for p in self.params]
        self.specialization(examples)

    # ---------------------------------------------------------------- building
    def _specialize(self, shapes: dict[str, Shape] | None, seeded: bool,
                    kinds: dict[str, str] | None = None) -> Specialization | None:
        try:
            graph = trace(self.program, shapes, kinds)
        except NeedsShapes:
            return None
        seeds = None
        if seeded:
            out_shapes = [graph.shape(o) for o in graph.outputs]
            names = ["dout"] if len(out_shapes) == 1 else [f"dout{k}" for k in range(len(out_shapes))]
            seeds = [graph.input(n, s) for n, s in zip(names, out_shapes)]
        backward = differentiate(graph, graph.outputs, self.wrt, seeds)
        source, scalar = generate(self.program, graph, backward, self.wrt, seeded)
        namespace = load_module(source, self.program.name)
        function = namespace[self.program.name]
        scalar_fn = namespace.get(self.program.name + "_scalar") if scalar else None
        spec = Specialization(graph, backward, source, function, scalar_fn, seeded)
        self._last = spec
        return spec

    def specialization(self, args: list, dout: Any = None) -> Specialization:
        seeded = dout is not None
        if self.generic is not None:
            if not seeded:
                return self.generic
            key = ("generic", True)
            if key not in self._cache:
                self._cache[key] = self._specialize(None, True)
            return self._cache[key]
        key = (tuple(_signature(a) for a in args), seeded, _signature(dout) if seeded else None)
        spec = self._cache.get(key)
        if spec is None:
            shapes = {p: np.shape(a) for p, a in zip(self.params, args)}
            kinds = {p: _kind(a) for p, a in zip(self.params, args)}
            spec = self._specialize(shapes, seeded, kinds)
            self._cache[key] = spec
        return spec

    # ---------------------------------------------------------------- calling
    def __call__(self, *args: Any, dout: Any = None, **kwargs: Any):
        args = self._bind(args, kwargs)
        spec = self.generic
        if spec is not None and spec.scalar_function is not None and dout is None \
                and all(type(a) is float or type(a) is int for a in args):
            try:
                return spec.scalar_function(*[float(a) for a in args])
            except (ValueError, OverflowError, ZeroDivisionError):
                pass  # a domain error in math: NumPy gives the IEEE answer (inf/nan) instead
        arrays = [_coerce_index(a, p) if p in self.index_params else _coerce(a, p)
                  for a, p in zip(args, self.params)]
        spec = self.specialization(arrays, dout)
        call_args = arrays + ([dout] if dout is not None and not isinstance(dout, tuple)
                              else list(dout or ()))
        value, grads = spec.function(*call_args)
        return value, _match_inputs(grads, dict(zip(self.params, args)))

    def _bind(self, args: tuple, kwargs: dict) -> list:
        if len(args) > len(self.params):
            raise InputError(f"{self.program.name}() takes {len(self.params)} inputs "
                             f"({', '.join(self.params)}), got {len(args)}")
        bound = dict(zip(self.params, args))
        for key, value in kwargs.items():
            if key not in self.params:
                raise InputError(f"{self.program.name}() has no input {key!r}; its inputs are "
                                 f"{', '.join(self.params)}")
            if key in bound:
                raise InputError(f"input {key!r} given twice")
            bound[key] = value
        missing = [p for p in self.params if p not in bound]
        if missing:
            raise InputError(f"missing input(s): {', '.join(missing)}")
        return [bound[p] for p in self.params]

    # ---------------------------------------------------------------- inspecting
    @property
    def source(self) -> str:
        """The generated module's text (of the latest specialization for shape-specific programs)."""
        spec = self.generic or self._last
        if spec is None:
            raise SymdiffError(f"{self.program.name} depends on its input shapes: call it once "
                               "with example inputs, then read .source")
        return spec.source

    @property
    def graph(self) -> Graph:
        spec = self.generic or self._last
        if spec is None:
            raise SymdiffError(f"{self.program.name} depends on its input shapes: call it once")
        return spec.graph

    def __repr__(self) -> str:
        return (f"<symdiff.Compiled {self.program.name}({', '.join(self.params)}) "
                f"wrt {', '.join(self.wrt)}>")


# ==================================================================== helpers
def generate(program: Program, graph: Graph, backward: Backward, wrt: list[str],
             seeded: bool) -> tuple[str, bool]:
    """The module text; also says whether it contains a ``<name>_scalar`` function."""
    params = list(program.params) + [graph[s].attrs[0] for s in backward.seeds if seeded]
    reserved = set(program.identifiers) | {program.name}
    spec = codegen.FunctionSpec(
        program.name, params, list(graph.outputs), dict(backward.grads), backward.adjoints,
        backward.origin, list(graph.output_names), value_name=program.name,
        docstring=_docstring(program, wrt, graph, seeded))
    writer = codegen.FunctionWriter(graph, spec, reserved)
    functions = [writer.function()]
    helpers = set(writer.helpers)
    scalar = _scalar_ok(graph, spec) and not seeded
    if scalar:
        spec.name = program.name + "_scalar"
        spec.docstring = "The same for Python floats, computed with the math module."
        math_writer = codegen.FunctionWriter(graph, spec, reserved, mode="math")
        functions.append(math_writer.function())
        helpers |= math_writer.helpers
    summary = f"{program.name}: value and gradients, as plain NumPy."
    text = codegen.module(functions, helpers, codegen.header(program.source, summary), scalar)
    return text, scalar


def _docstring(program: Program, wrt: list[str], graph: Graph, seeded: bool) -> str:
    shapes = [graph.shape(graph.inputs[p]) for p in program.params]
    generic = all(s is None for s in shapes)
    inputs = ", ".join(p if generic else f"{p}{list(s)}" for p, s in zip(program.params, shapes))
    what = "the vector-Jacobian product with dout" if seeded else "the gradient of its sum"
    return (f"Return (value, grads) for inputs {inputs}; grads maps each of "
            f"{', '.join(wrt) or 'no input'} to {what}.")


def _scalar_ok(graph: Graph, spec: codegen.FunctionSpec) -> bool:
    nodes = graph.ancestors(spec.outputs + [g for g in spec.grads.values() if g is not None])
    return all(graph[n].shape is None or graph[n].op in ("const",) for n in nodes
               if graph[n].op != "const") and \
        all(OPS[graph[n].op].math is not None for n in nodes
            if graph[n].op not in ("input", "const"))


def load_module(source: str, name: str) -> dict:
    """Verify generated code, then run it in a fresh namespace (linecache keeps tracebacks readable)."""
    tree = verify_module(source)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"<symdiff-{name}-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"symdiff_generated_{digest}")
    code = builtins.compile(tree, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 -- verified generated code, never user text
    return module.__dict__


def _check_wrt(wrt, params: list[str]) -> list[str]:
    if wrt is None:
        return list(params)
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    wrt = list(wrt)
    for name in wrt:
        if name not in params:
            raise InputError(f"cannot differentiate with respect to {name!r}: it is not an "
                             f"input (inputs: {', '.join(params)})")
    if len(set(wrt)) != len(wrt):
        raise InputError("wrt names an input twice")
    return wrt


def _coerce(value: Any, name: str) -> Any:
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.float32):
        return float(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and other objects NumPy cannot take
        raise InputError(f"input {name!r} is not a number or an array: {exc}") from None
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    raise InputError(f"input {name!r} has dtype {array.dtype}; expected real numbers")


def _coerce_index(value: Any, name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise InputError(f"input {name!r} is used as an index, so it must hold integers "
                         f"(got dtype {array.dtype})")
    return array


def _signature(value: Any) -> tuple:
    return (np.shape(value), np.asarray(value).dtype.str)


def _kind(value: Any) -> str:
    return "index" if np.asarray(value).dtype.kind in "iub" else "float"


def _match_inputs(grads: dict, inputs: dict) -> dict:
    """A float gradient for a float input; otherwise an array of the input's shape."""
    for name, grad in grads.items():
        if isinstance(inputs[name], (int, float)) and not isinstance(inputs[name], bool):
            grads[name] = float(grad)
    return grads


def compile(fn_or_source, wrt=None, name: str | None = None,  # noqa: A001
            shapes: dict[str, tuple] | None = None) -> Compiled:
    """Compile a formula, a ``def`` block or a Python function into a value-and-gradient function.

    Parameters
    ----------
    fn_or_source : str or callable
        ``"(x + y) * z"``, ``"def f(x, y):\\n    ..."`` or a Python function using NumPy.
    wrt : list of str or str, optional
        The inputs to differentiate with respect to (default: every input).
    name : str, optional
        Name of the generated function (default: the function's name, or ``f``).
    shapes : dict of str to tuple, optional
        Input shapes to generate code for ahead of the first call (array programs only; shape
        annotations such as ``W1: "100,3072"`` do the same).

    Returns
    -------
    Compiled
        ``value, grads = g(*args, **kwargs)``.
    """
    return Compiled(parse(fn_or_source, name), wrt, shapes)


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


def _tidy(expr):
    """Cheap simplification: cancel and factor only when the expression is small."""
    if sympy.count_ops(expr) > 60:
        return expr
    return min((expr, sympy.factor_terms(expr)), key=sympy.count_ops)


def compile_graph(graph: Graph, wrt: list[str] | None = None, name: str = "f"):
    """Generate and load code for a graph built by hand; returns ``(function, source)``.

    Used by tests that build graphs through the op table directly, and by higher-order drivers.
    """
    params = list(graph.inputs)
    program = Program("<graph>", "graph", name, params, None, set(params))
    wrt = params if wrt is None else wrt
    backward = differentiate(graph, graph.outputs, wrt)
    source, _ = generate(program, graph, backward, wrt, False)
    return load_module(source, name)[name], source
