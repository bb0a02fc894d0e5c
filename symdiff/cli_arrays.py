"""Arrays on the command line: ``--at`` values from files and random draws, array values printed
summarised, array programs' passes in matrix notation, and their gradient check.

    symdiff grad model.py:two --shapes X=200x3072,W1=3072x100,b1=100,W2=100x10,b2=10
    symdiff grad model.py:two --at data.npz --at W1=random,b1=random,W2=random,b2=random
    symdiff check model.py:two --shapes ... --at X=X.npy   # the rest drawn at random

A data file is read with ``np.load(..., allow_pickle=False)``: loading it never runs code.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .errors import SymdiffError

RANDOM = "random"
SUMMARY = dict(precision=6, threshold=24, edgeitems=3, max_line_width=100)


# ------------------------------------------------------------------------ reading --at
def read_point(items: Sequence[str] | None, params: list[str]) -> dict[str, Any]:
    """Every ``--at`` flag together: ``name=number``, ``name=file.npy``, ``name=file.npz``,
    ``name=random`` (drawn later, see :func:`draw`) or ``file.npz`` (its arrays, by name)."""
    point: dict[str, Any] = {}
    for item in (part.strip() for flag in items or () for part in flag.split(",")):
        if not item:
            continue
        if "=" not in item and item.endswith(".npz"):
            for name, value in _npz(item, None, params).items():
                _put(point, name, value, params)
            continue
        if "=" not in item:
            raise SymdiffError(f"--at expects name=value pairs separated by commas (a value may "
                               f"be a number, FILE.npy, FILE.npz or random), got {item!r}")
        name, value = (part.strip() for part in item.split("=", 1))
        _put(point, name, _value(name, value, params), params)
    return point


def _put(point: dict, name: str, value: Any, params: list[str]) -> None:
    if name in point:
        raise SymdiffError(f"--at gives {name} twice; give each input one value")
    if name not in params:
        raise SymdiffError(f"--at names {name!r}, which is not an input "
                           f"(inputs: {', '.join(params)})")
    point[name] = value


def _value(name: str, text: str, params: list[str]) -> Any:
    if text == RANDOM:
        return RANDOM
    if text.endswith(".npy"):
        return _load(text)
    if text.endswith(".npz"):
        return _npz(text, name, params)[name]
    try:
        return float(text)
    except ValueError:
        raise SymdiffError(f"--at: {text!r} is not a number, FILE.npy, FILE.npz or random "
                           f"(for {name})") from None


def _load(path: str) -> Any:
    if not os.path.isfile(path):
        raise SymdiffError(f"--at: no such file: {path}")
    try:
        return np.load(path, allow_pickle=False)  # a data file must never run code
    except (ValueError, OSError, EOFError) as exc:
        raise SymdiffError(f"--at: cannot read {path} as NumPy data ({exc}); object arrays "
                           "are refused, since loading them could run code") from None


def _npz(path: str, name: str | None, params: list[str]) -> dict[str, np.ndarray]:
    """The arrays of an .npz: all of them (each must be named after an input), or the one for
    ``name`` (its own key, or the file's only array)."""
    with _load(path) as data:
        keys = list(data.files)
        if name is not None:
            key = name if name in keys else keys[0] if len(keys) == 1 else None
            if key is None:
                raise SymdiffError(f"--at {name}={path}: the file holds {', '.join(keys)}, not "
                                   f"{name}")
            return {name: _array(data, key, path)}
        strangers = [k for k in keys if k not in params]
        if strangers:
            raise SymdiffError(f"--at {path}: {', '.join(strangers)} in the file "
                               f"{'is' if len(strangers) == 1 else 'are'} not an input "
                               f"(inputs: {', '.join(params)})")
        return {k: _array(data, k, path) for k in keys}


def _array(data, key: str, path: str) -> np.ndarray:
    try:
        return data[key]
    except ValueError as exc:  # an object array inside the archive
        raise SymdiffError(f"--at: cannot read {key} from {path} ({exc})") from None


def has_arrays(point: dict | None) -> bool:
    return any(isinstance(v, np.ndarray) and v.ndim or v is RANDOM for v in (point or {}).values())


def random_shapes(point: dict, shapes: dict | None, annotated: dict) -> None:
    """A value drawn at random needs its shape: checked before any work."""
    for name, value in point.items():
        if value is RANDOM and name not in (shapes or annotated):
            raise SymdiffError(f"--at {name}=random needs the shape of {name}: give it with "
                               f"--shapes {name}=SIZExSIZE")


def draw(point: dict, shapes: dict, seed: int, index_params=(), bounds: dict | None = None
         ) -> dict[str, Any]:
    """The point with its ``random`` values drawn (seeded): standard normal floats, and labels
    in range for an input that indexes (``y`` in ``scores[np.arange(N), y]``, with the size of
    the axis it indexes in ``bounds``)."""
    rng = np.random.default_rng(seed)
    drawn = {}
    for name, value in point.items():
        if value is not RANDOM:
            drawn[name] = value
        elif name in index_params:
            if name not in (bounds or {}):
                raise SymdiffError(f"--at {name}=random: {name} indexes an array; give its "
                                   f"values with --at {name}=FILE.npy")
            drawn[name] = rng.integers(0, bounds[name], shapes[name])
        else:
            drawn[name] = rng.standard_normal(shapes[name])
    return drawn


def index_bounds(compiled) -> dict[str, int]:
    """The size of the axis each index input selects along, in the compiled shapes."""
    from .codegen.emit import index_bound
    graph = compiled._last.graph if compiled._last is not None else None
    found = {name: index_bound(graph, name) for name in compiled.index_params
             if graph is not None and name in graph.inputs}
    return {name: bound for name, bound in found.items() if bound is not None}


# ------------------------------------------------------------------------ printing
def format_number(value: Any) -> str:
    """Integers print as integers; other values with 8 decimals (or 8 significant digits)."""
    array = np.asarray(value, dtype=float)
    if array.shape:
        return np.array2string(array, precision=8, separator=", ")
    v = float(array)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if 1e-3 <= abs(v) < 1e6:
        return f"{v:.8f}"
    return f"{v:.8g}"


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def describe(point: dict[str, Any], given: dict[str, Any]) -> str:
    """``at X = array [200×3072], W1 = random [3072×100], b = 0.5:``"""
    parts = []
    for name, value in point.items():
        array = np.asarray(value)
        if not array.ndim:
            parts.append(f"{name} = {format_value(value)}")
        else:
            kind = "random" if given.get(name) is RANDOM else "array"
            parts.append(f"{name} = {kind} [{shape_text(array.shape)}]")
    return "at " + ", ".join(parts) + ":"


def format_value(value: Any) -> str:
    """A number as the scalar CLI prints it; an array with NumPy's summarised printing."""
    array = np.asarray(value)
    if not array.ndim:
        return format_number(value)
    text = np.array2string(array, **SUMMARY)
    return f"[{shape_text(array.shape)}]\n{text}"


def print_values(name: str, value: Any, grads: dict[str, Any]) -> None:
    print(f"{name} = {format_value(value)}")
    for var, g in grads.items():
        print(f"d{name}/d{var} = {format_value(g)}")


def print_passes(compiled, latex: bool, command: str) -> None:
    """The forward and backward passes in matrix notation, then where the module is."""
    from .teach.matrix import LEGEND, passes
    forward, backward = passes(compiled, latex=latex)
    name = compiled.program.name
    print(f"forward ({name}):")
    print("\n".join("  " + line for line in forward))
    print(f"backward (d{name}/dv for each value v, from d{name}/d{name} = 1):")
    print("\n".join("  " + line for line in backward))
    if not latex:
        print("\n" + LEGEND)
    print(f"The module that computes this: {command}")


# ------------------------------------------------------------------------ checking
def check_arrays(compiled, point: dict[str, Any], seed: int, directions: int = 3) -> dict:
    """Relative error of each input's gradient against central differences along random
    directions (the check of JAX's ``check_grads``): exact for the projection, cheap for any size.
    """
    rng = np.random.default_rng(seed)
    _, grads = compiled(**point)
    errors = {}
    for name, grad in grads.items():
        x = np.asarray(point[name], dtype=float)
        worst = 0.0
        for _ in range(directions):
            v = rng.standard_normal(x.shape)
            h = 6e-6 * max(float(np.max(np.abs(x), initial=0.0)), 1e-3)
            up = _total(compiled, {**point, name: x + h * v})
            down = _total(compiled, {**point, name: x - h * v})
            numeric, analytic = (up - down) / (2 * h), float(np.sum(np.asarray(grad) * v))
            scale = max(abs(numeric), abs(analytic), 1e-8)
            worst = max(worst, abs(numeric - analytic) / scale)
        errors[name] = worst
    return errors


def _total(compiled, point: dict) -> float:
    """The sum of every output: what the compiled gradient is the gradient of."""
    value, _ = compiled(**point)
    values = value if isinstance(value, tuple) else (value,)
    return float(sum(np.sum(v) for v in values))
