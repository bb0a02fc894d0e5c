"""Compiling pauses the cyclic garbage collector and leaves it as it found it."""

import gc

import numpy as np
import pytest

import symdiff
from symdiff import compiler, specs
from symdiff.collector import without_collector


def test_collector_is_paused_while_compiling_and_restored():
    seen = []
    paused = without_collector(lambda: seen.append(gc.isenabled()))
    assert gc.isenabled()
    paused()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        symdiff.compile("def f(x):\n    return np.sin(x) * x\n")(1.0)
        assert not gc.isenabled()  # a caller's own choice stands
    finally:
        gc.enable()


def count_modules(monkeypatch) -> list[str]:
    """The generated modules loaded (verified and run) from now on."""
    loaded = []
    real = specs.load_verified

    def counting(source, name):
        loaded.append(source)
        return real(source, name)
    monkeypatch.setattr(specs, "load_verified", counting)  # load_module's too
    monkeypatch.setattr(compiler, "load_verified", counting)
    return loaded


def test_a_program_called_with_floats_generates_one_module(monkeypatch):
    # issue 15: the first call with floats wrote the math twin after compile had written the
    # NumPy function, two code generations where the call needs one
    loaded = count_modules(monkeypatch)
    source = "def f(x, y):\n" + "    x = np.sin(x) * y + np.cos(x * y)\n" * 3 + "    return x\n"
    g = symdiff.compile(source)
    value, grads = g(0.3, 0.7)
    assert len(loaded) == 1 and "def f_scalar(" in loaded[0] and "\ndef f(" not in loaded[0]
    # an array call writes the NumPy function then, and agrees with the twin
    array_value, array_grads = g(np.array([0.3]), np.array([0.7]))
    assert len(loaded) == 2 and "\ndef f(x, y):" in loaded[1]
    assert array_value[0] == pytest.approx(value, rel=1e-14)
    assert array_grads["y"][0] == pytest.approx(grads["y"], rel=1e-14)
    assert "def f(x, y):" in g.generic.source


def test_a_program_called_with_arrays_generates_one_module(monkeypatch):
    loaded = count_modules(monkeypatch)
    g = symdiff.compile("def f(x, y):\n    return np.sum(np.sin(x) * y)\n")
    g(np.ones(3), np.ones(3))
    g(np.ones(3), np.ones(3))
    assert len(loaded) == 1
