"""The runner of the gradient corpora (``corpus_autograd``, ``corpus_assignments``).

A case is the source of one ``def`` written with ``np.`` and its inputs. For each case: compile it
with ``symdiff.compile``; its value must equal NumPy's (same shape, rtol 1e-9); its vector-Jacobian
product with a random ``dout`` and its gradient of the sum must equal central differences of the
same text run with NumPy (and ``jax.vjp`` of the text run with ``jax.numpy``, in float64, where JAX
is installed and accepts the program). Outcomes:

* ``right``    value and gradients agree (a JAX disagreement alone, with central differences
  siding with symdiff, is still right: the case is listed under notes);
* ``refused``  a ``symdiff.SymdiffError``: a clean error naming what is not supported;
* ``wrong``    a value, a shape or a gradient that NumPy and central differences contradict;
* ``crashed``  any other exception (or more than ``TIMEOUT`` seconds).

The programs are the corpus's own text, so running them with ``exec`` is fine here.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
import traceback
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np

import symdiff
from symdiff.check import numeric_gradient

try:  # JAX is an optional oracle
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
except ImportError:  # pragma: no cover - depends on the machine
    jax = jnp = None

TIMEOUT = 60
RTOL, ATOL = 1e-5, 1e-6


# ============================================================================ inputs
@dataclass(frozen=True)
class Spec:
    """How to draw one input: a kind and a shape."""

    kind: str
    shape: tuple
    extra: tuple = ()

    def draw(self, rng: np.random.Generator):
        s = self.shape
        if self.kind == "normal":
            return _away(rng.standard_normal(s), 0.05, rng)
        if self.kind == "positive":
            return rng.uniform(0.5, 2.0, s)
        if self.kind == "unit":
            return _away(rng.uniform(-0.8, 0.8, s), 0.05, rng)
        if self.kind == "distinct":        # values at least 0.2 apart: no ties (sort, max)
            n = int(np.prod(s, dtype=int))
            values = rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(-0.05, 0.05, n)
            return values.reshape(s)
        if self.kind == "spd":             # symmetric positive definite (batches allowed)
            a = rng.standard_normal(s)
            return a @ np.swapaxes(a, -1, -2) + s[-1] * np.eye(s[-1])
        if self.kind == "wellcond":        # well-conditioned square matrices
            return rng.standard_normal(s) * 0.3 + 2.0 * np.eye(s[-1])
        if self.kind == "int":
            return rng.integers(self.extra[0], self.extra[1], size=s)
        if self.kind == "scalar":
            return float(self.extra[0])
        raise ValueError(self.kind)


def _away(x, floor, rng):
    """Nudge values out of (-floor, floor): kinks of abs, relu, sign sit at 0."""
    small = np.abs(x) < floor
    return np.where(small, np.where(x < 0, -1.0, 1.0) * (floor + rng.uniform(0, 0.3, np.shape(x))), x)


def N(*shape): return Spec("normal", shape)            # noqa: E704
def P(*shape): return Spec("positive", shape)          # noqa: E704
def U(*shape): return Spec("unit", shape)              # noqa: E704
def D(*shape): return Spec("distinct", shape)          # noqa: E704
def SPD(*shape): return Spec("spd", shape)             # noqa: E704
def W(*shape): return Spec("wellcond", shape)          # noqa: E704
def I(lo, hi, *shape): return Spec("int", shape, (lo, hi))  # noqa: E704, E743
def F(value): return Spec("scalar", (), (value,))      # noqa: E704


@dataclass
class Case:
    name: str
    source: str
    inputs: dict
    group: str = ""

    def args(self) -> dict:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return {k: spec.draw(rng) for k, spec in self.inputs.items()}

    @property
    def wrt(self) -> list[str]:
        return [k for k, spec in self.inputs.items() if spec.kind != "int"]


def case(name: str, body: str, group: str = "", **inputs: Spec) -> Case:
    """A case; a body that is not a ``def`` is the expression ``f`` of the inputs returns."""
    source = body if body.lstrip().startswith("def ") else \
        f"def f({', '.join(inputs)}):\n    return {body}\n"
    return Case(name, source, inputs, group)


# ============================================================================ oracles
def run_with(module, source: str, args: dict):
    namespace = {"np": module}
    exec(compile(source, "<corpus program>", "exec"), namespace)  # the corpus's own text
    fn = [v for k, v in namespace.items() if callable(v) and k != "np"][-1]
    fn = namespace.get("f", fn)
    return fn(**{k: v.copy() if hasattr(v, "copy") else v for k, v in args.items()})


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [np.asarray(o, dtype=float) for o in out]
    return [np.asarray(out, dtype=float)]


def central(source: str, args: dict, name: str, dout) -> np.ndarray:
    """d sum(dout * f) / d args[name]: symdiff.check's central differences of the text run with
    NumPy (``dout`` holds one array per output)."""
    return numeric_gradient(lambda **kw: tuple(_flat(run_with(np, source, kw))), args, name,
                            tuple(dout))


def jax_vjp(source: str, args: dict, wrt: list, dout) -> dict | None:
    if jax is None:
        return None
    floats = {k: jnp.asarray(args[k]) for k in wrt}
    fixed = {k: v for k, v in args.items() if k not in wrt}
    try:
        out, pull = jax.vjp(lambda kw: run_with(jnp, source, {**fixed, **kw}), floats)
        cot = tuple(jnp.asarray(d) for d in dout) if isinstance(out, (tuple, list)) else \
            jnp.asarray(dout[0])
        if isinstance(out, list):
            cot = list(cot)
        (grads,) = pull(cot)
    except Exception:  # noqa: BLE001 - JAX refuses this NumPy form: no JAX oracle
        return None
    return {k: np.asarray(v, dtype=float) for k, v in grads.items()}


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


# ============================================================================ one case
@dataclass
class Result:
    outcome: str
    detail: str = ""
    notes: list = field(default_factory=list)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def check_case(c: Case) -> Result:
    args = c.args()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = run_with(np, c.source, args)
    except Exception as e:  # noqa: BLE001 - the corpus's own mistake, not symdiff's
        return Result("invalid", f"NumPy itself fails: {type(e).__name__}: {_first_line(str(e))}")
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        return _check(c, args, expected)
    except symdiff.SymdiffError as e:
        return Result("refused", _first_line(str(e)))
    except _Timeout:
        return Result("crashed", f"more than {TIMEOUT} s")
    except Exception as e:  # noqa: BLE001 - everything else is a crash, reported
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return Result("crashed", f"{type(e).__name__}: {_first_line(str(e))} "
                                 f"({tb.filename.split('/')[-1]}:{tb.lineno})")
    finally:
        signal.alarm(0)


def _first_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else "")[:160]


def _check(c: Case, args: dict, expected) -> Result:
    g = symdiff.compile(c.source, wrt=c.wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = g(**args)
    want, got = _flat(expected), _flat(value)
    if len(want) != len(got) or any(w.shape != v.shape for w, v in zip(want, got)):
        return Result("wrong", f"value shape {[v.shape for v in got]} != {[w.shape for w in want]}")
    if not all(np.allclose(v, w, rtol=1e-9, atol=1e-12) for v, w in zip(got, want)):
        return Result("wrong", "value differs from NumPy")
    rng = np.random.default_rng(1)
    dout = [rng.standard_normal(w.shape) for w in want]
    seed = tuple(dout) if isinstance(expected, (tuple, list)) else dout[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, vjp = g(**args, dout=seed)
    notes = []
    oracle = jax_vjp(c.source, args, g.wrt, dout)
    for name in g.wrt:
        numeric = central(c.source, args, name, dout)
        if not _close(vjp[name], numeric):
            if oracle is not None and _close(vjp[name], oracle[name]):
                notes.append(f"d{name}: central differences differ, JAX agrees with symdiff")
                continue
            return Result("wrong", f"d{name} (vjp) differs from central differences: "
                                   f"max error {_err(vjp[name], numeric)}")
        if oracle is not None and not _close(vjp[name], oracle[name]):
            notes.append(f"d{name}: JAX differs, central differences agree with symdiff")
        ones = [np.ones(w.shape) for w in want]
        if not _close(grads[name], central(c.source, args, name, ones)):
            return Result("wrong", f"d{name} (of the sum) differs from central differences")
    return Result("right", notes=notes)


def _err(a, b) -> str:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    return f"{float(np.max(np.abs(a - b))):.3g}"


# ============================================================================ the report
def main(cases: list[Case], prog: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="a regular expression: cases whose name matches")
    parser.add_argument("--verbose", action="store_true", help="one line per case")
    options = parser.parse_args(argv)
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    chosen = [c for c in cases if re.search(options.only, c.name)]
    results: dict[str, Result] = {}
    start = time.perf_counter()
    for c in chosen:
        results[c.name] = r = check_case(c)
        if options.verbose:
            print(f"{r.outcome:8} {c.name}  {r.detail}", file=sys.stderr, flush=True)
    report(chosen, results, time.perf_counter() - start)
    return 0


def report(cases: list[Case], results: dict, seconds: float) -> None:
    counts = {k: 0 for k in ("right", "refused", "wrong", "crashed", "invalid")}
    for r in results.values():
        counts[r.outcome] += 1
    total = len(results)
    print(f"{total} cases in {seconds:.0f} s (JAX oracle: {'yes' if jax else 'not installed'})")
    for k, n in counts.items():
        print(f"  {k:8} {n:4}  ({100 * n / max(total, 1):.1f}%)")
    for outcome in ("wrong", "crashed", "invalid", "refused"):
        listed = [c for c in cases if results[c.name].outcome == outcome]
        if listed:
            print(f"\n{outcome}:")
            for c in listed:
                print(f"  {c.name}: {results[c.name].detail}")
    noted = [c for c in cases if results[c.name].notes]
    if noted:
        print("\nnotes:")
        for c in noted:
            print(f"  {c.name}: {'; '.join(results[c.name].notes)}")
