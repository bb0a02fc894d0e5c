"""Arrays on the command line (symdiff/cli_arrays.py, symdiff/teach/matrix.py), run as a user runs
the command: --at from .npy/.npz files and random draws, array values summarised, the passes of
an array program in matrix notation, check and --explain on array programs."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = str(pathlib.Path(__file__).resolve().parents[1])

MODEL = """\
import numpy as np


def two(X, W1, b1, W2, b2):
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    return np.sum(scores * scores)


def loss(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    z = scores - np.max(scores, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(N), y])
"""
BIG = "X=200x3072,W1=3072x100,b1=100,W2=100x10,b2=10"
REST = "W1=4x5,b1=5,W2=5x3,b2=3"
SMALL = "X=6x4," + REST


def symdiff(*argv, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "symdiff", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    rng = np.random.default_rng(7)
    data = {"X": rng.standard_normal((6, 4)), "W1": rng.standard_normal((4, 5)),
            "b1": rng.standard_normal(5), "W2": rng.standard_normal((5, 3)),
            "b2": rng.standard_normal(3)}
    np.savez(tmp_path / "data.npz", X=data["X"], W1=data["W1"])
    for name in ("b1", "W2", "b2"):
        np.save(tmp_path / f"{name}.npy", data[name])
    return tmp_path, data


def _line(out: str, start: str) -> str:
    found = [line.strip() for line in out.splitlines() if line.strip().startswith(start)]
    assert found, f"no line starting {start!r} in\n{out}"
    return found[0]


# ---------------------------------------------------------------- the passes in matrix notation
def test_grad_of_an_array_program_prints_the_backward_pass_in_matrix_notation(folder):
    tmp, _ = folder
    code, out, err = symdiff("grad", "model.py:two", "--shapes", BIG, cwd=tmp)
    assert code == 0, err
    assert "def two(" not in out and "import numpy" not in out  # not the module
    assert _line(out, "dW2 =").split() == ["dW2", "=", "hᵀ", "·", "dscores", "[100×10]"]
    assert _line(out, "dh =").split() == ["dh", "=", "dscores", "·", "W2ᵀ", "[200×100]"]
    assert _line(out, "dt2 =").split() == ["dt2", "=", "[t2", ">", "0]", "⊙", "dh", "[200×100]"]
    assert _line(out, "db1 =").split() == ["db1", "=", "Σ₀", "dt2", "[100]"]
    assert _line(out, "dW1 =").split() == ["dW1", "=", "Xᵀ", "·", "dt2", "[3072×100]"]
    assert _line(out, "t1 =").split() == ["t1", "=", "X", "·", "W1", "[200×100]"]
    assert f"symdiff compile model.py:two --shapes {BIG}" in out


def test_grad_latex_of_an_array_program(folder):
    tmp, _ = folder
    code, out, err = symdiff("grad", "model.py:two", "--shapes", BIG, "--latex", cwd=tmp)
    assert code == 0, err
    assert r"dW_{2} = h^{\top} \cdot dscores \quad [100 \times 10]" in out.splitlines()[-10:] or \
        r"  dW_{2} = h^{\top} \cdot dscores \quad [100 \times 10]" in out.splitlines()
    assert r"dt_{2} = [t_{2} > 0] \odot dh \quad [200 \times 100]" in out


def test_the_readme_loss_prints_its_backward_pass(folder):
    tmp, _ = folder
    code, out, err = symdiff("grad", "model.py:loss", "--wrt", "W1,b1", "--shapes",
                             "X=200x3072,y=200,W1=3072x100,b1=100,W2=100x10,b2=10", cwd=tmp)
    assert code == 0, err
    assert _line(out, "dW1 =").endswith("[3072×100]") and _line(out, "db1 =").endswith("[100]")
    assert "dW2" not in out  # --wrt W1,b1


# ---------------------------------------------------------------- --at from files, values printed
def test_values_and_gradients_at_arrays_from_files(folder):
    tmp, d = folder
    code, out, err = symdiff("grad", "model.py:two", "--at", "data.npz",
                             "--at", "b1=b1.npy,W2=W2.npy", "--at", "b2=b2.npy", cwd=tmp)
    assert code == 0, err
    h = np.maximum(0, d["X"] @ d["W1"] + d["b1"])
    scores = h @ d["W2"] + d["b2"]
    dscores = 2 * scores
    assert "at X = array [6×4], W1 = array [4×5], b1 = array [5], W2 = array [5×3], " \
           "b2 = array [3]:" in out
    assert f"two = {np.sum(scores ** 2):.8f}" in out
    printed = out.split("dtwo/db2 = [3]\n")[1].splitlines()[0]
    np.testing.assert_allclose(np.array(printed.strip("[] ").split(), dtype=float),
                               dscores.sum(axis=0), rtol=1e-5)
    assert "dtwo/dW2 = [5×3]" in out


def test_large_arrays_print_summarised(folder):
    tmp, _ = folder
    np.save(tmp / "Xbig.npy", np.ones((50, 4)))
    code, out, err = symdiff("grad", "model.py:two", "--at", "X=Xbig.npy,W1=random,b1=random",
                             "--at", "W2=random,b2=random", "--shapes", "X=50x4," + REST,
                             cwd=tmp)
    assert code == 0, err
    block = out.split("dtwo/dX = [50×4]\n")[1].split("dtwo/dW1")[0]
    assert "..." in block and len(block.splitlines()) <= 8


def test_random_values_are_seeded(folder):
    tmp, _ = folder
    argv = ["grad", "model.py:two", "--shapes", SMALL, "--at",
            "X=random,W1=random,b1=random,W2=random,b2=random"]
    first, second = symdiff(*argv, cwd=tmp), symdiff(*argv, cwd=tmp)
    other = symdiff(*argv, "--seed", "1", cwd=tmp)
    assert first[0] == 0 and first[1] == second[1]
    assert _line(first[1].split("\nat ")[1], "two =") != _line(other[1].split("\nat ")[1], "two =")
    assert "W1 = random [4×5]" in first[1]


def test_random_labels_fall_in_range(folder):
    tmp, _ = folder
    code, out, err = symdiff("grad", "model.py:loss", "--shapes", "X=6x4,y=6," + REST,
                             "--at", "X=random,y=random,W1=random,b1=random,W2=random,b2=random",
                             cwd=tmp)
    assert code == 0, err
    assert "y = random [6]" in out and "dloss/dW1 = [4×5]" in out


@pytest.mark.parametrize("at, message", [
    ("X=obj.npy", "cannot read obj.npy as NumPy data"),
    ("X=missing.npy", "--at: no such file: missing.npy"),
    ("stranger.npz", "--at stranger.npz: Q in the file is not an input"),
    ("X=random,W1=1,b1=1,W2=1,b2=1", "--at X=random needs the shape of X: give it with --shapes X="),
    ("X=oops", "--at: 'oops' is not a number, FILE.npy, FILE.npz or random (for X)"),
])
def test_bad_data_files_are_refused_before_any_work(folder, at, message):
    tmp, _ = folder
    np.save(tmp / "obj.npy", np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp / "stranger.npz", Q=np.ones(2))
    code, out, err = symdiff("grad", "model.py:two", "--at", at, cwd=tmp)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_an_elementwise_program_at_arrays_keeps_its_closed_forms(tmp_path):
    np.save(tmp_path / "x.npy", np.linspace(0, 1, 100))
    code, out, err = symdiff("grad", "x*sin(y)", "--at", "x=x.npy,y=2", cwd=tmp_path)
    assert code == 0, err
    assert "df/dx = sin(y)" in out and "at x = array [100], y = 2:" in out
    assert "..." in out.split("df/dx = [100]")[1]


# ---------------------------------------------------------------- check and --explain on arrays
def test_check_an_array_program(folder):
    tmp, _ = folder
    code, out, err = symdiff("check", "model.py:loss", "--shapes", "X=6x4,y=6," + REST,
                             cwd=tmp)
    assert code == 0, err
    assert _line(out, "d/dW1:").startswith("d/dW1: relative error")
    assert out.strip().splitlines()[-1].endswith("(ok: tolerance 1e-05)")
    code, out, _ = symdiff("check", "model.py:two", "--shapes", SMALL, "--tol", "0", cwd=tmp)
    assert code == 1 and "FAILED" in out  # the check can fail: no gradient is exact to 0


def test_check_takes_files_and_needs_shapes_for_the_rest(folder):
    tmp, _ = folder
    code, out, err = symdiff("check", "model.py:two", "--at", "data.npz",
                             "--shapes", "X=6x4,W1=4x5,b1=5,W2=5x3,b2=3", cwd=tmp)
    assert code == 0, err and "X = array [6×4]" in out and "b1 = random [5]" in out
    code, _, err = symdiff("check", "model.py:two", "--at", "data.npz", cwd=tmp)
    assert code == 2 and "needs their shapes: give --shapes for b1, W2, b2" in err


def test_explain_an_array_program_gives_statistics_per_node(folder):
    tmp, _ = folder
    code, out, err = symdiff("grad", "model.py:two", "--shapes", SMALL, "--at",
                             "X=random,W1=random,b1=random,W2=random,b2=random", "--explain",
                             cwd=tmp)
    assert code == 0, err
    walk = out.split("backward (L = two")[1]
    assert "node `@`" in walk and "(min " in walk and "mean " in walk
    assert "dtwo/dX = array(6, 4) (min" in out.split("gradients:")[1]
