"""xarray integration: ``differentiate`` labelled arrays with jaxgrad (optional extra ``xarray``).

``import jaxgrad.xarray`` needs xarray (``pip install "jaxgrad[xarray]"``) and registers the
accessor ``obj.jaxgrad.differentiate(coord, ...)`` on every ``DataArray`` and ``Dataset``.
``import jaxgrad`` alone never imports xarray.

xarray objects are not JAX pytrees, so they cannot cross a ``jax.jit`` or ``jax.grad`` boundary:
inside a transformed function work on the raw arrays (``jaxgrad.gradient(da.data, x, axis=...)``)
and wrap the result outside it (see the "xarray and dates" page).
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from typing import Any, Literal, TypeVar

import jax
import numpy as np

try:
    import xarray as xr
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError('jaxgrad.xarray needs xarray: pip install "jaxgrad[xarray]"') from e

from jaxgrad._dates import (
    DatetimeUnit,
    as_date_array,
    check_unit,
    date_offsets,
    dates_as_values,
    duration_in_unit,
    own_unit,
)
from jaxgrad._derivative import derivative
from jaxgrad._gradient import gradient

__all__ = ["differentiate"]

XarrayObject = TypeVar("XarrayObject", xr.DataArray, xr.Dataset)

# The keywords of jaxgrad.derivative that differentiate passes on (API section 10b); those that this
# version's derivative lacks are refused with a clear message rather than ignored.
OPTIONS = ("order", "accuracy", "boundary", "period", "cval", "scheme", "where")


def _check_options(options: dict[str, Any], edge_order: Any) -> None:
    known = inspect.signature(derivative).parameters
    for name in options:
        if name not in OPTIONS:
            raise TypeError(
                f"differentiate got an unexpected keyword {name!r}: its options are {', '.join(OPTIONS)} "
                f"(those of jaxgrad.derivative)"
            )
        if name not in known:
            raise TypeError(f"the option {name!r} needs a newer jaxgrad: this version's jaxgrad.derivative has none")
    if options and edge_order != 1:
        raise ValueError(
            f"edge_order={edge_order!r} is gradient's; with derivative options ({', '.join(options)}) the "
            f"edges keep the scheme's `accuracy` instead: leave edge_order out"
        )


def _host_or_device(variable: xr.Variable) -> Any:
    """A variable's values: its JAX array as it is (no copy to the host), else numpy."""
    data = variable.data
    return data if isinstance(data, jax.Array) else variable.values


def _spacing(coord_var: xr.Variable, coord: Hashable, datetime_unit: str | None) -> tuple[Any, str | None]:
    """The coordinate as jaxgrad spacing, and the time unit in force (xarray's rule for None:
    the date coordinate's own unit)."""
    dtype = coord_var.dtype
    if dtype.kind in ("M", "m"):
        unit = datetime_unit or own_unit(dtype)
        return date_offsets(np.asarray(coord_var.values), unit, f"coordinate {coord!r}"), unit
    if dtype.kind == "O":
        raise TypeError(
            f"coordinate {coord!r} holds Python objects (cftime dates?); jaxgrad takes numbers or numpy "
            f"datetime64 coordinates: convert it first, e.g. with obj.convert_calendar('standard')"
        )
    return _host_or_device(coord_var), datetime_unit


def _differentiate_variable(
    name: Hashable, variable: xr.Variable, dim: Hashable, spacing: Any, unit: str | None, edge_order: Any,
    options: dict[str, Any], coord: Hashable,
) -> jax.Array:
    data = _host_or_device(variable)
    if variable.dtype.kind in ("M", "m"):  # xarray differentiates dates as numbers (their offsets) too
        data = dates_as_values(np.asarray(variable.values), unit, f"variable {name!r}")
    axis = variable.get_axis_num(dim)
    try:
        if options:
            return derivative(data, spacing, axis=axis, **options)
        out = gradient(data, spacing, axis=axis, edge_order=edge_order)
    except (TypeError, ValueError) as e:
        kind = TypeError if isinstance(e, TypeError) else ValueError
        raise kind(f"differentiating {name!r} along {coord!r}: {e}") from e
    assert isinstance(out, jax.Array)  # one axis: one array
    return out


def differentiate(
    obj: XarrayObject,
    coord: Hashable,
    edge_order: Literal[1, 2] = 1,
    datetime_unit: DatetimeUnit | None = None,
    **options: Any,
) -> XarrayObject:
    """xarray's ``obj.differentiate(coord, edge_order, datetime_unit)``, computed by jaxgrad.

    The same meaning and values as :meth:`xarray.DataArray.differentiate` (and
    :meth:`xarray.Dataset.differentiate`): the derivative along the 1-D coordinate ``coord`` by
    :func:`jaxgrad.gradient` (second-order central differences, ``edge_order`` at the edges). The
    result has ``obj``'s dims, coords and name, its data are ``jax.Array``; as in xarray, the
    differentiated variables lose their ``attrs`` (their units changed), the rest keep theirs.
    A ``Dataset`` differentiates every data variable that has ``coord``'s dimension and keeps the
    others as they are.

    Date coordinates follow xarray's rule: with ``datetime_unit=None`` the rate is per the
    coordinate's own unit (per nanosecond for pandas' ``datetime64[ns]``); pass ``"D"`` for a rate
    per day. Date or duration *data* are differentiated as offsets in that unit, like xarray does.

    Args:
      obj: an ``xarray.DataArray`` or ``xarray.Dataset``, backed by numpy or JAX arrays.
      coord: the name of a 1-D coordinate, or of a dimension (unit steps if it has no coordinate).
      edge_order: 1 or 2, the accuracy of the one-sided differences at the edges (gradient only).
      datetime_unit: the unit of a date coordinate: any fixed numpy unit from ``"W"`` to
        ``"as"``; ``None`` is the coordinate's own unit. Ignored for numeric coordinates (unless
        data variables hold dates), as in xarray.
      **options: ``order``, ``accuracy``, ``boundary``, ``period`` (a number, or a
        ``timedelta64`` for a date coordinate), ``cval``, ``scheme``, and, where jaxgrad has it,
        ``where``: with any of them the result is :func:`jaxgrad.derivative` along ``coord``
        instead of ``gradient``.

    Returns:
      An object of ``obj``'s type holding the derivatives.

    Raises:
      TypeError: ``obj`` is not a DataArray or Dataset; an unknown option, or one this jaxgrad's
        ``derivative`` lacks; a coordinate of Python objects (cftime dates).
      ValueError: ``coord`` is neither a coordinate nor a dimension, or not 1-D; ``edge_order``
        together with derivative options; non-monotone, repeated or NaT date coordinates; a
        ``datetime_unit`` of no fixed length (``"Y"``, ``"M"``) or unknown; and every error of
        :func:`jaxgrad.gradient` or :func:`jaxgrad.derivative`, prefixed by the variable's name.

    Examples:
      >>> import numpy as np, xarray as xr
      >>> import jaxgrad.xarray
      >>> da = xr.DataArray([0.0, 1.0, 4.0, 9.0], dims="x", coords={"x": [0.0, 1.0, 2.0, 3.0]}, name="f")
      >>> d = jaxgrad.xarray.differentiate(da, "x")
      >>> d.name, d.dims, type(d.data).__name__, d.values.tolist()
      ('f', ('x',), 'ArrayImpl', [1.0, 2.0, 4.0, 5.0])
      >>> da.differentiate("x").values.tolist()   # xarray's own
      [1.0, 2.0, 4.0, 5.0]
      >>> days = np.array(["2024-01-01", "2024-01-02", "2024-01-04"], dtype="datetime64[ns]")
      >>> price = xr.DataArray([10.0, 11.0, 19.0], coords={"time": days})
      >>> [round(v, 4) for v in price.jaxgrad.differentiate("time", datetime_unit="D").values.tolist()]
      [1.0, 2.0, 4.0]
    """
    if not isinstance(obj, (xr.DataArray, xr.Dataset)):
        raise TypeError(f"obj must be an xarray DataArray or Dataset, got {type(obj).__name__}")
    _check_options(options, edge_order)
    unit = check_unit(datetime_unit)
    names = obj.variables if isinstance(obj, xr.Dataset) else obj.coords
    if coord not in names and coord not in obj.dims:
        raise ValueError(
            f"coord {coord!r} is neither a coordinate nor a dimension of this {type(obj).__name__}: "
            f"coordinates {list(obj.coords)}, dimensions {list(obj.dims)}"
        )
    coord_var = obj[coord].variable
    if coord_var.ndim != 1:
        raise ValueError(f"coord {coord!r} must be 1-dimensional, but it has dimensions {coord_var.dims}")
    (dim,) = coord_var.dims
    spacing, unit = _spacing(coord_var, coord, unit)
    length = as_date_array(options.get("period"))
    if length is not None and length.ndim == 0 and unit is not None:  # a timedelta64 period, in the unit in force
        options["period"] = duration_in_unit(length, unit, "period")

    def derivative_of(name: Hashable, variable: xr.Variable) -> jax.Array:
        return _differentiate_variable(name, variable, dim, spacing, unit, edge_order, options, coord)

    if isinstance(obj, xr.DataArray):
        out = obj.copy(data=derivative_of(obj.name, obj.variable))
        out.attrs = {}
        return out
    changed = {
        name: xr.Variable(array.dims, derivative_of(name, array.variable))
        for name, array in obj.data_vars.items()
        if dim in array.dims
    }
    return obj.assign(changed)


@xr.register_dataset_accessor("jaxgrad")
@xr.register_dataarray_accessor("jaxgrad")
class JaxgradAccessor:
    """``obj.jaxgrad``: jaxgrad's methods on xarray objects, registered by ``import jaxgrad.xarray``.

    Examples:
      >>> import xarray as xr, jaxgrad.xarray
      >>> xr.DataArray([0.0, 1.0, 4.0], dims="x").jaxgrad.differentiate("x").values.tolist()
      [1.0, 2.0, 3.0]
    """

    def __init__(self, obj: xr.DataArray | xr.Dataset) -> None:
        self._obj: Any = obj

    def differentiate(
        self, coord: Hashable, edge_order: Literal[1, 2] = 1, datetime_unit: DatetimeUnit | None = None,
        **options: Any,
    ) -> Any:
        """:func:`jaxgrad.xarray.differentiate` of this object: see there."""
        return differentiate(self._obj, coord, edge_order, datetime_unit, **options)
