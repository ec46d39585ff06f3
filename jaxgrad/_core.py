"""The shared core: one derivative along one axis, and the dtype rules every function follows.

Runs inside ``jit`` on already-validated arguments: picks uniform or coordinate weights from the
spacing's rank, adds the opt-in runtime checks of traced spacing, and applies the stencil.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jaxgrad._halo import apply_along, layout_of, spatial_spec
from jaxgrad._weights import (
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


def _coordinate_dtype(x: Array, dtype: Any) -> Any:
    # Offsets are computed at least at the data's precision, and at the coordinates' if higher.
    x_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return jnp.promote_types(x_dtype, dtype)


def _check_coordinates(x: Array, period: Any, monotone: bool) -> None:
    steps = jnp.diff(x) if period is None else jnp.diff(jnp.append(x, x[0] + period))
    ok = jnp.all(steps > 0) | jnp.all(steps < 0) if monotone else jnp.all(steps != 0)
    checkify.debug_check(
        ok & jnp.all(jnp.isfinite(x)),
        "jaxgrad: coordinates must be finite and distinct" + (" and strictly monotone" if monotone else ""),
    )


def differentiate_axis(
    g: Array,
    spacing: Any,
    axis: int,
    *,
    order: int,
    half_width: int,
    edge_width: int,
    periodic: bool = False,
    period: Any = None,
    monotone: bool = False,
    check: bool = False,
) -> Array:
    """The ``order``-th derivative of ``g`` along ``axis``: central stencils of ``2 * half_width + 1``
    points inside and, unless periodic, one-sided windows of ``edge_width`` points at the edges."""
    dtype = real_dtype(g.dtype)
    p = half_width
    if jnp.ndim(spacing) == 0:
        if check:
            checkify.debug_check(jnp.isfinite(spacing) & (spacing != 0), "jaxgrad: spacing must be finite and nonzero")
        if periodic:
            stencil = periodic_uniform_stencil(order, spacing, p, dtype)
        else:
            stencil = uniform_stencil(order, spacing, tuple(range(-p, p + 1)), p, edge_width, p, edge_width, dtype)
    else:
        x = jnp.asarray(spacing)
        x = x.astype(_coordinate_dtype(x, dtype))
        if check:
            _check_coordinates(x, period if periodic else None, monotone or periodic)
        if periodic:
            stencil = periodic_coordinate_stencil(order, x, period, p, dtype)
        else:
            stencil = coordinate_stencil(order, x, tuple(range(-p, p + 1)), p, edge_width, p, edge_width, dtype)
    return apply_along(g, axis, stencil)


def derivative_along(
    g: Array, spacing: Any, axis: int, *, order: int, accuracy: int, periodic: bool, period: Any = None,
    check: bool = False,
) -> Array:
    """The scheme of :func:`jaxgrad.derivative` along one axis."""
    p = half_width(order, accuracy, jnp.ndim(spacing) == 0)
    return differentiate_axis(
        g, spacing, axis, order=order, half_width=p, edge_width=order + accuracy,
        periodic=periodic, period=period, monotone=True, check=check,
    )


def forward_difference(g: Array, spacing: Any, axis: int, *, order: int) -> Array:
    """The ``order``-th derivative from ``order + 1`` consecutive points starting at each point
    (first-order accurate), and zero at the last ``order`` points of the axis."""
    dtype = real_dtype(g.dtype)
    offsets = tuple(range(order + 1))
    if jnp.ndim(spacing) == 0:
        stencil = uniform_stencil(order, spacing, offsets, 0, 0, order, 0, dtype)
    else:
        x = jnp.asarray(spacing)
        stencil = coordinate_stencil(order, x.astype(_coordinate_dtype(x, dtype)), offsets, 0, 0, order, 0, dtype)
    return apply_along(g, axis, stencil)


def _explicit_sharding(x: Any) -> Any:
    """The NamedSharding of ``x`` if it is sharded over explicit mesh axes, else None."""
    if isinstance(x, np.ndarray):
        return None
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        sharding = x.sharding  # cheap: no abstract value built on the dispatch path
    else:
        try:
            sharding = getattr(jax.typeof(x), "sharding", None)
        except TypeError:
            return None
    mesh = getattr(sharding, "mesh", None)
    if mesh is None or not any(t == jax.sharding.AxisType.Explicit for t in mesh.axis_types):
        return None
    return sharding


def keep_sharding(core: Any, f: Any, *args: Any, spatial_ndim: int | None = None, **static: Any) -> Any:
    """Calls ``core(f, *args, **static)`` so that its outputs keep ``f``'s sharding.

    ``core`` is a :func:`jaxgrad._halo.sharded_jit` kernel: it gets the layout for the halo
    exchange along sharded axes as its static ``halo`` argument.

    Over automatic mesh axes (and on one device) XLA's partitioner does this by itself. Arrays
    sharded over explicit axes get no automatic partitioning of slices, so the core runs under
    ``jax.sharding.auto_axes`` and its outputs are laid out like ``f``: the trailing
    ``spatial_ndim`` dimensions of each output (all of ``f``'s by default; a vector field's
    leading component axis is not spatial) take ``f``'s partition spec of its spatial dimensions,
    other dimensions are replicated.
    """
    sharding = _explicit_sharding(f)
    static["halo"] = layout_of(f, sharding, spatial_ndim)
    if sharding is None:
        return core(f, *args, **static)
    spatial = spatial_spec(sharding, jnp.ndim(f), spatial_ndim)
    fn = lambda f, *args: core(f, *args, **static)

    def layout(out: Any) -> Any:
        own = spatial[len(spatial) - min(out.ndim, len(spatial)) :]
        own = (None,) * (out.ndim - len(own)) + own
        return jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec(*own))

    # Output shapes from an unsharded stand-in (tracing the sharded input outside auto_axes fails).
    plain = lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)) if hasattr(a, "shape") else a
    shapes = jax.eval_shape(lambda f, *args: core(f, *args, **{**static, "halo": None}), *jax.tree.map(plain, (f, *args)))
    out_sharding = jax.tree.map(layout, shapes)
    return jax.sharding.auto_axes(fn, out_sharding=out_sharding)(f, *args)


def to_working(f: Array) -> Array:
    return f.astype(working_dtype(f.dtype))


def to_output(result: Array, f_dtype: Any) -> Array:
    return result.astype(f_dtype)
