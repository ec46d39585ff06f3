"""Penalties for loss functions: total variation and smoothness (a discrete Sobolev seminorm).

Both use forward differences ``(f[i+1] - f[i]) / h_i`` (and their higher-order analogues over
``order + 1`` consecutive points), set to zero at the last points of each axis. Unlike central
differences, these see every oscillation of the grid, the checkerboard included, which is what a
regularizer must penalize.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxgrad._args import as_field, normalize_axes, normalize_int, normalize_spacing, reduce_uniform, shift_origin
from jaxgrad._core import forward_difference, keep_sharding, real_dtype, to_working
from jaxgrad._halo import sharded_jit

Array = jax.Array

REDUCTIONS = ("mean", "sum", "none")


def _prepare(f: Any, varargs: Any, axis: Any, order: int, reduction: str, what: str):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    f = as_field(f)
    axes = normalize_axes(axis, f.ndim)
    if not axes:
        raise ValueError(f"{what} needs at least one axis; f has shape {f.shape}")
    for a in axes:
        if f.shape[a] < order + 1:
            raise ValueError(f"f.shape[{a}] is {f.shape[a]}, too small for {what}: at least {order + 1} points are required")
    spacings = tuple(shift_origin(reduce_uniform(s, None)) for s in normalize_spacing(varargs, f.shape, axes))
    return f, axes, spacings


def _sqrt_safe(s: Array) -> Array:
    """sqrt with a zero (not NaN) derivative where its argument is zero: a flat region."""
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def _reduce(field: Array, reduction: str) -> Array:
    return field if reduction == "none" else jnp.sum(field) if reduction == "sum" else jnp.mean(field)


def _squares(f: Array, spacings: tuple, axes: tuple[int, ...], order: int) -> list[Array]:
    g = to_working(f)
    return [jnp.square(jnp.abs(forward_difference(g, s, a, order=order))) for s, a in zip(spacings, axes)]


@sharded_jit
def _total_variation(f, spacings, eps, axes, isotropic, reduction):
    squares = _squares(f, spacings, axes, 1)
    eps2 = jnp.square(jnp.asarray(eps, squares[0].dtype))
    field = _sqrt_safe(sum(squares) + eps2) if isotropic else sum(_sqrt_safe(s + eps2) for s in squares)
    return _reduce(field, reduction).astype(real_dtype(f.dtype))


@sharded_jit
def _smoothness(f, spacings, axes, order, reduction):
    return _reduce(sum(_squares(f, spacings, axes, order)), reduction).astype(real_dtype(f.dtype))


def total_variation(
    f: Any, *varargs: Any, axis: int | tuple[int, ...] | None = None, isotropic: bool = True,
    eps: float = 0.0, reduction: str = "mean",
) -> Array:
    """Total variation of sampled data: the mean (or sum) of the gradient's magnitude.

    Per point, with forward differences ``d_a = (f[i+1] - f[i]) / h`` along each axis ``a`` (zero
    at the last point of each axis): ``sqrt(sum_a |d_a|^2 + eps^2)`` when ``isotropic``, else
    ``sum_a sqrt(|d_a|^2 + eps^2)`` (``sum_a |d_a|`` for ``eps=0``). ``eps > 0`` gives the smooth
    (Charbonnier) variant. The gradient is finite everywhere: where the field is flat and
    ``eps=0``, the subgradient 0 is used, never NaN.

    Args:
      f: the samples (real or complex; complex uses ``|d_a|``).
      *varargs: the spacing, as in :func:`jaxgrad.gradient`.
      axis: the axes to include: ``None`` (all), an int or a tuple.
      isotropic: combine the axes inside the square root (True) or sum per-axis magnitudes.
      eps: smoothing, ``>= 0``.
      reduction: ``"mean"`` or ``"sum"`` over all points, or ``"none"`` for the per-point field.

    Returns:
      A scalar, or with ``reduction="none"`` an array of ``f``'s shape, in ``f``'s real dtype.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxgrad
      >>> step = jnp.array([0.0, 0.0, 1.0, 1.0])
      >>> float(jaxgrad.total_variation(step, reduction="sum"))
      1.0
      >>> jax.grad(jaxgrad.total_variation)(jnp.zeros((3, 3)))   # flat: finite, no NaN
      Array([[0., 0., 0.],
             [0., 0., 0.],
             [0., 0., 0.]], dtype=float32)
    """
    f, axes, spacings = _prepare(f, varargs, axis, 1, reduction, "total variation")
    if not isinstance(isotropic, (bool, jnp.bool_)):
        raise TypeError(f"isotropic must be True or False, got {isotropic!r}")
    if isinstance(eps, (str, bytes)) or jnp.ndim(eps) != 0 or (not isinstance(eps, jax.core.Tracer) and not float(eps) >= 0):
        raise ValueError(f"eps must be a real scalar >= 0, got {eps!r}")
    return keep_sharding(_total_variation, f, spacings, eps, axes=axes, isotropic=bool(isotropic), reduction=reduction)


def smoothness(
    f: Any, *varargs: Any, axis: int | tuple[int, ...] | None = None, order: int = 1, reduction: str = "mean"
) -> Array:
    """Smoothness penalty: the mean (or sum) of the squared ``order``-th derivative.

    Per point, ``sum_a |D_a^order f|^2``, where ``D_a^order`` is the finite difference of
    ``order + 1`` consecutive points along axis ``a`` (forward; zero at the last ``order`` points
    of the axis), with weights from the spacing or coordinates. For ``order=1`` this is the
    discrete Dirichlet energy, for ``order=2`` a thin-plate (curvature) penalty: discrete Sobolev
    seminorms.

    Args:
      f: the samples (real or complex).
      *varargs: the spacing, as in :func:`jaxgrad.gradient`.
      axis: the axes to include: ``None`` (all), an int or a tuple.
      order: the derivative's order, 1 or more.
      reduction: ``"mean"`` or ``"sum"`` over all points, or ``"none"`` for the per-point field.

    Returns:
      A scalar, or with ``reduction="none"`` an array of ``f``'s shape, in ``f``'s real dtype.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> line = 3 * jnp.arange(11.0) + 1
      >>> float(jaxgrad.smoothness(line, order=2))   # a line has no curvature
      0.0
      >>> float(jaxgrad.smoothness(line, reduction="sum"))   # 10 steps of slope 3
      90.0
    """
    order = normalize_int(order, "order", 1)
    f, axes, spacings = _prepare(f, varargs, axis, order, reduction, "smoothness")
    return keep_sharding(_smoothness, f, spacings, axes=axes, order=order, reduction=reduction)
