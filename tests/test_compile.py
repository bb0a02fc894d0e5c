"""The library contract: symdiff.compile(fn_or_source, wrt) -> value, grads."""

import numpy as np
import pytest

import symdiff

NEURON = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"
NEURON_POINT = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
NEURON_GRADS = dict(w0=-0.19661193, x0=0.39322387, w1=-0.39322387, x1=-0.58983580, w2=0.19661193)


def test_lecture_example_values():
    value, grads = symdiff.compile("(x+y)*z")(-2, 5, -4)
    assert value == -12
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_sigmoid_neuron_matches_lecture_numbers():
    g = symdiff.compile(NEURON)
    assert g.params == ["w0", "x0", "w1", "x1", "w2"]
    value, grads = g(**NEURON_POINT)
    assert value == pytest.approx(0.73105858, abs=1e-8)
    for name, expected in NEURON_GRADS.items():
        assert grads[name] == pytest.approx(expected, abs=1e-8)


def test_positional_and_keyword_calls_agree():
    g = symdiff.compile(NEURON)
    by_position = g(*NEURON_POINT.values())
    by_keyword = g(**NEURON_POINT)
    mixed = g(2.0, -1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    assert by_position == by_keyword == mixed


def test_wrt_limits_the_gradients():
    g = symdiff.compile("x*y + sin(z)", wrt=["z", "x"])
    _, grads = g(1.0, 2.0, 0.5)
    assert list(grads) == ["z", "x"]
    assert grads["z"] == pytest.approx(np.cos(0.5))
    assert grads["x"] == pytest.approx(2.0)


def test_wrt_unknown_name_is_an_error():
    with pytest.raises(symdiff.SymdiffError, match="not an input"):
        symdiff.compile("x*y", wrt=["q"])


def test_float_inputs_give_float_gradients():
    _, grads = symdiff.compile("x*y")(3.0, 4.0)
    assert type(grads["x"]) is float and type(grads["y"]) is float


def test_array_inputs_broadcast_and_gradients_match_input_shapes():
    g = symdiff.compile("x*y + z")
    x = np.arange(6.0).reshape(2, 3)
    y = np.array([1.0, 2.0, 3.0])
    value, grads = g(x, y, 2.0)
    np.testing.assert_allclose(value, x * y + 2.0)
    assert grads["x"].shape == (2, 3) and grads["y"].shape == (3,)
    np.testing.assert_allclose(grads["x"], np.broadcast_to(y, (2, 3)))
    np.testing.assert_allclose(grads["y"], x.sum(axis=0))
    assert grads["z"] == pytest.approx(6.0)


def test_explicit_upstream_gradient():
    g = symdiff.compile("x*x")
    x = np.array([1.0, 2.0, 3.0])
    dout = np.array([1.0, 0.0, -1.0])
    _, grads = g(x, dout=dout)
    np.testing.assert_allclose(grads["x"], 2 * x * dout)


def test_def_block_and_function_object():
    src = "def f(x, y):\n    q = x * y\n    r = q + x\n    return r * r\n"

    def f(x, y):
        q = x * y
        r = q + x
        return r * r

    a = symdiff.compile(src)(1.5, -0.5)
    b = symdiff.compile(f)(1.5, -0.5)
    assert a == b
    r = 1.5 * -0.5 + 1.5
    assert a[0] == pytest.approx(r * r)
    assert a[1]["x"] == pytest.approx(2 * r * (-0.5 + 1))


def test_function_object_reads_module_constants():
    scale = 3.0  # noqa: F841 -- read by the compiled function through its closure

    def f(x):
        return scale * x * x

    _, grads = symdiff.compile(f)(2.0)
    assert grads["x"] == pytest.approx(12.0)


def test_loops_unroll():
    src = "def f(x):\n    for i in range(3):\n        x = x * x\n    return x\n"
    value, grads = symdiff.compile(src)(1.1)
    assert value == pytest.approx(1.1 ** 8)
    assert grads["x"] == pytest.approx(8 * 1.1 ** 7)


def test_variable_used_on_two_branches_sums_gradients():
    value, grads = symdiff.compile("x*y + x*z + x")(2.0, 3.0, 4.0)
    assert grads["x"] == pytest.approx(3.0 + 4.0 + 1.0)


def test_input_that_does_not_reach_output_gets_zero():
    src = "def f(x, y):\n    return x * 2\n"
    _, grads = symdiff.compile(src)(1.0, np.ones(3))
    assert grads["x"] == 2.0
    np.testing.assert_array_equal(grads["y"], np.zeros(3))


def test_inputs_are_never_modified_and_gradients_never_alias_them():
    g = symdiff.compile("x*y")
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    _, grads = g(x, y)
    assert grads["x"] is not y and grads["y"] is not x
    grads["x"][:] = 0
    np.testing.assert_array_equal(y, [3.0, 4.0])


def test_integer_inputs_are_coerced_to_float():
    value, grads = symdiff.compile("x**-1")(np.array([1, 2, 4]))
    np.testing.assert_allclose(value, [1.0, 0.5, 0.25])
    np.testing.assert_allclose(grads["x"], [-1.0, -0.25, -1 / 16])


def test_float_path_falls_back_to_ieee_results_on_domain_errors():
    with np.errstate(all="ignore"):
        value, grads = symdiff.compile("log(x)")(-1.0)
    assert np.isnan(value)


def test_wrong_number_of_inputs():
    g = symdiff.compile("x*y")
    with pytest.raises(symdiff.InputError, match="missing"):
        g(1.0)
    with pytest.raises(symdiff.InputError, match="no input"):
        g(1.0, 2.0, w=3.0)


def test_gradients_closed_forms():
    grads = symdiff.gradients("(x+y)*z")
    import sympy
    x, y, z = sympy.symbols("x y z", real=True)
    assert sympy.simplify(grads["x"] - z) == 0
    assert sympy.simplify(grads["z"] - (x + y)) == 0
    assert sympy.simplify(grads.value - (x + y) * z) == 0


def test_closed_form_of_neuron_matches_sympy_diff():
    import sympy
    grads = symdiff.gradients(NEURON)
    w0, x0, w1, x1, w2 = sympy.symbols("w0 x0 w1 x1 w2", real=True)
    f = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
    for name, sym in zip(["w0", "x0", "w1", "x1", "w2"], [w0, x0, w1, x1, w2]):
        diff = (grads[name] - sympy.diff(f, sym)).subs({w0: 0.3, x0: -1.2, w1: 0.7, x1: 2.0,
                                                          w2: 0.1})
        assert abs(float(diff)) < 1e-12
