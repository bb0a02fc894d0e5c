"""Rolled loops of NumPy code whose steps are numbers run on Python floats (codegen/loops.py).

``y = a * y + np.tanh(x[i])`` costs a NumPy scalar operation per op and step; on floats, with
``x.tolist()`` read by position, it costs what a hand-written Python loop does. Such a step must
compute what the unrolled program computes, to rounding, including where an input is inf or nan
(only ops whose ``math`` spelling gives NumPy's answer there, to rounding, run on floats; the
results are NumPy numbers again after the loop), in the layer API and in written modules; steps
with other ops, code for other float dtypes than float64 and numba's code stay NumPy.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdiff
from examples_support import import_path
from symdiff.codegen import loops
from symdiff.check import numeric_gradient
from test_rolled import _same, expressions

FILTER = ("def f(x, a):\n    y = 0.0\n    s = 0.0\n    for i in range(len(x)):\n"
          "        y = a * y + np.tanh(x[i])\n        s = s + y * y\n    return s\n")


def _on_floats(g) -> bool:
    return ".tolist()" in g.source


def _agree(source, args, rtol=1e-10):
    """The loop on floats, the NumPy loop of the unrolled program: same value and gradients."""
    g, unrolled = symdiff.compile(source, loops="roll"), symdiff.compile(source, loops="unroll")
    value, grads = g(*args)
    expected, expected_grads = unrolled(*args)
    _same(value, expected, rtol)
    for name in expected_grads:
        _same(grads[name], expected_grads[name], rtol)
    return g, value, grads


def test_a_filter_runs_on_floats_and_agrees():
    x, a = np.linspace(-1, 1, 50), 0.9
    g, value, grads = _agree(FILTER, (x, a))
    assert _on_floats(g), g.source
    assert "x_list = x.tolist()" in g.source and "math.tanh(" in g.source
    for name in ("x", "a"):
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"x": x, "a": a}, name)
        _same(grads[name], numeric, rtol=1e-6, atol=1e-8)
    y, total, ys = 0.0, 0.0, []
    for xi in x:  # the closed form: the filter by hand
        y = a * y + np.tanh(xi)
        total += y * y
        ys.append(y)
    _same(value, total)
    assert isinstance(value, float) and isinstance(grads["a"], float)


def test_layer_api_and_written_module(tmp_path):
    x, a = np.linspace(-1, 1, 20), 0.8
    g = symdiff.compile(FILTER, loops="roll")
    value, grads = g(x, a)
    out, cache = g.forward(x, a)
    back = g.backward(2.0, cache)
    _same(out, value)
    for name in grads:
        _same(back[name], 2.0 * np.asarray(grads[name]))
    path = tmp_path / "filter_module.py"
    g.write(path)
    text = path.read_text()
    assert "import math" in text and ".tolist()" in text
    module = import_path(path, "filter_module")
    module_value, module_grads = module.f(x, a)
    _same(module_value, value)
    for name in grads:
        _same(module_grads[name], grads[name])


BAD_INPUTS = [  # each body meets a value where Python's math raises or differs from NumPy
    ("y = a * y + x[i] * x[i] - 2.0 * x[i] + np.tanh(y)", np.inf),
    ("y = a * y + x[i] * x[i] - 2.0 * x[i] + np.tanh(y)", -np.inf),
    ("y = a * y + x[i] * x[i] - 2.0 * x[i] + np.tanh(y)", np.nan),
    ("y = a * y + np.sin(x[i])", np.inf),
    ("y = a * y + np.cos(x[i]) * np.sin(x[i])", np.nan),
    ("y = a * y + np.tan(x[i])", -np.inf),
    ("y = a * y + 1.0 / x[i]", 0.0),
    ("y = a * y + x[i] / (x[i] - 0.5)", 0.5),
    ("y = a * y + np.exp(x[i])", 800.0),
    ("y = a * y + np.log(x[i] + 1.0)", -1.0),
    ("y = a * y + np.sqrt(x[i] + 0.5)", -0.75),
    ("y = a * y + 1.0 / (1.0 + np.exp(-x[i]))", -800.0),
]


@pytest.mark.parametrize("body, bad", BAD_INPUTS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_inf_nan_and_domain_errors_give_numpys_answer(body, bad, monkeypatch):
    x = np.linspace(0.1, 0.9, 8)
    x[3] = bad
    source = FILTER.replace("y = a * y + np.tanh(x[i])", body)
    g = symdiff.compile(source, loops="roll")
    value, grads = g(x, 0.5)
    assert _on_floats(g)
    # The same rolled loop in NumPy (the unrolled program's sums may meet inf - inf elsewhere).
    monkeypatch.setattr(loops, "SAME_ON_FLOATS", frozenset())
    monkeypatch.setattr(loops, "GUARDS", {})
    numpy_steps = symdiff.compile(source, loops="roll", name="numpy_steps")
    expected, expected_grads = numpy_steps(x, 0.5)
    assert not _on_floats(numpy_steps)
    _same(value, expected)  # assert_allclose: nan exactly where NumPy has nan
    for name in grads:
        _same(grads[name], expected_grads[name])


@pytest.mark.parametrize("after", ["np.abs(y ** 0.5)", "1.0 / y", "y ** 3 * 1e300", "y % 0.0"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_after_the_loop_its_results_are_numpy_numbers_again(after, monkeypatch):
    """A float's arithmetic after the loop would be Python's: (-1.0) ** 0.5 is complex, 1.0 / 0.0
    raises. The loop's results and gradients go back to NumPy numbers (a review found these)."""
    source = ("def f(x, a):\n    y = 0.0\n    for i in range(len(x)):\n        y = a * y + x[i]\n"
              f"    return {after}\n")
    x = -np.ones(3) if "0.5" in after else np.zeros(3) if "1.0 /" in after else np.full(3, 1e200)
    g = symdiff.compile(source, loops="roll")
    value, grads = g(x, 0.5)
    assert _on_floats(g)
    assert type(value) is not float  # np.float64: the general path returns what NumPy gave
    monkeypatch.setattr(loops, "SAME_ON_FLOATS", frozenset())
    monkeypatch.setattr(loops, "GUARDS", {})
    expected, expected_grads = symdiff.compile(source, loops="roll", name="numpy_steps")(x, 0.5)
    _same(value, expected)
    for name in grads:
        _same(grads[name], expected_grads[name])


def test_logical_ops_treat_numbers_as_numpy_does():
    """2.0 and 3.0 is True to NumPy, 3.0 to Python; 2.0 != 3.0 is not xor (a review found it in
    the math twin too)."""
    source = ("def f(x, a):\n    y = 0.0\n    for i in range(len(x)):\n"
              "        y = 0.5 * y + np.logical_xor(x[i], a) * 1.0 + np.logical_and(x[i], a) * a"
              " + np.logical_or(x[i] - 2.0, 0.0 * a) + np.logical_not(x[i] - 3.0)\n"
              "    return y\n")
    x = np.array([2.0, 3.0, 0.0, np.nan])
    g, value, _ = _agree(source, (x, 3.0))
    assert _on_floats(g)
    twin = symdiff.compile("def t(x, a):\n    return np.logical_and(x, a) * a + "
                           "np.logical_xor(x, a) + np.logical_or(x - 2.0, 0.0 * a) + "
                           "np.logical_not(x - 2.0)\n")
    for point in ((2.0, 3.0), (0.0, 3.0), (2.0, 0.0), (float("nan"), 0.0)):
        _same(twin(*point)[0], twin(*(np.array(p) for p in point))[0])  # floats: the math twin


def test_other_float_dtypes_stay_numpy():
    x = np.array([0.3, 0.7], dtype=np.float16)
    g = symdiff.compile(FILTER, loops="roll")
    g(x, np.float16(0.5))
    assert "tolist" not in g._last.source


def test_the_layer_backward_converts_only_what_it_reads():
    source = FILTER.replace("np.tanh(x[i])", "np.expm1(x[i])")  # its gradient reads the value
    g = symdiff.compile(source, loops="roll")
    g(np.linspace(-1, 1, 8), 0.5)
    backward = g.source[g.source.index("def f_backward("):]
    assert "x_list" not in backward and "a_2 = float(a)" in backward  # its step reads a, not x


@pytest.mark.parametrize("body, why", [
    ("y = np.maximum(a * y, x[i])", "max() drops a nan"),
    ("y = a * y + np.abs(x[i])", "its gradient's sign(nan) is 0.0"),
    ("y = (a * y) ** x[i]", "a power other than a square"),
])
def test_steps_with_other_ops_stay_numpy(body, why):
    source = FILTER.replace("y = a * y + np.tanh(x[i])", body)
    g, _, _ = _agree(source, (np.linspace(0.1, 1, 12), 0.7))
    assert not _on_floats(g), why


def test_float32_and_numba_stay_numpy():  # (float16: test_other_float_dtypes_stay_numpy)
    x = np.linspace(-1, 1, 12)
    g = symdiff.compile(FILTER, loops="roll")
    g(x.astype(np.float32), np.float32(0.5))
    assert "tolist" not in g._last.source
    if importlib.util.find_spec("numba") is None:
        return
    native = symdiff.compile(FILTER, loops="roll", backend="numba")
    value, grads = native(x, 0.5)
    assert "tolist" not in native._last.source
    expected, expected_grads = g(x, 0.5)
    _same(value, expected)


SAME_UNARY = ("np.tanh({0})", "0.5 * ({0})", "({0}) ** 2", "-({0})", "np.sin({0})",
              "np.exp(np.tanh({0}))", "np.where(({0}) > 0.2, {0}, 0.3)", "np.arctan({0})",
              "np.sqrt(1.5 + np.tanh({0}))", "np.log(1.5 + np.tanh({0}))")  # not abs: sign(nan)
SAME_BINARY = ("({0}) + ({1})", "({0}) - ({1})", "({0}) * ({1})", "({0}) / (1 + ({1}) ** 2)")


@settings(max_examples=40, deadline=None)
@given(expressions(3, ("a", "y", "x[i]", "x[i + 1]", "0.1 * i", "1.5"), SAME_UNARY, SAME_BINARY),
       st.integers(0, 2 ** 16))
def test_random_steps_on_floats_agree_with_unrolled_and_central_differences(body, seed):
    source = ("def f(x, a, y):\n    s = 0.0\n    for i in range(len(x) - 1):\n"
              f"        y = 0.5 * np.tanh({body}) + 0.3 * y\n        s = s + y * x[i]\n    return s + y\n")
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.uniform(-1, 1, 6), "a": float(rng.uniform(-1, 1)),
              "y": float(rng.uniform(-1, 1))}
    g, _, grads = _agree(source, tuple(inputs.values()), rtol=1e-9)
    assert _on_floats(g), g.source
    if "np.where" in body:
        return  # a kink: central differences may straddle it
    for name in inputs:
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], inputs, name)
        _same(grads[name], numeric, rtol=1e-5, atol=1e-7)
