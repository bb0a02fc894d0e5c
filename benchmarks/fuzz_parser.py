"""Fuzz symdiff's frontend for a bounded time and report how many inputs were tried.

    python benchmarks/fuzz_parser.py --seconds 60          # atheris (coverage-guided) if installed
    python benchmarks/fuzz_parser.py --seconds 60 --random # a simple random mutator otherwise

The property: ``symdiff.compile(text)`` either succeeds or raises ``SymdiffError``, nothing else,
and no input runs code (a sentinel file is never created). Not part of CI's fast path.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

import symdiff

SEEDS = [
    "(x+y)*z", "1/(1+exp(-(w0*x0 + w1*x1 + w2)))", "max(0, x) + abs(y)",
    "def f(x, y):\n    q = x * y\n    for i in range(3):\n        q = q + sin(q)\n    return q\n",
    "def loss(X, W):\n    h = np.maximum(0, X @ W)\n    return np.sum(h, axis=1, keepdims=True)\n",
    "np.where(x > 0, np.sqrt(x), 0.0)", "__import__('os').system('touch SENTINEL')",
]
TOKENS = ["x", "y", "(", ")", "+", "-", "*", "/", "**", "@", ",", ".", "[", "]", ":", "=", "\n",
          "    ", "def", "return", "for", "in", "range", "lambda", "import", "np", "exp", "sum",
          "axis", "__class__", "1e309", "2", "0", "None", "True", "'s'", "ｘ", "\x00", "if",
          "else", ">", "<", "==", "not", "and", "yield", "*", "**"]


class Checker:
    def __init__(self, sentinel: str):
        self.sentinel = sentinel
        self.tried = 0
        self.compiled = 0

    def __call__(self, text: str) -> None:
        self.tried += 1
        text = text.replace("SENTINEL", self.sentinel)
        try:
            symdiff.compile(text)
            self.compiled += 1
        except symdiff.SymdiffError:
            pass
        if os.path.exists(self.sentinel):
            raise AssertionError(f"input ran code: {text!r}")


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.4:
            text = text[:pos] + rng.choice(TOKENS) + text[pos:]
        elif choice < 0.7:
            text = text[:pos] + text[pos + rng.randint(1, 3):]
        else:
            text = text[:pos] + chr(rng.randint(0, 0x2FF)) + text[pos:]
    return text


def run_random(checker: Checker, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        checker(mutate(rng, rng.choice(SEEDS)))


def run_atheris(checker: Checker, seconds: float) -> None:
    import atheris

    def one_input(data: bytes) -> None:
        checker(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096))

    corpus = tempfile.mkdtemp(prefix="symdiff-fuzz-")
    for i, seed in enumerate(SEEDS):
        with open(os.path.join(corpus, f"seed{i}"), "wb") as handle:
            handle.write(seed.encode())
    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", corpus], one_input)
    atheris.Fuzz()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--random", action="store_true", help="use the simple random mutator")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sentinel = os.path.join(tempfile.mkdtemp(), "SENTINEL")
    checker = Checker(sentinel)
    start = time.monotonic()
    try:
        use_atheris = not args.random
        if use_atheris:
            try:
                import atheris  # noqa: F401
            except ImportError:
                use_atheris = False
        if use_atheris:
            import atexit
            atexit.register(lambda: _report(checker, start, "atheris"))
            run_atheris(checker, args.seconds)
        else:
            run_random(checker, args.seconds, args.seed)
            _report(checker, start, "random mutator")
    except AssertionError as exc:
        print(f"FAILED after {checker.tried} inputs: {exc}")
        return 1
    return 0


def _report(checker: Checker, start: float, engine: str) -> None:
    elapsed = time.monotonic() - start
    print(f"fuzz ({engine}): {checker.tried} inputs in {elapsed:.1f} s, "
          f"{checker.compiled} compiled, 0 escapes")


if __name__ == "__main__":
    sys.exit(main())
