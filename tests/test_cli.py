"""The symdiff command: each subcommand's output, in process (symdiff.cli.main) for speed."""

import pytest

from symdiff.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grad_prints_closed_forms_and_values(capsys):
    code, out, _ = run(capsys, "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
    lines = out.splitlines()
    assert code == 0
    assert "df/dx = z" in lines and "df/dz = x + y" in lines
    for line in ("f = -12", "df/dx = -4", "df/dy = -4", "df/dz = 3"):
        assert line in lines


def test_grad_order_two(capsys):
    code, out, _ = run(capsys, "grad", "x*x*y", "--order", "2", "--at", "x=1,y=2")
    lines = out.splitlines()
    assert code == 0
    assert "d2f/dx2 = 2*y" in lines and "d2f/dxdy = 2*x" in lines and "d2f/dy2 = 0" in lines
    assert "d2f/dx2 = 4" in lines and "d2f/dxdy = 2" in lines


def test_grad_latex(capsys):
    code, out, _ = run(capsys, "grad", "x*sin(y)", "--latex", "--order", "2")
    assert code == 0
    assert r"\frac{\partial f}{\partial y} = x \cos{\left(y \right)}" in out
    assert r"\frac{\partial^{2} f}{\partial x \partial y} = \cos{\left(y \right)}" in out


def test_grad_explain(capsys):
    code, out, _ = run(capsys, "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--explain")
    assert code == 0
    assert "sends -4 to q" in out


def test_check_passes_and_reports(capsys):
    code, out, _ = run(capsys, "check", "x*sin(y) + exp(x*y)", "--at", "x=0.5,y=1.5")
    assert code == 0 and "largest relative error" in out and "ok" in out


def test_compile_writes_a_module(capsys, tmp_path):
    target = tmp_path / "m.py"
    code, _, err = run(capsys, "compile", "x*y", "-o", str(target))
    assert code == 0 and "wrote" in err
    assert "def f_forward(x, y):" in target.read_text()


def test_graph_prints_dot(capsys):
    code, out, _ = run(capsys, "graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4")
    assert code == 0 and out.startswith("digraph")


def test_array_program_needs_shapes(capsys, tmp_path):
    model = tmp_path / "model.py"
    model.write_text("def loss(X, W):\n    return np.sum(X @ W)\n")
    code, _, err = run(capsys, "grad", f"{model}:loss")
    assert code == 2 and "--shapes" in err
    code, out, _ = run(capsys, "grad", f"{model}:loss", "--shapes", "X=4x3,W=3x2")
    # The seed 1 of the sum: column sums of X, not Xᵀ times an array of ones.
    assert code == 0 and "t3 = Σ₀ X   [1×3]" in out and "dW = t3ᵀ    [3×2]" in out


@pytest.mark.parametrize("argv", [
    ["grad", "x +"], ["grad", "foo(x)"], ["grad", "x*y", "--wrt", "q"],
    ["grad", "x*y", "--at", "x=1"], ["grad", "missing.py:f"], ["compile", "x*y", "--tests"],
])
def test_user_mistakes_exit_2_with_one_message(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("symdiff: error:") == 1 and "Traceback" not in err
