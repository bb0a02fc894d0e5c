"""The ``symdiff`` command: a thin layer of argument parsing and printing over the library.

    symdiff grad "(x+y)*z" --at x=-2,y=5,z=-4
    symdiff compile model.py:loss --wrt W1,b1 -o loss_grad.py
    symdiff check "x*sin(y)" --at x=1,y=2
    symdiff graph "(x+y)*z" --at x=-2,y=5,z=-4 -o circuit.svg

A user mistake prints one message and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from typing import Any, Sequence

import numpy as np
import sympy

from . import __version__
from . import cli_arrays as arrays
from .cli_arrays import format_number, format_value
from .frontend import budget
from .check import check_gradients
from .compiler import Compiled, gradients, second_derivatives
from .higher import Hessian
from .errors import InputError, SymdiffError
from .frontend.files import check_path, same_file, write_atomic
from .frontend.parse import parse, parse_file_function
from .progress import working
from .teach import Circuit, explain, latex_gradients
from .codegen.verify import verify_template

FILE_SOURCE = re.compile(r"^(?P<path>[^:]+\.py)(?::(?P<name>[A-Za-z_]\w*))?$")
EXIT_USAGE = 2


def load_program(source: str):
    """SOURCE is a formula, a ``def`` block, or ``path.py:function`` (the file is parsed, not run)."""
    match = FILE_SOURCE.match(source.strip())
    if match:
        if not os.path.exists(match["path"]):
            raise SymdiffError(f"no such file: {match['path']}")
        return parse_file_function(match["path"], match["name"])
    return parse(source)


# ------------------------------------------------------------------------ commands
def parse_shapes(text: str | None) -> dict[str, tuple[int, ...]] | None:
    """``X=200x3072,b1=100,s=`` -> {"X": (200, 3072), "b1": (100,), "s": ()}."""
    if not text:
        return None
    shapes = {}
    for item in text.split(","):
        name, _, dims = item.partition("=")
        if name.strip() in shapes:
            raise SymdiffError(f"--shapes gives {name.strip()} twice; give each input one shape")
        try:
            shapes[name.strip()] = tuple(int(d) for d in dims.split("x") if d.strip())
            if any(d < 0 for d in shapes[name.strip()]):
                raise ValueError
        except ValueError:
            raise SymdiffError(f"--shapes: {item!r} is not NAME=SIZExSIZE...") from None
    return shapes


def _compile(args, program=None) -> Compiled:
    program = program or load_program(args.source)
    shapes = parse_shapes(getattr(args, "shapes", None))
    _check_shape_names(shapes, program.params)
    with _shapes_flag(), working(f"compiling {program.name}"):
        return Compiled(program, _wrt(args.wrt), shapes)


def _check_shape_names(shapes: dict | None, params: list[str]) -> None:
    for name in shapes or ():
        if name not in params:
            raise SymdiffError(f"--shapes names {name!r}, which is not an input "
                               f"(inputs: {', '.join(params)})")
    missing = [p for p in params if p not in (shapes or {})]
    if shapes and missing:
        raise SymdiffError(f"--shapes is missing {', '.join(missing)}: give every input a shape "
                           "(NAME= for a number)")


@contextlib.contextmanager
def _shapes_flag():
    """Errors about the shapes the library reads from ``shapes=`` name the flag they came from."""
    try:
        yield
    except InputError as exc:
        text = str(exc)
        if text.startswith("shapes= "):
            raise SymdiffError("--shapes " + text[len("shapes= "):]) from None
        if text.startswith("shapes["):  # shapes['x'] must be ... -> --shapes: the shape of x must be ...
            raise SymdiffError(re.sub(r"^shapes\['(.*?)'\]", r"--shapes: the shape of \1", text)) from None
        raise


def _point(args, params: list[str]) -> dict[str, Any] | None:
    """The point of --at (every flag), complete: checked before any work or printing."""
    if args.at is None:
        return None
    point = arrays.read_point(args.at, params)
    missing = [p for p in params if p not in point]
    if missing:
        raise SymdiffError(f"--at is missing a value for {', '.join(missing)}")
    return point


def _drawn(args, program, point: dict | None, compiled: Compiled) -> dict | None:
    """The point with its random values drawn (seeded by --seed)."""
    if point is None:
        return None
    shapes = parse_shapes(getattr(args, "shapes", None)) or program.annotated_shapes()
    return arrays.draw(point, shapes, args.seed, compiled.index_params, arrays.index_bounds(compiled))


def cmd_grad(args) -> int:
    program = load_program(args.source)
    # Printing costs far more per operation than compiling: refuse large programs first.
    budget.check_printing(program, budget.MAX_PRINTED, "symdiff grad prints programs of",
                          "write its gradient code with symdiff compile SOURCE -o FILE.py, or "
                          "compare it with finite differences with symdiff check SOURCE")
    if args.explain:
        budget.check_printing(program, budget.MAX_EXPLAINED, "--explain walks programs of",
                              "explain a smaller piece of it (fewer loop steps)")
    if args.explain and args.at is None:
        raise SymdiffError("--explain walks the backward pass at a point: give it with --at")
    given = _point(args, program.params)  # checked before any work, and before anything is printed
    arrays.random_shapes(given or {}, parse_shapes(args.shapes), program.annotated_shapes())
    compiled = _compile(args, program)
    point = _drawn(args, program, given, compiled)
    if compiled.generic is None:
        return _grad_arrays(args, compiled, point, given)
    program = compiled.program
    wrt = compiled.wrt
    name = program.name
    if args.latex:
        for line in latex_gradients(program, wrt, value=True):
            print(line)
        if args.order == 2:
            f = sympy.latex(sympy.Symbol(name))
            for (a, b), expr in second_derivatives(program, wrt).items():
                wrt_text = rf"\partial {a}^{{2}}" if a == b else rf"\partial {a} \partial {b}"
                print(rf"\frac{{\partial^{{2}} {f}}}{{{wrt_text}}} = {sympy.latex(expr)}")
    else:
        forms = gradients(program, wrt)
        for symbol, expr in forms.intermediates:
            print(f"{symbol} = {expr}")
        print(f"{name} = {forms.value}")
        for var, expr in forms.items():
            print(f"d{name}/d{var} = {expr}")
        if args.order == 2:
            for (a, b), expr in second_derivatives(program, wrt).items():
                print(f"{_second(name, a, b)} = {expr}")
    if point is not None:
        value, grads = compiled(**point)
        print()
        print(arrays.describe(point, given))
        arrays.print_values(name, value, grads)
        if args.order == 2:
            _, _, hess = Hessian(program, wrt)(**point)
            for i, a in enumerate(compiled.wrt):
                for b in compiled.wrt[i:]:
                    print(f"{_second(name, a, b)} = {format_value(hess[a][b])}")
        _explain(args, program, point, wrt)
    return 0


def _grad_arrays(args, compiled: Compiled, point: dict | None, given: dict | None) -> int:
    """An array program: its passes in matrix notation with each result's shape, then the values
    and gradients at --at (summarised), then --explain's walk with statistics per node."""
    if args.order == 2:
        raise SymdiffError("--order 2 prints the second derivatives of scalar programs; for an "
                           "array program use symdiff.hvp or symdiff.hessian from Python")
    if point is not None:
        value, grads = compiled(**point)  # specializes to the shapes of the point
    else:
        _require_shapes(compiled)
    shapes = f" --shapes {args.shapes}" if args.shapes else ""
    arrays.print_passes(compiled, args.latex, f"symdiff compile {args.source}{shapes}")
    if point is not None:
        print()
        print(arrays.describe(point, given))
        arrays.print_values(compiled.program.name, value, grads)
        _explain(args, compiled.program, point, compiled.wrt)
    return 0


def _explain(args, program, point: dict, wrt) -> None:
    if args.explain:
        shapes = {k: np.shape(v) for k, v in point.items()}
        circuit = Circuit(program, shapes=shapes if arrays.has_arrays(point) else None,
                          elementary=args.elementary)
        print()
        print(explain(circuit, at=point, wrt=wrt))


def cmd_graph(args) -> int:
    """The computational graph as DOT (standard output) or pictures (-o): values and gradients
    on the wires with --at."""
    from .teach import render, to_dot, to_svg

    program = load_program(args.source)
    budget.check_printing(program, budget.MAX_PRINTED, "symdiff graph draws programs of",
                          "draw a smaller piece of it (fewer loop steps)")
    shapes = parse_shapes(args.shapes)
    _check_shape_names(shapes, program.params)
    point = _point(args, program.params)
    if point is not None:
        arrays.random_shapes(point, shapes, program.annotated_shapes())
        point = arrays.draw(point, shapes or program.annotated_shapes(), 0, program.index_params)
    with _shapes_flag():
        circuit = Circuit(program, shapes=shapes, elementary=args.elementary)
    if point is None and circuit.graph is None:
        _require_shapes(None, program.name)
    wrt = _wrt(args.wrt)
    if wrt:
        for w in wrt:
            if w not in program.params:
                raise SymdiffError(f"--wrt names {w!r}, which is not an input "
                                   f"(inputs: {', '.join(program.params)})")
    if args.output:
        formats = ("dot", "svg", "png") if args.format is None else \
            ("dot",) if args.format == "dot" else ("dot", args.format)
        # A PNG asked for by name (-o c.png, --format png) is made or the command fails, before
        # anything is written; with -o PATH alone the PNG is made where it can be.
        png_asked = args.format == "png" or (args.format is None
                                             and args.output.lower().endswith(".png"))
        from .teach.pictures import PNG_NEEDS, png_possible
        if png_asked and not png_possible(args.engine):
            if args.engine not in ("auto", "graphviz") and png_possible("graphviz"):
                raise SymdiffError(f"PNG output with --engine {args.engine} needs rsvg-convert or "
                                   "cairosvg to convert the SVG; --engine graphviz writes it with "
                                   "Graphviz's dot; nothing was written")
            raise SymdiffError(PNG_NEEDS + "; nothing was written (-o PATH.svg writes the SVG "
                               "without them)")
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = render(circuit, args.output, at=point, wrt=wrt, formats=formats,
                            engine=args.engine)
        for w in caught:
            print(f"symdiff: note: {w.message}", file=sys.stderr)
        for path in result.paths():
            print(f"wrote {path}", file=sys.stderr)
        if png_asked and result.png is None:
            raise SymdiffError("no PNG was written: " + "; ".join(result.notes))
    elif args.format in (None, "dot"):
        sys.stdout.write(to_dot(circuit, at=point, wrt=wrt))
    elif args.format == "svg":
        sys.stdout.write(to_svg(circuit, at=point, wrt=wrt, engine=args.engine))
    else:
        raise SymdiffError("--format png needs a file: give it with -o")
    return 0


def _second(name: str, a: str, b: str) -> str:
    return f"d2{name}/d{a}2" if a == b else f"d2{name}/d{a}d{b}"


def _require_shapes(compiled: Compiled | None, name: str = "") -> None:
    """An array program needs its input shapes before anything can be printed."""
    if compiled is None or compiled._last is None:
        raise SymdiffError(f"{name or compiled.program.name} works on arrays whose shapes it "
                           "reads: give them with --shapes NAME=SIZExSIZE,... (or annotate the "
                           "parameters, as in W1: \"3072,100\")")


def cmd_compile(args) -> int:
    compiled = _compile(args)
    if compiled.generic is None:
        _require_shapes(compiled)
    if args.tests and not args.output:
        raise SymdiffError("--tests needs -o FILE.py (the test file is written beside it)")
    writes = []  # (path, text): everything is generated and checked before anything is written
    if args.output:
        output = check_path(args.output, "-o")
        _refuse_source(args, output, "-o")
        writes.append((output, compiled.module_source(check=args.check or args.tests)))
    else:
        sys.stdout.write(compiled.module_source(check=args.check))
        return 0
    if args.tests:
        folder, filename = os.path.split(os.path.abspath(output))
        test_path = os.path.join(folder, "test_" + filename)
        _refuse_source(args, test_path, "--tests")
        if os.path.lexists(test_path) and not args.force:
            raise SymdiffError(f"--tests would replace {test_path}, which exists; remove it, or "
                               "give --force to overwrite it")
        writes.append((test_path, generated_test_file(filename)))
    for path, text in writes:
        write_atomic(path, text)
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _refuse_source(args, target: str, option: str) -> None:
    """Never write over the file being compiled (path.py:f)."""
    match = FILE_SOURCE.match(args.source.strip())
    if match and same_file(match["path"], target):
        raise SymdiffError(f"{option} would overwrite {target}, the source being compiled; "
                           "write the generated code to another file")


TEST_TEMPLATE = '''"""Tests of the generated module beside this file (written by symdiff compile --tests)."""

import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).with_name({filename})
_SPEC = importlib.util.spec_from_file_location({module}, _PATH)
module = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(module)


def test_backward_matches_finite_differences():
    for seed in range(3):
        module.check_gradients(seed=seed)  # raises AssertionError where a gradient disagrees
'''


def generated_test_file(filename: str) -> str:
    """The pytest file for the module ``filename``: the file name enters it only as a string
    literal (``repr``), and the text is checked to be exactly the template with those literals."""
    stem = filename[:-3] if filename.endswith(".py") else filename
    module = "symdiff_generated_" + re.sub(r"[^A-Za-z0-9_]", "_", stem)
    text = TEST_TEMPLATE.format(filename=repr(filename), module=repr(module))
    verify_template(text, TEST_TEMPLATE, ("filename", "module"))
    return text


def cmd_check(args) -> int:
    program = load_program(args.source)
    given = arrays.read_point(args.at, program.params)  # a bad --at is reported before any work
    shapes = parse_shapes(args.shapes) or program.annotated_shapes()
    compiled = _compile(args, program)
    program = compiled.program
    if compiled.generic is None or arrays.has_arrays(given):
        return _check_arrays(args, compiled, given, shapes)
    rng = np.random.default_rng(args.seed)
    point = dict(given)
    for p in program.params:
        point.setdefault(p, float(rng.uniform(0.5, 2.0) * rng.choice([-1, 1])))
    result = check_gradients(compiled, point)
    print("at " + ", ".join(f"{k} = {format_number(v)}" for k, v in point.items()) + ":")
    for name, err in result.errors.items():
        print(f"  d/d{name}: symdiff {format_number(result.analytic[name])}, "
              f"finite differences {format_number(result.numeric[name])}, "
              f"relative error {err:.2e}")
    return _verdict(result.max_error, args.tol)


def _check_arrays(args, compiled: Compiled, given: dict, shapes: dict) -> int:
    """An array program: inputs not given are drawn at random (their shapes from --shapes), and
    each gradient is compared with central differences along random directions."""
    missing = [p for p in compiled.params if p not in given and p not in shapes]
    if missing:
        raise SymdiffError(f"symdiff check draws the inputs --at does not give, and needs their "
                           f"shapes: give --shapes for {', '.join(missing)}")
    wanted = {**{p: arrays.RANDOM for p in compiled.params}, **given}
    point = arrays.draw(wanted, shapes, args.seed, compiled.index_params,
                        arrays.index_bounds(compiled))
    errors = arrays.check_arrays(compiled, point, args.seed)
    print(arrays.describe(point, wanted))
    for name, err in errors.items():
        print(f"  d/d{name}: relative error {err:.2e} (3 random directions, central differences)")
    return _verdict(max(errors.values(), default=0.0), args.tol)


def _verdict(error: float, tol: float) -> int:
    ok = error <= tol
    print(f"largest relative error {error:.2e} ({'ok' if ok else 'FAILED'}: tolerance {tol:g})")
    return 0 if ok else 1


def _wrt(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [w.strip() for w in text.split(",") if w.strip()]


# ------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symdiff", description="Symbolic differentiation compiler: formulas and NumPy "
        "functions in, plain NumPy gradient code out.")
    parser.add_argument("--version", action="version", version=f"symdiff {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("source", help="a formula such as '(x+y)*z', a 'def' block, or "
                       "path.py:function")
        p.add_argument("--wrt", help="comma-separated inputs to differentiate (default: all)")
        p.add_argument("--shapes", help="input shapes for array programs, e.g. "
                       "X=200x3072,W1=3072x100,b1=100,y=200")
        p.set_defaults(func=func)
        return p

    grad = command("grad", "print the value and gradients in closed form", cmd_grad)
    grad.add_argument("--at", action="append", help="evaluate at a point, e.g. x=-2,y=5,z=-4 "
                      "(or --at x=-2 --at y=5 ...); a value may be FILE.npy, FILE.npz or random, "
                      "and --at FILE.npz gives the inputs the file names")
    grad.add_argument("--order", type=int, choices=(1, 2), default=1,
                      help="2: also print the second derivatives (the Hessian)")
    grad.add_argument("--explain", action="store_true", help="walk the backward pass at --at "
                      "gate by gate: upstream gradient, local gradient, what each gate sends")
    grad.add_argument("--latex", action="store_true", help="print the closed forms as LaTeX: "
                      "\\frac{\\partial f}{\\partial x} = ...")
    grad.add_argument("--elementary", action="store_true", help="with --explain: fused gates "
                      "(sigmoid, softplus) in elementary gates, as graph --elementary draws them")
    grad.add_argument("--seed", type=int, default=0, help="random seed for --at NAME=random")
    graph = command("graph", "draw the computational graph (DOT on standard output, or "
                    "pictures with -o)", cmd_graph)
    graph.add_argument("--at", action="append", help="show forward values and gradients on the wires at a "
                       "point, e.g. x=-2,y=5,z=-4")
    graph.add_argument("-o", "--output", help="write PATH.dot, PATH.svg and PATH.png (the PNG "
                       "needs Graphviz, rsvg-convert or cairosvg; -o PATH.png fails without them)")
    graph.add_argument("--format", choices=("dot", "svg", "png"),
                       help="what to print or write (default: DOT on standard output; all with -o)")
    graph.add_argument("--engine", choices=("auto", "graphviz", "python", "grandalf", "layered"),
                       default="auto", help="SVG layout: Graphviz's dot when installed (auto), "
                       "or pure Python")
    graph.add_argument("--elementary", action="store_true", help="draw fused gates (sigmoid, "
                       "softplus) in elementary gates (*-1, exp, +1, 1/x), as the lecture does")
    comp = command("compile", "write the generated NumPy module", cmd_compile)
    comp.add_argument("-o", "--output", help="file to write (default: standard output)")
    comp.add_argument("--check", action="store_true", help="add check_gradients(seed=0) to "
                      "the module: it tests its own backward against finite differences")
    comp.add_argument("--tests", action="store_true", help="also write test_FILE.py, a pytest "
                      "file for the module (implies --check)")
    comp.add_argument("--force", action="store_true", help="let --tests replace an existing "
                      "test_FILE.py")
    check = command("check", "compare gradients with central finite differences", cmd_check)
    check.add_argument("--at", action="append", help="the point (default: random); flags add up: "
                       "--at x=1 --at y=2; values may be FILE.npy, FILE.npz or random, as for grad")
    check.add_argument("--tol", type=float, default=1e-5, help="relative tolerance (1e-5)")
    check.add_argument("--seed", type=int, default=0, help="random seed for the point")
    ops = sub.add_parser("ops", help="list the functions programs may call, with their "
                         "derivatives", description="list the functions programs may call "
                         "(from the op registry), with their derivatives and conventions")
    ops.add_argument("--markdown", action="store_true", help="as the Markdown of docs/ops.md")
    ops.set_defaults(func=cmd_ops)
    return parser


def cmd_ops(args: argparse.Namespace) -> int:
    """Print the functions a program may call, from the op registry."""
    from .optable import markdown, text_table
    print(markdown() if args.markdown else text_table())
    return 0


_FLOAT_NOTES = (  # NumPy's floating-point warnings from generated code, as one line each
    ("divide by zero", "a division by zero at this point: the values it reaches print as inf"),
    ("invalid value", "an operation is undefined at this point (0/0, sqrt or log of a negative "
                      "number...): the values it reaches print as nan"),
    ("overflow", "a value overflows float64 at this point and prints as inf"),
    ("underflow", "a value underflows float64 at this point and prints as 0"),
)


@contextlib.contextmanager
def _float_notes():
    """NumPy's RuntimeWarnings (``divide by zero encountered in scalar divide`` from generated
    code) become one note each on standard error, after the output, instead of raw warnings."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            sys.stdout.flush()
            notes: list[str] = []
            for w in caught:
                text = str(w.message)
                note = next((n for key, n in _FLOAT_NOTES if issubclass(w.category, RuntimeWarning)
                             and text.startswith(key)), None)
                if note is None:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                elif note not in notes:
                    notes.append(note)
            for note in notes:
                print(f"symdiff: note: {note}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _float_notes():
            return args.func(args)
    except SymdiffError as exc:
        print(f"symdiff: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("symdiff: error: the program is nested too deeply", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # -o into a folder that does not exist, or onto a folder
        print(f"symdiff: error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
