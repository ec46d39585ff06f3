"""jaxgrad: numpy.gradient for JAX, jit-compiled and differentiable, and what lies beyond it.

The public API is a flat re-export of the private modules:

* ``_gradient``: :func:`gradient`, numpy.gradient with ``edge_order`` and coordinates.
* ``_derivative``: :func:`derivative` of any order and accuracy, and :func:`derivative_matrix`.
* ``_operators``: :func:`laplacian`, :func:`divergence`, :func:`curl`, :func:`hessian`, :func:`jacobian`.
* ``_penalties``: :func:`total_variation`, :func:`smoothness`, penalties for loss functions.
* ``_weights``: :func:`stencil`, exact finite-difference weights.
* ``_checks``: :func:`runtime_checks`, opt-in checks of traced coordinates with checkify.
* ``_halo``: :func:`halo_exchange`, how arrays sharded along a differentiated axis are handled.
"""

from jaxgrad._checks import runtime_checks
from jaxgrad._derivative import derivative, derivative_matrix
from jaxgrad._gradient import gradient
from jaxgrad._halo import halo_exchange
from jaxgrad._operators import curl, divergence, hessian, jacobian, laplacian
from jaxgrad._penalties import smoothness, total_variation
from jaxgrad._weights import stencil

__all__ = [
    "curl",
    "derivative",
    "derivative_matrix",
    "divergence",
    "gradient",
    "halo_exchange",
    "hessian",
    "jacobian",
    "laplacian",
    "runtime_checks",
    "smoothness",
    "stencil",
    "total_variation",
]
__version__ = "0.1.0"
