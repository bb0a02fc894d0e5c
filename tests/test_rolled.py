"""Rolled loops (symdiff/frontend/rolled.py): a loop whose steps are alike stays a loop.

The rolled program must compute what the unrolled one computes: the same value and gradients (to
rounding), in NumPy and in the ``math`` twin, for float32, in the layer API and in written modules.
Random loop bodies (hypothesis) are compiled both ways (rolling switched off with
``loops="unroll"``) and against central differences.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdiff
from examples_support import import_path
from symdiff.ad.interpret import Interpreter
from symdiff.check import numeric_gradient

RECURRENCE = ("def f(x, y):\n    for i in range({K}):\n"
              "        x = np.sin(x) * y + np.cos(x * y)\n    return x\n")


def _compile(source, rolling, **options):
    """Compile ``source`` with its loops rolled (where they allow) or unrolled. Vectorizing
    (frontend/vectorized.py, compared with both in tests/test_vectorized.py) is off: these
    tests are about the loops that stay loops."""
    return symdiff.compile(source, loops="roll" if rolling else "unroll", **options)


def _is_rolled(g) -> bool:
    return any(g.graph[n].op == "loop" for n in range(len(g.graph)))


def _same(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


def _agree(source, args, rolls=True, rtol=1e-10):
    """The rolled and the unrolled program give the same value and gradients."""
    rolled_g, unrolled_g = _compile(source, True), _compile(source, False)
    value, grads = rolled_g(*args)
    assert rolls is None or _is_rolled(rolled_g) is rolls, rolled_g.source
    expected, expected_grads = unrolled_g(*args)
    _same(value, expected, rtol)
    assert grads.keys() == expected_grads.keys()
    for name in grads:
        _same(grads[name], expected_grads[name], rtol)
    return rolled_g, value, grads


# ---------------------------------------------------------------------------- the recurrence
def test_the_recurrence_stays_a_forward_loop_and_a_backward_loop():
    g = _compile(RECURRENCE.format(K=1000), True)
    value, grads = g(0.3, 0.7)
    source = g.source
    assert "for i in range(1000):" in source and "for i in range(999, -1, -1):" in source
    assert source.count("np.sin(") < 10  # the body once, not 1000 times
    _agree(RECURRENCE.format(K=50), (0.3, 0.7))
    _agree(RECURRENCE.format(K=50), (np.array([0.3, -0.2]), 0.7))
    _agree(RECURRENCE.format(K=50), (0.3, np.array([0.7, 0.1])))  # x broadcasts at step 0


def test_compile_time_does_not_grow_with_the_steps():
    for K in (1000, 10 ** 6):
        start = time.perf_counter()
        g = _compile(RECURRENCE.format(K=K), True)
        g.source  # noqa: B018 -- the module is written on first use
        assert time.perf_counter() - start < 2.0
    value, grads = g(0.3, 0.7)
    assert np.isfinite(value) and np.isfinite(grads["y"])


def test_gradients_match_central_differences():
    g, value, grads = _agree(RECURRENCE.format(K=20), (0.3, np.array([0.7, 0.4])))
    inputs = {"x": 0.3, "y": np.array([0.7, 0.4])}
    for name in inputs:
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], inputs, name)
        _same(grads[name], numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------- what rolls
PROGRAMS = {
    "sum of terms": ("def f(x, y):\n    s = 0.0\n    for i in range(4):\n"
                     "        s = s + x[i] * y\n    return s\n",
                     (np.array([1.0, 2, 3, 4]), 0.5)),
    "counter as a value": ("def f(x, y):\n    s = 0.0\n    for i in range(1, 4):\n"
                           "        s = s + np.tanh(x[i] * s + y) * i\n    return s\n",
                           (np.array([1.0, 2, 3, 4]), 0.5)),
    "two carried, one temporary": ("def f(a, b):\n    for i in range(6):\n"
                                   "        a, b = b * a, a + 0.5 * b\n        t = a - b\n"
                                   "    return a + b + t\n", (0.3, 0.2)),
    "a matrix layer": ("def f(W, h):\n    for i in range(3):\n        h = np.tanh(W @ h)\n"
                       "    return np.sum(h)\n",
                       (np.arange(9.0).reshape(3, 3) / 10, np.array([0.1, -0.2, 0.3]))),
    "a branch on the counter": ("def f(x):\n    for i in range(4):\n        if i == 2:\n"
                                "            x = x * 2\n        x = x + i\n    return x\n", (0.5,)),
    "a branch on values": ("def f(x):\n    for i in range(4):\n        if x > 1:\n"
                           "            x = x / 2\n        else:\n            x = x * 3\n"
                           "    return x\n", (0.5,)),
    "a step of 2": ("def f(x, w):\n    for i in range(1, 7, 2):\n        x = np.sin(x * w[i])\n"
                    "    return x\n", (0.4, np.linspace(0.1, 0.9, 7))),
    "rows of a matrix": ("def f(X, h):\n    for i in range(3):\n        h = np.tanh(X[i] * h + 1)\n"
                         "    return np.sum(h * h)\n",
                         (np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0.1, 0.4, 4))),
    "a helper function": ("def step(h, x):\n    return np.tanh(h + x)\n\n"
                          "def f(h, x):\n    for i in range(5):\n        h = step(h, x) * 0.9\n"
                          "    return h\n", (0.1, 0.3)),
    "neighbours (Rosenbrock)": ("def f(x):\n    s = 0.0\n    for i in range(5):\n"
                                "        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + "
                                "(1.0 - x[i]) ** 2\n    return s\n", (np.linspace(-1, 1.5, 6),)),
    "counter arithmetic": ("def f(x, W):\n    for i in range(3):\n"
                           "        x = np.tanh(W[2 * i + 1] * x + W[5 - i, i] + i * 0.5)\n"
                           "    return np.sum(x)\n",
                           (np.array([0.2, -0.4, 0.1]), np.linspace(-1, 1, 18).reshape(6, 3))),
    "an update in place": ("def f(x, y):\n    for i in range(4):\n        x *= np.cos(y)\n"
                           "        x += y\n    return np.sum(x)\n", (np.array([0.5, 1.0]), 0.3)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_rolled_programs_agree_with_unrolled(name):
    source, args = PROGRAMS[name]
    _agree(source, args)


FALLBACKS = {
    "a list grows": ("def f(x):\n    hs = []\n    for i in range(3):\n        x = x * 2\n"
                     "        hs.append(x)\n    return sum(hs)\n", (0.5,)),
    "break": ("def f(x):\n    for i in range(5):\n        if i == 3:\n            break\n"
              "        x = x * 2\n    return x\n", (0.5,)),
    "shape changes": ("def f(x, W):\n    h = 0.0\n    for i in range(3):\n"
                      "        h = np.tanh(W @ x + h)\n    return np.sum(h)\n",
                      (np.array([0.1, 0.2]), np.eye(2))),
    "slice by the counter": ("def f(x):\n    s = 0.0\n    for i in range(3):\n"
                             "        s = s + np.sum(x[i:i + 2])\n    return s\n",
                             (np.arange(5.0),)),
    "range of the counter": ("def f(x):\n    s = 0.0\n    for i in range(4):\n"
                             "        for j in range(i):\n            s = s + x * j\n"
                             "    return s\n", (0.5,)),  # the inner loops roll on their own
    "aliased array": ("def f(x):\n    y = x * 1.0\n    z = y\n    for i in range(3):\n"
                      "        y += 1.0\n    return np.sum(z * y)\n", (np.array([0.5, 1.0]),)),
    "unchanged carried": ("def f(a, b):\n    for i in range(3):\n        a, b = b, a\n"
                          "    return a * 2 + b\n", (0.5, 1.5)),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_loops_that_do_not_roll_unroll_as_before(name):
    source, args = FALLBACKS[name]
    _agree(source, args, rolls=None if name == "range of the counter" else False)


def test_a_million_steps_are_accepted_only_rolled():
    source = "def f(x):\n    hs = []\n    for i in range(1000000):\n        hs.append(x)\n" \
             "    return sum(hs)\n"
    with pytest.raises(symdiff.SymdiffError, match="range of 1,000,000 steps"):
        _compile(source, True)(0.5)


# ---------------------------------------------------------------------------- engines
def test_interpreter_runs_rolled_loops():
    source, args = PROGRAMS["rows of a matrix"]
    g = _compile(source, True)
    value, grads = g(*args)
    interpreter = Interpreter(g.graph)
    inputs = dict(zip(g.params, args))
    _same(interpreter.forward(**inputs), value)
    for name, grad in interpreter.backward().items():
        _same(grad, grads[name])


def test_float32_stays_float32():
    source, (X, h) = PROGRAMS["rows of a matrix"]
    g = _compile(source, True)
    value, grads = g(X.astype(np.float32), h.astype(np.float32))
    expected, expected_grads = g(X, h)
    assert np.asarray(value).dtype == np.float32
    assert all(np.asarray(v).dtype == np.float32 for v in grads.values())
    _same(value, expected, rtol=1e-5, atol=1e-6)
    for name in grads:
        _same(grads[name], expected_grads[name], rtol=1e-4, atol=1e-5)


def test_layer_api_and_written_module(tmp_path):
    source, (X, h) = PROGRAMS["rows of a matrix"]
    source = source.replace("np.sum(h * h)", "h * h")
    g, u = _compile(source, True), _compile(source, False)
    out, cache = g.forward(X, h)
    dout = np.linspace(-1, 1, out.size).reshape(out.shape)
    grads = g.backward(dout, cache)
    expected_out, expected_cache = u.forward(X, h)
    expected = u.backward(dout, expected_cache)
    _same(out, expected_out)
    for name in expected:
        _same(grads[name], expected[name])
    path = tmp_path / "rolled_module.py"
    g.write(path, check=True)
    text = path.read_text()
    assert "for i in range(3):" in text and "for i in range(2, -1, -1):" in text
    module = import_path(path, "rolled_module")
    value, module_grads = module.f(X, h)
    _same(value, expected_out)
    out2, cache2 = module.f_forward(X, h)
    for name, grad in module.f_backward(dout, cache2).items():
        _same(grad, expected[name])
    assert module.check_gradients() < 1e-5


def test_math_twin_matches_numpy():
    g = _compile(RECURRENCE.format(K=30), True)
    value, grads = g(0.3, 0.7)  # Python floats: the math twin
    array_value, array_grads = g(np.array(0.3), np.array(0.7))
    _same(value, array_value)
    for name in grads:
        _same(grads[name], array_grads[name])


# ---------------------------------------------------------------------------- random bodies
UNARY = ("np.sin({0})", "np.cos({0})", "np.tanh({0})", "0.5 * ({0})", "({0}) ** 2",
         "np.exp(np.tanh({0}))")
BINARY = ("({0}) + ({1})", "({0}) - ({1})", "({0}) * ({1})", "({0}) / (1 + ({1}) ** 2)")
LEAVES = ("a", "b", "y", "x[i]", "x[i + 1]", "0.1 * i", "1.5")


def expressions(depth: int, leaves=LEAVES, unary=UNARY, binary=BINARY):
    """Random expression texts of ``leaves`` (tests/test_vectorized.py draws its own)."""
    leaf = st.sampled_from(leaves)
    if depth == 0:
        return leaf
    inner = expressions(depth - 1, leaves, unary, binary)
    return st.one_of(leaf, st.tuples(st.sampled_from(unary), inner).map(lambda p: p[0].format(p[1])),
                     st.tuples(st.sampled_from(binary), inner, inner)
                     .map(lambda p: p[0].format(p[1], p[2])))


@st.composite
def loop_programs(draw):
    steps = draw(st.integers(2, 4))
    first, second = draw(expressions(3)), draw(expressions(3))
    branch = draw(st.sampled_from(["", "        if i == 1:\n            b = b * 0.5\n",
                                   "        if a > b:\n            a = a * 0.5\n"]))
    source = (f"def f(a, b, x, y):\n    for i in range({steps}):\n"
              f"        a = np.tanh({first})\n{branch}        b = 0.9 * np.sin({second})\n"
              "    return a * b + a\n")
    shape = draw(st.sampled_from([(), (3,)]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    args = (rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape), rng.uniform(-1, 1, 5),
            float(rng.uniform(-1, 1)))
    if shape == ():
        args = (float(args[0]), float(args[1])) + args[2:]
    return source, args


@settings(max_examples=40, deadline=None)
@given(loop_programs())
def test_random_loop_bodies_roll_to_the_unrolled_gradients(case):
    source, args = case
    # A body whose update does not read the loop (b = 0.9 * np.sin(y)) is unrolled instead.
    g, value, grads = _agree(source, args, rolls=None, rtol=1e-9)
    if "a > b" in source:
        return  # a kink: central differences may straddle it
    inputs = dict(zip(("a", "b", "x", "y"), args))
    for name in inputs:
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], inputs, name)
        _same(grads[name], numeric, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------- while on values
WHILE = "def f(x, y):\n    while x < 10:\n        x = x * y + 1\n    return x\n"


def test_a_while_loop_on_values_counts_its_steps():
    g = _compile(WHILE, True)
    x, y, steps = 0.5, 1.5, 0
    while x < 10:
        x, steps = x * y + 1, steps + 1
    for args in ((0.5, 1.5), (np.array(0.5), np.array(1.5))):
        value, grads = g(*args)
        _same(value, x)
        for name in ("x", "y"):
            numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"x": 0.5, "y": 1.5}, name)
            _same(grads[name], numeric, rtol=1e-6)
    assert "for k in range(steps - 1, -1, -1):" in g.source
    assert g(20.0, 1.5) == (20.0, {"x": 1.0, "y": 0.0})  # no step
    interpreter = Interpreter(g.graph)
    _same(interpreter.forward(x=0.5, y=1.5), x)
    _same(interpreter.backward()["y"], g(0.5, 1.5)[1]["y"])


def test_a_while_loop_past_its_limit_is_a_clear_error():
    g = _compile(WHILE, True)
    with pytest.raises(ValueError, match="ran 100,000 steps and its condition still holds"):
        g(0.5, 0.5)  # x tends to 2: never 10


def test_a_while_loop_on_arrays_in_the_layer_api():
    source = ("def f(W, h):\n    while np.sum(h * h) < 4.0:\n        h = np.tanh(W @ h) + h\n"
              "    return h\n")
    g = _compile(source, True)
    W, h = np.array([[0.5, 0.1], [-0.2, 0.4]]), np.array([0.3, 0.2])
    out, cache = g.forward(W, h)
    dout = np.array([1.0, -2.0])
    grads = g.backward(dout, cache)
    expected = h
    while np.sum(expected * expected) < 4.0:
        expected = np.tanh(W @ expected) + expected
    _same(out, expected)
    for name, value in (("W", W), ("h", h)):
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"W": W, "h": h}, name, dout)
        _same(grads[name], numeric, rtol=1e-6, atol=1e-8)
    value, grads = g(W, 3 * h + 2)  # no step: the value is a copy, W's gradient zeros
    _same(value, 3 * h + 2)
    assert grads["W"].shape == W.shape and not np.any(grads["W"])


def test_a_while_loop_needing_shapes_is_traced_for_them():
    source = ("def f(x, y):\n    while np.sum(x * x) < 10:\n        x = x * y + 1\n"
              "    return x\n")  # np.sum: traced again for the inputs' shapes
    x, y = np.array([0.3, 0.2]), np.array([1.5, 1.2])
    g = _compile(source, True)
    value, grads = g(x, y, dout=np.array([1.0, 2.0]))
    expected = x
    while np.sum(expected * expected) < 10:
        expected = expected * y + 1
    _same(value, expected)
    for name in ("x", "y"):
        numeric = numeric_gradient(lambda **kw: g(**kw)[0], {"x": x, "y": y}, name,
                                   np.array([1.0, 2.0]))
        _same(grads[name], numeric, rtol=1e-6)


@pytest.mark.parametrize("name", ["rows of a matrix", "neighbours (Rosenbrock)", "a step of 2"])
def test_array_api_backend_rolls_too(name):
    source, args = PROGRAMS[name]
    portable = _compile(source, True, backend="array_api")
    value, grads = portable(*args)
    assert _is_rolled(portable)
    expected, expected_grads = _compile(source, False)(*args)
    _same(value, expected)
    for key in expected_grads:
        _same(grads[key], expected_grads[key])


def test_explicit_upstream_gradient_in_shape_generic_code():
    source = RECURRENCE.format(K=7)
    x, y, dout = np.array([0.3, -0.1]), np.array([0.7, 0.2]), np.array([1.5, -0.5])
    value, grads = _compile(source, True)(x, y, dout=dout)
    expected, expected_grads = _compile(source, False)(x, y, dout=dout)
    _same(value, expected)
    for key in expected_grads:
        _same(grads[key], expected_grads[key])


def test_gates_of_a_compiled_program_trace_its_loops_unrolled():
    from symdiff.teach import Circuit
    g = _compile("def f(x, y):\n    for i in range(3):\n        x = np.sin(x) * y\n    return x\n",
                 True)
    value, grads = g(0.3, 0.7)
    circuit = Circuit(g)
    _same(circuit.forward(x=0.3, y=0.7), value)
    backward = circuit.backward()
    _same(backward["x"], grads["x"])
    _same(backward["y"], grads["y"])


def test_an_array_shared_with_another_name_and_updated_in_place_unrolls():
    helper = ("def bump(a):\n    a += 1.0\n    return a\n\n"
              "def f(x):\n    y = x * 1.0\n    z = y\n    for i in range(3):\n"
              "        y = bump(y)\n    return np.sum(z * y)\n")
    _agree(helper, (np.array([0.5, 1.0]),), rolls=False)
    rebinding = ("def f(x):\n    s = x\n    for i in range(3):\n        s = s * 0.5 + x\n"
                 "    return np.sum(s)\n")  # shared, never updated in place: rolls
    _agree(rebinding, (np.array([0.5, 1.0]),))


def test_a_tape_too_large_is_refused_before_running():
    source = ("def f(x):\n    for i in range(2000000):\n        x = np.tanh(x)\n"
              "    return np.sum(x)\n")
    with pytest.raises(symdiff.InputError, match="GiB of its steps"):
        _compile(source, True)(np.ones(1000))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_steps_that_compute_with_the_counter_keep_numpys_arithmetic():
    """``1.0 / (0.1 * i)`` at i = 0: NumPy's inf, not Python's ZeroDivisionError from the
    generated code (a review found it; the counter is a Python int in range())."""
    source = ("def f(x):\n    s = x * 0.0\n    for i in range(3):\n"
              "        s = s * 0.5 + x * (1.0 / (0.1 * i{shift})) + x * np.exp(0.01 * i)\n"
              "    return np.sum(s)\n")
    x = np.ones(3)
    _agree(source.format(shift=" + 1.0"), (x,))
    value, grads = _compile(source.format(shift=""), True)(x)
    assert value == np.inf and np.all(grads["x"] == np.inf)
