"""symdiff: a symbolic differentiation compiler for NumPy code.

    g = symdiff.compile("(x + y) * z")
    value, grads = g(-2.0, 5.0, -4.0)      # -12.0, {"x": -4.0, "y": -4.0, "z": 3.0}
    print(g.source)                        # the generated module: plain NumPy
"""

__version__ = "0.1.0"

from .compiler import Compiled, Gradients, compile, gradients  # noqa: E402,A004
from .higher import Hessian, HessianVectorProduct, Jacobian, hessian, hvp, jacobian  # noqa: E402
from .errors import InputError, ParseError, ShapeError, SourceError, SymdiffError  # noqa: E402
from .teach import Circuit, Gate, explain, latex_gradients  # noqa: E402
from .teach import render, to_dot  # noqa: E402

Graph = Circuit   # the lecture's forward()/backward() gate API: symdiff.Graph("(x+y)*z")

__all__ = [
    "compile", "gradients", "Compiled", "Gradients",
    "hvp", "hessian", "jacobian", "Hessian", "HessianVectorProduct", "Jacobian",
    "Graph", "Circuit", "Gate", "explain", "latex_gradients", "to_dot", "render",
    "SymdiffError", "ParseError", "ShapeError", "SourceError", "InputError", "__version__",
]
