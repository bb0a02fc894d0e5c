"""Issue #14, a newcomer's first hour: the symdiff command run as a user runs it (a subprocess)."""

import subprocess
import sys
import textwrap

import pytest


def symdiff(*argv, cwd=None, env=None):
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
