"""Hostile input: whatever text or object reaches ``symdiff.compile``, it gets a SymdiffError.

The fence is the frontend: user text goes to Python's own parser and an allow-list, never to
``eval``/``exec``/``sympify``. These tests throw at it code injection, dunder escapes, syntax it does
not support, resource bombs (deep nesting, huge numbers, huge strings), Unicode look-alikes and
objects that are not source at all, and check three things every time:

* the error is a :class:`symdiff.SymdiffError` (a subclass is fine), never anything else;
* it comes back within :data:`TIME_LIMIT` seconds;
* no injected payload ran: the sentinel file it would create does not exist.

Errors that point at the source must say where, with ``line`` and a caret (``^``) line.

Three parts: a parametrized table of hand-written attacks, a hypothesis suite of random hostile
strings (and, when one does compile, a call of the result on random floats), and the ``symdiff``
command line.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import symdiff
from symdiff.errors import SourceError

TIME_LIMIT = 1.0      # seconds: every hostile input must be answered within this
HARD_LIMIT = 10.0     # seconds: safety net, so that a hang fails the test instead of the suite
SLOW_LIMIT = 1.5      # hard limit for inputs that once took far too long
CARET_LINE = re.compile(r"^\s*\^\s*$", re.MULTILINE)
NEURON = "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"

# Payloads write here; the module-scoped fixture below checks it is still empty at the end.
SENTINEL_DIR = Path(tempfile.mkdtemp(prefix="symdiff-security-"))
SENTINEL = SENTINEL_DIR / "SENTINEL"


# ============================================================================ helpers
class Hang(BaseException):
    """Raised by the SIGALRM safety net; a BaseException so no ``except Exception`` swallows it."""


@contextlib.contextmanager
def hard_timeout(seconds: float):
    """Interrupt the block after ``seconds`` (POSIX main thread only; elsewhere a no-op)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def attempt(source, hard_limit: float = HARD_LIMIT, **kwargs):
    """``symdiff.compile(source)``: (the Compiled or the SymdiffError, seconds taken).

    Any other exception, or running past ``hard_limit``, fails the calling test.
    """
    start = time.perf_counter()
    try:
        with hard_timeout(hard_limit):
            result = symdiff.compile(source, **kwargs)
    except symdiff.SymdiffError as exc:
        result = exc
    except (Exception, Hang) as exc:  # noqa: BLE001 -- anything else is the failure under test
        elapsed = time.perf_counter() - start
        pytest.fail(f"compile({_show(source)}) raised {type(exc).__name__} after {elapsed:.2f} s, "
                    f"not a SymdiffError: {str(exc)[:300]}", pytrace=False)
    return result, time.perf_counter() - start


def assert_rejected(source, sentinel: Path, location: bool = False,
                    hard_limit: float = HARD_LIMIT, **kwargs) -> symdiff.SymdiffError:
    result, elapsed = attempt(source, hard_limit, **kwargs)
    assert not sentinel.exists(), f"the payload of {_show(source)} ran"
    assert isinstance(result, symdiff.SymdiffError), f"{_show(source)} was accepted"
    assert elapsed < TIME_LIMIT, f"{_show(source)} took {elapsed:.2f} s to reject"
    message = str(result)
    assert message and "Traceback" not in message
    if isinstance(result, SourceError) and result.line is not None:
        assert_points_at_source(message)
    if location:
        assert isinstance(result, SourceError) and result.line is not None, \
            f"no location in {message!r}"
    return result


def assert_points_at_source(message: str) -> None:
    # "(line 2, column 5)" in a text; "file.py:9:5:" in a file, as Python's tracebacks name places
    assert "line" in message or re.match(r"\S+\.py:\d+:\d+: ", message), message
    assert CARET_LINE.search(message), f"no caret line in {message!r}"


def _show(source) -> str:
    text = repr(source)
    return text if len(text) <= 80 else text[:77] + "..."


# ============================================================================ 1. the table
# Sources are strings in which SENTINEL stands for the absolute path of a file the payload would
# create, or factories ``f(sentinel_path) -> object`` for what should not be built at import time.
# ``loc``: the error must carry a line, a column and a caret.

def hostile_function(x):
    """A real function whose body would write a file; symdiff must reject it without running it."""
    return open(SENTINEL_FOR_FUNCTIONS, "w").write("pwned") * x


SENTINEL_FOR_FUNCTIONS = str(SENTINEL_DIR / "from-a-function")


HUGE_CONSTANT = 10 ** 400
INFINITE_CONSTANT = float("inf")


def uses_huge_constant(x):
    return x * HUGE_CONSTANT


def uses_infinite_constant(x):
    return x * INFINITE_CONSTANT


class NotAFunction:
    def __init__(self, x):
        self.x = x


class Make:
    """A hostile input built at test time from the sentinel path (``build(sentinel)``)."""

    def __init__(self, build):
        self.build = build


DEF = "def f(x):\n    {}\n    return x"
# Branches, helpers, comprehensions, in-place updates and private names were refused here until
# symdiff learned them; tests/test_constructs.py checks that they now compute the right numbers
# (and the payloads below that hide in them are still refused).
HOSTILE = [
    # ---- code injection through names and calls
    ("import_system", "__import__('os').system('touch SENTINEL')", True),
    ("import_in_sum", "x + __import__('os').system('touch SENTINEL')", True),
    ("builtins_dict", "__builtins__['open']('SENTINEL', 'w')", True),
    ("dunder_mro", "x.__class__.__mro__", True),
    ("dunder_subclasses", "().__class__.__base__.__subclasses__()", True),
    ("dunder_globals_np", "np.exp.__globals__['os'].system('touch SENTINEL')", True),
    ("getattr", "getattr(x, '__class__')", True),
    ("eval", "eval(\"__import__('os').system('touch SENTINEL')\")", True),
    ("exec", "exec(\"open('SENTINEL', 'w')\")", True),
    ("open", "open('SENTINEL', 'w').write('x') * x", True),
    ("globals", "globals()['__builtins__']", True),
    ("vars", "vars()", True),
    ("compile_builtin", "compile('1', 'f', 'eval')", True),
    ("unknown_function", "foo(x)", True),
    ("numpy_unlisted", "np.load('SENTINEL')", True),
    ("numpy_submodule", "np.os.system('touch SENTINEL')", True),
    ("numpy_testing", "np.testing.assert_equal(x, x)", True),
    ("method_call", "x.tofile('SENTINEL')", True),
    # ---- syntax outside the allow-list
    ("list_comprehension", "[open('SENTINEL', 'w') for q in x]", True),
    ("set_comprehension", "{q for q in x}", True),
    ("dict_comprehension", "{q: q for q in x}", True),
    ("generator_expression", "sum(open('SENTINEL', 'w') for q in x)", True),
    ("lambda_text", "(lambda: __import__('os').system('touch SENTINEL'))()", True),
    ("lambda_object", Make(lambda s: (lambda x: __import__("os").system(f"touch {s}"))), False),
    ("function_object", Make(lambda s: hostile_function), True),
    ("import_in_def", DEF.format("import os"), True),
    ("from_import_in_def", DEF.format("from os import system"), True),
    ("with", "def f(x):\n    with open('SENTINEL', 'w') as h:\n        y = x\n    return y", True),
    ("try", "def f(x):\n    try:\n        y = x\n    except Exception:\n        y = 1\n    return y",
     True),
    ("while", "def f(x):\n    while True:\n        x = x + 1\n    return x", True),
    ("global", DEF.format("global np"), True),
    ("nonlocal", DEF.format("nonlocal y"), True),
    ("class", "class A:\n    pass", True),
    ("del", DEF.format("del x"), True),
    ("raise", DEF.format("raise SystemExit"), True),
    ("yield", DEF.format("yield x"), True),
    ("async", "async def f(x):\n    return x", True),
    ("match", "match x:\n    case 1:\n        pass", True),
    # ---- literals that are not real numbers
    ("string", "'SENTINEL'", True),
    ("string_operand", "x * 'abc'", True),
    ("fstring", "f\"{__import__('os').system('touch SENTINEL')}\"", True),
    ("bytes", "b'abc' * x", True),
    ("complex", "x * 1j", True),
    ("none", "x + None", True),
    ("true", "x * True", True),
    ("ellipsis", "x + ...", True),
    # ---- expressions symdiff does not take
    ("walrus", "(y := x) * y", True),
    ("starred_call", "max(*x)", True),
    ("starred_assign", "def f(x):\n    a, *b = x\n    return a", True),
    ("double_star", "exp(**x)", True),
    ("dict", "{x: 1}", True),
    ("set", "{x, 1}", True),
    ("call_result", "exp(x)(y)", True),
    # ---- resource bombs
    ("deep_parentheses", Make(lambda s: "(" * 10_000 + "x" + ")" * 10_000), True),
    ("deep_unary_minus", Make(lambda s: "-" * 100_000 + "x"), False),
    ("deep_exp_calls", Make(lambda s: "exp(" * 5000 + "x" + ")" * 5000), True),
    ("deep_brackets", Make(lambda s: "[" * 5000 + "x" + "]" * 5000), True),
    ("deep_subscripts", Make(lambda s: "x" + "[0]" * 20_000), False),
    ("power_tower", "2**2**2**100", True),
    ("huge_exponent", "x**(10**400)", True),
    ("ten_tower", "10**10**10", True),
    ("float_power", "x * 1.5 ** 100000", True),
    ("huge_int_literal", Make(lambda s: "x * " + "9" * 5000), True),
    ("big_int_literal", "x * 123456789012345678901234567890", True),
    ("float_overflow", "1e999*x", True),
    ("float_overflow_long", Make(lambda s: "x * 1" + "0" * 400 + ".0"), True),
    ("constant_overflow", "x * (1e300 * 1e300)", True),
    ("constant_zero_division", "x * (1 / 0)", True),
    ("ten_megabytes", Make(lambda s: "x + " * 2_500_000 + "x"), False),
    ("nul_byte", "x\x00 + 1", False),
    # ---- look-alikes: Python folds these to ASCII names (NFKC); symdiff must refuse them
    ("fullwidth_x", "\uff58 + 1", True),
    ("cyrillic_a", "\u0430 * 2", True),
    ("math_italic_x", "\U0001d465 ** 2", True),
    ("look_alike_in_def", "def f(x):\n    y = 2 * \uff58\n    return y", True),
    ("zero_width_space", "x\u200b + 1", True),
    ("cr_hides_look_alike", pytest.param(
        "#\r\uff58 + 1", True)),
    # ---- mutation of inputs
    ("attribute_assign", "def f(x):\n    x.y = 1\n    return x", True),
    ("attribute_assign_dunder", "def f(x):\n    x.__class__ = 1\n    return x", True),
    # ---- function shapes symdiff does not take
    ("decorator", "@staticmethod\ndef f(x):\n    return x", True),
    ("default_argument", "def f(x=__import__('os').system('touch SENTINEL')):\n    return x", True),
    ("star_args", "def f(*x):\n    return x", True),
    ("kwargs", "def f(x, **k):\n    return x", True),
    ("no_parameters", "def f():\n    return 1", True),
    ("no_return", "def f(x):\n    y = x", True),
    ("bare_return", "def f(x):\n    return", True),
    ("two_statements", "x\ny", True),
    # ---- names
    ("dunder_name", "__name__", True),
    ("reserved_np_assign", DEF.format("np = 1"), True),
    ("reserved_math_assign", DEF.format("math = x"), True),
    ("reserved_np_param", "def f(np):\n    return np", True),
    ("reserved_dout", pytest.param("dout * x", True)),
    ("bitwise_operator", pytest.param("x & y", True)),
    # ---- not source at all
    ("int_object", Make(lambda s: 42), False),
    ("none_object", Make(lambda s: None), False),
    ("list_object", Make(lambda s: ["x * y"]), False),
    ("bytes_object", Make(lambda s: b"x * y"), False),
    ("builtin_function", Make(lambda s: len), False),
    ("ufunc", Make(lambda s: np.exp), False),
    ("partial_object", Make(lambda s: functools.partial(max, 1)), False),
    ("class_object", pytest.param(Make(lambda s: NotAFunction), False)),
    ("function_huge_global", pytest.param(Make(lambda s: uses_huge_constant), False)),
    # ---- empty and whitespace
    ("empty", "", False),
    ("whitespace", " \n\t ", False),
    ("docstring_only", "'''SENTINEL'''", True),
    ("unterminated", "(x + ", True),
    ("bad_indent", "def f(x):\nreturn x", True),
    # ---- resource exhaustion inside the limits
    ("loop_unrolled_forever", pytest.param(
        "def f(x):\n    for i in range(10**18):\n        x = x + 1\n    return x", True)),
    ("loop_without_growth", pytest.param(
        "def f(x):\n    for i in range(10**9):\n        y = x\n    return y", True)),
    ("range_step_zero", pytest.param(
        "def f(x):\n    for i in range(0, 10, 0):\n        x = x + 1\n    return x", True)),
    ("tuple_of_200k", pytest.param(
        Make(lambda s: "(" + ",".join(["x"] * 200_000) + ")"), False)),
]

SLOW_CASES = {"loop_unrolled_forever", "loop_without_growth", "tuple_of_200k"}


def _params(table):
    out = []
    for case_id, *rest in table:
        if len(rest) == 1 and isinstance(rest[0], type(pytest.param())):
            param = rest[0]
            out.append(pytest.param(case_id, *param.values, marks=param.marks, id=case_id))
        else:
            out.append(pytest.param(case_id, *rest, id=case_id))
    return out


def test_table_is_large_and_unique():
    ids = [case[0] for case in HOSTILE]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


def _materialize(source, sentinel: Path):
    if isinstance(source, Make):
        return source.build(sentinel)
    if isinstance(source, str):
        return source.replace("SENTINEL", str(sentinel))
    return source


@pytest.mark.parametrize("case_id, source, loc", _params(HOSTILE))
def test_hostile_input_is_rejected(case_id, source, loc, tmp_path):
    sentinel = tmp_path / "SENTINEL"
    source = _materialize(source, sentinel)
    limit = SLOW_LIMIT if case_id in SLOW_CASES else HARD_LIMIT
    assert_rejected(source, sentinel, location=loc, hard_limit=limit)
    assert not any(tmp_path.iterdir())
    assert not any(SENTINEL_DIR.iterdir())


def test_rejection_leaves_the_recursion_limit_alone(tmp_path):
    before = sys.getrecursionlimit()
    assert_rejected("-" * 100_000 + "x", tmp_path / "SENTINEL")
    assert_rejected("(" * 10_000 + "x" + ")" * 10_000, tmp_path / "SENTINEL")
    assert sys.getrecursionlimit() == before


def test_look_alike_error_points_at_the_character(tmp_path):
    error = assert_rejected("y + \uff58", tmp_path / "SENTINEL", location=True)
    assert error.line == 1 and error.col == 5


def test_long_line_error_keeps_the_caret_under_the_offender(tmp_path):
    source = "x + " * 100 + "foo(x)"
    error = assert_rejected(source, tmp_path / "SENTINEL", location=True)
    lines = str(error).splitlines()
    shown, caret = lines[-2], lines[-1]
    assert shown[caret.index("^"):].startswith("foo(")


@pytest.mark.parametrize("kwargs", [
    pytest.param({"wrt": "__import__('os').system('touch SENTINEL')"}, id="wrt_injection"),
    pytest.param({"wrt": ["x", "x"]}, id="wrt_twice"),
    pytest.param({"wrt": [None]}, id="wrt_none_item"),
    pytest.param({"wrt": 5}, id="wrt_int"),
    pytest.param({"name": "f(x, q=1/0):\n    return x\ndef f"}, id="name_injection"),
    pytest.param({"name": "a b"}, id="name_not_identifier"),
])
def test_hostile_keyword_arguments(kwargs, tmp_path):
    sentinel = tmp_path / "SENTINEL"
    kwargs = {k: _materialize(v, sentinel) for k, v in kwargs.items()}
    source = "def f(x):\n    y = x * 2\n    return y"
    assert_rejected(source, sentinel, **kwargs)


# ---------------------------------------------------------------------------- runtime
def _call(source: str, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return symdiff.compile(source)(*args)


ZERO_DIVISION = ("float inputs reach the NumPy code as Python floats (compiler._coerce turns "
                 "them into float), so its arithmetic raises ZeroDivisionError where NumPy would "
                 "give inf: ")


@pytest.mark.parametrize("source, args", [
    pytest.param("x / y", (1.0, 0.0), id="divide_by_zero"),
    pytest.param("log(x)", (0.0,), id="log_zero"),
    pytest.param("x ** y", (0.0, -1.0), id="zero_to_negative_power"),
    pytest.param("exp(x)", (1000.0,), id="exp_overflow"),
    pytest.param("x ** 3", (1e200,), id="power_overflow"),
    pytest.param("sqrt(x)", (-1.0,), id="sqrt_negative"),
    pytest.param("x ** y", (-8.0, 1 / 3), id="negative_to_fractional_power"),
    pytest.param("x ** 0.5", (-4.0,), id="negative_to_constant_half"),
    pytest.param("np.inf * x", (2.0,), id="inf_constant"),
    pytest.param("tan(x)", (math.inf,), id="tan_inf"),
    pytest.param("x * y", (math.nan, 1.0), id="nan_input"),
    pytest.param("sigmoid(x) + softplus(x)", (-1000.0,), id="sigmoid_softplus_extreme"),
])
def test_float_inputs_give_floats_never_exceptions(source, args):
    """IEEE semantics: a domain error is inf or NaN in the result, never a Python exception."""
    value, grads = _call(source, *args)
    for number in (value, *grads.values()):
        assert isinstance(number, (float, np.floating)), f"{number!r} is not a real float"


@pytest.mark.parametrize("args", [
    pytest.param(("a", 1.0), id="string"),
    pytest.param((None, 1.0), id="none"),
    pytest.param((object(), 1.0), id="object"),
    pytest.param((1j, 1.0), id="complex"),
    pytest.param(([[1.0], [1.0, 2.0]], 1.0), id="ragged"),
    pytest.param((1.0,), id="missing"),
    pytest.param((1.0, 2.0, 3.0), id="too_many"),
    pytest.param((10 ** 400, 1.0), id="huge_int"),
    pytest.param((np.ones(3), np.ones(4)), id="shapes_do_not_broadcast"),
])
def test_bad_arguments_to_a_compiled_function(args):
    g = symdiff.compile("x * y")
    with pytest.raises(symdiff.SymdiffError):
        g(*args)


def test_closed_forms_of_a_long_chain_fail_cleanly():
    source = "def f(x):\n" + "    x = sin(x)\n" * 1000 + "    return x"
    with hard_timeout(SLOW_LIMIT * 2):
        try:
            symdiff.gradients(source)
        except symdiff.SymdiffError:
            pass


# ============================================================================ 2. hypothesis
@pytest.fixture(scope="module", autouse=True)
def _sentinel_dir():
    yield
    leftovers = list(SENTINEL_DIR.iterdir())
    shutil.rmtree(SENTINEL_DIR, ignore_errors=True)
    assert not leftovers, f"payloads ran: {leftovers}"


PAYLOADS = [
    f"__import__('os').system('touch {SENTINEL}')",
    f"open('{SENTINEL}', 'w')",
    f"eval(\"open('{SENTINEL}', 'w')\")",
    f"exec(\"open('{SENTINEL}', 'w')\")",
    f"np.save('{SENTINEL}', x)",
    "x.__class__.__base__.__subclasses__()",
    "getattr(np, 'os').system('true')",
]
NAMES = ["x", "y", "z", "w0", "x0", "q", "i", "_", "f", "exp", "log", "sin", "cos", "tanh", "sqrt",
         "abs", "max", "min", "sigmoid", "relu", "softplus", "np", "numpy", "math", "np.exp",
         "np.where", "np.maximum", "math.exp", "np.pi", "np.inf", "math.e", "range", "len",
         "dout", "cache", "grads", "__import__", "__class__", "__builtins__", "eval", "exec",
         "open", "getattr", "globals", "os", "system", "print", "type", "x.T", "x.sum", "e"]
KEYWORDS = ["def", "return", "for", "in", "range", "lambda", "import", "from", "as", "with",
            "if", "else", "elif", "while", "try", "except", "finally", "yield", "await", "async",
            "global", "nonlocal", "not", "and", "or", "is", "None", "True", "False", "pass",
            "del", "class", "raise", "assert", "break", "continue", "match", "case"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "@", "<", ">", "<=", ">=", "==", "!=", "=", "+=",
             "-=", "*=", ":=", "&", "|", "^", "~", "<<", ">>", "(", ")", "[", "]", "{", "}", ",",
             ":", ".", ";", "...", "->", "'", '"', "\\", "#", "\n", "\n    ", "\t", "*", "**",
             "@"]
NUMBERS = ["0", "1", "2", "3", "0.5", "-1", "1e999", "1e-400", "10**400", "2**2**2**100", "1j",
           "0x10", "1_000", "9" * 40, "1e308", "0.0", "00", "1.", ".5"]
ODDITIES = ["'a'", "b'a'", "f'{x}'", "r'\\x'", "\uff58", "\u0430", "\U0001d465", "\u200b", "\r",
            "\x0c", "\x00", "\u2028", "\ufeff", "\xa0", "\ud800"]
TOKENS = NAMES + KEYWORDS + OPERATORS + NUMBERS + ODDITIES + PAYLOADS

VALID = [
    "(x+y)*z",
    NEURON,
    "np.where(x > 0, x, 0.01 * x)",
    "max(0, x) + relu(y) - min(x, y)",
    "sqrt(x**2 + y**2)",
    "log(1 + exp(x)) / (1 + x*x)",
    "x ** 3 / (1 + abs(y))",
    "tanh(w*x + b) * sigmoid(-x)",
    "np.exp(-x) * math.sin(y) + np.pi",
    "def f(x, y):\n    q = x * y\n    for i in range(3):\n        q = q + sin(x)\n    return q",
    "def loss(w, b, x):\n    s = w * x + b\n    p = 1 / (1 + exp(-s))\n    return -log(p)",
    "def f(x):\n    a, b = x, 2 * x\n    return a * b",
]

token_soup = st.tuples(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30),
    st.sampled_from([" ", "", "\n", " + "]),
).map(lambda t: t[1].join(t[0]))

token_soup_in_def = st.lists(token_soup, min_size=1, max_size=4).map(
    lambda lines: "def f(x):\n" + "".join(f"    {line}\n" for line in lines) + "    return x")

# (opening, atom, closing, cap on the repeat count): deep structures, up to well past every limit.
NESTINGS = [
    ("(", "x", ")", 400), ("[", "x", "]", 400), ("{", "x", "}", 400), ("exp(", "x", ")", 400),
    ("-", "x", "", 30_000), ("+", "x", "", 30_000), ("~", "x", "", 30_000),
    ("not ", "x", "", 30_000), ("lambda: ", "x", "", 3_000), ("", "x", "[0]", 3_000),
    ("", "x", ".T", 12_000), ("", "x", "()", 12_000), ("x**", "2", "", 120),
    ("2**", "2", "", 400), ("x+", "x", "", 1_000), ("x*(", "x", ")", 400),
    ("-(", "x", ")", 400), ("np.", "exp", "", 12_000), ("await ", "x", "", 3_000),
]


@st.composite
def deep_nesting(draw):
    opening, atom, closing, cap = draw(st.sampled_from(NESTINGS))
    depth = draw(st.integers(0, cap))
    unbalanced = draw(st.integers(0, 3))
    return opening * depth + atom + closing * max(0, depth - unbalanced)


ALPHABET = st.one_of(st.sampled_from(list("xyzw0123456789.+-*/()e, ")), st.characters(codec="ascii"),
                     st.sampled_from(ODDITIES + ["\n", "    "]), st.characters())


@st.composite
def mutated_formula(draw):
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "token"]))
        at = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:at] + draw(ALPHABET) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        elif kind == "replace":
            text = text[:at] + draw(ALPHABET) + text[at + 1:]
        elif kind == "duplicate":
            end = draw(st.integers(at, min(len(text), at + 20)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
    return text


replaced_bytes = st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace"))

FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1e308, -1e308, 5e-324, math.inf,
                     -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def check_any_source(source: str, inputs: list[float]) -> None:
    """The property: a SymdiffError or a Compiled, fast, payload never run; calls raise nothing else.

    ``inputs`` are drawn up front (not after compiling) so that a run that is slower than usual
    cannot change what hypothesis draws.
    """
    result, elapsed = attempt(source)
    note(f"compile took {elapsed:.3f} s: {type(result).__name__}")
    event("compiled" if isinstance(result, symdiff.Compiled) else "rejected")
    assert not any(SENTINEL_DIR.iterdir()), f"the payload of {_show(source)} ran"
    assert elapsed < TIME_LIMIT, f"compile({_show(source)}) took {elapsed:.2f} s"
    if isinstance(result, symdiff.SymdiffError):
        assert str(result)
        if isinstance(result, SourceError) and result.line is not None:
            assert_points_at_source(str(result))
        return
    args = [inputs[k % len(inputs)] for k in range(len(result.params))]
    try:
        with hard_timeout(HARD_LIMIT), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result(*args)
    except symdiff.SymdiffError:
        pass
    except (Exception, Hang) as exc:
        raise AssertionError(f"compile({source!r})(*{args!r}) raised "
                             f"{type(exc).__name__}: {exc}") from exc
    assert not any(SENTINEL_DIR.iterdir())


INPUTS = st.lists(FLOATS, min_size=6, max_size=6)


@settings(max_examples=150)
@given(source=st.text(max_size=200), inputs=INPUTS)
def test_random_text(source, inputs):
    check_any_source(source, inputs)


@settings(max_examples=100)
@given(source=replaced_bytes, inputs=INPUTS)
def test_random_bytes(source, inputs):
    check_any_source(source, inputs)


@settings(max_examples=200)
@given(source=st.one_of(token_soup, token_soup_in_def), inputs=INPUTS)
def test_random_token_sequences(source, inputs):
    check_any_source(source, inputs)


@settings(max_examples=100)
@given(source=deep_nesting(), inputs=INPUTS)
def test_random_deep_nesting(source, inputs):
    check_any_source(source, inputs)


@settings(max_examples=200)
@given(source=mutated_formula(), inputs=INPUTS)
def test_random_mutations_of_valid_formulas(source, inputs):
    check_any_source(source, inputs)


# ============================================================================ 3. the CLI
# Each `python -m symdiff` costs about a second of imports, so the subprocess runs of one test are
# started together; the in-process tests call symdiff.cli.main, the same code below `-m`.

def run_cli(argvs: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Run ``python -m symdiff ARGV`` for each argv, concurrently; wait for all."""
    env = dict(os.environ)
    root = str(Path(symdiff.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    procs = [subprocess.Popen([sys.executable, "-m", "symdiff", *argv], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in argvs]
    done = []
    for argv, proc in zip(argvs, procs, strict=True):
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return done


def assert_cli_error(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, (proc.args, proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("symdiff: error:") == 1, proc.stderr
    assert proc.stderr.startswith("symdiff: error:"), proc.stderr


def _printed_numbers(stdout: str) -> dict[str, float]:
    """The ``name = number`` lines printed after the ``at ...:`` line."""
    tail = stdout.split("\nat ", 1)[1]
    numbers = {}
    for line in tail.splitlines()[1:]:
        name, _, value = line.partition(" = ")
        numbers[name.strip()] = float(value)
    return numbers


def test_cli_subprocess(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    hostile = [
        f"__import__('os').system('touch {sentinel}')",
        f"def f(x):\n    y = open('{sentinel}', 'w')\n    return x",
        "\uff58 + 1",
    ]
    argvs = [["grad", source] for source in hostile] + [
        ["grad", "x*y", "--at", f"x=__import__('os').system('touch {sentinel}'),y=1"],
        ["grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4"],
        ["grad", NEURON, "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"],
    ]
    *errors, lecture, neuron = run_cli(argvs, cwd=tmp_path)
    for proc in errors:
        assert_cli_error(proc)
    for proc in errors[:-1]:
        assert_points_at_source(proc.stderr)
    assert "is not a number" in errors[-1].stderr
    assert not sentinel.exists() and not any(tmp_path.iterdir())

    assert lecture.returncode == 0, lecture.stderr
    lines = lecture.stdout.splitlines()
    for expected in ("f = -12", "df/dx = -4", "df/dy = -4", "df/dz = 3"):
        assert expected in lines, lecture.stdout

    assert neuron.returncode == 0, neuron.stderr
    numbers = _printed_numbers(neuron.stdout)
    expected = {"f": 0.73105858, "df/dw0": -0.19661193, "df/dx0": 0.39322387,
                "df/dw1": -0.39322387, "df/dx1": -0.58983580, "df/dw2": 0.19661193}
    for name, value in expected.items():
        assert numbers[name] == pytest.approx(value, abs=1e-8), (name, neuron.stdout)


def cli_main(argv: list[str], capsys) -> tuple[int, str, str]:
    from symdiff.cli import main
    with hard_timeout(HARD_LIMIT):
        code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("source", [
    pytest.param("x.__class__.__mro__", id="dunder"),
    pytest.param("[x for x in y]", id="comprehension"),
    pytest.param("getattr(x, '__class__')", id="getattr"),
    pytest.param("def f(x):\n    import os\n    return x", id="import"),
    pytest.param("lambda: 1", id="lambda"),
    pytest.param("x**(10**400)", id="huge_exponent"),
    pytest.param("(" * 300 + "x" + ")" * 300, id="deep_parentheses"),
    pytest.param("0+" + "-" * 100_000 + "x", id="deep_unary_minus"),
    pytest.param("x\x00", id="nul"),
    pytest.param("def f(x):\n    with open('SENTINEL', 'w') as h:\n        y = x\n    return y",
                 id="with_open"),
    pytest.param("def f(x):\n    x[0] = 1\n    return x", id="mutation"),
    pytest.param("missing.py:f", id="missing_file"),
    pytest.param("", id="empty"),
])
def test_cli_in_process_rejects_hostile_sources(source, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "SENTINEL"
    code, out, err = cli_main(["grad", source.replace("SENTINEL", str(sentinel))], capsys)
    assert code == 2, (code, out, err)
    assert err.count("symdiff: error:") == 1 and "Traceback" not in err, err
    assert not sentinel.exists()


def test_cli_reads_a_file_without_running_it(tmp_path, capsys, monkeypatch):
    sentinel = tmp_path / "SENTINEL"
    model = tmp_path / "model.py"
    model.write_text(f"open({str(sentinel)!r}, 'w')\nreg = 2.0\n\n"
                     "def loss(x):\n    return reg * x * x\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli_main(["grad", "model.py:loss", "--at", "x=3"], capsys)
    assert code == 0, err
    assert "dloss/dx = 12" in out.splitlines()
    assert not sentinel.exists()


def test_function_with_an_infinite_module_constant_runs():
    """An infinite module constant is refused like the literal 1e999, or computes inf."""
    try:
        g = symdiff.compile(uses_infinite_constant)
        with np.errstate(all="ignore"):
            value, grads = g(2.0)
    except symdiff.SymdiffError:
        return
    assert value == math.inf and grads["x"] == math.inf


@pytest.mark.parametrize("value", [
    pytest.param("1" + "0" * 400, id="huge_int"),
    pytest.param("1e999", id="inf"),
    pytest.param("2.5", id="plain"),
])
def test_cli_file_constants_are_bounded(value, tmp_path, capsys, monkeypatch):
    (tmp_path / "model.py").write_text(f"reg = {value}\n\ndef loss(x):\n    return reg * x\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli_main(["grad", "model.py:loss", "--at", "x=2"], capsys)
    assert "Traceback" not in err
    assert code == 0 or (code == 2 and err.count("symdiff: error:") == 1), (code, err)


@pytest.mark.parametrize("point", [
    "x=__import__('os').system('touch SENTINEL'),y=1",
    "x=1,y=exp(1)",
    "x=1,y=1e1000j",
    "x=1",
    "x=1,y=2,q=3",
    "x,y",
    "__class__=1,x=1,y=1",
])
def test_cli_at_takes_numbers_only(point, tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    code, out, err = cli_main(["grad", "x*y", "--at", point.replace("SENTINEL", str(sentinel))],
                              capsys)
    assert code == 2, (code, out, err)
    assert err.count("symdiff: error:") == 1 and "Traceback" not in err, err
    assert not sentinel.exists()
