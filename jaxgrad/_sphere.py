"""Calculus on the sphere: gradient, divergence, curl and Laplacian on latitude/longitude grids.

The last two axes of the fields are latitude and longitude, in degrees; leading axes are carried
along. Derivatives along each are :func:`jaxgrad.derivative`'s scheme (``accuracy`` held at every
point): one-sided at the latitude edges, periodic in longitude when the grid covers the circle.
They are taken with respect to degrees and scaled to radians once; a grid evenly spaced to
rounding (``linspace``) is reduced to its step and gets exact uniform weights. With ``phi``, ``lam`` the latitude and longitude in radians and ``R`` the
radius:

* gradient: ``(f_lam / (R cos phi), f_phi / R)``;
* divergence: ``(u_lam + (v cos phi)_phi) / (R cos phi)`` (the product differentiated as one);
* curl: ``(v_lam - (u cos phi)_phi) / (R cos phi)``;
* Laplacian: ``(f_lam_lam / cos^2 phi + f_phi_phi - tan phi f_phi) / R^2``, the divergence of the
  gradient expanded so that both second derivatives use direct second-derivative stencils (more
  accurate than two first-derivative stencils in a row, and no odd-even decoupling).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxgrad._args import as_field, is_traced, normalize_accuracy, rank
from jaxgrad._core import derivative_along, real_dtype, to_output, to_working
from jaxgrad._derivative import prepare_axis
from jaxgrad._halo import Halo, Layout, apply_along
from jaxgrad._launch import Plan, kernel, launch
from jaxgrad._stencils import Stencil, stencil

Array = jax.Array

EARTH_RADIUS = 6371008.8  # metres: the mean radius of the Earth (IUGG)
_PER_DEGREE = math.pi / 180.0


# --- validation ------------------------------------------------------------------------------------


def _degrees(x: Any, name: str, n: int, axis_name: str) -> Any:
    """A 1-D coordinate array of ``n`` real values in degrees; concrete: finite, strictly monotone."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 1-D array of {axis_name}s in degrees, got {x!r}")
    if rank(x, name) != 1:
        raise ValueError(f"{name} must be a 1-D array of {axis_name}s in degrees, got shape {np.shape(x)}")
    x = x if isinstance(x, (jax.Array, np.ndarray)) else np.asarray(x)
    dtype = np.dtype(x.dtype)
    if dtype == np.dtype(bool) or not (jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)):
        raise TypeError(f"{name} must hold real numbers ({axis_name}s in degrees), got dtype {dtype}")
    if x.shape[0] != n:
        raise ValueError(f"{name} has {x.shape[0]} values, but the {axis_name} axis of the field has {n}")
    if jnp.issubdtype(dtype, jnp.integer):
        x = x.astype(np.float64) if isinstance(x, np.ndarray) else x.astype(jnp.result_type(float))
    if is_traced(x):
        return x
    with jax.ensure_compile_time_eval():  # a concrete array closed over inside a user's jit
        values = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or inf")
    steps = np.diff(values)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(f"{name} must be strictly increasing or strictly decreasing ({axis_name}s in degrees)")
    return x


def _covers_circle(lon: Any) -> bool:
    """Whether concrete longitudes go round the whole circle: the step from the last back to the
    first (modulo 360) is one of the grid's steps, to rounding."""
    values = np.asarray(lon, dtype=np.float64)
    steps = np.diff(values)
    sign = np.sign(steps[0])
    wrap = values[0] + sign * 360.0 - values[-1]
    tol = 64 * float(np.finfo(np.dtype(lon.dtype) if jnp.issubdtype(lon.dtype, jnp.floating) else np.float64).eps) * 360.0
    return bool(wrap * sign > tol and np.min(np.abs(np.abs(steps) - abs(wrap))) <= tol)


def _grid(shape: tuple[int, ...], lat: Any, lon: Any, accuracy: int, lat_orders: tuple[int, ...],
          lon_orders: tuple[int, ...], what: str) -> tuple[tuple[Any, ...], bool]:
    """Checks a latitude/longitude grid; returns ``(lat, lat spacing, lon spacing, lon period)``
    ready for the kernels, and whether longitude is periodic."""
    if len(shape) < 2:
        raise ValueError(f"{what} needs fields whose last two axes are latitude and longitude, got shape {shape}")
    lat = _degrees(lat, "lat", shape[-2], "latitude")
    lon = _degrees(lon, "lon", shape[-1], "longitude")
    if not is_traced(lat):
        with jax.ensure_compile_time_eval():
            values = np.asarray(lat, dtype=np.float64)
        if values.min() < -90.0 or values.max() > 90.0:
            raise ValueError(f"lat must lie within [-90, 90] degrees, got values from {values.min()} to {values.max()}")
    periodic = False
    if not is_traced(lon) and shape[-1] >= 2:
        with jax.ensure_compile_time_eval():
            values = np.asarray(lon, dtype=np.float64)
        if abs(values[-1] - values[0]) > 360.0:
            raise ValueError(f"lon spans {abs(values[-1] - values[0])} degrees, more than the circle's 360")
        periodic = _covers_circle(lon)
    nd = len(shape)
    period = (360.0 if values[1] > values[0] else -360.0) if periodic else None
    lat_spacing, _ = prepare_axis(shape, _even_step(lat), nd - 2, lat_orders, accuracy, "one-sided", None, what)
    lon_step = _even_step(lon)
    lon_spacing, lon_period = prepare_axis(shape, lon_step, nd - 1, lon_orders, accuracy, "periodic" if periodic else "one-sided",
                                           None if np.ndim(lon_step) == 0 else period, what)
    return (lat, lat_spacing, lon_spacing, lon_period), periodic


def _even_step(x: Any) -> Any:
    """Concrete coordinates evenly spaced to rounding (``linspace``, or degrees read from a file)
    as their mean step, so that they get exact uniform stencils, which are faster and, for second
    derivatives, narrower; other coordinates unchanged."""
    if is_traced(x) or x.shape[0] < 3:
        return x
    with jax.ensure_compile_time_eval():
        values = np.asarray(x, dtype=np.float64)
    step = (values[-1] - values[0]) / (len(values) - 1)
    eps = float(np.finfo(np.dtype(x.dtype)).eps) if jnp.issubdtype(x.dtype, jnp.floating) else 0.0
    tol = 16 * max(eps, float(np.finfo(np.float64).eps)) * float(np.max(np.abs(values)))
    return step if float(np.max(np.abs(np.diff(values) - step))) <= tol else x


def _radius(radius: Any) -> Any:
    if isinstance(radius, (str, bytes)) or radius is None or rank(radius, "radius") != 0:
        raise TypeError(f"radius must be a real scalar, got {radius!r}")
    dtype = np.asarray(radius).dtype if not hasattr(radius, "dtype") else np.dtype(radius.dtype)
    if dtype == np.dtype(bool) or not (jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)):
        raise TypeError(f"radius must be a real scalar, got {radius!r}")
    if is_traced(radius):
        return radius
    value = float(np.asarray(radius))
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"radius must be finite and positive, got {value}")
    return value


def _plan(f: Any, lat: Any, lon: Any, *, radius: Any, accuracy: Any, what: str, core: Any, fields: int) -> Plan:
    names = ("f",) if fields == 1 else ("u", "v")
    arrays = [as_field(f[i] if fields == 2 else f, names[i]) for i in range(fields)]
    if fields == 2 and tuple(arrays[0].shape) != tuple(arrays[1].shape):
        raise ValueError(f"u and v must have one shape, got {tuple(arrays[0].shape)} and {tuple(arrays[1].shape)}")
    accuracy = normalize_accuracy(accuracy)
    orders = (1, 2) if core is _laplacian else (1,)
    grid, periodic = _grid(tuple(arrays[0].shape), lat, lon, accuracy, orders, orders, what)
    static = {"accuracy": accuracy, "periodic": periodic}
    return Plan(core, arrays[0], (*arrays[1:], *grid, _radius(radius)), static, spatial_ndim=2)


# --- kernels -----------------------------------------------------------------------------------------


def _row(values: Array, dtype: Any) -> Array:
    """A per-latitude factor shaped to broadcast over the last two axes."""
    return values.astype(dtype)[:, None]


def _geometry(lat: Any, radius: Any, dtype: Any) -> tuple[Array, Array, Array]:
    """cos(phi), tan(phi) and 1/R per degree (the derivatives are taken per degree)."""
    gd = jnp.promote_types(real_dtype(dtype), jnp.result_type(lat))
    phi = jnp.asarray(lat).astype(gd) * _PER_DEGREE
    return jnp.cos(phi), jnp.tan(phi), jnp.asarray(_PER_DEGREE, gd) ** -1 / jnp.asarray(radius, gd)


class _Axes:
    """The latitude (``phi``) and longitude (``lam``) derivatives of one call, per degree."""

    def __init__(self, grid: tuple[Any, ...], accuracy: int, periodic: bool, layout: Layout | None) -> None:
        _, self.lat_spacing, self.lon_spacing, self.lon_period = grid
        self.accuracy, self.periodic, self.layout = accuracy, periodic, layout

    def phi(self, g: Array, order: int = 1) -> Array:
        return derivative_along(g, self.lat_spacing, g.ndim - 2, self.layout, order=order, accuracy=self.accuracy,
                                boundary="one-sided")

    def lam(self, g: Array, order: int = 1) -> Array:
        return derivative_along(g, self.lon_spacing, g.ndim - 1, self.layout, order=order, accuracy=self.accuracy,
                                boundary="periodic" if self.periodic else "one-sided", period=self.lon_period)


@kernel
def _gradient(f: Array, lat: Any, lat_s: Any, lon_s: Any, period: Any, radius: Any, *, accuracy: int, periodic: bool,
              layout: Layout | None) -> tuple[Array, Array]:
    g = to_working(f)
    d = _Axes((lat, lat_s, lon_s, period), accuracy, periodic, layout)
    cos, _, scale = _geometry(lat, radius, g.dtype)
    rd = real_dtype(g.dtype)
    east = d.lam(g) * _row(scale / cos, rd)
    north = d.phi(g) * scale.astype(rd)
    return to_output(east, f.dtype), to_output(north, f.dtype)


def _flux_form(u: Array, v: Array, lat: Any, lat_s: Any, lon_s: Any, period: Any, radius: Any, accuracy: int,
               periodic: bool, layout: Layout | None, sign: float) -> Array:
    """``(u_lam + sign * (v cos phi)_phi) / (R cos phi)``: the divergence (``sign`` 1, fields
    ``u, v``) and the curl (``sign`` -1, fields ``v, u``)."""
    dtype = jnp.result_type(u.dtype, v.dtype)
    gu, gv = to_working(u.astype(dtype)), to_working(v.astype(dtype))
    d = _Axes((lat, lat_s, lon_s, period), accuracy, periodic, layout)
    cos, _, scale = _geometry(lat, radius, gu.dtype)
    rd = real_dtype(gu.dtype)
    flux = d.phi(gv * _row(cos, rd))
    total = d.lam(gu) + flux if sign > 0 else d.lam(gu) - flux
    return to_output(total * _row(scale / cos, rd), dtype)


@kernel
def _divergence(u: Array, v: Array, lat: Any, lat_s: Any, lon_s: Any, period: Any, radius: Any, *, accuracy: int,
                periodic: bool, layout: Layout | None) -> Array:
    return _flux_form(u, v, lat, lat_s, lon_s, period, radius, accuracy, periodic, layout, 1.0)


@kernel
def _curl(u: Array, v: Array, lat: Any, lat_s: Any, lon_s: Any, period: Any, radius: Any, *, accuracy: int,
          periodic: bool, layout: Layout | None) -> Array:
    return _flux_form(v, u, lat, lat_s, lon_s, period, radius, accuracy, periodic, layout, -1.0)


def _combined_stencil(step: Any, a2: Array, a1: Array, accuracy: int) -> Stencil:
    """One stencil along an evenly spaced axis for ``a2 * d2/dx2 + a1[i] * d/dx`` (``a1`` one
    value per point): the Laplacian's latitude terms in one pass over the data instead of two.
    Both derivatives have ``accuracy / 2`` edge rows, and their one-sided windows share the edge
    (the first-derivative window is one point shorter: a zero weight pads it)."""
    q, width, n = accuracy // 2, accuracy + 2, a1.shape[0]
    c2, c1 = a2 / (step * step), a1 / step

    def combined(rows: Any, w2: Any, w1: Any) -> Any:
        return c2 * w2 + c1[rows] * w1

    offsets = tuple(range(-q, q + 1))
    centre2, centre1 = stencil(2, offsets), stencil(1, offsets)
    interior = tuple(combined(slice(q, n - q), float(w2), float(w1)) for w2, w1 in zip(centre2, centre1))

    def window(rows: range, start2: int, start1: int) -> tuple[Any, ...]:
        # Column j of the window: its weight for every edge row (rows at positions r - start).
        e2 = np.array([stencil(2, [j - (r - start2) for j in range(width)]) for r in rows])
        e1 = np.zeros((len(rows), width))
        for t, r in enumerate(rows):
            e1[t, start1 - start2 : start1 - start2 + width - 1] = stencil(1, [j - (r - start1) for j in range(width - 1)])
        idx = np.array(list(rows))
        return tuple(combined(idx, e2[:, j], e1[:, j]) for j in range(width))

    left = window(range(q), 0, 0)
    right = window(range(n - q, n), n - width, n - width + 1)
    return Stencil(offsets, interior, q, q, left, right)


@kernel
def _laplacian(f: Array, lat: Any, lat_s: Any, lon_s: Any, period: Any, radius: Any, *, accuracy: int, periodic: bool,
               layout: Layout | None) -> Array:
    g = to_working(f)
    d = _Axes((lat, lat_s, lon_s, period), accuracy, periodic, layout)
    cos, tan, scale = _geometry(lat, radius, g.dtype)
    rd = real_dtype(g.dtype)
    s2 = scale * scale  # per degree squared, over R^2; the first derivative needs R^-2 per degree
    first = -s2 * _PER_DEGREE * tan
    out = d.lam(g, 2) * _row(s2 / (cos * cos), rd)
    if jnp.ndim(lat_s) == 0:  # evenly spaced latitudes: both latitude terms in one stencil
        lat_terms = _combined_stencil(jnp.asarray(lat_s, s2.dtype), s2, first, accuracy)
        cast = lambda ws: tuple(jnp.asarray(w).astype(rd) for w in ws)
        lat_terms = lat_terms._replace(weights=cast(lat_terms.weights), left_weights=cast(lat_terms.left_weights),
                                       right_weights=cast(lat_terms.right_weights))
        out = out + apply_along(g, g.ndim - 2, lat_terms, layout)
    else:
        out = out + d.phi(g, 2) * s2.astype(rd) + d.phi(g) * _row(first, rd)
    return to_output(out, f.dtype)


# --- public functions ---------------------------------------------------------------------------------


def _call(name: str, core: Any, fields: Any, lat: Any, lon: Any, radius: Any, accuracy: Any, halo: Any) -> Any:
    planner = functools.partial(_plan, what=name, core=core, fields=2 if isinstance(fields, tuple) else 1)
    return launch(name, planner, fields, (lat, lon), {"radius": radius, "accuracy": accuracy}, halo)


def spherical_gradient(f: ArrayLike, lat: ArrayLike, lon: ArrayLike, *, radius: ArrayLike = EARTH_RADIUS,
                       accuracy: int = 2, halo: Halo = True) -> tuple[Array, Array]:
    """The gradient of a scalar field on a latitude/longitude grid: eastward and northward slopes.

    ``df_east = f_lam / (R cos phi)`` and ``df_north = f_phi / R``, with ``phi`` and ``lam`` the
    latitude and longitude in radians and ``R`` the radius; per metre for the default radius.

    Args:
      f: the samples; the last two axes are latitude and longitude, leading axes (time, level,
        batch) are carried along.
      lat: 1-D latitudes in degrees, within [-90, 90], strictly monotone (increasing or
        decreasing), possibly unevenly spaced; as long as the second-to-last axis.
      lon: 1-D longitudes in degrees, strictly monotone, possibly unevenly spaced, spanning at
        most 360 degrees; as long as the last axis. When the grid covers the circle (the step
        from the last longitude back to the first, modulo 360, is one of its steps) longitude
        is periodic, else one-sided; traced longitudes (``jit`` arguments) are one-sided.
      radius: the sphere's radius (keyword); the Earth's mean radius in metres by default.
      accuracy: the order of accuracy of the finite differences, a positive even integer, held
        at every point (one-sided stencils at the latitude edges).
      halo: how arrays sharded along latitude or longitude are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      ``(df_east, df_north)``, two arrays of ``f``'s shape.

    Raises:
      ValueError: ``lat`` or ``lon`` not 1-D, of the wrong length, not finite or not strictly
        monotone; latitudes outside [-90, 90]; longitudes spanning more than 360 degrees; too
        few points for ``accuracy``; a radius that is not positive.
      TypeError: arguments of the wrong type.

    Examples:
      >>> import numpy as np, jax.numpy as jnp, jaxgrad
      >>> lat = np.linspace(-60.0, 60.0, 25)
      >>> lon = np.arange(0.0, 360.0, 5.0)                  # the whole circle: periodic
      >>> phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
      >>> east, north = jaxgrad.spherical_gradient(jnp.sin(phi) + 0 * lam, lat, lon, radius=1.0)
      >>> bool(jnp.allclose(north, np.cos(phi), atol=2e-3)), float(jnp.max(jnp.abs(east)))
      (True, 0.0)
    """
    return _call("spherical_gradient", _gradient, f, lat, lon, radius, accuracy, halo)


def spherical_divergence(u: ArrayLike, v: ArrayLike, lat: ArrayLike, lon: ArrayLike, *,
                         radius: ArrayLike = EARTH_RADIUS, accuracy: int = 2, halo: Halo = True) -> Array:
    """The horizontal divergence of a vector field on a latitude/longitude grid.

    ``(u_lam + (v cos phi)_phi) / (R cos phi)``, the product ``v cos phi`` differentiated as
    one (the flux form).

    Args:
      u: the eastward component; the last two axes are latitude and longitude, leading axes are
        carried along.
      v: the northward component, of ``u``'s shape.
      lat: 1-D latitudes in degrees, within [-90, 90], strictly monotone (increasing or
        decreasing), possibly unevenly spaced; as long as the second-to-last axis.
      lon: 1-D longitudes in degrees, strictly monotone, possibly unevenly spaced, spanning at
        most 360 degrees; as long as the last axis. When the grid covers the circle (the step
        from the last longitude back to the first, modulo 360, is one of its steps) longitude
        is periodic, else one-sided; traced longitudes (``jit`` arguments) are one-sided.
      radius: the sphere's radius (keyword); the Earth's mean radius in metres by default.
      accuracy: the order of accuracy of the finite differences, a positive even integer, held
        at every point (one-sided stencils at the latitude edges).
      halo: how arrays sharded along latitude or longitude are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of ``u``'s shape.

    Raises:
      ValueError: ``lat`` or ``lon`` not 1-D, of the wrong length, not finite or not strictly
        monotone; latitudes outside [-90, 90]; longitudes spanning more than 360 degrees; too
        few points for ``accuracy``; a radius that is not positive.
      TypeError: arguments of the wrong type.

    Examples:
      >>> import numpy as np, jax.numpy as jnp, jaxgrad
      >>> lat, lon = np.linspace(-60.0, 60.0, 25), np.arange(0.0, 360.0, 5.0)
      >>> phi = np.deg2rad(lat)[:, None] + 0 * lon
      >>> div = jaxgrad.spherical_divergence(np.cos(phi), 0 * phi, lat, lon, radius=1.0)  # zonal flow
      >>> float(jnp.max(jnp.abs(div)))
      0.0
    """
    return _call("spherical_divergence", _divergence, (u, v), lat, lon, radius, accuracy, halo)


def spherical_curl(u: ArrayLike, v: ArrayLike, lat: ArrayLike, lon: ArrayLike, *, radius: ArrayLike = EARTH_RADIUS,
                   accuracy: int = 2, halo: Halo = True) -> Array:
    """The vertical vorticity (the radial component of the curl) of a field on a latitude/longitude grid.

    ``(v_lam - (u cos phi)_phi) / (R cos phi)``, the product ``u cos phi`` differentiated as one.

    Args:
      u: the eastward component; the last two axes are latitude and longitude, leading axes are
        carried along.
      v: the northward component, of ``u``'s shape.
      lat: 1-D latitudes in degrees, within [-90, 90], strictly monotone (increasing or
        decreasing), possibly unevenly spaced; as long as the second-to-last axis.
      lon: 1-D longitudes in degrees, strictly monotone, possibly unevenly spaced, spanning at
        most 360 degrees; as long as the last axis. When the grid covers the circle (the step
        from the last longitude back to the first, modulo 360, is one of its steps) longitude
        is periodic, else one-sided; traced longitudes (``jit`` arguments) are one-sided.
      radius: the sphere's radius (keyword); the Earth's mean radius in metres by default.
      accuracy: the order of accuracy of the finite differences, a positive even integer, held
        at every point (one-sided stencils at the latitude edges).
      halo: how arrays sharded along latitude or longitude are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of ``u``'s shape.

    Raises:
      ValueError: ``lat`` or ``lon`` not 1-D, of the wrong length, not finite or not strictly
        monotone; latitudes outside [-90, 90]; longitudes spanning more than 360 degrees; too
        few points for ``accuracy``; a radius that is not positive.
      TypeError: arguments of the wrong type.

    Examples:
      >>> import numpy as np, jax.numpy as jnp, jaxgrad
      >>> lat, lon = np.linspace(-60.0, 60.0, 49), np.arange(0.0, 360.0, 5.0)
      >>> phi = np.deg2rad(lat)[:, None] + 0 * lon
      >>> zeta = jaxgrad.spherical_curl(np.cos(phi), 0 * phi, lat, lon, radius=1.0, accuracy=4)  # solid-body rotation
      >>> bool(jnp.allclose(zeta, 2 * np.sin(phi), atol=1e-4))
      True
    """
    return _call("spherical_curl", _curl, (u, v), lat, lon, radius, accuracy, halo)


def spherical_laplacian(f: ArrayLike, lat: ArrayLike, lon: ArrayLike, *, radius: ArrayLike = EARTH_RADIUS,
                        accuracy: int = 2, halo: Halo = True) -> Array:
    """The Laplace-Beltrami operator of a scalar field on a latitude/longitude grid.

    The divergence of the gradient, ``(f_lam_lam / cos phi + (f_phi cos phi)_phi) / (R^2 cos phi)``,
    computed in its expanded form ``(f_lam_lam / cos^2 phi + f_phi_phi - tan phi f_phi) / R^2``
    with direct second-derivative stencils.

    Args:
      f: the samples; the last two axes are latitude and longitude, leading axes are carried along.
      lat: 1-D latitudes in degrees, within [-90, 90], strictly monotone (increasing or
        decreasing), possibly unevenly spaced; as long as the second-to-last axis.
      lon: 1-D longitudes in degrees, strictly monotone, possibly unevenly spaced, spanning at
        most 360 degrees; as long as the last axis. When the grid covers the circle (the step
        from the last longitude back to the first, modulo 360, is one of its steps) longitude
        is periodic, else one-sided; traced longitudes (``jit`` arguments) are one-sided.
      radius: the sphere's radius (keyword); the Earth's mean radius in metres by default.
      accuracy: the order of accuracy of the finite differences, a positive even integer, held
        at every point (one-sided stencils at the latitude edges).
      halo: how arrays sharded along latitude or longitude are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      An array of ``f``'s shape.

    Raises:
      ValueError: ``lat`` or ``lon`` not 1-D, of the wrong length, not finite or not strictly
        monotone; latitudes outside [-90, 90]; longitudes spanning more than 360 degrees; too
        few points for ``accuracy``; a radius that is not positive.
      TypeError: arguments of the wrong type.

    Examples:
      >>> import numpy as np, jax.numpy as jnp, jaxgrad
      >>> lat, lon = np.linspace(-60.0, 60.0, 41), np.arange(0.0, 360.0, 3.0)
      >>> phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
      >>> y = np.cos(phi) * np.cos(lam)            # a spherical harmonic of degree 1
      >>> lap = jaxgrad.spherical_laplacian(y, lat, lon, radius=1.0, accuracy=4)
      >>> bool(jnp.allclose(lap, -2 * y, atol=2e-3))   # eigenvalue -l (l + 1); float32 rounding
      True
    """
    return _call("spherical_laplacian", _laplacian, f, lat, lon, radius, accuracy, halo)

