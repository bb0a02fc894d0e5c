"""``backend="numba"``: the generated code compiled to machine code with numba's ``njit``.

The kernel is the generated function itself, rewritten where numba's subset of Python needs it:

* it returns ``(value, grad_1, grad_2, ...)``, a tuple, where the generated code returns
  ``(value, {"x": dx, ...})``: the wrapper builds the dict, outside the machine code;
* a float tape ``[0.0] * K`` (the math twin's) is ``np.empty(K)``, an array numba stores natively;
* ``with np.errstate(...)`` keeps only its body: compiled code never warns, and ``error_model=
  "numpy"`` gives IEEE results (inf, nan) where Python would raise ZeroDivisionError;
* sized code's ``N, D = _sizes(...)`` (checking the inputs' shapes, naming them in its errors) runs
  in Python before the kernel, which takes the sizes as extra parameters.

The rewritten module passes the same verifier as every generated module. numba compiles the
kernel on its first call for each signature of input types (cached in the process, not on disk).
Where numba cannot compile it (an op or a helper outside its subset), the NumPy function runs
instead, after one warning naming numba's reason; never a crash, never other numbers.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any, Callable

from ..errors import InputError
from ..specs import load_module
from .verify import GeneratedCodeError

INSTALL = 'backend="numba" needs numba, an optional extra: pip install "symdiff[numba]"'


def require() -> Any:
    """The numba module, or the InputError saying how to install it."""
    try:
        import numba
    except ImportError:
        raise InputError(INSTALL) from None
    return numba


def has_arrays(args: list) -> bool:
    """Whether a call has an array input: numba compiles the code specialized to its shapes
    (the shape-generic code sums gradients with a helper numba cannot compile)."""
    return any(getattr(a, "ndim", 0) for a in args)


def kernel(module_text: str, name: str, fallback: Callable, program: str) -> "Kernel":
    """A function with ``fallback``'s signature and results that runs ``name`` of
    ``module_text`` compiled with numba (rewritten on its first call, compiled by numba on the
    first call of each signature of input types)."""
    return Kernel(module_text, name, fallback, program)


class Kernel:
    """One generated function under numba, with the NumPy (or math) ``fallback`` it was written
    from: that runs instead once numba has refused the code."""

    def __init__(self, module_text: str, name: str, fallback: Callable, program: str):
        self.text, self.name, self.fallback, self.program = module_text, name, fallback, program
        self.jitted: Callable | None = None
        self.refused = False
        self.sizes: Callable | None = None
        self.keys: list[str] = []

    def __call__(self, *args: Any) -> tuple:
        jitted = self.jitted
        if jitted is None:
            if self.refused or not self._build():
                return self.fallback(*args)
            jitted = self.jitted
        sizes = self.sizes(*args) if self.sizes is not None else ()
        try:
            out = jitted(*args, *sizes)
        except self.errors as exc:  # numba refused the code (it compiles on a first call)
            self._refuse(_first_line(exc))
            return self.fallback(*args)
        except Exception:  # noqa: BLE001 -- the NumPy code gives its own result or error
            return self.fallback(*args)
        return out[0], dict(zip(self.keys, out[1:]))

    def _build(self) -> bool:
        """Rewrite the generated function and hand it to numba (which compiles on first call)."""
        numba = require()
        self.errors = (numba.core.errors.NumbaError,)
        try:
            text, self.keys, sized = _rewrite(self.text, self.name)
            namespace = load_module(text, self.name)
        except (_NotNative, GeneratedCodeError) as exc:
            self._refuse(str(exc))
            return False
        for helper in _called(namespace, self.name):
            # A helper the kernel calls must be compiled too (numba calls only jitted code).
            namespace[helper] = numba.njit(namespace[helper], cache=False, error_model="numpy")
        self.sizes = namespace[PROLOGUE] if sized else None
        self.jitted = numba.njit(namespace[self.name], cache=False, error_model="numpy")
        return True

    def _refuse(self, why: str) -> None:
        self.jitted, self.refused = None, True
        warnings.warn(f"{self.program}: backend='numba' runs the NumPy code instead: numba "
                      f"cannot compile it ({why})", RuntimeWarning, stacklevel=4)


# The Python function of a rewritten sized module that checks the inputs' shapes and returns
# the sizes (its name starts with '_' and has no double underscore: the verifier's rules).
PROLOGUE = "_native_sizes"


class _NotNative(Exception):
    """Generated code this module does not know how to hand to numba."""


def _rewrite(module_text: str, name: str) -> tuple[str, list[str], bool]:
    """The module with ``name`` rewritten for numba; the grads' keys in the order the kernel
    returns them; whether it takes sizes (then with ``PROLOGUE`` defined)."""
    tree = ast.parse(module_text)
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name),
                    None)
    if function is None:
        raise _NotNative(f"the generated module has no function {name}")
    keys = _tuple_return(function)
    prologue = _split_sizes(function)
    _Tapes().visit(function)
    function.body = _without_errstate(function.body)
    # Only this function changes: the helpers keep their text (the verifier compares it).
    lines = module_text.splitlines()
    lines[function.lineno - 1:function.end_lineno] = ast.unparse(function).splitlines()
    if prologue is not None:
        lines += ["", "", ast.unparse(prologue)]
    return "\n".join(lines) + "\n", keys, prologue is not None


def _tuple_return(function: ast.FunctionDef) -> list[str]:
    """``return value, {"x": dx}`` -> ``return (value, dx)``; the keys, in order."""
    last = function.body[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple)
            and len(last.value.elts) == 2 and isinstance(last.value.elts[1], ast.Dict)):
        raise _NotNative(f"{function.name} does not end returning (value, {{grads}})")
    grads = last.value.elts[1]
    keys = [k.value for k in grads.keys if isinstance(k, ast.Constant)]
    if len(keys) != len(grads.keys):
        raise _NotNative(f"{function.name} returns gradients under computed names")
    last.value.elts[1:] = grads.values
    return keys


def _split_sizes(function: ast.FunctionDef) -> ast.FunctionDef | None:
    """Move sized code's ``N, D = _sizes(...)`` (or ``N = _sizes(...)[0]``) into a Python
    function of the same parameters returning ``(N, D)``; the kernel takes the sizes as
    parameters after its own."""
    at = 1 if ast.get_docstring(function) is not None else 0
    first = function.body[at] if len(function.body) > at else None
    value = first.value if isinstance(first, ast.Assign) else None
    call = value.value if isinstance(value, ast.Subscript) else value  # N = _sizes(...)[0]
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "_sizes"):
        return None
    target = first.targets[0]
    names = [e.id for e in target.elts] if isinstance(target, ast.Tuple) else [target.id]
    del function.body[at]
    params = [a.arg for a in function.args.args]
    function.args.args += [ast.arg(arg=n) for n in names]
    prologue = ast.parse(f"def {PROLOGUE}({', '.join(params)}):\n    return ({', '.join(names)},)")
    prologue.body[0].body.insert(0, first)
    return prologue.body[0]


class _Tapes(ast.NodeTransformer):
    """``[0.0] * K`` (the math twin's float tape) -> ``np.empty(K)``; ``float(a < b)`` (a mask
    in the math twin) -> ``(1.0 if a < b else 0.0)``: numba has no float() of a bool."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("float", "_float") \
                and len(node.args) == 1 and isinstance(node.args[0], ast.Compare):
            return ast.IfExp(test=node.args[0], body=ast.Constant(1.0), orelse=ast.Constant(0.0))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult) and isinstance(node.left, ast.List) \
                and len(node.left.elts) == 1 and isinstance(node.left.elts[0], ast.Constant) \
                and type(node.left.elts[0].value) is float:
            empty = ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()), attr="empty",
                                  ctx=ast.Load())
            return ast.Call(func=empty, args=[node.right], keywords=[])
        return node


def _without_errstate(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements with each ``with np.errstate(...):`` replaced by its body (recursively)."""
    out = []
    for statement in body:
        if isinstance(statement, ast.With) and len(statement.items) == 1 \
                and ast.unparse(statement.items[0].context_expr).startswith("np.errstate("):
            out += _without_errstate(statement.body)
            continue
        for field in ("body", "orelse"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(statement, field, _without_errstate(inner))
        out.append(statement)
    return out


def _called(namespace: dict, name: str) -> list[str]:
    """The module's own functions that ``name`` calls, and those they call."""
    found, todo = [], [name]
    while todo:
        for read in namespace[todo.pop()].__code__.co_names:
            value = namespace.get(read)
            if read not in found and read != name and callable(value) \
                    and getattr(value, "__module__", None) == namespace["__name__"]:
                found.append(read)
                todo.append(read)
    return found


def _first_line(exc: BaseException) -> str:
    """numba's reason in one line: what it could not type, and the generated line (its messages
    run to dozens of lines, with terminal colours)."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()]
    lines = [line for line in lines if line and not line.startswith(("Failed in", ">>>"))]
    reason = lines[0] if lines else type(exc).__name__
    where = next((lines[k - 1] for k in range(1, len(lines)) if lines[k] == "^"), None)
    return (reason if where is None else f"{reason} at '{where}'")[:300]
