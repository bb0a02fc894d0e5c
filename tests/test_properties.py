"""Property tests over random formulas: four ways of computing a gradient must agree.

A hypothesis strategy writes random well-formed formulas over ``x, y, z`` (depth <= 4) from the
arithmetic operators, ``**2``, ``**3`` and the elementary functions, guarded by construction so that
every value is finite: division only by ``1 + e*e``, ``log(1 + e*e)``, ``sqrt(1 + e*e)`` and
``exp(tanh(e))``. At a random point (coordinates in [-2, 2], at least 0.1 from 0):

(a) the compiled function on Python floats (its pure-``math`` twin),
(b) the compiled function on 1-element arrays (its NumPy code),
(c) the node-by-node :class:`~symdiff.ad.interpret.Interpreter` over the same graph, and
(d) central differences of the compiled value,

must give the same value and gradients. Points within 1e-3 of a kink (abs, relu, max, min, sign)
are rejected with ``assume``, using the interpreter's values of every node.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import symdiff
from symdiff.check import numeric_gradient
from symdiff.compiler import Compiled
from symdiff.frontend.parse import parse
from symdiff.ad.interpret import Interpreter

VARIABLES = ("x", "y", "z")
MAX_DEPTH = 4
RTOL = 1e-5
ATOL = 1e-8
VALUE_RTOL = 1e-9
KINK_DISTANCE = 1e-3
KINK_OPS = ("abs", "relu", "maximum", "minimum", "sign")
EPS = np.finfo(float).eps
C_ROUND = 16

# Every function argument is parenthesized, so no precedence question arises.
UNARY = (
    "-({0})", "({0})**2", "({0})**3", "exp(tanh({0}))", "log(1 + ({0})*({0}))",
    "sin({0})", "cos({0})", "tanh({0})", "sqrt(1 + ({0})*({0}))", "sigmoid({0})",
    "softplus({0})", "abs({0})", "relu({0})",
)
BINARY = (
    "({0}) + ({1})", "({0}) - ({1})", "({0}) * ({1})", "({0}) / (1 + ({1})*({1}))",
    "max({0}, {1})", "min({0}, {1})",
)
LEAVES = VARIABLES + ("0.5", "2", "-1.5")


def expressions(depth: int = MAX_DEPTH) -> st.SearchStrategy[str]:
    """Formula strings of nesting depth at most ``depth``; variables are drawn more often."""
    leaf = st.one_of(st.sampled_from(VARIABLES), st.sampled_from(LEAVES))
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    unary = st.builds(lambda f, a: f.format(a), st.sampled_from(UNARY), sub)
    binary = st.builds(lambda f, a, b: f.format(a, b), st.sampled_from(BINARY), sub, sub)
    # A leaf one time in five below the root keeps trees from being mostly single names.
    return st.one_of(leaf, unary, binary, unary, binary)


FORMULAS = expressions()
COORDINATE = st.builds(lambda m, s: m if s else -m, st.floats(0.1, 2.0), st.booleans())
POINTS = st.fixed_dictionaries({v: COORDINATE for v in VARIABLES})


# ============================================================================ helpers
def kink_distance(interpreter: Interpreter) -> float:
    """How close the point is to a kink of any abs/relu/max/min/sign node (inf if none)."""
    graph, values = interpreter.graph, interpreter.values
    distance = math.inf
    for n in interpreter.order:
        node = graph[n]
        if node.op not in KINK_OPS:
            continue
        if node.op in ("maximum", "minimum"):
            a, b = node.args
            if a == b:          # max(e, e) is e: no kink
                continue
            gap = np.abs(values[a] - values[b])
        else:
            gap = np.abs(values[node.args[0]])
        distance = min(distance, float(np.min(gap)))
    return distance


def magnitude(interpreter: Interpreter) -> float:
    """The largest |value| of any node: the scale of the rounding error in the output."""
    return max((float(np.max(np.abs(v))) for v in interpreter.values.values()), default=0.0)


def assert_close(actual, expected, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert np.all(np.isfinite(actual)), f"{what}: {actual} is not finite"
    assert np.all(np.abs(actual - expected) <= atol + rtol * np.maximum(np.abs(actual),
                                                                        np.abs(expected))), \
        f"{what}: {actual!r} != {expected!r}"


# ============================================================================ properties
@settings(max_examples=400)
@given(src=FORMULAS, point=POINTS)
def test_four_engines_agree(src, point):
    compiled = symdiff.compile(src)
    params = compiled.params
    floats = {p: point[p] for p in params}
    arrays = {p: np.array([point[p]]) for p in params}
    note(f"formula: {src}\nsource:\n{compiled.source}")

    # (c) first: its values of every node decide whether the point is near a kink.
    interpreter = Interpreter(compiled.graph)
    i_value = interpreter.forward(**arrays)
    assume(kink_distance(interpreter) > KINK_DISTANCE)
    i_grads = interpreter.backward()
    scale = magnitude(interpreter)

    # Underflow (exp(-large) in sigmoid, e.g.) is an exact enough 0; nothing else may happen.
    with np.errstate(all="raise", under="ignore"):
        f_value, f_grads = compiled(**floats)                     # (a)
        a_value, a_grads = compiled(**arrays)                     # (b)
        numeric = {p: numeric_gradient(lambda **kw: compiled(**kw)[0], floats, p)
                   for p in params}                               # (d)

    assert np.shape(a_value) == ((1,) if params else ())
    value_atol = 4 * EPS * scale
    assert_close(f_value, a_value, "value: float path vs NumPy path", VALUE_RTOL, value_atol)
    assert_close(i_value, a_value, "value: interpreter vs NumPy path", VALUE_RTOL, value_atol)
    assert list(f_grads) == list(a_grads) == list(i_grads) == params

    for p in params:
        assert np.shape(a_grads[p]) == (1,), f"d{p} has shape {np.shape(a_grads[p])}"
        assert a_grads[p].dtype == np.float64, f"d{p} has dtype {a_grads[p].dtype}"
        assert_close(f_grads[p], a_grads[p], f"d{p}: float path vs NumPy path")
        assert_close(i_grads[p], a_grads[p], f"d{p}: interpreter vs NumPy path")
        # Central differences lose about eps * (largest intermediate value) / step to rounding.
        step = 6e-6 * max(abs(point[p]), 1e-3)
        atol = ATOL + C_ROUND * EPS * scale / step
        assert_close(a_grads[p], numeric[p], f"d{p}: NumPy path vs central differences",
                     atol=atol)


def fresh_compile(src: str) -> Compiled:
    """Compile ``src`` from scratch, around symdiff.compile's cache of compiled programs."""
    return Compiled(parse(src))


@settings(max_examples=100)
@given(src=FORMULAS)
def test_generated_source_is_deterministic(src):
    first = fresh_compile(src).source
    second = fresh_compile(src).source
    assert first == second
    assert symdiff.compile(src).source == first


# Formulas for the cross-process check: every op of the grammar, shared subexpressions, kinks.
CROSS_PROCESS_FORMULAS = [
    "(x + y) * z - x / (1 + y*y)",
    "exp(tanh(x*y)) + log(1 + z*z) * sqrt(1 + x*x)",
    "sigmoid(x) * softplus(y) - tanh(z)**3 + sin(x)**2 * cos(y)",
    "max(x, y) - min(y, z) + abs(x*z) + relu(y - x)",
    "-(max(relu(x), abs(y)) * (x*y)**2) / (1 + (x - z)*(x - z))",
]


def test_generated_source_does_not_depend_on_hash_seed():
    """Set and dict orders must not leak into the text: compile in processes with other seeds."""
    script = ("import json, sys, symdiff\n"
              "print(json.dumps([symdiff.compile(s).source for s in json.loads(sys.argv[1])]))")
    here = [fresh_compile(src).source for src in CROSS_PROCESS_FORMULAS]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", script, json.dumps(CROSS_PROCESS_FORMULAS)],
                                env=env, capture_output=True, text=True, check=True, timeout=120)
        assert json.loads(result.stdout) == here


def _import_file(source: str, directory: str):
    """Import ``source`` as a module from a file, in a namespace of its own."""
    name = f"symdiff_generated_{uuid.uuid4().hex}"
    path = Path(directory) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=100)
@given(src=FORMULAS, point=POINTS)
def test_generated_module_stands_alone(src, point):
    """.source, imported from a file, computes exactly what the compiled function does."""
    compiled = symdiff.compile(src)
    params = compiled.params
    floats = {p: point[p] for p in params}
    arrays = {p: np.array([point[p], -point[p]]) for p in params}
    with np.errstate(all="ignore"):
        by_floats = compiled(**floats)      # first, so that a float twin written lazily exists
        by_arrays = compiled(**arrays)
    with tempfile.TemporaryDirectory() as directory:
        module = _import_file(compiled.source, directory)
    with np.errstate(all="ignore"):
        got = module.f(**arrays)
    np.testing.assert_array_equal(got[0], by_arrays[0])
    assert list(got[1]) == list(by_arrays[1]) == params
    for p in params:
        np.testing.assert_array_equal(got[1][p], by_arrays[1][p])
    if hasattr(module, "f_scalar"):
        value, grads = module.f_scalar(**floats)
        assert float(value) == float(by_floats[0])
        assert list(grads) == list(by_floats[1])
        for p in params:
            assert float(grads[p]) == float(by_floats[1][p])
