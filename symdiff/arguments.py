"""Checking and converting the arguments of a compiled function: binding them to the program's
inputs, turning numbers into arrays of the right precision, and refusing, with an
:class:`~symdiff.errors.InputError`, anything a generated function could not take.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .codegen import emit, inplace
from .errors import InputError
from .ir.graph import Graph


def bind_arguments(name: str, params: list[str], args: tuple, kwargs: dict) -> dict[str, Any]:
    """Match a call's positional and keyword arguments to the program's inputs, by name."""
    if len(args) > len(params):
        raise InputError(f"{name}() takes {len(params)} inputs ({', '.join(params)}), "
                         f"got {len(args)}")
    bound = dict(zip(params, args))
    for key, value in kwargs.items():
        if key not in params:
            raise InputError(f"{name}() has no input {key!r}; its inputs are "
                             f"{', '.join(params)}")
        if key in bound:
            raise InputError(f"input {key!r} given twice")
        bound[key] = value
    missing = [p for p in params if p not in bound]
    if missing:
        raise InputError(f"missing input(s): {', '.join(missing)}")
    return bound


def _check_wrt(wrt, params: list[str]) -> list[str]:
    if wrt is None:
        return list(params)
    if isinstance(wrt, str):
        wrt = [w.strip() for w in wrt.split(",") if w.strip()]
    if not isinstance(wrt, (list, tuple)) or not all(isinstance(w, str) for w in wrt):
        raise InputError(f"wrt must be a list of input names, got {wrt!r}"[:200])
    wrt = list(wrt)
    for name in wrt:
        if name not in params:
            raise InputError(f"cannot differentiate with respect to {name!r}: it is not an "
                             f"input (inputs: {', '.join(params)})")
    if len(set(wrt)) != len(wrt):
        raise InputError("wrt names an input twice")
    return wrt


def _is_array_api(value: Any) -> bool:
    """A non-NumPy array of a library array_api_compat knows (PyTorch, JAX, CuPy...)."""
    if isinstance(value, np.ndarray) or not hasattr(value, "shape"):
        return False
    try:
        import array_api_compat
    except ImportError:
        return False
    return array_api_compat.is_array_api_obj(value)


def _coerce_foreign(value: Any, index: bool) -> Any:
    """Inputs of a call on another library's arrays (backend="array_api"): its arrays stay its
    own, integer and bool ones become float64 (unless used as an index); Python numbers stay
    Python numbers, which every library combines with its arrays."""
    if isinstance(value, (bool, int, float, np.number)) and not isinstance(value, np.ndarray):
        return value if index else float(value)
    if not _is_array_api(value):
        return value
    import array_api_compat
    xp = array_api_compat.array_namespace(value)
    if not index and not xp.isdtype(value.dtype, "real floating"):
        return xp.astype(value, xp.float64)
    return value


def _is_duck_array(value: Any) -> bool:
    """An array from another library that NumPy functions dispatch to (Dask, CuPy, ...)."""
    return not isinstance(value, np.ndarray) and hasattr(value, "__array_function__") \
        and hasattr(value, "shape") and hasattr(value, "dtype")


def _coerce(value: Any, name: str) -> Any:
    if isinstance(value, (np.timedelta64, np.datetime64)) or \
            getattr(getattr(value, "dtype", None), "kind", None) in ("m", "M"):
        raise InputError(f"input {name!r} holds times (dtype {np.asarray(value).dtype}); "
                         "expected real numbers")
    if _is_duck_array(value):
        # Left as it is: the generated NumPy calls dispatch to its library, which stays lazy.
        if value.dtype.kind in "iub":
            return value.astype(np.float64)
        return value
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.float32):
        return np.float64(value)  # NumPy's IEEE semantics (1/0 is inf), not Python's
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        try:
            return np.float64(float(value))
        except OverflowError:
            raise InputError(f"input {name!r} is too large for a float") from None
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and other objects NumPy cannot take
        raise InputError(f"input {name!r} is not a number or an array: {exc}") from None
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    raise InputError(f"input {name!r} has dtype {array.dtype}; expected real numbers")


def _check_broadcast(params: list[str], arrays: list) -> None:
    """Inputs of an elementwise program must broadcast together, to a size memory can hold."""
    shapes = [tuple(np.shape(a)) for a in arrays]
    try:
        full = np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(f"{p} {s}" for p, s in zip(params, shapes) if s)
        raise InputError(f"input shapes do not broadcast together: {listed}") from None
    listed = ", ".join(f"{p} {s}" for p, s in zip(params, shapes) if s)
    check_size(full, _itemsize(arrays), arrays, f"inputs {listed} broadcast to")


# The largest array a call may make beyond the size of its own inputs (results, temporaries):
# a small input must not ask for more memory than a machine has.
MAX_ARRAY_BYTES = 4 << 30


def check_size(shape: tuple, itemsize: int, arrays: list, what: str) -> None:
    """Refuse, before anything is allocated, an array of ``shape`` larger than MAX_ARRAY_BYTES
    and than the largest input."""
    size = 1
    for n in shape:
        size *= int(n)
    largest = max([int(getattr(a, "nbytes", 0) or 0) for a in arrays] + [0])
    if size * itemsize > max(MAX_ARRAY_BYTES, largest):
        raise InputError(f"{what} shape {tuple(int(n) for n in shape)}: {size:,} elements, "
                         f"{size * itemsize / 2 ** 30:.1f} GiB for each such array (the limit is "
                         f"{MAX_ARRAY_BYTES / 2 ** 30:g} GiB); use smaller inputs, or compute in "
                         "pieces")


def check_graph_sizes(graph: Graph, itemsize: int) -> None:
    """Refuse a traced program whose values (results, temporaries, gradients) are larger than
    MAX_ARRAY_BYTES and than its largest input: ``x @ y`` of a column and a row, say."""
    nodes = graph.nodes
    inputs = {name: nodes[i].shape for name, i in graph.inputs.items()}
    largest = max([math.prod(s) for s in inputs.values() if s is not None] + [0]) * itemsize
    limit = max(MAX_ARRAY_BYTES, largest)
    for node_id, node in enumerate(nodes):
        shape = node.shape
        if shape is not None and math.prod(shape) * itemsize > limit:
            listed = ", ".join(f"{p} {s}" for p, s in inputs.items() if s)
            line = graph.lines.get(node_id)
            where = f" (line {line})" if line else ""
            size = math.prod(shape)
            raise InputError(f"a value of shape {tuple(shape)}{where} would need {size:,} "
                             f"elements, {size * itemsize / 2 ** 30:.1f} GiB, for inputs {listed} "
                             f"(the limit is {MAX_ARRAY_BYTES / 2 ** 30:g} GiB beyond the "
                             "inputs' own size); use smaller inputs, or compute in pieces")


def _itemsize(arrays: list) -> int:
    return 4 if any(getattr(a, "dtype", None) == np.float32 for a in arrays) else 8


def _coerce_index(value: Any, name: str) -> np.ndarray:
    array = value if _is_duck_array(value) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise InputError(f"input {name!r} is used as an index, so it must hold integers "
                         f"(got dtype {array.dtype})")
    return array


def _check_labels(params: list[str], arrays: list, spec: Any) -> None:
    """Integer index inputs must select existing positions (NumPy would raise IndexError)."""
    graph = spec.graph
    if spec.index_bounds is None:
        spec.index_bounds = {name: emit.index_bound(graph, name) for name in params
                             if name in graph.inputs and graph[graph.inputs[name]].attrs[1] == "index"}
    for name, a in zip(params, arrays):
        if name not in spec.index_bounds or _is_duck_array(a) or not hasattr(a, "min") \
                or int(np.prod(np.shape(a))) == 0:
            continue
        bound = spec.index_bounds[name]
        if bound is None:
            continue  # an integer input that does not index (only compared, say)
        low, high = int(a.min()), int(a.max())
        if low < -bound or high >= bound:
            raise InputError(f"input {name!r} holds index {high if high >= bound else low}, "
                             f"outside the {bound} positions it selects from")


def _check_douts(douts: list, graph: Graph, value: Any = None) -> None:
    """One upstream gradient per output, each of its output's shape (known before the call for
    array programs, after it for shape-generic ones)."""
    outputs = graph.outputs
    if len(douts) != len(outputs):
        raise InputError(f"dout: the program has {len(outputs)} output(s), so it takes "
                         f"{len(outputs)} upstream gradient(s) (a tuple for several); "
                         f"got {len(douts)}")
    values = value if isinstance(value, tuple) else (value,)
    for k, (d, out) in enumerate(zip(douts, outputs)):
        shape = graph.shape(out) if value is None else tuple(np.shape(values[k]))
        if shape is not None and tuple(np.shape(d)) != tuple(shape):
            raise InputError(f"dout{'' if len(outputs) == 1 else f'[{k}]'} has shape "
                             f"{tuple(np.shape(d))}; the output has shape {tuple(shape)}")


def _check_generic_douts(douts: list, arrays: list) -> None:
    """Before a shape-generic call: each output is the inputs broadcast (or a part of that),
    so an upstream gradient that does not fit inside their broadcast shape cannot be right."""
    full = np.broadcast_shapes(*[np.shape(a) for a in arrays])
    for k, d in enumerate(douts):
        shape = tuple(np.shape(d))
        try:
            fits = np.broadcast_shapes(shape, full) == full
        except ValueError:
            fits = False
        if not fits:
            raise InputError(f"dout{'' if len(douts) == 1 else f'[{k}]'} has shape {shape}; "
                             f"the output has the shape the inputs broadcast to, {full}, or "
                             "a part of it")


def _signature(value: Any) -> tuple:
    if isinstance(value, tuple):
        return tuple(_signature(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype, np.ndarray)  # the common case, without conversions
    dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
    return (tuple(np.shape(value)), str(dtype), type(value).__name__)


def _dout_like(dout: Any, arrays: list, single: bool | None = None, part: str = "dout") -> Any:
    """An upstream gradient as real numbers in the computation's precision: float32 only when
    the inputs are. Numbers and lists become arrays; anything else is an InputError."""
    if single is None:
        single = any(getattr(a, "dtype", None) == np.float32 for a in arrays)
    if isinstance(dout, tuple):
        return tuple(_dout_like(d, arrays, single, f"dout[{k}]") for k, d in enumerate(dout))
    if dout is None:
        return None
    if _is_duck_array(dout) or _is_array_api(dout):
        return dout
    if isinstance(dout, (str, bytes, dict, set)):
        raise InputError(f"{part} must be a number or an array of real numbers, got "
                         f"{type(dout).__name__}")
    try:
        array = np.asarray(dout)
    except Exception as exc:
        raise InputError(f"{part} is not a number or an array: {exc}"[:300]) from None
    if array.dtype.kind not in "fiub":
        raise InputError(f"{part} has dtype {array.dtype}; expected real numbers")
    want = np.float32 if single else np.float64
    if array.dtype != want:
        array = array.astype(want)
    return array[()] if array.ndim == 0 else array


def _has_large(args: list) -> bool:
    return any(isinstance(a, np.ndarray) and a.size >= inplace.MIN_SIZE for a in args)


def _kind(value: Any) -> str:
    dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
    kind = getattr(dtype, "kind", None)
    if kind is None:  # a dtype of another library (torch.int64): read its name
        kind = "f" if "float" in str(dtype) else "i"
    return "index" if kind in "iub" else "float"


def _match_inputs(grads: dict, inputs: dict, single: bool = False) -> dict:
    """A float gradient for a float input; otherwise an array of the input's shape (float32
    when the computation ran in float32, ``single``)."""
    for name, grad in grads.items():
        given = inputs[name]
        if isinstance(given, (int, float)) and not _is_duck_array(grad):
            grads[name] = float(grad)
        elif single and getattr(grad, "dtype", None) == np.float64:
            grads[name] = grad.astype(np.float32)
    return grads


def _broadcastable(arrays: list) -> bool:
    try:
        np.broadcast_shapes(*[np.shape(a) for a in arrays])
    except ValueError:
        return False
    return True
