"""``process``: does a compile cost more in a process that holds more? (issue 15)

    python -m benchmarks.process [--quick] [--processes N]

The recurrence ``x = sin(x)*y + cos(x*y)`` on Python floats, K=1000 steps, compiled two ways:
written out as 1000 straight-line statements (no loop to roll: about 20,000 graph nodes) and as a
``for`` loop (rolled: the body is traced once). Each is timed as ``symdiff.compile`` plus the first
call (which writes the float twin), in fresh subprocesses: a lean one that imported only symdiff,
and one per installed peer (JAX, PyTorch, PyTensor) that first imported that peer and ran a
gradient with it, so its heap holds what such a process holds. Each subprocess compiles a small
program first, so one-time costs (the op registry's recipes, NumPy's imports) are not counted.
Printed: the median over the subprocesses of each state, side by side.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time

K = 1000
POINT = (0.3, 0.7)
PEERS = ("jax", "torch", "pytensor")


def straight_source(k: int, tag: str) -> str:
    return (f"def straight_{tag}(x, y):\n" + "    x = np.sin(x) * y + np.cos(x * y)\n" * k
            + "    return x\n")


def loop_source(k: int, tag: str) -> str:
    return (f"def loop_{tag}(x, y):\n    for i in range({k}):\n"
            "        x = np.sin(x) * y + np.cos(x * y)\n    return x\n")


# ------------------------------------------------------------------ in the subprocess
def run_peer(peer: str) -> None:
    """Import ``peer`` and run one gradient with it, as a process using it would have."""
    if peer == "jax":
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        grad = jax.jit(jax.grad(lambda x, y: jnp.sum(jnp.sin(x) * y + jnp.cos(x * y))))
        grad(jnp.ones(8), jnp.ones(8)).block_until_ready()
    elif peer == "torch":
        import torch
        x = torch.ones(8, dtype=torch.float64, requires_grad=True)
        torch.sum(torch.sin(x) * 0.7 + torch.cos(x * 0.7)).backward()
    elif peer == "pytensor":
        import pytensor
        import pytensor.tensor as pt
        x = pt.dvector("x")
        pytensor.function([x], pytensor.grad(pt.sum(pt.sin(x) * 0.7 + pt.cos(x * 0.7)), x))(
            [1.0] * 8)


def compile_and_first_call(text: str) -> float:
    import symdiff
    start = time.perf_counter()
    symdiff.compile(text)(*POINT)
    return time.perf_counter() - start


def child(peers: list[str]) -> dict:
    for peer in peers:
        run_peer(peer)
    compile_and_first_call("def warm_up(x, y):\n    return np.sin(x) * y\n")
    return {"straight": compile_and_first_call(straight_source(K, "0")),
            "loop": compile_and_first_call(loop_source(K, "0"))}


# ------------------------------------------------------------------ in the parent
def states() -> dict[str, list[str]]:
    """lean, each installed peer, and all of them together when more than one is installed."""
    installed = [p for p in PEERS if importlib.util.find_spec(p) is not None]
    found = {"lean": []} | {f"after {p}": [p] for p in installed}
    if len(installed) > 1:
        found["after " + " + ".join(installed)] = installed
    return found


def measure(peers: list[str]) -> dict:
    command = [sys.executable, "-m", "benchmarks.process", "--child", ",".join(peers)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(processes: int) -> list[str]:
    found = states()
    samples: dict[str, list[dict]] = {name: [] for name in found}
    for _ in range(processes):  # interleaved, so a burst of load hits every state alike
        for name, peers in found.items():
            samples[name].append(measure(peers))
    lines = [f"compile + first call, K={K}, median [fastest, slowest] of {processes} fresh processes",
             "process state | straight-line (1000 statements) | rolled for loop"]
    for name, runs in samples.items():
        lines.append(f"{name:<24} | {_spread([r['straight'] for r in runs], '.0f')} | "
                     f"{_spread([r['loop'] for r in runs], '.1f')}")
    return lines


def _spread(seconds: list[float], form: str) -> str:
    """The median and the range, in ms: a busy machine's bursts show as a wide range."""
    ms = sorted(t * 1e3 for t in seconds)
    return f"{statistics.median(ms):{form}} ms [{ms[0]:{form}}, {ms[-1]:{form}}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 processes per state")
    parser.add_argument("--processes", type=int, default=None, help="processes per state")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child([p for p in args.child.split(",") if p])))
        return 0
    for line in table(args.processes or (3 if args.quick else 7)):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
