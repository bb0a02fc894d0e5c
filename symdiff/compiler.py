"""The library's front door: ``symdiff.compile`` and the :class:`Compiled` function it returns.

A program is parsed once. Elementwise programs are traced once, shape-generic: their generated
function accepts floats and any arrays that broadcast. Programs that read shapes or use structural
ops (matmul, reductions, indexing) are specialized per input shape/dtype signature on first call and
cached, as a JIT would.
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import Any, Callable

import numpy as np

from .codegen import emit, native
from .collector import without_collector
from .dispatch import float_dispatcher
from .ad.adjoint import Backward, differentiate
from . import general
from .errors import InputError, SymdiffError
from .frontend.files import check_path, write_atomic
from .frontend.parse import Program, parse
from .ir.graph import Graph, Shape
from .frontend.trace import STATIC, NeedsShapes, NeedsStatic, static_kind, static_value, trace
from .specs import Cache, Specialization, load_module, load_verified  # noqa: F401 -- importable here
from .closed_forms import Gradients, gradients, second_derivatives  # noqa: F401 -- as above
from .arguments import _broadcastable, _check_generic_douts, check_graph_sizes
from .arguments import (  # noqa: F401 -- _coerce and friends were importable from here
    _check_broadcast, _check_douts, _check_labels, _check_wrt, _coerce, _coerce_foreign,
    _coerce_index, _dout_like, _has_large, _is_array_api, _is_duck_array, _kind, _match_inputs,
    _signature, bind_arguments)


# Shapes given ahead (shapes=) may have at most this many dimensions (NumPy's own limit is 32 or 64).
MAX_DIMENSIONS = 32

# Specializations kept per compiled program (one per input signature); the oldest goes first.
MAX_SPECIALIZATIONS = 64

# backend= of compile -> the spelling of the generated array code
BACKENDS = {"numpy": "numpy", "array_api": "xp", "numba": "numpy"}
# loops= of compile: how for loops become code (Compiled.loop_options)
LOOPS = ("vectorize", "roll", "unroll")


class Compiled:
    """A compiled program: call it for the value and the gradients.

    ``value, grads = g(*args, **kwargs)``; ``grads[name]`` has the shape of input ``name`` (a float
    for a float input). For an array output the gradients are those of the output's sum; pass
    ``dout=`` (an array shaped like the output) for the vector-Jacobian product with ``dout``.
    ``g.forward`` / ``g.backward`` are the layer API; ``g.source`` / ``g.write`` the module.
    """

    rolls_loops = True  # (a Hessian's trace does not: its loops vectorize or unroll)

    def __init__(self, program: Program, wrt: list[str] | None = None,
                 shapes: dict[str, tuple] | None = None, backend: str = "numpy",
                 loops: str = "vectorize"):
        if backend not in BACKENDS:
            raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if loops not in LOOPS:
            raise InputError(f"loops must be one of {', '.join(LOOPS)}, got {loops!r}"[:200])
        self.loops = loops
        self.spelling = BACKENDS[backend]
        self.native = backend == "numba" and native.require() is not None  # NumPy code, njit-ed
        if self.spelling == "xp" and "xp" in program.identifiers:
            # The array-API code names its namespace xp (xp = _namespace(...)).
            raise InputError("backend='array_api' names the array namespace 'xp' in the code it "
                             "writes: rename the program's 'xp'")
        self.program = program
        self.params = list(program.params)
        self.index_params = set(program.index_params)
        self.wrt = _check_wrt(wrt, [p for p in self.params if p not in self.index_params])
        self._cache: dict[tuple, Specialization] = {}
        self._last: Specialization | None = None
        self._last_forward: Specialization | None = None
        self._last_seeded: Specialization | None = None
        self._ahead: Specialization | None = None
        self._fast: Callable | None = None
        self._hot: tuple | None = None  # (shapes, specialization) of the last float64 arrays
        self._token = object()  # what a forward's cache carries: backward() checks it is ours
        self._general: dict[tuple, Specialization | bool] = {}  # ranks and dtypes -> sized code
        self._traces = [0]  # shared with clones, as the specializations are
        self.static_params: list[str] = []   # integer inputs used as sizes or counts
        try:
            self.generic = self._specialize(None, {p: "index" for p in self.index_params})
        except NeedsStatic as exc:
            self._learn_static(exc)
        if shapes is not None and not isinstance(shapes, dict):
            raise InputError(f"shapes= must be a dict of input name -> shape, got {shapes!r}"[:200])
        shapes = shapes or program.annotated_shapes()
        if shapes:
            # Shape-generic programs too: large arrays get code that reuses their memory.
            self._specialize_ahead(shapes)

    def clone(self) -> "Compiled":
        """A new handle on the same compiled code (specializations are shared; which one was
        used last, for .source and backward(), is not)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin._last_forward = twin._last_seeded = None
        twin._last = self._ahead
        return twin

    def _specialize_ahead(self, shapes: dict[str, tuple]) -> None:
        """Generate code for given shapes before any call (``shapes=`` or annotations)."""
        for key in shapes:
            if not isinstance(key, str):
                raise InputError(f"shapes= keys must be input names (strings), got {key!r}"[:200])
            if key not in self.params:
                raise InputError(f"shapes= names {key!r}, which is not an input (inputs: "
                                 f"{', '.join(self.params)})"[:300])
        missing = [p for p in self.params if p not in shapes]
        if missing:
            raise InputError(f"shapes= is missing {', '.join(missing)}")
        for name in self.params:
            shape = shapes[name]
            if not isinstance(shape, (tuple, list)) or not all(
                    isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                    and 0 <= n < 2 ** 40 for n in shape) or math.prod(shape) >= 2 ** 40:
                raise InputError(f"shapes[{name!r}] must be a tuple of sizes (non-negative "
                                 f"integers), got {shape!r}"[:200])
            if len(shape) > MAX_DIMENSIONS:
                raise InputError(f"shapes[{name!r}] has {len(shape)} dimensions; NumPy arrays "
                                 f"have at most {MAX_DIMENSIONS}")
        # Zero-stride stand-ins: the right shapes and dtypes, no memory.
        examples = [np.broadcast_to(np.zeros((), np.intp if p in self.index_params else float),
                                    tuple(int(n) for n in shapes[p])) for p in self.params]
        self._ahead = self.specialization(examples)

    # ---------------------------------------------------------------- building
    def loop_options(self) -> dict[str, bool]:
        """How tracing treats ``for`` loops (compile's ``loops=``): kept as array code where the
        steps only add up, kept rolled where they are alike, otherwise unrolled."""
        return {"roll": self.rolls_loops and self.loops != "unroll",
                "vectorize": self.loops == "vectorize"}

    @without_collector
    def _specialize(self, shapes: dict[str, Shape] | None, kinds: dict[str, str] | None,
                    seeded: bool = False, single: bool = False,
                    float64: bool = True) -> Specialization | None:
        try:
            graph = trace(self.program, shapes, kinds, **self.loop_options())
        except NeedsShapes:
            return None
        self._traces[0] += 1
        graph.single = single  # float32 arrays: buffer reuse must not mix in float64 values
        graph.python_steps = float64 and not self.native  # loops' steps on Python floats
        graph.program_inputs = frozenset(graph.inputs)
        check_graph_sizes(graph, 4 if single else 8)  # before any code runs or memory is asked
        backward, extra = self._derivatives(graph, seeded)
        docstring = self._describe(graph, seeded)
        spec = Specialization(graph, backward, None, None, None, shapes, kinds, extra, docstring,
                              emit.scalar_ok(graph, backward))
        # Float calls run the math twin: then the NumPy module waits for an array call or .source
        spec.defer(lambda: self._array_function(spec), now=shapes is not None or seeded
                   or not spec.scalar_ok or self.spelling != "numpy")
        if not seeded:
            self._last = spec
        else:
            self._last_seeded = spec
        return spec

    @without_collector
    def _array_function(self, spec: Specialization) -> tuple[str, Callable]:
        """The module of a traced and differentiated specialization, and its function."""
        source = emit.specialization_module(self.program, spec, self.wrt, self.spelling)
        return source, self._runner(source, load_module(source, self.program.name))

    def _runner(self, source: str, namespace: dict, suffix: str = "") -> Callable:
        """The generated function ``name + suffix`` of a module, under numba for that backend."""
        function = namespace[self.program.name + suffix]
        return native.kernel(source, self.program.name + suffix, function, self.program.name) \
            if self.native else function

    def _derivatives(self, graph: Graph, seeded: bool) -> tuple[Backward, list[str]]:
        """Differentiate a traced graph; also name the extra parameters this adds (``dout``)."""
        seeds, names = None, []
        if seeded:
            names = emit.seed_names(self.program, len(graph.outputs))
            seeds = [graph.input(n, graph.shape(o)) for n, o in zip(names, graph.outputs)]
        return differentiate(graph, graph.outputs, self.wrt, seeds), names

    def _describe(self, graph: Graph, seeded: bool) -> str:
        what = "the vector-Jacobian product with dout" if seeded else "the gradient of its sum"
        statics = [f"{name} = {static_value(graph[n].attrs[1])}" for name, n in graph.inputs.items()
                   if str(graph[n].attrs[1]).startswith(STATIC)]
        fixed = (f" Specialized to {', '.join(statics)} (sizes or loop counts): other values "
                 "need code generated for them.") if statics else ""
        return (f"Return (value, grads) for inputs {emit.shapes_text(self.program, graph)}; "
                f"grads maps each of {', '.join(self.wrt) or 'no input'} to {what}.{fixed}")

    def specialization(self, args: list, dout: Any = None) -> Specialization:
        """The specialization for these (coerced) arguments, traced on first use.

        A shape-generic program runs its generic code, except on large NumPy arrays: code
        specialized to their shapes can compute into dead temporaries (symdiff/inplace.py)."""
        seeded = dout is not None
        # Inputs that do not broadcast together may still never meet: their shapes decide.
        generic = self.generic is not None and (self.spelling == "xp" or not _has_large(args)) \
            and _broadcastable(args) and not (self.native and native.has_arrays(args))
        if generic and not seeded:
            return self.generic
        if generic:
            key: tuple = ("generic", True)
        else:
            key = (tuple(_signature(a) for a in args), seeded,
                   _signature(dout) if seeded else None)
        statics = self._static_values(args)
        key = key + (tuple(statics.items()),) if statics else key
        spec = self._cache.get(key)
        rank = None
        if spec is None and not generic and not seeded:  # a new signature: sized code may serve it
            rank = _rank(key)
            spec = self._general_for(rank, args)
        if spec is None:
            shapes = kinds = None
            if not generic:
                shapes = {p: tuple(int(d) for d in np.shape(a)) for p, a in zip(self.params, args)}
                kinds = {p: _kind(a) for p, a in zip(self.params, args)}
                kinds.update({p: static_kind(v) for p, v in statics.items()})
            single = any(getattr(a, "dtype", None) == np.float32 for a in args)
            float64 = all(_float64_or_not_float(a.dtype) for a in args if hasattr(a, "dtype"))
            try:
                spec = self._specialize(shapes, kinds, seeded, single, float64)
            except NeedsStatic as exc:
                # An integer input sets a size or a loop count (specialize on its value too),
                # or serves as an index array (kept integer): the caller coerces again.
                self._learn_static(exc)
                raise
            spec.rank = rank
            self._cache[key] = spec
            if len(self._cache) > MAX_SPECIALIZATIONS:
                self._cache.pop(next(iter(self._cache)))  # the oldest: a bound on memory
        if not seeded:
            self._last = spec
            if spec.sizes is not None:
                self._last_shapes = {p: tuple(np.shape(a)) for p, a in zip(self.params, args)}
        return spec

    def _general_for(self, rank: tuple, args: list) -> Specialization | None:
        """The sized code for calls of these ranks and dtypes, made from the first call's trace
        when a call of new sizes comes (None when the program's code depends on its sizes)."""
        if rank not in self._general:
            traced = next((s for s in self._cache.values() if s.rank == rank), None)
            if traced is None:
                return None
            self._install_general(traced)
        found = self._general[rank]
        if not isinstance(found, Specialization) or not general.fits(found, self.params, args):
            return None  # traced for its own sizes: a misfit gets the located shape error
        return found

    def _install_general(self, spec: Specialization) -> Specialization:
        """Generalize ``spec`` (once per rank signature); every call of its ranks then runs the
        sized code. Returns what runs for ``spec``'s calls now."""
        if spec.sizes is not None or spec.rank is None:
            return spec
        if spec.rank not in self._general:
            self._general[spec.rank] = general.general_specialization(self, spec) or False
            made = self._general[spec.rank]
            if made and self.native:
                made.function = self._runner(made.source, {self.program.name: made.function})
        found = self._general[spec.rank]
        if not isinstance(found, Specialization):
            if spec.full_source is None or "Sizes: specialized" not in spec.full_source:
                spec.full_source, spec.layer_api = general.checked_text(self, spec), None
            return spec
        for key, other in self._cache.items():
            if other.rank == spec.rank:
                self._cache[key] = found
        self._ahead = found if self._ahead is spec else self._ahead
        self._last = found if self._last is spec else self._last
        return found

    def _specialized(self, args: list, dout: Any = None) -> tuple[list, Specialization]:
        """The coerced arguments and their specialization. Tracing may find that an integer
        input sets a size or indexes: then the arguments are coerced again and traced again."""
        for _ in range(len(self.params) + 1):
            arrays = self._coerce(args)
            if self.generic is not None and _broadcastable(arrays):
                _check_broadcast(self.params, arrays)  # the size they broadcast to
            try:
                return arrays, self.specialization(arrays, _dout_like(dout, arrays))
            except NeedsStatic:
                continue
        raise SymdiffError(f"{self.program.name}: could not settle which inputs are integers")

    def _learn_static(self, exc: NeedsStatic) -> None:
        name = exc.name
        known = self.static_params if exc.kind == "static" else self.index_params
        if name in known:
            raise SymdiffError(f"internal: {name!r} is {exc.kind} but was traced as a value")
        if exc.kind == "static":
            self.static_params.append(name)
        else:
            self.index_params.add(name)
        self.generic = None
        if name in self.wrt:
            self.wrt = [w for w in self.wrt if w != name]  # sizes and indices have no gradient

    def _static_values(self, args: list) -> dict[str, int]:
        """The values of the integer inputs that set sizes or counts (checked integers)."""
        values = {}
        for p in self.static_params:
            value = args[self.params.index(p)]
            number = np.asarray(value)
            if number.shape != () or number.dtype.kind not in "iuf" or \
                    not float(number).is_integer():
                raise InputError(f"input {p!r} sets a size or a loop count, so it must be an "
                                 f"integer; got {value!r}"[:200])
            values[p] = int(number)
        return values

    @without_collector
    def _scalar_function(self, spec: Specialization) -> Callable | None:
        """The ``math`` twin of a shape-generic specialization, written when first needed."""
        if spec.scalar_function is None and spec.scalar_ok:
            text = emit.specialization_module(self.program, spec, self.wrt, "math")
            namespace = load_module(text, self.program.name)
            spec.scalar_function = self._runner(text, namespace, "_scalar")
            if spec is self.generic and self.native:
                self._fast = spec.scalar_function  # no dispatcher: its body is the math twin's
            elif spec is self.generic and type(self) is Compiled and self.params:
                self._fast = spec.scalar_function
                self.__class__ = float_dispatcher(Compiled, self.program.name, self.params, text,
                                                  namespace)
        return spec.scalar_function

    # Whether modules carry the forward/backward layer API (not for second-order functions).
    has_layers = True

    @without_collector
    def _module(self, spec: Specialization, check: bool = False) -> str:
        """The module handed out (``source``, ``write``): value and gradients plus the layer
        API; for a program specialized to shapes, written for any sizes where it can be."""
        if spec.rank is not None:
            if check:
                return general.sized(self, spec, True).text
            spec = self._install_general(spec)
        return self._plain_module(spec, check)

    def _plain_module(self, spec: Specialization, check: bool = False) -> str:
        """The module of a specialization as traced (what its layer API runs)."""
        if spec.full_source is None or check:
            text = general.module_text(self, spec, check)
            if check:
                return text
            spec.full_source = text
        return spec.full_source

    # ---------------------------------------------------------------- calling
    def __call__(self, /, *args: Any, dout: Any = None, **kwargs: Any):
        fast = self._fast
        if fast is not None and not kwargs and dout is None and len(args) == len(self.params):
            # The hot path for Python floats: straight into the math twin, no binding.
            for a in args:
                if type(a) is not float:
                    break
            else:
                try:
                    return fast(*args)
                except (ValueError, OverflowError, ZeroDivisionError):
                    pass
        hot = self._hot
        if hot is not None and not kwargs and dout is None and _float64_shapes(args) == hot[0]:
            # The hot path for float64 arrays of the shapes of the last call: no coercion, no
            # lookup (the shapes decided everything the slow path checks).
            self._last = spec = hot[1]
            value, grads = spec.function(*args)
            return (value[()] if value.__class__ is np.ndarray and value.ndim == 0 else value), grads
        positional = not kwargs and len(args) == len(self.params)
        args = self._bind(args, kwargs)
        spec = self.generic
        if spec is not None and spec.scalar_ok and dout is None \
                and all(type(a) is float or type(a) is int for a in args):
            try:
                return (spec.scalar_function or self._scalar_function(spec))(
                    *[float(a) for a in args])
            except (ValueError, OverflowError, ZeroDivisionError):
                pass  # a domain error in math: NumPy gives the IEEE answer (inf/nan) instead
        arrays, spec = self._specialized(args, dout)
        dout = _dout_like(dout, arrays)
        if self.index_params:
            _check_labels(self.params, arrays, spec if spec.sizes is None else
                          general.labels_view(spec, self.params, arrays))
        douts = [] if dout is None else list(dout) if isinstance(dout, tuple) else [dout]
        if douts:
            _check_douts(douts, spec.graph)
            if all(spec.graph.shape(o) is None for o in spec.graph.outputs):
                _check_generic_douts(douts, arrays)
        value, grads = spec.function(*arrays, *douts)
        if douts:
            _check_douts(douts, spec.graph, value)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        single = any(getattr(a, "dtype", None) == np.float32 for a in arrays)
        if positional and not douts and not self.index_params and not self.static_params:
            shapes = _float64_shapes(args)
            self._hot = None if shapes is None else (shapes, spec)
        return value, _match_inputs(grads, dict(zip(self.params, args)), single)

    def forward(self, /, *args: Any, **kwargs: Any):
        """The layer API's forward pass: ``out, cache = g.forward(...)``."""
        arrays, spec = self._specialized(self._bind(args, kwargs))
        self._last_forward = spec
        out, cache = self._layer_api(spec)["forward"](*arrays)
        return out, Cache(cache, spec, self._token, out)

    def backward(self, dout: Any, cache: dict) -> dict:
        """The layer API's backward pass: the gradients of the inputs given the upstream ``dout``
        (one array per output, as a tuple, for several outputs) and the forward's ``cache``."""
        spec = self._cache_specialization(cache)
        dout = _dout_like(dout, [], spec.graph.single)
        if dout is None:
            raise InputError("dout is None: pass the upstream gradient, shaped like the output")
        douts = list(dout) if isinstance(dout, tuple) else [dout]
        shapes = getattr(cache, "out_shapes", None)
        _check_douts(douts, spec.graph, None if spec.sizes is None or shapes is None else
                     tuple(np.broadcast_to(0.0, s) for s in shapes))
        if shapes is not None and len(shapes) == len(douts):  # shape-generic: the forward's
            _check_douts(douts, spec.graph, tuple(np.broadcast_to(0.0, s) for s in shapes))
        grads = self._layer_api(spec)["backward"](dout, cache)
        if spec.graph.single:  # np.zeros of a scatter and friends are float64: as __call__ does
            grads = {k: v.astype(np.float32) if getattr(v, "dtype", None) == np.float64 else v
                     for k, v in grads.items()}
        return grads

    def _cache_specialization(self, cache: Any) -> Specialization:
        """The specialization a forward's cache came from, checking that it is this program's
        cache and holds what the backward reads."""
        if isinstance(cache, Cache):
            if cache.owner is not self._token:
                raise InputError("this cache comes from another compiled program's forward(); "
                                 "pass the cache this program's forward() returned")
            spec, made = cache.specialization, cache.made
        elif isinstance(cache, dict):
            spec = self._last_forward
            if spec is None:
                raise SymdiffError("call forward() before backward()")
            made = None
        else:
            raise InputError(f"cache must be the dict forward() returned, got "
                             f"{type(cache).__name__}")
        if not cache and made != frozenset():  # a backward that reads nothing has an empty cache
            raise InputError("cache is empty: pass the cache forward() returned, unchanged")
        missing = sorted((made or set()) - cache.keys())
        if missing:
            raise InputError(f"cache is missing {', '.join(map(repr, missing[:5]))}: pass the "
                             "cache forward() returned, unchanged")
        return spec

    def _layer_api(self, spec: Specialization) -> dict:
        if spec.layer_api is None:
            namespace = load_module(self._plain_module(spec), self.program.name)
            name = self.program.name
            spec.layer_api = {"forward": namespace[f"{name}_forward"],
                              "backward": namespace[f"{name}_backward"]}
        return spec.layer_api

    def _coerce(self, args: list) -> list:
        """Integers become float64; float32 arrays stay float32 only if every float array is
        float32 (otherwise all become float64); index inputs stay integers."""
        if self.spelling == "xp" and any(_is_array_api(a) for a in args):
            return [_coerce_foreign(a, p in self.index_params) for a, p in zip(args, self.params)]
        arrays = [_coerce_index(a, p) if p in self.index_params else _coerce(a, p)
                  for a, p in zip(args, self.params)]
        kinds = {a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
        if kinds == {np.dtype(np.float32)}:
            # Single precision throughout: Python numbers follow the arrays.
            return [np.float32(a) if type(a) is np.float64 else a for a in arrays]
        if np.dtype(np.float32) in kinds:
            return [a.astype(np.float64) if getattr(a, "dtype", None) == np.float32 else a
                    for a in arrays]
        return arrays

    def _bind(self, args: tuple, kwargs: dict) -> list:
        bound = bind_arguments(self.program.name, self.params, args, kwargs)
        return [bound[p] for p in self.params]

    # ---------------------------------------------------------------- inspecting
    def _current(self) -> Specialization:
        ahead = self._ahead if self._ahead is not self.generic else None
        spec = (self.generic and ahead) or self.generic or self._last
        if spec is None and self._last_seeded is not None:
            seeded = self._last_seeded
            spec = self._last = self._specialize(seeded.shapes, seeded.kinds)
        if spec is None:
            raise SymdiffError(f"{self.program.name} depends on its input shapes: call it once "
                               "with example inputs (or compile with shapes=) first")
        return spec

    @property
    def source(self) -> str:
        """The generated module's text (of the latest specialization for array programs)."""
        return self._module(self._current())

    def module_source(self, check: bool = False) -> str:
        """The module text; with ``check=True`` it also carries ``check_gradients(seed=0)``."""
        return self._module(self._current(), check)

    def write(self, path: str | os.PathLike, check: bool = False) -> str:
        """Write the generated module to ``path`` (with ``check_gradients`` if ``check``).

        The module is generated first, then written to a temporary file beside ``path`` and
        renamed over it: when anything fails, an existing file is left as it was."""
        path = check_path(path, "write()'s path")
        return write_atomic(path, self.module_source(check))

    @property
    def traces(self) -> int:
        """How often the program was traced for a new input signature: once per rank and
        dtype signature for a program whose sizes can be symbols (symdiff/general.py)."""
        return self._traces[0]

    @property
    def graph(self) -> Graph:
        """The traced graph (forward and gradient nodes) of the current specialization."""
        spec = self._current()
        shapes = getattr(self, "_last_shapes", None)
        if spec.sizes is None or shapes is None or shapes == spec.shapes:
            return spec.graph
        if getattr(self, "_graph_at", (None,))[0] != shapes:  # the last call's sizes
            self._graph_at = (shapes, general.traced_at(self, spec, shapes).graph)
        return self._graph_at[1]

    # Set by symdiff.teach.pictures when imported (the pictures import the compiler, not the
    # other way round): in Jupyter a compiled function displays as its computational graph.
    draw_svg: Callable | None = None

    def _repr_svg_(self) -> str | None:
        return None if Compiled.draw_svg is None else Compiled.draw_svg(self)

    def __repr__(self) -> str:
        return (f"<symdiff.Compiled {self.program.name}({', '.join(self.params)}) "
                f"wrt {', '.join(self.wrt)}>")


# ==================================================================== helpers
@without_collector  # parsing too allocates an object per syntax node
def compile(fn_or_source, wrt=None, name: str | None = None,  # noqa: A001
            shapes: dict[str, tuple] | None = None, backend: str = "numpy",
            loops: str = "vectorize") -> Compiled:
    """Compile a formula, a ``def`` block or a Python function into a value-and-gradient function.

    Parameters
    ----------
    fn_or_source : str or callable
        ``"(x + y) * z"``, ``"def f(x, y):\\n    ..."`` or a Python function using NumPy.
    wrt : list of str or str, optional
        The inputs to differentiate with respect to (default: every input).
    name : str, optional
        Name of the generated function (default: the function's name, or ``f``).
    shapes : dict of str to tuple, optional
        Input shapes to generate code for ahead of the first call (array programs only; shape
        annotations such as ``W1: "100,3072"`` do the same).
    backend : {"numpy", "array_api", "numba"}, optional
        ``"array_api"`` writes the array code against the array API standard: the function
        takes its namespace from its inputs (via ``array_api_compat``), so it runs unchanged on
        NumPy, PyTorch, JAX, CuPy or Dask arrays. ``"numba"`` (``pip install "symdiff[numba]"``)
        compiles the generated NumPy code to machine code with numba, for scalar-heavy programs
        (loops over floats or over ``x[i]``); code numba cannot compile runs as NumPy, with a
        warning.
    loops : {"vectorize", "roll", "unroll"}, optional
        How ``for`` loops become code. ``"vectorize"`` (the default) turns a loop whose steps
        only add up (``s = s + f(x[i])``) into array code (``np.sum(f(x))``), and keeps other
        loops whose steps are alike as loops, with a backward loop over a tape; ``"roll"``
        keeps every such loop a loop; ``"unroll"`` writes each step out. Loops the chosen form
        does not fit are unrolled. The results agree to rounding (sums add in another order).

    Returns
    -------
    Compiled
        ``value, grads = g(*args, **kwargs)``.
    """
    text_key = None
    if isinstance(fn_or_source, str) and len(fn_or_source) < 100_000:
        # Same text, same options: no need to parse it again.
        text_key = ("text", fn_or_source, name, _options_key(wrt, shapes), backend, loops)
        if text_key in _COMPILED:
            return _COMPILED[text_key].clone()
    program = parse(fn_or_source, name)
    key = _cache_key(program, wrt, shapes) + (backend, loops)
    compiled = _COMPILED.get(key)
    if text_key is not None and compiled is not None:
        _COMPILED[text_key] = compiled
    if compiled is None:
        compiled = Compiled(program, wrt, shapes, backend, loops)
        _COMPILED[key] = compiled
        if text_key is not None:
            _COMPILED[text_key] = compiled
        while len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.pop(next(iter(_COMPILED)))
    return compiled.clone()


# Compiling the same program twice returns the same compiled function: parsing and checking the
# text is all the second call costs (a content-addressed cache, bounded, oldest dropped first).
_COMPILED: dict[tuple, Compiled] = {}
_CACHE_SIZE = 256


_FLOAT64 = np.dtype(np.float64)


def _float64_or_not_float(dtype: Any) -> bool:
    """Whether values of ``dtype`` are float64 or not floats at all (float16 and longdouble are
    not Python floats); another library's dtype (``torch.float64``) is read by its name."""
    kind = getattr(dtype, "kind", None)
    if not isinstance(kind, str):
        name = str(dtype).rsplit(".", 1)[-1]
        return name == "float64" or not name.startswith(("float", "complex", "bfloat", "half"))
    return dtype == np.float64 or kind not in "fc"


def _float64_shapes(args) -> tuple | None:
    """The shapes of arguments that are all float64 NumPy arrays (None otherwise): what the
    hot path of a call checks."""
    shapes = []
    for a in args:
        if a.__class__ is not np.ndarray or a.dtype is not _FLOAT64:
            return None
        shapes.append(a.shape)
    return tuple(shapes)


def _rank(key: tuple) -> tuple:
    """A call's signature with each shape replaced by its number of dimensions: the calls one
    sized module serves."""
    return (tuple((len(shape), dtype, kind) for shape, dtype, kind in key[0]),) + key[1:]


def _options_key(wrt, shapes) -> tuple:
    wrt_key = tuple(wrt.split(",")) if isinstance(wrt, str) else None if wrt is None \
        else tuple(wrt) if isinstance(wrt, (list, tuple)) else ("not a list", repr(wrt))
    shapes_key = None if shapes is None else repr(sorted(shapes.items(), key=repr)) \
        if isinstance(shapes, dict) else ("not a dict", repr(shapes))
    return wrt_key, shapes_key


def _cache_key(program: Program, wrt, shapes) -> tuple:
    digest = hashlib.sha256(program.source.encode()).hexdigest()
    return (digest, program.name, _options_key(wrt, shapes),
            tuple(sorted(program.constants.items())), program.origin and program.origin.key)


def compile_graph(graph: Graph, wrt: list[str] | None = None, name: str = "f"):
    """Generate and load code for a graph built by hand; returns ``(function, source)``.

    Used by tests that build graphs through the op table directly, and by higher-order drivers.
    """
    params = list(graph.inputs)
    program = Program("<graph>", "graph", name, params, None, set(params))
    wrt = params if wrt is None else wrt
    backward = differentiate(graph, graph.outputs, wrt)
    source = emit.module_text(program, [emit.value_and_grad(program, graph, backward, wrt, [],
                                                            "Value and gradients.")])
    return load_module(source, name)[name], source
