"""``gradient``: numpy.gradient, in JAX."""

from __future__ import annotations

from typing import Any, Literal

import jax
from jax.typing import ArrayLike

from jaxgrad._args import as_field, normalize_axes, normalize_int, normalize_spacing, reduce_uniform, shift_origin
from jaxgrad._core import axis_stencil, real_dtype, to_output, to_working
from jaxgrad._curvilinear import is_curvilinear, plan_gradient
from jaxgrad._dates import DatetimeUnit, convert_dates
from jaxgrad._halo import Halo, Layout, apply_along
from jaxgrad._launch import Plan, kernel, launch

Array = jax.Array


@kernel
def _gradient(
    f: Array, spacings: tuple[Any, ...], *, axes: tuple[int, ...], edge_order: int, layout: Layout | None
) -> Array | tuple[Array, ...]:
    g = to_working(f)
    out = tuple(
        to_output(apply_along(g, a, axis_stencil(s, real_dtype(g.dtype), order=1, half_width=1, edge_width=edge_order + 1), layout), f.dtype)
        for s, a in zip(spacings, axes)
    )
    return out[0] if len(axes) == 1 else out


def _plan(f: Any, *varargs: Any, axis: Any, edge_order: Any, datetime_unit: Any = None) -> Plan:
    if is_curvilinear(varargs):  # one full-shape coordinate array per axis (_curvilinear.py)
        return plan_gradient(f, varargs, axis=axis, edge_order=edge_order, datetime_unit=datetime_unit)
    varargs, _ = convert_dates(varargs, datetime_unit)  # dates: float offsets, on the host
    f = as_field(f)
    axes = normalize_axes(axis, f.ndim)
    edge_order = normalize_int(edge_order, "edge_order", 1)
    if edge_order > 2:
        raise ValueError(f"edge_order must be 1 or 2, got {edge_order}")
    for a in axes:
        if f.shape[a] < edge_order + 1:
            raise ValueError(
                f"f.shape[{a}] is {f.shape[a]}, too small for a gradient: at least edge_order + 1 = "
                f"{edge_order + 1} points are required"
            )
    spacings = tuple(shift_origin(reduce_uniform(s, None)) for s in normalize_spacing(varargs, f.shape, axes))
    return Plan(_gradient, f, (spacings,), {"axes": axes, "edge_order": edge_order})


def gradient(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, edge_order: Literal[1, 2] = 1,
    datetime_unit: DatetimeUnit | None = None, halo: Halo = True,
) -> Array | tuple[Array, ...]:
    """JAX implementation of :func:`numpy.gradient`, with ``edge_order``.

    The derivative of sampled data along each requested axis: second-order central differences at
    interior points and first- or second-order one-sided differences at the two edges. On
    non-uniform coordinates the interior uses numpy's three-point formula for uneven steps (still
    second-order accurate), and ``edge_order=2`` its three-point one-sided formulas.

    Differences from :func:`numpy.gradient`:

    * jit-compiled, and differentiable with respect to ``f``, scalar steps and coordinate arrays;
      traced coordinates never cause recompilation.
    * float16 and bfloat16 are computed in float32 and returned in their own dtype; integer and
      bool data give JAX's default float dtype.
    * a zero step, repeated or non-finite concrete coordinates, and ``edge_order`` other than 1 or 2
      raise ``ValueError`` (numpy returns inf/NaN, or treats ``edge_order=0`` as 2). Traced
      coordinates are checked only on request: see :func:`jaxgrad.check_spacing`.
    * complex or bool coordinates raise ``TypeError``.

    Differences from :func:`jax.numpy.gradient`: ``edge_order=2`` exists, and the result of several
    axes is a tuple, as in numpy.

    Args:
      f: an N-dimensional array of samples (float, complex, integer or bool).
      *varargs: the spacing, as in numpy: nothing (unit steps), one scalar step for every axis, or
        one entry per differentiated axis, each a scalar step or a 1-D coordinate array as long as
        that axis. Coordinates may be numpy ``datetime64`` or ``timedelta64`` arrays (strictly
        monotone, no NaT) and steps ``timedelta64`` scalars: see ``datetime_unit``.
        Or, for a 2-D or 3-D ``f`` and ``axis=None``, one coordinate array of ``f``'s full shape
        per axis (curvilinear coordinates: the result is the gradient with respect to them; see
        the page "Curvilinear and spherical grids").
      axis: ``None`` (every axis), an int or a tuple of ints; negative values count from the end.
      edge_order: 1 or 2, the accuracy order of the one-sided differences at the edges.
      datetime_unit: the time unit of date coordinates and ``timedelta64`` steps, which are
        converted on the host, in float64, to offsets from their first sample in this unit: any
        fixed numpy unit from ``"W"`` (weeks) to ``"as"``; ``None`` means seconds. The result is
        then a rate per this unit. Only for date spacing: given without any, it is a ``ValueError``.
      halo: how an array sharded along a differentiated axis is handled: ``True`` exchanges
        halos between neighbouring devices where ``f``'s sharding is visible, a ``NamedSharding``
        gives ``f``'s sharding where it is not (traced inside a ``jit`` over automatic mesh
        axes), ``False`` leaves it to XLA's partitioner. See the multi-device guide.

    Returns:
      One array of ``f``'s shape if one axis is differentiated, else a tuple of them, in axis order.

    Raises:
      TypeError: a wrong number of spacing arguments, or spacing of a wrong type.
      ValueError: a coordinate array of the wrong length or rank, fewer than ``edge_order + 1``
        points along an axis, repeated coordinates, or an unsupported ``edge_order``; date
        coordinates with NaT or not strictly monotone; a ``datetime_unit`` of no fixed length
        (``"Y"``, ``"M"``), unknown, or given without date spacing.
      numpy.exceptions.AxisError: an axis out of range.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> f = jnp.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
      >>> jaxgrad.gradient(f)
      Array([1. , 1.5, 2.5, 3.5, 4.5, 5. ], dtype=float32)
      >>> jaxgrad.gradient(f, 2.0)
      Array([0.5 , 0.75, 1.25, 1.75, 2.25, 2.5 ], dtype=float32)
      >>> jaxgrad.gradient(f, edge_order=2)
      Array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], dtype=float32)
      >>> x = jnp.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])
      >>> [round(float(v), 4) for v in jaxgrad.gradient(f, x)]
      [1.0, 3.0, 3.5, 6.7, 6.9, 2.5]
      >>> dy, dx = jaxgrad.gradient(jnp.array([[1.0, 2.0, 6.0], [3.0, 4.0, 5.0]]))
      >>> dy
      Array([[ 2.,  2., -1.],
             [ 2.,  2., -1.]], dtype=float32)
      >>> import numpy as np
      >>> days = np.array(["2024-01-01", "2024-01-02", "2024-01-04"], dtype="datetime64[D]")
      >>> [round(float(v), 4) for v in jaxgrad.gradient(jnp.array([10.0, 11.0, 19.0]), days, datetime_unit="D")]
      [1.0, 2.0, 4.0]
    """
    options = {"axis": axis, "edge_order": edge_order, "datetime_unit": datetime_unit}
    return launch("gradient", _plan, f, varargs, options, halo)
