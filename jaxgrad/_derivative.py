"""``derivative`` (any order, any even accuracy, one-sided or periodic) and ``derivative_matrix``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxgrad._args import (
    as_field,
    normalize_accuracy,
    normalize_axes,
    normalize_boundaries,
    normalize_int,
    normalize_period,
    reduce_uniform,
    shift_origin,
    spacing_entry,
)
from jaxgrad._checks import checks_enabled
from jaxgrad._core import derivative_along, keep_sharding, min_points, to_output, to_working
from jaxgrad._dispatch import find_plan, remember_call
from jaxgrad._halo import sharded_jit

Array = jax.Array


def prepare_axis(
    f_shape: tuple[int, ...], spacing: Any, axis: int, orders: tuple[int, ...], accuracy: int, periodic: bool,
    period: Any, what: str,
) -> tuple[Any, Any]:
    """Checks one axis of a ``derivative``-style call that takes the given derivative orders along
    it; returns its spacing and period, normalized."""
    spacing = spacing_entry(spacing, f_shape[axis], axis, monotone=True)
    period = normalize_period(period, spacing, periodic, axis)
    spacing = shift_origin(reduce_uniform(spacing, period))
    if jnp.ndim(spacing) == 0:
        period = None
    needed, order = max((min_points(o, accuracy, jnp.ndim(spacing) == 0, periodic), o) for o in orders)
    if f_shape[axis] < needed:
        kind = "periodic" if periodic else "one-sided"
        grid = "uniform" if jnp.ndim(spacing) == 0 else "coordinate"
        raise ValueError(
            f"f.shape[{axis}] is {f_shape[axis]}, too small for {what} of order {order} with accuracy "
            f"{accuracy} ({kind}, {grid} grid): at least {needed} points are required"
        )
    return spacing, period


@sharded_jit
def _derivative(
    f: Array, spacing: Any, period: Any, axis: int, order: int, accuracy: int, periodic: bool, check: bool = False
) -> Array:
    g = to_working(f)
    out = derivative_along(g, spacing, axis, order=order, accuracy=accuracy, periodic=periodic, period=period, check=check)
    return to_output(out, f.dtype)


def derivative(
    f: Any,
    spacing: Any = 1.0,
    *,
    axis: int = -1,
    order: int = 1,
    accuracy: int = 2,
    boundary: str = "one-sided",
    period: Any = None,
) -> Array:
    """The ``order``-th derivative of sampled data along one axis, to any even order of accuracy.

    Central finite differences of ``accuracy`` order inside; at the edges, one-sided stencils of
    ``order + accuracy`` points that keep the same order of accuracy. On coordinate grids the
    weights are computed from the coordinates (Fornberg's algorithm), with enough points that the
    accuracy holds on arbitrary, not only smoothly stretched, grids; they are differentiable with
    respect to the coordinates.

    ``derivative(f, h, axis=a)`` (order 1, accuracy 2) equals
    ``gradient(f, h, axis=a, edge_order=2)``.

    Args:
      f: the samples, an array of any rank.
      spacing: a scalar step, or a 1-D coordinate array as long as ``f.shape[axis]``, strictly
        increasing or decreasing.
      axis: the axis to differentiate; negative values count from the end.
      order: the derivative's order, 1 or more.
      accuracy: the scheme's order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, or ``"periodic"`` (the sample after the last is the first).
      period: for a periodic axis given by coordinates, its period ``L``: the step from the last
        point to the first is ``x[0] + L - x[-1]``. Not used with a scalar step, where the period
        is ``n * h``.

    Returns:
      An array of ``f``'s shape and dtype (integer data give JAX's default float dtype).

    Raises:
      ValueError: too few points for the order and accuracy, an odd accuracy, an order below 1,
        a bad boundary, coordinates that repeat or are not monotone, a missing or misfit period.
      TypeError: arguments of the wrong type.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(0.0, 1.0, 11)
      >>> d2 = jaxgrad.derivative(x**3, 0.1, order=2)   # 6x, exact for a cubic
      >>> bool(jnp.allclose(d2, 6 * x, atol=1e-4))
      True
      >>> theta = jnp.linspace(0.0, 2 * jnp.pi, 64, endpoint=False)
      >>> d = jaxgrad.derivative(jnp.sin(theta), theta[1], accuracy=8, boundary="periodic")
      >>> float(jnp.max(jnp.abs(d - jnp.cos(theta)))) < 1e-5
      True
    """
    key, plan = find_plan("derivative", f, (spacing,), axis, order, accuracy, boundary, period)
    if plan is not None:
        return plan(f)
    given, f = f, as_field(f)
    axes = normalize_axes(axis, f.ndim)
    if len(axes) != 1:
        raise TypeError(f"derivative takes a single int axis, got {axis!r}")
    (axis,) = axes
    order = normalize_int(order, "order", 1)
    accuracy = normalize_accuracy(accuracy)
    (periodic,) = normalize_boundaries(boundary, 1)
    spacing, period = prepare_axis(f.shape, spacing, axis, (order,), accuracy, periodic, period, "a derivative")
    static = {"axis": axis, "order": order, "accuracy": accuracy, "periodic": periodic, "check": checks_enabled()}
    out = keep_sharding(_derivative, f, spacing, period, **static)
    if f is given:  # no conversion outside the kernel: the next such call can skip all of the above
        remember_call(key, _derivative.specialize(**static), spacing, period)
    return out


def derivative_matrix(
    n: int,
    spacing: Any = 1.0,
    *,
    order: int = 1,
    accuracy: int = 2,
    boundary: str = "one-sided",
    period: Any = None,
) -> Array:
    """The ``(n, n)`` matrix ``D`` with ``D @ f == derivative(f, spacing, order=..., ...)`` for 1-D ``f``.

    Useful for implicit time steps and boundary-value problems (``jnp.linalg.solve``), and to look
    at a scheme. It is built by applying :func:`derivative` to the identity, so the two agree to
    rounding by construction, and it is differentiable with respect to the coordinates.

    Args:
      n: the number of grid points.
      spacing: a scalar step or a 1-D coordinate array of length ``n``, as in :func:`derivative`.
      order: the derivative's order, as in :func:`derivative`.
      accuracy: the order of accuracy, as in :func:`derivative`.
      boundary: ``"one-sided"`` or ``"periodic"``, as in :func:`derivative`.
      period: the period of periodic coordinates, as in :func:`derivative`.

    Returns:
      A dense ``(n, n)`` array in JAX's default float dtype.

    Examples:
      >>> import jaxgrad
      >>> jaxgrad.derivative_matrix(4, order=1, accuracy=2)
      Array([[-1.5,  2. , -0.5,  0. ],
             [-0.5,  0. ,  0.5,  0. ],
             [ 0. , -0.5,  0. ,  0.5],
             [ 0. ,  0.5, -2. ,  1.5]], dtype=float32)
    """
    n = normalize_int(n, "n", 1)
    # Column j of D is the derivative of the j-th unit vector, i.e. D = derivative(I) along axis 0.
    return derivative(
        jnp.eye(n, dtype=jnp.result_type(float)), spacing, axis=0, order=order, accuracy=accuracy, boundary=boundary, period=period
    )
