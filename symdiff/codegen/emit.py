"""Assembling generated modules: the value-and-gradient function, its float twin, and the layer API.

A module holds, for a program ``loss``:

* ``loss(inputs...) -> (value, grads)``: forward then backward, seeded with ones (the gradient of
  the output's sum);
* ``loss_scalar(...)``: the same with ``math`` for Python floats (elementwise programs only);
* ``loss_forward(inputs...) -> (out, cache)`` and ``loss_backward(dout, cache) -> grads``: the
  lecture's layer API, from the graph seeded with an explicit upstream gradient ``dout``;
* optionally ``check_gradients(seed=0)``: the module checks its own backward against central
  differences, with NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass


from . import blocked, loops, writer as codegen
from ..ad.adjoint import Backward, differentiate
from ..frontend.parse import Program
from ..ir.graph import Graph
from .names import immunize
from ..ops import OPS


@dataclass
class Emitted:
    functions: list[str]
    helpers: set[str]
    scalar: bool


def value_and_grad(program: Program, graph: Graph, backward: Backward, wrt: list[str],
                   extra_params: list[str], docstring: str,
                   spellings: tuple[str, ...] = ("numpy", "math"),
                   floats: bool | None = None) -> Emitted:
    """``name(...)`` (NumPy, or ``xp``: the array API) and ``name_scalar`` (``math``, when every
    value is a float) for a differentiated graph; ``spellings`` picks which to write.

    ``extra_params`` are inputs the differentiation added (``dout``, or the vectors of a
    Hessian-vector product); they follow the program's own parameters. ``floats``: whether
    :func:`scalar_ok` holds, when the caller knows already.
    """
    params = list(program.params) + list(extra_params)
    spec = _spec(program, graph, backward, program.name, params, docstring)
    functions, helpers = [], set()
    array_spelling = next((m for m in ("numpy", "xp") if m in spellings), None)
    blocking = None
    if array_spelling == "numpy" and not extra_params:
        blocking = blocked.plan(graph, spec.outputs + [g for g in spec.grads.values()
                                                       if g is not None])
    if blocking is not None:
        texts, used = blocked.functions(graph, spec, _reserved(program), blocking)
        functions += texts
        helpers |= used
    elif array_spelling:
        writer = codegen.FunctionWriter(graph, spec, _reserved(program), mode=array_spelling)
        functions.append(writer.function())
        helpers |= writer.helpers
    scalar = "math" in spellings and (scalar_ok(graph, backward) if floats is None else floats)
    if scalar:
        spec.name = program.name + "_scalar"
        spec.docstring = "The same for Python floats, computed with the math module."
        math_writer = codegen.FunctionWriter(graph, spec, _reserved(program), mode="math")
        functions.append(math_writer.function())
        helpers |= math_writer.helpers
    return Emitted(functions, helpers, scalar)


def specialization_module(program: Program, spec, wrt: list[str], spelling: str) -> str:
    """The module of one traced and differentiated specialization (compiler.py's: its graph,
    backward, extra parameters and docstring), in one spelling."""
    part = value_and_grad(program, spec.graph, spec.backward, wrt, spec.extra, spec.docstring,
                          (spelling,), spec.scalar_ok)
    return module_text(program, [part])


def seed_names(program: Program, count: int) -> list[str]:
    """The upstream gradients' parameter names: ``dout`` (reserved), or ``dout0, dout1...`` for
    several outputs, moved out of the way of the program's own names (``dout0_``)."""
    if count == 1:
        return ["dout"]
    taken = _reserved(program)
    names = []
    for k in range(count):
        name = f"dout{k}"
        while name in taken:
            name += "_"
        names.append(name)
    return names


def layers(program: Program, graph: Graph, wrt: list[str]) -> Emitted:
    """``name_forward`` / ``name_backward`` from a freshly traced ``graph`` (seeded here)."""
    names = seed_names(program, len(graph.outputs))
    seeds = [graph.input(n, graph.shape(o)) for n, o in zip(names, graph.outputs)]
    backward = differentiate(graph, graph.outputs, wrt, seeds)
    spec = _spec(program, graph, backward, program.name, list(program.params), "")
    # The backward's own parameters: no gradient may be named after them (the gradient of a
    # value named ``out`` would otherwise be ``dout`` and overwrite the upstream gradient).
    writer = codegen.FunctionWriter(graph, spec, _reserved(program) | set(names) | {"dout", "cache"})
    shapes = shapes_text(program, graph)
    outs = ", ".join(_shape_text(graph.shape(o)) for o in graph.outputs)
    dout_doc = "dout (one array per output, as a tuple)" if len(names) > 1 else "dout"
    docs = (f"Forward pass for inputs {shapes}: return (out, cache); out has shape {outs}.",
            f"Backward pass: map the upstream gradient {dout_doc}, shaped like the output, and "
            f"the forward's cache to the gradients of {', '.join(wrt) or 'no input'}.")
    fwd, bwd = writer.layer_functions(list(program.params), names,
                                      (f"{program.name}_forward", f"{program.name}_backward"),
                                      docs)
    return Emitted([fwd, bwd], set(writer.helpers), False)


def module_text(program: Program, parts: list[Emitted]) -> str:
    summary = f"{program.name}: value and gradients, as plain NumPy."
    helpers = set().union(*(p.helpers for p in parts))
    functions = [f for p in parts for f in p.functions]
    # The math twin, or a rolled loop's steps on floats (codegen/loops.py) in NumPy code.
    uses_math = any(p.scalar for p in parts) or any("math." in f for f in functions)
    text = codegen.module(functions, helpers, codegen.header(program.source, summary), uses_math)
    name = program.name
    defined = [name, f"{name}_scalar", f"{name}_forward", f"{name}_backward", f"_{name}_block",
               "check_gradients", "_sample"]
    return immunize(text, defined, sorted(helpers))


def check_function(program: Program, graph: Graph, wrt: list[str]) -> Emitted:
    """``check_gradients(seed=0)``: the module's own finite-difference test of its backward."""
    inputs = []
    for p in program.params:
        shape = graph.shape(graph.inputs[p])
        shape = () if shape is None else shape
        if graph[graph.inputs[p]].attrs[1] == "index":
            inputs.append(f'"{p}": rng.integers(0, {index_bound(graph, p) or 2}, size={shape})')
        else:
            inputs.append(f'"{p}": _sample(rng, {shape})')
    multi = len(graph.outputs) > 1
    text = CHECK_TEMPLATE.format(
        name=program.name, inputs=",\n        ".join(inputs), wrt=repr(list(wrt)),
        dout=CHECK_DOUT[multi], parts=CHECK_PARTS[multi])
    return Emitted([text], set(), False)


# The two spellings of what depends on the number of outputs (no dead branch in the module).
CHECK_DOUT = ("dout = rng.standard_normal(np.shape(out))",
              "dout = tuple(rng.standard_normal(np.shape(o)) for o in out)")
CHECK_PARTS = ("parts = [(result, dout)]", "parts = zip(result, dout)")

CHECK_TEMPLATE = '''def _sample(rng, shape):
    """Inputs away from zero, of both signs."""
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def check_gradients(seed=0, rtol=1e-5, samples=20, verbose=False):
    """Check {name}_backward against central differences of {name}_forward at random inputs.

    Returns the largest relative error measured (about 1e-10 for a right backward). An element
    may differ by rtol plus the rounding that the difference of the objective (the outputs times
    a random dout, summed) carries: AssertionError beyond that. ``verbose`` prints both.
    """
    rng = np.random.default_rng(seed)
    inputs = {{
        {inputs},
    }}
    out, cache = {name}_forward(**inputs)
    {dout}

    def objective(values, size=False):
        result = {name}_forward(**values)[0]
        {parts}
        if size:  # the sum of its terms' sizes: how much rounding a difference of it carries
            return sum(float(np.sum(np.abs(np.asarray(o) * d))) for o, d in parts)
        return sum(float(np.sum(np.asarray(o) * d)) for o, d in parts)

    grads = {name}_backward(dout, cache)
    size = objective(inputs, size=True)
    worst = beyond = rounding_worst = 0.0
    for var in {wrt}:
        x = np.array(inputs[var], dtype=float)
        # Elements far below the gradient's largest are compared absolutely: finite
        # differences cannot resolve them relatively.
        floor = max(1e-3 * float(np.max(np.abs(grads[var]))), 1e-8)
        picks = list(np.ndindex(x.shape))
        for k in rng.permutation(len(picks))[:samples]:
            index = picks[k]
            h = 6e-6 * max(abs(x[index]), 1e-3)
            shifted = []
            for sign in (1.0, -1.0):
                moved = x.copy()
                moved[index] += sign * h
                shifted.append(objective({{**inputs, var: moved if x.shape else float(moved)}}))
            numeric = (shifted[0] - shifted[1]) / (2 * h)
            analytic = float(np.asarray(grads[var])[index])
            scale = max(abs(numeric), abs(analytic), floor)
            # Each objective value is a sum of many terms, rounded to about 1e-16 of their
            # total size; divided by 2h that is the error the difference itself carries.
            rounding = 8 * 2.220446049250313e-16 * size / (2 * h) / scale
            error = abs(numeric - analytic) / scale
            worst = max(worst, error)
            rounding_worst = max(rounding_worst, rounding)
            beyond = max(beyond, error - rounding)
    report = (f"relative error {{worst:.2g}}, allowed {{rtol:.2g}} plus the rounding of the "
              f"difference (up to {{rounding_worst:.2g}})")
    assert beyond <= rtol, f"{name}_backward disagrees with central differences: {{report}}"
    if verbose:
        print(f"{name}_backward agrees with central differences: {{report}}")
    return worst'''


FOLLOWS = ("reshape", "transpose", "expand", "copy")  # ops whose values are their argument's


def index_bound(graph: Graph, name: str) -> int | None:
    """The size of the axis an index input selects along (labels must be below it): the
    smallest over its uses, directly or through reshapes and indexing; None if it never
    indexes (an integer input only compared, say)."""
    derived = {graph.inputs[name]}
    bounds = []
    for node_id, node in enumerate(graph.nodes):
        if node.op in FOLLOWS and node.args[0] in derived or \
                node.op == "index" and node.args[0] in derived:
            derived.add(node_id)
        if node.op != "index":
            continue
        axis = 0
        for item in node.attrs[0]:
            if item[0] == "array" and node.args[1 + item[1]] in derived:
                bounds.append(graph.shape(node.args[0])[axis])
            axis += item[0] != "newaxis"
    return min(bounds) if bounds else None


def _spec(program, graph, backward, name, params, docstring) -> codegen.FunctionSpec:
    return codegen.FunctionSpec(
        name, params, list(graph.outputs), dict(backward.grads), backward.adjoints,
        backward.origin, list(graph.output_names), value_name=program.name, docstring=docstring)


def _reserved(program: Program) -> set[str]:
    return set(program.identifiers) | {program.name}


def _shape_text(shape) -> str:
    return "any (broadcast)" if shape is None else str(tuple(shape))


def shapes_text(program: Program, graph: Graph) -> str:
    shapes = [graph.shape(graph.inputs[p]) for p in program.params]
    if all(s is None for s in shapes):
        return ", ".join(program.params) + " (floats or arrays that broadcast)"
    return ", ".join(f"{p}{list(s)}" for p, s in zip(program.params, shapes))


def scalar_ok(graph: Graph, backward: Backward) -> bool:
    """Whether every value is a float (shape-generic, each op spelled in ``math``)."""
    nodes, spelled, rolled = graph.nodes, {"input"}, []  # (spelled: ops seen to have a spelling)
    for n in graph.reached(graph.outputs + [g for g in backward.grads.values() if g is not None]):
        node = nodes[n]
        if node.op == "const":
            continue
        if node.shape is not None:
            return False
        if node.op not in spelled:
            if OPS[node.op].math is None:
                return False
            spelled.add(node.op)
        if node.op == "loop":
            rolled.append(n)
    return loops.math_ok(graph, rolled)


