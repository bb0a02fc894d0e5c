"""Draw the lecture's circuits with their forward values (green) and gradients (red).

    python examples/render_circuits.py               # writes into ./circuits
    python examples/render_circuits.py OUT_DIR       # or into OUT_DIR

For each circuit it writes NAME.dot, NAME.svg and, when Graphviz's ``dot`` is installed (or an SVG
converter such as ``rsvg-convert``), NAME.png, and prints the paths. Without Graphviz the SVG is
laid out in Python (with ``grandalf`` when it is installed: ``pip install "symdiff[graph]"``).

* ``circuit``: f = (x + y) * z at x = -2, y = 5, z = -4, the first example of backpropagation;
* ``neuron``: the sigmoid neuron 1/(1 + exp(-(w0*x0 + w1*x1 + w2))) at w0 = 2, x0 = -1, w1 = -3,
  x1 = -2, w2 = -3, as symdiff's graph holds it (one ``sigmoid`` gate, whose local gradient is
  (1 - s) * s);
* ``neuron_gates``: the same neuron in elementary gates (``*-1``, ``exp``, ``+1``, ``1/x``), as the
  lecture draws it first.
"""

import argparse
import sys
import warnings
from pathlib import Path

import symdiff
from symdiff.teach import Circuit, explain
from symdiff.teach import render

CIRCUIT = "(x + y) * z"
CIRCUIT_POINT = dict(x=-2.0, y=5.0, z=-4.0)
NEURON = "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))"
NEURON_POINT = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)


def main(argv=None, out_dir=None, log=print):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=out_dir or "circuits",
                        help="folder for the pictures (default: ./circuits)")
    parser.add_argument("--explain", action="store_true",
                        help="also print each backward pass step by step")
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    jobs = [
        ("circuit", CIRCUIT, CIRCUIT_POINT, False),
        ("neuron", NEURON, NEURON_POINT, False),
        ("neuron_gates", NEURON, NEURON_POINT, True),
    ]
    written = {}
    for name, source, point, elementary in jobs:
        circuit = Circuit(source, elementary=elementary)
        # The picture's numbers are the gate API's, which equal the generated code's.
        value, grads = symdiff.compile(source)(**point)
        assert abs(circuit.forward(**point) - value) < 1e-12
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = render(circuit, out / name, at=point)
        for w in caught:
            log(f"note: {w.message}")
        log(f"{name}: f = {value:.6g} ({result.engine} layout)")
        for path in result.paths():
            log(f"  {path}")
        if args.explain:
            log(explain(circuit, at=point))
        written[name] = result
    return written


if __name__ == "__main__":
    main(sys.argv[1:])
