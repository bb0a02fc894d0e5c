"""Regressions found in review: each test is one bug that once gave a wrong answer or a crash."""

import warnings

import numpy as np
import pytest

import symdiff


def test_vector_dot_vector_is_a_scalar():
    g = symdiff.compile("def f(B):\n    return B + (B @ B)")
    B = np.array([1.0, 2, 3, 4])
    _, grads = g(B)
    np.testing.assert_allclose(grads["B"], 1 + 2 * B * len(B))


def test_hvp_of_a_tuple_output():
    _, hv = symdiff.hvp("def f(a):\n    return a * a, np.sum(a)")(np.ones(3), v={"a": np.ones(3)})
    np.testing.assert_allclose(hv["a"], [2.0, 2.0, 2.0])


def test_division_by_a_zero_constant_is_ieee():
    with np.errstate(all="ignore"):
        value, grads = symdiff.compile("x / 0.0")(np.array([1.0]))
        assert value[0] == np.inf and grads["x"][0] == np.inf
        assert symdiff.compile("x / -0.0")(np.array([1.0]))[0][0] == -np.inf


def test_where_mask_survives_broadcasting():
    g = symdiff.compile("def f(x, y):\n    return np.sum(np.where(x + y > 0, np.sqrt(x), 0.0))")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grads = g(np.array([[0.0], [1.0], [4.0]]), np.array([-1.0, -2, -3, -4]))
    np.testing.assert_array_equal(grads["x"], [[0.0], [0.0], [0.75]])


def test_gradients_never_view_the_callers_dout():
    g = symdiff.compile("def f(M):\n    return M.T")
    dout = np.ones((2, 4))
    _, grads = g(np.arange(8.0).reshape(4, 2), dout=dout)
    assert not np.shares_memory(grads["M"], dout)


@pytest.mark.parametrize("name", ["float", "max", "min", "abs", "slice", "xp"])
def test_names_generated_code_calls_are_reserved(name):
    with pytest.raises(symdiff.ParseError, match="reserved"):
        symdiff.compile(f"relu(x) + {name}")


def test_tuple_dout_with_outputs_of_different_shapes():
    g = symdiff.compile("def f(x, y):\n    a = x * y\n    b = np.sum(x) * 2.0\n    return a, b\n")
    x = np.array([1.0, 2.0, 3.0])
    _, grads = g(x, x, dout=(np.ones(3), 1.0))
    np.testing.assert_allclose(grads["x"], x + 2.0)


@pytest.mark.parametrize("dout", [np.ones((2, 3)), (np.ones(3), np.ones(3))])
def test_dout_of_the_wrong_shape_or_count_is_an_input_error(dout):
    with pytest.raises(symdiff.InputError):
        symdiff.compile("x * 2")(np.ones(3), dout=dout)


def test_power_zero_has_gradient_zero_at_zero():
    assert symdiff.compile("x ** 0")(0.0) == (1.0, {"x": 0.0})


@pytest.mark.parametrize("shapes", [{"x": 3}, {"x": (-3,)}, {"x": (3.0,)}, [1]])
def test_bad_shapes_are_input_errors(shapes):
    with pytest.raises(symdiff.InputError):
        symdiff.compile("def f(x):\n    return np.sum(x)\n", shapes=shapes)


@pytest.mark.parametrize("body", ["np.sum(x.reshape(-2, -3))", "np.sum(np.transpose(x, (0, 3)))",
                                  "np.sum(np.transpose(x, (1.0, 0)))", "np.sum(x[::0])"])
def test_bad_shape_arguments_are_source_errors(body):
    with pytest.raises(symdiff.SourceError):
        symdiff.compile(f"def f(x):\n    return {body}\n")(np.ones((2, 3)))


def test_labels_out_of_range_are_input_errors():
    g = symdiff.compile("def f(s, y):\n    N = s.shape[0]\n    return np.sum(s[np.arange(N), y])\n")
    with pytest.raises(symdiff.InputError, match="index 4"):
        g(np.ones((3, 4)), np.array([4, 0, 1]))


def test_float32_with_a_python_float_stays_float32():
    value, grads = symdiff.compile("x*y + exp(x)")(np.ones(3, np.float32), 2.0)
    assert value.dtype == np.float32 and grads["x"].dtype == np.float32


def test_vector_at_batch_of_matrices_is_refused_not_wrong():
    with pytest.raises(symdiff.ShapeError, match="batch"):
        symdiff.compile("def f(a, b):\n    return np.sum(a @ b)\n")(np.ones(3), np.ones((5, 3, 4)))


def test_float_dispatcher_keeps_argument_errors():
    g = symdiff.compile("x*y + z")
    g(1.0, 2.0, 3.0)  # installs the float fast path
    with pytest.raises(symdiff.InputError):
        g(1.0, 2.0, 3.0, 4.0)
    with pytest.raises(symdiff.InputError, match="no input 'w'"):
        g(1.0, 2.0, w=3.0)
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        g(1.0, 2.0, x=3.0)
    with pytest.raises(symdiff.InputError, match="missing input"):
        g(1.0, z=2.0)
    assert g(x=1.0, y=2.0, z=3.0)[0] == 5.0
    assert g(1.0, z=3.0, y=2.0)[1] == {"x": 2.0, "y": 1.0, "z": 1.0}
    assert g(1.0, 2.0, np.float64(3.0))[0] == 5.0  # not a Python float: the general path


def test_outputs_are_never_the_callers_arrays():
    x = np.ones((2, 3))
    assert symdiff.compile("def f(x):\n    return x\n")(x)[0] is not x
    assert not np.shares_memory(symdiff.compile("def f(x):\n    return x.T\n")(x)[0], x)
    a, b = symdiff.compile("def f(x):\n    return x * 2.0, x * 2.0\n")(np.ones(2))[0]
    assert a is not b


def test_hvp_checks_its_vector_and_jacobian_its_output_count():
    with pytest.raises(symdiff.InputError):
        symdiff.hvp("def f(x):\n    return np.sum(x ** 3)\n")(np.ones(3), v={"x": np.ones((2, 3))})
    with pytest.raises(symdiff.InputError):
        symdiff.jacobian("def f(x):\n    return x * 2.0, np.sum(x)\n")(np.ones(2))


def test_type_is_reserved():
    with pytest.raises(symdiff.ParseError):
        symdiff.compile("type * 2")
