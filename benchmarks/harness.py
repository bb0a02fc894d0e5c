"""Shared machinery: median timing, peer detection, gradient checks and result rows.

Every system on every case goes through :func:`measure`: build it (its setup time), call it once
(jit compilers compile here; it counts as setup), check its value and gradients against the
hand-written reference with ``np.allclose``, then time repeated calls and keep the median.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import statistics
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

HAND = "hand-written"
# For context beside the hand-written baseline: the same NumPy with every temporary reused.
IN_PLACE = "hand-written, in place"
SYMDIFF = "symdiff"
# The peers, in table order; each names the module that must import for it to run.
PEERS = {"jax (jit)": "jax", "jax (jit), scalar form": "jax",
         "autograd": "autograd", "torch": "torch", "pytensor": "pytensor",
         "casadi": "casadi", "sympy (diff+lambdify)": "sympy"}

OK = "ok"
NOT_INSTALLED = "not installed"
WRONG = "WRONG GRADIENT"


@dataclass
class Settings:
    """How long to time: ``quick`` trades stability for a run under a minute."""

    quick: bool = False
    peers: bool = True      # False: every peer is skipped and never imported

    @property
    def sample_s(self) -> float:          # one timing sample lasts at least this long
        return 0.002 if self.quick else 0.05

    @property
    def repeats(self) -> tuple[int, int]:  # (fewest, most) samples per measurement
        return (2, 5) if self.quick else (5, 21)

    @property
    def budget_s(self) -> float:          # stop adding samples past this (after the fewest)
        return 0.15 if self.quick else 4.0


@dataclass
class Row:
    """One system on one case of one workload."""

    workload: str
    case: str
    system: str
    status: str = OK
    median_s: float | None = None      # per call
    setup_s: float | None = None       # build + first call (tracing, compiling, specializing)
    samples: int = 0
    loops: int = 0
    ratio: float | None = None         # median / hand-written median (filled in by finish())
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK and self.median_s is not None


@dataclass
class Entry:
    """A system to measure: ``build()`` returns the zero-argument call to time, and ``unpack`` turns
    that call's result into ``(value, [gradients...])`` in the order of the reference."""

    system: str
    build: Callable[[], Callable[[], Any]]
    unpack: Callable[[Any], tuple[Any, list]]
    note: str = ""
    skip: str = ""                     # a reason not to run it on this case (slow, not applicable)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def import_jax():
    """JAX in float64 (every system here computes in float64)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _run(fn: Callable[[], Any], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - start


def calibrate(fn: Callable[[], Any], settings: Settings) -> int:
    """Loops per sample: grown until one sample lasts ``settings.sample_s``."""
    loops = 1
    while True:
        elapsed = _run(fn, loops)
        if elapsed >= settings.sample_s or loops >= 1 << 20:
            return loops
        loops *= 2 if elapsed * 10 >= settings.sample_s else 10


def time_together(timed: list[tuple[Row, Callable[[], Any]]], settings: Settings) -> None:
    """Fill in each row's median seconds per call, sampling the functions round-robin.

    Interleaving spreads any drift in the machine's load (other processes) over every system of
    a case alike. Each function gets at least the fewest samples, then more until the most or its
    own time budget is spent. The garbage collector is off while timing, as in ``timeit``.
    """
    fewest, most = settings.repeats
    samples: list[list[float]] = [[] for _ in timed]
    spent = [0.0] * len(timed)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        while True:
            active = [i for i in range(len(timed)) if len(samples[i]) < most and
                      (len(samples[i]) < fewest or spent[i] < settings.budget_s)]
            if not active:
                break
            for i in active:
                row, fn = timed[i]
                elapsed = _run(fn, row.loops)
                spent[i] += elapsed
                samples[i].append(elapsed / row.loops)
    finally:
        if was_enabled:
            gc.enable()
    for (row, _), own in zip(timed, samples):
        row.median_s, row.samples = statistics.median(own), len(own)


def as_arrays(value: Any, grads: list) -> tuple[np.ndarray, list[np.ndarray]]:
    def convert(x):
        if hasattr(x, "detach"):                 # torch
            x = x.detach().numpy()
        if hasattr(x, "full") and not isinstance(x, np.ndarray):   # casadi DM
            x = x.full()
        return np.asarray(x, dtype=np.float64)
    return convert(value), [convert(g) for g in grads]


def agrees(got: tuple, reference: tuple) -> str:
    """'' when value and every gradient match the reference (np.allclose), else what differs."""
    value, grads = as_arrays(*got)
    ref_value, ref_grads = reference
    problems = []
    if len(grads) != len(ref_grads):
        return f"{len(grads)} gradients, expected {len(ref_grads)}"
    for name, a, b in [("value", value, ref_value)] + \
            [(f"grad {k}", g, r) for k, (g, r) in enumerate(zip(grads, ref_grads))]:
        a = a.reshape(b.shape) if a.size == b.size else a
        if a.shape != b.shape or not np.allclose(a, b):
            problems.append(name)
    return ", ".join(problems)


def prepare(workload: str, case: str, entry: Entry, reference: tuple | None,
            settings: Settings) -> tuple[Row, Callable[[], Any] | None, Any]:
    """Build, check and calibrate one entry: its row, the call to time (None if there is none)
    and its first result (unpacked, as arrays). A peer that is not installed, a skipped entry or an
    exception gives a row that says so, never an error."""
    row = Row(workload, case, entry.system, note=entry.note)
    module = PEERS.get(entry.system)
    if module is not None and not settings.peers:
        row.status, row.note = "skipped", "--no-peers"
        return row, None, None
    if module is not None and not installed(module):
        row.status, row.note = NOT_INSTALLED, ""
        return row, None, None
    if entry.skip:
        row.status = "skipped"
        row.note = entry.skip
        return row, None, None
    try:
        if module is not None:      # a one-off per process: not part of any setup time
            import_jax() if module == "jax" else importlib.import_module(module)
        start = time.perf_counter()
        fn = entry.build()
        first = fn()
        row.setup_s = time.perf_counter() - start
        result = as_arrays(*entry.unpack(first))
        if reference is not None:
            problem = agrees(entry.unpack(first), reference)
            if problem:
                row.status = WRONG
                row.note = (row.note + "; " if row.note else "") + f"differs: {problem}"
        row.loops = calibrate(fn, settings)
    except Exception as exc:  # a peer failing on a case is a result, not a crash
        row.status = f"error: {type(exc).__name__}"
        message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        row.note = message or traceback.format_exc(limit=1).splitlines()[-1]
        return row, None, None
    return row, fn, result


def run_case(workload: str, case: str, hand: Entry, entries: list[Entry],
             settings: Settings, log: Callable[[str], None] = print) -> list[Row]:
    """The hand-written reference first, then every other entry checked against it; then all
    of them timed together."""
    hand_row, hand_fn, reference = prepare(workload, case, hand, None, settings)
    if reference is None:
        raise RuntimeError(f"{workload} {case}: the hand-written reference failed: {hand_row.note}")
    rows, timed = [hand_row], [(hand_row, hand_fn)]
    for entry in entries:
        row, fn, _ = prepare(workload, case, entry, reference, settings)
        rows.append(row)
        if fn is not None:
            timed.append((row, fn))
    time_together(timed, settings)
    for row in rows:
        if row.median_s is not None and hand_row.median_s:
            row.ratio = row.median_s / hand_row.median_s
        shown = _fmt(row.median_s) if row.median_s is not None else row.status
        flag = f"  ({row.status})" if row.status != OK and row.median_s is not None else ""
        log(f"  {case:<18} {row.system:<26} {shown}{flag}")
    return rows


def _fmt(seconds: float | None) -> str:
    return format_time(seconds) if seconds is not None else "-"


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def find(rows: list[Row], case: str, system: str) -> Row | None:
    return next((r for r in rows if r.case == case and r.system == system), None)


@dataclass
class Target:
    """One target of issue #6: what was measured against what limit."""

    workload: str
    goal: str
    measured: str
    met: bool | None                   # None: could not be measured
    miss: str = ""                     # by how much, when missed


def limit_target(workload: str, goal: str, value: float | None, limit: float,
                 unit: str = "x") -> Target:
    """A target of the form ``value <= limit``."""
    if value is None:
        return Target(workload, goal, "not measured", None)
    shown = _show(value, unit)
    if value <= limit:
        return Target(workload, goal, shown, True)
    return Target(workload, goal, shown, False,
                  f"{value / limit:.2f}x over the limit ({shown} vs {_show(limit, unit)})")


def _show(value: float, unit: str) -> str:
    if unit == "s":
        return format_time(value)
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.3g} {unit}"


@dataclass
class Result:
    """What a workload module returns."""

    workload: str
    rows: list[Row]
    targets: list[Target] = field(default_factory=list)
    metrics: list[tuple[str, str]] = field(default_factory=list)   # (what, value) extra lines


def value_ratio_metrics(rows, case: str, forward_case: str) -> tuple[list, float | None]:
    """(metrics, symdiff gradient+value / hand-written value-only) for a workload that also
    times the value alone: the cheap-gradient ratio of symdiff and of the hand-written code."""
    sym, hand_row = find(rows, case, SYMDIFF), find(rows, case, HAND)
    value_row, sym_fwd = find(rows, forward_case, HAND), find(rows, forward_case,
                                                             "symdiff g.forward")
    if not (sym.ok and value_row.ok):
        return [], None
    ratio_value = sym.median_s / value_row.median_s
    metrics = [("symdiff gradient+value / value-only (hand-written forward)", f"{ratio_value:.2f}"),
               ("hand-written gradient+value / value-only",
                f"{hand_row.median_s / value_row.median_s:.2f}")]
    if sym_fwd.ok:
        metrics.append(("symdiff gradient+value / symdiff g.forward",
                        f"{sym.median_s / sym_fwd.median_s:.2f}"))
    return metrics, ratio_value


def in_place_metric(rows, case: str) -> list[tuple[str, str]]:
    """symdiff against the hand-written code that reuses every temporary (``out=``)."""
    sym, in_place = find(rows, case, SYMDIFF), find(rows, case, IN_PLACE)
    if not (sym.ok and in_place.ok):
        return []
    return [(f"{case}: symdiff / hand-written in place", f"{sym.median_s / in_place.median_s:.2f}")]


def unpack_tuple(result):
    """``(value, (grad, ...))`` as ``(value, [grad, ...])``: most systems' results."""
    value, grads = result
    return value, list(grads)
