"""Beyond first order: Hessian-vector products, Hessians and Jacobians.

The backward pass symdiff builds is itself a graph, so it can be differentiated again. A
Hessian-vector product is reverse-over-reverse: the gradient nodes ``g_i`` become outputs, seeded
with the vector's parts ``v_i``; one more reverse sweep gives ``sum_i J(g_i)^T v_i = H v`` (the
Hessian is symmetric). That is one generated function whose cost is a small constant times one
gradient, and it never builds an n x n array.

A full Hessian (or a Jacobian of an array output) is assembled from those products (or from
vector-Jacobian products), one basis vector at a time; an elementwise program's Hessian with respect
to one array is diagonal, and ``diagonal=True`` returns just that diagonal from a single product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import check_size
from .ad.adjoint import Backward, differentiate
from .codegen.writer import Namer
from .compiler import Compiled, _check_wrt, _coerce, _is_duck_array
from .errors import InputError, SymdiffError
from .frontend.parse import parse
from .ir.graph import Graph


class HessianVectorProduct(Compiled):
    """``value, hv = h(*args, v={"x": ...})``: the Hessian of the output's sum times ``v``.

    ``v`` gives one array per differentiated input (shaped like it); missing ones count as zero.
    """

    has_layers = False
    rolls_loops = False  # a rolled loop's backward is not differentiated again

    def __init__(self, program, wrt=None, shapes=None):
        namer = Namer(set(program.identifiers) | {program.name})
        self.vector_names = {}
        for name in _check_wrt(wrt, [p for p in program.params
                                     if p not in program.index_params]):
            self.vector_names[name] = namer.fresh("v_" + name)
        super().__init__(program, wrt, shapes)

    def _derivatives(self, graph: Graph, seeded: bool) -> tuple[Backward, list[str]]:
        first = differentiate(graph, graph.outputs, self.wrt)
        outputs, seeds = [], []
        for name in self.wrt:
            vector = graph.input(self.vector_names[name], graph.shape(graph.inputs[name]))
            if first.grads[name] is not None:
                outputs.append(first.grads[name])
                seeds.append(vector)
        if not outputs:
            raise SymdiffError("the output does not depend on the inputs: its Hessian is zero")
        second = differentiate(graph, outputs, self.wrt, seeds, broadcast_ref=graph.outputs[0])
        return second, [self.vector_names[name] for name in self.wrt]

    def _describe(self, graph: Graph, seeded: bool) -> str:
        vectors = ", ".join(self.vector_names.values())
        return (f"Return (value, hv): hv maps each of {', '.join(self.wrt)} to its part of the "
                f"Hessian of the output's sum times the vector ({vectors}).")

    def __call__(self, *args: Any, v: dict | None = None, **kwargs: Any):
        inputs = self._bind(args, kwargs)
        if v is not None and not isinstance(v, dict):
            raise InputError("v must be a dict of input name -> array shaped like that input")
        vectors = []
        for name in self.wrt:
            part = (v or {}).get(name)
            value = inputs[self.params.index(name)]
            if part is not None and tuple(np.shape(part)) != tuple(np.shape(value)):
                raise InputError(f"v[{name!r}] has shape {tuple(np.shape(part))}; input "
                                 f"{name!r} has shape {tuple(np.shape(value))}")
            vectors.append(part if part is not None else np.zeros(
                np.shape(value), np.float32 if getattr(value, "dtype", None) == np.float32
                else float))
        unknown = set(v or {}) - set(self.wrt)
        if unknown:
            raise InputError(f"v has parts for {', '.join(sorted(unknown))}, which are not "
                             f"differentiated (wrt: {', '.join(self.wrt)})")
        return self._call_extended(inputs, vectors)

    def _call_extended(self, inputs: list, vectors: list):
        arrays = self._coerce(inputs)
        spec = self.specialization(arrays)
        if spec is self.generic and spec.scalar_ok and all(
                type(a) in (float, int) for a in list(inputs) + list(vectors)):
            try:
                value, hv = self._scalar_function(spec)(*[float(a) for a in inputs],
                                                        *[float(a) for a in vectors])
                return value, hv
            except (ValueError, OverflowError, ZeroDivisionError):
                pass
        vectors = [_coerce(x, f"v[{name!r}]") for x, name in zip(vectors, self.wrt)]
        value, hv = spec.function(*arrays, *vectors)
        for name, x in zip(self.params, inputs):
            if name in hv and isinstance(x, (int, float)) and not _is_duck_array(hv[name]):
                hv[name] = float(hv[name])
        return value, hv


def hvp(fn_or_source, wrt=None, shapes=None) -> HessianVectorProduct:
    """Compile a Hessian-vector product: ``value, hv = h(*args, v={"x": vx, ...})``."""
    return HessianVectorProduct(parse(fn_or_source), wrt, shapes)


class Hessian:
    """``value, grads, H = hess(*args)``: ``H[a][b]`` has shape ``shape(a) + shape(b)``.

    With ``diagonal=True`` (elementwise programs, whose Hessian with respect to one array is
    diagonal), ``H[a]`` is that diagonal, shaped like ``a``, from one product per input.
    """

    def __init__(self, fn_or_source, wrt=None, diagonal: bool = False):
        program = parse(fn_or_source)
        self.gradient = Compiled(program, wrt)
        self.product = HessianVectorProduct(program, self.gradient.wrt)
        self.wrt = self.gradient.wrt
        self.diagonal = diagonal
        if diagonal and self.gradient.generic is None:
            raise SymdiffError("diagonal=True needs an elementwise program (its Hessian with "
                               "respect to each input is diagonal); this one mixes elements")

    def __call__(self, *args: Any, **kwargs: Any):
        inputs = dict(zip(self.gradient.params, self.gradient._bind(args, kwargs)))
        if not self.diagonal:  # before any work: the blocks must fit in memory
            for a in self.wrt:
                for b in self.wrt:
                    check_size(np.shape(inputs[a]) + np.shape(inputs[b]), 8, [],
                               f"the Hessian block H[{a!r}][{b!r}] has")
        value, grads = self.gradient(**inputs)
        if self.diagonal:
            return value, grads, {a: self.product(**inputs, v={a: np.ones(np.shape(inputs[a]))})[1][a]
                                  for a in self.wrt}
        hessian: dict[str, dict[str, Any]] = {a: {} for a in self.wrt}
        for b in self.wrt:
            shape_b = np.shape(inputs[b])
            columns = {a: np.zeros(np.shape(inputs[a]) + shape_b) for a in self.wrt}
            for index in np.ndindex(shape_b):
                basis = np.zeros(shape_b)
                basis[index] = 1.0
                _, hv = self.product(**inputs, v={b: basis if shape_b else 1.0})
                for a in self.wrt:
                    columns[a][(Ellipsis,) + index] = hv[a]
            for a in self.wrt:
                hessian[a][b] = float(columns[a]) if columns[a].ndim == 0 else columns[a]
        return value, grads, hessian


def hessian(fn_or_source, wrt=None, diagonal: bool = False) -> Hessian:
    """Compile a Hessian: ``value, grads, H = hess(*args)`` with ``H[a][b]`` blocks."""
    return Hessian(fn_or_source, wrt, diagonal)


class Jacobian:
    """``value, J = jac(*args)``: ``J[x]`` has shape ``value.shape + x.shape``.

    Built row by row from vector-Jacobian products (reverse mode), one per output element.
    """

    def __init__(self, fn_or_source, wrt=None):
        self.compiled = Compiled(parse(fn_or_source), wrt)
        self.wrt = self.compiled.wrt

    def __call__(self, *args: Any, **kwargs: Any):
        inputs = dict(zip(self.compiled.params, self.compiled._bind(args, kwargs)))
        value, _ = self.compiled(**inputs)
        if isinstance(value, tuple):
            raise InputError("jacobian() takes a program with one output; this one returns "
                             f"{len(value)}: compile each output separately")
        out_shape = np.shape(value)
        for x in self.wrt:  # before allocating: J[x] must fit in memory
            check_size(out_shape + np.shape(inputs[x]), 8, [], f"the Jacobian J[{x!r}] has")
        jac = {x: np.zeros(out_shape + np.shape(inputs[x])) for x in self.wrt}
        for index in np.ndindex(out_shape):
            dout = np.zeros(out_shape)
            dout[index] = 1.0
            _, row = self.compiled(**inputs, dout=dout)
            for x in self.wrt:
                jac[x][index] = row[x]
        return value, jac


def jacobian(fn_or_source, wrt=None) -> Jacobian:
    """Compile a Jacobian of an array-valued program: ``value, J = jac(*args)``."""
    return Jacobian(fn_or_source, wrt)
