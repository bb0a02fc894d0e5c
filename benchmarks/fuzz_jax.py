"""Differential fuzzer: symdiff against NumPy (values) and JAX (vector-Jacobian products).

    python -m benchmarks.fuzz_jax --n 3000 --seed 0            # 2 worker processes by default
    python -m benchmarks.fuzz_jax --n 50 --seed 7 --show       # print every program
    python -m benchmarks.fuzz_jax --replay 1234                # one program, verbosely

Each program is the source text of one ``def`` written with ``np.``, generated at random together
with its inputs: elementwise functions, broadcasting binaries, reductions, products, linear
algebra on well-conditioned matrices, shape functions, indexing, tuple outputs, names that collide
with the names generated code uses, and Python constructs (branches on values, helpers, loops,
in-place updates, lists). Every sub-expression is evaluated with NumPy while it is generated, so
domains are safe (log of positives, ...) and values stay away from kinks and discontinuities.

For each program: ``symdiff.compile`` it; its value must equal NumPy's; its VJP with a random
``dout`` (and its gradient of the sum) must equal ``jax.vjp`` of the same text run with
``jax.numpy`` (rtol 1e-7). A disagreement is confirmed with central differences before it counts
as wrong. The written module (``exec(g.source)``, then the program's function, and its
``_forward``/``_backward`` pair) must give the same numbers as ``g``; the caller's arrays must not
change. Outcomes:

* ``ok``       everything agrees (or only JAX disagrees and central differences side with symdiff);
* ``wrong``    a value or gradient that NumPy / central differences contradict;
* ``crash``    an exception that is not ``symdiff.SymdiffError`` (or a hang);
* ``refused``  a ``SymdiffError`` on a valid program that NumPy runs;
* ``kink``     symdiff, JAX and central differences all disagree (inspect by hand);
* ``invalid``  the generator made a program NumPy itself cannot run (a fuzzer bug; ignored).

The program text is the fuzzer's own generated text, so running it with ``exec`` is fine here.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import signal
import sys
import time
import traceback
import warnings
from collections import Counter

import numpy as np

SHAPES = [(), (), (1,), (2,), (3,), (4,), (2, 3), (3, 2), (1, 3), (3, 1), (2, 2), (3, 3), (1, 1),
          (2, 3, 2), (2, 1, 3), (3, 2, 2), (1, 2, 3), (2, 2, 2), (4, 2)]
PARAM_NAMES = ["x", "y", "z", "w", "v", "out", "t1", "f0", "dx", "value", "X", "W1", "b1", "_a",
               "result", "df0", "t2", "x_1", "dout0", "out0"]
LOCAL_NAMES = ["a", "b", "c", "h", "u", "out", "t1", "t2", "t3", "f0", "f1", "df0", "dx", "dy",
               "dz", "value", "result", "tmp", "_t1", "f_forward", "f_scalar", "e", "s", "grad",
               "out0", "dout0", "dout1", "x_1", "t4", "df1", "_out", "pi", "f_backward", "fn"]
FN_NAMES = ["f", "f", "f", "loss", "out", "t1", "value", "forward", "f_forward", "model", "_f",
            "result", "fn", "dx", "df0"]
MARGIN = 0.02
MAXABS = 1e3


class Reject(Exception):
    """The generator could not build what it wanted; try something else."""


class V:
    """A generated expression: NumPy text, JAX text (differs for list indices), and its value."""

    __slots__ = ("t", "j", "v")

    def __init__(self, t, j, v):
        self.t, self.j, self.v = t, j, v

    @property
    def shape(self):
        return np.shape(self.v)


def _atom(text: str) -> str:
    """The text in parentheses unless it is a name, a call, a subscript, an attribute or a
    non-negative number (which bind tighter than any operator a template puts around them)."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return f"({text})"
    if isinstance(node, (ast.Name, ast.Call, ast.Subscript, ast.Attribute)):
        return text
    if isinstance(node, ast.Constant) and not text.startswith("-"):
        return text
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for k, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and k < len(text) - 1:
                break
        else:
            return text
    return f"({text})"


def _ok_value(v) -> bool:
    a = np.asarray(v)
    if a.dtype.kind not in "fiub":
        return False
    return bool(np.all(np.isfinite(a))) and (a.size == 0 or float(np.max(np.abs(a))) < MAXABS)


def _sep(v, axis=None) -> float:
    """The smallest gap between sorted values along an axis (inf for one value)."""
    a = np.asarray(v, dtype=float)
    if axis is None:
        a = a.reshape(-1)
        axis = 0
    if a.shape[axis] < 2:
        return np.inf
    d = np.diff(np.sort(a, axis=axis), axis=axis)
    return float(np.min(d)) if d.size else np.inf


def _top_gap(v, axis=None, largest=True) -> float:
    """The gap between the best and the second best value along an axis (inf for one value)."""
    a = np.asarray(v, dtype=float)
    if axis is None:
        a = a.reshape(-1)
        axis = 0
    if not isinstance(axis, tuple):
        axis = (axis,)
    axis = tuple(ax % a.ndim for ax in axis)
    rest = [ax for ax in range(a.ndim) if ax not in axis]
    a = np.transpose(a, rest + list(axis)).reshape([a.shape[r] for r in rest] + [-1])
    if a.shape[-1] < 2:
        return np.inf
    s = np.sort(a, axis=-1)
    g = (s[..., -1] - s[..., -2]) if largest else (s[..., 1] - s[..., 0])
    return float(np.min(g)) if g.size else np.inf


def _frac_gap(q) -> float:
    q = np.asarray(q, dtype=float)
    return float(np.min(np.abs(q - np.round(q)))) if q.size else np.inf


class Gen:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.env: dict = {}            # name -> current NumPy value
        self.params: list = []         # (name, kind) kind: float | array | int | intarr
        self.args: dict = {}
        self.lines: list = []          # (indent, numpy text, jax text)
        self.helpers: list = []        # top-level helper defs (numpy text == jax text)
        self.helper_names: list = []
        self.used: set = set()         # names read so far (setitem on a param needs none)
        self.depth_budget = 0
        self.n_params_max = rng.choice([1, 2, 3, 3, 4, 4, 5, 6])
        self.float_only = rng.random() < 0.08   # Python floats only: the math twin
        self.features: Counter = Counter()

    # ---------------------------------------------------------------- evaluation
    def ev(self, template: str, *children, env=None):
        env = dict(self.env if env is None else env)
        names = []
        for k, c in enumerate(children):
            env[f"_c{k}_"] = c.v if isinstance(c, V) else c
            names.append(f"_c{k}_")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                try:
                    v = eval(template.format(*names), {"np": np}, env)
                except Exception as e:  # noqa: BLE001 - any failure: reject the candidate
                    raise Reject(f"{template}: {e}") from None
        if isinstance(v, (list, tuple)):
            return v
        if not _ok_value(v):
            raise Reject("value out of range")
        return v

    def node(self, template: str, *children, jtemplate: str | None = None, feature=None):
        v = self.ev(template, *children)
        t = template.format(*[_atom(c.t) for c in children])
        j = (jtemplate or template).format(*[_atom(c.j) for c in children])
        if feature:
            self.features[feature] += 1
        return V(t, j, v)

    # ---------------------------------------------------------------- leaves and params
    def new_param(self, shape, positive=False):
        taken = {p for p, _ in self.params} | set(self.env) | set(self.helper_names)
        names = [n for n in PARAM_NAMES if n not in taken]
        name = self.rng.choice(names)
        lo, hi = (0.5, 2.0) if positive else (-2.0, 2.0)
        if shape == () and (self.float_only or self.rng.random() < 0.5):
            value = round(self.rng.uniform(lo, hi), 6)
            kind = "float"
        else:
            value = np.array([self.rng.uniform(lo, hi) for _ in range(int(np.prod(shape)))]
                             ).reshape(shape)
            kind = "array"
        self.params.append((name, kind))
        self.args[name] = value
        self.env[name] = value
        return name

    def floats_in_env(self, shape):
        return [n for n, v in self.env.items()
                if np.shape(v) == shape and np.asarray(v).dtype.kind == "f"]

    def leaf(self, shape):
        r = self.rng
        have = self.floats_in_env(shape)
        if shape == () and r.random() < 0.15:
            c = round(r.uniform(-2, 2), 3)
            return V(repr(c), repr(c), c)
        if have and (r.random() < 0.7 or len(self.params) >= self.n_params_max):
            name = r.choice(have)
            self.used.add(name)
            return V(name, name, self.env[name])
        if len(self.params) < self.n_params_max:
            name = self.new_param(shape, positive=r.random() < 0.3)
            self.used.add(name)
            return V(name, name, self.env[name])
        # no room for a parameter: derive from an existing one
        src = [n for n, v in self.env.items() if np.asarray(v).dtype.kind == "f"]
        name = r.choice(src)
        self.used.add(name)
        base = V(name, name, self.env[name])
        if np.size(base.v) == int(np.prod(shape)) and shape != ():
            return self.node("np.reshape({0}, %r)" % (shape,), base)
        return self.node("np.sum({0}) * np.ones(%r)" % (shape,) if shape != () else "np.sum({0})",
                         base)

    # ---------------------------------------------------------------- expressions
    def gen(self, shape, depth):
        r = self.rng
        if depth <= 0 or r.random() < 0.18:
            return self.leaf(shape)
        families = [(self.g_unary, 22), (self.g_binary, 24), (self.g_reduce, 11),
                    (self.g_product, 9), (self.g_linalg, 3), (self.g_shape, 12),
                    (self.g_index, 11), (self.g_const, 2)]
        for _ in range(6):
            fam = r.choices([f for f, _ in families], [w for _, w in families])[0]
            try:
                out = fam(shape, depth - 1)
            except Reject:
                continue
            if out is not None and out.shape == tuple(shape):
                return out
        return self.leaf(shape)

    def g_const(self, shape, depth):
        r = self.rng
        if shape == ():
            return self.leaf(shape)
        k = r.randrange(4)
        if k == 0:
            return self.node("np.ones(%r)" % (shape,), feature="ones")
        if k == 1:
            n = int(np.prod(shape))
            return self.node("np.arange(%d.0).reshape(%r) * 0.25" % (n, shape), feature="arange")
        if k == 2 and len(shape) == 2 and shape[0] == shape[1]:
            return self.node("np.eye(%d)" % shape[0], feature="eye")
        n = int(np.prod(shape))
        return self.node("np.linspace(-1.0, 1.0, %d).reshape(%r)" % (n, shape), feature="linspace")

    UNARY = [
        # template, domain check on the operand, fixer name
        ("np.exp({0})", lambda a: np.max(a) < 5, "small"),
        ("np.log({0})", lambda a: np.min(a) > 0.1, "pos"),
        ("np.sin({0})", None, None), ("np.cos({0})", None, None), ("np.tanh({0})", None, None),
        ("np.sqrt({0})", lambda a: np.min(a) > 0.1, "pos"),
        ("np.abs({0})", lambda a: np.min(np.abs(a)) > MARGIN, None),
        ("np.sinh({0})", lambda a: np.max(np.abs(a)) < 5, "small"),
        ("np.cosh({0})", lambda a: np.max(np.abs(a)) < 5, "small"),
        ("np.arctan({0})", None, None), ("np.arcsinh({0})", None, None),
        ("np.log1p({0})", lambda a: np.min(a) > -0.9, "pos"),
        ("np.expm1({0})", lambda a: np.max(a) < 5, "small"),
        ("np.exp2({0})", lambda a: np.max(a) < 5, "small"),
        ("np.cbrt({0})", lambda a: np.min(np.abs(a)) > 0.1, "pos"),
        ("np.reciprocal({0})", lambda a: np.min(np.abs(a)) > 0.2, "pos"),
        ("1.0 / {0}", lambda a: np.min(np.abs(a)) > 0.2, "pos"),
        ("np.square({0})", None, None), ("-{0}", None, None), ("np.negative({0})", None, None),
        ("{0} ** 2", None, None), ("{0} ** 3", lambda a: np.max(np.abs(a)) < 8, "small"),
        ("{0} ** 0.5", lambda a: np.min(a) > 0.1, "pos"),
        ("{0} ** -1", lambda a: np.min(np.abs(a)) > 0.2, "pos"),
        ("{0} ** 1.5", lambda a: np.min(a) > 0.1, "pos"),
        ("{0} ** -0.5", lambda a: np.min(a) > 0.1, "pos"),
        ("2.0 ** {0}", lambda a: np.max(a) < 5, "small"),
        ("np.power({0}, 3)", lambda a: np.max(np.abs(a)) < 8, "small"),
        ("np.log2({0})", lambda a: np.min(a) > 0.1, "pos"),
        ("np.log10({0})", lambda a: np.min(a) > 0.1, "pos"),
        ("np.arcsin({0})", lambda a: np.max(np.abs(a)) < 0.9, "unit"),
        ("np.arccos({0})", lambda a: np.max(np.abs(a)) < 0.9, "unit"),
        ("np.arctanh({0})", lambda a: np.max(np.abs(a)) < 0.9, "unit"),
        ("np.arccosh({0})", lambda a: np.min(a) > 1.1, "gt1"),
        ("np.tan({0})", lambda a: np.max(np.abs(a)) < 1.2, "unit"),
        ("np.deg2rad({0})", None, None),
        ("{0} % 1.5", lambda a: _frac_gap(np.asarray(a) / 1.5) > MARGIN, None),
        ("np.mod({0}, 0.7)", lambda a: _frac_gap(np.asarray(a) / 0.7) > MARGIN, None),
        ("np.fmod({0}, 0.9)", lambda a: _frac_gap(np.asarray(a) / 0.9) > MARGIN
         and np.min(np.abs(a)) > MARGIN, None),
        ("np.floor({0})", lambda a: _frac_gap(a) > MARGIN, None),
        ("{0} // 0.5", lambda a: _frac_gap(np.asarray(a) / 0.5) > MARGIN, None),
        ("np.clip({0}, -0.5, 0.7)", lambda a: np.min(np.abs(np.asarray(a) + 0.5)) > MARGIN
         and np.min(np.abs(np.asarray(a) - 0.7)) > MARGIN, None),
        ("np.sign({0}) * {0}", lambda a: np.min(np.abs(a)) > MARGIN, None),
        ("np.maximum({0}, 0)", lambda a: np.min(np.abs(a)) > MARGIN, None),
        ("np.where({0} > 0.3, {0} * 2.0, np.sin({0}))",
         lambda a: np.min(np.abs(np.asarray(a) - 0.3)) > MARGIN, None),
        ("np.where({0} > 0.1, np.sqrt(np.abs({0})), 0.0)",
         lambda a: np.min(np.abs(np.asarray(a) - 0.1)) > MARGIN, None),
        ("np.sinc({0})", lambda a: np.min(np.abs(a)) > 0.05, None),
        ("({0} * 1.0)", None, None), ("np.positive({0})", None, None),
    ]
    FIXERS = {"pos": "({0} * {0} + 0.5)", "small": "np.tanh({0})", "unit": "(np.tanh({0}) * 0.8)",
              "gt1": "({0} * {0} + 1.2)"}

    def g_unary(self, shape, depth):
        r = self.rng
        tmpl, check, fixer = r.choice(self.UNARY)
        a = self.gen(shape, depth)
        if check is not None and not check(np.asarray(a.v)):
            if fixer is None:
                raise Reject("domain")
            a = self.node(self.FIXERS[fixer], a)
            if not check(np.asarray(a.v)):
                raise Reject("domain")
        name = tmpl.split("(")[0] if tmpl.startswith("np.") else tmpl
        return self.node(tmpl, a, feature=name)

    def bshape(self, shape):
        """A shape that broadcasts to ``shape``."""
        r = self.rng
        s = [d if r.random() < 0.6 else 1 for d in shape]
        drop = r.randrange(len(s) + 1) if r.random() < 0.3 else 0
        return tuple(s[drop:])

    def partner(self, shape, sa):
        """A shape sb with broadcast(sa, sb) == shape."""
        r = self.rng
        off = len(shape) - len(sa)
        sb = []
        for i, d in enumerate(shape):
            covered = i >= off and sa[i - off] == d
            sb.append(r.choice([1, d]) if covered else d)
        k = 0
        while k < len(sb) and k < off + len(sa) and r.random() < 0.3:
            i = k
            if i >= off and sa[i - off] == shape[i]:
                k += 1
            else:
                break
        return tuple(sb[k:])

    BINARY = [
        ("({0} + {1})", None), ("({0} - {1})", None), ("({0} * {1})", None),
        ("({0} / {1})", lambda a, b: np.min(np.abs(b)) > 0.2),
        ("np.hypot({0}, {1})", lambda a, b: np.min(np.hypot(a, b)) > 0.1),
        ("np.arctan2({0}, {1})", lambda a, b: np.min(np.hypot(a, b)) > 0.1 and
         np.min(np.where(np.asarray(b) < 0, np.abs(a), 1.0)) > MARGIN),
        ("np.logaddexp({0}, {1})", None), ("np.logaddexp2({0}, {1})", None),
        ("np.maximum({0}, {1})", lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.minimum({0}, {1})", lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.fmax({0}, {1})", lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.fmin({0}, {1})", lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.where({0} > {1}, {0}, {1} * 0.5)",
         lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.where({0} <= {1}, np.sin({0}), {1})",
         lambda a, b: np.min(np.abs(np.subtract(a, b))) > MARGIN),
        ("np.where(({0} > 0) & ({1} < 0.5), {0} * {1}, {0} - {1})",
         lambda a, b: np.min(np.abs(a)) > MARGIN and np.min(np.abs(np.subtract(b, 0.5))) > MARGIN),
        ("(np.abs({0}) + 0.2) ** {1}", lambda a, b: np.max(np.abs(b)) < 3),
        ("np.power(np.abs({0}) + 0.3, {1})", lambda a, b: np.max(np.abs(b)) < 3),
        ("np.float_power(np.abs({0}) + 0.3, {1})", lambda a, b: np.max(np.abs(b)) < 3),
        ("np.mod({0}, np.abs({1}) + 0.5)",
         lambda a, b: _frac_gap(np.asarray(a) / (np.abs(b) + 0.5)) > MARGIN),
        ("np.copysign({0}, {1})", lambda a, b: np.min(np.abs(b)) > MARGIN
         and np.min(np.abs(a)) > MARGIN),
        ("np.add({0}, {1})", None), ("np.subtract({0}, {1})", None),
        ("np.multiply({0}, {1})", None),
        ("np.true_divide({0}, {1})", lambda a, b: np.min(np.abs(b)) > 0.2),
        ("np.heaviside({0}, 0.5) * {1}", lambda a, b: np.min(np.abs(a)) > MARGIN),
    ]

    def g_binary(self, shape, depth):
        r = self.rng
        if r.random() < 0.2:  # with a Python constant on either side
            c = round(r.uniform(-2, 2), 2) or 1.5
            a = self.gen(shape, depth)
            tmpl = r.choice(["({0} * %r)", "(%r - {0})", "({0} + %r)", "(%r * {0})",
                             "({0} / %r)", "np.maximum({0}, %r)", "np.minimum(%r, {0})"]) % c
            if "max" in tmpl or "min" in tmpl:
                if np.min(np.abs(np.asarray(a.v) - c)) < MARGIN:
                    raise Reject("kink")
            return self.node(tmpl, a, feature="binary-const")
        tmpl, check = r.choice(self.BINARY)
        sa = tuple(shape) if r.random() < 0.5 else self.bshape(shape)
        sb = self.partner(shape, sa)
        if r.random() < 0.5:
            sa, sb = sb, sa
        if np.broadcast_shapes(sa, sb) != tuple(shape):
            raise Reject("broadcast")
        a = self.gen(sa, depth)
        b = self.gen(sb, depth)
        if check is not None and not check(np.asarray(a.v), np.asarray(b.v)):
            raise Reject("domain")
        return self.node(tmpl, a, b, feature=tmpl.split("(")[0] or "arith")

    # ---------------------------------------------------------------- reductions
    def g_reduce(self, shape, depth):
        r = self.rng
        shape = tuple(shape)
        op = r.choice(["sum", "mean", "max", "min", "prod", "var", "std", "sum", "mean", "amax",
                       "cumsum", "cumprod", "diff", "norm", "average", "logsumexp"])
        if op in ("cumsum", "cumprod"):
            if not shape:
                raise Reject("cum of scalar")
            if r.random() < 0.25 and len(shape) == 1:
                src = r.choice([(shape[0],), (1, shape[0])] + [
                    s for s in SHAPES if int(np.prod(s)) == shape[0] and s])
                a = self.gen(tuple(src), depth)
                if op == "cumprod" and np.max(np.abs(a.v)) > 3:
                    a = self.node("np.tanh({0})", a)
                return self.node(f"np.{op}({{0}})", a, feature=op)
            ax = r.randrange(len(shape))
            axt = ax if r.random() < 0.5 else ax - len(shape)
            a = self.gen(shape, depth)
            if op == "cumprod" and np.max(np.abs(a.v)) > 3:
                a = self.node("np.tanh({0})", a)
            t = r.choice([f"np.{op}({{0}}, axis={axt})", f"{{0}}.{op}(axis={axt})"])
            return self.node(t, a, feature=op)
        if op == "diff":
            if not shape:
                raise Reject("diff of scalar")
            ax = r.randrange(len(shape))
            n = r.choice([1, 1, 2])
            src = list(shape)
            src[ax] += n
            a = self.gen(tuple(src), depth)
            nt = "" if n == 1 else f", n={n}"
            axt = "" if ax == len(shape) - 1 and r.random() < 0.5 else f", axis={ax - len(shape)}"
            return self.node(f"np.diff({{0}}{nt}{axt})", a, feature="diff")
        if op == "logsumexp":
            raise Reject("not numpy")
        # choose the operand shape and axes
        mode = r.choice(["all", "one", "one", "keep", "tuple"])
        if mode == "all":
            if shape != () and not (r.random() < 0.5 and all(d == 1 for d in shape)):
                raise Reject("all needs scalar")
            if shape == ():
                src = r.choice([s for s in SHAPES if s])
                axis_txt, axis = "", None
            else:  # keepdims with axis=None
                src = tuple(r.choice([1, 2, 3]) for _ in shape)
                axis_txt, axis = ", keepdims=True", None
        elif mode == "one" or mode == "keep":
            if mode == "keep":
                ones = [i for i, d in enumerate(shape) if d == 1]
                if not ones:
                    raise Reject("keepdims needs a 1")
                p = r.choice(ones)
                src = list(shape)
                src[p] = r.choice([2, 3, 4])
                axis = p
                axt = p if r.random() < 0.5 else p - len(shape)
                axis_txt = f", axis={axt}, keepdims=True"
            else:
                p = r.randrange(len(shape) + 1)
                src = list(shape[:p]) + [r.choice([1, 2, 3, 4])] + list(shape[p:])
                axis = p
                axt = p if r.random() < 0.6 else p - len(src)
                axis_txt = f", axis={axt}" if r.random() < 0.8 else f", {axt}"
            src = tuple(src)
        else:
            p1 = r.randrange(len(shape) + 1)
            src = list(shape[:p1]) + [r.choice([2, 3])] + list(shape[p1:])
            p2 = r.randrange(len(src) + 1)
            src = src[:p2] + [r.choice([1, 2, 3])] + src[p2:]
            a1 = p1 if p1 < p2 else p1 + 1
            axes = sorted([a1, p2])
            axes_t = [a if r.random() < 0.6 else a - len(src) for a in axes]
            if r.random() < 0.3:
                axes_t.reverse()
            axis = tuple(axes)
            axis_txt = f", axis=({axes_t[0]}, {axes_t[1]})"
            src = tuple(src)
        if len(src) > 4 or int(np.prod(src)) > 64:
            raise Reject("too big")
        a = self.gen(src, depth)
        av = np.asarray(a.v)
        if op in ("max", "min", "amax"):
            if _top_gap(av, axis, largest=(op != "min")) < MARGIN:
                raise Reject("tie")
        if op == "prod" and np.max(np.abs(av)) > 3:
            a = self.node("np.tanh({0})", a)
        extra = ""
        if op in ("var", "std"):
            n = av.size if axis is None else int(np.prod([av.shape[i] for i in (
                axis if isinstance(axis, tuple) else (axis,))]))
            if r.random() < 0.4 and n > 1:
                extra = ", ddof=1"
            if op == "std" and (n < 2 or np.min(np.std(av, axis=axis)) < 0.05):
                raise Reject("std at 0")
        if op == "norm":
            if mode != "all" or shape != ():
                if mode == "one" and len(src) <= 3:
                    if np.min(np.sqrt(np.sum(av * av, axis=axis))) < 0.1:
                        raise Reject("norm 0")
                    return self.node(f"np.linalg.norm({{0}}{axis_txt})", a, feature="norm-axis")
                raise Reject("norm")
            if av.ndim == 1 and r.random() < 0.5:
                o = r.choice(["1", "2", "np.inf", "3"])
                if o == "1" and np.min(np.abs(av)) < MARGIN:
                    raise Reject("kink")
                if o == "np.inf" and _top_gap(np.abs(av)) < MARGIN:
                    raise Reject("kink")
                return self.node(f"np.linalg.norm({{0}}, ord={o})", a, feature="norm-ord")
            if av.ndim == 2 and r.random() < 0.5:
                o = r.choice(["'fro'", "1", "np.inf"])
                if o == "1" and (_top_gap(np.sum(np.abs(av), axis=0)) < MARGIN
                                 or np.min(np.abs(av)) < MARGIN):
                    raise Reject("kink")
                if o == "np.inf" and (_top_gap(np.sum(np.abs(av), axis=1)) < MARGIN
                                      or np.min(np.abs(av)) < MARGIN):
                    raise Reject("kink")
                return self.node(f"np.linalg.norm({{0}}, {o})", a, feature="norm-mat")
            if np.sqrt(np.sum(av * av)) < 0.1:
                raise Reject("norm 0")
            return self.node("np.linalg.norm({0})", a, feature="norm")
        if op == "average":
            if "keepdims" in axis_txt or mode == "tuple":
                raise Reject("average")
            return self.node(f"np.average({{0}}{axis_txt})", a, feature="average")
        method = (r.random() < 0.35 and op != "amax"
                  and (axis_txt == "" or "=" in axis_txt.split(",")[1]))
        if method:
            body = (axis_txt + extra).lstrip(", ")
            t = f"{{0}}.{op}({body})"
        else:
            t = f"np.{op}({{0}}{axis_txt}{extra})"
        return self.node(t, a, feature=op)

    # ---------------------------------------------------------------- products
    def g_product(self, shape, depth):
        r = self.rng
        shape = tuple(shape)
        k = r.choice([1, 2, 3, 4])
        op = r.choice(["matmul", "matmul", "dot", "tensordot", "einsum", "einsum", "inner",
                       "outer", "kron", "trace", "vdot"])
        n = len(shape)
        if op in ("matmul", "dot"):
            opts = []
            if n == 0:
                opts.append(((k,), (k,)))
            if n == 1:
                opts += [((k,), (k, shape[0])), ((shape[0], k), (k,))]
            if n == 2:
                opts += [((shape[0], k), (k, shape[1]))]
                if op == "matmul":
                    opts.append(((shape[0], shape[1], k), (k,)))
                else:
                    opts.append(((shape[0], k), (k, shape[1])))
            if n == 3:
                B, m, q = shape
                if op == "matmul":
                    opts += [((B, m, k), (B, k, q)), ((m, k), (B, k, q)), ((B, m, k), (k, q)),
                             ((1, m, k), (B, k, q))]
                else:
                    opts += [((B, m, k), (k, q)), ((B, k), (m, k, q))]
            if not opts:
                raise Reject("rank")
            sa, sb = r.choice(opts)
            a, b = self.gen(sa, depth), self.gen(sb, depth)
            if op == "matmul":
                t = r.choice(["({0} @ {1})", "np.matmul({0}, {1})"])
            else:
                t = r.choice(["np.dot({0}, {1})", "{0}.dot({1})"])
            return self.node(t, a, b, feature=op)
        if op == "vdot":
            if shape != ():
                raise Reject("vdot")
            s = r.choice([(3,), (2, 2), (2, 3)])
            return self.node("np.vdot({0}, {1})", self.gen(s, depth), self.gen(s, depth),
                             feature="vdot")
        if op == "tensordot":
            if n < 1 or n > 3:
                raise Reject("rank")
            cut = r.randrange(n + 1)
            left, right = shape[:cut], shape[cut:]
            nc = r.choice([0, 1, 1, 2])
            cdims = [r.choice([2, 3]) for _ in range(nc)]
            if r.random() < 0.5 or nc == 0:
                sa, sb = left + tuple(cdims), tuple(cdims) + right
                axes = f"axes={nc}" if r.random() < 0.6 else str(nc)
            else:
                pa = r.randrange(len(left) + 1)
                pb = r.randrange(len(right) + 1)
                sa = left[:pa] + (cdims[0],) + left[pa:]
                sb = right[:pb] + (cdims[0],) + right[pb:]
                axes = f"axes=([{pa}], [{pb}])" if nc == 1 else f"axes=({pa}, {pb})"
                if nc == 2:
                    sa = sa + (cdims[1],)
                    sb = sb + (cdims[1],)
                    axes = f"axes=([{pa}, {len(sa) - 1}], [{pb}, {len(sb) - 1}])"
            if len(sa) > 3 or len(sb) > 3:
                raise Reject("rank")
            return self.node(f"np.tensordot({{0}}, {{1}}, {axes})", self.gen(sa, depth),
                             self.gen(sb, depth), feature="tensordot")
        if op == "einsum":
            letters = "ijklmn"
            out = letters[:n]
            nc = r.choice([0, 1, 1, 2])
            con = letters[n:n + nc]
            sizes = dict(zip(out, shape))
            for c in con:
                sizes[c] = r.choice([2, 3])
            if r.random() < 0.25:  # one operand
                if n == 1 and r.random() < 0.5:
                    spec = "ii->i"
                    sa = (shape[0], shape[0])
                    return self.node(f"np.einsum('{spec}', {{0}})", self.gen(sa, depth),
                                     feature="einsum1")
                ins = list(out + con)
                r.shuffle(ins)
                ins = "".join(ins)
                sa = tuple(sizes[c] for c in ins)
                if not sa or len(sa) > 3:
                    raise Reject("rank")
                arrow = f"->{out}" if (r.random() < 0.7 or sorted(out) != list(out)) else ""
                if arrow == "" and ins != "".join(sorted(ins)) and nc:
                    arrow = f"->{out}"
                return self.node(f"np.einsum('{ins}{arrow}', {{0}})", self.gen(sa, depth),
                                 feature="einsum1")
            ia, ib = [], []
            for c in out:
                w = r.choice(["a", "b", "ab"])
                if "a" in w:
                    ia.append(c)
                if "b" in w:
                    ib.append(c)
            for c in con:
                ia.append(c)
                ib.append(c)
            r.shuffle(ia)
            r.shuffle(ib)
            if not ia or not ib or len(ia) > 3 or len(ib) > 3:
                raise Reject("rank")
            sa = tuple(sizes[c] for c in ia)
            sb = tuple(sizes[c] for c in ib)
            spec = f"{''.join(ia)},{''.join(ib)}->{out}"
            return self.node(f"np.einsum('{spec}', {{0}}, {{1}})", self.gen(sa, depth),
                             self.gen(sb, depth), feature="einsum2")
        if op == "inner":
            if n > 3:
                raise Reject("rank")
            cut = r.randrange(n + 1)
            sa, sb = shape[:cut] + (k,), shape[cut:] + (k,)
            if len(sa) > 3 or len(sb) > 3:
                raise Reject("rank")
            return self.node("np.inner({0}, {1})", self.gen(sa, depth), self.gen(sb, depth),
                             feature="inner")
        if op == "outer":
            if n != 2:
                raise Reject("rank")
            fa = [s for s in SHAPES if s and int(np.prod(s)) == shape[0]] or [(shape[0],)]
            fb = [s for s in SHAPES if s and int(np.prod(s)) == shape[1]] or [(shape[1],)]
            return self.node("np.outer({0}, {1})", self.gen(r.choice(fa), depth),
                             self.gen(r.choice(fb), depth), feature="outer")
        if op == "kron":
            if n not in (1, 2):
                raise Reject("rank")
            sa, sb = [], []
            for d in shape:
                divs = [q for q in range(1, d + 1) if d % q == 0]
                q = r.choice(divs)
                sa.append(q)
                sb.append(d // q)
            if int(np.prod(shape)) > 36:
                raise Reject("big")
            return self.node("np.kron({0}, {1})", self.gen(tuple(sa), depth),
                             self.gen(tuple(sb), depth), feature="kron")
        if op == "trace":
            if n == 0:
                m = r.choice([2, 3])
                if r.random() < 0.7:
                    return self.node(r.choice(["np.trace({0})", "{0}.trace()"]),
                                     self.gen((m, m), depth), feature="trace")
                return self.node("np.trace({0}, offset=1)", self.gen((m, m + 1), depth),
                                 feature="trace")
            if n == 1:
                m = r.choice([2, 3])
                if r.random() < 0.5:
                    return self.node("np.trace({0}, axis1=1, axis2=2)",
                                     self.gen((shape[0], m, m), depth), feature="trace")
                return self.node("np.trace({0})", self.gen((m, m, shape[0]), depth),
                                 feature="trace")
            raise Reject("rank")
        raise Reject("op")

    # ---------------------------------------------------------------- linear algebra
    def well(self, n, batch=()):
        """A well-conditioned (n, n) matrix (or batch of them)."""
        a = self.gen(batch + (n, n), max(0, self.depth_budget - 1))
        c = np.linalg.cond(np.asarray(a.v, dtype=float))
        if np.max(c) > 30:
            a = self.node("(np.tanh({0}) * 0.3 + np.eye(%d) * 2.0)" % n, a)
        return a

    def g_linalg(self, shape, depth):
        r = self.rng
        shape = tuple(shape)
        self.depth_budget = depth
        n = len(shape)
        if n == 0:
            m = r.choice([1, 2, 3])
            op = r.choice(["det", "slogdet", "logabsdet"])
            a = self.well(m)
            if op == "det":
                return self.node("np.linalg.det({0})", a, feature="det")
            if op == "slogdet":
                return self.node("np.linalg.slogdet({0})[1]", a, feature="slogdet")
            return self.node("np.linalg.slogdet({0})[1] * np.linalg.slogdet({0})[0]", a,
                             feature="slogdet")
        if n == 1:
            if r.random() < 0.5:
                a = self.well(shape[0])
                b = self.gen(shape, depth)
                return self.node("np.linalg.solve({0}, {1})", a, b, feature="solve")
            m = r.choice([2, 3])
            a = self.well(m, (shape[0],))
            return self.node("np.linalg.det({0})", a, feature="det-batch")
        if n == 2 and shape[0] == shape[1]:
            op = r.choice(["inv", "cholesky", "solve", "pinv"])
            m = shape[0]
            a = self.well(m)
            if op == "inv":
                return self.node("np.linalg.inv({0})", a, feature="inv")
            if op == "pinv":
                return self.node("np.linalg.pinv({0})", a, feature="pinv")
            if op == "cholesky":
                spd = self.node("({0} @ {0}.T + 0.5 * np.eye(%d))" % m, a)
                return self.node("np.linalg.cholesky({0})", spd, feature="cholesky")
            return self.node("np.linalg.solve({0}, {1})", a, self.gen(shape, depth),
                             feature="solve")
        if n == 2:
            a = self.well(shape[0])
            return self.node("np.linalg.solve({0}, {1})", a, self.gen(shape, depth),
                             feature="solve")
        if n == 3 and shape[1] == shape[2]:
            a = self.well(shape[1], (shape[0],))
            return self.node("np.linalg.inv({0})", a, feature="inv-batch")
        raise Reject("rank")

    # ---------------------------------------------------------------- shape functions
    def g_shape(self, shape, depth):
        r = self.rng
        shape = tuple(shape)
        n = len(shape)
        size = int(np.prod(shape))
        op = r.choice(["reshape", "reshape", "transpose", "swapaxes", "moveaxis", "squeeze",
                       "expand_dims", "concatenate", "stack", "split", "flip", "roll", "pad",
                       "tile", "repeat", "sort", "broadcast_to", "ravel", "array", "triu",
                       "diag", "rot90", "hstack", "vstack", "array_split", "atleast"])
        if op == "reshape":
            srcs = [s for s in SHAPES if int(np.prod(s)) == size and s != shape]
            if not srcs:
                raise Reject("reshape")
            a = self.gen(r.choice(srcs), depth)
            tgt = list(shape)
            if tgt and r.random() < 0.3:
                tgt[r.randrange(len(tgt))] = -1
            tt = tuple(tgt)
            t = r.choice(["np.reshape({0}, %r)" % (tt,), "{0}.reshape(%r)" % (tt,)]
                         + (["{0}.reshape(%s)" % ", ".join(map(str, tt))] if tt else []))
            return self.node(t, a, feature="reshape")
        if op == "ravel":
            if n != 1:
                raise Reject("ravel")
            srcs = [s for s in SHAPES if int(np.prod(s)) == size and len(s) > 1]
            if not srcs:
                raise Reject("ravel")
            return self.node(r.choice(["np.ravel({0})", "{0}.ravel()", "{0}.flatten()"]),
                             self.gen(r.choice(srcs), depth), feature="ravel")
        if op == "transpose":
            if n < 2:
                raise Reject("rank")
            perm = list(range(n))
            r.shuffle(perm)
            inv = np.argsort(perm)
            src = tuple(shape[i] for i in inv)
            if perm == list(range(n))[::-1] and r.random() < 0.6:
                t = r.choice(["{0}.T", "np.transpose({0})"])
            else:
                t = r.choice(["np.transpose({0}, %r)" % (tuple(perm),),
                              "{0}.transpose(%s)" % ", ".join(map(str, perm))])
            a = self.gen(src, depth)
            return self.node(t, a, feature="transpose")
        if op == "swapaxes":
            if n < 2:
                raise Reject("rank")
            i, j = r.sample(range(n), 2)
            src = list(shape)
            src[i], src[j] = src[j], src[i]
            jt = j - n if r.random() < 0.4 else j
            return self.node(r.choice(["np.swapaxes({0}, %d, %d)" % (i, jt),
                                       "{0}.swapaxes(%d, %d)" % (i, jt)]),
                             self.gen(tuple(src), depth), feature="swapaxes")
        if op == "moveaxis":
            if n < 2:
                raise Reject("rank")
            s_, d_ = r.randrange(n), r.randrange(n)
            src = list(shape)
            moved = src.pop(d_)
            src.insert(s_, moved)
            st = s_ - n if r.random() < 0.4 else s_
            return self.node("np.moveaxis({0}, %d, %d)" % (st, d_), self.gen(tuple(src), depth),
                             feature="moveaxis")
        if op == "squeeze":
            if n >= 3:
                raise Reject("rank")
            p = r.randrange(n + 1)
            src = shape[:p] + (1,) + shape[p:]
            if 1 not in shape and r.random() < 0.4:
                t = r.choice(["np.squeeze({0})", "{0}.squeeze()"])
            else:
                pt = p - len(src) if r.random() < 0.4 else p
                t = r.choice(["np.squeeze({0}, axis=%d)" % pt, "{0}.squeeze(%d)" % pt])
            return self.node(t, self.gen(src, depth), feature="squeeze")
        if op == "expand_dims":
            ones = [i for i, d in enumerate(shape) if d == 1]
            if not ones:
                raise Reject("no 1")
            p = r.choice(ones)
            src = shape[:p] + shape[p + 1:]
            pt = p - n if r.random() < 0.4 else p
            return self.node("np.expand_dims({0}, %d)" % pt, self.gen(src, depth),
                             feature="expand_dims")
        if op in ("concatenate", "hstack", "vstack"):
            big = [i for i, d in enumerate(shape) if d >= 2]
            if not big:
                raise Reject("concat")
            ax = r.choice(big)
            d = shape[ax]
            cut = r.randrange(1, d)
            parts = [cut, d - cut]
            if op == "hstack":
                if n != 2 and n != 1:
                    raise Reject("hstack")
                ax = n - 1
                if shape[ax] < 2:
                    raise Reject("hstack")
                cut = r.randrange(1, shape[ax])
                parts = [cut, shape[ax] - cut]
            if op == "vstack":
                if n != 2 or shape[0] < 2:
                    raise Reject("vstack")
                ax = 0
                cut = r.randrange(1, shape[0])
                parts = [cut, shape[0] - cut]
            pieces = []
            for q in parts:
                s = list(shape)
                s[ax] = q
                pieces.append(self.gen(tuple(s), depth))
            if op == "concatenate":
                axt = ax - n if r.random() < 0.3 else ax
                tmpl = "np.concatenate([{0}, {1}], axis=%d)" % axt
                if ax == 0 and r.random() < 0.3:
                    tmpl = "np.concatenate(({0}, {1}))"
            else:
                tmpl = f"np.{op}([{{0}}, {{1}}])"
            return self.node(tmpl, *pieces, feature=op)
        if op == "stack":
            if n == 0 or shape[0] > 3 and n == 1:
                raise Reject("stack")
            ax = r.randrange(n)
            k = shape[ax]
            if k > 3:
                raise Reject("stack")
            part = shape[:ax] + shape[ax + 1:]
            pieces = [self.gen(part, depth) for _ in range(k)]
            axt = ax - n if r.random() < 0.3 else ax
            names = ", ".join("{%d}" % i for i in range(k))
            tmpl = f"np.stack([{names}], axis={axt})" if (ax or r.random() < 0.5) \
                else f"np.stack(({names},))"
            return self.node(tmpl, *pieces, feature="stack")
        if op == "array":
            if n != 1 or shape[0] > 4:
                raise Reject("array")
            pieces = [self.gen((), depth) for _ in range(shape[0])]
            names = ", ".join("{%d}" % i for i in range(shape[0]))
            return self.node(f"np.array([{names}])", *pieces, feature="np.array")
        if op in ("split", "array_split"):
            if n == 0:
                raise Reject("rank")
            ax = r.randrange(n)
            m = r.choice([2, 3])
            src = list(shape)
            if r.random() < 0.5 and op == "split":
                src[ax] = shape[ax] * m
                i = r.randrange(m)
                tmpl = "np.split({0}, %d, axis=%d)[%d]" % (m, ax, i)
            else:
                extra = r.choice([1, 2])
                src[ax] = shape[ax] + extra
                if r.random() < 0.5:
                    tmpl = "np.split({0}, [%d], axis=%d)[1]" % (extra, ax)
                else:
                    tmpl = "np.split({0}, [%d], axis=%d)[0]" % (shape[ax], ax)
            if op == "array_split":
                tmpl = tmpl.replace("np.split", "np.array_split")
            return self.node(tmpl, self.gen(tuple(src), depth), feature="split")
        if op == "flip":
            if n == 0:
                raise Reject("rank")
            ax = r.randrange(n)
            t = r.choice(["np.flip({0}, axis=%d)" % ax, "np.flip({0})", "{0}[::-1]",
                          "np.flip({0}, %d)" % (ax - n)]
                         + (["np.fliplr({0})", "np.flipud({0})"] if n == 2 else []))
            return self.node(t, self.gen(shape, depth), feature="flip")
        if op == "rot90":
            if n != 2:
                raise Reject("rank")
            kk = r.choice([1, 2, 3])
            src = shape if kk == 2 else shape[::-1]
            return self.node("np.rot90({0}, %d)" % kk, self.gen(tuple(src), depth),
                             feature="rot90")
        if op == "roll":
            if n == 0:
                raise Reject("rank")
            sh = r.choice([1, -1, 2, 5])
            if r.random() < 0.3:
                t = "np.roll({0}, %d)" % sh
            else:
                t = "np.roll({0}, %d, axis=%d)" % (sh, r.randrange(n))
            return self.node(t, self.gen(shape, depth), feature="roll")
        if op == "pad":
            if n == 0:
                raise Reject("rank")
            widths = []
            src = []
            for d in shape:
                lo = r.randrange(0, min(2, d) + 1)
                hi = r.randrange(0, min(2, d - lo) + 1)
                if d - lo - hi < 1:
                    lo, hi = 0, 0
                widths.append((lo, hi))
                src.append(d - lo - hi)
            if all(w == (0, 0) for w in widths):
                raise Reject("pad")
            cv = "" if r.random() < 0.6 else ", constant_values=0.5"
            return self.node("np.pad({0}, %r%s)" % (tuple(widths), cv),
                             self.gen(tuple(src), depth), feature="pad")
        if op == "tile":
            if n == 0:
                raise Reject("rank")
            reps, src = [], []
            for d in shape:
                divs = [q for q in (1, 2, 3) if d % q == 0]
                q = r.choice(divs)
                reps.append(q)
                src.append(d // q)
            return self.node("np.tile({0}, %r)" % (tuple(reps),), self.gen(tuple(src), depth),
                             feature="tile")
        if op == "repeat":
            if n == 0:
                raise Reject("rank")
            ax = r.randrange(n)
            divs = [q for q in (2, 3) if shape[ax] % q == 0]
            if not divs:
                raise Reject("repeat")
            q = r.choice(divs)
            src = list(shape)
            src[ax] //= q
            t = r.choice(["np.repeat({0}, %d, axis=%d)" % (q, ax),
                          "{0}.repeat(%d, axis=%d)" % (q, ax)])
            return self.node(t, self.gen(tuple(src), depth), feature="repeat")
        if op == "sort":
            if n == 0:
                raise Reject("rank")
            ax = r.randrange(n)
            a = self.gen(shape, depth)
            if _sep(a.v, ax) < MARGIN:
                raise Reject("tie")
            t = r.choice(["np.sort({0}, axis=%d)" % ax, "np.sort({0}, axis=%d)" % (ax - n)]
                         + (["np.sort({0})"] if ax == n - 1 else []))
            return self.node(t, a, feature="sort")
        if op == "broadcast_to":
            src = self.bshape(shape)
            if src == shape:
                raise Reject("bt")
            return self.node("np.broadcast_to({0}, %r)" % (shape,), self.gen(src, depth),
                             feature="broadcast_to")
        if op == "triu":
            if n != 2:
                raise Reject("rank")
            return self.node(r.choice(["np.triu({0})", "np.tril({0})", "np.tril({0}, -1)",
                                       "np.triu({0}, 1)"]), self.gen(shape, depth),
                             feature="triu")
        if op == "diag":
            if n == 1:
                if r.random() < 0.5:
                    return self.node("np.diag({0})", self.gen((shape[0], shape[0]), depth),
                                     feature="diag")
                return self.node("np.diagonal({0})", self.gen((shape[0], shape[0] + 1), depth),
                                 feature="diagonal")
            if n == 2 and shape[0] == shape[1]:
                return self.node("np.diag({0})", self.gen((shape[0],), depth), feature="diag")
            raise Reject("diag")
        if op == "atleast":
            if n == 2 and shape[0] == 1:
                return self.node("np.atleast_2d({0})", self.gen(shape[1:], depth),
                                 feature="atleast")
            raise Reject("atleast")
        raise Reject("op")

    # ---------------------------------------------------------------- indexing
    def slice_for(self, L):
        r = self.rng
        for _ in range(50):
            step = r.choice([1, 1, 1, 2, -1, -1, -2, 3])
            D = r.randint(max(1, L), L * abs(step) + 2)
            start = r.choice([None, None, r.randint(-D, D)])
            stop = r.choice([None, None, r.randint(-D - 1, D + 1)])
            if len(range(D)[slice(start, stop, step)]) == L:
                parts = ["" if start is None else str(start), "" if stop is None else str(stop)]
                txt = ":".join(parts)
                if step != 1 or r.random() < 0.2:
                    txt += f":{step}"
                return txt, D
        return ":", L

    def gen_index(self, r_shape, allow_dup=True):
        """(numpy index text, jax index text, operand shape) giving a result of shape r_shape."""
        r = self.rng
        for _ in range(20):
            items = []  # (numpy, jax, operand dims)
            out = list(r_shape)
            k = 0
            n_int = 0
            used_adv = False
            while k < len(out) or (n_int < 2 and r.random() < 0.35 and len(items) < 4):
                roll = r.random()
                if roll < 0.22 and n_int < 2:
                    D = r.randint(1, 4)
                    i = r.randint(-D, D - 1)
                    items.append((str(i), str(i), [D]))
                    n_int += 1
                    continue
                if k >= len(out):
                    break
                if out[k] == 1 and roll < 0.4:
                    items.append(("None", "None", []))
                    k += 1
                    continue
                if not used_adv and roll > 0.82:
                    L = out[k]
                    D = r.randint(1 if allow_dup else L, max(L, 4))
                    if allow_dup:
                        idx = [r.randint(-D, D - 1) for _ in range(L)]
                    else:
                        idx = [q - D if r.random() < 0.3 else q for q in r.sample(range(D), L)]
                    lst = "[" + ", ".join(map(str, idx)) + "]"
                    if r.random() < 0.05:
                        items.append((f"np.array({lst})", f"np.array({lst})", [D]))
                    else:
                        items.append((lst, f"np.array({lst})", [D]))
                    used_adv = True
                    k += 1
                    continue
                if (not used_adv and allow_dup and roll > 0.78 and k + 1 < len(out)):
                    L1, L2 = out[k], out[k + 1]
                    D = r.randint(1, 4)
                    arr = [[r.randint(0, D - 1) for _ in range(L2)] for _ in range(L1)]
                    at = f"np.array({arr})" if r.random() < 0.1 else str(arr)
                    items.append((at, f"np.array({arr})", [D]))
                    used_adv = True
                    k += 2
                    continue
                txt, D = self.slice_for(out[k])
                items.append((txt, txt, [D]))
                k += 1
            if not items:
                if r.random() < 0.1:
                    return "...", "...", tuple(r_shape)
                continue
            # trailing full slices may be left out: their dimensions stay, implicitly
            implicit = []
            if r.random() < 0.4:
                while len(items) > 1 and items[-1][0] == ":":
                    implicit = items.pop()[2] + implicit
            texts = [i[0] for i in items]
            jtexts = [i[1] for i in items]
            op_shape = [d for i in items for d in i[2]] + implicit
            if r.random() < 0.25:
                runs = [i for i, t in enumerate(texts) if t == ":"]
                if runs:
                    i = r.choice(runs)
                    texts[i] = jtexts[i] = "..."
                elif r.random() < 0.5:
                    pos = r.randrange(len(texts) + 1)
                    texts.insert(pos, "...")
                    jtexts.insert(pos, "...")
            idx_t = ", ".join(texts)
            idx_j = ", ".join(jtexts)
            try:
                got = np.empty(tuple(op_shape))[eval(f"np.s_[{idx_t}]", {"np": np})].shape
            except Exception:  # noqa: BLE001
                continue
            if got == tuple(r_shape) and len(op_shape) <= 4 and int(np.prod(op_shape)) <= 64:
                return idx_t, idx_j, tuple(op_shape)
        raise Reject("index")

    def g_index(self, shape, depth):
        r = self.rng
        shape = tuple(shape)
        if r.random() < 0.12 and len(shape) == 1:
            # integer labels: x[np.arange(N), labels] or x[idx] with an integer-array input
            if len(self.params) < self.n_params_max + 1:
                N = shape[0]
                C = r.choice([2, 3, 4])
                taken = {p for p, _ in self.params} | set(self.env)
                name = r.choice([q for q in ["idx", "labels", "y_idx", "k"] if q not in taken]
                                or ["idx9"])
                vals = np.array([r.randrange(C) for _ in range(N)])
                self.params.append((name, "intarr"))
                self.args[name] = vals
                self.env[name] = vals
                a = self.gen((N, C), depth)
                if r.random() < 0.5:
                    return self.node("{0}[np.arange(%d), %s]" % (N, name), a, feature="labels")
                b = self.gen((C,) if r.random() < 0.5 else (C, 2), depth)
                if b.shape == (C,):
                    return self.node("{0}[%s]" % name, b, feature="intarr-param")
                return self.node("{0}[%s, 1]" % name, b, feature="intarr-param")
        it, ij, src = self.gen_index(shape)
        a = self.gen(src, depth)
        base_t, base_j = _atom(a.t), _atom(a.j)
        v = self.ev("{0}[%s]" % it, a)
        self.features["index"] += 1
        return V(f"{base_t}[{it}]", f"{base_j}[{ij}]", v)

    # ---------------------------------------------------------------- statements
    def fresh_name(self, avoid=()):
        r = self.rng
        names = [n for n in LOCAL_NAMES if n not in avoid and n not in self.helper_names
                 and n not in {p for p, k in self.params if k in ("int", "intarr")}]
        return r.choice(names)

    def emit(self, indent, t, j=None):
        self.lines.append((indent, t, t if j is None else j))

    def assign(self, name, v: V, indent=1):
        self.emit(indent, f"{name} = {v.t}", f"{name} = {v.j}")
        self.env[name] = v.v

    def run_block(self, lines):
        """Run generated statements with NumPy on the environment to learn the values."""
        text = "\n".join(lines)
        env = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.env.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                try:
                    exec(text, {"np": np, "__builtins__": __builtins__}, env)
                except Exception as e:  # noqa: BLE001
                    raise Reject(f"block: {e}") from None
        for k, v in env.items():
            if k.startswith("_c") and k.endswith("_"):
                continue
            if not isinstance(v, (int, float, np.ndarray, np.floating, list)):
                continue
            if isinstance(v, np.ndarray) and not _ok_value(v):
                raise Reject("block value")
        return env

    def statement(self, depth):
        r = self.rng
        kind = r.choices(["assign", "if", "ternary", "loop", "setitem", "list", "helper",
                          "lambda", "unpack", "augassign", "while", "mask"],
                         [40, 8, 4, 8, 8, 5, 6, 3, 3, 4, 2, 3])[0]
        shape = r.choice(SHAPES)
        saved = (dict(self.env), list(self.lines), list(self.helpers), list(self.helper_names),
                 set(self.used), list(self.params), dict(self.args))
        try:
            getattr(self, "s_" + kind)(shape, depth)
            self.features["stmt-" + kind] += 1
        except Reject:
            (self.env, self.lines, self.helpers, self.helper_names, self.used, self.params,
             self.args) = saved
            self.s_assign(shape, depth)

    def s_assign(self, shape, depth):
        v = self.gen(shape, depth)
        self.assign(self.fresh_name(), v)

    def scalar_cond(self, depth):
        r = self.rng
        a = self.gen((), depth)
        c = round(r.uniform(-1, 1), 2)
        if abs(float(a.v) - c) < MARGIN:
            raise Reject("cond margin")
        op = r.choice([">", "<", ">=", "<="])
        truth = eval(f"{float(a.v)!r} {op} {c!r}")
        return f"{a.t} {op} {c}", f"{a.j} {op} {c}", truth

    def s_if(self, shape, depth):
        r = self.rng
        ct, cj, truth = self.scalar_cond(depth)
        if r.random() < 0.3:
            ct2, cj2, truth2 = self.scalar_cond(depth)
            conj = r.choice(["and", "or"])
            ct, cj = f"{ct} {conj} {ct2}", f"{cj} {conj} {cj2}"
        name = self.fresh_name()
        e1 = self.gen(shape, depth)
        e2 = self.gen(shape, depth)
        lines_t = [f"if {ct}:", f"    {name} = {e1.t}", "else:", f"    {name} = {e2.t}"]
        lines_j = [f"if {cj}:", f"    {name} = {e1.j}", "else:", f"    {name} = {e2.j}"]
        env = self.run_block(lines_t)
        for lt, lj in zip(lines_t, lines_j):
            self.emit(1, lt, lj)
        self.env[name] = env[name]

    def s_ternary(self, shape, depth):
        ct, cj, _ = self.scalar_cond(depth)
        name = self.fresh_name()
        e1 = self.gen(shape, depth)
        e2 = self.gen(shape, depth)
        lt = f"{name} = {e1.t} if {ct} else {e2.t}"
        lj = f"{name} = {e1.j} if {cj} else {e2.j}"
        env = self.run_block([lt])
        self.emit(1, lt, lj)
        self.env[name] = env[name]

    LOOP_BODIES = ["{acc} = {acc} * 0.5 + np.sin({q}[i])", "{acc} = np.tanh({acc} + {q}[i])",
                   "{acc} = {acc} + {q}[i] ** 2", "{acc} = {acc} + {q}[i] * (i + 1)",
                   "{acc} = {acc} * np.cos({q}[i])", "{acc} = {acc} - {q}[i] / 3.0"]

    def s_loop(self, shape, depth):
        r = self.rng
        K = r.choice([1, 2, 3])
        shape = tuple(shape) if len(shape) < 3 else tuple(shape[1:])
        q = self.gen((K,) + shape, depth)
        qn = self.fresh_name()
        acc = self.fresh_name(avoid=(qn,))
        init = self.gen(shape, depth)
        lines = [(f"{qn} = {q.t}", f"{qn} = {q.j}"), (f"{acc} = {init.t}", f"{acc} = {init.j}")]
        style = r.choice(["range", "range", "rows", "enumerate", "zip", "comp", "set_rows",
                          "reversed", "int_param"])
        body = r.choice(self.LOOP_BODIES).format(acc=acc, q=qn)
        if style in ("range", "int_param"):
            rng_txt = f"range({K})"
            if style == "int_param" and len(self.params) < 6:
                taken = {p for p, _ in self.params} | set(self.env)
                nn = r.choice([q_ for q_ in ["n", "K", "steps", "T"] if q_ not in taken] or ["n"])
                if nn in taken:
                    raise Reject("name")
                self.params.append((nn, "int"))
                self.args[nn] = K
                self.env[nn] = K
                rng_txt = f"range({nn})"
            lines += [(f"for i in {rng_txt}:", None), ("    " + body, None)]
        elif style == "reversed":
            lines += [(f"for i in reversed(range({K})):", None), ("    " + body, None)]
        elif style == "rows":
            b2 = body.replace(f"{qn}[i]", "row").replace("(i + 1)", "2.0")
            lines += [(f"for row in {qn}:", None), ("    " + b2, None)]
        elif style == "enumerate":
            lines += [(f"for i, row in enumerate({qn}):", None),
                      ("    " + body.replace(f"{qn}[i]", "row"), None)]
        elif style == "zip":
            p = self.gen((K,) + shape, depth)
            pn = self.fresh_name(avoid=(qn, acc))
            lines.insert(0, (f"{pn} = {p.t}", f"{pn} = {p.j}"))
            lines += [(f"for row, other in zip({qn}, {pn}):", None),
                      (f"    {acc} = {acc} + row * other", None)]
        elif style == "comp":
            lines += [(f"{acc} = {acc} + sum([np.cos({qn}[i]) * {qn}[i] for i in range({K})])",
                       None)]
        elif style == "set_rows":
            lines = [(f"{qn} = {q.t}", f"{qn} = {q.j}"),
                     (f"{acc} = np.zeros(({K},) + {qn}.shape[1:])", None),
                     (f"for i in range({K}):", None)]
            lines += [(f"    {acc}[i] = np.sin({qn}[i]) * (i + 1)",
                       f"    {acc} = {acc}.at[i].set(np.sin({qn}[i]) * (i + 1))")]
        tl = [a for a, _ in lines]
        env = self.run_block(tl)
        for a, b in lines:
            ind = len(a) - len(a.lstrip())
            self.emit(1 + ind // 4, a.strip(), (b if b is not None else a).strip())
        self.env[qn] = env[qn]
        self.env[acc] = env[acc]
        if style == "zip":
            self.env[pn] = env[pn]
        for k in ("i", "row", "other"):
            if k in env:
                self.env.pop(k, None)
        self.used |= {qn, acc}

    def s_while(self, shape, depth):
        K = self.rng.choice([1, 2, 3])
        shape = tuple(shape) if len(shape) < 3 else tuple(shape[1:])
        q = self.gen((K,) + shape, depth)
        qn = self.fresh_name()
        acc = self.fresh_name(avoid=(qn,))
        lines = [(f"{qn} = {q.t}", f"{qn} = {q.j}"), (f"{acc} = {qn}[0] * 0.0", None),
                 ("j = 0", None), (f"while j < {K}:", None),
                 (f"    {acc} = {acc} + np.exp(-{qn}[j] ** 2)", None), ("    j += 1", None)]
        env = self.run_block([a for a, _ in lines])
        for a, b in lines:
            ind = len(a) - len(a.lstrip())
            self.emit(1 + ind // 4, a.strip(), (b if b is not None else a).strip())
        self.env[qn] = env[qn]
        self.env[acc] = env[acc]

    def s_setitem(self, shape, depth):
        r = self.rng
        rs = r.choice([s for s in SHAPES if len(s) <= 2])
        it, ij, S = self.gen_index(rs, allow_dup=False)
        # the target: a fresh array, or a parameter nothing has read yet
        cands = [p for p, k in self.params if k == "array" and p not in self.used
                 and np.shape(self.args[p]) == S and p in self.env
                 and self.env[p] is self.args[p]]
        lines = []
        if cands and r.random() < 0.5:
            z = r.choice(cands)
        else:
            z = self.fresh_name()
            how = r.choices(["zeros", "copy", "copym", "add0", "full", "mul1"],
                            [3, 0.3, 0.3, 3, 2, 3])[0]
            if how == "zeros":
                lines.append((f"{z} = np.zeros({S!r})", None))
            elif how == "full":
                lines.append((f"{z} = np.full({S!r}, 0.25)", None))
            else:
                base = self.gen(S, depth)
                tmpl = {"copy": "np.copy({0})", "copym": "{0}.copy()", "add0": "{0} + 0.0",
                        "mul1": "{0} * 1.0"}[how]
                lines.append((f"{z} = " + tmpl.format(_atom(base.t)),
                              f"{z} = " + tmpl.format(_atom(base.j))))
        vs = self.bshape(rs) if r.random() < 0.4 else rs
        v = self.gen(vs, depth)
        op = r.choice(["=", "=", "+=", "-=", "*="])
        at = {"=": "set", "+=": "add", "-=": "add", "*=": "multiply"}[op]
        vj = f"-({v.j})" if op == "-=" else v.j
        lines.append((f"{z}[{it}] {op} {v.t}", f"{z} = {z}.at[{ij}].{at}({vj})"))
        env = self.run_block([a for a, _ in lines])
        for a, b in lines:
            self.emit(1, a, b if b is not None else a)
        self.env[z] = env[z]
        self.used.add(z)

    def s_mask(self, shape, depth):
        r = self.rng
        if not shape:
            raise Reject("mask")
        z = self.fresh_name()
        base = self.gen(tuple(shape), depth)
        c = round(r.uniform(-1, 1), 2)
        bv = np.asarray(base.v)
        if np.min(np.abs(bv - c)) < MARGIN:
            raise Reject("mask margin")
        val = r.choice(["0.0", "1.5"])
        lines = [(f"{z} = {_atom(base.t)} + 0.0", f"{z} = {_atom(base.j)} + 0.0"),
                 (f"{z}[{z} > {c}] = {val}", f"{z} = np.where({z} > {c}, {val}, {z})")]
        env = self.run_block([a for a, _ in lines])
        for a, b in lines:
            self.emit(1, a, b)
        self.env[z] = env[z]

    def s_augassign(self, shape, depth):
        r = self.rng
        z = self.fresh_name()
        base = self.gen(tuple(shape), depth)
        v = self.gen(self.bshape(tuple(shape)), depth)
        op = r.choice(["+=", "-=", "*="])
        lines = [(f"{z} = {_atom(base.t)} * 1.0", f"{z} = {_atom(base.j)} * 1.0"),
                 (f"{z} {op} {v.t}", f"{z} {op} {v.j}")]
        env = self.run_block([a for a, _ in lines])
        for a, b in lines:
            self.emit(1, a, b)
        self.env[z] = env[z]

    HELPERS = [
        ("def {h}(a, b=0.5):", ["return np.tanh(a) * b + a"]),
        ("def {h}(a, b=0.5):", ["u = np.exp(-a * a)", "return u * b + np.sin(a)"]),
        ("def {h}(a, b=2.0):", ["if np.sum(a) > 0.0:", "    return a * b",
                                "return a - b"]),
        ("def {h}(a, b=1.0):", ["return np.maximum(a, 0.0) * b + np.arctan(a)"]),
        ("def {h}(a, b=0.3):", ["out = a * a", "t1 = out + b", "return np.sqrt(t1)"]),
        ("def {h}(a, b=0.25):", ["s = a", "for i in range(2):", "    s = np.sin(s) + b",
                                 "return s"]),
    ]

    def s_helper(self, shape, depth):
        r = self.rng
        head, body = r.choice(self.HELPERS)
        h = r.choice([n for n in ["helper", "g", "act", "layer", "_h", "t5", "out_fn"]
                      if n not in self.helper_names and n not in self.env
                      and n not in {p for p, _ in self.params}])
        nested = r.random() < 0.35
        a = self.gen(tuple(shape), depth)
        if "maximum" in body[0] and np.min(np.abs(np.asarray(a.v))) < MARGIN:
            raise Reject("kink")
        if "np.sum(a) > 0.0" in body[0] and abs(float(np.sum(a.v))) < MARGIN:
            raise Reject("cond")
        if "sqrt" in body[-1] and np.min(np.asarray(a.v) ** 2 + 0.3) < 0.1:
            raise Reject("sqrt")
        deflines = [head.format(h=h)] + ["    " + b for b in body]
        call = r.choice([f"{h}({{0}})", f"{h}({{0}}, 0.7)", f"{h}({{0}}, b=1.3)"])
        name = self.fresh_name(avoid=(h,))
        lt = f"{name} = " + call.format(a.t)
        lj = f"{name} = " + call.format(a.j)
        env = self.run_block(deflines + [lt])
        if nested:
            for d in deflines:
                self.emit(1, d)
        else:
            self.helpers.extend(deflines + [""])
        self.helper_names.append(h)
        self.emit(1, lt, lj)
        self.env[name] = env[name]

    def s_lambda(self, shape, depth):
        r = self.rng
        h = r.choice([n for n in ["act", "sq", "fn2", "k1"] if n not in self.helper_names
                      and n not in self.env and n not in {p for p, _ in self.params}])
        lam = r.choice(["lambda a: np.tanh(a) * 2.0", "lambda a, c=0.5: a * c + np.cos(a)",
                        "lambda a: a ** 2 + 1.0"])
        a = self.gen(tuple(shape), depth)
        name = self.fresh_name(avoid=(h,))
        lines = [f"{h} = {lam}", f"{name} = {h}({a.t})"]
        env = self.run_block(lines)
        self.emit(1, lines[0])
        self.emit(1, lines[1], f"{name} = {h}({a.j})")
        self.helper_names.append(h)
        self.env[name] = env[name]

    def s_unpack(self, shape, depth):
        r = self.rng
        n1 = self.fresh_name()
        n2 = self.fresh_name(avoid=(n1,))
        if r.random() < 0.5 and shape and shape[0] == 2:
            q = self.gen(tuple(shape), depth)
            lt, lj = f"{n1}, {n2} = {q.t}", f"{n1}, {n2} = {q.j}"
        else:
            e1 = self.gen(tuple(shape), depth)
            e2 = self.gen(r.choice(SHAPES), depth)
            lt, lj = f"{n1}, {n2} = {e1.t}, {e2.t}", f"{n1}, {n2} = {e1.j}, {e2.j}"
        env = self.run_block([lt])
        self.emit(1, lt, lj)
        self.env[n1] = env[n1]
        self.env[n2] = env[n2]

    def s_list(self, shape, depth):
        r = self.rng
        K = r.choice([1, 2, 3])
        shape = tuple(shape) if len(shape) < 3 else tuple(shape[1:])
        q = self.gen((K,) + shape, depth)
        qn = self.fresh_name()
        hs = r.choice(["hs", "outs", "terms", "cache_list"])
        res = self.fresh_name(avoid=(qn,))
        fin = r.choice(["sum({hs})", "np.stack({hs})", "np.sum(np.stack({hs}), axis=0)",
                        "{hs}[-1] * 2.0 + {hs}[0]"]).format(hs=hs)
        lines = [f"{qn} = {q.t}", f"{hs} = []", f"for i in range({K}):",
                 f"    {hs}.append(np.tanh({qn}[i]) * (i + 0.5))", f"{res} = {fin}"]
        env = self.run_block(lines)
        for k_, l_ in enumerate(lines):
            ind = len(l_) - len(l_.lstrip())
            lj = f"{qn} = {q.j}" if k_ == 0 else l_
            self.emit(1 + ind // 4, l_.strip(), lj.strip())
        self.env[qn] = env[qn]
        self.env[res] = env[res]
        self.used.add(qn)

    # ---------------------------------------------------------------- the program
    def program(self):
        r = self.rng
        depth = r.choice([1, 2, 2, 3, 3, 4])
        for _ in range(r.choice([0, 1, 1, 2, 3, 4])):
            self.statement(depth)
        n_out = r.choices([1, 2, 3], [70, 22, 8])[0]
        outs = []
        for _ in range(n_out):
            outs.append(self.gen(r.choice(SHAPES), depth))
        if not self.params:
            self.new_param(r.choice(SHAPES))
        taken = {p for p, _ in self.params} | set(self.helper_names)
        fname = r.choice([n for n in FN_NAMES if n not in taken] or ["f"])
        ret_t = ", ".join(o.t for o in outs)
        ret_j = ", ".join(o.j for o in outs)
        if r.random() < 0.15 and n_out == 1:
            # an early return under a value condition
            try:
                ct, cj, _ = self.scalar_cond(depth)
                alt = self.gen(outs[0].shape, depth)
                self.emit(1, f"if {ct}:", f"if {cj}:")
                self.emit(2, f"return {alt.t}", f"return {alt.j}")
                self.features["early-return"] += 1
            except Reject:
                pass
        self.emit(1, f"return {ret_t}", f"return {ret_j}")
        sig = ", ".join(p for p, _ in self.params)
        head = f"def {fname}({sig}):"
        body_t = "\n".join("    " * i + t for i, t, _ in self.lines)
        body_j = "\n".join("    " * i + j for i, _, j in self.lines)
        pre = "\n".join(self.helpers)
        pre = pre + "\n" if pre else ""
        src = f"{pre}{head}\n{body_t}\n"
        jsrc = f"{pre}{head}\n{body_j}\n"
        kinds = dict(self.params)
        return fname, src, jsrc, [p for p, _ in self.params], dict(self.args), kinds


# ==================================================================== checking

_jax = None


def _get_jax():
    global _jax
    if _jax is None:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        _jax = (jax, jnp)
    return _jax


def run_with(module, source, fname, names, args):
    ns = {"np": module}
    exec(compile(source, "<fuzz program>", "exec"), ns)  # the fuzzer's own generated text
    return ns[fname](*[args[n].copy() if isinstance(args[n], np.ndarray) else args[n]
                       for n in names])


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _close(a, b, rtol, atol_scale):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol_scale * scale, equal_nan=False))


def central_vjp(src, fname, names, args, name, douts, h=1e-6):
    x = np.array(args[name], dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        tot = []
        for sign in (1.0, -1.0):
            shifted = x.copy()
            shifted[index] += sign * h
            a2 = dict(args)
            a2[name] = float(shifted) if isinstance(args[name], float) else shifted
            with np.errstate(all="ignore"):
                out = _as_tuple(run_with(np, src, fname, names, a2))
            tot.append(sum(float(np.sum(np.asarray(o) * d)) for o, d in zip(out, douts)))
        grad[index] = (tot[0] - tot[1]) / (2 * h)
    return grad


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def check_one(seed: int, verbose=False) -> dict:
    import symdiff

    rng = random.Random(seed)
    gen = Gen(rng)
    try:
        fname, src, jsrc, names, args, kinds = gen.program()
    except Reject as e:
        return {"seed": seed, "status": "invalid", "detail": f"generator: {e}"}
    res = {"seed": seed, "src": src, "jsrc": jsrc if jsrc != src else None,
           "args": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in args.items()},
           "features": sorted(gen.features)}
    if verbose:
        print(src)
    # ---- NumPy: the reference value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                expected = _as_tuple(run_with(np, src, fname, names, args))
        if not all(_ok_value(e) for e in expected):
            raise ValueError("non-finite")
    except Exception as e:  # noqa: BLE001
        res.update(status="invalid", detail=f"numpy: {type(e).__name__}: {e}")
        return res
    single = not isinstance(run_with(np, src, fname, names, args), tuple)
    floats = [n for n in names if kinds[n] in ("float", "array")]
    wrt = sorted(rng.sample(floats, rng.randint(1, len(floats))), key=floats.index) \
        if floats else []
    if not wrt:
        res.update(status="invalid", detail="no float inputs")
        return res
    res["wrt"] = wrt
    drng = np.random.default_rng(seed)
    douts = [drng.standard_normal(np.shape(e)) for e in expected]
    douts = [float(d) if np.shape(d) == () and rng.random() < 0.5 else d for d in douts]
    dout_arg = douts[0] if single else tuple(douts)
    call_args = [args[n].copy() if isinstance(args[n], np.ndarray) else args[n] for n in names]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    stage = "compile"
    try:
        g = symdiff.compile(src, wrt=wrt)
        stage = "call"
        value, grads = g(*call_args)
        for n, a in zip(names, call_args):
            if isinstance(a, np.ndarray) and not np.array_equal(a, args[n]):
                res.update(status="wrong", detail=f"the caller's array {n} was modified")
                return res
        stage = "call with dout"
        _, vjp = g(*call_args, dout=dout_arg)
        stage = "written module"
        ns = {}
        exec(g.source, ns)  # symdiff's generated module (verified by symdiff)
        mod_value, mod_grads = ns[fname](*[a.copy() if isinstance(a, np.ndarray) else a
                                           for a in call_args])
        fwd = ns.get(fname + "_forward")
        layer = None
        if fwd is not None:
            out_, cache = fwd(*[a.copy() if isinstance(a, np.ndarray) else a for a in call_args])
            layer = ns[fname + "_backward"](dout_arg, cache)
        stage = "done"
    except Timeout:
        res.update(status="crash", detail=f"hang (>30 s) in {stage}")
        return res
    except symdiff.SymdiffError as e:
        res.update(status="refused" if stage == "compile" or stage == "call" else "crash",
                   detail=f"{stage}: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
        return res
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exc().strip().splitlines()
        where = next((ln.strip() for ln in reversed(tb) if "symdiff/" in ln), "")
        res.update(status="crash", detail=f"{stage}: {type(e).__name__}: {str(e)[:300]} "
                   f"[{where}]")
        return res
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)

    problems = []
    got = _as_tuple(value) if not single else (value,)
    if len(got) != len(expected):
        problems.append(("value", f"{len(got)} outputs, expected {len(expected)}"))
    else:
        for k, (a, b) in enumerate(zip(got, expected)):
            if np.shape(a) != np.shape(b) or not _close(a, b, 1e-9, 1e-10):
                problems.append(("value", f"output {k}: got {np.asarray(a).tolist()} expected "
                                 f"{np.asarray(b).tolist()}"))
    for n in wrt:
        if np.shape(grads[n]) != np.shape(args[n]) or np.shape(vjp[n]) != np.shape(args[n]):
            problems.append(("shape", f"d{n} shape {np.shape(grads[n])} vs {np.shape(args[n])}"))
    # ---- the written module and the layer API give g's numbers
    mod_vals = _as_tuple(mod_value) if not single else (mod_value,)
    for a, b in zip(mod_vals, got):
        if not _close(a, b, 1e-12, 1e-13):
            problems.append(("module", "written module's value differs from g's"))
    for n in wrt:
        if not _close(mod_grads[n], grads[n], 1e-12, 1e-13):
            problems.append(("module", f"written module's d{n} differs from g's"))
        if layer is not None and not _close(layer[n], vjp[n], 1e-12, 1e-13):
            problems.append(("module", f"written {fname}_backward's d{n} differs from g's vjp"))
    if problems and problems[0][0] in ("value", "shape"):
        res.update(status="wrong", detail="; ".join(p[1] for p in problems)[:1500])
        return res
    # ---- gradients: JAX, confirmed by central differences
    jax, jnp = _get_jax()
    ones = [np.ones(np.shape(e)) for e in expected]
    oracle = {}
    try:
        fixed = {k: v for k, v in args.items() if k not in wrt}

        def fn(*xs):
            a2 = dict(fixed)
            a2.update(zip(wrt, xs))
            ns2 = {"np": jnp}
            exec(compile(jsrc, "<fuzz program>", "exec"), ns2)
            out = ns2[fname](*[a2[n] for n in names])
            return out if single else tuple(out)
        def cotangent(ds):
            return jnp.asarray(ds[0], dtype=jnp.float64) if single else tuple(
                jnp.asarray(d, dtype=jnp.float64) for d in ds)

        def both(xs, c1, c2):
            _, pull = jax.vjp(fn, *xs)
            return pull(c1), pull(c2)

        xs = [jnp.asarray(args[n], dtype=jnp.float64) for n in wrt]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:  # one XLA compilation for the whole program
                r1, r2 = jax.jit(both)(xs, cotangent(douts), cotangent(ones))
            except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                    jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError):
                res["jax_eager"] = True
                r1, r2 = both(xs, cotangent(douts), cotangent(ones))  # branches on values
        oracle["vjp"] = dict(zip(wrt, (np.asarray(q) for q in r1)))
        oracle["sum"] = dict(zip(wrt, (np.asarray(q) for q in r2)))
    except Exception as e:  # noqa: BLE001 - a form JAX refuses: central differences only
        res["jax"] = f"{type(e).__name__}: {str(e)[:120]}"
    verdicts = []
    for label, ds, mine in (("vjp", douts, vjp), ("sum", ones, grads)):
        for n in wrt:
            ref = oracle.get(label, {}).get(n)
            if ref is not None and _close(mine[n], ref, 1e-7, 1e-9):
                continue
            cd = central_vjp(src, fname, names, args, n, ds)
            sym_ok = _close(mine[n], cd, 1e-4, 1e-5)
            if ref is None:
                if not sym_ok:
                    verdicts.append(("wrong", f"d{n} ({label}): got {np.asarray(mine[n]).tolist()}"
                                     f" central {cd.tolist()}"))
                continue
            jax_ok = _close(ref, cd, 1e-4, 1e-5)
            if sym_ok:
                res.setdefault("notes", []).append(f"JAX differs on d{n} ({label})")
            elif jax_ok:
                verdicts.append(("wrong", f"d{n} ({label}): got {np.asarray(mine[n]).tolist()} "
                                 f"jax {ref.tolist()} central {cd.tolist()}"))
            else:
                verdicts.append(("kink", f"d{n} ({label}): got {np.asarray(mine[n]).tolist()} "
                                 f"jax {ref.tolist()} central {cd.tolist()}"))
    if any(v == "wrong" for v, _ in verdicts):
        res.update(status="wrong", detail="; ".join(d for _, d in verdicts)[:1500])
    elif problems:
        res.update(status="wrong", detail="; ".join(p[1] for p in problems)[:1500])
    elif verdicts:
        res.update(status="kink", detail="; ".join(d for _, d in verdicts)[:1500])
    else:
        res["status"] = "ok"
    return res


def _worker(seed):
    try:
        return check_one(seed)
    except Exception as e:  # noqa: BLE001 - a fuzzer bug must not stop the run
        return {"seed": seed, "status": "invalid", "detail": f"fuzzer: {type(e).__name__}: {e}"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300, help="how many programs")
    p.add_argument("--seed", type=int, default=0, help="the first program's seed")
    p.add_argument("--jobs", type=int, default=2, help="worker processes")
    p.add_argument("--out", default="/tmp/fuzz_jax_results.json",
                   help="where to write every non-ok result (JSON)")
    p.add_argument("--replay", type=int, help="run one seed verbosely")
    p.add_argument("--show", action="store_true", help="print every program")
    a = p.parse_args(argv)
    os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 "
                          "--xla_llvm_disable_expensive_passes=true")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if a.replay is not None:
        res = check_one(a.replay, verbose=True)
        print(json.dumps({k: v for k, v in res.items() if k != "src"}, indent=1))
        return 0 if res["status"] in ("ok", "invalid") else 1
    seeds = range(a.seed, a.seed + a.n)
    t0 = time.time()
    results = []
    if a.jobs > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(a.jobs) as pool:
            for k, res in enumerate(pool.imap_unordered(_worker, seeds, chunksize=8)):
                results.append(res)
                if a.show and "src" in res:
                    print(res["src"])
                if (k + 1) % 250 == 0:
                    c = Counter(r["status"] for r in results)
                    print(f"[{k + 1}/{a.n} {time.time() - t0:.0f}s] {dict(c)}", file=sys.stderr)
    else:
        for k, s in enumerate(seeds):
            res = _worker(s)
            results.append(res)
            if a.show and "src" in res:
                print(res["src"])
            if (k + 1) % 250 == 0:
                c = Counter(r["status"] for r in results)
                print(f"[{k + 1}/{a.n} {time.time() - t0:.0f}s] {dict(c)}", file=sys.stderr)
    counts = Counter(r["status"] for r in results)
    feats = Counter(f for r in results for f in r.get("features", ()))
    bad = sorted((r for r in results if r["status"] not in ("ok", "invalid")),
                 key=lambda r: r["seed"])
    with open(a.out, "w") as fh:
        json.dump({"counts": counts, "features": feats, "bad": bad,
                   "invalid": [r for r in results if r["status"] == "invalid"][:50]}, fh,
                  indent=1, default=str)
    print(f"{a.n} programs in {time.time() - t0:.0f} s: " +
          ", ".join(f"{k} {counts.get(k, 0)}" for k in
                    ("ok", "wrong", "crash", "refused", "kink", "invalid")))
    for r in bad:
        print(f"--- seed {r['seed']}: {r['status']}: {r.get('detail', '')[:300]}")
    print(f"(details in {a.out})")
    return 1 if counts.get("wrong") or counts.get("crash") else 0


if __name__ == "__main__":
    sys.exit(main())
