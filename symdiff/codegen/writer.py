"""Code generation: the graph and its gradients as one straight-line Python function.

The emitted function reads like backprop written by hand: the forward statements with the user's
names, then one block per backward step, each under a comment naming the forward statement it
differentiates, gradients named ``d`` + the value's name. A value gets a line of its own when the
user named it, when it is used more than once (so nothing is computed twice), or when inlining it
would nest too deeply; everything else is inlined into its single consumer.

Two spellings share one plan: NumPy (arrays that broadcast) and pure-Python ``math`` (the scalar
specialization, for Python floats, where a NumPy ufunc call would cost a microsecond).
"""

from __future__ import annotations

import functools
import inspect
import keyword
import math
from collections import Counter
from dataclasses import dataclass, field

from .. import __version__
from . import loops as _loops  # registers the printers of rolled loops
from . import portable
from ..ir.graph import Graph
from ..runtime import HELPERS
from .inplace import InPlacePlan
from ..ops import OPS, PREC_ATOM, PREC_IFELSE, PREC_MUL, PREC_UNARY

MAX_INLINE_DEPTH = 8
QUIET = "\x00"  # marks a statement to run under np.errstate (see FunctionWriter._guarded)
INLINE_STRUCTURAL = frozenset({"transpose", "reshape"})  # cheap views read well inline: h.T @ d

CONVENTIONS = (
    "max/min send the whole gradient to the argument that won, to the first one on a tie, so\n"
    "relu'(0) = 0 and d max(0, x)/dx = 0 at x = 0; abs'(0) = 0; where() sends an exact zero\n"
    "to the branch it did not take; for x ** y (0 ** 0 = 1), d/dx = 0 where y = 0 and\n"
    "d/dy = 0 where x = 0."
)


@dataclass
class FunctionSpec:
    """What one generated function computes."""

    name: str
    params: list[str]
    outputs: list[int]
    grads: dict[str, int | None]
    adjoints: dict[int, int] = field(default_factory=dict)
    origin: dict[int, int] = field(default_factory=dict)
    output_names: list[str | None] = field(default_factory=list)
    value_name: str = "f"
    docstring: str = ""


class Namer:
    """Hands out identifiers that never collide with the user's names or with each other."""

    def __init__(self, reserved: set[str]):
        self.reserved = set(reserved)
        self.used: set[str] = set()
        self.counters: dict[str, int] = {}

    def claim(self, name: str) -> str:
        """The user's own name for a value; a later value of the same name gets a suffix."""
        if name not in self.used:
            self.used.add(name)
            return name
        return self.fresh(name)

    def numbered(self, base: str) -> str:
        """``t1``, ``t2``, ...: temporaries the user did not name."""
        k = self.counters.get(base, 0) + 1
        name = f"{base}{k}"
        while name in self.used or name in self.reserved:
            k += 1
            name = f"{base}{k}"
        self.counters[base] = k
        self.used.add(name)
        return name

    def fresh(self, base: str) -> str:
        if base not in self.used and base not in self.reserved and not keyword.iskeyword(base):
            self.used.add(base)
            return base
        k = self.counters.get(base + "_", 0)
        while True:
            k += 1
            name = f"{base}_{k}"
            if name not in self.used and name not in self.reserved:
                break
        self.counters[base + "_"] = k
        self.used.add(name)
        return name


class FunctionWriter:
    """Plans and prints one function (``mode`` is ``"numpy"`` or ``"math"``)."""

    # A rolled loop's step on floats (codegen/loops.py): the spelling of its guarded ops.
    float_spelling = None

    def __init__(self, graph: Graph, spec: FunctionSpec, reserved: set[str], mode: str = "numpy",
                 given: dict[int, str] | None = None):
        """``given`` names values computed before this function's statements run (the blocked
        driver's sums): they are read by name and never printed."""
        self.graph = graph
        self.spec = spec
        self.mode = mode
        self.portable = mode == "xp"  # the array-API spelling (stays set while it borrows NumPy's)
        self.helpers: set[str] = set()
        self.namer = Namer(reserved | set(spec.params))
        self.namer.used.update(spec.params)
        self.given = dict(given or {})
        self.namer.used.update(self.given.values())
        grad_roots = [g for g in spec.grads.values() if g is not None]
        forward = graph.reached(spec.outputs, stop=self.given)
        self.forward = set(forward)
        # In the order the statements run: every forward line, then every backward line (the
        # forward set holds all its ancestors, so this is a topological order too).
        self.nodes = forward + graph.reached(grad_roots, stop=self.given, exclude=forward)
        self.uses = self._count_uses(spec.outputs + grad_roots)
        self.names: dict[int, str] = dict(self.given)
        self.text: dict[int, tuple[str, int]] = {}
        self.inplace = InPlacePlan(self, enabled=mode == "numpy")
        self._plain = _plain_formats(mode)
        # The values that are a whole gradient (an input's, or a value's upstream gradient).
        self.gradient_sums = set(grad_roots) | set(spec.adjoints.values())

    # ---------------------------------------------------------------- planning
    def _count_uses(self, roots: list[int]) -> dict[int, int]:
        """How often each value is *printed*: an argument a spelling repeats counts twice, so
        it gets a name and is computed once."""
        nodes, given = self.graph.nodes, self.given
        printed: list[int] = []  # every argument as often as it is printed, counted in C below
        once: dict[str, bool] = {}  # per op: each argument printed once (pow: see printed_counts)
        for n in self.nodes:
            node = nodes[n]
            if n in given:
                continue
            plain = once.get(node.op)
            if plain is None:
                counts = self.printed_counts(node)
                plain = all(c == 1 for c in counts)
                if node.op != "pow":
                    once[node.op] = plain
            if plain:
                printed.extend(node.args)
            else:
                for arg, count in zip(node.args, self.printed_counts(node)):
                    printed.extend([arg] * count)
        printed.extend(roots)
        uses = dict.fromkeys(self.nodes, 0)
        uses.update(Counter(printed))
        return uses

    def _needs_line(self, n: int, node, depth: int) -> bool:
        """Whether the computed value ``n`` (``node``) gets a line of its own."""
        if self.uses[n] > 1 or depth > MAX_INLINE_DEPTH or n in self.graph.names \
                or n in self.spec.outputs:
            return True
        return OPS[node.op].kind == "structural" and node.op not in INLINE_STRUCTURAL \
            and not (node.op == "matmul" and self._term_of_gradient_sum(n))

    @functools.cached_property
    def user(self) -> dict[int, int]:
        """Each value's last user: its only one where the value is printed once."""
        nodes, user = self.graph.nodes, {}
        for n in self.nodes:
            if n not in self.given:
                for arg in nodes[n].args:
                    user[arg] = n
        return user

    def _term_of_gradient_sum(self, n: int) -> bool:
        """A backward matmul read once, by the sum of a gradient's terms that is not updated in
        place: it reads best inside that sum (``dW1 = 0.001 * W1 + X.T @ dt2``, not ``t9 = X.T @
        dt2`` first). A large sum keeps the line, whose buffer it adds into."""
        if n in self.forward or self.uses[n] != 1 or n not in self.user:
            return False
        user = self.user[n]
        return self.graph[user].op == "add" and user not in self.forward \
            and user in self.gradient_sums and not self.inplace.big(user)

    def _name_for(self, n: int, adjoint_of: dict[int, int], temp: str | None = None) -> str:
        """The name ``n``'s line assigns: the user's, the output's, ``d``+name for a gradient,
        else ``temp`` (the buffer it was computed into) or a numbered temporary."""
        graph, spec = self.graph, self.spec
        if n in spec.outputs:
            k = spec.outputs.index(n)
            given = spec.output_names[k] if k < len(spec.output_names) else None
            default = spec.value_name if len(spec.outputs) == 1 else f"{spec.value_name}{k}"
            return self.namer.claim(graph.names.get(n) or given or default)
        if n in graph.names and n in self.forward:
            return self.namer.claim(graph.names[n])
        if n in adjoint_of and n not in self.forward:
            return self.namer.fresh("d" + self._base_name(adjoint_of[n]))
        return temp or self.namer.numbered("t")

    def _base_name(self, n: int) -> str:
        """The name a gradient of ``n`` is ``d`` + : the value's own (``t3`` for ``dt3``); a value
        printed inline gets a number of the temporaries' series that no line will take, so its
        gradient ``dtK`` reads apart from every ``tK``."""
        node = self.graph[n]
        if node.op == "input":
            return node.attrs[0]
        return self.names.get(n) or self.graph.names.get(n) or self.namer.numbered("t")

    # ---------------------------------------------------------------- printing
    def expr(self, n: int, need: int = 0) -> str:
        """The text of node ``n``, parenthesized if its precedence is below ``need``."""
        name = self.names.get(n)
        if name is not None:
            return name
        node = self.graph.nodes[n]
        if node.op == "input":
            return node.attrs[0]
        if node.op == "const":
            text, prec = _literal(node.value, self.mode)
        else:
            text, prec = self.text[n]
        return f"({text})" if prec < need else text

    def _render(self, n: int) -> tuple[str, int]:
        node = self.graph.nodes[n]
        plain = self._plain.get(node.op) if self.float_spelling is None else None
        if plain is not None:  # most nodes: a format with the arguments in place
            fmt, arg_prec, prec, helpers = plain
            if helpers:
                self.helpers.update(helpers)
            # (An argument with a name of its own is read without a call: most are.)
            named, expr, args = self.names.get, self.expr, node.args
            if len(args) == 2:
                return fmt % (named(args[0]) or expr(args[0], arg_prec[0]),
                              named(args[1]) or expr(args[1], arg_prec[1])), prec
            if len(args) == 1:
                return fmt % (named(args[0]) or expr(args[0], arg_prec[0]),), prec
            return fmt % tuple(expr(a, p) for a, p in zip(args, arg_prec)), prec
        spec = OPS[node.op]
        if self.mode == "xp":
            return self._render_portable(n, node, spec)
        self.helpers.update(spec.math_helpers if self.mode == "math" else spec.helpers)
        if spec.statement is not None:
            return "", PREC_ATOM  # printed as whole statements by body()
        if self.mode == "math" and node.op == "index":
            return spec.printer(self, node)  # x_list[i]: a rolled loop's step on floats
        if self.float_spelling is not None and node.op in _loops.GUARDS:
            # A rolled loop's step on floats: math.log(t) if t > 0.0 else np.log(t)
            return self.float_spelling(node.op).format(*(self.expr(a, PREC_ATOM) for a in node.args)), \
                PREC_IFELSE
        fmt = spec.math if self.mode == "math" else spec.numpy
        if fmt is None:
            raise NotImplementedError(f"{node.op} has no {self.mode} spelling")
        if spec.printer is not None and self.mode == "numpy":
            return spec.printer(self, node)
        if self.mode == "math" and node.op == "pow" and self._is_square(node):
            base = self.expr(node.args[0], spec.arg_prec[0])
            return f"{base} * {base}", PREC_MUL  # x * x: twice as fast as x ** 2.0
        if self.mode == "math" and node.op == "pow" and not _integral(self.graph, node.args[1]):
            # float ** float is complex for a negative base; math.pow raises ValueError instead,
            # and the call falls back to NumPy's nan.
            return f"math.pow({self.expr(node.args[0])}, {self.expr(node.args[1])})", PREC_ATOM
        args = [self.expr(a, spec.arg_prec[i]) for i, a in enumerate(node.args)]
        prec = PREC_IFELSE if self.mode == "math" and node.op == "where" else spec.prec
        return fmt.format(*args), prec

    def _render_portable(self, n: int, node, spec) -> tuple[str, int]:
        """The array-API spelling: the NumPy text read with ``xp``, or the op's own printer."""
        portable.check(node)
        self.helpers |= portable.helpers(set(spec.helpers))
        if node.op in portable.EXTRA_HELPERS:
            self.helpers.add(portable.EXTRA_HELPERS[node.op])
        if node.op in portable.PRINTERS:
            return portable.PRINTERS[node.op](self, node)
        if spec.xp is not None:  # the standard names it differently (np.arcsin: xp.asin)
            return spec.xp.format(*(self.expr(a) for a in node.args)), spec.prec
        if spec.statement is not None:
            return "", PREC_ATOM
        kept, self.mode = set(self.helpers), "numpy"
        try:
            text, prec = self._render(n)
        finally:
            self.mode, self.helpers = "xp", kept
        return portable.translate(text), prec

    def _statement(self, node):
        """The multi-statement printer of an op in this spelling, if it has one."""
        if self.mode == "xp" and node.op in portable.STATEMENTS:
            return portable.STATEMENTS[node.op]
        return OPS[node.op].statement

    def body(self) -> tuple[list[str], list[str]]:
        """Plan names and print the statements: (forward lines, backward lines)."""
        graph, spec = self.graph, self.spec
        adjoint_of: dict[int, int] = {}
        for fwd in sorted(spec.adjoints, reverse=True):
            adjoint_of.setdefault(spec.adjoints[fwd], fwd)
        grad_owner = {g: name for name, g in spec.grads.items() if g is not None}
        depth: dict[int, int] = {}
        forward: list[str] = []
        backward: list[str] = []
        last_origin = None
        masked = self._masked_only()
        self.quiet: dict[int, bool] = {}
        reuse, host = self.inplace.enabled, None  # (no buffer is reused: skip its bookkeeping)
        # (Locals: this loop runs for every node of large programs.)
        nodes, names, quiets, given, text = graph.nodes, self.names, self.quiet, self.given, self.text
        numpy_mode = self.mode == "numpy"
        for n in self.nodes:
            node = nodes[n]
            if node.op in ("input", "const") or n in given:
                continue
            deepest = 0  # (a value with a name has depth 0)
            for a in node.args:
                inner = depth.get(a, 0)
                if inner > deepest:
                    deepest = inner
            depth[n] = deepest = deepest + 1
            # Quiet: computed under np.errstate, as is an expression printed inline in it.
            quiet = numpy_mode and (n in masked or OPS[node.op].quiet or any(
                quiets[a] for a in node.args if a not in names and a in quiets))
            quiets[n] = quiet
            text[n] = self._render(n)
            if reuse:
                self.inplace.note_reads(n)
                host = self.inplace.host(n)
            if not self._needs_line(n, node, deepest) and n not in grad_owner and host is None \
                    and not (reuse and self.inplace.needs_line(n)):
                continue
            lines = forward if n in self.forward else backward
            origin = spec.origin.get(n)
            if n not in self.forward and origin is not None and origin != last_origin:
                backward.append(f"# backprop {self._describe(origin)}")
                last_origin = origin
            buffer = self.names[host] if host is not None else None
            if n in grad_owner and n not in self.names and self.uses[n] == 1 \
                    and n not in adjoint_of:
                name = self.namer.fresh("d" + grad_owner[n])
            else:
                name = self._name_for(n, adjoint_of, buffer)
            lines.extend(self._mark_quiet(self._lines(n, name, host), self.quiet[n]))
            if reuse:
                self.inplace.printed(n)
            self.names[n] = name
            depth[n] = 0
        return forward, backward + self._gradient_lines()

    def printed_counts(self, node) -> tuple[int, ...]:
        """How many times each argument appears in the node's printed text."""
        if not node.args:
            return ()
        if node.op == "pow" and self.mode == "math" and self._is_square(node):
            return (2, 1)
        if self.float_spelling is not None and node.op in _loops.GUARDS:
            text = self.float_spelling(node.op)
            return tuple(max(1, text.count("{%d}" % k)) for k in range(len(node.args)))
        return OPS[node.op].arg_uses(self.mode)

    def _lines(self, n: int, name: str, host: int | None) -> list[str]:
        """The statements that compute ``n`` into ``name``: in the memory of a dead operand
        (``host``), as a multi-statement op, or as one assignment."""
        node = self.graph[n]
        if host is not None:
            # Comments quote it as ``name = formula of the operands``: ``t1 = t1 + b1`` for an
            # update in place, as the statement it stands for.
            return self.inplace.statements(n, host, self.names[host], name)
        statement = self._statement(node)
        if statement:
            return statement(self, node, name)
        return self.inplace.fresh_sequence(n, name) or [f"{name} = {self.text[n][0]}"]

    def _is_square(self, node) -> bool:
        return self.graph.is_const(node.args[1], 2.0)

    def _masked_only(self) -> set[int]:
        """Nodes whose every use is a branch of where() (or another such node): their values
        matter only where the mask selects them, so NumPy's warnings about the others (sqrt of a
        negative, a division by zero) are noise."""
        if self.mode != "numpy":
            return set()
        uses: dict[int, list[tuple[int, int]]] = {n: [] for n in self.nodes}
        for n in self.nodes:
            for position, arg in enumerate(() if n in self.given else self.graph[n].args):
                uses[arg].append((n, position))
        roots = set(self.spec.outputs) | {g for g in self.spec.grads.values() if g is not None}
        masked: set[int] = set()
        for n in reversed(self.nodes):
            if n not in roots and uses[n] and all(
                    (self.graph[c].op == "where" and position > 0) or c in masked
                    for c, position in uses[n]):
                masked.add(n)
        return masked

    @staticmethod
    def _mark_quiet(lines: list[str], quiet: bool) -> list[str]:
        return [QUIET + line for line in lines] if quiet else lines

    def _describe(self, n: int) -> str:
        if self.graph[n].op == "input":
            return f"{self.graph[n].attrs[0]}: it is used more than once, so its gradients add up"
        if n in self.names:
            return f"{self.names[n]} = {self.text[n][0]}"
        if n not in self.text and self.graph[n].op not in ("input", "const"):
            return f"a {OPS[self.graph[n].op].gate} step of the first backward pass"
        return self.expr(n)

    def _gradient_lines(self) -> list[str]:
        lines = []
        self.grad_names: dict[str, str] = {}
        for name, g in self.spec.grads.items():
            if g is None:
                if self.mode == "math":
                    zero = "0.0"
                elif self.mode == "xp":
                    zero = portable.translate(f"_sum_to(0.0, np.shape({name}))")
                    self.helpers.add("_sum_to")
                else:  # zeros of the input's float type (float32 stays float32)
                    zero = f"np.zeros_like({name}, dtype=np.result_type({name}, 0.0))"
                target = self.namer.fresh("d" + name)
                lines.append(f"{target} = {zero}")
            elif self.names.get(g, "").startswith("d" + name) and g not in self.spec.adjoints:
                target = self.names[g]
            else:
                target = self.namer.fresh("d" + name)
                lines += self._mark_quiet([f"{target} = {self.expr(g)}"],
                                          self.quiet.get(g, False))
            self.grad_names[name] = target
        return lines

    def _signature(self, name: str, params: list[str]) -> list[str]:
        doc = [f'    """{self.spec.docstring}"""'] if self.spec.docstring else []
        return [f"def {name}({', '.join(params)}):"] + doc

    def _value_text(self) -> str:
        values = [self.expr(o) for o in self.spec.outputs]
        return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"

    def _grads_text(self) -> str:
        return "{" + ", ".join(f'"{k}": {v}' for k, v in self.grad_names.items()) + "}"

    def function(self, prologue: list[str] | None = None) -> str:
        """One function: forward, then backward; returns (value, grads). A ``prologue`` (the
        blocked driver's loop) computes the ``given`` values first."""
        forward, backward = self.body()
        out = self._signature(self.spec.name, self.spec.params)
        if self.mode == "xp":
            forward = [f"xp = _namespace({', '.join(self.spec.params)})"] + forward
        if prologue is not None:
            lines = prologue + (["", "# after the blocks"] + forward + backward
                                if forward or backward else [])
        else:
            lines = ["# forward"] + forward + ["", "# backward"] + backward
        out += self._guarded(lines + [f"return {self._value_text()}, {self._grads_text()}"])
        return "\n".join(out)

    def _guarded(self, lines: list[str]) -> list[str]:
        """Indent a body, putting each run of statements marked quiet (they compute values that
        where() may discard) under ``np.errstate``."""
        out: list[str] = []
        run: list[str] = []
        for line in lines + [""]:
            if line.startswith(QUIET):
                run.append(line[len(QUIET):])
                continue
            if run:
                out.append('with np.errstate(divide="ignore", invalid="ignore", over="ignore"):')
                out += _indent(run)
                run = []
            out.append(line)
        return _indent(out[:-1])

    def layer_functions(self, inputs: list[str], seeds: list[str], names: tuple[str, str],
                        docs: tuple[str, str]) -> tuple[str, str]:
        """The forward/backward pair of a seeded graph: ``forward(inputs) -> (out, cache)`` and
        ``backward(dout, cache) -> grads``; the cache holds exactly what the backward reads."""
        self.inplace.split = True
        forward, backward = self.body()
        cached = self._cache_names(set(seeds))
        self.spec.docstring = docs[0]
        fwd = self._signature(names[0], inputs) + self._guarded(
            forward + [f"return {self._value_text()}, "
                       "{" + ", ".join(f'"{c}": {c}' for c in cached) + "}"])
        self.spec.docstring = docs[1]
        bwd = self._signature(names[1], ["dout", "cache"])
        unpack = [f"{', '.join(seeds)}, = dout" if len(seeds) > 1 or seeds != ["dout"] else ""]
        unpack += [f'{c} = cache["{c}"]' for c in cached]
        bwd += self._guarded([u for u in unpack if u] + backward +
                             [f"return {self._grads_text()}"])
        return "\n".join(fwd), "\n".join(bwd)

    def _cache_names(self, seeds: set[str]) -> list[str]:
        """Names of the forward values (and inputs) that backward statements read."""
        graph = self.graph
        read: set[int] = set()
        for n in self.nodes:
            if n not in self.forward:
                read.update(a for a in graph[n].args if a in self.forward)
        read.update(g for g in self.spec.grads.values() if g is not None and g in self.forward)
        read.update(graph.inputs[name] for name, g in self.spec.grads.items() if g is None)
        names = [self.expr(n) for n in sorted(read)
                 if graph[n].op != "const" and self.expr(n) not in seeds]
        return list(dict.fromkeys(names))


@functools.cache
def _plain_formats(mode: str) -> dict[str, tuple[str, tuple[int, ...], int, tuple[str, ...]]]:
    """Per op, what ``_render`` needs where a node is its format with the arguments filled in
    (no printer, no statement, no spelling that depends on the arguments, each argument once and
    in order): the format in ``%`` style (twice as fast as ``str.format``), each argument's
    precedence, the result's and the helpers it calls."""
    if mode not in ("numpy", "math"):
        return {}
    special = {"index", "pow", "where"} if mode == "math" else set()
    table = {}
    for op, spec in OPS.items():
        fmt = spec.math if mode == "math" else spec.numpy
        if fmt is None or spec.statement is not None or op in special or \
                spec.printer is not None and mode == "numpy" or \
                not 0 <= spec.arity <= len(spec.arg_prec):
            continue
        percent = _percent_style(fmt, spec.arity)
        if percent is None:
            continue
        helpers = tuple(spec.math_helpers if mode == "math" else spec.helpers)
        table[op] = (percent, spec.arg_prec[:spec.arity], spec.prec, helpers)
    return table


def _percent_style(fmt: str, arity: int) -> str | None:
    """``"{0} * {1}"`` as ``"%s * %s"``; None where the arguments are not each there once, in
    order, or the format has other fields."""
    fields = [f"{{{k}}}" for k in range(arity)]
    rest = fmt
    for spot in fields:
        if rest.count(spot) != 1:
            return None
        rest = rest.replace(spot, "", 1)
    if "{" in rest or "}" in rest or [fmt.index(f) for f in fields] != \
            sorted(fmt.index(f) for f in fields):
        return None
    percent = fmt.replace("%", "%%")
    for spot in fields:
        percent = percent.replace(spot, "%s")
    return percent


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else "" for line in lines]


def _integral(graph: Graph, node_id: int) -> bool:
    node = graph[node_id]
    return node.op == "const" and math.isfinite(node.value) and node.value.is_integer()


def _literal(value: float, mode: str = "numpy") -> tuple[str, int]:
    """Constants print as floats: ``np.where(c, 1, 0)`` would make an integer array."""
    if not math.isfinite(value):
        module = "math" if mode == "math" else "np"
        text = f"{'-' if value < 0 else ''}{module}.{'nan' if value != value else 'inf'}"
        return text, (PREC_UNARY if text.startswith("-") else PREC_ATOM)
    text = repr(value)
    return text, (PREC_UNARY if text.startswith("-") else PREC_ATOM)


def helper_source(names: set[str]) -> list[str]:
    return [inspect.getsource(HELPERS[name]).rstrip() for name in sorted(names)]


def module(functions: list[str], helpers: set[str], header: str, uses_math: bool) -> str:
    """Assemble a standalone module: header docstring, imports, helpers, functions."""
    parts = [header.rstrip(), ""]
    if uses_math:
        parts.append("import math")
        parts.append("")
    parts.append("import numpy as np")
    for text in helper_source(helpers) + functions:
        parts += ["", "", text]
    return "\n".join(parts) + "\n"


def header(source: str, summary: str) -> str:
    """The module docstring: what it computes, the source it came from and the conventions."""
    source_lines = "\n".join("    " + line for line in source.strip().splitlines())
    conventions = "\n".join("    " + line for line in CONVENTIONS.splitlines())
    text = (f"{summary}\n\nGenerated by symdiff {__version__}: regenerate it rather than edit it.\n"
            f"\nSource:\n{source_lines}\n\nConventions at kinks:\n{conventions}\n")
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
