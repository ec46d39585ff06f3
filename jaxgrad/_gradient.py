"""``gradient``: numpy.gradient, in JAX."""

from __future__ import annotations

from typing import Any, Literal

import jax
import numpy as np
from jax.typing import ArrayLike

from jaxgrad._args import (
    Boundary,
    as_field,
    check_cval,
    normalize_axes,
    normalize_boundaries,
    normalize_int,
    normalize_period,
    reduce_uniform,
    shift_origin,
    spacing_entry,
    spread_periods,
    spread_spacing,
)
from jaxgrad._core import axis_stencil, real_dtype, to_output, to_working
from jaxgrad._curvilinear import is_curvilinear, plan_gradient
from jaxgrad._dates import DatetimeUnit, convert_dates
from jaxgrad._halo import Halo, Layout, apply_along
from jaxgrad._launch import Plan, kernel, launch
from jaxgrad._masks import gradient_plan

Array = jax.Array


@kernel
def _gradient(
    f: Array, spacings: tuple[Any, ...], periods: tuple[Any, ...], cval: Any, *, axes: tuple[int, ...],
    boundaries: tuple[str, ...], edge_order: int, layout: Layout | None,
) -> Array | tuple[Array, ...]:
    g = to_working(f)
    out = []
    for s, L, a, b in zip(spacings, periods, axes, boundaries):
        stencil = axis_stencil(
            s, real_dtype(g.dtype), g.shape[a], order=1, offsets=(-1, 0, 1), edge_width=edge_order + 1, boundary=b,
            period=L, cval=cval if b == "constant" else None,
        )
        out.append(to_output(apply_along(g, a, stencil, layout), f.dtype))
    return out[0] if len(axes) == 1 else tuple(out)


def _plan(
    f: Any, *varargs: Any, axis: Any, edge_order: Any, boundary: Any = "one-sided", period: Any = None,
    cval: Any = 0.0, datetime_unit: Any = None,
) -> Plan:
    if is_curvilinear(varargs):  # one full-shape coordinate array per axis (_curvilinear.py)
        return plan_gradient(f, varargs, axis=axis, edge_order=edge_order, boundary=boundary, period=period, cval=cval,
                             datetime_unit=datetime_unit)
    varargs, period = convert_dates(varargs, datetime_unit, period)  # dates: float offsets, on the host
    f = as_field(f)
    axes = normalize_axes(axis, f.ndim)
    edge_order = normalize_int(edge_order, "edge_order", 1)
    if edge_order > 2:
        raise ValueError(f"edge_order must be 1 or 2, got {edge_order}")
    modes = normalize_boundaries(boundary, len(axes))
    cval = check_cval(cval, modes, f.dtype)
    for a, m in zip(axes, modes):
        # one-sided: numpy's edges; periodic: three distinct samples; padding: one reflection
        needed = {"one-sided": edge_order + 1, "periodic": 3}.get(m, 2)
        if f.shape[a] < needed:
            rule = "edge_order + 1 = " if m == "one-sided" else f"boundary {m!r}: "
            raise ValueError(
                f"f.shape[{a}] is {f.shape[a]}, too small for a gradient: at least {rule}{needed} points are required"
            )
    raw = spread_spacing(varargs, len(axes))
    spacings, periods = [], []
    for a, s, m, L in zip(axes, raw, modes, spread_periods(period, modes, raw)):
        # Ghost coordinates of padding modes are mirror images: they need monotone coordinates.
        s = spacing_entry(s, f.shape[a], a, monotone=m != "one-sided")
        L = normalize_period(L, s, m == "periodic", a)
        s = shift_origin(reduce_uniform(s, L))
        spacings.append(s)
        periods.append(L if np.ndim(s) == 1 else None)
    static = {"axes": axes, "boundaries": modes, "edge_order": edge_order}
    return Plan(_gradient, f, (tuple(spacings), tuple(periods), cval), static)


def _plan_masked(f: Any, *varargs: Any, where: Any, **options: Any) -> Plan:
    return gradient_plan(_plan(f, *varargs, **options), where)


def gradient(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, edge_order: Literal[1, 2] = 1,
    boundary: Boundary | tuple[Boundary, ...] = "one-sided", period: ArrayLike | tuple[ArrayLike | None, ...] | None = None,
    cval: ArrayLike = 0.0, datetime_unit: DatetimeUnit | None = None, where: ArrayLike | None = None, halo: Halo = True,
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
      edge_order: 1 or 2, the accuracy order of the one-sided differences at the edges (of
        ``"one-sided"`` axes only).
      boundary: what lies past the ends of each axis (one string, or a tuple with one per
        differentiated axis): ``"one-sided"`` (numpy's edges), ``"periodic"`` (alias ``"wrap"``:
        the sample after the last is the first), or the ghost samples of a padding mode,
        ``"reflect"``, ``"mirror"``, ``"nearest"`` or ``"constant"``, as in
        :func:`jaxgrad.derivative`; except on one-sided axes every point takes the central
        difference.
      period: for periodic axes given by coordinates, the period ``L`` (a scalar for all of them,
        or a tuple with one entry or ``None`` per differentiated axis), as in
        :func:`jaxgrad.derivative`.
      cval: the ghost value of ``"constant"`` axes (a scalar; traced allowed).
      datetime_unit: the time unit of date coordinates and ``timedelta64`` steps, which are
        converted on the host, in float64, to offsets from their first sample in this unit: any
        fixed numpy unit from ``"W"`` (weeks) to ``"as"``; ``None`` means seconds. The result is
        then a rate per this unit. Only for date spacing: given without any, it is a ``ValueError``.
      where: a boolean array of ``f``'s shape (or broadcastable to it), True at valid samples.
        Along each axis every run of valid samples is differentiated as if it were the whole
        axis (``numpy.gradient`` of the run alone, with ``edge_order`` at its ends; a run of two
        samples gets the two-point difference). The output is NaN at invalid samples and in runs
        of one sample. Values at invalid samples (NaN, inf, anything) never reach a valid output
        or a gradient. ``where`` is data: it may be traced, and differ across a ``vmap``.
      halo: how an array sharded along a differentiated axis is handled: ``True`` exchanges
        halos between neighbouring devices where ``f``'s sharding is visible, a ``NamedSharding``
        gives ``f``'s sharding where it is not (traced inside a ``jit`` over automatic mesh
        axes), ``False`` leaves it to XLA's partitioner. See the multi-device guide.

    Returns:
      One array of ``f``'s shape if one axis is differentiated, else a tuple of them, in axis order.

    Raises:
      TypeError: a wrong number of spacing arguments, or spacing of a wrong type; a ``where``
        that is not boolean.
      ValueError: a ``where`` that does not broadcast to ``f``'s shape; a coordinate array of the
        wrong length or rank, fewer than ``edge_order + 1``
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
      >>> jaxgrad.gradient(f, boundary="periodic")   # the sample after 16 is 1
      Array([-7. ,  1.5,  2.5,  3.5,  4.5, -5. ], dtype=float32)
      >>> import numpy as np
      >>> days = np.array(["2024-01-01", "2024-01-02", "2024-01-04"], dtype="datetime64[D]")
      >>> [round(float(v), 4) for v in jaxgrad.gradient(jnp.array([10.0, 11.0, 19.0]), days, datetime_unit="D")]
      [1.0, 2.0, 4.0]
      >>> g = jnp.array([1.0, 2.0, 4.0, jnp.nan, 11.0, 16.0, 22.0])   # a gap at index 3
      >>> jaxgrad.gradient(g, where=~jnp.isnan(g))
      Array([1. , 1.5, 2. , nan, 5. , 5.5, 6. ], dtype=float32)
    """
    options = {"axis": axis, "edge_order": edge_order, "boundary": boundary, "period": period, "cval": cval,
               "datetime_unit": datetime_unit}
    if where is not None:
        return launch("gradient", _plan_masked, f, varargs, {**options, "where": where}, halo)
    return launch("gradient", _plan, f, varargs, options, halo)
