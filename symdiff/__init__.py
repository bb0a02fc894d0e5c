"""symdiff: a symbolic differentiation compiler for NumPy code.

    g = symdiff.compile("(x + y) * z")
    value, grads = g(-2.0, 5.0, -4.0)      # -12.0, {"x": -4.0, "y": -4.0, "z": 3.0}
    print(g.source)                        # the generated module: plain NumPy
"""

__version__ = "0.1.0"

from .compiler import Compiled, Gradients, compile, gradients  # noqa: E402,A004
from .higher import Hessian, HessianVectorProduct, Jacobian, hessian, hvp, jacobian  # noqa: E402
from .errors import InputError, ParseError, ShapeError, SourceError, SymdiffError  # noqa: E402

__all__ = ["compile", "gradients", "hvp", "hessian", "jacobian", "Hessian",
           "HessianVectorProduct", "Jacobian", "Compiled", "Gradients", "SymdiffError", "ParseError", "ShapeError", "SourceError",
           "InputError", "__version__"]
