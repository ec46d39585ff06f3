"""The shared core: one derivative along one axis, and the dtype rules every function follows.

Runs inside ``jit`` on already-validated arguments: picks uniform or coordinate weights from the
spacing's rank, builds the stencil plan, and applies it (through the halo path when the axis is
split over devices).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgrad._apply import apply_sum
from jaxgrad._halo import Layout, apply_along
from jaxgrad._stencils import (
    Stencil,
    coordinate_stencil,
    edge_stencil,
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


def scheme_offsets(order: int, accuracy: int, uniform: bool, scheme: str) -> tuple[int, ...]:
    """The interior offsets of :func:`jaxgrad.derivative`'s scheme: central, or the
    ``order + accuracy`` points from each point forwards or backwards."""
    if scheme == "central":
        p = half_width(order, accuracy, uniform)
        return tuple(range(-p, p + 1))
    m = order + accuracy
    return tuple(range(m)) if scheme == "forward" else tuple(range(1 - m, 1))


def min_points(order: int, accuracy: int, uniform: bool, boundary: str, scheme: str = "central") -> int:
    """The shortest axis the scheme is defined on."""
    # Arithmetic, not scheme_offsets: absurd orders must reach the too-few-points error.
    p = half_width(order, accuracy, uniform)
    reach = 2 * p if scheme == "central" else order + accuracy - 1  # from the first offset to the last
    if boundary == "periodic":
        return reach + 1  # distinct samples under every stencil
    if boundary != "one-sided":
        return (p if scheme == "central" else reach) + 1  # ghost samples come from one reflection
    if scheme != "central":
        return order + accuracy
    return max(reach, order + accuracy)


def _coordinates(spacing: Any, dtype: Any) -> Array:
    # Offsets are computed at least at the data's precision, and at the coordinates' if higher.
    x = jnp.asarray(spacing)
    x_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return x.astype(jnp.promote_types(x_dtype, dtype))


def axis_stencil(
    spacing: Any, dtype: Any, n: int, *, order: int, offsets: tuple[int, ...], edge_width: int,
    boundary: str = "one-sided", period: Any = None, cval: Any = None,
) -> Stencil:
    """The plan of an ``order``-th derivative along an axis of ``n`` points: the stencil at
    ``offsets`` (symmetric: a central scheme) inside; at the edges, with ``boundary``:
    ``"one-sided"`` windows of ``edge_width`` points, wrapped indices (``"periodic"``), or the
    ghost samples of a padding mode. Weights in ``dtype``."""
    p = max(offsets)
    uniform = jnp.ndim(spacing) == 0
    x = spacing if uniform else _coordinates(spacing, dtype)
    if boundary == "periodic":
        if uniform:
            return periodic_uniform_stencil(order, x, dtype, offsets=offsets)
        return periodic_coordinate_stencil(order, x, period, dtype, offsets=offsets)
    if boundary != "one-sided":
        return edge_stencil(
            order, x, dtype, n, offsets=offsets, edge_offsets=offsets, left=max(0, -min(offsets)),
            right=max(0, max(offsets)), mode=boundary, cval=cval,
        )
    build = uniform_stencil if uniform else coordinate_stencil
    return build(order, x, dtype, offsets=offsets, left=p, left_width=edge_width, right=p, right_width=edge_width)


def switched_stencil(spacing: Any, dtype: Any, n: int, *, order: int, accuracy: int, scheme: str) -> Stencil:
    """A one-sided scheme on a one-sided axis: forward (backward) stencils of ``order + accuracy``
    points, and at the far end, where they would run past it, the backward (forward) stencil of
    each row."""
    m = order + accuracy
    forward, backward = tuple(range(m)), tuple(range(1 - m, 1))
    uniform = jnp.ndim(spacing) == 0
    x = spacing if uniform else _coordinates(spacing, dtype)

    # On an axis shorter than 2m - 1 some rows fit neither stencil: they take the m samples at
    # the far end (the last m for forward, the first m for backward).
    def near_end(i: int) -> tuple[int, ...]:
        return backward if i >= m - 1 else tuple(range(n - m - i, n - i))

    def near_start(i: int) -> tuple[int, ...]:
        return forward if i + m - 1 <= n - 1 else tuple(range(-i, m - i))

    if scheme == "forward":
        return edge_stencil(order, x, dtype, n, offsets=forward, edge_offsets=near_end, left=0, right=m - 1)
    return edge_stencil(order, x, dtype, n, offsets=backward, edge_offsets=near_start, left=m - 1, right=0)


def scheme_stencil(
    spacing: Any, dtype: Any, n: int, *, order: int, accuracy: int, boundary: str, period: Any = None,
    cval: Any = None, scheme: str = "central",
) -> Stencil:
    """The plan of :func:`jaxgrad.derivative`'s scheme: accuracy held at every point."""
    offsets = scheme_offsets(order, accuracy, jnp.ndim(spacing) == 0, scheme)
    if scheme != "central" and boundary == "one-sided":
        return switched_stencil(spacing, dtype, n, order=order, accuracy=accuracy, scheme=scheme)
    return axis_stencil(
        spacing, dtype, n, order=order, offsets=offsets, edge_width=order + accuracy, boundary=boundary, period=period,
        cval=cval,
    )


def derivative_along(
    g: Array, spacing: Any, axis: int, layout: Layout | None, *, order: int, accuracy: int, boundary: str,
    period: Any = None, cval: Any = None, scheme: str = "central",
) -> Array:
    """The scheme of :func:`jaxgrad.derivative` along one axis."""
    stencil = _plan(g, spacing, axis, order=order, accuracy=accuracy, boundary=boundary, period=period, cval=cval,
                    scheme=scheme)
    return apply_along(g, axis, stencil, layout)


def _plan(g: Array, spacing: Any, axis: int, **scheme: Any) -> Stencil:
    """:func:`scheme_stencil` for ``g``'s axis ``axis``, weights in ``g``'s real working dtype."""
    return scheme_stencil(spacing, real_dtype(g.dtype), g.shape[axis], **scheme)


def derivatives_summed(
    g: Array, spacings: Sequence[Any], axes: Sequence[int], layout: Layout | None, *, order: int, accuracy: int,
    boundaries: Sequence[str], periods: Sequence[Any], cvals: Sequence[Any],
) -> Array:
    """``sum_a`` of :func:`derivative_along` over ``axes``: on a one-device machine and every
    axis of a 2-D or 3-D array in one pass where the plans allow it (:func:`jaxgrad._apply.apply_sum`)."""
    plans = [_plan(g, h, a, order=order, accuracy=accuracy, boundary=b, period=p, cval=c)
             for h, a, b, p, c in zip(spacings, axes, boundaries, periods, cvals)]
    return applied_summed(g, plans, axes, layout)


def applied_summed(
    g: Array, plans: Sequence[Stencil], axes: Sequence[int], layout: Layout | None, *, cpu_only: bool = False
) -> Array:
    """``sum_a`` of ``plans[a]`` applied along ``axes[a]``: in one pass where
    :func:`jaxgrad._apply.apply_sum` allows it, on a one-device machine (``cpu_only``: on XLA:CPU
    only, for sums whose one pass was not measured elsewhere), axis by axis otherwise."""
    per_axis = lambda g: add_all(apply_along(g, a, plan, layout) for a, plan in zip(axes, plans))

    def one_pass(g: Array) -> Array:
        # One pass only where no array can be split over devices: the raveled view would lose a
        # traced array's sharding (whose layout is unknown here), and on one device the values
        # are the same either way.
        if layout is None and jax.device_count() == 1 and tuple(a % g.ndim for a in axes) == tuple(range(g.ndim)):
            out = apply_sum(g, plans)
            if out is not None:
                return out
        return per_axis(g)

    return lax.platform_dependent(g, cpu=one_pass, default=per_axis) if cpu_only else one_pass(g)


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
