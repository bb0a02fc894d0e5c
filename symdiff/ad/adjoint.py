"""The reverse sweep: backpropagation over the graph, at compile time.

Walking the nodes in reverse topological order, each node's upstream gradient (the sum of what its
consumers sent it) is multiplied by its local partials and sent on to its inputs. The gradient nodes
are built in the same graph as the forward program, so they share its values (``exp``'s partial *is*
its output node) and are printed, interpreted and differentiated again like any other node.

Zero is a value, not a computation: a zero partial sends nothing, and the graph's folding removes
multiplications by one. Only nodes on a path from a requested input to the output are visited.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ..ir.graph import Graph, broadcast_shapes
from ..ops import OPS
from .loops import loop_vjp
from .symbolic import partial_builders


@dataclass
class Backward:
    """What the sweep added to the graph.

    ``adjoints`` maps each forward node on a gradient path to its gradient node; ``grads`` maps each
    requested input name to its gradient node (None: identically zero); ``origin`` maps each node the
    sweep created to the forward node whose backward step created it.
    """

    seeds: list[int]
    adjoints: dict[int, int] = field(default_factory=dict)
    grads: dict[str, int | None] = field(default_factory=dict)
    origin: dict[int, int] = field(default_factory=dict)


def differentiate(graph: Graph, outputs: list[int], wrt: list[str],
                  seeds: list[int] | None = None, broadcast_ref: int | None = None) -> Backward:
    """Add the gradients of ``outputs`` with respect to the inputs named in ``wrt`` to ``graph``.

    ``seeds`` are the upstream gradients of the outputs (default: the constant 1, which makes the
    result the gradient of the sum of all outputs' elements). In shape-generic graphs every
    gradient stands for an array of the shape of ``broadcast_ref`` (default: the output, when
    there is one; with several, each gradient's own shape), and is summed back to each input's
    shape at run time.
    """
    if seeds is None:
        # One output: the seed 1 stands for ones of the output's shape (sum_like below knows it).
        # Several: each output's seed must carry its own shape.
        seeds = [graph.const(1.0)] if len(outputs) == 1 else \
            [graph.apply("ones_like", o) for o in outputs]
    result = Backward(seeds)
    wrt_nodes = [graph.inputs[name] for name in wrt]
    if broadcast_ref is None and len(outputs) > 1 and \
            any(graph.shape(o) is None for o in outputs):
        # Shape-generic outputs of different (run-time) shapes: a sum of gradients standing for
        # different shapes cannot be summed back as one, so each output is swept on its own and
        # the inputs' gradients, each summed back from its own output's shape, are added.
        groups = [([o], [s], o) for o, s in zip(outputs, seeds)]
    else:
        groups = [(outputs, seeds, outputs[0] if broadcast_ref is None else broadcast_ref)]
    handed_out = set(outputs)
    parts: dict[str, list[tuple[int, int]]] = {name: [] for name in wrt}  # (upstream, fitted)
    for group_outputs, group_seeds, ref in groups:
        adjoints = _sweep(graph, group_outputs, group_seeds, wrt_nodes, result)
        result.adjoints.update(adjoints)
        for name, node_id in zip(wrt, wrt_nodes):
            upstream = adjoints.get(node_id)
            if upstream is None:
                continue
            if _shares_memory(graph, upstream, handed_out):
                # Never return an array the caller already holds (an input, the value, another
                # gradient): writing into one gradient must not change anything else.
                upstream = graph.apply("copy", upstream, attrs=(name,))
            handed_out.add(upstream)
            parts[name].append((upstream, fit_input(graph, upstream, node_id, ref)))
    for name in wrt:
        if not parts[name]:
            result.grads[name] = None
            continue
        grad = _sum(graph, [fitted for _, fitted in parts[name]])
        fresh = len(parts[name]) > 1 or grad != parts[name][0][0]
        if fresh and graph[grad].op != "const" and _shares_memory(graph, grad, handed_out):
            # Two inputs whose gradients fit to one node (ones broadcast to a shape, say).
            grad = graph.apply("copy", grad, attrs=(name,))
        handed_out.add(grad)
        result.grads[name] = grad
    return result


def _sweep(graph: Graph, outputs: list[int], seeds: list[int], wrt_nodes: list[int],
           result: Backward) -> dict[int, int]:
    """Backpropagate ``seeds`` from ``outputs``: each node's upstream gradient (the sum of what
    its consumers sent) times its local partials goes to its inputs. Returns the adjoints."""
    on_path = graph.ancestors(outputs) & graph.descendants(wrt_nodes)
    on_path -= shift_invariant_maxes(graph, outputs)
    adjoints: dict[int, int] = {}
    gradients: set[int] = set(seeds)  # sums of gradient terms: factors never taken apart
    pending: dict[int, list[int]] = {}
    for output, seed in zip(outputs, seeds):
        if output in on_path:
            pending.setdefault(output, []).append(seed)
    results: dict[int, dict[int, int]] = {}  # a rolled loop's results' upstream gradients
    nodes, origin = graph.nodes, result.origin
    for node_id in range(max(outputs), -1, -1):
        if node_id not in pending:
            continue
        first_new = len(nodes)
        node = nodes[node_id]
        if node.op == "loop":  # all its results' gradients at once: the backward loop
            for position, contribution in loop_vjp(graph, node_id, results.pop(node_id, {}),
                                                   on_path, differentiate):
                pending.setdefault(node.args[position], []).append(contribution)
            pending.pop(node_id)
        else:
            terms = pending.pop(node_id)
            upstream = _sum(graph, terms, gradients)
            adjoints[node_id] = upstream
            if len(terms) > 1:
                gradients.add(upstream)
            if node.op == "loop_out":
                results.setdefault(node.args[0], {})[node.attrs[0]] = upstream
                pending.setdefault(node.args[0], [])
            else:
                _send(graph, node, node_id, upstream, on_path, pending)
        for new_id in range(first_new, len(nodes)):
            origin[new_id] = node_id
    return adjoints


def _send(graph: Graph, node, node_id: int, upstream: int, on_path: set[int],
          pending: dict[int, list[int]]) -> None:
    """Send ``upstream`` times the local partials of ``node`` (number ``node_id``) to its
    arguments on a path."""
    for position, arg in enumerate(node.args):
        if arg not in on_path:
            continue
        contribution = vjp(graph, node_id, position, upstream)
        if contribution is not None:
            waiting = pending.get(arg)
            if waiting is None:
                pending[arg] = [contribution]
            else:
                waiting.append(contribution)


def shift_invariant_maxes(graph: Graph, outputs: list[int]) -> set[int]:
    """Max reductions ``c = max(x, axes, keepdims=True)`` used only to shift ``s = x - c`` (the
    same ``x``, so the axes line up) inside a softmax (``exp(s) / sum(exp(s))``) or a log-softmax
    (``s - log(sum(exp(s)))``, or with logsumexp): those are unchanged by any shift, so the
    gradient reaching ``c`` is exactly zero and a careful hand-written backward never computes
    it. No gradient is sent to such ``c``."""
    if not any(node.op == "max" for node in graph.nodes):
        return set()  # (the common case, without the walk)
    needed = graph.ancestors(outputs)
    consumers: dict[int, list[int]] = {n: [] for n in needed}
    for n in needed:
        for arg in set(graph[n].args):
            consumers[arg].append(n)
    found = set()
    for c in needed:
        node = graph[c]
        if node.op != "max" or not node.attrs[1] or c in outputs:
            continue
        users = consumers[c]
        if users and all(graph[u].op == "sub" and graph[u].args == (node.args[0], c)
                         and u not in outputs
                         and _only_normalized(graph, u, node.attrs[0], consumers, outputs)
                         for u in users):
            found.add(c)
    return found


def _only_normalized(graph: Graph, s: int, axes: tuple, consumers: dict, outputs: list[int]) -> bool:
    """Whether every use of ``s`` ends in a softmax or log-softmax over ``axes``."""
    def is_(n, op, *args) -> bool:
        return graph[n].op == op and graph[n].args[:len(args)] == args

    def total(n) -> bool:  # sum(exp(s), axes, keepdims=True)
        return is_(n, "sum") and graph[n].attrs == (axes, True) and \
            is_(graph[n].args[0], "exp", s)

    def log_total(n) -> bool:  # log(sum(exp(s))) or logsumexp(s), over axes
        return (is_(n, "log") and total(graph[n].args[0])) or \
            (is_(n, "logsumexp", s) and graph[n].attrs == (axes, True))

    stack, seen = [s], {s}
    while stack:
        n = stack.pop()
        for u in consumers[n]:
            if u in seen:
                continue
            seen.add(u)
            if is_(u, "sub", s) and log_total(graph[u].args[1]) or \
                    is_(u, "div") and is_(graph[u].args[0], "exp", s) and total(graph[u].args[1]):
                continue  # a log-softmax or a softmax: no longer depends on the shift
            if is_(u, "exp", s) or total(u) or log_total(u):
                if u in outputs:
                    return False
                stack.append(u)
                continue
            return False
    return True


VIEW_OPS = frozenset({"transpose", "reshape", "index"})


def _shares_memory(graph: Graph, n: int, handed_out: set[int]) -> bool:
    """Whether node ``n``'s array may be the caller's (an input such as ``dout``, or a view of
    one) or one already returned (the value, another gradient)."""
    while True:
        if n in handed_out or graph[n].op == "input":
            return True
        if graph[n].op not in VIEW_OPS:
            return False
        n = graph[n].args[0]


def _sum(graph: Graph, terms: list[int], gradients: AbstractSet[int] = frozenset()) -> int:
    if len(terms) == 1:
        return terms[0]
    nodes = graph.nodes
    if all(nodes[t].shape in ((), None) for t in terms):
        factored = _factored(graph, terms, gradients)
        if factored is not None:
            return factored
    total = terms[0]
    for term in terms[1:]:
        total = graph.apply("add", total, term)
    return total


def _factored(graph: Graph, terms: list[int], gradients: AbstractSet[int]) -> int | None:
    """Numbers' gradient terms that share factors (``cos(x) * (y * g)`` and ``-(y * (s * g))``),
    summed with the shared factors taken out (``(cos(x) - s) * y * g``): one product by the
    upstream gradient ``g`` instead of one per term, as backprop by hand writes it (and fewer
    operations on a ``g`` that has underflowed to a subnormal number, each of which costs the
    processor many times a normal one). A node of ``gradients`` (a sum of terms already made)
    is one factor: its own product is not taken apart, or each step would multiply again what
    the step before it did."""
    products, common = [], None
    for t in terms:  # (stopping at the first term that shares nothing: a long sum often has none)
        product = _product(graph, t, gradients)
        if product is None:
            return None
        factors = product[1]
        if common is None:
            common = [f for f in factors if graph.nodes[f].op != "const"]
        else:
            common = [f for f in common if f in factors and factors.count(f) >= common.count(f)]
        if not common:
            return None
        products.append(product)
    total = None
    for negative, factors in products:
        rest = list(factors)
        for f in common:
            rest.remove(f)
        coefficient = _multiplied(graph, rest)
        if total is None:
            total = graph.apply("neg", coefficient) if negative else coefficient
        else:
            total = graph.apply("sub" if negative else "add", total, coefficient)
    for f in common:  # the upstream gradient, innermost in each term, is multiplied last
        total = graph.apply("mul", total, f)
    return total


MAX_FACTORS = 8  # a longer product is left as it is (x * x * ... shares its factors: no blowup)


def _product(graph: Graph, t: int, gradients: AbstractSet[int]) -> tuple[bool, list[int]] | None:
    """``t`` as plus or minus a product: (negated, its factors), through ``mul`` and ``neg``
    (not into ``gradients``); None past :data:`MAX_FACTORS` (the walk would repeat shared
    factors), and None for a product of masks: they multiply as booleans (True * True + True is
    True), so such sums are left as they are."""
    nodes = graph.nodes
    negative, factors, stack = False, [], [t]
    while stack:
        if len(factors) + len(stack) > MAX_FACTORS:
            return None
        n = stack.pop()
        node = nodes[n]
        op = node.op
        if op == "neg" and n not in gradients:
            negative = not negative
            stack.append(node.args[0])
        elif op == "mul" and n not in gradients:
            stack.extend(node.args[::-1])
        elif OPS[op].kind == "compare" or op == "input" and node.attrs[1] == "mask":
            return None
        else:
            factors.append(n)
    return negative, factors


def _multiplied(graph: Graph, factors: list[int]) -> int:
    if not factors:
        return graph.const(1.0)
    total = factors[0]
    for f in factors[1:]:
        total = graph.apply("mul", total, f)
    return total


def vjp(graph: Graph, node_id: int, position: int, upstream: int) -> int | None:
    """The gradient ``node_id`` sends to its argument number ``position`` (None for zero)."""
    nodes = graph.nodes
    node = nodes[node_id]
    spec = OPS[node.op]
    if spec.kind == "structural":
        contribution = spec.vjp(graph, node_id, position, upstream)
        if contribution is None:
            return None
        stands_for = graph.shape(contribution)
    else:
        if node.op == "where":
            contribution = _where_vjp(graph, node, position, upstream)
            if contribution is None:
                return None
        else:
            partial = partial_builders(node.op)[position](graph, node.args, node_id)
            local = nodes[partial]
            if local.op == "const" and local.attrs[0] == 0.0:
                return None
            contribution = times(graph, partial, upstream)  # (1 * g folds to g in the graph)
        # An elementwise node's gradient stands for an array of the node's own shape even
        # when it is stored smaller (a scalar 1 seed): sum it back as if it had that shape.
        stands_for = node.shape
    shape = nodes[node.args[position]].shape
    return contribution if shape is None else fit(graph, contribution, shape, stands_for)


def times(graph: Graph, partial: int, upstream: int) -> int:
    """``partial * upstream``, keeping a masked upstream gradient masked.

    If the upstream gradient is ``where(c, g, 0)`` the product is built as ``where(c, partial * g,
    0)``: where the mask is off the result is an exact zero even if ``partial`` is inf or NaN there
    (the derivative of a branch that ``where`` did not take).
    """
    node = graph.nodes[upstream]
    op = node.op
    if op == "sum_to" and _masked(graph, node.args[0]) is not None:
        # A masked gradient summed over broadcast axes: exactly zero wherever no position was
        # selected, and it must stay so after the product.
        mask = _masked(graph, node.args[0])
        if graph.shape(mask) != graph.shape(node.args[0]):
            # The condition may broadcast narrower than the gradient it masks.
            mask = graph.apply("expand", mask, attrs=(graph.shape(node.args[0]),))
        selected = graph.apply("gt", graph.apply("sum_to", mask, attrs=node.attrs),
                               graph.const(0.0))
        return graph.apply("where", selected, graph.apply("mul", partial, upstream),
                           graph.const(0.0))
    if op == "const" and OPS[graph.nodes[partial].op].kind == "compare":
        # A mask times a constant would fold to the bare (or negated) bool mask.
        partial = graph.apply("float", partial)
    elif op == "where":
        cond, taken, other = node.args
        if graph.is_const(other, 0.0):
            return graph.apply("where", cond, times(graph, partial, taken), other)
        if graph.is_const(taken, 0.0):
            return graph.apply("where", cond, taken, times(graph, partial, other))
    return graph.apply("mul", partial, upstream)


def _masked(graph: Graph, n: int) -> int | None:
    """For ``where(c, g, 0)`` / ``where(c, 0, g)``: the 0/1 mask of the positions that carry g."""
    node = graph[n]
    if node.op != "where":
        return None
    cond, taken, other = node.args
    one, zero = graph.const(1.0), graph.const(0.0)
    if graph.is_const(other, 0.0):
        return graph.apply("where", cond, one, zero)
    if graph.is_const(taken, 0.0):
        return graph.apply("where", cond, zero, one)
    return None


def _where_vjp(graph: Graph, node, position: int, upstream: int) -> int | None:
    cond = node.args[0]
    zero = graph.const(0.0)
    if position == 1:
        return graph.apply("where", cond, upstream, zero)
    if position == 2:
        return graph.apply("where", cond, zero, upstream)
    return None


def fit(graph: Graph, contribution: int, shape, stands_for=None) -> int:
    """Sum a gradient back over the axes its value was broadcast along (concrete shapes only).

    ``stands_for`` is the shape the contribution represents (it may be stored smaller, to be
    broadcast); the sum runs over the axes along which that shape exceeds ``shape``.
    """
    have = graph.shape(contribution)
    if shape is None or have is None:
        return contribution
    full = broadcast_shapes([have, stands_for]) if stands_for is not None else have
    if full == shape or not _broadcasts_over(full, shape):
        return contribution
    if have != full:
        contribution = graph.apply("expand", contribution, attrs=(full,))
    return graph.apply("sum_to", contribution, attrs=(shape,))


def _broadcasts_over(full, shape) -> bool:
    """Whether an array of ``shape`` was broadcast up to ``full`` (so a sum is needed)."""
    return len(full) > len(shape) or any(f != s and s == 1 for f, s in zip(full[::-1],
                                                                              shape[::-1]))


def fit_input(graph: Graph, gradient: int, input_id: int, output: int) -> int:
    """The final gradient of an input, with exactly the input's shape."""
    shape = graph.shape(input_id)
    if shape is None:
        return graph.apply("sum_like", gradient, input_id, output)
    if graph.shape(gradient) != shape:
        return graph.apply("expand", gradient, attrs=(shape,))
    return gradient
