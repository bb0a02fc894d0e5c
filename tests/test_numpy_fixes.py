"""Regressions: NumPy forms that symdiff accepted and got wrong (issue: NumPy at full breadth, §1).

Each case is checked against NumPy's value, central differences, the interpreter and (where
installed) JAX in float64, by :func:`oracle.check_program`.
"""

import numpy as np
import pytest

import symdiff
from oracle import check_program

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


CASES = {
    # np.dot with a 3-d second argument contracts a's last axis with b's second-to-last.
    "dot_2d_3d": ("def f(x, y):\n    return np.dot(x, y)\n", {"x": normal(2, 3), "y": normal(2, 3, 4)}),
    "dot_3d_3d": ("def f(x, y):\n    return np.dot(x, y)\n",
                  {"x": normal(2, 2, 3), "y": normal(2, 3, 4)}),
    "dot_method": ("def f(x, y):\n    return x.dot(y)\n", {"x": normal(3), "y": normal(2, 3, 4)}),
    "dot_1d_1d": ("def f(x, y):\n    return np.dot(x, y)\n", {"x": normal(3), "y": normal(3)}),
    "tensordot_2": ("def f(x, y):\n    return np.tensordot(x, y)\n",
                    {"x": normal(2, 3, 4), "y": normal(3, 4, 2)}),
    "tensordot_pairs": ("def f(x, y):\n    return np.tensordot(x, y, axes=([0, 2], [2, 1]))\n",
                        {"x": normal(2, 3, 4), "y": normal(5, 4, 2)}),
    "inner": ("def f(x, y):\n    return np.inner(x, y)\n", {"x": normal(2, 3), "y": normal(4, 3)}),
    "vdot": ("def f(x, y):\n    return np.vdot(x, y)\n", {"x": normal(2, 3), "y": normal(3, 2)}),
    # Batch @ vector and vector @ batch are valid matmul.
    "batch_at_vector": ("def f(a, b):\n    return a @ b\n", {"a": normal(2, 4, 3), "b": normal(3)}),
    "vector_at_batch": ("def f(a, b):\n    return np.matmul(a, b)\n",
                        {"a": normal(3), "b": normal(2, 3, 4)}),
    # A list index is fancy indexing; repeated positions add up in the gradient.
    "list_index": ("def f(x):\n    return x[[0, 2]]\n", {"x": normal(3, 4)}),
    "list_index_repeated": ("def f(x):\n    return x[[0, 0, 2]] * 2.0\n", {"x": normal(3, 4)}),
    "list_index_pairs": ("def f(x):\n    return x[[0, 2], [1, 3]]\n", {"x": normal(3, 4)}),
    "list_index_column": ("def f(x):\n    return x[:, [3, 1, 3]]\n", {"x": normal(3, 4)}),
    "list_index_nested": ("def f(x):\n    return x[[[0, 1], [1, 1]]]\n", {"x": normal(3, 2)}),
    "list_index_bool": ("def f(x):\n    return x[[True, False, True]]\n", {"x": normal(3, 2)}),
    "tuple_index": ("def f(x):\n    return x[(0, 2)] * x\n", {"x": normal(3, 4)}),
    # 0 ** y and x ** y at x = 0: d/dy is 0 there, not NaN.
    "power_at_zero": ("def f(x, y):\n    return x ** y\n",
                      {"x": np.array([0.0, 0.0, 1.5]), "y": np.array([2.0, 3.5, 0.5])}, ["y"]),
    "zero_to_the_y": ("def f(y):\n    return 0.0 ** y\n", {"y": np.array([1.5, 2.0])}),
    # where() whose condition broadcasts wider than a branch.
    "where_wide_condition": ("def f(c, x):\n    t2 = x * 2.0\n"
                             "    return np.where(c < 0.5, t2, 0.1 * t2) * np.exp(t2)\n",
                             {"c": np.array([0.1, 0.7, 0.3]), "x": normal(3, 1)}),
    "where_narrow_condition": ("def f(c, x):\n    return np.where(c < 0.5, x, -x) * x\n",
                               {"c": np.array([[0.1], [0.7]]), "x": normal(2, 3)}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_oracles(name):
    source, args, *wrt = CASES[name]
    check_program(source, args, wrt=wrt[0] if wrt else [k for k in args if k != "c"])


def test_power_at_zero_has_zero_y_gradient_on_floats():
    g = symdiff.compile("x ** y")
    assert g(0.0, 2.0) == (0.0, {"x": 0.0, "y": 0.0})
    value, grads = g(0.0, 0.0)            # 0 ** 0 = 1; x ** 0 is constant
    assert value == 1.0 and grads == {"x": 0.0, "y": 0.0}
    assert "where" not in symdiff.compile("x ** 2").source.split("def f(")[1]  # folds away


def test_layer_api_names_never_collide_with_the_backward_parameters():
    g = symdiff.compile("def f(out, x):\n    return x + 2.0 * out\n")
    _, cache = g.forward(1.0, 1.0)
    assert g.backward(1.0, cache) == {"out": 2.0, "x": 1.0}
    g = symdiff.compile("def f(x, out1):\n    out0 = x * out1\n    return out0, x + out1\n")
    _, cache = g.forward(2.0, 3.0)
    grads = g.backward((1.0, 1.0), cache)
    assert float(grads["x"]) == 4.0 and float(grads["out1"]) == 3.0


@pytest.mark.parametrize("shape", [(4, 3), (3,), ()])
def test_source_is_what_runs_for_outputs_of_different_shapes(shape):
    g = symdiff.compile("def f(a, s):\n    return a * 2.0, s * 3.0, a * s\n")
    a = normal(*shape)
    value, grads = g(a, 1.5)
    namespace = {}
    exec(g.source, namespace)
    module_value, module_grads = namespace["f"](a, 1.5)
    assert float(grads["s"]) == pytest.approx(3.0 + float(np.sum(a)))
    assert float(module_grads["s"]) == pytest.approx(float(grads["s"]))
    np.testing.assert_allclose(module_grads["a"], grads["a"])
    out, cache = namespace["f_forward"](a, 1.5)
    dout = (np.ones_like(a), 1.0, np.ones_like(a))
    assert float(namespace["f_backward"](dout, cache)["s"]) == pytest.approx(float(grads["s"]))


def test_unused_float32_input_gets_a_float32_zero_gradient():
    g = symdiff.compile("def f(a, b):\n    return np.sum(a @ a.T)\n")
    a = np.ones((2, 3), np.float32)
    _, grads = g(a, np.ones(3, np.float32))
    assert grads["a"].dtype == np.float32 and grads["b"].dtype == np.float32


STATS = {
    "median_all": "def f(x):\n    return np.median(x)\n",
    "median_axis": "def f(x):\n    return np.median(x, axis=0)\n",
    "median_keepdims": "def f(x):\n    return np.median(x, axis=-1, keepdims=True)\n",
    "percentile": "def f(x):\n    return np.percentile(x, 30, axis=1)\n",
    "percentiles": "def f(x):\n    return np.percentile(x, [10, 50, 95])\n",
    "quantile_axes": "def f(x):\n    return np.quantile(x, 0.75, axis=(0, 1))\n",
    "clip_method": "def f(x):\n    return x.clip(-0.5, 0.5) * x\n",
}


@pytest.mark.parametrize("name", sorted(STATS))
@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 2)])
def test_order_statistics(name, shape):
    if name == "quantile_axes" and len(shape) < 2:
        pytest.skip("needs two axes")
    check_program(STATS[name], {"x": normal(*shape)})


MASKED = {
    "sum_of_positives": ("def f(x):\n    return np.sum(x[x > 0] ** 2)\n", {"x": normal(3, 4)}),
    "mean_log": ("def f(x):\n    return np.mean(np.log(x[x > 0]))\n",
                 {"x": np.array([[-1.0, 2.0, 0.5], [3.0, -2.0, 1.0]])}),
    "rows": ("def f(x, c):\n    return np.max(x[c > 0] * 2.0) + np.min(x[c > 0])\n",
             {"x": normal(3, 4), "c": np.array([1.0, -1.0, 2.0])}),
    "method_sum": ("def f(x, y):\n    return (x[y > 0.5] * 3.0 - 1.0).sum()\n",
                   {"x": normal(5), "y": np.array([0.1, 0.9, 0.7, 0.2, 0.6])}),
}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_boolean_mask_selections_reduce_whole(name):
    source, args = MASKED[name]
    check_program(source, args, wrt=["x"])


def test_boolean_mask_selection_used_with_a_shape_is_a_clear_error():
    with pytest.raises(symdiff.SymdiffError, match="depends on the data"):
        symdiff.compile("def f(x):\n    return np.sum(x[x > 0], axis=0)\n")(normal(3, 2))
    with pytest.raises(symdiff.SymdiffError, match="as many elements as the mask"):
        symdiff.compile("def f(x):\n    return x[x > 0] @ x[x > 0]\n")(normal(4))


# Found by the JAX differential fuzzer (benchmarks/fuzz_jax.py): crashes and refusals of valid
# NumPy, each now computing NumPy's numbers.
FUZZ = {
    "ellipsis_of_a_scalar": ("def f(x):\n    return np.sum(x)[...] * x\n", {"x": normal(3)}),
    "reshape_of_one_element": ("def f(x):\n    return np.sum(x, axis=0).reshape(()) * x\n",
                               {"x": normal(1, 1)}),
    "index_of_a_constant": ("def f(x):\n    return np.power(2.0, 3)[None] + x\n", {"x": normal(3)}),
    "outer_flattens": ("def f(x, y):\n    return np.outer(x, y)\n", {"x": normal(2, 2), "y": normal(3)}),
    "shape_arithmetic": ("def f(x):\n    return np.zeros((2,) + x.shape[1:]) + x\n",
                         {"x": normal(2, 4)}),
    "copy": ("def f(x):\n    return np.copy(x) * x.copy()\n", {"x": normal(3)}),
    "static_false_in_mask": ("def f(x):\n    return np.where((x > 0) & (1.0 > 2.0), x, -x)\n",
                             {"x": normal(3)}),
    "value_with_leading_ones": ("def f(x, z):\n    z = z * 1.0\n    z[0] = x\n    return z\n",
                                {"x": normal(1, 3), "z": normal(2, 3)}),
    "alias_updated_in_place": ("def f(x):\n    y = x * 1.0\n    a = y\n    a += 1.0\n"
                               "    a[0] = 3.0\n    return y * x\n", {"x": normal(3)}),
}


@pytest.mark.parametrize("name", sorted(FUZZ))
def test_fuzzer_findings(name):
    source, args = FUZZ[name]
    check_program(source, args)


def test_inputs_that_never_meet_need_not_broadcast():
    value, grads = symdiff.compile("def f(x, y):\n    return x * 2.0\n")(normal(2, 3), normal(2))
    assert value.shape == (2, 3) and grads["y"].shape == (2,) and not grads["y"].any()


def test_an_input_named_like_a_seed_does_not_collide():
    g = symdiff.compile("def f(dout0, y):\n    dout1 = dout0 * y\n    return dout1, y\n")
    x = np.arange(3.0)
    _, grads = g(x, x, dout=(np.ones(3), np.ones(3)))
    np.testing.assert_allclose(grads["dout0"], x)
    np.testing.assert_allclose(grads["y"], x + 1.0)


def test_written_module_takes_python_floats():
    g = symdiff.compile("def f(x, y):\n    return np.reshape(x, (1,)) * y\n")
    value, _ = g(2.0, np.ones(2))
    namespace = {}
    exec(g.source, namespace)
    np.testing.assert_allclose(namespace["f"](2.0, np.ones(2))[0], value)
