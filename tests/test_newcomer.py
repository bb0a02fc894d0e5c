"""Issue #14, a newcomer's first hour: the symdiff command run as a user runs it (a subprocess)."""

import importlib.util
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symdiff as sd

ROOT = str(pathlib.Path(__file__).resolve().parents[1])


def symdiff(*argv, cwd=None, env=None):
    # This checkout's package, installed or not (the command runs in the user's folder).
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "symdiff", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------- unknown names help
@pytest.mark.parametrize("formula, suggestion", [
    ("sigmod(x)", "did you mean sigmoid?"),
    ("np.exq(x)", "did you mean np.exp?"),
    ("np.relu(x)", "did you mean relu?"),        # symdiff's relu is not NumPy's
    ("np.sigmod(x)", "did you mean sigmoid"),
    ("math.sqr(x)", "did you mean math.sqrt?"),
])
def test_unknown_function_suggests_the_close_match(formula, suggestion):
    code, out, err = symdiff("grad", formula, "--at", "x=1")
    assert code != 0 and out == ""
    first = err.splitlines()[0]
    assert f"unknown function '{formula[:-3]}'" in first
    assert suggestion in first and "symdiff ops" in first


def test_unknown_function_without_a_close_match_points_at_symdiff_ops():
    code, _, err = symdiff("grad", "qqqq(x)", "--at", "x=1")
    assert code != 0
    assert "did you mean" not in err and "`symdiff ops` lists" in err


def test_unknown_method_in_a_file_suggests_the_method(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent("""\
        import numpy as np

        def f(x):
            return x.summ()
        """))
    code, _, err = symdiff("grad", "model.py:f", "--shapes", "x=3", cwd=tmp_path)
    assert code != 0
    assert "unknown function 'x.summ'; did you mean x.sum?" in err


# ---------------------------------------------------------------- pictures: a PNG asked for
def _without_tools(tmp_path):
    """An environment where neither Graphviz's dot nor rsvg-convert is on PATH."""
    import os
    empty = tmp_path / "empty-path"
    empty.mkdir()
    return {**os.environ, "PATH": str(empty)}


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _cairosvg_works():
    try:
        import cairosvg  # noqa: F401
    except Exception:
        return False
    return True


@pytest.mark.parametrize("argv", [["-o", "out/c.png"], ["-o", "out/c", "--format", "png"]])
def test_png_asked_without_graphviz_fails_clearly_and_writes_nothing(tmp_path, argv):
    if _cairosvg_works():
        pytest.skip("cairosvg converts the SVG here")
    code, out, err = symdiff("graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", *argv, cwd=tmp_path,
                             env=_without_tools(tmp_path))
    assert code != 0
    assert "PNG output needs Graphviz" in err and "nothing was written" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_png_asked_writes_a_real_png_or_fails(tmp_path):
    code, _, err = symdiff("graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o", "c.png", cwd=tmp_path)
    if code == 0:
        assert _is_png(tmp_path / "c.png")
    else:
        assert "PNG" in err and not (tmp_path / "c.png").exists()


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="needs Graphviz")
def test_png_with_graphviz_is_a_real_png(tmp_path):
    code, _, err = symdiff("graph", "(x+y)*z", "-o", "c.png", cwd=tmp_path)
    assert code == 0, err
    assert _is_png(tmp_path / "c.png") and "wrote" in err


def test_picture_files_without_png_asked_still_succeed_without_graphviz(tmp_path):
    code, _, err = symdiff("graph", "(x+y)*z", "-o", "c", cwd=tmp_path, env=_without_tools(tmp_path))
    assert code == 0
    assert (tmp_path / "c.svg").exists() and (tmp_path / "c.dot").exists()
    if not (tmp_path / "c.png").exists():
        assert "note: PNG output needs Graphviz" in err


# ---------------------------------------------------------------- checks before work
LOSS = """\
import numpy as np


def log_softmax(z, axis):
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def loss(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    return -np.mean(log_softmax(scores, axis=1)[np.arange(N), y]) + 1e-3 * np.sum(W1 * W1)
"""


@pytest.mark.parametrize("command", ["grad", "check", "graph"])
def test_at_flags_accumulate(command):
    code, out, err = symdiff(command, "(x+y)*z", "--at", "x=-2", "--at", "y=5", "--at", "z=-4")
    assert code == 0, err
    if command == "grad":
        lines = out.splitlines()
        assert "at x = -2, y = 5, z = -4:" in lines
        assert "f = -12" in lines and "df/dz = 3" in lines
    elif command == "check":
        assert out.startswith("at x = -2, y = 5, z = -4:")
    else:
        assert "digraph" in out


def test_at_flags_still_take_comma_lists_and_refuse_a_name_twice():
    code, out, _ = symdiff("grad", "(x+y)*z", "--at", "x=-2,y=5", "--at", "z=-4")
    assert code == 0 and "df/dx = -4" in out.splitlines()
    code, out, err = symdiff("grad", "(x+y)*z", "--at", "x=-2,y=5,z=1", "--at", "x=3")
    assert code != 0 and out == "" and "--at gives x twice" in err


@pytest.mark.parametrize("at, message", [
    (["x=-2,y=oops,z=1"], "--at: 'oops' is not a number, FILE.npy, FILE.npz or random (for y)"),
    (["x=-2", "--at", "y=5"], "--at is missing a value for z"),
    (["x=-2,w=1,y=5,z=1"], "--at names 'w', which is not an input"),
])
def test_bad_at_is_reported_before_anything_is_printed(at, message):
    code, out, err = symdiff("grad", "(x+y)*z", "--at", *at)
    assert code != 0
    assert out == ""
    assert message in err


def test_bad_at_in_check_before_work():
    code, out, err = symdiff("check", "(x+y)*z", "--at", "x=nope")
    assert code != 0 and out == "" and "--at: 'nope' is not a number" in err


def test_shapes_errors_name_the_flag(tmp_path):
    (tmp_path / "model.py").write_text(LOSS)
    code, out, err = symdiff("grad", "model.py:loss", "--wrt", "W1,b1",
                             "--shapes", "X=200x3072,y=200,W1=3072x100,b1=100", cwd=tmp_path)
    assert code != 0 and out == ""
    assert "--shapes is missing W2, b2" in err and "shapes=" not in err
    code, _, err = symdiff("compile", "model.py:loss", "--shapes",
                           "X=2x3,y=2,W1=3x4,b1=4,W2=4x5,b2=99999999999999", cwd=tmp_path)
    assert code != 0 and "--shapes: the shape of b2 must be" in err and "shapes[" not in err
    code, _, err = symdiff("graph", "model.py:loss", "--shapes", "X=2x3,y=2", cwd=tmp_path)
    assert code != 0 and "--shapes is missing W1, b1, W2, b2" in err


# ---------------------------------------------------------------- NumPy's warnings become notes
def test_sqrt_at_zero_prints_inf_with_one_note():
    code, out, err = symdiff("grad", "sqrt(x)", "--at", "x=0")
    assert code == 0
    assert "f = 0" in out.splitlines() and "df/dx = inf" in out.splitlines()
    assert "RuntimeWarning" not in err and "encountered" not in err
    notes = [line for line in err.splitlines() if line.strip()]
    assert notes == ["symdiff: note: a division by zero at this point: the values it reaches "
                     "print as inf"]


def test_log_of_a_negative_number_prints_nan_with_a_note():
    code, out, err = symdiff("grad", "log(x)", "--at", "x=-1")
    assert code == 0 and "f = nan" in out.splitlines()
    assert "RuntimeWarning" not in err
    assert err.count("symdiff: note: an operation is undefined at this point") == 1


def test_overflow_note():
    code, out, err = symdiff("grad", "exp(x)", "--at", "x=1000")
    assert code == 0 and "f = inf" in out.splitlines()
    assert "RuntimeWarning" not in err and "overflows float64" in err


# ---------------------------------------------------------------- errors name the file and its line
USERFNS = """\
import numpy as np


def helper(t):
    return np.tanh(t)


def with_if(x):
    with open("f") as f:
        y = x
    return y


def bad_helper(t):
    return t.summ()


def uses_bad(x):
    return bad_helper(x) * 2


def misaligned(x):
    y = helper(x)
    return np.sum(y @ np.ones((2, 2)))


class Layer:
    def forward(x, w):  # read from the class: a plain function, indented
        return np.sum(x * w) + np.sum(np.cumsum(x).nope())


square = lambda t: t * t.summ()  # noqa: E731


def calls_lambda(x):
    return np.sum(square(x))
"""


def _caret_under(err: str, text: str) -> None:
    """The last two lines of an error: the file's line, and a caret under ``text`` in it."""
    shown, caret = err.rstrip("\n").splitlines()[-2:]
    assert caret.strip() == "^"
    assert shown[caret.index("^"):].startswith(text), (shown, caret)


@pytest.mark.parametrize("function, place, message, under", [
    ("with_if", "userfns.py:9:5:", "unsupported syntax: a with statement", "with open"),
    ("uses_bad", "userfns.py:15:12:", "unknown function 't.summ'", "t.summ()"),
    ("misaligned", "userfns.py:24:19:", "y @ np.ones((2, 2)): shapes (3,) and (2, 2)", "y @ np.ones"),
])
def test_cli_errors_name_the_file_and_its_line(tmp_path, function, place, message, under):
    (tmp_path / "userfns.py").write_text(USERFNS)
    code, out, err = symdiff("grad", f"userfns.py:{function}", "--shapes", "x=3", cwd=tmp_path)
    assert code != 0 and out == ""
    assert err.startswith(f"symdiff: error: {place} {message}"), err
    assert "(line" not in err
    _caret_under(err, under)


def test_cli_syntax_error_elsewhere_in_the_file_names_the_file(tmp_path):
    (tmp_path / "userfns.py").write_text(USERFNS + "\ndef broken(x:\n    return x\n")
    code, _, err = symdiff("grad", "userfns.py:with_if", "--at", "x=1", cwd=tmp_path)
    assert code != 0
    assert err.startswith("symdiff: error: userfns.py:38:11: syntax error"), err
    assert "syntax error" in err


def _module(tmp_path, name="userfns"):
    path = tmp_path / f"{name}.py"
    path.write_text(USERFNS)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


@pytest.mark.parametrize("function, line, col, cls, under", [
    ("with_if", 9, 5, sd.ParseError, "with open"),
    ("uses_bad", 15, 12, sd.ParseError, "t.summ()"),        # in a helper the function calls
    ("misaligned", 24, 19, sd.ShapeError, "y @ np.ones"),   # found while tracing
    ("calls_lambda", 32, 24, sd.ParseError, "t.summ()"),    # in a lambda helper, mid-line
])
def test_function_objects_report_their_file_and_line(tmp_path, monkeypatch, function, line, col,
                                                     cls, under):
    module, path = _module(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cls) as info:
        sd.compile(getattr(module, function))(np.ones(3))
    error = info.value
    assert (error.filename, error.line, error.col) == ("userfns.py", line, col)
    assert str(error).startswith(f"userfns.py:{line}:{col}: ")
    _caret_under(str(error), under)


def test_a_method_reports_the_file_column_of_its_indented_line(tmp_path):
    module, path = _module(tmp_path, "userfns_method")
    with pytest.raises(sd.ParseError) as info:
        sd.compile(module.Layer.forward)(np.ones(3), np.ones(3))
    error = info.value
    assert error.filename == path  # outside the working folder: the path as Python knows it
    assert (error.line, error.col) == (29, 39)
    _caret_under(str(error), "np.cumsum(x).nope()")


def test_formulas_and_source_texts_keep_their_own_lines():
    with pytest.raises(sd.ParseError) as info:
        sd.compile("def f(x):\n    y = x\n    return y.summ()\n")
    assert info.value.filename is None and info.value.line == 3
    assert "(line 3, column 12)" in str(info.value)


# ---------------------------------------------------------------- pictures and explanations
def test_explanation_keeps_the_users_operand_order():
    code, out, err = symdiff("grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "--explain")
    assert code == 0, err
    assert "f = (x+y)*z   at x = -2, y = 5, z = -4" in out.splitlines()


def test_sigmoid_local_gradient_reads_sigma_one_minus_sigma():
    code, out, err = symdiff("grad", "sigmoid(w*x+b)", "--at", "w=2,x=-1,b=-3", "--explain")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.strip().startswith("node `sigmoid`"))
    assert "local d(sigmoid(r))/dr = σ(1−σ) = 0.00664806 (σ = f)" in line
    assert "f*(1 - f)" not in line


def test_grad_explain_takes_elementary_as_graph_does():
    argv = ["grad", "1/(1+exp(-(w*x+b)))", "--at", "w=2,x=-1,b=-3", "--explain"]
    code, fused, _ = symdiff(*argv)
    assert code == 0 and "node `sigmoid`" in fused and "node `exp`" not in fused
    code, elementary, err = symdiff(*argv, "--elementary")
    assert code == 0, err
    walk = elementary.split("backward (L = f")[1]
    for gate in ("node `1/x`", "node `+1`", "node `exp`", "node `*-1`"):
        assert gate in walk
    assert "sends -0.00664806 to s" in walk  # the same gradient, gate by gate


def _edge_lines(dot: str, source_label: str) -> list[str]:
    ids = {line.split()[0] for line in dot.splitlines() if f'label="{source_label}"' in line}
    return [line for line in dot.splitlines() if "->" in line and line.split()[0] in ids
            and "tooltip" in line]


@pytest.mark.parametrize("formula, left, right", [("x - y", "x", "y"), ("y - x", "y", "x"),
                                                  ("x / y", "x", "y")])
def test_pictures_of_ordered_gates_name_the_left_operand(formula, left, right):
    code, dot, err = symdiff("graph", formula)
    assert code == 0, err
    assert all("left operand" in e for e in _edge_lines(dot, left))
    assert all("right operand" in e for e in _edge_lines(dot, right))
    code, dot, _ = symdiff("graph", "x * y")  # * commutes: no sides
    assert "operand" not in dot


def test_pictures_of_matmul_name_the_left_operand(tmp_path):
    (tmp_path / "m.py").write_text("import numpy as np\n\ndef f(W, x):\n    return np.sum(x @ W)\n")
    code, dot, err = symdiff("graph", "m.py:f", "--shapes", "W=3x2,x=4x3", cwd=tmp_path)
    assert code == 0, err
    assert all("left operand" in e for e in _edge_lines(dot, "x"))
    assert all("right operand" in e for e in _edge_lines(dot, "W"))
