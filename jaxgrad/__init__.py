"""jaxgrad: numpy.gradient for JAX, jit-compiled and differentiable, and what lies beyond it.

The public API is a flat re-export of the private modules, in layers (see the Architecture page):

* ``_weights``: pure maths, Fornberg's recursion and exact weights (imports nothing from here).
* ``_stencils``: stencil plans (which points, which weights) and :func:`stencil`.
* ``_apply`` and ``_halo``: applying a plan along one axis, on one device or across shards.
* ``_core``: one derivative along one axis; dtype rules.
* ``_args`` and ``_launch``: validation, and the one launch path every public function takes.
* ``_gradient``, ``_derivative``, ``_operators``, ``_penalties``, ``_checks``: the public functions.
* ``_curvilinear`` (curvilinear coordinates, reached through gradient and the operators) and
  ``_sphere`` (latitude/longitude grids): geometry.
"""

from typing import Any

from jaxgrad._checks import check_spacing
from jaxgrad._curvilinear import check_grid
from jaxgrad._derivative import derivative, derivative_matrix
from jaxgrad._gradient import gradient
from jaxgrad._operators import curl, divergence, hessian, jacobian, laplacian
from jaxgrad._penalties import smoothness, total_variation
from jaxgrad._sphere import spherical_curl, spherical_divergence, spherical_gradient, spherical_laplacian
from jaxgrad._stencils import stencil

__all__ = [
    "check_grid",
    "check_spacing",
    "curl",
    "derivative",
    "derivative_matrix",
    "divergence",
    "gradient",
    "hessian",
    "jacobian",
    "laplacian",
    "smoothness",
    "spherical_curl",
    "spherical_divergence",
    "spherical_gradient",
    "spherical_laplacian",
    "stencil",
    "total_variation",
]
__version__ = "0.2.0"

_REMOVED = {
    "runtime_checks": "pass traced spacing through jaxgrad.check_spacing(x) instead",
    "halo_exchange": "pass halo=False or halo=<NamedSharding> to the function instead",
}


def __getattr__(name: str) -> Any:
    # Removed in 0.2.0: both were context managers read while tracing, which silently did nothing
    # around a function that was already traced.
    if name in _REMOVED:
        raise AttributeError(f"jaxgrad.{name} was removed in 0.2.0: {_REMOVED[name]} (see CHANGELOG.md)")
    raise AttributeError(f"module 'jaxgrad' has no attribute {name!r}")
