"""Unsupported NumPy functions name what to write instead (symdiff/frontend/hints.py)."""

import subprocess
import sys

import numpy as np
import pytest

import symdiff
from symdiff.check import check_gradients
from symdiff.frontend.calls import CALLS
from symdiff.frontend.hints import EXAMPLES, HINTS, hint
from symdiff.optable import markdown, text_table

SHAPES = {"x": (5,), "y": (5,), "A": (3, 3)}


def test_every_hint_is_for_a_function_symdiff_does_not_support():
    supported = [name for name in HINTS if name in CALLS]
    assert not supported, f"now supported, remove their hints: {supported}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_replacement_computes_what_numpy_does(name):
    assert name in HINTS
    params, source, reference = EXAMPLES[name]
    names = [p.strip() for p in params.split(",")]
    rng = np.random.default_rng(len(name))
    values = {p: rng.uniform(0.5, 2.0, SHAPES[p]) for p in names}
    if "x" in values:
        values["x"][1] = -0.7          # a negative entry for the masks
    if name.startswith("numpy.nan"):
        values["x"][3] = np.nan
    f = symdiff.compile(f"def f({params}):\n    return {source}\n")
    value, grads = f(**values)
    namespace = {"np": np, **values}
    expected = eval(reference, namespace)  # noqa: S307 (the test's own text, not user input)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    if not name.startswith("numpy.nan"):
        assert check_gradients(f, values).max_error < 1e-6


def test_every_hint_that_says_write_has_a_tested_example():
    writes = {name for name, text in HINTS.items() if text.startswith("write ")}
    assert writes - {"numpy.trapz"} <= set(EXAMPLES)  # trapz: trapezoid's old name, same text


def test_submodules_and_their_functions_find_their_hint():
    assert hint("numpy.random.normal") == hint("numpy.random") == HINTS["numpy.random"]
    assert hint("numpy.linalg.eigh") is None and hint("numpy.sinh_nope") is None


@pytest.mark.parametrize("formula, words", [
    ("np.sum(np.extract(x > 0, x))", ["'np.extract' is not supported", "np.where(x > 0, x, 0.0)"]),
    ("np.sum(np.random.normal(size=3) * x)", ["'np.random' is not supported",
                                              "pass them in as an argument"]),
    ("np.sum(np.vectorize(np.sin)(x))", ["'np.vectorize' is not supported",
                                         "call the function on the whole array"]),
    ("np.nanmax(x)", ["'np.nanmax' is not supported",
                      "write np.max(np.where(np.isnan(x), -np.inf, x)) instead"]),
    ("np.sum(np.fromfunction(lambda i: i, (3,)) * x)", ["np.arange(n)[:, None] + np.arange(m)"]),
])
def test_cli_names_what_to_write_instead(formula, words):
    done = subprocess.run([sys.executable, "-m", "symdiff", "grad", formula, "--shapes", "x=3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    first = done.stderr.splitlines()[0]
    for word in words:
        assert word in first, first
    assert "`symdiff ops` lists the functions programs may call, as does docs/ops.md" in first


def test_the_table_of_functions_lists_the_hints():
    assert "np.nanmax" in text_table().split("Not supported, and what to write instead:")[1]
    assert "| `np.random.*` | randomness is an input here" in markdown()


def test_a_function_without_a_hint_keeps_did_you_mean():
    with pytest.raises(symdiff.ParseError, match=r"unknown function 'np.exq'; did you mean np.exp\?"):
        symdiff.compile("np.exq(x)")
