"""The gate API (Circuit / Gate), explain() and latex_gradients(): the lecture's forward/backward
surface, whose numbers must equal the interpreter's and the generated code's."""

import re

import numpy as np
import pytest
import sympy

import symdiff
from symdiff.teach import Circuit, Graph, explain, format_number, latex_gradients
from symdiff.ad.interpret import Interpreter

CIRCUIT = "(x+y)*z"
CIRCUIT_POINT = dict(x=-2.0, y=5.0, z=-4.0)
NEURON = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"
NEURON_POINT = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
NEURON_GRADS = dict(w0=-0.19661193, x0=0.39322387, w1=-0.39322387, x1=-0.58983580, w2=0.19661193)

FANOUT = """def f(x, y):
    a = x * y
    b = max(a, x)
    return b * a + np.where(x > 0, x, y) + x * x
"""

TENSOR = """def loss(W, b, X):
    h = np.maximum(0, X @ W + b)
    return np.sum(h * h)
"""

SCALAR_PROGRAMS = [
    (CIRCUIT, CIRCUIT_POINT),
    (NEURON, NEURON_POINT),
    (FANOUT, dict(x=2.0, y=-1.5)),
    (FANOUT, dict(x=-0.5, y=0.75)),
    ("max(x, y) * tanh(x) - log(1 + exp(y)) / sqrt(x*x + 1)", dict(x=0.3, y=0.3)),
    ("x**3 - 2/x + abs(y) * sigmoid(x - y)", dict(x=1.7, y=-0.4)),
]


# ---------------------------------------------------------------- the lecture's circuit
def test_circuit_nodes_are_inputs_then_gates_in_topological_order():
    c = Circuit(CIRCUIT)
    nodes = c.nodes()
    assert [g.name for g in nodes] == ["x", "y", "z", "q", "f"]
    assert [g.op for g in nodes] == ["x", "y", "z", "+", "*"]
    assert [g.kind for g in nodes] == ["input"] * 3 + ["gate"] * 2
    q, f = nodes[3], nodes[4]
    assert [i.name for i in q.inputs] == ["x", "y"]
    assert [i.name for i in f.inputs] == ["q", "z"]
    assert q.statement == "x + y" and f.statement == "q * z"
    assert q.value is None and q.grad is None          # nothing computed yet


def test_forward_backward_give_every_value_and_gradient():
    c = Circuit(CIRCUIT)
    assert c.forward(**CIRCUIT_POINT) == -12.0
    assert c.forward(-2.0, 5.0, -4.0) == -12.0           # positional, in order of appearance
    grads = c.backward()
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    q, f = c["q"], c["f"]
    assert (q.value, f.value) == (3.0, -12.0)
    assert (q.grad, f.grad) == (-4.0, 1.0)
    assert [(g.name, v) for g, v in f.sent] == [("q", -4.0), ("z", 3.0)]
    assert [(g.name, v) for g, v in q.sent] == [("x", -4.0), ("y", -4.0)]


def test_local_gradients_are_sympy_in_the_inputs_names_with_numbers():
    c = Circuit(CIRCUIT)
    c.forward(**CIRCUIT_POINT)
    f = c["f"]
    q_sym, z_sym = sympy.Symbol("q", real=True), sympy.Symbol("z", real=True)
    dq, dz = f.local
    assert (dq.input.name, dq.expr, dq.value) == ("q", z_sym, -4.0)   # values right after forward
    assert (dz.input.name, dz.expr, dz.value) == ("z", q_sym, 3.0)
    x, y = sympy.symbols("x y", real=True)
    assert dz.full == x + y                           # q written out in the program's inputs
    assert [loc.expr for loc in c["q"].local] == [1, 1]
    c.backward()
    assert [loc.value for loc in f.local] == [-4.0, 3.0]


def test_upstream_dout_scales_every_gradient():
    c = Circuit(CIRCUIT)
    c.forward(**CIRCUIT_POINT)
    grads = c.backward(dout=2.0)
    assert grads == {"x": -8.0, "y": -8.0, "z": 6.0, "q": -8.0, "f": 2.0}


def test_backward_before_forward_is_an_error():
    with pytest.raises(symdiff.SymdiffError, match="forward"):
        Circuit(CIRCUIT).backward()


def test_graph_is_the_public_alias():
    assert Graph is Circuit


def test_sigmoid_neuron_gates_and_lecture_numbers():
    c = Circuit(NEURON)
    value = c.forward(**NEURON_POINT)
    grads = c.backward()
    assert value == pytest.approx(0.7310585786)
    for name, expected in NEURON_GRADS.items():
        assert grads[name] == pytest.approx(expected, abs=1e-8)
    # symdiff's graph holds 1/(1+exp(-t)) as one sigmoid gate, whose local gradient is f*(1 - f).
    out = c.output
    assert out.op == "sigmoid"
    f = sympy.Symbol("f", real=True)
    assert sympy.simplify(out.local[0].expr - f * (1 - f)) == 0
    assert out.local[0].value == pytest.approx(0.19661193, abs=1e-8)


def test_elementary_neuron_is_the_lecture_slide():
    c = Circuit(NEURON, elementary=True)
    value = c.forward(**NEURON_POINT)
    grads = c.backward()
    assert [g.op for g in c.nodes() if g.kind == "gate"] == \
        ["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"]
    values = [round(g.value, 2) for g in c.nodes() if g.kind == "gate"]
    assert values == [-2.0, 6.0, 4.0, 1.0, -1.0, 0.37, 1.37, 0.73]
    gate_grads = [round(g.grad, 2) for g in c.nodes() if g.kind == "gate"]
    assert gate_grads == [0.2, 0.2, 0.2, 0.2, -0.2, -0.53, -0.53, 1.0]
    assert value == pytest.approx(0.7310585786)
    for name, expected in NEURON_GRADS.items():
        assert grads[name] == pytest.approx(expected, abs=1e-8)
    w = sympy.Symbol(c.output.inputs[0].name, real=True)
    assert c.output.local[0].expr == -1 / w ** 2        # d(1/w)/dw, as on the slide


# ---------------------------------------------------------------- numbers agree three ways
@pytest.mark.parametrize("source,point", SCALAR_PROGRAMS)
def test_gate_numbers_equal_interpreter_and_generated_code(source, point):
    c = Circuit(source)
    value = c.forward(**point)
    grads = c.backward()
    compiled = symdiff.compile(source)
    code_value, code_grads = compiled(**point)
    assert value == pytest.approx(code_value, rel=1e-12, abs=1e-12)
    for name in compiled.params:
        assert grads[name] == pytest.approx(code_grads[name], rel=1e-9, abs=1e-12)
    interp = Interpreter(c.graph)
    assert interp.forward(**point) == pytest.approx(value)
    interp_grads = interp.backward()
    for gate in c.nodes():
        assert gate.value == pytest.approx(float(interp.values[gate.id]))
        if gate.kind == "input":
            assert gate.grad == pytest.approx(float(interp_grads[gate.name]))
        else:
            assert gate.grad == pytest.approx(float(interp.grads.get(gate.id, 0.0)))
    # what each gate sent adds up to what each node received (outputs get the seed, 1)
    received = {g.id: 0.0 for g in c.nodes()}
    for gate in c.nodes():
        for target, amount in gate.sent:
            received[target.id] += amount
    for out in c.outputs:
        received[out.id] += 1.0
    for gate in c.nodes():
        assert received[gate.id] == pytest.approx(gate.grad, abs=1e-12)


def test_every_gate_sends_upstream_times_local():
    c = Circuit(FANOUT)
    c.forward(x=2.0, y=-1.5)
    c.backward()
    for gate in c.nodes():
        if gate.kind != "gate" or gate.op_name == "where":
            continue
        for loc in gate.local:
            assert gate.sent_to(loc.position) == pytest.approx(gate.grad * loc.value)


def test_fan_out_gradients_add_and_repeated_arguments_send_twice():
    c = Circuit("x*x + x")
    c.forward(x=3.0)
    grads = c.backward()
    assert grads["x"] == 7.0
    square = c.nodes()[1]
    assert [(g.name, v) for g, v in square.sent] == [("x", 3.0), ("x", 3.0)]


def test_circuit_from_compiled_and_function_use_only_the_forward_circuit():
    compiled = symdiff.compile(NEURON)
    c = Circuit(compiled)
    assert len(compiled.graph.nodes) > len(c.nodes(constants=True))   # gradient nodes left out
    assert [g.op for g in c.nodes()] == [g.op for g in Circuit(NEURON).nodes()]
    assert c.forward(**NEURON_POINT) == pytest.approx(compiled(**NEURON_POINT)[0])

    def f(x, y):
        q = x + y
        return q * q

    c = Circuit(f)
    assert [g.name for g in c.nodes()] == ["x", "y", "q", "f"]
    c.forward(x=1.0, y=2.0)
    assert c.backward() == {"x": 6.0, "y": 6.0, "q": 6.0, "f": 1.0}


def test_tensor_program_builds_its_graph_on_the_first_forward():
    rng = np.random.default_rng(0)
    point = dict(W=rng.standard_normal((3, 4)), b=rng.standard_normal(4),
                 X=rng.standard_normal((5, 3)))
    c = Circuit(TENSOR)
    with pytest.raises(symdiff.SymdiffError, match="shapes"):
        c.nodes()
    value = c.forward(**point)
    grads = c.backward()
    code_value, code_grads = symdiff.compile(TENSOR)(**point)
    assert value == pytest.approx(code_value)
    for name in ("W", "b", "X"):
        np.testing.assert_allclose(grads[name], code_grads[name], rtol=1e-10, atol=1e-12)
        assert grads[name].shape == point[name].shape
    matmul = next(g for g in c.nodes() if g.op == "@")
    assert matmul.local[0].expr is None                       # a VJP, not a local gradient
    assert {g.name for g, _ in matmul.sent} == {"X", "W"}
    shaped = Circuit(TENSOR, shapes=dict(W=(3, 4), b=(4,), X=(5, 3)))
    assert [g.shape for g in shaped.nodes()][:3] == [(3, 4), (4,), (5, 3)]


def test_array_inputs_to_an_elementwise_circuit():
    c = Circuit("x*y + z")
    x = np.arange(6.0).reshape(2, 3)
    y = np.array([1.0, 2.0, 3.0])
    value = c.forward(x=x, y=y, z=2.0)
    grads = c.backward()
    np.testing.assert_allclose(value, x * y + 2.0)
    assert grads["y"].shape == (3,) and grads["z"] == 6.0
    np.testing.assert_allclose(grads["y"], x.sum(axis=0))


# ---------------------------------------------------------------- explain
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def test_explain_reads_like_the_lecture():
    text = explain(CIRCUIT, at=CIRCUIT_POINT)
    lines = text.splitlines()
    steps = [line.strip() for line in lines if line.strip().startswith("node `")]
    assert steps == [
        "node `*` (f = q * z): upstream dL/df = 1; local d(q * z)/dq = z = -4; sends -4 to q",
        "node `*` (f = q * z): upstream dL/df = 1; local d(q * z)/dz = q = 3; sends 3 to z",
        "node `+` (q = x + y): upstream dL/dq = -4; local d(x + y)/dx = 1; sends -4 to x",
        "node `+` (q = x + y): upstream dL/dq = -4; local d(x + y)/dy = 1; sends -4 to y",
    ]
    assert "  q = x + y = 3" in lines and "  f = q * z = -12" in lines
    assert lines[-3:] == ["  df/dx = -4", "  df/dy = -4", "  df/dz = 3"]


@pytest.mark.parametrize("source,point", SCALAR_PROGRAMS)
def test_explain_numbers_match_generated_code(source, point):
    text = explain(source, at=point)
    compiled = symdiff.compile(source)
    _, code_grads = compiled(**point)
    final = dict(re.findall(rf"^  d\w+/d(\w+) = ({NUMBER})", text, re.M))
    assert set(final) == set(compiled.params)
    for name, number in final.items():
        assert float(number) == pytest.approx(code_grads[name], rel=1e-5, abs=1e-6)
    # each step's numbers are the gate API's: upstream * local = sent
    c = Circuit(source)
    c.forward(**point)
    c.backward()
    step = re.compile(rf"node `[^`]+` \((\w+) = .*?\): upstream dL/d(\w+) = ({NUMBER}); "
                      rf"local .*? = ({NUMBER}); sends ({NUMBER}) to (\w+)$")
    checked = 0
    for line in text.splitlines():
        match = step.search(line)
        if match is None:
            continue
        name, same, upstream, local, sent, _ = match.groups()
        assert name == same
        assert float(upstream) == pytest.approx(c[name].grad, rel=1e-5, abs=1e-6)
        assert float(sent) == pytest.approx(float(upstream) * float(local), rel=1e-4, abs=1e-5)
        checked += 1
    assert checked >= 2


def test_explain_steps_go_in_reverse_topological_order():
    text = explain(NEURON, at=NEURON_POINT)
    c = Circuit(NEURON)
    order = [g.name for g in c.nodes()]
    names = re.findall(r"node `[^`]+` \((\w+) =", text)
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions, reverse=True)
    assert "local d(sigmoid(t))/dt = σ(1−σ) = 0.196612 (σ = f); sends 0.196612 to t" in text


def test_explain_notes_fan_out_and_zero_local_gradients():
    text = explain(FANOUT, at=dict(x=2.0, y=-1.5))
    assert "gradients add where a value fans out" in text
    assert "sends nothing" in text                 # max routes to the winner; where's condition


def test_explain_wrt_limits_the_steps():
    text = explain(NEURON, at=NEURON_POINT, wrt=["w2"])
    assert "df/dw2 = 0.196612" in text and "df/dw0" not in text
    assert "to w0" not in text and "sends 0.196612 to w2" in text
    with pytest.raises(symdiff.InputError):
        explain(NEURON, at=NEURON_POINT, wrt=["nope"])


# ---------------------------------------------------------------- LaTeX
def test_latex_gradients_of_the_circuit():
    assert latex_gradients(CIRCUIT) == [
        r"\frac{\partial f}{\partial x} = z",
        r"\frac{\partial f}{\partial y} = z",
        r"\frac{\partial f}{\partial z} = x + y",
    ]
    lines = latex_gradients(NEURON, wrt="w2", value=True)
    assert lines[0].startswith("f = ") and len(lines) == 2
    assert lines[1].startswith(r"\frac{\partial f}{\partial w_{2}} = ")
    assert latex_gradients(Circuit(CIRCUIT)) == latex_gradients(CIRCUIT)


def test_latex_matches_sympy_of_gradients():
    forms = symdiff.gradients("x*sin(y)")
    lines = latex_gradients("x*sin(y)")
    assert lines == [rf"\frac{{\partial f}}{{\partial {k}}} = {sympy.latex(v)}"
                     for k, v in forms.items()]


# ---------------------------------------------------------------- formatting
@pytest.mark.parametrize("value,text", [
    (-12.0, "-12"), (3.0, "3"), (0.7310585, "0.73"), (-0.19661193, "-0.20"),
    (0.39322387, "0.39"), (1.3678794, "1.37"), (0.00123, "0.00123"), (0.0, "0"),
    (-0.0, "0"), (1.5e6, "1.5e+06"), (float("nan"), "nan"), (float("-inf"), "-inf"),
])
def test_format_number(value, text):
    assert format_number(value) == text
