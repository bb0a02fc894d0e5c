"""The interpreter: run the forward graph node by node, then backpropagate numbers through it.

This is the lecture's forward()/backward() gate API and the second engine the generated code is
tested against. It shares the op table (each op's NumPy implementation and its local partials) but
none of the symbolic machinery: no adjoint graph, no folding, no codegen. Each node multiplies the
upstream gradient it received by its local partials, evaluated numerically, and adds the result into
its inputs' gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.graph import Graph
from ..runtime import _sum_to
from ..ops import OPS
from .symbolic import partial_recipes, run_recipe


class Interpreter:
    """Evaluate a graph and its gradients numerically, one node at a time.

    After :meth:`forward`, ``values[n]`` holds every node's value; after :meth:`backward`,
    ``grads[n]`` holds the gradient of the output with respect to node ``n`` and ``sent[n]`` the
    list of ``(input node, gradient sent)`` pairs of node ``n``.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        # Every input, used or not (an unused one has gradient zero), then the output's ancestors.
        reached = graph.ancestors(graph.outputs) | set(graph.inputs.values())
        self.order = [n for n in range(len(graph)) if n in reached]
        self.values: dict[int, Any] = {}
        self.grads: dict[int, Any] = {}
        self.sent: dict[int, list[tuple[int, Any]]] = {}
        self.local: dict[int, list[Any]] = {}

    def forward(self, **inputs: Any) -> Any:
        """Compute every node's value; return the output (a tuple for several outputs)."""
        graph = self.graph
        self.values = {}
        for n in self.order:
            node = graph[n]
            if node.op == "input":
                name = node.attrs[0]
                if name not in inputs:
                    raise KeyError(f"missing input {name!r}")
                index = node.attrs[1] == "index"  # integer labels stay integers
                self.values[n] = np.asarray(inputs[name], dtype=None if index else float)
            elif node.op == "const":
                self.values[n] = np.float64(node.value)
            else:
                args = [self.values[a] for a in node.args]
                with np.errstate(all="ignore"):
                    self.values[n] = _evaluate(node, args)
        outs = [self.values[o] for o in graph.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def backward(self, dout: Any = None) -> dict[str, Any]:
        """Backpropagate ``dout`` (default: ones, the gradient of the output's sum).

        Returns the gradient of every input by name; ``grads`` has every node's.
        """
        graph = self.graph
        douts = dout if isinstance(dout, tuple) else (dout,) * len(graph.outputs)
        self.grads, self.sent, self.local = {}, {}, {}
        for out, seed in zip(graph.outputs, douts):
            seed = np.ones_like(self.values[out], dtype=float) if seed is None else seed
            self.grads[out] = self.grads.get(out, 0.0) + np.asarray(seed, dtype=float)
        for n in reversed(self.order):
            if n not in self.grads or graph[n].op in ("input", "const"):
                continue
            self._backprop_node(n)
        result = {}
        for name, n in graph.inputs.items():
            if n in self.values:
                g = self.grads.get(n, np.zeros_like(self.values[n]))
                result[name] = _sum_to(np.asarray(g), np.shape(self.values[n]))
        return result

    def _backprop_node(self, n: int) -> None:
        graph = self.graph
        node = graph[n]
        upstream = self.grads[n]
        args = [self.values[a] for a in node.args]
        self.sent[n], self.local[n] = [], []
        for position, arg in enumerate(node.args):
            if graph[arg].op == "const":
                continue
            with np.errstate(all="ignore"):
                local, contribution = _vjp(node, position, upstream, args, self.values[n])
            self.local[n].append(local)
            if contribution is None:
                continue
            contribution = _sum_to(np.asarray(contribution), np.shape(self.values[arg]))
            self.sent[n].append((arg, contribution))
            self.grads[arg] = self.grads.get(arg, 0.0) + contribution


def _evaluate(node, args: list) -> Any:
    spec = OPS[node.op]
    if spec.kind == "structural" and spec.numeric is not None:
        return spec.numeric(node, args)
    return spec.impl(*args)


def _vjp(node, position: int, upstream, args: list, out) -> tuple[Any, Any]:
    """(local partial, contribution) of ``node`` to its argument ``position``."""
    spec = OPS[node.op]
    if node.op == "where":
        if position == 0:
            return None, None
        taken = args[0] if position == 1 else np.logical_not(args[0])
        return taken, np.where(taken, upstream, 0.0)
    if spec.kind == "structural":
        return None, spec.numeric_vjp(node, position, upstream, args, out)
    local = _eval_recipe(partial_recipes(node.op)[position], args, out)
    if np.all(local == 0):
        return local, None
    # A zero upstream gradient stays zero even where the local partial is inf or NaN: it is how
    # where() makes the branch it did not take receive nothing.
    return local, np.where(upstream == 0, 0.0, local * upstream)


def _eval_recipe(recipe: tuple, args: list, out) -> Any:
    """The numeric value of a local partial, straight from NumPy (no graph involved)."""
    return run_recipe(recipe, args, out, np.float64, lambda op, *xs: OPS[op].impl(*xs))
