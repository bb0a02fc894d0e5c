"""Strip-mining: an elementwise program over large arrays runs block by block.

When every value of a program and its gradients is either an array of one common shape, computed
elementwise, or a scalar (an input, a full sum of such an array, or arithmetic on those), one
block of rows never needs another block's values except through the sums. Computing the whole
function over blocks that fit in the cache, instead of over the whole arrays, keeps every
temporary in the cache (and away from the fresh pages a large allocation gets): each of the many
passes of elementwise NumPy code becomes a pass over cache instead of over memory.

The module then holds two functions. ``_name_block(inputs)`` is the ordinary generated code
(forward, backward, buffer reuse), run on one block: it returns that block's partial sums and its
pieces of the array results. ``name(inputs)`` loops over the blocks, adds up the partial sums,
writes the pieces into the result arrays, then does the scalar arithmetic that comes after the
sums (a mean's division, a log of a sum). Each piece costs one copy, so a program whose results
are mostly arrays (each element its own small computation) is left unblocked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .writer import FunctionSpec, FunctionWriter
from ..ir.graph import Graph
from .inplace import dtype_classes
from ..ops import is_elementwise

BLOCK = 1 << 16      # elements per block: a few of its temporaries fit in a core's L2 cache
MIN_SIZE = 1 << 18   # smaller arrays (under four blocks) are not worth the loop
WORK_PER_PIECE = 6   # array values computed per array result, below which copies do not pay


@dataclass
class Blocking:
    shape: tuple[int, ...]
    rows: int           # rows of the leading axis per block
    sums: list[int]     # scalars that add up over the blocks
    pieces: list[int]   # array results, written block by block


def plan(graph: Graph, roots: list[int]) -> Blocking | None:
    """How to run the graph of ``roots`` in blocks, or None where it cannot or would not pay."""
    nodes = sorted(graph.ancestors(roots))
    arrays = {graph.shape(n) for n in nodes if graph[n].op != "const"} - {()}
    if len(arrays) != 1:
        return None
    (shape,) = arrays
    sizes = graph.decision_shape(shape)  # a sized module's probes decide as the traced call
    if not shape or math.prod(sizes) < MIN_SIZE or not any(
            graph.shape(i) == shape and graph[i].attrs[1] == "float" for i in graph.inputs.values()):
        return None
    rows = max(1, BLOCK // max(1, math.prod(sizes[1:])))
    if sizes[0] < 4 * rows:
        return None
    sums: list[int] = []
    after: set[int] = set()  # scalars that depend on a sum
    work = 0
    for n in nodes:
        node = graph[n]
        if node.op in ("input", "const"):
            continue
        if graph.shape(n) == shape:
            if not is_elementwise(node.op) or any(a in after for a in node.args):
                return None
            work += 1
        elif any(graph.shape(a) == shape for a in node.args):
            if not _full_sum(graph, n, shape):
                return None
            sums.append(n)
            after.add(n)
        elif any(a in after for a in node.args):
            after.add(n)
    pieces = [r for r in dict.fromkeys(roots) if graph.shape(r) == shape]
    classes = dtype_classes(graph, nodes)
    if work < WORK_PER_PIECE * len(pieces) or any(classes[p] != "F" for p in pieces):
        return None  # the copies would cost more than the blocks save / change a dtype
    return Blocking(shape, rows, sums, pieces)


def _full_sum(graph: Graph, n: int, shape: tuple[int, ...]) -> bool:
    node = graph[n]
    if node.op == "sum":
        return node.attrs == (tuple(range(len(shape))), False)
    return node.op == "sum_to" and node.attrs[0] == ()


def functions(graph: Graph, spec: FunctionSpec, reserved: set[str],
              blocking: Blocking) -> tuple[list[str], set[str]]:
    """The block function and the driver that loops over the blocks; and the helpers they use."""
    block_name = f"_{spec.name}_block"
    in_block = set(blocking.sums) | set(blocking.pieces)
    outputs = [o for o in dict.fromkeys(spec.outputs + blocking.sums) if o in in_block and
               o not in spec.grads.values()]
    grads = {name: g for name, g in spec.grads.items() if g in in_block}
    block_spec = FunctionSpec(
        block_name, spec.params, outputs, grads, spec.adjoints, spec.origin,
        [spec.output_names[spec.outputs.index(o)] if o in spec.outputs and
         spec.outputs.index(o) < len(spec.output_names) else None for o in outputs],
        spec.value_name, f"One block of rows of {spec.name}: its partial sums and its pieces of "
                         "the array results.")
    block = FunctionWriter(graph, block_spec, reserved)
    block_text = block.function()
    names = {o: block.names[o] for o in outputs}
    names.update({g: block.grad_names[name] for name, g in grads.items()})

    driver_spec = FunctionSpec(spec.name, spec.params, spec.outputs, spec.grads, spec.adjoints,
                               spec.origin, spec.output_names, spec.value_name,
                               spec.docstring + f" Runs in blocks of {blocking.rows} rows.")
    driver = FunctionWriter(graph, driver_spec, reserved, given=names)
    loop = _loop(graph, spec, blocking, block_name, outputs, grads, names, driver)
    return [block_text, driver.function(prologue=loop)], block.helpers | driver.helpers


def _loop(graph, spec, blocking, block_name, outputs, grads, names, driver) -> list[str]:
    """Allocate the results, then add up / write in each block's part."""
    fresh = driver.namer.fresh
    start, stop, part, parts = fresh("start"), fresh("stop"), fresh("part"), fresh("parts")
    like = next(p for p in spec.params if graph.shape(graph.inputs[p]) == blocking.shape
                and graph[graph.inputs[p]].attrs[1] == "float")
    init, add = [], []
    pieces = [f"{part}{k}" for k in range(len(outputs))] if len(outputs) > 1 else [part]
    for node, got in list(zip(outputs, pieces)) + [(g, f'{parts}["{name}"]')
                                                   for name, g in grads.items()]:
        if node in blocking.pieces:
            init.append(f"{names[node]} = np.empty_like({like})")
            add.append(f"{names[node]}[{start}:{stop}] = {got}")
        else:
            init.append(f"{names[node]} = 0.0")
            add.append(f"{names[node]} += {got}")
    sliced = [f"{p}[{start}:{stop}]" if graph.shape(graph.inputs[p]) == blocking.shape else p
              for p in spec.params]
    target = pieces[0] if len(pieces) == 1 else "(" + ", ".join(pieces) + ")"
    return (init + [f"for {start} in range(0, {blocking.shape[0]}, {blocking.rows}):",
                    f"    {stop} = {start} + {blocking.rows}",
                    f"    {target}, {parts} = {block_name}({', '.join(sliced)})"]
            + ["    " + line for line in add])
