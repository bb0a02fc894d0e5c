"""The float dispatcher: a compiled program's ``__call__`` for Python floats, as one frame.

Once a shape-generic program has been called with floats, its class becomes a subclass of
``Compiled`` whose ``__call__`` is the math twin behind one ``type(a) is float`` check per input.
The inputs are the program's own parameters, so keywords bind as fast as positions (an input
given twice is Python's own TypeError, naming the program). Anything else (arrays, a missing or
extra input, ``dout``, a math domain error) goes to the general path, which reports the problem
or computes with NumPy.
"""

from __future__ import annotations

import builtins
from typing import Any

from .codegen.names import code_text
from .errors import InputError

TEMPLATE = """def {name}(_self, {defaults}, *_rest, dout=None, **_kwargs):
    try:
        if {all_floats} and dout is None and not _rest and not _kwargs:
{body}
    except _FALL_BACK:
        pass
    return _general(_self, ({params},), _rest, dout, _kwargs)
"""

# A body this long is called, not copied in: one more frame costs nothing beside it, and a
# second compile of a long body costs as much as the first (0.1 s for 8,000 lines).
INLINE_LINES = 200


def float_dispatcher(base: type, name: str, params: list[str], module: str,
                     namespace: dict) -> type:
    """The subclass of ``base`` whose ``__call__`` runs the math twin ``name + "_scalar"`` of
    ``namespace`` (a verified module of text ``module``) on Python floats.

    A short twin's body is copied in (one Python frame per call matters when a call is a few
    hundred nanoseconds); a long one is called. The parameter names are the program's, checked
    by the frontend, which also keeps them from starting with '_', so they cannot collide with
    the dispatcher's own names.
    """
    twin = namespace[name + "_scalar"]
    scalar_source = code_text(module, twin.__code__, INLINE_LINES + 2)
    lines = [] if scalar_source is None else scalar_source.splitlines()[1:]
    docstring = lines[0].strip() if lines else ""
    one_line = len(docstring) >= 6 and docstring[:3] == docstring[-3:] == '"""' \
        and '"""' not in docstring[3:-3]
    if one_line:
        lines = lines[1:]  # the docstring, one line; any other is not copied in (called instead)
    if scalar_source is None or len(lines) > INLINE_LINES or docstring.startswith('"""') \
            and not one_line:
        lines = [f"    return _twin({', '.join(params)})"]
    text = TEMPLATE.format(
        name=name, defaults=", ".join(f"{p}=_MISSING" for p in params), params=", ".join(params),
        all_floats=" and ".join(f"_type({p}) is _float" for p in params),
        body="\n".join("            " + line if line else "" for line in lines))
    scope = dict(namespace, _MISSING=_MISSING, _general=_call_general, _type=type, _float=float,
                 _twin=twin,
                 _FALL_BACK=(TypeError, ValueError, OverflowError, ZeroDivisionError))
    exec(builtins.compile(text, "<symdiff-dispatch>", "exec"), scope)  # noqa: S102
    return type(base.__name__, (base,), {"__call__": scope[name], "__module__": base.__module__})


_MISSING = object()  # an input the float dispatcher was not given


def _call_general(self, values: tuple, rest: tuple, dout: Any, kwargs: dict):
    """The float dispatcher's way out: the call as the user made it, to the general path (the
    inputs it bound by name are passed back by name, so errors read the same)."""
    given = {p: v for p, v in zip(self.params, values) if v is not _MISSING}
    if rest:
        raise InputError(f"{self.program.name}() takes {len(self.params)} inputs "
                         f"({', '.join(self.params)}), got {len(given) + len(rest)}")
    return super(type(self), self).__call__(dout=dout, **given, **kwargs)
