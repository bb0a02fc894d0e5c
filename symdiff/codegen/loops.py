"""Printing rolled loops: a forward loop that keeps a tape, a backward loop that reads it in reverse.

For ``for i in range(K): x = np.sin(x) * y + np.cos(x * y)`` the value-and-gradient function
reads as backprop written by hand::

    x_1 = x
    x_tape = np.empty(1000)
    for i in range(1000):
        x_tape[i] = x_1
        x_2 = np.sin(x_1) * y + np.cos(x_1 * y)
        x_1 = x_2
    ...
    dx_1 = 1.0
    dy = 0.0
    for i in range(999, -1, -1):
        x_3 = x_tape[i]
        ... the body's backward ...
        dy += dy_2
        dx_1 = dx_3

The body's statements come from writers of the body graph (the same ``FunctionWriter`` as the
function's, sharing its names): one prints the forward step, one the backward step. The tape holds
the values of each step that the backward step reads (``x_tape[i]``): arrays of shape (K, ...)
where the shapes and dtype are known, Python lists otherwise (floats in the ``math`` twin).

A step of NumPy code whose values are all numbers (``y = a * y + np.sin(x[i])``) runs on Python
floats, spelled with ``math``: NumPy's scalar arithmetic costs many times a float's. Before the
loop the numbers it reads become floats (``a_1 = float(a)``) and the arrays it indexes lists
(``x_list = x.tolist()``); ops ``math`` would spell differently are guarded (:data:`GUARDS`);
after it the results are NumPy numbers again and the lists of gradients arrays.
"""

from __future__ import annotations

import math
import re

from ..errors import InputError
from ..ops import OPS, PREC_ATOM
from ..ops.loops import PRINTERS
from ..ops.tensor import index_text
from .inplace import InPlacePlan, dtype_classes

MAX_TAPE_BYTES = 4 << 30  # as arguments.MAX_ARRAY_BYTES: what one call may ask for
QUIET = "\x00"  # writer.QUIET: a statement run under np.errstate (writer imports this module)


class LoopText:
    """What the forward and backward printers of one loop share within one function writer."""

    def __init__(self, w, loop: int):
        self.w = w
        self._id = loop
        self.node = w.graph[loop]
        self.body = self.node.attrs[0]
        grads = [n for n in w.nodes if w.graph[n].op == "loop_grad" and w.graph[n].args[0] == loop]
        self._grad_id = grads[0] if grads else None
        self.grad = w.graph[grads[0]].attrs[0] if grads else None
        self.classes = _classes(w, self.node, self.body)
        # How the steps are spelled: as the function, or with math on floats (python_step).
        self.mode = "math" if python_step(w, self.body, self.grad, self.classes) else w.mode
        # The math twin keeps only the carried values and computes the rest of a step again going
        # back: a float costs more to keep than to compute (as by hand). Steps on floats in NumPy
        # code keep lists: their guarded ops cost more to compute again.
        self.recompute = w.mode == "math"
        self.residuals = _residuals(self.body, self.grad.backward, self.recompute) \
            if self.grad else []
        steps = self.body.steps
        self.counting = steps is None  # a while loop: it counts its steps
        self.counter = w.namer.claim(self.body.target) if not self.counting else ""
        # NumPy steps that compute with the counter (1.0 / (0.1 * i)) read it as a NumPy integer:
        # NumPy's inf at i = 0, not Python's ZeroDivisionError (steps on floats guard instead).
        self.numpy_counter = self.mode == "numpy" and not self.counting and \
            _computes_with_counter(self.body)
        self.index = self.counter if not self.counting and steps.start == 0 and steps.step == 1 \
            and not self.numpy_counter else w.namer.fresh("k")
        self.count = w.namer.fresh("steps") if self.counting else str(len(steps))
        self.counters = {name: self.counter if (scale, offset) == (1, 0) else
                         w.namer.claim(name) for name, scale, offset in self.body.counters}
        self.vars = [w.namer.claim(name) for name in self.body.names]
        self.prelude: list[str] = []
        self.args = [_named(w, a, self.prelude) for a in self.node.args]
        self.given_args = list(self.args)  # (self.args: as floats and lists, for such a step)
        self.tapes: dict[int, str] = {}
        self.fw = None
        self._check_tape()

    def _check_tape(self) -> None:
        """Refuse, before anything runs, a tape larger than a call may ask for."""
        inner, steps = self.body.graph, self.body.steps
        shapes = [inner.shape(r) for r in self.residuals]
        if steps is None or any(shape is None for shape in shapes):
            return
        size = len(steps) * sum(math.prod(shape) for shape in shapes) * \
            (4 if self.w.graph.single else 8)
        if size > MAX_TAPE_BYTES:
            raise InputError(f"the loop '{self.body.header}' (line "
                             f"{self.w.graph.lines.get(self._id, '?')}) would keep "
                             f"{size / 2 ** 30:.1f} GiB of its steps for the backward pass (the "
                             f"limit is {MAX_TAPE_BYTES / 2 ** 30:g} GiB); use fewer steps or "
                             "smaller arrays")

    # ------------------------------------------------------------ the forward loop
    def forward(self, name: str) -> list[str]:
        w, body, inner = self.w, self.body, self.body.graph
        floats = self._as_floats()
        test, given = self._test()
        fw = _writer(w, inner, [], {}, {}, given, mode=self.mode)
        self._name_inputs(fw, self.vars)
        for r in self.residuals:
            if r in fw.uses and inner[r].op != "input":
                fw.uses[r] += 1  # a line of its own: the tape stores it
        lines, _ = fw.body()
        w.helpers |= fw.helpers
        self.fw = fw
        self.tapes = {r: w.namer.fresh(_base(fw, r) + "_tape") for r in self.residuals}
        out = [f"# {body.header}: a loop kept rolled" +
               (f" (at most {body.cap:,} steps)" if self.counting else "") +
               (", keeping a tape of each step for the backward loop" if self.tapes else "")]
        out += self.prelude + floats
        copy = " * 1.0" if self.counting and w.mode != "math" else ""  # no steps: not the input
        out += [f"{v} = {a}{copy}" for v, a in zip(self.vars, self.args[:len(body.carried)])]
        out += [f"{tape} = {self._allocate(r)}" for r, tape in self.tapes.items()]
        step = test + self._counter_lines()
        step += [self._store(tape, fw.expr(r)) for r, tape in self.tapes.items()
                 if inner[r].op == "input"]
        step += lines
        step += [self._store(tape, fw.expr(r)) for r, tape in self.tapes.items()
                 if inner[r].op != "input"]
        values = [fw.expr(o) for o in inner.outputs]
        taped = {fw.expr(r) for r in self.tapes}
        for k, var in enumerate(self.vars):
            if values[k] not in taped and values.count(values[k]) == 1 and \
                    _rename_assignment(step, values[k], var):
                values[k] = var  # x_1 = f(x_1) at once, rather than x_2 = f(x_1); x_1 = x_2
        step += _assignment(self.vars, values)
        out.append(f"for {self.index} in range({body.cap + 1 if self.counting else self.count}):")
        out += fw._guarded(step)
        if self.mode != w.mode:  # floats back into NumPy code: NumPy's numbers (1 / y is inf)
            out += [f"{v} = np.float64({v})" for v in self.vars]
        if self.counting:
            out.append(f"{self.count} = {self.index}")
        if self.grad is not None:
            values = ([self.count] if self.counting else []) + list(self.tapes.values())
            out.append(f"{name} = " + (values[0] if len(values) == 1 else
                                       "(" + ", ".join(values) + ")" if values else "None"))
        # The comment over the backward loop: "# backprop t1 = the loop ..."
        w.text[self._id] = (f"the loop '{body.header}' at line "
                            f"{w.graph.lines.get(self._id, '?')}: its steps in reverse, reading "
                            "its tape", PREC_ATOM)
        for n in w.nodes:
            if w.graph[n].op == "loop_out" and w.graph[n].args[0] == self._id:
                w.names[n] = w.given[n] = self.vars[w.graph[n].attrs[0]]
        return out

    def _test(self) -> tuple[list[str], dict]:
        """A while loop's test at the top of a step, and the values it names (which the step
        reads again rather than computing them twice)."""
        if not self.counting:
            return [], {}
        w, body, inner = self.w, self.body, self.body.graph
        cw = _writer(w, inner, [], {}, {}, None, [body.condition])
        cw.spec.output_names = []
        self._name_inputs(cw, self.vars)
        lines, _ = cw.body()
        w.helpers |= cw.helpers
        test = cw.expr(body.condition)
        if lines and lines[-1].startswith(f"{test} = ") and inner[body.condition].op != "input":
            test = lines.pop()[len(f"{test} = "):]  # the test itself, not a name for it
        given = {n: text for n, text in cw.names.items()
                 if inner[n].op != "input" and n != body.condition}
        message = (f"the loop '{body.header}' ran {body.cap:,} steps and its condition still "
                   "holds (the limit for a while loop on values)")
        return lines + [
            f"if not ({test}):", "    break",
            f"if {self.index} == {body.cap}:", f"    raise ValueError({message!r})"], given

    def _store(self, tape: str, value: str) -> str:
        if self.counting:
            return f"{tape}.append({value})"
        return f"{tape}[{self.index}] = {value}"

    # ------------------------------------------------------------ the backward loop
    def backward(self, node) -> list[str]:
        w, body = self.w, self.body
        out: list[str] = []
        seeds = [_named(w, a, out) for a in node.args[1 + len(self.node.args):]]
        floats = self._as_floats() if w.inplace.split or not self.fw else []  # (the layer API)
        bw, loads, sparse = self._backward_writer()
        _, lines = bw.body()
        w.helpers |= bw.helpers
        frees = {p: n for p, n in self.grad.wanted.items() if p >= len(body.carried)}
        sums = {name: w.namer.fresh("d" + name) for name in dict.fromkeys(frees.values())}
        out += self._backward_start(node, seeds, sums, sparse, bw)
        step = self._counter_lines()
        step += [f"{loads[r]} = {tape}[{self.index}]" for r, tape in self.tapes.items()]
        step += lines
        folded = {name for name, total in sums.items()  # dy = ...; dy_1 += dy: dy_1 += ...
                  if name not in sparse and _rename_assignment(step, bw.grad_names[name], total,
                                                               "+=")}
        step += self._backward_sums(bw, {k: v for k, v in sums.items() if k not in folded},
                                    sparse)
        news = [bw.grad_names[c] if c in bw.grad_names else self._zero(k)
                for k, c in enumerate(body.carried)]
        news += [self._zero(k) for k in range(len(body.carried), len(body.names))]
        for k, var in enumerate(self.dvars):  # dx_1 = ...; dx = dx_1: dx = ... at once
            if news[k] != var and news.count(news[k]) == 1 and news[k].isidentifier() and \
                    news[k] not in self.dvars and _rename_assignment(step, news[k], var):
                news[k] = var
        step += _assignment(self.dvars, news)
        last = f"{self.count} - 1" if self.counting else len(body.steps) - 1
        read = "\n".join(step)  # the floats and lists the backward step reads (it may read none)
        out += [line for line in floats
                if re.search(rf"\b{re.escape(line.split(' = ')[0])}\b", read)]
        out.append(f"for {self.index} in range({last}, -1, -1):")
        out += bw._guarded(step)
        if self.mode != w.mode:  # a step on floats: back to NumPy's numbers and arrays
            out += [f"{d} = np.float64({d})" for d in self.dvars]
            out += [f"{s} = np.array({s})" if name in sparse else f"{s} = np.float64({s})"
                    for name, s in sums.items()]
        for n in w.nodes:
            if w.graph[n].op == "loop_grad_out" and w.graph[n].args[0] == self._grad_id:
                p = w.graph[n].attrs[0]
                w.names[n] = w.given[n] = self.dvars[p] if p < len(body.carried) \
                    else sums[frees[p]]
        return out

    def _backward_writer(self):
        """The writer of a backward step: (writer, the tape's values by name, the free values
        whose gradient is added into place)."""
        w, body, inner, backward = self.w, self.body, self.body.graph, self.grad.backward
        loads = {r: w.namer.fresh(_base(self.fw, r)) for r in self.residuals}
        wrt = {k: g for k, g in backward.step.items() if g is not None}
        sparse = self._sparse(wrt)  # free name -> scatters: summed into place (x[i] in a step)
        for name, leaves in sparse.items():
            del wrt[name]
            wrt.update({f"{name}_at{k}": inner[leaf].args[0] for k, leaf in enumerate(leaves)})
        bw = _writer(w, inner, wrt, backward.adjoints, backward.origin, loads,
                     [] if self.recompute else None, self.mode)
        bw.text.update({r: self.fw.text[r] for r in loads if r in self.fw.text})
        self.dvars = [w.namer.fresh("d" + name) for name in body.names]
        self._name_inputs(bw, [loads.get(inner.inputs[c], c) for c in body.carried])
        for seed, var in zip(backward.seed_names, self.dvars):
            bw.names[inner.inputs[seed]] = var
        return bw, loads, sparse

    def _backward_start(self, node, seeds: list[str], sums: dict, sparse: dict, bw) -> list[str]:
        """Before the backward loop: the tape, the results' upstream gradients, zero sums."""
        w, body, inner = self.w, self.body, self.body.graph
        out = []
        values = ([self.count] if self.counting else []) + list(self.tapes.values())
        if values:
            out.append(f"{', '.join(values)} = {w.expr(node.args[0])}")
        # A step passing its upstream gradient on, or a while loop of no steps: the gradient
        # handed out must not be the caller's array.
        passes = any(inner[g].op == "input" for g in bw.spec.grads.values())
        copy = " * 1.0" if w.mode != "math" and (passes or self.counting) else ""
        if self.mode != w.mode:  # a step on floats: float(dout) is a float, and a copy
            out += [f"{d} = float({s})" if s.isidentifier() else f"{d} = {s}"
                    for d, s in zip(self.dvars, seeds)]
        else:
            out += [f"{d} = {s}{copy if s.isidentifier() else ''}"
                    for d, s in zip(self.dvars, seeds)]
        zeros = self.counting and w.mode == "numpy" and not body.generic  # no step: its shape
        out += [f"{s} = {self._zeros(name) if name in sparse or zeros else '0.0'}"
                for name, s in sums.items()]
        return out

    def _backward_sums(self, bw, sums: dict, sparse: dict) -> list[str]:
        """A step's gradients of the free values, added to their sums (into place for x[i])."""
        inner = self.body.graph
        lines = [f"{s} += {bw.grad_names[name]}" for name, s in sums.items() if name not in sparse]
        for name, leaves in sparse.items():
            for k, leaf in enumerate(leaves):
                index = index_text(bw, inner[leaf].attrs[0], inner[leaf].args[1:])
                lines.append(f"{sums[name]}[{index}] += {bw.grad_names[f'{name}_at{k}']}")
        return lines

    # ------------------------------------------------------------ pieces
    def _as_floats(self) -> list[str]:
        """For a step on floats: the arguments as floats (``a_1 = float(a)``; a carried one is
        assigned ``float(y0)``) and the arrays it indexes as lists (``x_list = x.tolist()``);
        the lines making them (``self.args`` names them after)."""
        if self.mode == self.w.mode:
            return []
        w, body, inner = self.w, self.body, self.body.graph
        lines = []
        for k, (name, node_id) in enumerate(zip(body.carried + body.free, self.node.args)):
            text = self.args[k] = self.given_args[k]
            if w.graph[node_id].op == "const":
                continue
            if inner.shape(inner.inputs[name]) != ():
                self.args[k] = w.namer.fresh(f"{text}_list")
                lines.append(f"{self.args[k]} = {text}.tolist()")
            elif k < len(body.carried):
                self.args[k] = f"float({text})"
            else:
                self.args[k] = w.namer.fresh(text)
                lines.append(f"{self.args[k]} = float({text})")
        return lines

    def _name_inputs(self, writer, carried: list[str]) -> None:
        inner, body = self.body.graph, self.body
        for name, var in zip(body.carried, carried):
            writer.names[inner.inputs[name]] = var
        for name, text in self.counters.items():
            writer.names[inner.inputs[name]] = text
        for name, arg in zip(body.free, self.args[len(body.carried):]):
            writer.names[inner.inputs[name]] = arg

    def _counter_lines(self) -> list[str]:
        """The step's integers: ``i`` from the loop's index (a range not from 0 by 1), then
        those the body computed from ``i`` (``i_1 = i + 1``)."""
        steps, lines = self.body.steps, []
        if self.index != self.counter and not self.counting:
            value = _affine(self.index, steps.step, steps.start)
            lines.append(f"{self.counter} = " + (f"np.int64({value})" if self.numpy_counter
                                                  else value))
        for name, scale, offset in self.body.counters:
            if (scale, offset) != (1, 0):
                lines.append(f"{self.counters[name]} = {_affine(self.counter, scale, offset)}")
        return lines

    def _allocate(self, r: int) -> str:
        if self.counting:
            return "[]"
        inner, w = self.body.graph, self.w
        shape = inner.shape(r)
        count = len(self.body.steps)
        kind = self.classes.get(r)
        if self.mode == "math":
            return f"[0.0] * {count}"
        if w.mode != "numpy" or shape is None or kind not in ("F", "B"):
            return f"[None] * {count}"
        full = (count,) + tuple(shape)
        dtype = ", dtype=np.bool_" if kind == "B" else ", dtype=np.float32" if w.graph.single \
            else ""
        return f"np.empty({full[0] if len(full) == 1 else full}{dtype})"

    def _sparse(self, grads: dict) -> dict[str, list[int]]:
        """The free values whose step gradient is a sum of scatters at the step's integers
        (``x[i]``, ``x[i + 1]``: no position twice), to add into place rather than into zeros."""
        inner, body = self.body.graph, self.body
        if self.w.mode != "numpy" or body.generic:
            return {}
        counters = {inner.inputs[name] for name, _, _ in body.counters}
        found = {}
        for name in body.free:
            leaves = _scatters(inner, grads.get(name), counters)
            if leaves and all(inner[leaf].attrs[1] == inner.shape(inner.inputs[name])
                              for leaf in leaves):
                found[name] = leaves
        return found

    def _zeros(self, name: str) -> str:
        shape = self.body.graph.shape(self.body.graph.inputs[name])
        if self.mode != self.w.mode:
            return f"[0.0] * {shape[0]}"  # a step on floats: a list, an array after the loop
        return f"np.zeros({shape}{', dtype=np.float32' if self.w.graph.single else ''})"

    def _zero(self, k: int) -> str:
        shape = self.body.graph.shape(self.body.graph.outputs[k])
        if self.w.mode == "math" or not shape:
            return "0.0"
        prefix = "xp" if self.w.mode == "xp" else "np"
        dtype = ", dtype=np.float32" if self.w.graph.single and prefix == "np" else ""
        return f"{prefix}.zeros({tuple(shape)}{dtype})"


# Ops whose math spelling gives NumPy's float64 answer for every input, to rounding (NumPy's own
# vectorized tanh may differ from libm's in the last bit), with inf and nan where NumPy has
# them, and never raises (math.sin(inf), 1.0 / 0.0 and math.exp(1000.0) raise; max() drops a
# nan).
SAME_ON_FLOATS = frozenset({
    "add", "sub", "mul", "neg", "abs", "copy", "float", "sum_like", "ones_like", "tanh",
    "arctan", "arctan2", "arcsinh", "copysign", "hypot", "deg2rad", "rad2deg", "where", "eq",
    "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "logical_and", "logical_or",
    "logical_not", "logical_xor"})


# Ops whose math spelling gives NumPy's answer wherever this condition holds (and NumPy's
# spelling is used where it does not): math.log(t) if t > 0.0 else np.log(t).
GUARDS = {
    "div": "{1}", "reciprocal": "{0}", "exp": "{0} < 709.0", "expm1": "{0} < 709.0",
    "sigmoid": "{0} > -709.0", "cosh": "-709.0 < {0} < 709.0", "sinh": "-709.0 < {0} < 709.0",
    "sin": "math.isfinite({0})", "cos": "math.isfinite({0})", "tan": "math.isfinite({0})",
    "log": "{0} > 0.0", "log2": "{0} > 0.0",
    "log10": "{0} > 0.0", "log1p": "{0} > -1.0", "sqrt": "{0} >= 0.0",
}


def guarded(op: str) -> str:
    """The spelling of ``op`` in a step on floats: its math spelling, guarded (:data:`GUARDS`);
    outside the guard NumPy's, on NumPy numbers (``1.0 / np.float64(t)`` is inf, not an error)."""
    spec = OPS[op]
    if op not in GUARDS:
        return spec.math
    numbers = spec.numpy.format(*("np.float64({%d})" % k for k in range(spec.arity)))
    return f"{spec.math} if {GUARDS[op]} else {numbers}"


def python_step(w, body, grad, classes: dict[int, str]) -> bool:
    """Whether the steps of a loop of NumPy code run on Python floats: every value a step
    computes, going forward and back, is a number of an op in :data:`SAME_ON_FLOATS` or
    :data:`GUARDS`, and the arrays it reads are 1-d, read at one position each (``x[i]``,
    ``x[i + 1]``) and given their gradient there. The values it reads are the program's floats
    (an integer's arithmetic on Python ints is not NumPy's): ``classes``, :func:`_classes`."""
    graph, inner = w.graph, body.graph
    if w.mode != "numpy" or not graph.python_steps or graph.single or body.generic \
            or body.steps is None:
        return False
    counters = {inner.inputs[name] for name, _, _ in body.counters}
    arrays = set()
    for k, name in enumerate(body.carried + body.free):
        shape = inner.shape(inner.inputs[name])
        if classes.get(inner.inputs[name]) != "F":
            return False
        if shape == ():
            continue
        if k < len(body.carried) or shape is None or len(shape) != 1:
            return False
        arrays.add(inner.inputs[name])
    roots = list(inner.outputs)
    for name, g in (grad.backward.step.items() if grad is not None else ()):
        if g is not None and inner.inputs[name] in arrays:
            leaves = _scatters(inner, g, counters)
            if not leaves:
                return False
            roots += [inner[leaf].args[0] for leaf in leaves]
        elif g is not None:
            roots.append(g)
    for n in inner.ancestors(roots):
        node = inner[n]
        if node.op in ("input", "const") or node.op == "index" and node.args[0] in arrays \
                and _one_position(node, counters):
            continue
        same = node.op in SAME_ON_FLOATS or node.op in GUARDS or \
            node.op == "pow" and inner.is_const(node.args[1], 2.0)
        if node.shape != () or not same or any(a in arrays for a in node.args):
            return False  # (the math spelling of a square is x * x: inf, not OverflowError)
    return True


def _one_position(node, counters: set[int]) -> bool:
    """``x[i]``, ``x[i + 1]`` or ``x[2]``: one position of a 1-d array."""
    items = node.attrs[0]
    return len(items) == 1 and (items[0][0] == "int" or items[0][0] == "array"
                                and all(a in counters for a in node.args[1:]))


def _scatters(inner, g: int | None, counters: set[int]) -> list[int] | None:
    """The scatters whose sum ``g`` is, when each puts its value at ints, slices and the
    step's integers (basic indexing: no position twice); None otherwise."""
    stack, leaves = [] if g is None else [g], []
    while stack:
        n = stack.pop()
        node = inner[n]
        if node.op == "add":
            stack.extend(node.args)
            continue
        if node.op != "scatter" or any(item[0] not in ("int", "slice", "array")
                                       for item in node.attrs[0]) \
                or any(a not in counters for a in node.args[1:]):
            return None
        leaves.append(n)
    return leaves


def _rename_assignment(lines: list[str], name: str, var: str, operator: str = "=") -> bool:
    """Make the statement assigning ``name`` assign ``var`` instead (``var += ...`` with
    ``operator="+="``), where no later statement reads ``name`` or ``var`` (``var`` keeps the
    value before the step until then)."""
    marks = ("", QUIET)
    found = [k for k, line in enumerate(lines) for mark in marks
             if line.startswith(f"{mark}{name} = ")]
    if len(found) != 1:
        return False
    k = found[0]
    words = re.compile(rf"\b({re.escape(name)}|{re.escape(var)})\b")
    if any(words.search(line) for line in lines[k + 1:]):
        return False
    mark = QUIET if lines[k].startswith(QUIET) else ""
    lines[k] = f"{mark}{var} {operator} " + lines[k][len(f"{mark}{name} = "):]
    return True


def _computes_with_counter(body) -> bool:
    """Whether a step computes with its counter (``0.1 * i``), not only indexes with it."""
    inner = body.graph
    counters = {inner.inputs[name] for name, _, _ in body.counters}
    return any(a in counters for node in inner.nodes if node.op not in ("index", "scatter")
               for a in node.args)


def _affine(name: str, scale: int, offset: int) -> str:
    text = name if scale == 1 else f"{scale} * {name}"
    return text if offset == 0 else f"{text} + {offset}" if offset > 0 else f"{text} - {-offset}"


def _assignment(targets: list[str], values: list[str]) -> list[str]:
    """``a, b = x, y`` (at once: a value may read a target), leaving out ``a = a``."""
    pairs = [(t, v) for t, v in zip(targets, values) if t != v]
    if not pairs:
        return []
    return [f"{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}"]


def _writer(w, graph, grads: dict, adjoints: dict, origin: dict, given: dict | None = None,
            outputs: list | None = None, mode: str | None = None):
    """A writer of the body graph that shares ``w``'s names, in ``w``'s spelling or ``mode``,
    never reusing buffers (the tape and the next step read what a step computed). With
    ``outputs=[]`` it prints the forward values the gradients read among the backward
    statements (computed again)."""
    outputs = list(graph.outputs) if outputs is None else outputs
    spec = type(w.spec)("step", [], outputs, dict(grads), dict(adjoints), dict(origin),
                        list(graph.output_names), value_name="t")
    writer = type(w)(graph, spec, set(), mode=mode or w.mode, given=given)
    if writer.mode != w.mode:  # a step on floats
        writer.float_spelling = guarded
    writer.namer = w.namer
    writer.inplace = InPlacePlan(writer, enabled=False)
    return writer


def _residuals(body, backward, recompute: bool) -> list[int]:
    """The body's values its backward step reads, other than the counter and the free values:
    what each forward step stores on the tape (only the carried values, with ``recompute``)."""
    inner = body.graph
    forward = inner.ancestors(inner.outputs)
    roots = [g for g in backward.step.values() if g is not None]
    carried = {inner.inputs[c] for c in body.carried}
    if recompute:
        return sorted(carried & inner.ancestors(roots))
    read = {a for n in inner.ancestors(roots) - forward for a in inner[n].args if a in forward}
    read |= {g for g in roots if g in forward}
    return sorted(r for r in read if inner[r].op not in ("input", "const") or r in carried)


def _base(fw, r: int) -> str:
    """The forward step's name of a value on the tape, without a numbered suffix."""
    name = fw.expr(r)
    base = name.rstrip("0123456789")
    return base[:-1] if base.endswith("_") and base[:-1] else name


def _named(w, n: int, lines: list[str]) -> str:
    """The outer function's name for ``n`` (a loop argument): its text when that is a name or
    a number, else a new temporary holding it (assigned by ``lines``, printed before the loop)."""
    text = w.expr(n)
    if text.isidentifier() or w.graph[n].op == "const":
        return text if not text.startswith("-") else f"({text})"
    name = w.namer.numbered("t")
    lines.append(f"{name} = {text}")
    return name


def _classes(w, loop_node, body) -> dict[int, str]:
    """The dtype class of each body value (``inplace.dtype_classes``), counting a body input as
    the program's float dtype only where the loop's argument is."""
    inner = body.graph
    if "_outer_classes" not in w.__dict__:  # once per function, not once per loop in it
        w._outer_classes = dtype_classes(w.graph, w.nodes)
    outer = w._outer_classes
    own = [name for name, arg in zip(body.carried + body.free, loop_node.args)
           if outer.get(arg) in ("F", "W")]
    saved = inner.single, inner.program_inputs
    inner.single, inner.program_inputs = True, frozenset(own)
    try:
        return dtype_classes(inner, inner.ancestors(inner.outputs))
    finally:
        inner.single, inner.program_inputs = saved


def _state(w, loop: int) -> LoopText:
    loops = w.__dict__.setdefault("_loops", {})
    if loop not in loops:
        loops[loop] = LoopText(w, loop)
    return loops[loop]


def _loop(w, node, name: str) -> list[str]:
    loop = next(n for n in w.nodes if w.graph[n] is node)
    return _state(w, loop).forward(name)


def _loop_grad(w, node, name: str) -> list[str]:
    return _state(w, node.args[0]).backward(node)


def _never(w, node, name: str) -> list[str]:
    raise AssertionError("a loop's results are named by the loop's own statements")


def math_ok(graph, nodes) -> bool:
    """Whether every rolled loop among ``nodes`` can be written with ``math`` (its body and its
    body's backward have only float values and ``math`` spellings)."""
    for n in nodes:
        if graph[n].op != "loop":
            continue
        inner = graph[n].attrs[0].graph
        if any(node.op not in ("input", "const") and (OPS[node.op].math is None or
                                                        node.shape is not None)
               for node in inner.nodes):
            return False
    return True


PRINTERS.update({"loop": _loop, "loop_grad": _loop_grad, "loop_out": _never,
                 "loop_grad_out": _never})
