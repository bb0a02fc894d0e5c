"""Every op in the registry, one at a time: value, gradient, interpreter and float twin.

The sweep is driven by :data:`symdiff.ops.OPS`, so an op is tested the moment it is registered: it
fails (it does not skip) until the op has an entry in :data:`REFERENCE` (an independent NumPy
formula for its value); its arguments are drawn from its registry entry's ``domain`` unless
:data:`DOMAIN` says more (away from singular points, kinks and ties). Gradients are checked
against central differences of the *reference*, not of symdiff's own code, so the two sides share
nothing but NumPy.

Comparisons and ``where`` are not in the sweep (their gradients are zero, or routed): they have
small tests of their own below, as do the conventions at kinks.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import symdiff  # noqa: F401 -- imports every module, so every op that registers itself is in OPS
from symdiff.compiler import compile_graph, load_module
from symdiff.ir.graph import Graph
from symdiff.ad.interpret import Interpreter
from symdiff.ops import OPS

RELATIVE_STEP = 6e-6
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-8          # a floor for gradients that are (near) zero
VALUE_RTOL = 1e-12        # reference formulas differ from the ops' own by a few ulps at most
ENGINE_RTOL = 1e-12       # interpreter vs generated code: the same formulas, evaluated twice
ARG_NAMES = ("a", "b", "c")


# ============================================================================ reference values
def _sign(x):
    return (x > 0).astype(float) - (x < 0).astype(float)


REFERENCE = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: np.exp(b * np.log(a)),
    "neg": lambda a: -a,
    # ``float`` casts a 0/1 comparison mask to floats (its partial is 0 by design): on its domain,
    # the masks, it is the identity and locally constant, which this reference spells out.
    "float": lambda a: np.where(a > 0.5, 1.0, 0.0),
    "copy": lambda a: a + 0.0,
    "exp": lambda a: np.e ** a,
    "log": lambda a: np.log(a),
    "sin": lambda a: np.sin(a),
    "cos": lambda a: np.cos(a),
    "tan": lambda a: np.sin(a) / np.cos(a),
    "tanh": lambda a: np.sinh(a) / np.cosh(a),
    "sqrt": lambda a: a ** 0.5,
    "abs": lambda a: np.where(a < 0, -a, a),
    "sign": _sign,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "softplus": lambda a: np.log1p(np.exp(a)),
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "maximum": lambda a, b: np.where(a >= b, a, b),
    "minimum": lambda a, b: np.where(a <= b, a, b),
    "sinh": lambda a: (np.exp(a) - np.exp(-a)) / 2,
    "cosh": lambda a: (np.exp(a) + np.exp(-a)) / 2,
    "arcsin": lambda a: np.arctan(a / np.sqrt(1 - a * a)),
    "arccos": lambda a: np.pi / 2 - np.arctan(a / np.sqrt(1 - a * a)),
    "arctan": lambda a: np.arcsin(a / np.sqrt(1 + a * a)),
    "arcsinh": lambda a: np.log(a + np.sqrt(a * a + 1)),
    "arccosh": lambda a: np.log(a + np.sqrt(a * a - 1)),
    "arctanh": lambda a: 0.5 * np.log((1 + a) / (1 - a)),
    "log2": lambda a: np.log(a) / np.log(2.0),
    "log10": lambda a: np.log(a) / np.log(10.0),
    "log1p": lambda a: np.log(1 + a),
    "expm1": lambda a: np.exp(a) - 1,
    "exp2": lambda a: np.exp(a * np.log(2.0)),
    "cbrt": lambda a: np.sign(a) * np.abs(a) ** (1 / 3),
    "reciprocal": lambda a: 1 / a,
    "deg2rad": lambda a: a * np.pi / 180,
    "rad2deg": lambda a: a * 180 / np.pi,
    "sinc": lambda a: np.sin(np.pi * a) / (np.pi * a),
    "nan_to_num": lambda a: a + 0.0,
    "floor": lambda a: a - np.mod(a, 1.0),
    "ceil": lambda a: -(-a - np.mod(-a, 1.0)),
    "trunc": lambda a: np.sign(a) * (np.abs(a) - np.mod(np.abs(a), 1.0)),
    "rint": lambda a: (a + 0.5) - np.mod(a + 0.5, 1.0),
    "mod": lambda a, b: a - (a / b - np.mod(a / b, 1.0)) * b,
    "floordiv": lambda a, b: a / b - np.mod(a / b, 1.0),
    "fmod": lambda a, b: a - np.sign(a / b) * (np.abs(a / b) - np.mod(np.abs(a / b), 1.0)) * b,
    "fmax": lambda a, b: np.where(a >= b, a, b),
    "fmin": lambda a, b: np.where(a <= b, a, b),
    "arctan2": lambda a, b: np.arctan(a / b),           # on b > 0
    "hypot": lambda a, b: np.sqrt(a * a + b * b),
    "logaddexp": lambda a, b: np.log(np.exp(a) + np.exp(b)),
    "logaddexp2": lambda a, b: np.log(2.0 ** a + 2.0 ** b) / np.log(2.0),
    "copysign": lambda a, b: np.abs(a) * np.sign(b),
    "heaviside": lambda a, b: np.where(a > 0, 1.0, np.where(a == 0, b, 0.0)),
}


# ============================================================================ argument domains
def uniform(lo: float, hi: float, floor: float = 0.1):
    """Uniform on [lo, hi] but never within ``floor`` of 0 (kinks of abs/relu/sign, tiny steps)."""
    def draw(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        x = rng.uniform(lo, hi, size=shape)
        bad = np.abs(x) < floor
        while np.any(bad):
            x[bad] = rng.uniform(lo, hi, size=int(bad.sum()))
            bad = np.abs(x) < floor
        return x
    return draw


def mask(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """0.0 or 1.0: the values of a comparison."""
    return rng.integers(0, 2, size=shape).astype(float)


def each(*per_arg):
    """One independent sampler per argument."""
    def draw(rng, shapes):
        return [sample(rng, shape) for sample, shape in zip(per_arg, shapes)]
    return draw


def apart(gap: float = 0.1):
    """Two arguments that never tie, for every broadcast pair: a = k + u, b = m + 1/2 + v with
    integers k, m and |u|, |v| <= (1/2 - gap)/2, so |a - b| >= gap everywhere."""
    jitter = (0.5 - gap) / 2

    def draw(rng, shapes):
        a = rng.integers(-3, 3, size=shapes[0]) + rng.uniform(-jitter, jitter, size=shapes[0])
        b = rng.integers(-3, 3, size=shapes[1]) + 0.5 + rng.uniform(-jitter, jitter,
                                                                     size=shapes[1])
        return [a.astype(float), b.astype(float)]
    return draw


DOMAIN = {
    "add": each(uniform(-3, 3), uniform(-3, 3)),
    "sub": each(uniform(-3, 3), uniform(-3, 3)),
    "mul": each(uniform(-3, 3), uniform(-3, 3)),
    "div": each(uniform(-3, 3), uniform(-3, 3, floor=0.3)),
    "pow": each(uniform(0.2, 3), uniform(-2.5, 2.5)),          # a positive base
    "neg": each(uniform(-3, 3)),
    "float": each(mask),
    "copy": each(uniform(-3, 3)),
    "exp": each(uniform(-3, 3)),
    "log": each(uniform(0.1, 5)),
    "sin": each(uniform(-4, 4)),
    "cos": each(uniform(-4, 4)),
    "tan": each(uniform(-1.3, 1.3)),                          # inside (-pi/2, pi/2)
    "tanh": each(uniform(-3, 3)),
    "sqrt": each(uniform(0.1, 5)),
    "abs": each(uniform(-3, 3)),                               # |x| >= 0.1: away from the kink
    "sign": each(uniform(-3, 3)),
    "sigmoid": each(uniform(-6, 6)),
    "softplus": each(uniform(-6, 6)),
    "relu": each(uniform(-3, 3)),
    "maximum": apart(),
    "minimum": apart(),
}

# Argument shapes: every argument the same shape, and broadcasting (gradients summed back).
LAYOUTS = {
    "same": ((5,), (5,), (5,)),
    "broadcast": ((3, 1), (4,), (1, 4)),
}


def elementwise_ops() -> list[str]:
    return sorted(name for name, op in OPS.items() if op.kind == "elementwise")


# ============================================================================ helpers
def hand_graph(op_name: str) -> Graph:
    """``op_name(a, b, ...)`` built through the op table, as one output."""
    g = Graph()
    args = [g.input(name, None) for name in ARG_NAMES[:OPS[op_name].arity]]
    out = g.apply(op_name, *args)
    g.outputs.append(out)
    g.output_names.append(None)
    return g


def reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes an argument of ``shape`` was broadcast along."""
    g = np.asarray(g, dtype=float)
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def central_difference(ref, args: list[np.ndarray], k: int) -> np.ndarray:
    """d sum(ref(*args)) / d args[k] for an elementwise ``ref``, every element at once.

    Each output element depends on one element of each argument, so shifting every element of
    ``args[k]`` by its own step and summing the difference quotients over the broadcast axes gives
    the whole gradient in two calls. The step is 6e-6 * max(|x|, 1e-3), the exact difference of the
    shifted points is used as the denominator.
    """
    x = args[k]
    h = RELATIVE_STEP * np.maximum(np.abs(x), 1e-3)
    plus, minus = list(args), list(args)
    plus[k], minus[k] = x + h, x - h
    quotient = (ref(*plus) - ref(*minus)) / (plus[k] - minus[k])
    return reduce_to(np.broadcast_to(quotient, np.broadcast_shapes(*[np.shape(a) for a in args])),
                     np.shape(x))


def domain(op_name: str):
    """The sampler of an op's arguments: this file's, else its registry entry's domain."""
    if op_name in DOMAIN:
        return DOMAIN[op_name]
    return each(*[uniform(*OPS[op_name].domain)] * OPS[op_name].arity)


def draw_args(op_name: str, layout: str) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"{op_name}/{layout}".encode()))
    shapes = LAYOUTS[layout][:OPS[op_name].arity]
    return domain(op_name)(rng, shapes)


# ============================================================================ the sweep
def test_reference_and_domain_tables_match_the_registry():
    """No stale entries either: an op that is removed or renamed must leave the tables too."""
    registered = set(elementwise_ops())
    assert set(REFERENCE) - registered == set(), "REFERENCE names ops that are not registered"
    assert set(DOMAIN) - registered == set(), "DOMAIN names ops that are not registered"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("op_name", elementwise_ops())
def test_elementwise_op(op_name, layout):
    assert op_name in REFERENCE, (
        f"op {op_name!r} is registered but tests/test_ops.py has no REFERENCE entry for it: "
        "add an independent NumPy formula for its value")
    ref = REFERENCE[op_name]
    args = draw_args(op_name, layout)
    names = ARG_NAMES[:len(args)]
    inputs = dict(zip(names, args))

    function, source = compile_graph(hand_graph(op_name))
    with np.errstate(all="raise"):
        value, grads = function(*args)
        expected = ref(*args)
    np.testing.assert_allclose(value, expected, rtol=VALUE_RTOL, atol=1e-300,
                               err_msg=f"{op_name}: value")
    assert np.shape(value) == np.broadcast_shapes(*[a.shape for a in args])
    assert list(grads) == list(names)

    for k, name in enumerate(names):
        with np.errstate(all="raise"):
            numeric = central_difference(ref, args, k)
        assert np.shape(grads[name]) == args[k].shape, f"{op_name}: shape of d{name}"
        np.testing.assert_allclose(np.asarray(grads[name], dtype=float), numeric, rtol=GRAD_RTOL,
                                   atol=GRAD_ATOL, err_msg=f"{op_name}: d{name}\n{source}")

    # The interpreter: the same op table, evaluated node by node, without codegen.
    interpreter = Interpreter(hand_graph(op_name))
    np.testing.assert_allclose(interpreter.forward(**inputs), value, rtol=ENGINE_RTOL, atol=0)
    interpreted = interpreter.backward()
    assert list(interpreted) == list(names)
    for name in names:
        assert np.shape(interpreted[name]) == np.shape(grads[name])
        np.testing.assert_allclose(np.asarray(interpreted[name], dtype=float),
                                   np.asarray(grads[name], dtype=float), rtol=ENGINE_RTOL,
                                   atol=1e-300, err_msg=f"{op_name}: interpreter d{name}")

    # The module's pure-Python twin, element by element on Python floats.
    scalar = load_module(source, "f").get("f_scalar")
    if OPS[op_name].math is None:
        assert scalar is None
        return
    assert scalar is not None, f"{op_name} has a math spelling but no f_scalar was generated"
    full = np.broadcast_arrays(*args)
    for i in range(min(full[0].size, 6)):
        point = [float(a.flat[i]) for a in full]
        s_value, s_grads = scalar(*point)
        assert float(s_value) == pytest.approx(float(ref(*map(np.float64, point))),
                                               rel=VALUE_RTOL, abs=1e-300)
        n_value, n_grads = function(*map(np.float64, point))
        for name in names:
            assert float(s_grads[name]) == pytest.approx(float(n_grads[name]), rel=1e-12,
                                                         abs=1e-300), (op_name, name, point)


@pytest.mark.parametrize("op_name", elementwise_ops())
def test_gradients_are_floats(op_name):
    """float64 arrays from the NumPy function, Python floats from its float twin."""
    args = draw_args(op_name, "same")
    function, source = compile_graph(hand_graph(op_name))
    value, grads = function(*args)
    assert np.asarray(value).dtype == np.float64
    for name, grad in grads.items():
        assert np.asarray(grad).dtype == np.float64, f"d{name} has dtype {np.asarray(grad).dtype}"
    scalar = load_module(source, "f").get("f_scalar")
    if scalar is not None:
        s_value, s_grads = scalar(*[float(a[0]) for a in args])
        assert type(s_value) is float
        for name, grad in s_grads.items():
            assert type(grad) is float, f"d{name} is {type(grad).__name__}"


# ============================================================================ kinks
@pytest.mark.parametrize("op_name", ["maximum", "minimum"])
def test_tie_routes_the_gradient_to_the_first_argument(op_name):
    x = np.array([-1.5, 0.0, 2.0])
    function, _ = compile_graph(hand_graph(op_name))
    _, grads = function(x, x.copy())
    np.testing.assert_array_equal(grads["a"], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(grads["b"], [0.0, 0.0, 0.0])
    interpreter = Interpreter(hand_graph(op_name))
    interpreter.forward(a=x, b=x.copy())
    interpreted = interpreter.backward()
    np.testing.assert_array_equal(interpreted["a"], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(interpreted["b"], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("op_name", ["maximum", "minimum"])
def test_same_node_twice_gets_the_whole_gradient(op_name):
    g = Graph()
    a = g.input("a", None)
    g.outputs.append(g.apply(op_name, a, a))
    g.output_names.append(None)
    function, _ = compile_graph(g)
    value, grads = function(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(value, [-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(grads["a"], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("formula, expected", [
    ("max(x, y)", {"x": 1.0, "y": 0.0}),
    ("max(y, x)", {"x": 0.0, "y": 1.0}),
    ("min(x, y)", {"x": 1.0, "y": 0.0}),
    ("np.maximum(x, y)", {"x": 1.0, "y": 0.0}),
    ("np.minimum(y, x)", {"x": 0.0, "y": 1.0}),
])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_ties_in_formulas(formula, expected, kind):
    g = symdiff.compile(formula)
    point = {"x": 0.75, "y": 0.75}
    if kind == "array":
        point = {k: np.array([v, v]) for k, v in point.items()}
    _, grads = g(**point)
    for name, want in expected.items():
        np.testing.assert_array_equal(np.asarray(grads[name], dtype=float),
                                      np.full(np.shape(point[name]), want))


@pytest.mark.parametrize("formula, expected", [
    ("relu(x)", 0.0),
    ("max(0, x)", 0.0),        # the tie goes to the constant 0: derivative 0
    ("np.maximum(0.0, x)", 0.0),
    ("max(x, 0)", 1.0),        # the tie goes to x
    ("min(0, x)", 0.0),
    ("min(x, 0)", 1.0),
    ("abs(x)", 0.0),
    ("np.abs(x)", 0.0),
    ("sign(x)", 0.0),
])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_derivative_at_zero(formula, expected, kind):
    g = symdiff.compile(formula)
    x = 0.0 if kind == "float" else np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = g(x)
    np.testing.assert_array_equal(np.asarray(value, dtype=float), np.zeros(np.shape(x)))
    np.testing.assert_array_equal(np.asarray(grads["x"], dtype=float),
                                  np.full(np.shape(x), expected))
    interpreter = Interpreter(g.graph)
    interpreter.forward(x=x)
    np.testing.assert_array_equal(np.asarray(interpreter.backward()["x"], dtype=float),
                                  np.full(np.shape(x), expected))


# x = [2, 0.5], y = [1, 1.5]: x wins the first element, y the second.
MASK_FORMULAS = [
    ("2 * max(x, y)", {"x": [2.0, 0.0], "y": [0.0, 2.0]}),
    ("max(x, y) / 2", {"x": [0.5, 0.0], "y": [0.0, 0.5]}),
    ("-max(x, y)", {"x": [-1.0, 0.0], "y": [0.0, -1.0]}),
    ("x - max(x, y)", {"x": [0.0, 1.0], "y": [0.0, -1.0]}),
    ("max(x, y) * -1", {"x": [-1.0, 0.0], "y": [0.0, -1.0]}),
    ("-min(x, y)", {"x": [0.0, -1.0], "y": [-1.0, 0.0]}),
    ("-relu(x - 1)", {"x": [-1.0, 0.0], "y": None}),
    ("-min(x - x, y - 1.25)", {"x": [0.0, 0.0], "y": [-1.0, 0.0]}),
]


@pytest.mark.parametrize("formula, expected", MASK_FORMULAS)
def test_mask_gradients_scaled_by_a_constant(formula, expected):
    """Array path: a routed gradient times a constant upstream is a float array (a bool mask
    times -1 once folded to a negated bool array, which NumPy refuses)."""
    g = symdiff.compile(formula)
    point = {"x": np.array([2.0, 0.5]), "y": np.array([1.0, 1.5])}
    _, grads = g(**{p: point[p] for p in g.params})
    for name in g.params:
        assert grads[name].dtype == np.float64
        np.testing.assert_array_equal(grads[name], expected[name])


@pytest.mark.parametrize("formula", [
    "x + y", "x - y", "max(x, y)", "relu(x)", "2 * min(x, y)", "-max(x, y)", "-relu(x)",
    "x - max(x, y)", "-min(x - x, y)",
])
def test_float_path_gradients_are_floats(formula):
    g = symdiff.compile(formula)
    _, grads = g(*[0.5 + k for k in range(len(g.params))])
    for name, grad in grads.items():
        assert type(grad) is float, f"d{name} = {grad!r} is a {type(grad).__name__}"


@pytest.mark.parametrize("op_name, expected", [("relu", 0.0), ("abs", 0.0), ("sign", 0.0)])
def test_hand_built_derivative_at_zero(op_name, expected):
    function, _ = compile_graph(hand_graph(op_name))
    _, grads = function(np.zeros(2))
    np.testing.assert_array_equal(grads["a"], [expected, expected])


# ============================================================================ comparisons
COMPARE_REFERENCE = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "isfinite": lambda a: np.abs(a) < np.inf, "isnan": lambda a: a != a,
    "isinf": lambda a: np.abs(a) == np.inf,
    "logical_and": lambda a, b: (a != 0) * (b != 0) > 0, "logical_or": lambda a, b: (a != 0) + (b != 0) > 0,
    "logical_xor": lambda a, b: (a != 0) != (b != 0), "logical_not": lambda a: a == 0,
}


@pytest.mark.parametrize("op_name", sorted(n for n, op in OPS.items() if op.kind == "compare"))
def test_comparison_is_a_mask_with_zero_gradient(op_name):
    assert op_name in COMPARE_REFERENCE, f"no COMPARE_REFERENCE entry for comparison {op_name!r}"
    a = np.array([1.0, 2.0, 3.0, -0.5, 0.0, np.inf, np.nan])
    b = np.array([2.0, 2.0, 2.0, -0.5, -0.0, 1.0, 1.0])   # ties included, -0.0 == 0.0
    names = ARG_NAMES[:OPS[op_name].arity]
    args = dict(zip(names, (a, b)))
    with np.errstate(invalid="ignore"):
        expected = COMPARE_REFERENCE[op_name](*args.values()).astype(float)
    function, _ = compile_graph(hand_graph(op_name))
    value, grads = function(*args.values())
    np.testing.assert_array_equal(np.asarray(value, dtype=float), expected)
    for name in names:
        assert np.shape(grads[name]) == (7,)
        np.testing.assert_array_equal(np.asarray(grads[name], dtype=float), np.zeros(7))
    interpreter = Interpreter(hand_graph(op_name))
    np.testing.assert_array_equal(np.asarray(interpreter.forward(**args), dtype=float), expected)
    interpreted = interpreter.backward()
    for name in names:
        np.testing.assert_array_equal(np.asarray(interpreted[name], dtype=float), np.zeros(7))


# At x = 2, y = 1: x > y and x >= y are both 1. A comparison used as a number is 0.0 or 1.0
# (bool arrays would add as logical or, and refuse '-').
MASK_ARITHMETIC = [
    ("(x > y) + (x >= y)", 2.0),
    ("(x > y) - (x < y)", 1.0),
    ("-(x > y)", -1.0),
    ("(x > y) * (x >= y)", 1.0),
    ("2 * (x > y)", 2.0),
    ("(x > y) / 2", 0.5),
]


@pytest.mark.parametrize("formula, expected, kind", [
    (f, e, kind) for f, e in MASK_ARITHMETIC for kind in ("array", "float")])
def test_comparison_masks_in_arithmetic_are_numbers(formula, expected, kind):
    """A comparison is a 0/1 number: the NumPy and float paths must agree on what masks add to."""
    g = symdiff.compile(formula)
    point = (2.0, 1.0) if kind == "float" else (np.array([2.0]), np.array([1.0]))
    value, grads = g(*point)
    np.testing.assert_array_equal(np.asarray(value, dtype=float), np.full(np.shape(point[0]),
                                                                          expected))
    if kind == "array":
        assert value.dtype == np.float64
    for name in ("x", "y"):
        np.testing.assert_array_equal(np.asarray(grads[name], dtype=float), 0.0)


def test_mask_times_value_in_a_formula():
    g = symdiff.compile("x * (x > y) + y * (x <= y)")
    x, y = np.array([1.0, -1.0, 2.0]), np.array([0.5, 0.5, 3.0])
    value, grads = g(x, y)
    np.testing.assert_allclose(value, [1.0, 0.5, 3.0])
    np.testing.assert_allclose(np.asarray(grads["x"], dtype=float), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(grads["y"], dtype=float), [0.0, 1.0, 1.0])


# ============================================================================ where
def where_graph() -> Graph:
    """where(a > b, a * a, sin(b))."""
    g = Graph()
    a, b = g.input("a", None), g.input("b", None)
    out = g.apply("where", g.apply("gt", a, b), g.apply("mul", a, a), g.apply("sin", b))
    g.outputs.append(out)
    g.output_names.append(None)
    return g


def test_where_op():
    rng = np.random.default_rng(7)
    a, b = apart()(rng, [(8,), (8,)])
    function, _ = compile_graph(where_graph())
    value, grads = function(a, b)
    ref = lambda a, b: np.where(a > b, a * a, np.sin(b))  # noqa: E731
    np.testing.assert_allclose(value, ref(a, b), rtol=VALUE_RTOL)
    assert np.any(a > b) and np.any(a <= b)
    np.testing.assert_allclose(grads["a"], np.where(a > b, 2 * a, 0.0), rtol=1e-12)
    np.testing.assert_allclose(grads["b"], np.where(a > b, 0.0, np.cos(b)), rtol=1e-12)
    for k, name in enumerate("ab"):
        np.testing.assert_allclose(grads[name], central_difference(ref, [a, b], k),
                                   rtol=GRAD_RTOL, atol=GRAD_ATOL)
    interpreter = Interpreter(where_graph())
    np.testing.assert_allclose(interpreter.forward(a=a, b=b), value, rtol=ENGINE_RTOL)
    interpreted = interpreter.backward()
    for name in "ab":
        np.testing.assert_allclose(interpreted[name], grads[name], rtol=ENGINE_RTOL)


SQRT_WHERE = "np.where(x > 0, np.sqrt(x), 0.0)"


@pytest.mark.parametrize("x", [0.0, -1.0])
@pytest.mark.parametrize("kind", ["float", "array"])
def test_where_branch_not_taken_gets_an_exact_zero_without_warnings(x, kind):
    g = symdiff.compile(SQRT_WHERE)
    point = x if kind == "float" else np.array([x, x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = g(point)
    assert np.all(np.isfinite(grads["x"]))
    np.testing.assert_array_equal(np.asarray(value, dtype=float), np.zeros(np.shape(point)))
    np.testing.assert_array_equal(np.asarray(grads["x"], dtype=float), np.zeros(np.shape(point)))


@pytest.mark.parametrize("kind", ["float", "array"])
def test_where_gradient_of_the_branch_taken(kind):
    g = symdiff.compile(SQRT_WHERE)
    point = 4.0 if kind == "float" else np.array([4.0, 0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = g(point)
    np.testing.assert_allclose(value, np.sqrt(point), rtol=1e-15)
    np.testing.assert_allclose(grads["x"], 0.5 / np.sqrt(point), rtol=1e-15)


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_where_interpreter_sends_an_exact_zero(x):
    g = symdiff.compile(SQRT_WHERE)
    interpreter = Interpreter(g.graph)
    interpreter.forward(x=np.array([x]))
    grad = interpreter.backward()["x"]
    np.testing.assert_array_equal(grad, [0.0])
