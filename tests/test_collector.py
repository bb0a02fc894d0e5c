"""Compiling pauses the cyclic garbage collector and leaves it as it found it."""

import gc

import symdiff
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
