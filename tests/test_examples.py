"""The runnable scripts in examples/ run, print what they claim, and reach their numbers."""

import subprocess
import sys

import numpy as np
import pytest

from examples_support import EXAMPLES, load  # noqa: E402


def test_circuit(capsys):
    value, grads = load("circuit").main()
    out = capsys.readouterr().out
    assert value == -12.0
    assert (grads["x"], grads["y"], grads["z"]) == (-4.0, -4.0, 3.0)
    assert "f(x=-2, y=5, z=-4) = -12" in out
    assert "df/dx = -4" in out and "df/dy = -4" in out and "df/dz = 3" in out
    assert "def f(x, y, z):" in out and "# backward" in out     # the generated code is printed


def test_neuron(capsys):
    value, grads = load("neuron").main()
    out = capsys.readouterr().out
    assert value == pytest.approx(0.7310585786, abs=1e-9)
    expected = {"w0": -0.19661193, "x0": 0.39322387, "w1": -0.39322387, "x1": -0.58983580,
                "w2": 0.19661193}
    for name, number in expected.items():
        assert grads[name] == pytest.approx(number, abs=1e-8)
    assert "f = 0.73" in out
    for line in ("dw0        -0.20", "dx0         0.39", "dw1        -0.39", "dx1        -0.59",
                 "dw2         0.20"):
        assert line in out


def test_gate_patterns(capsys):
    results = load("gate_patterns").main()
    out = capsys.readouterr().out
    upstream = 2.0
    assert results["add"] == (upstream, upstream)                 # distributes
    assert results["max"] == (upstream, 0.0)                      # routes to the winner
    assert results["max_tie"] == (upstream, 0.0)                  # tie: the first argument
    assert results["mul"] == (upstream * -4.0, upstream * 3.0)    # switches (x=3, y=-4)
    assert results["branches"] == (upstream * (-4.0 + 1.0), upstream * 3.0)   # x*y + x
    dx, dy = results["maximum"]
    assert np.array_equal(dx, [0.0, 2.0, 2.0]) and np.array_equal(dy, [2.0, 0.0, 0.0])
    assert "all gate patterns hold" in out


def test_three_layer_sigmoid(capsys):
    worst = load("three_layer_sigmoid").main()
    out = capsys.readouterr().out
    assert worst < 1e-5
    for name in ("W1", "b1", "W2", "b2", "W3"):
        assert f"d out / d {name}" in out
    assert "all gradients match central differences" in out


def test_svm_loss(capsys):
    loss, error = load("svm_loss").main()
    out = capsys.readouterr().out
    assert np.isfinite(loss) and error < 1e-10
    assert "gradient matches the hand-written backward pass" in out


def test_svm_loss_gradient_with_ties_and_other_seeds():
    svm = load("svm_loss")
    import symdiff

    g = symdiff.compile(svm.svm_loss, wrt=["W"])
    for seed in range(3):
        rng = np.random.default_rng(seed)
        W, X = rng.standard_normal((5, 4)), rng.standard_normal((7, 5))
        y = rng.integers(0, 4, size=7)
        loss, grads = g(W, X, y)
        ref_loss, ref_dW = svm.svm_loss_naive_backward(W, X, y)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grads["W"], ref_dW, rtol=1e-10, atol=1e-12)


def test_two_layer_net_loss_gradient_matches_finite_differences():
    pytest.importorskip("sklearn")
    net = load("two_layer_net")
    import symdiff

    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((6, 5)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((5, 3)), "b2": rng.standard_normal(3)}
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, size=8)
    value, grads = symdiff.compile(net.loss, wrt=list(params))(**params, X=X, y=y)
    assert value == pytest.approx(net.loss(**params, X=X, y=y), rel=1e-12)
    eps = 1e-6
    for name, array in params.items():
        numeric = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            plus, minus = array.copy(), array.copy()
            plus[i] += eps
            minus[i] -= eps
            numeric[i] = (net.loss(**{**params, name: plus}, X=X, y=y) -
                          net.loss(**{**params, name: minus}, X=X, y=y)) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-7, err_msg=name)


def test_two_layer_net_quick_in_process(capsys):
    pytest.importorskip("sklearn")
    result = load("two_layer_net").main(["--quick"])
    out = capsys.readouterr().out
    assert result["test_accuracy"] >= 0.95
    assert "test acc" in out and "final test accuracy" in out
    losses = [loss for _, loss, _, _ in result["history"]]
    assert losses[-1] < losses[0]                                   # training lowers the loss


def test_two_layer_net_script_reaches_95_percent():
    pytest.importorskip("sklearn")
    run = subprocess.run([sys.executable, str(EXAMPLES / "two_layer_net.py"), "--quick"],
                         capture_output=True, text=True, timeout=120, check=True)
    final = [line for line in run.stdout.splitlines() if line.startswith("final test accuracy")]
    assert final, run.stdout
    accuracy = float(final[-1].split(":")[1].split()[0])
    assert accuracy >= 0.95, run.stdout
