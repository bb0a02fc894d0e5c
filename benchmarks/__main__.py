"""``python -m benchmarks [--quick] [--only NAME,...] [--json out.json] [--threads N]``.

Progress goes to stderr; the markdown report (tables of medians, ratios to hand-written code and
the targets of issue #6) to stdout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

WORKLOADS = ("neuron", "mlp", "deep", "rosenbrock", "elementwise")


def limit_threads(threads: int) -> None:
    """Cap BLAS, OpenMP (torch) and XLA (JAX) thread pools; must run before any of them loads."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time symdiff against hand-written code and other differentiation systems.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer, shorter samples (and deep stops at K=1000): under a minute")
    parser.add_argument("--only", default="",
                        help=f"comma-separated workloads (of {', '.join(WORKLOADS)})")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--no-peers", action="store_true",
                        help="time symdiff and the hand-written code only, without importing "
                             "any peer (a lean process: see docs/performance.md on allocation)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="cap every library's thread pool at N (default: the libraries' own)")
    args = parser.parse_args(argv)

    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; "
                     f"choose from {', '.join(WORKLOADS)}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        limit_threads(args.threads)

    # NumPy and the peers load only now, after the thread caps are in the environment.
    from . import report
    from .harness import Settings

    settings = Settings(quick=args.quick, peers=not args.no_peers)
    command = " ".join(["python -m benchmarks"] + argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    info = report.machine()
    results = []
    start = time.perf_counter()
    for name in names:
        log(f"{name}:")
        t0 = time.perf_counter()
        module = importlib.import_module(f"{__package__}.{name}")
        results.append(module.run(settings, log))
        log(f"  ({time.perf_counter() - t0:.1f} s)")
    info["seconds"] = round(time.perf_counter() - start, 1)
    info["load_average_after"] = report.load_average()
    log(f"total {info['seconds']} s")

    print(report.markdown(results, info, command))
    if args.json:
        report.write_json(args.json, report.to_json(results, info, command, args.quick))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
