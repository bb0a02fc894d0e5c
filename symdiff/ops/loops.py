"""Rolled loops: the ops of a ``for`` loop kept as a loop (``symdiff/frontend/rolled.py``).

A loop ``for i in range(K)`` whose body does the same thing each step is traced once: its body is
a graph of its own (:class:`LoopBody`), whose inputs are the loop-carried values, the counter and
the values the body reads from outside (free values), and whose outputs are the carried values
after one step. The program's graph holds four nodes for it:

* ``loop(inits..., frees...)``: runs the body K times (a ``while`` loop on values: until its
  test fails, counting the steps); its value is the tape, what the backward reads of each step
  (arrays of shape (K, ...) stacked by the forward loop, as ``jax.lax.scan`` stores its
  residuals; lists for a while loop, with the count);
* ``loop_out(loop)``, attrs ``(k,)``: the carried value number k after the last step;
* ``loop_grad(loop, inits..., frees..., seeds...)``: the backward loop, running the body's
  vector-Jacobian product in reverse over the tape from the upstream gradients of the results
  (seeds); built by ``symdiff/ad/loops.py``;
* ``loop_grad_out(loop_grad)``, attrs ``(position,)``: the gradient the loop sends to its
  argument number ``position`` (an initial carried value, or a free value: summed over steps).

The ops print themselves through :data:`PRINTERS`, filled by ``symdiff/codegen/loops.py`` (the
printers build writers for the body; the registry cannot import the code generator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .core import Op, register

# op name -> statement printer (writer, node, name) -> lines; filled by symdiff/codegen/loops.py
PRINTERS: dict[str, Callable] = {}


@dataclass(eq=False)
class LoopBody:
    """One rolled loop: its body graph and how the program's values map onto its inputs.

    ``graph`` inputs are, in order, the carried values with an initial value (``carried``: their
    input names), the counters (``counters``: ``(input name, scale, offset)``, the loop variable
    ``i`` as ``(name, 1, 0)`` and integers the body computed from it, ``i + 1`` as
    ``(name, 1, 1)``; those the body reads) and the free values (``free``: input names, in the
    order of the loop node's arguments after the initial values). ``graph.outputs`` are every
    carried value after one step, the first ``len(carried)`` for the carried inputs in order,
    then values first assigned in the body (``names`` holds the program's name of each
    output)."""

    graph: object
    steps: range
    target: str
    names: list[str]
    carried: list[str]
    free: list[str]
    counters: list[tuple[str, int, int]]
    generic: bool
    grads: dict = field(default_factory=dict)  # wrt names -> its Backward (symdiff/ad/loops.py)
    # A while loop on a value condition: ``steps`` is None, ``condition`` the mask node (read
    # before each step, on its carried values) and ``cap`` the most steps it may run.
    condition: int | None = None
    cap: int = 0
    header: str = ""  # the loop as written: "for i in range(1000)", "while x < 10"

    def __hash__(self) -> int:
        return id(self)


@dataclass(eq=False)
class LoopGrad:
    """The backward of a loop for one set of differentiated arguments: the body's Backward and
    the argument positions whose gradients it computes, with their body input names."""

    body: LoopBody
    backward: object
    wanted: dict  # argument position -> body input name

    def __hash__(self) -> int:
        return id(self)


def _printer(name: str) -> Callable:
    def statement(writer, node, target):
        return PRINTERS[name](writer, node, target)
    return statement


def _placeholder(graph, args, attrs):
    """The loop and its backward hold tapes and tuples, not arrays: () (None when generic)."""
    body = attrs[0] if isinstance(attrs[0], LoopBody) else attrs[0].body
    return None if body.generic else ()


def _out_shape(graph, args, attrs):
    body = graph[args[0]].attrs[0]
    return body.graph.shape(body.graph.outputs[attrs[0]])


def _grad_out_shape(graph, args, attrs):
    return graph.shape(graph[args[0]].args[1 + attrs[0]])


def _no_second(*args):
    raise NotImplementedError("a rolled loop's backward is not differentiated again (higher "
                              "derivatives trace loops unrolled)")


# The interpreter's engine for loops, (node, args) -> value and (node, position, upstream, args,
# out) -> gradient, by op name; filled by symdiff/ad/loops.py.
NUMERIC: dict[str, tuple[Callable, Callable]] = {}


def _numeric(name: str) -> dict:
    return dict(numeric=lambda node, args: NUMERIC[name][0](node, args),
                numeric_vjp=lambda node, position, g, args, out:
                NUMERIC[name][1](node, position, g, args, out))


def _never(*args):
    raise NotImplementedError("the program's graph never holds a loop's backward as a value to "
                              "interpret")


_COMMON = dict(kind="structural", math="", uses=("np.empty", "np.float32", "np.bool_"))

register(Op("loop", -1, "", None, shape_fn=_placeholder, statement=_printer("loop"),
            vjp=_no_second, symbol="loop", **_numeric("loop"), **_COMMON))
register(Op("loop_out", 1, "", None, shape_fn=_out_shape, statement=_printer("loop_out"),
            vjp=_no_second, symbol="loop[k]", **_numeric("loop_out"), **_COMMON))
register(Op("loop_grad", -1, "", None, shape_fn=_placeholder, statement=_printer("loop_grad"),
            vjp=_no_second, symbol="loop'", numeric=_never, numeric_vjp=_never, **_COMMON))
register(Op("loop_grad_out", 1, "", None, shape_fn=_grad_out_shape,
            statement=_printer("loop_grad_out"), vjp=_no_second, symbol="loop'[k]",
            numeric=_never, numeric_vjp=_never, **_COMMON))
