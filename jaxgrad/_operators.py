"""Vector calculus on grids: laplacian, divergence, curl, hessian, jacobian.

Each is a few calls of the one-axis derivative with the scheme of :func:`jaxgrad.derivative`, so
every operator keeps the requested accuracy at every point, edges included.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxgrad._args import (
    Boundary,
    as_field,
    check_cval,
    normalize_accuracy,
    normalize_axes,
    normalize_boundaries,
    spread_periods,
    spread_spacing,
    stack_components,
)
from jaxgrad._core import add_all, derivative_along, derivatives_summed, to_output, to_working
from jaxgrad._curvilinear import is_curvilinear, plan_operator
from jaxgrad._derivative import prepare_axis
from jaxgrad._halo import Halo, Layout
from jaxgrad._launch import Kernel, Plan, kernel, launch

Array = jax.Array
Boundaries = Boundary | tuple[Boundary, ...]
Periods = ArrayLike | tuple[ArrayLike | None, ...] | None
VectorField = ArrayLike | Sequence[ArrayLike]


class Grid(NamedTuple):
    """The normalized description of the differentiated axes (static parts and traced parts)."""

    axes: tuple[int, ...]
    boundaries: tuple[str, ...]
    spacings: tuple[Any, ...]
    periods: tuple[Any, ...]
    cval: Any = None
    layout: Layout | None = None


def prepare_grid(
    shape: tuple[int, ...], varargs: Sequence[Any], axes: tuple[int, ...], orders: tuple[int, ...],
    accuracy: Any, boundary: Any, period: Any, what: str,
) -> tuple[Grid, int]:
    accuracy = normalize_accuracy(accuracy)
    modes = normalize_boundaries(boundary, len(axes))
    raw = spread_spacing(varargs, len(axes))
    periods = spread_periods(period, modes, raw)
    spacings, norm_periods = [], []
    for a, s, m, L in zip(axes, raw, modes, periods):
        s_n, L_n = prepare_axis(shape, s, a, orders, accuracy, m, L, what)
        spacings.append(s_n)
        norm_periods.append(L_n)
    return Grid(axes, modes, tuple(spacings), tuple(norm_periods)), accuracy


def _d(g: Array, grid: Grid, i: int, order: int, accuracy: int, shift: int = 0) -> Array:
    """Derivative along the i-th differentiated axis (``shift`` skips leading component axes)."""
    return derivative_along(
        g, grid.spacings[i], grid.axes[i] + shift, grid.layout, order=order, accuracy=accuracy,
        boundary=grid.boundaries[i], period=grid.periods[i], cval=grid.cval if grid.boundaries[i] == "constant" else None,
    )


def _join(static: tuple, traced: tuple, layout: Layout | None) -> Grid:
    axes, boundaries = static
    spacings, periods, cval = traced
    return Grid(axes, boundaries, spacings, periods, cval, layout)


@kernel
def _laplacian(f: Array, traced: tuple, *, static: tuple, accuracy: int, layout: Layout | None) -> Array:
    grid, g = _join(static, traced, layout), to_working(f)
    cvals = [grid.cval if b == "constant" else None for b in grid.boundaries]
    out = derivatives_summed(g, grid.spacings, grid.axes, grid.layout, order=2, accuracy=accuracy,
                             boundaries=grid.boundaries, periods=grid.periods, cvals=cvals)
    return to_output(out, f.dtype)


@kernel
def _hessian(f: Array, traced: tuple, *, static: tuple, accuracy: int, layout: Layout | None) -> Array:
    grid, g = _join(static, traced, layout), to_working(f)
    k = len(grid.axes)
    firsts = [_d(g, grid, j, 1, accuracy) for j in range(k)]
    rows: list[list[Any]] = [[None] * k for _ in range(k)]
    for i in range(k):
        rows[i][i] = _d(g, grid, i, 2, accuracy)
        for j in range(i + 1, k):
            # A first derivative of constant ghosts is zero: the second pass pads with zeros.
            rows[i][j] = rows[j][i] = _d(firsts[j], grid._replace(cval=None), i, 1, accuracy)
    return to_output(jnp.stack([jnp.stack(r) for r in rows]), f.dtype)


@kernel
def _jacobian(F: Array, traced: tuple, *, static: tuple, accuracy: int, layout: Layout | None) -> Array:
    grid, G = _join(static, traced, layout), to_working(F)
    columns = [_d(G, grid, i, 1, accuracy, shift=1) for i in range(len(grid.axes))]
    return to_output(jnp.stack(columns, axis=1), F.dtype)


@kernel
def _divergence(F: Array, traced: tuple, *, static: tuple, accuracy: int, layout: Layout | None) -> Array:
    grid, G = _join(static, traced, layout), to_working(F)
    return to_output(add_all(_d(G[i], grid, i, 1, accuracy) for i in range(len(grid.axes))), F.dtype)


@kernel
def _curl(F: Array, traced: tuple, *, static: tuple, accuracy: int, layout: Layout | None) -> Array | tuple[Array, ...]:
    grid, G = _join(static, traced, layout), to_working(F)
    d = lambda comp, i: _d(G[comp], grid, i, 1, accuracy)
    if len(grid.axes) == 2:
        return to_output(d(1, 0) - d(0, 1), F.dtype)
    return tuple(to_output(c, F.dtype) for c in (d(2, 1) - d(1, 2), d(0, 2) - d(2, 0), d(1, 0) - d(0, 1)))


def _scalar_plan(
    f: Any, *varargs: Any, core: Kernel, axis: Any, orders: tuple[int, ...], accuracy: Any, boundary: Any, period: Any,
    cval: Any, what: str,
) -> Plan:
    f = as_field(f)
    if is_curvilinear(varargs):  # one full-shape coordinate array per axis (_curvilinear.py)
        return plan_operator(f, varargs, axis=axis, accuracy=accuracy, boundary=boundary, period=period, cval=cval,
                             what=what, field=False)
    axes = normalize_axes(axis, f.ndim)
    if not axes:
        raise ValueError(f"{what} needs at least one axis to differentiate; f has shape {f.shape}")
    grid, accuracy = prepare_grid(f.shape, varargs, axes, orders, accuracy, boundary, period, what)
    cval = check_cval(cval, grid.boundaries, f.dtype)
    static = {"static": (grid.axes, grid.boundaries), "accuracy": accuracy}
    return Plan(core, f, ((grid.spacings, grid.periods, cval),), static)


def _field_plan(
    F: Any, *varargs: Any, core: Kernel, accuracy: Any, boundary: Any, period: Any, cval: Any, what: str, square: bool = True,
    dims: tuple[int, ...] | None = None,
) -> Plan:
    as_array = not isinstance(F, (list, tuple))
    F = stack_components(F)
    m, shape = F.shape[0], F.shape[1:]
    k = len(shape)
    if square and m != k:
        raise ValueError(
            f"{what} needs one component per spatial axis: F has {m} components of shape {shape} "
            f"({k} axes); for a batch of fields, use jax.vmap"
        )
    if dims is not None and k not in dims:
        raise ValueError(
            f"{what} is defined for fields on {' or '.join(map(str, dims))}-D grids, got F with components "
            f"of shape {shape}, a {k}-D field"
        )
    if as_array and len(varargs) > 1 and len(varargs) != k:
        raise TypeError(
            f"{what} got {len(varargs)} spacing arguments for a field read as {m} components on a {k}-D grid "
            f"of shape {shape}: the leading axis of an array field holds the components"
        )
    if is_curvilinear(varargs):  # one full-shape coordinate array per axis (_curvilinear.py)
        return plan_operator(F, varargs, axis=None, accuracy=accuracy, boundary=boundary, period=period, cval=cval,
                             what=what, field=True)
    grid, accuracy = prepare_grid(shape, varargs, tuple(range(k)), (1,), accuracy, boundary, period, what)
    cval = check_cval(cval, grid.boundaries, F.dtype)
    static = {"static": (grid.axes, grid.boundaries), "accuracy": accuracy}
    return Plan(core, F, ((grid.spacings, grid.periods, cval),), static, spatial_ndim=k)


def _scalar_call(core, f, varargs, axis, orders, accuracy, boundary, period, cval, what, halo):
    options = {"axis": axis, "accuracy": accuracy, "boundary": boundary, "period": period, "cval": cval}
    planner = functools.partial(_scalar_plan, core=core, orders=orders, what=what)
    return launch(what, planner, f, varargs, options, halo)


def _field_call(core, F, varargs, accuracy, boundary, period, cval, what, halo, **shape_rules):
    options = {"accuracy": accuracy, "boundary": boundary, "period": period, "cval": cval}
    planner = functools.partial(_field_plan, core=core, what=what, **shape_rules)
    return launch(what, planner, F, varargs, options, halo)


def laplacian(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, accuracy: int = 2,
    boundary: Boundaries = "one-sided", period: Periods = None, cval: ArrayLike = 0.0, halo: Halo = True,
) -> Array:
    """The Laplacian ``sum_i d^2 f / dx_i^2`` over the chosen axes.

    Args:
      f: the samples of a scalar field.
      *varargs: the spacing, as in :func:`jaxgrad.gradient`: nothing, one scalar, or one scalar or
        1-D coordinate array per differentiated axis; or curvilinear coordinates, one array of
        ``f``'s full shape per axis (2-D or 3-D, ``axis=None``).
      axis: ``None`` (every axis), an int or a tuple of ints.
      accuracy: the order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode
        (``"reflect"``, ``"mirror"``, ``"nearest"``, ``"constant"``; see :func:`jaxgrad.derivative`),
        or a tuple with one per differentiated axis.
      period: for periodic axes given by coordinates: a scalar (for all of them) or a tuple with
        one entry (or ``None``) per differentiated axis.
      cval: the ghost value of ``"constant"`` axes.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of ``f``'s shape.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(-1.0, 1.0, 21)
      >>> X, Y = jnp.meshgrid(x, x, indexing="ij")
      >>> lap = jaxgrad.laplacian(X**2 + Y**2, 0.1, 0.1)
      >>> bool(jnp.allclose(lap, 4.0, atol=1e-3))
      True
    """
    return _scalar_call(_laplacian, f, varargs, axis, (2,), accuracy, boundary, period, cval, "a laplacian", halo)


def hessian(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, accuracy: int = 2,
    boundary: Boundaries = "one-sided", period: Periods = None, cval: ArrayLike = 0.0, halo: Halo = True,
) -> Array:
    """All second partial derivatives: ``H[i, j] = d^2 f / dx_i dx_j``, of shape ``(k, k, *f.shape)``.

    The diagonal uses second-derivative stencils; the mixed partials apply first-derivative
    stencils along each of the two axes. ``H`` is symmetric by construction.

    Args:
      f: the samples of a scalar field.
      *varargs: the spacing, as in :func:`jaxgrad.gradient`.
      axis: ``None`` (every axis), an int or a tuple of ints.
      accuracy: the order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode
        (``"reflect"``, ``"mirror"``, ``"nearest"``, ``"constant"``; see :func:`jaxgrad.derivative`),
        or a tuple with one per spatial axis.
      period: for periodic axes given by coordinates: a scalar or a tuple (entries may be ``None``).
      cval: the ghost value of ``"constant"`` axes.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of shape ``(k, k, *f.shape)``, ``k`` the number of differentiated axes.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(0.0, 1.0, 11)
      >>> X, Y = jnp.meshgrid(x, x, indexing="ij")
      >>> H = jaxgrad.hessian(X**2 * Y, 0.1, 0.1)
      >>> H.shape
      (2, 2, 11, 11)
      >>> bool(jnp.allclose(H[0, 1], 2 * X, atol=1e-4))
      True
    """
    return _scalar_call(_hessian, f, varargs, axis, (1, 2), accuracy, boundary, period, cval, "a hessian", halo)


def jacobian(
    F: VectorField, *varargs: ArrayLike, accuracy: int = 2, boundary: Boundaries = "one-sided", period: Periods = None,
    cval: ArrayLike = 0.0, halo: Halo = True,
) -> Array:
    """The Jacobian ``J[a, b] = dF_a / dx_b`` of a field with ``m`` components on a ``k``-D grid.

    Args:
      F: a sequence of ``m`` equally shaped arrays, or one array of shape ``(m, *shape)``; every
        axis of ``shape`` is a spatial axis.
      *varargs: the spacing, as in :func:`jaxgrad.gradient`, one entry per spatial axis.
      accuracy: the order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode
        (``"reflect"``, ``"mirror"``, ``"nearest"``, ``"constant"``; see :func:`jaxgrad.derivative`),
        or a tuple with one per spatial axis.
      period: for periodic axes given by coordinates: a scalar or a tuple (entries may be ``None``).
      cval: the ghost value of ``"constant"`` axes.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of shape ``(m, k, *shape)``.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(0.0, 1.0, 5)
      >>> X, Y = jnp.meshgrid(x, x, indexing="ij")
      >>> J = jaxgrad.jacobian([X * Y, X + 2 * Y, X], 0.25, 0.25)
      >>> J.shape
      (3, 2, 5, 5)
      >>> [float(J[1, 0, 2, 2]), float(J[1, 1, 2, 2])]
      [1.0, 2.0]
    """
    return _field_call(_jacobian, F, varargs, accuracy, boundary, period, cval, "a jacobian", halo, square=False)


def divergence(
    F: VectorField, *varargs: ArrayLike, accuracy: int = 2, boundary: Boundaries = "one-sided", period: Periods = None,
    cval: ArrayLike = 0.0, halo: Halo = True,
) -> Array:
    """The divergence ``sum_i dF_i / dx_i`` of a vector field with one component per axis.

    Args:
      F: ``k`` component arrays of one ``k``-D shape (a sequence, or an array ``(k, *shape)``),
        in axis order.
      *varargs: the spacing, as in :func:`jaxgrad.gradient`, one entry per spatial axis; or
        curvilinear coordinates, one array of the components' shape per axis (component ``a``
        belongs to coordinate array ``a``).
      accuracy: the order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode
        (``"reflect"``, ``"mirror"``, ``"nearest"``, ``"constant"``; see :func:`jaxgrad.derivative`),
        or a tuple with one per spatial axis.
      period: for periodic axes given by coordinates: a scalar or a tuple (entries may be ``None``).
      cval: the ghost value of ``"constant"`` axes.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of the components' shape.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(0.0, 1.0, 5)
      >>> X, Y = jnp.meshgrid(x, x, indexing="ij")
      >>> div = jaxgrad.divergence([3 * X, -Y], 0.25, 0.25)
      >>> bool(jnp.allclose(div, 2.0))
      True
    """
    return _field_call(_divergence, F, varargs, accuracy, boundary, period, cval, "a divergence", halo)


def curl(
    F: VectorField, *varargs: ArrayLike, accuracy: int = 2, boundary: Boundaries = "one-sided", period: Periods = None,
    cval: ArrayLike = 0.0, halo: Halo = True,
) -> Array | tuple[Array, Array, Array]:
    """The curl of a 2-D or 3-D vector field.

    For a 2-D field ``(Fx, Fy)`` the scalar ``dFy/dx - dFx/dy``; for a 3-D field the three
    components ``(dFz/dy - dFy/dz, dFx/dz - dFz/dx, dFy/dx - dFx/dy)``. ``x, y, z`` are the array
    axes 0, 1, 2.

    Args:
      F: 2 or 3 component arrays of one 2-D or 3-D shape (a sequence or an array ``(k, *shape)``).
      *varargs: the spacing, as in :func:`jaxgrad.gradient`, one entry per spatial axis; or
        curvilinear coordinates, one array of the components' shape per axis (component ``a``
        belongs to coordinate array ``a``; listing them as ``(Y, X)`` changes the curl's sign).
      accuracy: the order of accuracy, a positive even integer, held at every point.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode
        (``"reflect"``, ``"mirror"``, ``"nearest"``, ``"constant"``; see :func:`jaxgrad.derivative`),
        or a tuple with one per spatial axis.
      period: for periodic axes given by coordinates: a scalar or a tuple (entries may be ``None``).
      cval: the ghost value of ``"constant"`` axes.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array (2-D) or a tuple of three arrays (3-D), of the components' shape.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> x = jnp.linspace(-1.0, 1.0, 9)
      >>> X, Y = jnp.meshgrid(x, x, indexing="ij")
      >>> w = jaxgrad.curl([-Y, X], 0.25, 0.25)    # solid rotation: curl 2 everywhere
      >>> bool(jnp.allclose(w, 2.0))
      True
    """
    return _field_call(_curl, F, varargs, accuracy, boundary, period, cval, "a curl", halo, dims=(2, 3))
