"""The shared core: one derivative along one axis, and the dtype rules every function follows.

Runs inside ``jit`` on already-validated arguments: picks uniform or coordinate weights from the
spacing's rank, builds the stencil plan, and applies it (through the halo path when the axis is
split over devices).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgrad._halo import Layout, apply_along
from jaxgrad._stencils import (
    Stencil,
    coordinate_stencil,
    periodic_coordinate_stencil,
    periodic_uniform_stencil,
    uniform_stencil,
)

Array = jax.Array

_LOW_PRECISION = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def working_dtype(dtype: Any) -> np.dtype:
    """float16/bfloat16 compute in float32; every other float or complex dtype in itself."""
    dtype = jnp.dtype(dtype)
    return jnp.dtype(jnp.float32) if dtype in _LOW_PRECISION else dtype


def real_dtype(dtype: Any) -> np.dtype:
    return jnp.finfo(dtype).dtype


def half_width(order: int, accuracy: int, uniform: bool) -> int:
    """Points on each side of a central stencil of the given accuracy.

    On uniform grids symmetry gives even-order derivatives one extra order for free; on arbitrary
    coordinates it does not, so they get one more point on each side.
    """
    return (order - 1) // 2 + accuracy // 2 if uniform else (order + accuracy) // 2


def min_points(order: int, accuracy: int, uniform: bool, periodic: bool) -> int:
    p = half_width(order, accuracy, uniform)
    return 2 * p + 1 if periodic else max(2 * p, order + accuracy)


def _coordinates(spacing: Any, dtype: Any) -> Array:
    # Offsets are computed at least at the data's precision, and at the coordinates' if higher.
    x = jnp.asarray(spacing)
    x_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return x.astype(jnp.promote_types(x_dtype, dtype))


def axis_stencil(
    spacing: Any, dtype: Any, *, order: int, half_width: int, edge_width: int, periodic: bool = False,
    period: Any = None,
) -> Stencil:
    """The plan of an ``order``-th derivative along one axis: central stencils of
    ``2 * half_width + 1`` points inside and, unless periodic, one-sided windows of ``edge_width``
    points at the edges; weights in ``dtype``."""
    p = half_width
    if jnp.ndim(spacing) == 0:
        if periodic:
            return periodic_uniform_stencil(order, spacing, dtype, half_width=p)
        return uniform_stencil(
            order, spacing, dtype, offsets=tuple(range(-p, p + 1)), left=p, left_width=edge_width, right=p,
            right_width=edge_width,
        )
    x = _coordinates(spacing, dtype)
    if periodic:
        return periodic_coordinate_stencil(order, x, period, dtype, half_width=p)
    return coordinate_stencil(
        order, x, dtype, offsets=tuple(range(-p, p + 1)), left=p, left_width=edge_width, right=p,
        right_width=edge_width,
    )


def scheme_stencil(spacing: Any, dtype: Any, *, order: int, accuracy: int, periodic: bool, period: Any = None) -> Stencil:
    """The plan of :func:`jaxgrad.derivative`'s scheme: accuracy held at every point."""
    p = half_width(order, accuracy, jnp.ndim(spacing) == 0)
    return axis_stencil(spacing, dtype, order=order, half_width=p, edge_width=order + accuracy, periodic=periodic, period=period)


def derivative_along(
    g: Array, spacing: Any, axis: int, layout: Layout | None, *, order: int, accuracy: int, periodic: bool,
    period: Any = None,
) -> Array:
    """The scheme of :func:`jaxgrad.derivative` along one axis."""
    stencil = scheme_stencil(spacing, real_dtype(g.dtype), order=order, accuracy=accuracy, periodic=periodic, period=period)
    return apply_along(g, axis, stencil, layout)


def forward_stencil(spacing: Any, dtype: Any, *, order: int) -> Stencil:
    """The ``order``-th derivative from ``order + 1`` consecutive points starting at each point
    (first-order accurate), and zero at the last ``order`` points of the axis."""
    offsets = tuple(range(order + 1))
    if jnp.ndim(spacing) == 0:
        return uniform_stencil(order, spacing, dtype, offsets=offsets, right=order)
    return coordinate_stencil(order, _coordinates(spacing, dtype), dtype, offsets=offsets, right=order)


def add_all(terms: Iterable[Array]) -> Array:
    """The sum of one or more arrays (``sum`` would start from the integer 0)."""
    return functools.reduce(operator.add, terms)


def to_working(f: Array) -> Array:
    return f.astype(working_dtype(f.dtype))


def to_output(result: Array, f_dtype: Any) -> Array:
    return result.astype(f_dtype)
