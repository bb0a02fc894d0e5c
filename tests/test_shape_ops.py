"""NumPy's shape functions and constructors: values against NumPy, gradients against central
differences, the interpreter and JAX in float64 (tests/oracle.py), over shapes and axis variants.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import SymdiffError

from oracle import check_program


def _arrays(seed: int, **shapes) -> dict:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def _program(body: str, params: str) -> str:
    return f"def f({params}):\n    return {body}\n"


# (expression of x (and y, z), shapes) -- each is one program checked by check_program.
UNARY = [
    # joining
    ("np.concatenate([x, y])", {"x": (2, 3), "y": (4, 3)}),
    ("np.concatenate([x, y], axis=1)", {"x": (2, 3), "y": (2, 1)}),
    ("np.concatenate((x, y, z), axis=-1)", {"x": (2, 2), "y": (2, 1), "z": (2, 3)}),
    ("np.concatenate([x, y], axis=None)", {"x": (2, 3), "y": (5,)}),
    ("np.concatenate([x, x * y], axis=-2)", {"x": (2, 1, 3), "y": (2, 1, 3)}),
    ("np.stack([x, y])", {"x": (3,), "y": (3,)}),
    ("np.stack([x, y, 2.0 * x], axis=1)", {"x": (2, 3), "y": (2, 3)}),
    ("np.stack((x, y), axis=-1)", {"x": (2, 3), "y": (2, 3)}),
    ("np.stack([x, y], axis=-3)", {"x": (2, 3), "y": (2, 3)}),
    ("np.hstack([x, y])", {"x": (3,), "y": (2,)}),
    ("np.hstack((x, y))", {"x": (2, 3), "y": (2, 1)}),
    ("np.vstack([x, y])", {"x": (3,), "y": (3,)}),
    ("np.vstack([x, y])", {"x": (2, 3), "y": (1, 3)}),
    ("np.column_stack([x, y])", {"x": (3,), "y": (3, 2)}),
    ("np.dstack([x, y])", {"x": (2, 3), "y": (2, 3)}),
    ("np.atleast_2d(x) * y", {"x": (3,), "y": (2, 3)}),
    ("np.atleast_3d(x) * y", {"x": (3,), "y": (1, 3, 2)}),
    ("np.atleast_3d(x) * y", {"x": (2, 3), "y": (2, 3, 2)}),
    ("np.atleast_1d(x)", {"x": (2, 2)}),
    # repeating
    ("np.repeat(x, 2, axis=0)", {"x": (2, 3)}),
    ("np.repeat(x, 3, axis=-1)", {"x": (2, 3)}),
    ("np.repeat(x, 2)", {"x": (2, 3)}),
    ("x.repeat(2, axis=1)", {"x": (2, 2, 2)}),
    ("np.repeat(x, [1, 0, 3], axis=0)", {"x": (3, 2)}),
    ("np.repeat(x, [2, 1], axis=-1)", {"x": (3, 2)}),
    ("np.repeat(x, [2], axis=1)", {"x": (3, 2)}),
    ("np.tile(x, 2)", {"x": (2, 3)}),
    ("np.tile(x, (2, 1))", {"x": (2, 3)}),
    ("np.tile(x, (3, 1, 2))", {"x": (2, 3)}),
    ("np.tile(x, (2, 3))", {"x": (3,)}),
    ("np.pad(x, 1)", {"x": (2, 3)}),
    ("np.pad(x, (1, 2))", {"x": (2, 3)}),
    ("np.pad(x, ((1, 0), (0, 2)), constant_values=1.5)", {"x": (2, 3)}),
    ("np.pad(x, ((1, 2), (3, 0)), constant_values=((1.0, 2.0), (3.0, 4.0)))", {"x": (2, 2)}),
    ("np.pad(x, [2])", {"x": (3,)}),
    ("np.roll(x, 1)", {"x": (2, 3)}),
    ("np.roll(x, 2, axis=0)", {"x": (3, 2)}),
    ("np.roll(x, -1, axis=-1)", {"x": (2, 3)}),
    ("np.roll(x, (1, 2), axis=(0, 1))", {"x": (2, 3)}),
    ("np.roll(x, 5, axis=1)", {"x": (2, 3)}),
    # axes moved
    ("np.moveaxis(x, 0, -1)", {"x": (2, 3, 4)}),
    ("np.moveaxis(x, [0, 1], [2, 0])", {"x": (2, 3, 4)}),
    ("np.swapaxes(x, 0, -1)", {"x": (2, 3, 4)}),
    ("x.swapaxes(1, 2)", {"x": (2, 3, 4)}),
    ("np.rollaxis(x, 2)", {"x": (2, 3, 4)}),
    ("np.rollaxis(x, 0, 3)", {"x": (2, 3, 4)}),
    ("np.rollaxis(x, -1, 1)", {"x": (2, 3, 4)}),
    # reshapes
    ("np.squeeze(x)", {"x": (1, 3, 1)}),
    ("np.squeeze(x, axis=0)", {"x": (1, 3, 1)}),
    ("x.squeeze(-1)", {"x": (1, 3, 1)}),
    ("np.squeeze(x, axis=(0, 2))", {"x": (1, 3, 1)}),
    ("np.expand_dims(x, 0) * y", {"x": (3,), "y": (2, 3)}),
    ("np.expand_dims(x, -1) * y", {"x": (3,), "y": (3, 2)}),
    ("np.expand_dims(x, (0, 2))", {"x": (3,)}),
    ("np.ravel(x)", {"x": (2, 3)}),
    ("x.ravel() * y", {"x": (2, 3), "y": (6,)}),
    ("x.flatten()", {"x": (2, 2, 2)}),
    ("np.broadcast_to(x, (2, 3)) * y", {"x": (3,), "y": (2, 3)}),
    ("np.broadcast_to(x, (2, 4))", {"x": (2, 1)}),
    # flips
    ("np.flip(x)", {"x": (2, 3)}),
    ("np.flip(x, 0)", {"x": (2, 3)}),
    ("np.flip(x, axis=-1)", {"x": (2, 3)}),
    ("np.flip(x, axis=(0, 2))", {"x": (2, 3, 2)}),
    ("np.fliplr(x)", {"x": (2, 3)}),
    ("np.flipud(x)", {"x": (3,)}),
    ("np.rot90(x)", {"x": (2, 3)}),
    ("np.rot90(x, 2)", {"x": (2, 3)}),
    ("np.rot90(x, k=3)", {"x": (2, 3)}),
    ("np.rot90(x, -1, axes=(1, 2))", {"x": (2, 3, 2)}),
    # sorting and casts
    ("np.sort(x)", {"x": (2, 4)}),
    ("np.sort(x, axis=0)", {"x": (3, 2)}),
    ("np.sort(x, axis=None)", {"x": (2, 3)}),
    ("np.sort(x, axis=-2) * y", {"x": (3, 2, 2), "y": (2, 2)}),
    ("np.sort(x * y)", {"x": (5,), "y": (5,)}),
    ("x.astype(np.float64) * y", {"x": (2, 3), "y": (3,)}),
]


@pytest.mark.parametrize("body, shapes", UNARY, ids=[f"{b} {tuple(s.values())}" for b, s in UNARY])
def test_shape_function(body, shapes):
    check_program(_program(body, ", ".join(shapes)), _arrays(len(body), **shapes))


SPLITS = [
    ("a, b = np.split(x, 2)\n    return a * b", {"x": (4, 3)}),
    ("a, b, c = np.split(x, [1, 3], axis=1)\n    return np.sum(a) * b + c[:, :1]",
     {"x": (2, 5)}),
    ("parts = np.split(x, 3, axis=-1)\n    return parts[1] - parts[-1] * parts[0]", {"x": (2, 6)}),
    ("a, b, c = np.array_split(x, 3)\n    return np.sum(a) + np.sum(b * b) + np.sum(c) * 2.0",
     {"x": (7,)}),
    ("a, b = np.array_split(x, 2, axis=1)\n    return np.sum(a) * b", {"x": (2, 5)}),
    ("a, b = np.hsplit(x, 2)\n    return a * b", {"x": (3, 4)}),
    ("a, b = np.hsplit(x, 2)\n    return a * b", {"x": (4,)}),
    ("a, b = np.vsplit(x, [1])\n    return np.sum(a) * b", {"x": (3, 2)}),
    ("a, b, c = np.split(x, [2, 3])\n    return a * 2.0 + np.sum(b) + np.sum(c)", {"x": (4,)}),
]


@pytest.mark.parametrize("body, shapes", SPLITS, ids=[b.split("\n")[0] for b, _ in SPLITS])
def test_split(body, shapes):
    source = f"def f({', '.join(shapes)}):\n    {body}\n"
    check_program(source, _arrays(len(body), **shapes))


def test_split_points_past_the_end_give_empty_pieces():
    """NumPy slices past the end (JAX refuses these points, so no JAX oracle here)."""
    g = symdiff.compile("def f(x):\n    a, b, c = np.split(x, [2, 10])\n"
                        "    return a * 2.0 + np.sum(b) + np.sum(c)\n")
    x = np.arange(4.0)
    value, grads = g(x)
    np.testing.assert_array_equal(value, x[:2] * 2.0 + np.sum(x[2:]))
    np.testing.assert_array_equal(grads["x"], [2.0, 2.0, 2.0, 2.0])


CONSTANTS = [
    ("x * np.zeros(3) + x * x", {"x": (3,)}),
    ("x + np.ones((2, 3))", {"x": (3,)}),
    ("np.full((2, 3), 2.5) * x", {"x": (2, 1)}),
    ("np.full(3, -1.0, dtype=np.float64) * x", {"x": (3,)}),
    ("np.full((2, 3), s) * x", {"x": (2, 3), "s": ()}),
    ("np.eye(3) @ x", {"x": (3, 2)}),
    ("np.eye(3, 4, k=1) @ x", {"x": (4, 2)}),
    ("np.eye(2, k=-1) * x", {"x": (2, 2)}),
    ("np.identity(3) * x", {"x": (3, 3)}),
    ("x * np.arange(3)", {"x": (2, 3)}),
    ("x * np.arange(1, 4)", {"x": (3,)}),
    ("x * np.arange(0.5, 2.0, 0.5)", {"x": (3,)}),
    ("x * np.arange(5, 0, -2)", {"x": (3,)}),
    ("x * np.arange(stop=3.0)", {"x": (3,)}),
    ("np.linspace(0, 1, 4) * x", {"x": (4,)}),
    ("np.linspace(-1.0, 1.0, num=3, endpoint=False) * x", {"x": (3,)}),
    ("np.zeros_like(x) + x * np.ones_like(x)", {"x": (2, 3)}),
    ("np.full_like(x, 3.0) * x", {"x": (2, 3)}),
    ("np.zeros_like(x, dtype=np.float64) + x", {"x": (2,)}),
    ("np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]) * x", {"x": (3,)}),
    ("np.array([1, 2, 3]) * x", {"x": (3,)}),
    ("np.array([x, 2.0 * x, x * x])", {"x": (2,)}),
    ("np.array([[x, y], [y, x]]) * x", {"x": (3,), "y": (3,)}),
    ("np.array([s, 2.0 * s, 1.0])", {"s": ()}),
    ("np.asarray(x) * 2.0", {"x": (2,)}),
    ("np.array(x, dtype=np.float64) * x", {"x": (2,)}),
    ("np.concatenate([x, np.zeros(2)]) * np.linspace(0.0, 1.0, 5)", {"x": (3,)}),
]


@pytest.mark.parametrize("body, shapes", CONSTANTS, ids=[b for b, _ in CONSTANTS])
def test_constructor(body, shapes):
    params = ", ".join(shapes)
    check_program(_program(body, params), _arrays(len(body), **shapes),
                  wrt=list(shapes))


def test_arange_is_still_an_index():
    source = ("def f(s, y):\n    N = s.shape[0]\n"
              "    return -np.sum(s[np.arange(N), y] * np.arange(N))\n")
    g = symdiff.compile(source, wrt=["s"])
    s = np.random.default_rng(0).standard_normal((3, 4))
    y = np.array([0, 3, 1])
    value, grads = g(s, y)
    assert np.isclose(value, -np.sum(s[np.arange(3), y] * np.arange(3)))
    expected = np.zeros((3, 4))
    expected[np.arange(3), y] = -np.arange(3)
    np.testing.assert_allclose(grads["s"], expected)


def test_sort_gradient_follows_the_permutation():
    source = "def f(x):\n    return np.sort(x) * np.arange(4.0)\n"
    g = symdiff.compile(source)
    x = np.array([3.0, -1.0, 2.0, 0.5])
    _, grads = g(x)
    # sorted order: -1 (index 1), 0.5 (3), 2 (2), 3 (0); weights 0, 1, 2, 3
    np.testing.assert_array_equal(grads["x"], [3.0, 0.0, 2.0, 1.0])
    assert "np.argsort(" in g.source and "np.put_along_axis(" in g.source
    main = g.source.split("\ndef f(")[1].split("\ndef f_forward(")[0]
    assert main.count("np.argsort(") == 1   # computed once, read by both passes


def test_backward_is_written_by_hand():
    """Repeat and tile sum their copies by a reshape and a sum; pad and concatenate slice."""
    g = symdiff.compile("def f(x, y):\n    return np.sum(np.tile(np.repeat(x, 2, axis=1), (3, 1)))"
                        " + np.sum(np.pad(np.concatenate([x, y], axis=1), ((0, 0), (1, 0))))\n")
    x, y = np.ones((2, 2)), np.ones((2, 1))
    g(x, y)
    assert "np.repeat(x, 2, axis=1)" in g.source and "np.tile(" in g.source
    assert "add.at" not in g.source and "np.eye" not in g.source


def test_float32_round_trip():
    g = symdiff.compile("def f(x):\n    return np.sum((x.astype(np.float32) * 2.0)"
                        ".astype(np.float64))\n")
    x = np.linspace(-1.0, 1.0, 5)
    value, grads = g(x)
    assert np.isclose(value, np.sum((x.astype(np.float32) * 2.0).astype(np.float64)))
    assert grads["x"].dtype == np.float64
    np.testing.assert_array_equal(grads["x"], 2.0)
    assert ".astype(np.float32)" in g.source and ".astype(x.dtype)" in g.source


def test_astype_float32_is_never_written_into_by_buffer_reuse():
    """A float32 cast in a float64 program is another dtype: big arrays computed from it keep
    NumPy's promotion (float32 * float64 is float64)."""
    g = symdiff.compile("def f(x, y):\n    t = np.exp(x.astype(np.float32))\n"
                        "    return t * y\n")
    x, y = np.linspace(0, 1, 40000), np.linspace(1, 2, 40000) + 1e-9
    value, grads = g(x, y)
    expected = np.exp(x.astype(np.float32)) * y
    assert value.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("source, match", [
    ("def f(x):\n    return x.sort()\n", "sorts in place"),
    ("def f(x):\n    a, b = np.split(x, 2)\n    return a * b\n", "equal division"),
    ("def f(x):\n    return np.concatenate([x, 1.0])\n", "zero-dimensional"),
    ("def f(x):\n    return np.stack([x, x[:2]])\n", "same shape"),
    ("def f(x):\n    return np.squeeze(x, axis=0)\n", "size not equal to one"),
    ("def f(x):\n    return np.broadcast_to(x, (3, 2))\n", "cannot broadcast"),
    ("def f(x):\n    return np.swapaxes(x, 0, 3)\n", "out of range"),
    ("def f(x):\n    return np.concatenate([x, x[:, :1]], axis=0)\n", "cannot concatenate"),
    ("def f(x):\n    return np.pad(x, -1)\n", "pad_width"),
    ("def f(x):\n    return np.pad(x, 1, constant_values=x)\n", "constant_values"),
    ("def f(x):\n    return np.repeat(x, [1, 2])\n", "repeats"),
    ("def f(x):\n    return np.fliplr(x[0])\n", "at least 2"),
    ("def f(x):\n    return np.arange(0, 3, 0) * x\n", "step"),
])
def test_clear_errors(source, match):
    with pytest.raises(SymdiffError, match=match):
        symdiff.compile(source)(np.ones((3, 3)))


def test_array_api_backend_refuses_pad_at_compile_time():
    g = symdiff.compile("def f(x):\n    return np.sum(np.pad(x, 1) ** 2)\n", backend="array_api")
    with pytest.raises(SymdiffError, match="backend='array_api'.*np.pad"):
        g(np.ones((2, 2)))
