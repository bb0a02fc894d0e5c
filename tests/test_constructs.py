"""Programs as people write them: branches, helpers, loops, containers, in-place updates.

Every program runs three ways: with NumPy (the value), through symdiff (value and gradients), and
through the oracles of :mod:`oracle` (central differences, the interpreter, JAX where it takes the
form). Programs that branch on values are called at points on both sides of each condition.
"""

import numpy as np
import pytest

import symdiff
from oracle import check_program

rng = np.random.default_rng(7)


def normal(*shape):
    return rng.standard_normal(shape)


def program(*lines: str, params: str = "a") -> str:
    return f"def f({params}):\n" + "".join(f"    {line}\n" for line in lines)


BRANCHES = {
    "if_else": program("if a > 0:", "    a = a * 3.0", "else:", "    a = a * 2.0", "return a"),
    "nested_if": program("if a > 0:", "    if a < 10:", "        a = a * a", "else:",
                         "    a = 3.0 * a", "return a"),
    "elif": program("if a > 1:", "    a = a * 3.0", "elif 0 > a:", "    a = a * 2.0", "else:",
                    "    a = 1.0 * a", "return a"),
    "one_armed": program("b = a", "if a > 0.5:", "    b = a * a", "return b + a"),
    "assigned_in_one_arm": program("if a > 0:", "    c = a * a", "else:", "    c = -a",
                                   "    d = 2.0", "return c"),
    "early_return": program("if a > 0:", "    return a * a", "return -a"),
    "returns_in_both": program("if a > 0:", "    return np.sin(a)", "else:",
                               "    return np.cos(a)"),
    "if_expression": program("return a * a if a > 0.2 else -a"),
    "and_or": program("if a > 0 and a < 1:", "    a = a * 5.0", "elif a < -1 or a > 2:",
                      "    a = a / 2.0", "return a"),
    "chained_compare": program("if -1 < a < 1:", "    a = a * a * a", "return a"),
    "not": program("if not a > 0:", "    a = -a", "return np.exp(a)"),
    "nan_safe": program("return np.sqrt(a) if a > 0 else a * 0.5"),
    "log_branch": program("if a > 0:", "    y = np.log(a)", "else:", "    y = a", "return y"),
    "static_condition": program("n = 3", "if n > 2:", "    a = a * 2.0", "return a"),
    "multiarg_if": program("if a * a / 3.0 > 0:", "    b = 3.0", "else:", "    b = 4.0",
                           "a = a * b", "if a < b - a * b:", "    a = a * a",
                           "elif a > b + 3.0 * a:", "    if a / 2.0 < 0:", "        a = a / b",
                           "    else:", "        a = a * b", "else:", "    a = -a", "return a"),
}


@pytest.mark.parametrize("point", [-1.7, -0.3, 0.4, 1.6, 3.2])
@pytest.mark.parametrize("name", sorted(BRANCHES))
def test_branches_on_values(name, point):
    check_program(BRANCHES[name], {"a": point})


def test_branch_on_arrays_selects_elementwise():
    source = program("if x > 0:", "    y = x * x", "else:", "    y = -x", "return y", params="x")
    g = symdiff.compile(source)
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    value, grads = g(x)
    np.testing.assert_allclose(value, np.where(x > 0, x * x, -x))
    np.testing.assert_allclose(grads["x"], np.where(x > 0, 2 * x, -1.0))


def test_branch_not_taken_gives_an_exact_zero_even_where_it_is_nan():
    g = symdiff.compile(program("if x > 0:", "    y = np.sqrt(x)", "else:", "    y = 2.0 * x",
                                "return y", params="x"))
    value, grads = g(np.array([-4.0, 0.0, 4.0]))
    np.testing.assert_array_equal(grads["x"], [2.0, 2.0, 0.25])
    assert np.all(np.isfinite(value))


def test_branches_of_different_shapes_are_an_error():
    source = program("if x[0] > 0:", "    y = x", "else:", "    y = np.sum(x)", "return y",
                     params="x")
    with pytest.raises(symdiff.SymdiffError, match="different shapes"):
        symdiff.compile(source)(np.ones(3))


def test_a_loop_count_that_depends_on_values():
    # A while loop on values stays a loop that counts its steps (frontend/rolled.py) ...
    g = symdiff.compile(program("while np.abs(a) > 0.1:", "    a = a * 0.5", "return a"))
    assert g(3.0) == (3.0 * 0.5 ** 5, {"a": 0.5 ** 5})  # 3 -> 1.5 -> ... -> 0.09375
    # ... where its steps are alike; else it is an error, as is a break under a value condition.
    with pytest.raises(symdiff.SymdiffError, match="while loop whose condition depends"):
        symdiff.compile(program("hs = []", "while np.abs(a) > 0.1:", "    a = a * 0.5",
                                "    hs.append(a)", "return a"))(3.0)
    with pytest.raises(symdiff.SymdiffError, match="break"):
        symdiff.compile(program("for i in range(3):", "    if a > 0:", "        break",
                                "    a = a * 2.0", "return a"))(1.0)


HELPERS = {
    "call": ("def mul(a, b):\n    return a * b\n\n"
             "def add(a, b):\n    return a + b\n\n"
             "def f(a, b, c):\n    return add(mul(a, b), c)\n"),
    "keywords_defaults": ("def scale(x, factor=2.0, *, shift=0.5):\n    return x * factor + shift\n\n"
                          "def f(a, b, c):\n    return scale(a) + scale(b, shift=c) + scale(c, factor=b)\n"),
    "several_returns": ("def split(x):\n    return x * x, x + 1.0\n\n"
                        "def f(a, b, c):\n    p, q = split(a)\n    return p * b + q * c\n"),
    "nested_def": ("def f(a, b, c):\n    def _fn(x, n):\n        return x * n\n"
                   "    for i in range(3):\n        a = _fn(a, b)\n    return a + c\n"),
    "closure": ("def f(a, b, c):\n    k = c * 2.0\n    def g(x):\n        return x * k\n"
                "    return g(a) + g(b)\n"),
    "lambda": ("sig = lambda x: 1.0 / (1.0 + np.exp(-x))\n\n"
               "def f(a, b, c):\n    g = sig\n    return g(a * b) + (lambda t: t * t)(c)\n"),
    "branch_in_helper": ("def relu(x):\n    if x > 0:\n        return x\n    return 0.0 * x\n\n"
                         "def f(a, b, c):\n    return relu(a) * relu(b) + relu(-c)\n"),
    "private_names": ("def _inner(_x, _y):\n    _t = _x * _y\n    return _t\n\n"
                      "def f(a, b, c):\n    return _inner(a, b) - c\n"),
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helper_functions_are_inlined(name):
    check_program(HELPERS[name], {"a": 0.7, "b": -1.3, "c": 0.4})


def _square(x):
    return x * x


_double = lambda x: 2.0 * x  # noqa: E731 -- a lambda helper, as the lecture writes sigmoid


def _uses_module_helpers(x, y):
    f = _square
    return f(x) + _double(y)


def test_function_objects_bring_their_module_helpers():
    g = symdiff.compile(_uses_module_helpers)
    value, grads = g(3.0, 5.0)
    assert value == 19.0 and grads == {"x": 6.0, "y": 2.0}


def test_recursion_is_a_clear_error():
    source = "def g(x):\n    return g(x) * 2.0\n\ndef f(x):\n    return g(x)\n"
    with pytest.raises(symdiff.SymdiffError, match="recursion"):
        symdiff.compile(source)(1.0)


LOOPS = {
    "static_int_range": ("def f(a, n):\n    for i in range(n):\n        a = a * a\n"
                         "    a = 2.0 * a\n    for i in range(n + 1):\n        a = a * 3.0\n"
                         "    return a\n", {"a": 1.1, "n": 2}, ["a"]),
    "rows": ("def f(X):\n    s = 0.0\n    for row in X:\n        s = s + np.sum(row * row)\n"
             "    return s\n", {"X": normal(3, 2)}, None),
    "enumerate_zip": ("def f(a, b):\n    t = 0.0\n    for i, (u, v) in enumerate(zip(a, b)):\n"
                      "        t = t + i * u * v\n    return t\n", {"a": normal(3), "b": normal(3)},
                      None),
    "list_of_values": ("def f(a, b):\n    t = 1.0\n    for v in [a, b, a * b]:\n"
                       "        t = t * np.tanh(v)\n    return np.sum(t)\n",
                       {"a": normal(2), "b": normal(2)}, None),
    "while_static": ("def f(a):\n    i = 0\n    while i < 3:\n        a = a * 2.0 + np.sin(a)\n"
                     "        i += 1\n    return a\n", {"a": normal(2)}, None),
    "break_continue": ("def f(a):\n    for i in range(10):\n        if i == 1:\n            continue\n"
                       "        if i > 3:\n            break\n        a = a * (i + 1.0)\n"
                       "    return a\n", {"a": normal(2)}, None),
    "comprehension": ("def f(a):\n    parts = [a * i for i in range(1, 4) if i != 2]\n"
                      "    return sum(parts)\n", {"a": normal(3)}, None),
    "append_and_sum": ("def f(x):\n    hs = []\n    h = x\n    for t in range(3):\n"
                       "        h = np.tanh(h * 1.5)\n        hs.append(h)\n    return sum(hs)\n",
                       {"x": normal(3)}, None),
    "tuple_index": ("def f(a, b, c, i):\n    x = a, b, c\n    return x[i]\n",
                    {"a": 0.5, "b": 1.5, "c": 2.5, "i": 1}, ["a", "b", "c"]),
    "unpack_array": ("def f(abc):\n    a, b, c = abc\n    return a * b + c\n", {"abc": normal(3)},
                     None),
    "return_list": ("def f(x):\n    return [x * 2.0, np.sum(x)]\n", {"x": normal(3)}, None),
}


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_loops_and_containers(name):
    source, args, wrt = LOOPS[name]
    if name == "return_list":  # several outputs: the oracle takes one, so check each directly
        value, grads = symdiff.compile(source)(**args)
        np.testing.assert_allclose(value[0], args["x"] * 2.0)
        np.testing.assert_allclose(grads["x"], np.full(3, 3.0))
        return
    check_program(source, args, wrt=wrt)


def test_integer_inputs_that_set_counts_are_traced_per_value():
    g = symdiff.compile(LOOPS["static_int_range"][0])
    assert g(1.1, 2)[0] == pytest.approx(((1.1 ** 4) * 2.0) * 27.0)
    assert g(1.1, 3)[0] == pytest.approx(((1.1 ** 8) * 2.0) * 81.0)
    assert g.wrt == ["a"]
    assert "Specialized to n = 3" in g.source
    with pytest.raises(symdiff.InputError, match="must be an integer"):
        g(1.1, 2.5)


UPDATES = {
    "item": ("def f(x):\n    a = x[0]\n    b = x[1]\n    x[0] = a * b\n    return np.sum(x)\n",
             {"x": normal(3)}),
    "item_from_square": ("def f(x):\n    y = x ** 2.0\n    x[0] = y[1] * y[2]\n"
                         "    return np.sum(x * y)\n", {"x": normal(3)}),
    "loop_fill": ("def f(x):\n    y = x * 0.0\n    for i in range(len(x)):\n"
                  "        y[i] = x[i] * x[i]\n    return np.sum(y)\n", {"x": normal(4)}),
    "column_and_row": ("def f(x, W):\n    h = x @ W\n    h[:, 1] = 0.0\n"
                       "    h[0] += np.tanh(h[1])\n    return h\n",
                       {"x": normal(3, 4), "W": normal(4, 2)}),
    "mask": ("def f(x):\n    d = x * 2.0\n    d[x < 0] = 0.0\n    return d\n", {"x": normal(3, 4)}),
    "row_mask": ("def f(x, c):\n    d = x * 1.0\n    d[c > 0] = -1.0\n    return d * x\n",
                 {"x": normal(3, 2), "c": np.array([1.0, -1.0, 2.0])}),
    "augmented": ("def f(x, y):\n    z = x * 1.0\n    z += y\n    z *= z\n    return z\n",
                  {"x": normal(3), "y": normal(3)}),
    "ellipsis": ("def f(x):\n    return x[..., 1] * x[0, ...]\n", {"x": normal(4, 4)}),
}


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_in_place_updates_are_functional(name):
    source, args = UPDATES[name]
    before = {k: np.copy(v) for k, v in args.items()}
    check_program(source, args, wrt=[k for k in args if k != "c"])
    for k, v in args.items():
        np.testing.assert_array_equal(v, before[k])  # the caller's arrays are never written


def test_svm_idiom_zeroes_the_correct_class():
    source = ("def f(X, y, W):\n    N = X.shape[0]\n    scores = X @ W\n"
              "    correct = scores[np.arange(N), y]\n"
              "    margins = np.maximum(0, scores - correct[:, None] + 1.0)\n"
              "    margins[np.arange(N), y] = 0\n    return np.sum(margins) / N\n")
    X, W = normal(5, 4), normal(4, 3)
    y = np.array([0, 2, 1, 2, 0])
    g = symdiff.compile(source, wrt=["W"])
    value, grads = g(X, y, W)
    scores = X @ W
    margins = np.maximum(0, scores - scores[np.arange(5), y][:, None] + 1.0)
    margins[np.arange(5), y] = 0
    assert value == pytest.approx(np.sum(margins) / 5)
    check_program(source, {"X": X, "y": y, "W": W}, wrt=["W"])


def test_labels_flattened_inside_the_program_index_as_integers():
    source = ("def f(x, y):\n    N, T, V = x.shape\n    x_flat = x.reshape(N * T, V)\n"
              "    y_flat = y.reshape(N * T)\n"
              "    p = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))\n"
              "    p = p / np.sum(p, axis=1, keepdims=True)\n"
              "    return -np.sum(np.log(p[np.arange(N * T), y_flat])) / N\n")
    x, y = normal(2, 3, 4), rng.integers(0, 4, size=(2, 3))
    g = symdiff.compile(source)
    _, grads = g(x, y)
    assert set(grads) == {"x"}  # labels are integers: no gradient
    check_program(source, {"x": x, "y": y}, wrt=["x"])


def test_integer_input_as_a_size_of_a_constructor():
    source = "def f(x, N):\n    h = np.zeros((N, 3))\n    return np.sum((h + x) ** 2)\n"
    g = symdiff.compile(source)
    assert g(np.ones(3), 4)[0] == pytest.approx(12.0)
    assert g(np.ones(3), 2)[0] == pytest.approx(6.0)


def test_constant_integer_arrays_index_and_float_is_a_dtype():
    source = ("def f(x, n):\n    y = x.astype(float)\n    for i in range(int(n)):\n"
              "        y = y * float(2)\n    return np.sum(y[np.array([0, 2, 2])])\n")
    value, grads = symdiff.compile(source)(np.arange(3.0), 2)
    assert value == pytest.approx(4.0 * (0.0 + 2.0 + 2.0))
    np.testing.assert_allclose(grads["x"], [4.0, 0.0, 8.0])


def test_a_long_comprehension_is_refused_before_the_work():
    import time
    start = time.perf_counter()
    with pytest.raises(symdiff.SymdiffError, match="unroll"):
        symdiff.compile("def f(x):\n    return sum([x * i * i + x for i in range(100000)])\n")(1.0)
    assert time.perf_counter() - start < 1.0


def test_a_file_function_brings_the_helpers_it_calls(tmp_path):
    from symdiff.frontend.parse import parse_file_function
    path = tmp_path / "model.py"
    path.write_text("import numpy as np\nreg = 2.0\n\n\ndef _sq(z):\n    return z * z\n\n\n"
                    "act = lambda z: np.tanh(z)\n\n\ndef loss(x):\n    return reg * _sq(act(x))\n\n\n"
                    "def plot(x):\n    with open('f') as h:\n        pass\n")
    g = symdiff.compile(parse_file_function(str(path), "loss"))
    value, grads = g(0.5)
    assert value == pytest.approx(2.0 * np.tanh(0.5) ** 2)
    assert grads["x"] == pytest.approx(4.0 * np.tanh(0.5) * (1.0 - np.tanh(0.5) ** 2))


@pytest.mark.parametrize("source, said", [
    ("def f(x):\n    return np.sum(x + (lambda t: t))\n", "got a lambda"),
    ("def f(x):\n    return np.sum(x + range(3))\n", "np.arange"),
    ("def f(x):\n    return x * True\n", "the truth value True"),
])
def test_messages_name_what_the_user_wrote_not_compiler_classes(source, said):
    with pytest.raises(symdiff.SymdiffError, match=said) as caught:
        symdiff.compile(source)(np.ones(3))
    assert "Function" not in str(caught.value) and "Var" not in str(caught.value)
