"""Generated code: deterministic, readable, standalone, and printed with correct precedence."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symdiff
from symdiff.frontend import rolled
from symdiff.compiler import compile_graph
from symdiff.ir.graph import Graph
from symdiff.ops import OPS

LOW_PRECEDENCE = ["add", "sub", "neg", "mul", "div", "pow"]


@pytest.mark.parametrize("op", sorted(n for n, o in OPS.items() if o.kind == "elementwise"))
@pytest.mark.parametrize("wrapper", LOW_PRECEDENCE)
def test_every_op_parenthesizes_compound_arguments(op, wrapper):
    """op(u ∘ v, ...) must print as op((u ∘ v), ...): compare the code with the interpreter."""
    from symdiff.ad.interpret import Interpreter
    g = Graph()
    u, v = g.input("u", None), g.input("v", None)
    inner = g.apply(wrapper, u, v) if OPS[wrapper].arity == 2 else g.apply(wrapper, u)
    args = [inner, g.apply("sub", v, u)][:OPS[op].arity]
    out = g.apply(op, *args)
    g.outputs.append(out)
    g.output_names.append(None)
    function, source = compile_graph(g, ["u", "v"])
    point = dict(u=np.array([0.7, 1.3]), v=np.array([1.9, 0.4]))
    with np.errstate(all="ignore"):
        value, _ = function(**point)
        expected = Interpreter(g).forward(**point)
    np.testing.assert_allclose(value, expected, rtol=1e-13, err_msg=source)


def test_same_input_gives_byte_identical_source():
    src = "def f(x, y):\n    q = x * y\n    return np.sin(q) + q * x\n"
    assert symdiff.compile(src).source == symdiff.compile(src).source


def test_generated_code_uses_the_users_names():
    src = "def f(x, y, z):\n    q = x + y\n    f = q * z\n    return f\n"
    code = symdiff.compile(src).source
    assert "q = x + y" in code
    assert "f = q * z" in code
    assert "# backprop f = q * z" in code
    for name in ("dx", "dy", "dz"):
        assert f"{name} = " in code


def test_gradient_names_never_collide_with_user_names():
    src = "def f(x, dx):\n    return x * dx\n"
    value, grads = symdiff.compile(src)(3.0, 4.0)
    assert grads == {"x": 4.0, "dx": 3.0}


def test_header_records_source_version_and_conventions():
    code = symdiff.compile("max(0, x) * y").source
    assert "max(0, x) * y" in code
    assert f"symdiff {symdiff.__version__}" in code
    assert "first one on a tie" in code


def test_module_runs_in_a_fresh_process_with_only_numpy(tmp_path):
    g = symdiff.compile("1/(1+exp(-(w0*x0 + w1*x1 + w2)))")
    (tmp_path / "neuron_grad.py").write_text(g.source)
    script = textwrap.dedent("""
        import sys
        import neuron_grad
        value, grads = neuron_grad.f(2.0, -1.0, -3.0, -2.0, -3.0)
        assert "symdiff" not in sys.modules and "sympy" not in sys.modules
        print(repr(float(value)), repr(float(grads["w0"])))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    value, dw0 = map(float, out.stdout.split())
    expected_value, expected = g(2.0, -1.0, -3.0, -2.0, -3.0)
    assert value == expected_value and dw0 == expected["w0"]


def test_where_branch_not_taken_gets_exact_zero_without_warnings():
    import warnings
    g = symdiff.compile("np.where(x > 0, np.sqrt(x), 0.0)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (0.0, -1.0, np.array([0.0, -1.0, 4.0])):
            value, grads = g(x)
            assert np.all(np.isfinite(grads["x"]))
        np.testing.assert_array_equal(grads["x"], [0.0, 0.0, 0.25])


def test_deep_chain_compiles_without_swell(monkeypatch):
    """x_{k+1} = sin(x_k)*y + cos(x_k*y): unrolled, the code grows linearly with the depth;
    rolled (the default), it does not grow at all."""
    def chain(k):
        return (f"def f(x, y):\n    for k in range({k}):\n"
                "        x = sin(x)*y + cos(x*y)\n    return x\n")
    rolled_small, rolled_large = symdiff.compile(chain(200)), symdiff.compile(chain(2000))
    assert abs(len(rolled_large.source) - len(rolled_small.source)) < 50  # range(200) -> 2000
    monkeypatch.setattr(rolled, "ENABLED", False)
    monkeypatch.setattr(symdiff.compiler, "_COMPILED", {})  # compile again, unrolled
    small = symdiff.compile(chain(200))
    large = symdiff.compile(chain(2000))
    ratio = len(large.source) / len(small.source)
    assert 8 < ratio < 12
    x, y = 0.3, 0.7
    for _ in range(2000):
        x = np.sin(x) * y + np.cos(x * y)
    assert large(0.3, 0.7)[0] == pytest.approx(x, rel=1e-12)


def test_layer_api_matches_vjp_by_finite_differences():
    def layer(x, w, b):
        return np.tanh(x @ w + b)

    g = symdiff.compile(layer)
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    out, cache = g.forward(x, w, b)
    dout = rng.normal(size=out.shape)
    grads = g.backward(dout, cache)
    from symdiff.check import numeric_gradient
    for name, value in dict(x=x, w=w, b=b).items():
        numeric = numeric_gradient(lambda **kw: np.tanh(kw["x"] @ kw["w"] + kw["b"]),
                                   dict(x=x, w=w, b=b), name, dout)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9)


def test_layer_cache_holds_only_what_backward_reads():
    def layer(x, w):
        h = x @ w
        return np.maximum(0, h)

    g = symdiff.compile(layer)
    out, cache = g.forward(np.ones((2, 3)), np.ones((3, 4)))
    code = g.source.split("def layer_backward")[1]
    for name in cache:
        assert f'{name} = cache["{name}"]' in code
        body = code.split(f'{name} = cache["{name}"]')[1]
        assert name in body  # every cached value is read after it is unpacked


def test_tuple_output_backward_takes_one_gradient_per_output():
    src = "def f(x, y):\n    return x * y, np.sin(x)\n"
    g = symdiff.compile(src)
    x, y = np.array([0.5, 1.0]), np.array([2.0, -1.0])
    (a, b), cache = g.forward(x, y)
    da, db = np.array([1.0, 2.0]), np.array([-1.0, 0.5])
    grads = g.backward((da, db), cache)
    np.testing.assert_allclose(grads["x"], da * y + db * np.cos(x))
    np.testing.assert_allclose(grads["y"], da * x)


def test_compile_check_and_tests_flags(tmp_path):
    out = tmp_path / "layer.py"
    subprocess.run([sys.executable, "-m", "symdiff", "compile", "x*sin(y) + exp(x*y)",
                    "-o", str(out), "--tests"], check=True, capture_output=True)
    assert (tmp_path / "test_layer.py").exists()
    run = subprocess.run([sys.executable, "-c", "import layer; print(layer.check_gradients())"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    corrupted = out.read_text().replace("def f_backward(dout, cache):",
                                        "def f_backward(dout, cache):\n    dout = 1.01 * dout")
    (tmp_path / "broken.py").write_text(corrupted)
    run = subprocess.run([sys.executable, "-c", "import broken; broken.check_gradients()"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0 and "AssertionError" in run.stderr


def test_the_written_self_check_has_no_dead_branch_and_returns_the_measured_error(tmp_path, capsys):
    import importlib.util
    for stem, src in (("one", "def f(x, y):\n    return x * np.sin(y)\n"),
                      ("two", "def f(x, y):\n    return x * y, np.sin(x)\n")):
        path = symdiff.compile(src).write(str(tmp_path / f"{stem}.py"), check=True)
        text = open(path).read()
        check = text[text.index("def check_gradients("):]
        assert "if False" not in check and "if True" not in check
        spec = importlib.util.spec_from_file_location(f"self_check_{stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        error = module.check_gradients(verbose=True)
        assert 0.0 < error < 1e-8  # the agreement measured, not an error clipped at zero
        out = capsys.readouterr().out
        assert f"relative error {error:.2g}, allowed 1e-05" in out


def test_the_gradient_of_an_unnamed_value_is_numbered_like_the_temporaries():
    import re
    src = ("def loss(W, X, y):\n    s = X @ W\n    z = s - np.max(s, axis=1, keepdims=True)\n"
           "    p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))\n"
           "    return -np.sum(p[np.arange(4), y]) / 4\n")
    g = symdiff.compile(src, shapes={"W": (3, 5), "X": (4, 3), "y": (4,)})
    text = g.source[g.source.index("def loss("):g.source.index("def loss_forward(")]
    assert not re.search(r"\bdt(_\d+)?\b", text)  # not dt, dt_1 beside t1, t2
    assigned = re.findall(r"^\s*(\w+) = ", text, re.M)
    unnamed = [n for n in assigned if re.fullmatch(r"dt\d+", n) and n[1:] not in assigned]
    assert unnamed  # the gradient of np.log(t...), a value printed inline
    for name in unnamed:  # its number is no temporary's
        assert not re.search(rf"\b{name[1:]}\b", text)


def test_a_gradient_sum_reads_its_matmul_term_inline_unless_it_adds_in_place():
    src = "def loss(W1, X):\n    h = np.tanh(X @ W1)\n    return np.sum(h * h) + 0.0005 * np.sum(W1 * W1)\n"
    small = symdiff.compile(src, shapes={"W1": (60, 50), "X": (64, 60)}).source
    assert "dW1 = 0.001 * W1 + X.T @ dt1\n" in small  # not t4 = X.T @ dt1; dW1 = 0.001 * W1 + t4
    big = symdiff.compile(src, shapes={"W1": (600, 100), "X": (64, 600)}).source
    assert "dW1 += 0.001 * W1" in big  # 60,000 elements: the sum adds into the product's buffer
    for shape in ((60, 50), (600, 100)):
        g = symdiff.compile(src, shapes={"W1": shape, "X": (64, shape[0])})
        rng = np.random.default_rng(0)
        W1, X = rng.standard_normal(shape) * 0.1, rng.standard_normal((64, shape[0])) * 0.1
        value, grads = g(W1, X)
        h = np.tanh(X @ W1)
        np.testing.assert_allclose(grads["W1"], X.T @ (2 * h * (1 - h * h)) + 0.001 * W1)


@pytest.mark.parametrize("src, shapes", [
    ("def f(x, W):\n    return x @ W\n", {"x": (1, 3), "W": (3, 1)}),
    ("def f(x, W):\n    return x @ W\n", {"x": (4, 3), "W": (3, 2)}),
    ("def f(x, W):\n    return np.sum(x @ W)\n", {"x": (1, 3), "W": (3, 2)}),
    ("def f(x, W):\n    return x @ W\n", {"x": (4, 3), "W": (3, 1)}),
    ("def f(x, W):\n    return x @ W\n", {"x": (3,), "W": (3, 2)}),
    ("def f(x, W):\n    return x @ W\n", {"x": (4, 3), "W": (3,)}),
])
def test_a_matmul_seeded_with_a_number_backpropagates_without_a_matmul(src, shapes):
    g = symdiff.compile(src, shapes=shapes)
    text = g.source[g.source.index("def f("):g.source.index("def f_forward(")]
    backward = "\n".join(line for line in text[text.index("# backward"):].split("\n")
                         if not line.strip().startswith("#"))
    assert "@" not in backward and "np.full((1, 1)" not in backward
    rng = np.random.default_rng(1)
    x, W = rng.standard_normal(shapes["x"]), rng.standard_normal(shapes["W"])
    _, grads = g(x, W)
    ones = np.ones(np.shape(x @ W))
    if x.ndim == 1:
        np.testing.assert_allclose(grads["x"], W @ ones)
        np.testing.assert_allclose(grads["W"], np.outer(x, ones))
    elif W.ndim == 1:
        np.testing.assert_allclose(grads["x"], np.outer(ones, W))
        np.testing.assert_allclose(grads["W"], x.T @ ones)
    else:
        np.testing.assert_allclose(grads["x"], ones @ W.T)
        np.testing.assert_allclose(grads["W"], x.T @ ones)
    if shapes == {"x": (1, 3), "W": (3, 1)}:
        assert "dx = np.copy(W.T)" in backward  # the plain product 1.0 * W.T
