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


@pytest.mark.parametrize("name", ["float", "max", "min", "abs", "slice"])
def test_names_generated_code_calls_are_reserved(name):
    with pytest.raises(symdiff.ParseError, match="reserved"):
        symdiff.compile(f"relu(x) + {name}")


def test_xp_is_reserved_only_for_the_array_api_backend():
    assert symdiff.compile("relu(x) + xp")(1.0, 2.0)[0] == 3.0
    with pytest.raises(symdiff.InputError, match="xp"):
        symdiff.compile("relu(x) + xp", backend="array_api")


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


def test_vector_at_batch_of_matrices_is_right():
    a, b = np.arange(3.0), np.arange(60.0).reshape(5, 3, 4) / 10
    value, grads = symdiff.compile("def f(a, b):\n    return np.sum(a @ b)\n")(a, b)
    assert value == pytest.approx(np.sum(a @ b))
    np.testing.assert_allclose(grads["a"], b.sum(axis=(0, 2)))
    np.testing.assert_allclose(grads["b"], np.broadcast_to(a[:, None], (5, 3, 4)))


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


# ------------------------------------------------------------ third review: buffer reuse, blocks
def test_buffer_reuse_follows_the_order_statements_run():
    # sin(m) in place would destroy m, which the backward (printed later) still reads.
    g = symdiff.compile("def f(x, y):\n    m = x * y\n    c = np.cos(m)\n    return np.sum(np.sin(m))\n")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=1 << 15), rng.normal(size=1 << 15)
    np.testing.assert_allclose(g(x, y)[1]["x"], np.cos(x * y) * y, rtol=1e-12)


def test_a_blocked_sum_that_is_part_of_a_gradient():
    x = np.random.default_rng(0).normal(size=1 << 18)
    g = symdiff.compile("def f(x, a, z):\n    v = 1.0 / (np.abs(z - np.cos(x)) + 1.0)\n"
                        "    return np.sum(v * a) + z * z\n")
    expected = np.sum(1.0 / (np.abs(0.3 - np.cos(x)) + 1.0))
    assert g(x, 0.7, 0.3)[1]["a"] == pytest.approx(expected, rel=1e-12)


def test_masks_are_never_written_into():
    x = np.linspace(-2, 2, 1 << 15)
    g = symdiff.compile("def f(x, y):\n    m = np.where(x > 0, x > 1, y > 0)\n"
                        "    return np.sum((m + 0.5) * x)\n")
    y = np.cos(x)
    m = np.where(x > 0, x > 1, y > 0)
    assert g(x, y)[0] == pytest.approx(np.sum((m + 0.5) * x), rel=1e-12)


@pytest.mark.parametrize("n", [10, 1 << 15])
def test_two_gradients_are_never_one_array(n):
    _, grads = symdiff.compile("def f(x, a):\n    return a + x\n")(np.ones(n), np.ones(n))
    assert not np.shares_memory(grads["x"], grads["a"])
    _, grads = symdiff.compile("def f(x, a):\n    return np.sum(a + x)\n")(np.ones(n), np.ones(n))
    assert not np.shares_memory(grads["x"], grads["a"])


def test_verify_allows_only_definitions_at_top_level_and_calls_to_block_functions():
    from symdiff.compiler import load_module
    from symdiff.codegen.verify import GeneratedCodeError
    with pytest.raises(GeneratedCodeError, match="top-level"):
        load_module('import numpy as np\nexec("1")\n\n\ndef exec(x):\n    return x\n', "f")
    with pytest.raises(GeneratedCodeError, match="call to 'exec'"):
        load_module("import numpy as np\n\n\ndef exec(x):\n    return x\n\n\n"
                    "def f(x):\n    return exec(x)\n", "f")


@pytest.mark.parametrize("name", ["range", "np", "abs", "float"])
def test_a_program_named_like_something_generated_code_uses(name):
    with pytest.raises(symdiff.ParseError, match="reserved"):
        symdiff.compile(f"def {name}(x, a):\n    return np.mean(np.tanh(a * x))\n")


def test_outputs_of_different_shapes_each_send_their_own_gradient():
    g = symdiff.compile("def f(x, y):\n    return x * y, x\n")
    x, y = np.random.default_rng(1).normal(size=4), np.random.default_rng(2).normal(size=(4, 4))
    np.testing.assert_allclose(g(x, y)[1]["x"], y.sum(axis=0) + 1.0, rtol=1e-12)
    assert g(2.0, 3.0)[1] == {"x": 4.0, "y": 2.0}


def test_specializations_are_bounded(monkeypatch):
    monkeypatch.setattr(symdiff.compiler, "MAX_SPECIALIZATIONS", 3)
    g = symdiff.compile("def f(x):\n    return np.sum(np.tanh(x))\n")
    for n in range(1, 8):  # one sized module per rank: seven ranks
        g(np.ones((2,) * n))
    assert len(g._cache) == 3


# ------------------------------------------------------------ fourth review
def test_a_buffer_with_a_live_view_is_never_written_into():
    rng = np.random.default_rng(0)
    src = ("def f(x, w, u):\n    v1 = u * x\n    v2 = v1.T * w\n"
           "    return np.sum(v2 * v2) + np.sum(v1 * v1) + np.sum(np.sin(x * w.T))\n")
    x, u, w = rng.normal(size=(256, 128)), rng.normal(size=(256, 128)), rng.normal(size=(128, 256))
    v1 = u * x
    v2 = v1.T * w
    _, grads = symdiff.compile(src)(x, w, u)
    np.testing.assert_allclose(grads["w"], 2 * v2 * v1.T + np.cos(x * w.T).T * x.T, rtol=1e-10)
    t = symdiff.compile("def f(x):\n    t = x * 2.0\n    r = t.T\n    return r, np.exp(t)\n")
    (r, e), _ = t(np.full((256, 128), 0.5))
    np.testing.assert_array_equal(r, np.full((128, 256), 1.0))
    assert not np.shares_memory(r, e)


def test_a_max_broadcast_into_a_softmax_over_another_array_keeps_its_gradient():
    from symdiff.check import numeric_gradient
    src = ("def f(a, b, w):\n    c = np.max(a, axis=1, keepdims=True)\n    s = b - c\n"
           "    e = np.exp(s)\n    p = e / np.sum(e, axis=1, keepdims=True)\n    return np.sum(p * w)\n")
    rng = np.random.default_rng(1)
    point = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(2, 3, 4)),
             "w": rng.normal(size=(2, 3, 4))}
    g = symdiff.compile(src)
    numeric = numeric_gradient(lambda **kw: g(**kw)[0], point, "a")
    assert np.abs(numeric).max() > 0.1
    np.testing.assert_allclose(g(**point)[1]["a"], numeric, rtol=1e-6, atol=1e-9)


def test_hvp_of_float32_inputs_is_float32_at_any_size():
    h = symdiff.hvp("def f(x, w):\n    return np.sum(np.tanh(x * w))\n")
    for n in (8, 1 << 15):
        x, w = np.full(n, 0.5, np.float32), np.full(n, 0.25, np.float32)
        _, hv = h(x, w, v={"x": np.ones_like(x)})
        assert hv["x"].dtype == hv["w"].dtype == np.float32


def test_verify_rejects_rebinding_what_generated_code_calls():
    from symdiff.compiler import load_module
    from symdiff.codegen.verify import GeneratedCodeError
    block = "import numpy as np\n\n\ndef _f_block(x):\n    return x\n\n\n"
    with pytest.raises(GeneratedCodeError, match="eval"):
        load_module(block + "def f(x):\n    _f_block = eval\n    return _f_block('7')\n", "f")
    with pytest.raises(GeneratedCodeError, match="rebound"):
        load_module(block + "def f(x, _f_block=print):\n    return _f_block('7')\n", "f")
    with pytest.raises(GeneratedCodeError, match="rebound"):
        load_module("import numpy as np\n\n\ndef f(x):\n    _sum_to = abs\n    return x\n", "f")
    with pytest.raises(symdiff.ParseError, match="reserved"):
        symdiff.compile("def f(x):\n    eval = x * 2\n    return eval\n")


@pytest.mark.parametrize("src, args", [
    ("def f(ValueError, x):\n    return np.log(x) * ValueError\n", (2.0, -1.0)),
    ("def f(a, ZeroDivisionError):\n    return a / ZeroDivisionError\n", (2.0, 0.0)),
    ("def ValueError(a, x):\n    return np.log(x) * a\n", (2.0, -1.0)),
])
def test_exception_names_do_not_break_the_float_fast_path(src, args):
    g = symdiff.compile(src)
    with np.errstate(all="ignore"):
        g(1.0, 1.0)
        value, _ = g(*args)
    assert not np.isfinite(value)


# ------------------------------------------------------------ fifth review
def test_self_is_reserved():
    with pytest.raises(symdiff.ParseError, match="reserved"):
        symdiff.compile("self * sin(y)")


def test_float32_layer_backward_is_float32():
    g = symdiff.compile("def f(x):\n    m = np.max(x, axis=0, keepdims=True)\n"
                        "    return np.sum(np.exp(x - m) * m)\n")
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    out, cache = g.forward(x)
    assert g.backward(np.float32(1), cache)["x"].dtype == np.float32


def test_the_written_self_check_passes_on_a_large_net(tmp_path):
    import importlib.util
    src = ("def loss(W1, b1, W2, X, y):\n    h = np.maximum(0, X @ W1 + b1)\n    s = h @ W2\n"
           "    z = s - np.max(s, axis=1, keepdims=True)\n"
           "    p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))\n"
           "    return -np.sum(p[np.arange(64), y]) / 64 + 0.0005 * np.sum(W1 * W1)\n")
    g = symdiff.compile(src, shapes={"W1": (600, 50), "b1": (50,), "W2": (50, 10),
                                     "X": (64, 600), "y": (64,)})
    path = g.write(str(tmp_path / "net_check.py"), check=True)
    spec = importlib.util.spec_from_file_location("net_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.check_gradients() < 1e-4  # rounding of a large sum is not an error
    backward = module.loss_backward
    module.loss_backward = lambda d, c: {k: v * 1.001 for k, v in backward(d, c).items()}
    with pytest.raises(AssertionError, match="disagrees"):
        module.check_gradients()  # a gradient 0.1% off is


def test_new_axes_send_their_gradient_back_by_reshape_not_scatter():
    src = "def f(a, b):\n    return np.sum(np.tanh(a[:, None] * b[None, :]))\n"
    g = symdiff.compile(src)
    a, b = np.linspace(-1, 1, 3), np.linspace(0.5, 2, 4)
    value, grads = g(a, b)
    assert "np.zeros" not in g.source and ".reshape((N,))" in g.source
    t = np.tanh(a[:, None] * b[None, :])
    np.testing.assert_allclose(grads["a"], ((1 - t * t) * b[None, :]).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(grads["b"], ((1 - t * t) * a[:, None]).sum(axis=0), rtol=1e-12)


def test_dout_follows_the_inputs_precision():
    g = symdiff.compile("def f(x, w):\n    return np.exp(np.sin(x) * 2.0) + w\n")
    x, w = np.linspace(0, 1, 5), np.ones(5)
    _, grads = g(x, w, dout=np.full(5, 0.5, np.float32))
    assert grads["w"].dtype == grads["x"].dtype == np.float64
    _, grads = g(x.astype(np.float32), w.astype(np.float32), dout=np.full(5, 0.5))
    assert grads["w"].dtype == grads["x"].dtype == np.float32


def test_gradient_terms_summed_with_shared_factors_keep_masks_numbers():
    """Terms that share the upstream gradient are summed with it taken out (adjoint._factored):
    the masks of two maxima must add as numbers (True + True is 2, not True)."""
    src = ("def f(x, c):\n    s = np.maximum(c ** 2, x[0]) * c + np.maximum(c ** 2, x[1]) * c\n"
           "    return (0.5 + s) * c - np.minimum(c, x[2])\n")
    g = symdiff.compile(src)
    x, c = np.array([-0.4, 0.1, 0.9]), 0.6
    value, grads = g(x, c)
    s = 2 * c ** 3  # both maxima take c ** 2
    assert value == pytest.approx((0.5 + s) * c - c, rel=1e-14)
    assert grads["c"] == pytest.approx(0.5 + s + 6 * c ** 3 - 1.0, rel=1e-14)  # 8c^3 - 1/2


def test_a_partial_of_one_keeps_a_masked_upstream_masked():
    """``x + 1.0`` sends its upstream gradient on as it is (``1 * g`` folds to ``g``), except a
    ``where`` that carries a masked sum, which ``adjoint.times`` rebuilds: here the gradient of the
    broadcast ``a`` is zero wherever no row selected it, and stays so (a special case for a
    partial of 1 in the sweep once skipped that)."""
    src = ("def f(x, z):\n    a = np.where(x > 0, x + 1.0, 0.0)\n"
           "    return np.sum(np.where(z > 0, a, 0.0))\n")
    g = symdiff.compile(src, wrt=["x"])
    x, z = np.array([1.0, -1.0, 2.0]), np.array([[1.0, -1.0, 2.0], [-1.0, 1.0, 1.0]])
    _, grads = g(x, z)
    assert grads["x"] == pytest.approx([1.0, 0.0, 2.0])
    assert "dx = np.where(t1, np.where(da > 0.0, da, 0.0), 0.0)" in g.source


def test_a_module_is_itself():
    """``np is np`` holds, as in Python (each read of ``np`` made a new object: False)."""
    g = symdiff.compile("def f(x):\n    if np is np:\n        return x * 2.0\n    return x * 3.0\n")
    assert g(3.0) == (6.0, {"x": 2.0})
