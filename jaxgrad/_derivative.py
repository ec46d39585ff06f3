"""``derivative`` (any order, any even accuracy, one-sided or periodic) and ``derivative_matrix``."""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse
from jax.typing import ArrayLike

from jaxgrad._args import (
    Boundary,
    Scheme,
    as_field,
    check_cval,
    is_traced,
    normalize_accuracy,
    normalize_axes,
    normalize_boundaries,
    normalize_cval,
    normalize_int,
    normalize_period,
    normalize_scheme,
    rank,
    reduce_uniform,
    shift_origin,
    spacing_entry,
)
from jaxgrad._core import derivative_along, min_points, scheme_stencil, to_output, to_working
from jaxgrad._dates import DatetimeUnit, convert_dates
from jaxgrad._halo import Halo, Layout
from jaxgrad._launch import Plan, kernel, launch
from jaxgrad._masks import check_boundary, derivative_plan
from jaxgrad._stencils import matrix_entries

Array = jax.Array


def prepare_axis(
    f_shape: tuple[int, ...], spacing: Any, axis: int, orders: tuple[int, ...], accuracy: int, boundary: str,
    period: Any, what: str, scheme: str = "central",
) -> tuple[Any, Any]:
    """Checks one axis of a ``derivative``-style call that takes the given derivative orders along
    it; returns its spacing and period, normalized."""
    periodic = boundary == "periodic"
    spacing = spacing_entry(spacing, f_shape[axis], axis, monotone=True)
    period = normalize_period(period, spacing, periodic, axis)
    spacing = shift_origin(reduce_uniform(spacing, period))
    if jnp.ndim(spacing) == 0:
        period = None
    uniform = jnp.ndim(spacing) == 0
    needed, order = max((min_points(o, accuracy, uniform, boundary, scheme), o) for o in orders)
    if f_shape[axis] < needed:
        kind = boundary if scheme == "central" else f"{scheme}, {boundary}"
        grid = "uniform" if uniform else "coordinate"
        raise ValueError(
            f"f.shape[{axis}] is {f_shape[axis]}, too small for {what} of order {order} with accuracy "
            f"{accuracy} ({kind}, {grid} grid): at least {needed} points are required"
        )
    return spacing, period


@kernel
def _derivative(
    f: Array, spacing: Any, period: Any, cval: Any, *, axis: int, order: int, accuracy: int, boundary: str,
    scheme: str, layout: Layout | None,
) -> Array:
    g = to_working(f)
    out = derivative_along(
        g, spacing, axis, layout, order=order, accuracy=accuracy, boundary=boundary, period=period,
        cval=cval if boundary == "constant" else None, scheme=scheme,
    )
    return to_output(out, f.dtype)


def _plan(
    f: Any, spacing: Any, *, axis: Any, order: Any, accuracy: Any, boundary: Any, period: Any, cval: Any = 0.0,
    scheme: Any = "central", datetime_unit: Any = None,
) -> Plan:
    (spacing,), period = convert_dates((spacing,), datetime_unit, period)  # dates: float offsets, on the host
    f = as_field(f)
    axes = normalize_axes(axis, f.ndim)
    if len(axes) != 1:
        raise TypeError(f"derivative takes a single int axis, got {axis!r}")
    (axis,) = axes
    order = normalize_int(order, "order", 1)
    accuracy = normalize_accuracy(accuracy, odd=True)
    scheme = normalize_scheme(scheme, accuracy)
    (boundary,) = normalize_boundaries(boundary, 1)
    cval = check_cval(cval, (boundary,), f.dtype)
    spacing, period = prepare_axis(f.shape, spacing, axis, (order,), accuracy, boundary, period, "a derivative", scheme)
    static = {"axis": axis, "order": order, "accuracy": accuracy, "boundary": boundary, "scheme": scheme}
    return Plan(_derivative, f, (spacing, period, cval), static)


def _plan_masked(f: Any, spacing: Any, *, where: Any, **options: Any) -> Plan:
    check_boundary(options["boundary"])
    return derivative_plan(_plan(f, spacing, **options), where)


def derivative(
    f: ArrayLike,
    spacing: ArrayLike = 1.0,
    *,
    axis: int = -1,
    order: int = 1,
    accuracy: int = 2,
    boundary: Boundary = "one-sided",
    period: ArrayLike | None = None,
    cval: ArrayLike = 0.0,
    scheme: Scheme = "central",
    datetime_unit: DatetimeUnit | None = None,
    where: ArrayLike | None = None,
    halo: Halo = True,
) -> Array:
    """The ``order``-th derivative of sampled data along one axis, to any order of accuracy.

    Central finite differences of ``accuracy`` order inside; at the edges, one-sided stencils of
    ``order + accuracy`` points that keep the same order of accuracy, or, with another
    ``boundary``, the central stencil on ghost samples past the ends. On coordinate grids the
    weights are computed from the coordinates (the Lagrange form of Fornberg's weights), with enough points that the
    accuracy holds on arbitrary, not only smoothly stretched, grids; they are differentiable with
    respect to the coordinates.

    ``derivative(f, h, axis=a)`` (order 1, accuracy 2) equals
    ``gradient(f, h, axis=a, edge_order=2)``.

    Boundary modes (the names and ghost samples of :mod:`scipy.ndimage`), for ``a b c d``:

    ============== ======================== =============================================
    ``boundary``   ghost samples on the left meaning
    ============== ======================== =============================================
    ``one-sided``  none                      one-sided stencils at the edges (default)
    ``periodic``   ``... b c d | a b c d``   alias ``"wrap"``: after the last, the first
    ``reflect``    ``... c b a | a b c d``   half-sample symmetric
    ``mirror``     ``... d c b | a b c d``   whole-sample symmetric: slope 0 at the edge
    ``nearest``    ``... a a a | a b c d``   the edge value repeated
    ``constant``   ``cval cval | a b c d``   a fixed ghost value
    ============== ======================== =============================================

    On a uniform grid ``derivative(f, h, order=k, accuracy=p, boundary=m, cval=c)`` equals
    ``scipy.ndimage.correlate1d(f, w, mode=m, cval=c) / h**k`` with ``w`` the central weights.
    On coordinate grids ghost samples get ghost coordinates: mirror images of the coordinates
    they repeat for ``"reflect"`` (about the point half an edge step outside the edge) and
    ``"mirror"`` (about the edge sample), the edge step continued for ``"nearest"`` and
    ``"constant"``; exactly uniform coordinates give the scalar-step result.

    Args:
      f: the samples, an array of any rank.
      spacing: a scalar step, or a 1-D coordinate array as long as ``f.shape[axis]``, strictly
        increasing or decreasing; a ``timedelta64`` step or ``datetime64``/``timedelta64``
        coordinates are converted as ``datetime_unit`` says.
      axis: the axis to differentiate; negative values count from the end.
      order: the derivative's order, 1 or more.
      accuracy: the scheme's order of accuracy, held at every point: a positive even integer for
        the central scheme, any positive integer for the one-sided ones.
      boundary: ``"one-sided"``, ``"periodic"`` (alias ``"wrap"``), or a padding mode,
        ``"reflect"``, ``"mirror"``, ``"nearest"`` or ``"constant"`` (table above).
      period: for a periodic axis given by coordinates, its period ``L``: the step from the last
        point to the first is ``x[0] + L - x[-1]``. Not used with a scalar step, where the period
        is ``n * h``. With date coordinates, a ``timedelta64`` (or a number in ``datetime_unit``).
      cval: the value of the ghost samples of ``boundary="constant"`` (a finite scalar, may be
        traced; differentiable). A nonzero ``cval`` with another boundary is a ``ValueError``.
      scheme: ``"central"``; or ``"forward"``: the ``order + accuracy`` samples at offsets
        ``0, 1, ...`` from each point, and where they run past the end of a one-sided axis the
        backward stencil (offsets ``..., -1, 0``); ``"backward"`` mirrors it. On periodic axes the
        offsets wrap around; with a padding mode they read the ghost samples.
      datetime_unit: the unit of date coordinates, ``timedelta64`` steps and periods, as in
        :func:`jaxgrad.gradient`: float64 offsets from the first sample in this unit (``None``:
        seconds); a ``ValueError`` without date spacing.
      where: a boolean array of ``f``'s shape (or broadcastable to it), True at valid samples.
        Every run of valid samples along ``axis`` is differentiated as if it were the whole axis:
        ``accuracy`` at its one-sided ends; a run too short for it gets the highest accuracy it
        holds (all its samples); a run of fewer than ``order + 1`` samples has no derivative.
        NaN at invalid samples and where there is no derivative; values at invalid samples never
        reach a valid output or a gradient. With ``boundary="periodic"`` runs wrap around the
        seam (a fully valid axis is the unmasked periodic derivative). ``where`` may be traced.
      halo: how an array sharded along ``axis`` is handled, as in :func:`jaxgrad.gradient`.

    Returns:
      An array of ``f``'s shape and dtype (integer data give JAX's default float dtype).

    Raises:
      ValueError: too few points for the order, accuracy, boundary and scheme; an odd accuracy
        with the central scheme; an order below 1; an unknown boundary or scheme; a non-finite
        ``cval``, or a nonzero one without a constant boundary; coordinates that repeat or are not
        monotone; a missing or misfit period; a bad ``datetime_unit`` (as in
        :func:`jaxgrad.gradient`); a ``where`` that does not broadcast to ``f``'s shape, or given
        with a padding boundary mode.
      TypeError: arguments of the wrong type; a ``cval`` that is not a scalar, or complex with
        real ``f``; a ``where`` that is not boolean.

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
      >>> f = jnp.array([1.0, 2.0, 4.0, 8.0])
      >>> jaxgrad.derivative(f, boundary="mirror")        # ghost f[1] left, f[-2] right
      Array([0. , 1.5, 3. , 0. ], dtype=float32)
      >>> jaxgrad.derivative(f, boundary="constant", cval=0.0)
      Array([ 1. ,  1.5,  3. , -2. ], dtype=float32)
      >>> jaxgrad.derivative(f, scheme="forward", accuracy=1)   # f[i+1] - f[i]; backward at the end
      Array([1., 2., 4., 4.], dtype=float32)
      >>> y = jnp.array([0.0, 1.0, 4.0, 9.0, 16.0, 0.0, 36.0, 49.0])   # y[5] is missing
      >>> jaxgrad.derivative(y, where=jnp.arange(8) != 5)   # runs of 5 and 2 samples
      Array([ 0.,  2.,  4.,  6.,  8., nan, 13., 13.], dtype=float32)
    """
    options = {"axis": axis, "order": order, "accuracy": accuracy, "boundary": boundary, "period": period,
               "cval": cval, "scheme": scheme, "datetime_unit": datetime_unit}
    if where is not None:
        return launch("derivative", _plan_masked, f, (spacing,), {**options, "where": where}, halo)
    return launch("derivative", _plan, f, (spacing,), options, halo)


# Dense matrices past this many rows are refused: 8192^2 float32 entries take 256 MiB already.
DENSE_MAX = 8192
# Sparse matrices index their rows and columns with JAX's default integers (int32 without x64).
SPARSE_MAX = 2**31 - 1


def _plan_matrix(
    n: Any, spacing: Any, *, order: Any, accuracy: Any, boundary: Any, period: Any, cval: Any, scheme: Any, format: Any
) -> Plan:
    """derivative_matrix's arguments checked: the plan of a derivative along axis 0 of an empty
    ``(n, 0)`` field, with errors that speak of ``n`` (the field is ours, not the user's)."""
    n = normalize_int(n, "n", 1)
    if not isinstance(format, str) or format not in ("dense", "sparse"):
        raise ValueError(f"format must be 'dense' or 'sparse', got {format!r}")
    if format == "dense" and n > DENSE_MAX:
        raise ValueError(
            f"a dense {n} x {n} derivative matrix would hold {n * n:.3g} entries; dense matrices are "
            f"limited to n <= {DENSE_MAX}: pass format='sparse'"
        )
    if n > SPARSE_MAX:
        raise ValueError(f"n is {n}, beyond the {SPARSE_MAX} rows a sparse matrix can index")
    if not isinstance(spacing, (str, bytes)) and rank(spacing, "spacing") == 1 and np.shape(spacing)[0] != n:
        raise ValueError(f"spacing has {np.shape(spacing)[0]} coordinates, but n is {n}")
    cval = normalize_cval(cval)
    if not is_traced(cval) and cval != 0:
        raise ValueError(
            f"cval={cval!r}: with nonzero constant ghost samples a derivative is affine (D @ f + cval * b), "
            f"not a matrix product; use cval=0 and add the bias, derivative(zeros, cval=cval, ...)"
        )
    try:
        return _plan(np.zeros((n, 0)), spacing, axis=0, order=order, accuracy=accuracy, boundary=boundary, period=period,
                     cval=cval, scheme=scheme)
    except ValueError as e:  # the field's length is n
        if str(e).startswith("f.shape[0] is"):
            raise ValueError("n" + str(e)[len("f.shape[0]") :]) from None
        raise


def derivative_matrix(
    n: int,
    spacing: ArrayLike = 1.0,
    *,
    order: int = 1,
    accuracy: int = 2,
    boundary: Boundary = "one-sided",
    period: ArrayLike | None = None,
    cval: ArrayLike = 0.0,
    scheme: Scheme = "central",
    format: Literal["dense", "sparse"] = "dense",
) -> Any:
    """The ``(n, n)`` matrix ``D`` with ``D @ f == derivative(f, spacing, order=..., ...)`` for 1-D ``f``.

    Useful for implicit time steps and boundary-value problems (``jnp.linalg.solve``), and to look
    at a scheme. The dense form is built by applying :func:`derivative` to the identity, so the two
    agree to rounding by construction; the sparse form holds only the stencils' entries
    (``n * (order + accuracy + 1)`` at most), for grids too large for a dense matrix. Both are
    differentiable with respect to the coordinates.

    Args:
      n: the number of grid points.
      spacing: a scalar step or a 1-D coordinate array of length ``n``, as in :func:`derivative`.
      order: the derivative's order, as in :func:`derivative`.
      accuracy: the order of accuracy, as in :func:`derivative`.
      boundary: the boundary mode, as in :func:`derivative`.
      period: the period of periodic coordinates, as in :func:`derivative`.
      cval: 0 only (the default): constant ghost samples are zeros. With a nonzero ``cval`` the
        derivative is affine, ``D @ f + b``, not a matrix product: a ``ValueError``.
      scheme: ``"central"``, ``"forward"`` or ``"backward"``, as in :func:`derivative`.
      format: ``"dense"`` (an array; at most ``DENSE_MAX = 8192`` rows) or ``"sparse"`` (a
        :class:`jax.experimental.sparse.BCOO` matrix: ``D @ f`` works under ``jit``, and
        ``D.todense()`` gives the dense form).

    Returns:
      An ``(n, n)`` matrix in JAX's default float dtype (the coordinates' float dtype, if wider).

    Raises:
      ValueError: a dense matrix of more than ``DENSE_MAX`` rows, an unknown ``format``, and every
        error of :func:`derivative` for these arguments.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> jaxgrad.derivative_matrix(4, order=1, accuracy=2)
      Array([[-1.5,  2. , -0.5,  0. ],
             [-0.5,  0. ,  0.5,  0. ],
             [ 0. , -0.5,  0. ,  0.5],
             [ 0. ,  0.5, -2. ,  1.5]], dtype=float32)
      >>> D = jaxgrad.derivative_matrix(10**6, 0.5, format="sparse")   # 2 million entries
      >>> D.shape, D.nse
      ((1000000, 1000000), 2000002)
      >>> bool(jnp.allclose(D @ jnp.arange(10**6.0), 2.0))
      True
    """
    plan = _plan_matrix(n, spacing, order=order, accuracy=accuracy, boundary=boundary, period=period, cval=cval,
                        scheme=scheme, format=format)
    n = plan.field.shape[0]
    if format == "dense":
        # Column j of D is the derivative of the j-th unit vector: the planned kernel applied to I
        # (the arguments are validated already).
        return plan.kernel(jnp.eye(n, dtype=jnp.result_type(float)), *plan.args, layout=None, **plan.static)
    spacing, period, _ = plan.args
    dtype = jnp.result_type(float)
    if jnp.ndim(spacing) == 1:
        dtype = jnp.promote_types(dtype, jnp.result_type(spacing))
    stencil = scheme_stencil(spacing, dtype, n, order=plan.static["order"], accuracy=plan.static["accuracy"],
                             boundary=plan.static["boundary"], period=period, scheme=plan.static["scheme"])
    values, indices = matrix_entries(stencil, n)
    return sparse.BCOO((values.astype(dtype), jnp.asarray(indices)), shape=(n, n))
