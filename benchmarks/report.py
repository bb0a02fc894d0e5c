"""The report: machine description, markdown tables of medians and ratios, targets, and JSON."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import platform
import subprocess
import sys

import numpy as np

from .harness import OK, PEERS, Result, format_time

PACKAGES = ("symdiff", "numpy", "jax", "jaxlib", "autograd", "torch", "pytensor", "casadi", "sympy")


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in PACKAGES},
        "blas": _blas(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                 "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                 "MKL_NUM_THREADS", "XLA_FLAGS")},
        "commit": _commit(),
        "load_average_before": load_average(),
    }
    return info


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine skews timings."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _blas() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    keep = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: pool.get(k) for k in keep} for pool in threadpool_info()]


def _commit() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               text=True, capture_output=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + (" (with uncommitted changes)" if dirty else "")) if head else "unknown"


def machine_text(info: dict) -> str:
    blas = "; ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
                     f"{b.get('num_threads')} threads)" for b in info["blas"]
                     if "internal_api" in b) or "unknown"
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    env = ", ".join(f"{k}={v}" for k, v in info["env"].items() if v is not None) or "none set"
    load = f"{info.get('load_average_before')} before, {info.get('load_average_after')} after"
    return (f"- CPU: {info['cpu']}, {info['cores']} cores; Python {info['python']} on "
            f"{info['platform']}\n- BLAS: {blas}\n- packages: {versions}\n"
            f"- thread and BLAS environment: {env}\n- load average (1, 5, 15 min): {load}\n"
            f"- symdiff commit: {info['commit']}; run took {info.get('seconds')} s")


# ------------------------------------------------------------------ tables
def _cell_time(seconds):
    return format_time(seconds) if seconds is not None else "-"


def workload_table(result: Result) -> str:
    lines = [f"### {result.workload}", "",
             "| case | system | median per call | × hand-written | setup (build + 1st call) "
             "| check | notes |",
             "|---|---|--:|--:|--:|---|---|"]
    for r in result.rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        check = "ok" if r.status == OK else r.status
        lines.append(f"| {r.case} | {r.system} | {_cell_time(r.median_s)} | {ratio} | "
                     f"{_cell_time(r.setup_s)} | {check} | {r.note.replace('|', '/')} |")
    if result.metrics:
        lines += ["", "| metric | value |", "|---|---|"]
        lines += [f"| {what} | {value} |" for what, value in result.metrics]
    return "\n".join(lines)


def targets_table(results: list[Result]) -> str:
    lines = ["### targets (issue #6)", "", "| workload | target | measured | met | missed by |",
             "|---|---|---|---|---|"]
    for result in results:
        for t in result.targets:
            met = {True: "met", False: "**missed**", None: "not measured"}[t.met]
            lines.append(f"| {t.workload} | {t.goal} | {t.measured} | {met} | {t.miss} |")
    return "\n".join(lines)


def markdown(results: list[Result], info: dict, command: str) -> str:
    parts = ["## symdiff benchmarks", "", f"`{command}`", "", machine_text(info), "",
             "Medians of repeated calls (time.perf_counter, gc off while timing); "
             "× hand-written = median / the hand-written median of the same case.", ""]
    for result in results:
        parts += [workload_table(result), ""]
    parts.append(targets_table(results))
    return "\n".join(parts) + "\n"


def to_json(results: list[Result], info: dict, command: str, quick: bool) -> dict:
    return {
        "command": command,
        "quick": quick,
        "machine": info,
        "peers": {name: _version(module) for name, module in PEERS.items()},
        "workloads": [{
            "workload": r.workload,
            "rows": [dataclasses.asdict(row) for row in r.rows],
            "metrics": [{"what": w, "value": v} for w, v in r.metrics],
            "targets": [dataclasses.asdict(t) for t in r.targets],
        } for r in results],
    }


def write_json(path: str, payload: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, default=_default)
        handle.write("\n")


def _default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def command_line() -> str:
    return "python -m benchmarks " + " ".join(sys.argv[1:])
