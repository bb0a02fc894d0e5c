"""The teaching views: the lecture's gate API, explanations, pictures.

``circuit`` is the gate-by-gate API (:class:`Circuit`, forward and backward node by node);
``explain`` prints the backward pass in words and numbers and closed forms as LaTeX; ``scene``,
``layout`` and ``pictures`` draw circuits (DOT, SVG, PNG). The views register themselves with the
circuit when imported here.
"""

from .circuit import Circuit, Gate, Graph, Local, as_circuit
from .explain import explain, latex_gradients
from .labels import format_number, gate_label
from .pictures import Rendered, render, to_svg
from .scene import GRAD_COLOR, VALUE_COLOR, to_dot

__all__ = ["Circuit", "GRAD_COLOR", "Gate", "Graph", "Local", "Rendered", "VALUE_COLOR",
           "as_circuit", "explain", "format_number", "gate_label", "latex_gradients", "render",
           "to_dot", "to_svg"]
