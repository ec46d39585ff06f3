"""Date and time coordinates: ``datetime64`` and ``timedelta64`` spacing as float offsets.

JAX has no date dtype, so dates never reach a kernel: planners call :func:`convert_dates` first,
which turns date coordinates into float64 offsets from their first sample, in ``datetime_unit``,
on the host. The offsets are computed from the exact integer counts of the dates' own unit and
scaled once, so nanosecond timestamps of this century keep millisecond steps exact: converting the
timestamps themselves to float64 would round them to 256 ns, and to float32 to minutes.

Calendar units (``"Y"``, ``"M"``) have no fixed length and are refused as ``datetime_unit``;
``datetime64[M]`` or ``[Y]`` *coordinates* are fine (each month or year starts at a definite day).
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from typing import Any, Literal

import numpy as np

DatetimeUnit = Literal["W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]

# The length of every fixed numpy unit, in attoseconds (numpy's finest unit): exact integers, so
# the ratio of any two units is an exact fraction.
_ATTOSECONDS = {
    "W": 7 * 86400 * 10**18,
    "D": 86400 * 10**18,
    "h": 3600 * 10**18,
    "m": 60 * 10**18,
    "s": 10**18,
    "ms": 10**15,
    "us": 10**12,
    "ns": 10**9,
    "ps": 10**6,
    "fs": 10**3,
    "as": 1,
}
UNITS: tuple[str, ...] = tuple(_ATTOSECONDS)
DEFAULT_UNIT = "s"  # the unit of date coordinates when datetime_unit is None
_INT64_MAX = 2**63 - 1
_DATE_SCALARS = (datetime.date, datetime.timedelta, np.datetime64, np.timedelta64)  # datetime is a date


def check_unit(datetime_unit: Any) -> str | None:
    """``datetime_unit`` checked: None or one of :data:`UNITS`."""
    if datetime_unit is None:
        return None
    if not isinstance(datetime_unit, str):
        raise TypeError(f"datetime_unit must be a string such as 'D' or 's', got {datetime_unit!r}")
    if datetime_unit not in _ATTOSECONDS:
        why = " (months and years have no fixed length)" if datetime_unit in ("Y", "M") else ""
        raise ValueError(f"datetime_unit must be one of {', '.join(map(repr, UNITS))}, got {datetime_unit!r}{why}")
    return datetime_unit


def as_date_array(value: Any) -> np.ndarray | None:
    """``value`` as a numpy ``datetime64``/``timedelta64`` array if it holds dates or durations
    (numpy or pandas dates, Python ``datetime``/``timedelta`` objects, lists of them), else None.

    Cheap for everything else: plain numbers, JAX arrays and tracers are recognised by type or dtype
    without a conversion."""
    if type(value) in (float, int):
        return None
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        kind = getattr(dtype, "kind", None)
        if kind in ("M", "m"):
            array = np.asarray(value)  # a tz-aware pandas index becomes an object array here
            return array if array.dtype.kind in ("M", "m") else _from_objects(array)
        return _from_objects(value) if kind == "O" and isinstance(value, np.ndarray) else None
    if isinstance(value, _DATE_SCALARS):
        return _from_objects(np.array(value, dtype=object))
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            return None  # ragged or odd: left to the numeric checks, which say what is wrong
        if array.dtype.kind in ("M", "m"):
            return array
        return _from_objects(array) if array.dtype.kind == "O" else None
    return None


def _from_objects(array: np.ndarray) -> np.ndarray | None:
    """An object array of Python (or pandas) dates or durations as datetime64/timedelta64."""
    if array.size == 0 or not isinstance(array.flat[0], _DATE_SCALARS):
        return None
    first = array.flat[0]
    kind = "timedelta64" if isinstance(first, (datetime.timedelta, np.timedelta64)) else "datetime64"
    try:
        return np.asarray(array, dtype=kind)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"could not convert these dates to numpy {kind} ({e}); pass timezone-naive numpy datetime64 "
            f"(e.g. a pandas index converted with .tz_convert(None))"
        ) from None


def _counts(x: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """The integer counts of dates or durations in their own unit, and that unit's length in
    attoseconds. Calendar datetimes (months, years) are counted in days from their definite start."""
    unit, multiple = np.datetime_data(x.dtype)
    if unit in ("Y", "M"):
        if x.dtype.kind == "m":
            raise ValueError(
                f"{name} is a timedelta64 in {'years' if unit == 'Y' else 'months'}, which have no fixed "
                f"length; convert it to days or a finer unit first"
            )
        x, unit, multiple = x.astype("datetime64[D]"), "D", 1
    if unit not in _ATTOSECONDS:
        raise TypeError(f"{name} has dtype {x.dtype} without a time unit; give it one, e.g. datetime64[s]")
    native = x.astype(x.dtype.newbyteorder("="), copy=False)
    return native.view(np.int64), multiple * _ATTOSECONDS[unit]


def _scaled(counts: np.ndarray, length: int, unit: str) -> np.ndarray:
    """Integer counts of ``length`` attoseconds as float64 in ``unit``: one exact ratio, and one
    rounding where it is an integer or the reciprocal of one (always, between numpy's units)."""
    ratio = Fraction(length, _ATTOSECONDS[unit])
    out = counts.astype(np.float64)
    if ratio.numerator != 1:
        out *= float(ratio.numerator)
    if ratio.denominator != 1:
        out /= float(ratio.denominator)
    return out


def date_offsets(x: np.ndarray, unit: str, name: str = "spacing") -> np.ndarray:
    """1-D date (or duration) coordinates as float64 offsets from the first sample, in ``unit``.

    They must be free of NaT and strictly increasing or strictly decreasing.

    Examples:
      >>> import numpy as np
      >>> t = np.array(["2024-03-01T00:00", "2024-03-01T06:00", "2024-03-02T00:00"], dtype="datetime64[ns]")
      >>> date_offsets(t, "h")
      array([ 0.,  6., 24.])
    """
    if x.size == 0:
        return np.zeros(0)
    nat = np.isnat(x)
    if nat.any():
        raise ValueError(f"{name} contains NaT (not a time) at index {int(np.argmax(nat))}")
    counts, length = _counts(x, name)
    if int(counts.max()) - int(counts.min()) > _INT64_MAX:
        raise ValueError(f"{name} spans more than 2**63 units of {x.dtype}; use a coarser datetime64 unit")
    steps = np.diff(counts)
    if (steps == 0).any():
        i = int(np.argmax(steps == 0))
        raise ValueError(f"{name} repeats the date {x[i]} (at {i} and {i + 1})")
    if steps.size and not ((steps > 0).all() or (steps < 0).all()):
        i = int(np.argmax(np.sign(steps) != np.sign(steps[0])))
        raise ValueError(
            f"{name} must be strictly increasing or strictly decreasing dates: {x[i + 1]} (at {i + 1}) "
            f"follows {x[i]} (at {i}) against the direction of the first step"
        )
    return _scaled(counts - counts[0], length, unit)


def duration_in_unit(x: np.ndarray, unit: str, name: str) -> float:
    """A 0-d ``timedelta64`` (a step or a period) as a float in ``unit``."""
    if x.dtype.kind != "m":
        raise TypeError(
            f"{name} is a datetime64, a point in time, not a length of time: pass a timedelta64 "
            f"(a step) or an array of datetime64 (coordinates)"
        )
    if np.isnat(x):
        raise ValueError(f"{name} is NaT (not a time)")
    counts, length = _counts(x.reshape(1), name)
    return float(_scaled(counts, length, unit)[0])


def own_unit(dtype: np.dtype) -> str:
    """The unit of a datetime64/timedelta64 dtype as a ``datetime_unit`` (days for calendar units)."""
    unit = np.datetime_data(dtype)[0]
    if unit in ("Y", "M"):
        return "D"
    if unit not in _ATTOSECONDS:
        raise TypeError(f"dtype {dtype} has no time unit")
    return unit


def dates_as_values(x: np.ndarray, unit: str | None, name: str) -> np.ndarray:
    """Dates or durations used as *data*: float64 offsets from their earliest value in ``unit``
    (their own unit if None), NaT as NaN. Any shape, any order."""
    nat = np.isnat(x)
    out = np.full(x.shape, np.nan)
    if nat.all():
        return out
    counts, length = _counts(x, name)
    valid = counts[~nat]
    lowest = int(valid.min())
    if int(valid.max()) - lowest > _INT64_MAX:
        raise ValueError(f"{name} spans more than 2**63 units of {x.dtype}")
    out[~nat] = _scaled(valid - lowest, length, unit or own_unit(x.dtype))
    return out


def convert_dates(spacing: tuple[Any, ...], datetime_unit: Any, period: Any = None) -> tuple[tuple[Any, ...], Any]:
    """Date spacing entries and ``timedelta64`` periods converted to floats in ``datetime_unit``.

    Every other entry (numbers, numeric arrays, tracers) is returned as it is. ``spacing`` holds one
    raw entry per spacing argument; ``period`` is a scalar, a per-axis tuple or None. A date array
    becomes its offsets from its first sample (:func:`date_offsets`), a ``timedelta64`` step or
    period its length. ``datetime_unit=None`` means seconds; a ``datetime_unit`` given where
    nothing is a date or a duration is a ``ValueError`` (it would silently do nothing).
    """
    unit = check_unit(datetime_unit)
    converted = list(spacing)
    dated = False
    for i, value in enumerate(spacing):
        dates = as_date_array(value)
        if dates is None:
            continue
        dated = True
        name = "spacing" if len(spacing) == 1 else f"spacing[{i}]"
        if dates.ndim == 0:
            converted[i] = duration_in_unit(dates, unit or DEFAULT_UNIT, f"{name} (a scalar step)")
        elif dates.ndim == 1:
            converted[i] = date_offsets(dates, unit or DEFAULT_UNIT, name)
        else:
            raise ValueError(f"{name}: date coordinates must be a 1-D array, got shape {dates.shape}")
    spacing_dated = dated
    if period is not None:
        periods = period if isinstance(period, (tuple, list)) else (period,)
        out = []
        for value in periods:
            length = as_date_array(value)
            if length is not None:
                dated = True
                if length.ndim != 0:
                    raise TypeError(f"period must be a scalar (or one per axis), got shape {length.shape}")
                if not spacing_dated:
                    raise TypeError("period is a time duration, but the spacing holds no dates: give the period in the coordinates' own units")
                value = duration_in_unit(length, unit or DEFAULT_UNIT, "period")
            out.append(value)
        period = type(period)(out) if isinstance(period, (tuple, list)) else out[0]
    if unit is not None and not dated:
        raise ValueError(
            f"datetime_unit={unit!r} is given, but no spacing is datetime64 or timedelta64: the unit "
            f"applies only to date coordinates and time steps; leave datetime_unit out for numbers"
        )
    return (tuple(converted) if dated else spacing), period
