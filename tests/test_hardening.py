"""Hardening, round two: writes that lose nothing, names that cannot collide, budgets in seconds,
and a clear error for every bad argument. Command-line items run as a user runs them, in a
subprocess (python -m symdiff ...)."""

import builtins
import keyword
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import symdiff
from symdiff import compiler
from symdiff.compiler import load_module
from symdiff.frontend import rolled
from symdiff.errors import InputError, SymdiffError
from symdiff.codegen.verify import GeneratedCodeError, verify_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def symdiff_cli(*argv, cwd=None, timeout=60):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "symdiff", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def timed(fn):
    start = time.perf_counter()
    try:
        fn()
    except SymdiffError as exc:
        return time.perf_counter() - start, exc
    raise AssertionError("expected a SymdiffError")


ARRAY_PROGRAM = "def f(W, x):\n    return (W @ x).sum()\n"

# ------------------------------------------------------------------ code execution, data loss


def test_tests_file_name_cannot_inject_code(tmp_path):
    name = 'a");open("INJECTED","w").close();(".py'
    result = symdiff_cli("compile", "x*sin(y)", "--tests", "-o", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    test_file = tmp_path / ("test_" + name)
    run = subprocess.run([sys.executable, "-c", "import runpy, sys; ns = runpy.run_path(sys.argv[1]);"
                          " ns['test_backward_matches_finite_differences']()", str(test_file)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "INJECTED").exists()


def test_tests_file_for_a_name_with_a_quote_is_valid_python(tmp_path):
    result = symdiff_cli("compile", "x*sin(y)", "--tests", "-o", 'b"q.py', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / 'test_b"q.py').read_text()
    compile(text, "test_bq.py", "exec")  # no syntax error
    run = subprocess.run([sys.executable, "-c", "import runpy, sys; ns = runpy.run_path(sys.argv[1]);"
                          " ns['test_backward_matches_finite_differences']()", 'test_b"q.py'],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_the_tests_template_check_refuses_anything_but_filled_literals():
    from symdiff.cli import TEST_TEMPLATE, generated_test_file
    slots = ("filename", "module")
    verify_template(generated_test_file("m.py"), TEST_TEMPLATE, slots)
    injected = TEST_TEMPLATE.format(filename='"m.py"); import os; ("x"', module="'m'")
    with pytest.raises(GeneratedCodeError):
        verify_template(injected, TEST_TEMPLATE, slots)
    with pytest.raises(GeneratedCodeError):
        verify_template(TEST_TEMPLATE.format(filename="1", module="'m'"), TEST_TEMPLATE, slots)


def test_a_failed_write_leaves_the_existing_file_untouched(tmp_path):
    target = tmp_path / "keep.py"
    target.write_text("KEEP")
    g = symdiff.compile(ARRAY_PROGRAM)  # needs shapes: generation fails
    with pytest.raises(SymdiffError):
        g.write(target)
    assert target.read_text() == "KEEP"
    assert sorted(os.listdir(tmp_path)) == ["keep.py"]


def test_writes_are_atomic_a_failed_rename_changes_nothing(tmp_path, monkeypatch):
    target = tmp_path / "m.py"
    target.write_text("OLD")

    def broken(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(SymdiffError, match="m.py"):
        symdiff.compile("x*y").write(str(target))
    assert target.read_text() == "OLD"
    assert sorted(os.listdir(tmp_path)) == ["m.py"]


def test_a_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "m.py"
    target.write_text("OLD" * 100000)
    assert symdiff.compile("x*y").write(target) == str(target)
    assert target.read_text().startswith('"""f: value and gradients')


@pytest.mark.parametrize("path", [1, 1.5, None, b"m.py", ["m.py"], ""])
def test_write_takes_only_str_or_pathlike(path):
    with pytest.raises(InputError, match="path"):
        symdiff.compile("x*y").write(path)
    os.fstat(1)  # standard output is still open


def test_write_onto_a_directory_or_into_a_missing_folder_names_the_file(tmp_path):
    g = symdiff.compile("x*y")
    with pytest.raises(SymdiffError, match=f"cannot write {tmp_path}: it is a directory"):
        g.write(tmp_path)
    missing = tmp_path / "nope" / "m.py"
    with pytest.raises(SymdiffError, match="nope.*does not exist"):
        g.write(missing)


def test_cli_tests_refuses_to_replace_an_existing_test_file(tmp_path):
    (tmp_path / "test_m.py").write_text("MINE")
    result = symdiff_cli("compile", "x*y", "--tests", "-o", "m.py", cwd=tmp_path)
    assert result.returncode == 2 and "--force" in result.stderr
    assert (tmp_path / "test_m.py").read_text() == "MINE"
    assert not (tmp_path / "m.py").exists()  # nothing written when anything is refused
    result = symdiff_cli("compile", "x*y", "--tests", "--force", "-o", "m.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "check_gradients" in (tmp_path / "test_m.py").read_text()


def test_cli_never_overwrites_the_source_being_compiled(tmp_path):
    source = "def f(x):\n    return x * 2\n"
    (tmp_path / "model.py").write_text(source)
    result = symdiff_cli("compile", "model.py:f", "-o", "model.py", cwd=tmp_path)
    assert result.returncode == 2 and "source being compiled" in result.stderr
    result = symdiff_cli("compile", f"{tmp_path}/model.py:f", "-o", "./model.py", cwd=tmp_path)
    assert result.returncode == 2
    (tmp_path / "test_m.py").write_text(source)
    result = symdiff_cli("compile", "test_m.py:f", "-o", "m.py", "--tests", "--force",
                         cwd=tmp_path)
    assert result.returncode == 2 and "source being compiled" in result.stderr
    assert (tmp_path / "model.py").read_text() == source
    assert (tmp_path / "test_m.py").read_text() == source


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_cli_reads_only_regular_files_a_fifo_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    start = time.perf_counter()
    result = symdiff_cli("grad", "pipe.py:f", cwd=tmp_path, timeout=20)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    assert time.perf_counter() - start < 15


def test_cli_non_utf8_source_is_a_clear_error(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"def f(x):\n    # caf\xe9\n    return x * 2\n")
    result = symdiff_cli("grad", "latin.py:f", cwd=tmp_path)
    assert result.returncode == 2
    assert "not UTF-8" in result.stderr and "Traceback" not in result.stderr


def test_cli_write_errors_name_the_file(tmp_path):
    result = symdiff_cli("compile", "x*y", "-o", str(tmp_path / "nope" / "m.py"))
    assert result.returncode == 2 and "nope/m.py" in result.stderr
    result = symdiff_cli("compile", "x*y", "-o", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_cli_pictures_are_written_whole(tmp_path):
    result = symdiff_cli("graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4", "-o",
                         str(tmp_path / "c"), "--format", "svg", "--engine", "python")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["c.dot", "c.svg"]
    assert (tmp_path / "c.svg").read_text().rstrip().endswith("</svg>")


# ------------------------------------------------------------------ names that cannot collide

BUILTIN_NAMES = [n for n in dir(builtins) if n.isidentifier() and not keyword.iskeyword(n)]


def test_programs_named_after_every_builtin_compute_the_right_values():
    W = np.arange(6.0).reshape(2, 3) / 10
    x = np.ones((3, 2))
    accepted = 0
    for name in BUILTIN_NAMES:
        try:
            g = symdiff.compile("relu(x)*y + z*x", name=name)
        except SymdiffError:
            continue  # a reserved name (max, len, eval...) or one starting with '_'
        accepted += 1
        for _ in range(2):  # the second call goes through the float dispatcher
            assert g(2.0, 3.0, 4.0) == (14.0, {"x": 7.0, "y": 2.0, "z": 2.0}), name
        value, grads = g(np.array([2.0, -1.0]), 3.0, np.ones((2, 1)))
        np.testing.assert_allclose(grads["x"], [8.0, 2.0])
        assert grads["z"].shape == (2, 1) and grads["y"] == 4.0
        h = symdiff.compile(f"def {name}(W, x):\n    return np.max(np.tanh(W @ x), axis=0).sum()")
        value, grads = h(W, x)
        assert value == pytest.approx(np.max(np.tanh(W @ x), axis=0).sum(), rel=1e-12), name
        out, cache = h.forward(W, x)
        np.testing.assert_allclose(h.backward(1.0, cache)["x"], grads["x"])
        load_module(h.source, name)  # the written module verifies too
    assert accepted >= 100


@pytest.mark.parametrize("name", ["tuple", "list", "enumerate", "isinstance", "int", "hasattr"])
def test_named_after_a_builtin_the_helpers_call(name):
    g = symdiff.compile("x*y + z", name=name)
    value, grads = g(np.ones((2, 3)), np.ones(3), 2.0)
    np.testing.assert_allclose(value, 3.0)
    np.testing.assert_allclose(grads["y"], [2.0, 2.0, 2.0])
    assert grads["z"] == 6.0
    p = symdiff.compile("x*y + z", name=name, backend="array_api")
    np.testing.assert_allclose(p(np.ones((2, 3)), np.ones(3), 2.0)[1]["y"], [2.0, 2.0, 2.0])


def test_variables_named_like_builtins():
    src = "def f(x, y):\n    tuple = x * y\n    list = tuple + np.sum(x)\n    return np.sum(list * x)\n"
    g = symdiff.compile(src)
    x, y = np.arange(3.0), np.ones(3)
    value, grads = g(x, y)
    assert value == pytest.approx(np.sum((x * y + x.sum()) * x))


def test_verifier_refuses_a_builtin_read_by_name_where_the_program_shadows_it():
    text = ("import numpy as np\n\n\ndef tuple(x):\n    return x\n\n\n"
            "def f(x):\n    return len(x)\n")
    with pytest.raises(GeneratedCodeError, match="'len' read by its global name"):
        load_module(text, "tuple")
    with pytest.raises(GeneratedCodeError, match="top-level"):
        load_module("import numpy as np\n\n\ndef f(x):\n    return x\n\n\n_len = len\n", "f")


# ------------------------------------------------------------------ budgets in seconds

TEN_LINES = "\n".join(f"        y{j} = sin(x)*y{j - 1} + {j}" if j else "        y0 = x*2"
                      for j in range(10))
SLOW_PROGRAMS = {
    "ten_line_body_150000": f"def f(x):\n    s = x\n    for i in range(150000):\n{TEN_LINES}\n"
                            "        s = s + y9\n    return s\n",
    "sum_of_squares_100000": "def f(x):\n    s = 0.0\n    for i in range(100000):\n"
                             "        s = s + x[i]*x[i]\n    return s\n",
    "nested_1000_loops": "def f(x):\n    for i in range(1000):\n        for j in range(1000):\n"
                         "            x = x*1.0001 + 1\n    return x\n",
    "triangular_loops": "def f(x):\n    for i in range(3000):\n        for j in range(i):\n"
                        "            x = x*1.0001 + 1\n    return x\n",
}


@pytest.mark.parametrize("case", sorted(SLOW_PROGRAMS))
def test_large_unrolled_loops_are_refused_within_a_second(case, monkeypatch):
    # The unrolling budget: loops kept rolled (frontend/rolled.py, the default) are below.
    monkeypatch.setattr(rolled, "ENABLED", False)
    monkeypatch.setattr(compiler, "_COMPILED", {})

    def go():
        g = symdiff.compile(SLOW_PROGRAMS[case])
        g(np.ones(100000))
    seconds, exc = timed(go)
    assert seconds < 1.0, seconds
    assert "unroll" in str(exc) and "array operations" in str(exc)


@pytest.mark.parametrize("case", sorted(SLOW_PROGRAMS))
def test_large_loops_compile_rolled_within_a_second_or_are_refused(case):
    """Kept rolled, a long loop compiles in the time of its body (its steps run when called);
    one whose steps differ (range(i)) is unrolled, and refused by the budget, as fast."""
    start = time.perf_counter()
    try:
        symdiff.compile(SLOW_PROGRAMS[case], shapes={"x": (100000,)}).source
    except SymdiffError as exc:
        assert case == "triangular_loops" and "unroll" in str(exc)
    # (nested: the inner loop of 1000 steps is unrolled in the outer one's body)
    assert time.perf_counter() - start < (4.0 if case == "nested_1000_loops" else 1.0)


def test_a_long_loop_within_the_budget_still_compiles():
    g = symdiff.compile("def f(x, y):\n    for i in range(500):\n        x = sin(x)*y + cos(x*y)\n"
                        "    return x\n")
    assert np.isfinite(g(0.3, 0.7)[0])


def test_cli_printing_a_20000_step_loop_is_refused_within_a_second():
    from symdiff.cli import main
    src = "def f(x, y):\n    for i in range(20000):\n        x = x*y + 1\n    return x\n"
    start = time.perf_counter()
    assert main(["grad", src, "--at", "x=1,y=1"]) == 2
    assert time.perf_counter() - start < 1.0
    result = symdiff_cli("grad", src, "--at", "x=1,y=1")
    assert result.returncode == 2 and "symdiff compile" in result.stderr


def test_cli_explain_of_2000_steps_is_refused_within_a_second():
    from symdiff.cli import main
    src = "def f(x, y):\n    for i in range(2000):\n        x = x*y + 1\n    return x\n"
    start = time.perf_counter()
    assert main(["grad", src, "--at", "x=1,y=1", "--explain"]) == 2
    assert time.perf_counter() - start < 1.0
    src = "def f(x, y):\n    for i in range(300):\n        x = x*y + 1\n    return x\n"
    result = symdiff_cli("grad", src, "--at", "x=1,y=1", "--explain")
    assert result.returncode == 2 and "--explain" in result.stderr


def test_small_inputs_that_need_huge_memory_are_refused_naming_the_sizes():
    g = symdiff.compile("x*y")
    seconds, exc = timed(lambda: g(np.ones((1, 100000)), np.ones((100000, 1))))
    assert isinstance(exc, InputError) and seconds < 1.0
    assert "(100000, 100000)" in str(exc) and "74.5 GiB" in str(exc)
    h = symdiff.compile("def f(x, y):\n    return np.sum(x @ y)\n")
    with pytest.raises(InputError, match=r"\(100000, 100000\)"):
        h(np.ones((100000, 1)), np.ones((1, 100000)))
    with pytest.raises(InputError, match=r"Jacobian.*\(100000, 100000\)"):
        symdiff.jacobian("def f(x):\n    return np.tanh(x)\n")(np.ones(100000))
    with pytest.raises(InputError, match=r"Hessian.*\(100000, 100000\)"):
        symdiff.hessian("def f(x):\n    return np.sum(np.tanh(x))\n")(np.ones(100000))
    # Large inputs are the user's own: their results of the same size are fine.
    assert g(np.ones(10), np.ones(10))[0].shape == (10,)


# ------------------------------------------------------------------ every bad argument


@pytest.mark.parametrize("dout", ["ab", ["a"], np.array([1.0, 2.0, 3.0], dtype=object),
                                  np.array([1j, 1j, 1j]), {"a": 1}, [[1.0], [2.0, 3.0]],
                                  np.ones(4)])
def test_bad_dout_is_an_input_error(dout):
    g = symdiff.compile("x*y")
    with pytest.raises(InputError, match="dout"):
        g(np.ones(3), np.ones(3), dout=dout)


def test_dout_as_a_list_or_bools_is_taken_as_numbers():
    g = symdiff.compile("x*y")
    _, grads = g(np.ones(3), np.full(3, 2.0), dout=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(grads["x"], [2.0, 4.0, 6.0])
    assert grads["x"].dtype == np.float64


def test_backward_checks_its_dout_and_cache():
    g = symdiff.compile("x*y")
    out, cache = g.forward(np.ones(3), np.ones(3))
    for bad in (None, 5, "cache"):
        with pytest.raises(InputError, match="cache"):
            g.backward(np.ones(3), bad)
    with pytest.raises(InputError, match="empty"):
        g.backward(np.ones(3), {})
    with pytest.raises(InputError, match="dout"):
        g.backward(None, cache)
    with pytest.raises(InputError, match="dout"):
        g.backward("a", cache)
    with pytest.raises(InputError, match=r"dout has shape \(4,\)"):
        g.backward(np.ones(4), cache)
    altered = type(cache)(cache, cache.specialization, cache.owner)
    altered.made = cache.made
    del altered["x"]
    with pytest.raises(InputError, match="missing 'x'"):
        g.backward(np.ones(3), altered)
    np.testing.assert_allclose(g.backward(np.full(3, 2.0), cache)["x"], 2.0)


def test_a_cache_from_another_program_is_refused():
    g = symdiff.compile("x*y")
    other = symdiff.compile("x+y")
    _, cache = other.forward(np.ones(3), np.ones(3))
    with pytest.raises(InputError, match="another compiled program"):
        g.backward(np.ones(3), cache)
    h = symdiff.compile("def f(W, x):\n    return W @ x\n")
    k = symdiff.compile("def f(W, x):\n    return np.tanh(W @ x)\n")
    _, cache = k.forward(np.ones((2, 3)), np.ones(3))
    with pytest.raises(InputError, match="another compiled program"):
        h.backward(np.ones(2), cache)


def test_self_as_a_keyword_is_an_input_error():
    g = symdiff.compile("x*y")
    with pytest.raises(InputError, match="no input 'self'"):
        g(1.0, y=2.0, self=3.0)
    g(1.0, 2.0)
    g(1.0, 2.0)  # the float dispatcher is in place now
    with pytest.raises(InputError, match="no input 'self'"):
        g(1.0, y=2.0, self=3.0)
    with pytest.raises(InputError, match="no input 'self'"):
        g.forward(np.ones(2), y=2.0, self=3.0)


@pytest.mark.parametrize("shapes, message", [
    ({1: (3,), "x": (3,)}, "strings"),
    ({"x": (1,) * 100}, "100 dimensions"),
    ({"x": (3,), "q": (2,)}, "'q', which is not an input"),
])
def test_bad_shapes_are_input_errors(shapes, message):
    with pytest.raises(InputError, match=message):
        symdiff.compile("def f(x):\n    return np.sum(x)\n", shapes=shapes)


@pytest.mark.parametrize("value", [np.timedelta64(1, "s"), np.array([1, 2], dtype="m8[s]"),
                                   np.datetime64("2024-01-01")])
def test_time_inputs_are_input_errors(value):
    with pytest.raises(InputError, match="expected real numbers"):
        symdiff.compile("x*y")(value, 1.0)


def test_cli_repeated_at_and_unknown_shapes_are_errors():
    result = symdiff_cli("grad", "x*y", "--at", "x=1,x=2")
    assert result.returncode == 2 and "--at gives x twice" in result.stderr
    assert "df/dx" not in result.stdout  # refused before anything is printed
    result = symdiff_cli("grad", "x*y", "--at", "x=1,y=2", "--shapes", "x=3,zz=4")
    assert result.returncode == 2 and "'zz', which is not an input" in result.stderr


def test_load_and_store_contexts_count_towards_the_node_limit():
    """The tree check does not walk a name's Load/Store context, but counts it: 75,000 names in
    a list are 150,000 syntax nodes with their contexts, past the limit."""
    source = "[" + ",".join(["x"] * 75_000) + "]"
    with pytest.raises(symdiff.ParseError, match="more than 150,000 syntax nodes"):
        symdiff.compile(source)
