"""Strip-mining (symdiff/blocked.py): elementwise programs over large arrays run block by block.

The thresholds are lowered so that arrays of a few dozen elements are split into blocks of a few
rows, the last one shorter; every blocked result is compared with the same program compiled
without blocks and with the interpreter.
"""

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import symdiff
from symdiff.codegen import blocked
from symdiff.compiler import Compiled
from symdiff.frontend.parse import parse
from symdiff.ad.interpret import Interpreter

from test_properties import FORMULAS, VARIABLES

SMALL = {"BLOCK": 4, "MIN_SIZE": 16, "WORK_PER_PIECE": 0}
OFF = {"MIN_SIZE": 2 ** 62}


def compile_with(source: str, **settings_) -> Compiled:
    saved = {k: getattr(blocked, k) for k in settings_}
    try:
        for k, v in settings_.items():
            setattr(blocked, k, v)
        return Compiled(parse(source))
    finally:
        for k, v in saved.items():
            setattr(blocked, k, v)


def call_both(source: str, point: dict):
    """(blocked compiled function, its result, the unblocked result) at ``point``."""
    fast = compile_with(source, **SMALL)
    with np.errstate(all="ignore"):
        result = fast(**point)
        plain = compile_with(source, **OFF)(**point)
    # Specializations are made lazily: the call above ran under SMALL only if made then.
    return fast, result, plain


def assert_same(result, plain, rtol=1e-12):
    (value, grads), (value0, grads0) = result, plain
    np.testing.assert_allclose(value, value0, rtol=rtol, atol=1e-300)
    for name in grads0:
        np.testing.assert_allclose(grads[name], grads0[name], rtol=rtol, atol=1e-300,
                                   err_msg=name)
        assert np.shape(grads[name]) == np.shape(grads0[name])


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    for key, value in SMALL.items():
        monkeypatch.setattr(blocked, key, value)


@st.composite
def elementwise_programs(draw):
    """A random formula wrapped in a sum, a mean, a sum plus a mean, or nothing."""
    formula = draw(FORMULAS)
    wrap = draw(st.sampled_from(["np.sum({0})", "np.mean({0})", "np.sum({0}) * 0.5 + np.mean(x)",
                                 "{0}"]))
    return "def f(x, y, z):\n    return " + wrap.format(formula) + "\n"


@settings(max_examples=120, deadline=None)
@given(source=elementwise_programs(), seed=st.integers(0, 2 ** 32 - 1),
       scalars=st.sets(st.sampled_from(VARIABLES), max_size=2),
       shape=st.sampled_from([(37,), (18, 3)]))
def test_random_elementwise_programs_blocked_and_not_agree(source, seed, scalars, shape):
    rng = np.random.default_rng(seed)
    point = {v: float(rng.uniform(0.2, 1.5)) if v in scalars else rng.uniform(0.2, 1.5, shape)
             for v in VARIABLES}
    fast, result, plain = call_both(source, point)
    note(fast._last.source)
    assert_same(result, plain)
    interpreter = Interpreter(fast._last.graph)
    with np.errstate(all="ignore"):
        value = interpreter.forward(**point)
        by_node = interpreter.backward()
    np.testing.assert_allclose(result[0], value, rtol=1e-12, atol=1e-300)
    for name in by_node:
        np.testing.assert_allclose(result[1][name], by_node[name], rtol=1e-10, atol=1e-300)


def test_a_sum_of_elementwise_terms_runs_in_blocks_with_a_short_last_one():
    source = "def f(a, x):\n    return np.sum(np.tanh(a * x) * x)\n"
    x = np.linspace(-2.0, 2.0, 37)
    fast, result, plain = call_both(source, {"a": 0.7, "x": x})
    text = fast._last.source
    assert "def _f_block(a, x):" in text and "for start in range(0, 37, 4):" in text
    assert "_f_block(a, x[start:stop])" in text
    assert_same(result, plain)
    t = np.tanh(0.7 * x)
    np.testing.assert_allclose(result[1]["a"], np.sum((1 - t * t) * x * x), rtol=1e-12)
    np.testing.assert_allclose(result[1]["x"], t + 0.7 * x * (1 - t * t), rtol=1e-12)


def test_a_mean_divides_by_the_whole_size_after_the_blocks():
    source = "def f(x):\n    return np.mean(x * x)\n"
    x = np.arange(1.0, 38.0)
    fast, (value, grads), _ = call_both(source, {"x": x})
    assert "_f_block" in fast._last.source
    assert value == pytest.approx(np.mean(x * x), rel=1e-14)
    np.testing.assert_allclose(grads["x"], 2 * x / 37, rtol=1e-14)


def test_a_sum_feeding_back_into_the_arrays_is_not_blocked():
    source = "def f(x):\n    return np.sum(x * x) * np.sum(np.sin(x))\n"
    x = np.linspace(0.1, 1.0, 37)
    fast, result, plain = call_both(source, {"x": x})
    assert "_f_block" not in fast._last.source  # dx needs both sums: a second pass
    assert_same(result, plain)


def test_arrays_of_different_shapes_are_not_blocked():
    source = "def f(x, y):\n    return np.sum(np.tanh(x + y))\n"
    fast, result, plain = call_both(source, {"x": np.ones((37, 1)), "y": np.ones((37, 3))})
    assert "_f_block" not in fast._last.source
    assert_same(result, plain)


def test_float32_blocks_stay_float32():
    source = "def f(a, x):\n    return np.sum(np.exp(a * x))\n"
    x = np.linspace(-1, 1, 37, dtype=np.float32)
    fast, (value, grads), _ = call_both(source, {"a": np.float32(0.5), "x": x})
    assert "_f_block" in fast._last.source
    assert grads["x"].dtype == np.float32
    np.testing.assert_allclose(grads["x"], 0.5 * np.exp(0.5 * x), rtol=1e-6)


def test_the_blocked_module_stands_alone(tmp_path):
    import importlib.util
    source = "def f(a, x):\n    return np.sum(np.log(1 + np.exp(a * x)))\n"
    x = np.linspace(-3, 3, 37)
    g = symdiff.compile(source, shapes={"a": (), "x": (37,)})
    path = g.write(str(tmp_path / "blocked_module.py"))
    spec = importlib.util.spec_from_file_location("blocked_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    value, grads = module.f(0.3, x)
    np.testing.assert_allclose(value, np.sum(np.logaddexp(0.0, 0.3 * x)), rtol=1e-12)
    np.testing.assert_allclose(grads["x"], 0.3 / (1 + np.exp(-0.3 * x)), rtol=1e-12)


@pytest.mark.parametrize("shape", [(20001,), (150, 201)])
def test_a_large_sum_of_products_is_a_single_threaded_einsum(shape):
    # np.vdot of a large array runs on OpenBLAS's threads, whose time varied twofold between
    # processes on a busy machine; small ones stay np.vdot (one thread below 10,001 elements).
    source = "def f(a, x):\n    return np.sum(np.tanh(a * x) * x)\n"
    x = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
    g = symdiff.compile(source)
    value, grads = g(0.7, x)
    letters = "ij"[:len(shape)]
    assert f'np.einsum("{letters},{letters}->", ' in g._last.source
    assert "np.vdot" not in g._last.source
    t = np.tanh(0.7 * x)
    assert value == pytest.approx(np.sum(t * x), rel=1e-12)
    np.testing.assert_allclose(grads["a"], np.sum((1 - t * t) * x * x), rtol=1e-12)


def test_a_small_sum_of_products_stays_vdot():
    g = symdiff.compile("def f(a, x):\n    return np.sum(np.tanh(a * x) * x)\n",
                        shapes={"a": (), "x": (100,)})
    assert "np.vdot(" in g.source and "einsum" not in g.source
