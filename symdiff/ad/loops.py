"""The backward of a rolled loop: the body's vector-Jacobian product, run in reverse over K steps.

The reverse sweep (``adjoint.py``) gathers the upstream gradients of a loop's results
(``loop_out`` nodes) and, at the ``loop`` node, asks :func:`loop_vjp` for what the loop sends its
arguments. The body graph is differentiated once, with respect to its carried inputs (their
gradients carry the upstream gradient one step back) and the free values on a gradient path
(whose gradients are summed over the steps), seeded with one input per result. The program's
graph then gets a ``loop_grad`` node, printed as the backward loop (``codegen/loops.py``), and one
``loop_grad_out`` node per argument it sends a gradient to.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..ir.graph import Graph
from ..ops.loops import NUMERIC, LoopGrad
from .interpret import Interpreter


def loop_vjp(graph: Graph, node_id: int, upstreams: dict[int, int], on_path: set[int],
             differentiate: Callable) -> list[tuple[int, int]]:
    """``(argument position, gradient node)`` for each argument of loop ``node_id`` on a
    gradient path that receives one, given the upstream gradients of its results by number."""
    node = graph[node_id]
    body = node.attrs[0]
    inner = body.graph
    names = body.carried + body.free
    positions = [p for p, a in enumerate(node.args) if a in on_path
                 and inner[inner.inputs[names[p]]].attrs[1] == "float"]
    frees = [names[p] for p in positions if p >= len(body.carried)]
    wrt = list(body.carried) + list(dict.fromkeys(frees))
    key = tuple(wrt)
    backward = body.grads.get(key)
    if backward is None:
        taken = set(inner.inputs)
        seeds = [inner.input(_fresh("d" + name, taken), inner.shape(o))
                 for name, o in zip(body.names, inner.outputs)]
        # One sweep over all the results (broadcast_ref): when shapes are known at run time
        # only, the step's gradients are taken before they are summed back to the inputs'
        # shapes (adjoints): they stand for the output's shape, as every gradient of the
        # program does until its final sum (adjoint.fit_input).
        backward = differentiate(inner, list(inner.outputs), wrt, seeds,
                                 broadcast_ref=inner.outputs[0])
        backward.seed_names = [inner[s].attrs[0] for s in seeds]
        backward.step = {name: backward.adjoints.get(inner.inputs[name]) if body.generic
                         else _uncopied(inner, backward.grads[name], name) for name in wrt}
        body.grads[key] = backward
    wanted = {p: names[p] for p in positions if backward.step[names[p]] is not None}
    if not wanted:
        return []
    seeds = []
    for k, o in enumerate(inner.outputs):
        upstream = upstreams.get(k, graph.const(0.0))
        shape = inner.shape(o)
        if shape is not None and graph.shape(upstream) != shape:
            upstream = graph.apply("expand", upstream, attrs=(shape,))
        seeds.append(upstream)
    grad = graph.apply("loop_grad", node_id, *node.args, *seeds,
                       attrs=(LoopGrad(body, backward, wanted),))
    return [(p, graph.apply("loop_grad_out", grad, attrs=(p,))) for p in wanted]


def _uncopied(inner: Graph, g: int | None, name: str) -> int | None:
    """A step's gradient without the copy the sweep makes of a gradient that is an input's
    array (the backward loop copies the upstream gradient once, before the first step)."""
    if g is not None and inner[g].op == "copy" and inner[g].attrs == (name,):
        return inner[g].args[0]
    return g


def _fresh(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


# ---------------------------------------------------------------- the interpreter's engine
class _Run:
    """A loop run by the interpreter: one interpreter of the body per step (its tape)."""

    def __init__(self, body, args: list):
        self.body, self.args, self.steps, self.grads = body, args, [], None
        inner = body.graph
        count = len(body.carried)
        carried = list(args[:count])
        seeds = {inner[n].attrs[0]: 0.0 for n in inner.inputs.values()
                 if inner[n].attrs[0] not in body.carried + body.free +
                 [name for name, _, _ in body.counters]}
        self.last = carried  # a while loop of no steps
        for i in range(body.cap + 1) if body.steps is None else body.steps:
            step = Interpreter(inner)
            if body.condition is not None:  # the test, on the step's carried values
                step.order = sorted(inner.ancestors(inner.outputs + [body.condition]) |
                                    set(inner.inputs.values()))
            values = dict(zip(body.carried, carried), **dict(zip(body.free, args[count:])),
                          **seeds)
            for name, scale, offset in body.counters:
                values[name] = np.asarray(scale * i + offset)
            outs = step.forward(**values)
            if body.condition is not None and not step.values[body.condition]:
                break
            if body.condition is not None and i == body.cap:
                raise ValueError(f"the loop '{body.header}' ran {body.cap:,} steps and its "
                                 "condition still holds (the limit for a while loop on values)")
            outs = list(outs) if isinstance(outs, tuple) else [outs]
            self.steps.append(step)
            carried = outs[:count]
            self.last = outs

    def backward(self, upstreams: dict[int, Any]) -> list:
        """The gradient of every argument, stepping back through the body's interpreters."""
        body = self.body
        count = len(body.carried)
        outputs = self.body.graph.outputs
        douts = [np.asarray(upstreams.get(k, 0.0), dtype=float) for k in range(len(outputs))]
        totals = [0.0] * len(body.free)
        for step in reversed(self.steps):
            grads = step.backward(tuple(np.broadcast_to(d, np.shape(step.values[o]))
                                        for d, o in zip(douts, outputs)))
            totals = [t + grads[name] for t, name in zip(totals, body.free)]
            douts = [grads[name] for name in body.carried] + [0.0] * (len(outputs) - count)
        return douts[:count] + totals


class _Seeds(dict):
    """The upstream gradients of a loop's results, by number (added as the interpreter adds)."""

    def __add__(self, other):
        if isinstance(other, np.ndarray) and other.dtype == object:
            other = other.item()
        merged = _Seeds(self)
        for k, v in (other.items() if isinstance(other, dict) else ()):  # else the first 0.0
            merged[k] = merged[k] + v if k in merged else v
        return merged

    __radd__ = __add__


def _loop_vjp(node, position: int, upstream, args: list, out: _Run):
    if out.grads is None:
        seeds = upstream.item() if isinstance(upstream, np.ndarray) else upstream
        out.grads = out.backward(dict(seeds) if isinstance(seeds, dict) else {})
    return out.grads[position]


def _out_vjp(node, position: int, upstream, args: list, out):
    return _Seeds({node.attrs[0]: upstream})


NUMERIC.update({
    "loop": (lambda node, args: _Run(node.attrs[0], args), _loop_vjp),
    "loop_out": (lambda node, args: args[0].last[node.attrs[0]], _out_vjp),
})
