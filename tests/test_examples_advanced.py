"""The second-order, Dask and layered examples run on small sizes and reach their numbers."""

import itertools

import numpy as np
import pytest

from examples_support import load  # noqa: E402


def test_newton_fit_converges_quadratically(capsys):
    result = load("newton_fit").main(["--rows", "500"])
    out = capsys.readouterr().out
    history = result["history"]
    norms = [h["grad_norm"] for h in history]
    assert norms[-1] < 1e-12 and len(history) <= 10
    assert all(b < a for a, b in itertools.pairwise(norms))
    # Quadratic convergence: once close, |g_k| <= C |g_(k-1)|^2 with a modest C; the digits of
    # accuracy roughly double from 1e-3 down to the rounding floor.
    close = [h for h in history[1:] if 1e-11 < h["grad_norm"] < 1e-2]
    assert len(close) >= 2 and all(h["ratio"] < 50 for h in close)
    assert result["hand_grad_norm"] < 1e-12
    assert result["hessian_error"] < 1e-12
    assert result["cg_gap"] < 1e-10 and result["cg_grad_norm"] < 1e-12
    assert "converged" in out and "|g|/|g_prev|^2" in out


def test_newton_fit_hessian_blocks_match_differences_of_the_gradient():
    import symdiff

    newton_fit = load("newton_fit")
    X, y = newton_fit.make_data(200, seed=3)
    w, b = np.array([0.3, -0.2, 0.1]), 0.05
    _, _, H = symdiff.hessian(newton_fit.loss, wrt=["w", "b"])(w, b, X, y)
    grad = symdiff.compile(newton_fit.loss, wrt=["w", "b"])
    h = 1e-6
    for j in range(3):
        step = np.eye(3)[j] * h
        plus, minus = grad(w + step, b, X, y)[1], grad(w - step, b, X, y)[1]
        np.testing.assert_allclose(H["w"]["w"][:, j], (plus["w"] - minus["w"]) / (2 * h),
                                   rtol=1e-6, atol=1e-9)
        assert H["b"]["w"][j] == pytest.approx((plus["b"] - minus["b"]) / (2 * h), rel=1e-6)
    plus, minus = grad(w, b + h, X, y)[1], grad(w, b - h, X, y)[1]
    assert H["b"]["b"] == pytest.approx((plus["b"] - minus["b"]) / (2 * h), rel=1e-6)


def test_dask_logistic_stays_lazy_and_descends(capsys):
    da = pytest.importorskip("dask.array")
    dask_logistic = load("dask_logistic")
    result = dask_logistic.main(["--chunk", "50000", "--steps", "3", "--no-progress"],
                                rows=200_000)
    out = capsys.readouterr().out
    losses = [h["loss"] for h in result["history"]]
    assert len(losses) == 4 and all(b < a for a, b in itertools.pairwise(losses))
    assert losses[0] == pytest.approx(np.log(2), rel=1e-12)   # w = 0, b = 0: p = 1/2 everywhere
    assert result["chunk_gap"] < 1e-12
    assert "4 chunks of 50000 rows" in out and "3 gradient-descent steps" in out

    # The lazy full-batch results equal the NumPy ones on the materialized data.
    grad_fn = result["grad_fn"]
    X, y = result["data"]
    assert X.chunks[0] == (50_000,) * 4
    w, b = result["history"][-1]["w"], result["history"][-1]["b"]
    lazy_value, lazy_grads = grad_fn(w, b, X, y)
    assert isinstance(lazy_value, da.Array) and isinstance(lazy_grads["w"], da.Array)
    Xn, yn = X.compute(), y.compute()
    value, grads = grad_fn(w, b, Xn, yn)
    assert lazy_value.compute() == pytest.approx(value, rel=1e-10)
    assert result["history"][-1]["loss"] == pytest.approx(value, rel=1e-10)
    for k in grads:
        np.testing.assert_allclose(lazy_grads[k].compute(), grads[k], rtol=1e-10, atol=1e-15)


def test_dask_logistic_progress_bar(capsys, monkeypatch):
    """A tqdm bar on a terminal (symdiff.progress); nothing at all into a file or a pipe."""
    pytest.importorskip("dask.array")
    pytest.importorskip("tqdm")
    import io
    import sys

    from symdiff import progress

    load("dask_logistic").main(["--chunk", "20000", "--steps", "0"], rows=40_000)
    captured = capsys.readouterr()
    assert "Completed" not in captured.out and captured.err == ""

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    load("dask_logistic").main(["--chunk", "20000", "--steps", "0"], rows=40_000)
    assert "one pass" in screen.getvalue()


def test_layered_network_trains_and_matches_the_whole_network(tmp_path, capsys):
    pytest.importorskip("sklearn")
    result = load("layered_network").main(["--epochs", "8", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert result["files"] == ["layer1_affine.py", "layer2_affine.py", "relu.py",
                               "softmax_loss.py"]
    assert result["test_accuracy"] >= 0.95
    assert result["gradient_gap"] <= 1e-10
    assert "check_gradients: relative error" in out
    losses = [h[1] for h in result["history"]]
    assert losses[-1] < losses[0]


def test_layered_network_modules_are_plain_numpy(tmp_path):
    layered = load("layered_network")
    layers = layered.build_layers(str(tmp_path), batch=8, D=5, H=4, C=3, log=lambda *a: None)
    for name in ("layer1_affine", "relu", "layer2_affine", "softmax_loss"):
        text = (tmp_path / f"{name}.py").read_text()
        assert "import numpy as np" in text and "symdiff" not in text.split('"""', 2)[2]
        assert "def check_gradients(" in text
    # The layered gradients agree with the whole network compiled at once, at random points.
    import symdiff

    rng = np.random.default_rng(1)
    whole = symdiff.compile(layered.network, wrt=list(layered.PARAMS),
                            shapes={"X": (8, 5), "y": (8,), "W1": (5, 4), "b1": (4,),
                                    "W2": (4, 3), "b2": (3,)})
    for _ in range(3):
        params = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=4),
                  "W2": rng.normal(size=(4, 3)), "b2": rng.normal(size=3)}
        X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
        assert layered.compare_with_whole(layers, whole, params, X, y) <= 1e-10
