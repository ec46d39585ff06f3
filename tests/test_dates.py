"""Date coordinates (jaxgrad/_dates.py): datetime64/timedelta64 spacing in gradient and derivative."""

import datetime

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from jaxgrad._dates import UNITS, as_date_array, convert_dates, date_offsets

# Hourly samples with gaps (a missing hour, a missing half day), as datetime64[ns].
TIMES = np.datetime64("2024-03-01T00:00", "ns") + np.array([0, 1, 2, 4, 5, 17, 18, 20], dtype="timedelta64[h]")
HOURS = np.array([0, 1, 2, 4, 5, 17, 18, 20], dtype=np.float64)
F = np.sin(HOURS / 5.0) + HOURS


def test_date_coordinates_are_offsets_in_seconds_by_default(x64):
    expected = np.gradient(F, HOURS * 3600.0)
    np.testing.assert_allclose(jaxgrad.gradient(F, TIMES), expected, rtol=1e-14)
    np.testing.assert_allclose(jaxgrad.gradient(F, TIMES, edge_order=2), np.gradient(F, HOURS * 3600.0, edge_order=2),
                               rtol=1e-14)


def test_units_scale_the_rate(x64):
    per_day = jaxgrad.gradient(F, TIMES, datetime_unit="D")
    per_hour = jaxgrad.gradient(F, TIMES, datetime_unit="h")
    np.testing.assert_allclose(per_day, 24 * per_hour, rtol=1e-14)
    np.testing.assert_allclose(jaxgrad.gradient(F, TIMES, datetime_unit="W"), 7 * per_day, rtol=1e-14)
    np.testing.assert_allclose(jaxgrad.gradient(F, TIMES, datetime_unit="m"), per_hour / 60, rtol=1e-14)
    np.testing.assert_allclose(jaxgrad.gradient(F, TIMES, datetime_unit="ps"), per_hour / 3.6e15, rtol=1e-14)


@pytest.mark.parametrize("unit", UNITS)
def test_every_fixed_unit_converts_one_hour(unit):
    hour_in_seconds = {"W": 1 / 168, "D": 1 / 24, "h": 1.0, "m": 60.0, "s": 3600.0, "ms": 3.6e6, "us": 3.6e9,
                       "ns": 3.6e12, "ps": 3.6e15, "fs": 3.6e18, "as": 3.6e21}[unit]
    offsets = date_offsets(TIMES[:2], unit)
    assert offsets[0] == 0.0
    np.testing.assert_allclose(offsets[1], hour_in_seconds, rtol=1e-15)


def test_nanosecond_timestamps_keep_millisecond_steps_exact(x64):
    start = np.datetime64("2024-06-30T23:59:59.123456789", "ns")
    t = start + np.arange(2000) * np.timedelta64(1, "ms")
    # The timestamps themselves as float64 are rounded to 256 ns: their steps are not 1 ms.
    naive = np.diff(t.astype(np.int64).astype(np.float64))
    assert not np.all(naive == 1e6)
    # Offsets from the first sample are exact: integers in ms, correctly rounded thousandths in s.
    assert np.array_equal(date_offsets(t, "ms"), np.arange(2000.0))
    assert np.array_equal(date_offsets(t, "s"), np.arange(2000) / 1e3)
    line = 3.0 * np.arange(2000.0)  # 3 units per millisecond
    assert np.array_equal(np.asarray(jaxgrad.gradient(line, t, datetime_unit="ms")), np.full(2000, 3.0))
    np.testing.assert_allclose(jaxgrad.gradient(line, t), 3000.0, rtol=1e-12)


def test_timedelta_coordinates_and_steps(x64):
    elapsed = TIMES - TIMES[0] + np.timedelta64(90, "m")  # timedelta64[ns], not starting at zero
    np.testing.assert_allclose(jaxgrad.gradient(F, elapsed, datetime_unit="h"), np.gradient(F, HOURS), rtol=1e-14)
    step = np.timedelta64(15, "m")
    np.testing.assert_allclose(jaxgrad.gradient(F, step, datetime_unit="h"), np.gradient(F, 0.25), rtol=1e-14)
    np.testing.assert_allclose(jaxgrad.gradient(F, datetime.timedelta(minutes=15)), np.gradient(F, 900.0), rtol=1e-14)


def test_several_axes_mix_dates_and_numbers(x64):
    f = np.outer(np.arange(3.0) ** 2, F)
    d0, d1 = jaxgrad.gradient(f, 0.5, TIMES, datetime_unit="h")
    e0, e1 = np.gradient(f, 0.5, HOURS)
    np.testing.assert_allclose(d0, e0, rtol=1e-14)
    np.testing.assert_allclose(d1, e1, rtol=1e-14)


def test_decreasing_dates(x64):
    np.testing.assert_allclose(jaxgrad.gradient(F[::-1], TIMES[::-1], datetime_unit="h"),
                               np.gradient(F[::-1], HOURS[::-1]), rtol=1e-13)


def test_calendar_dates_python_and_pandas_objects(x64):
    months = np.array(["2024-01", "2024-02", "2024-03", "2024-04"], dtype="datetime64[M]")
    assert np.array_equal(date_offsets(months, "D"), [0.0, 31.0, 60.0, 91.0])  # 2024 is a leap year
    days = [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 4)]
    f = np.array([10.0, 11.0, 19.0])
    expected = np.gradient(f, [0.0, 1.0, 3.0])
    np.testing.assert_allclose(jaxgrad.gradient(f, days, datetime_unit="D"), expected, rtol=1e-14)
    stamps = [datetime.datetime(2024, 1, d, 12) for d in (1, 2, 4)]
    np.testing.assert_allclose(jaxgrad.gradient(f, stamps, datetime_unit="D"), expected, rtol=1e-14)
    pd = pytest.importorskip("pandas")
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"])
    np.testing.assert_allclose(jaxgrad.gradient(f, index, datetime_unit="D"), expected, rtol=1e-14)


def test_derivative_with_dates_and_a_timedelta_period(x64):
    f = np.cos(HOURS) * HOURS
    np.testing.assert_allclose(
        jaxgrad.derivative(f, TIMES, order=2, accuracy=4, datetime_unit="h"),
        jaxgrad.derivative(f, HOURS, order=2, accuracy=4), rtol=1e-12,
    )
    got = jaxgrad.derivative(f, TIMES, boundary="periodic", period=np.timedelta64(1, "D"), datetime_unit="h")
    np.testing.assert_allclose(got, jaxgrad.derivative(f, HOURS, boundary="periodic", period=24.0), rtol=1e-12)
    # A number as period is in datetime_unit.
    got = jaxgrad.derivative(f, TIMES, boundary="periodic", period=24.0, datetime_unit="h")
    np.testing.assert_allclose(got, jaxgrad.derivative(f, HOURS, boundary="periodic", period=24.0), rtol=1e-12)


def test_inside_jit_and_grad():
    # Dates are host data: closed over (or static), never a traced argument; values stay differentiable.
    rate = jax.jit(lambda f: jaxgrad.gradient(f, TIMES, datetime_unit="h"))
    np.testing.assert_allclose(rate(jnp.asarray(F)), np.gradient(F, HOURS), rtol=1e-5)
    g = jax.grad(lambda f: jnp.sum(jaxgrad.gradient(f, TIMES, datetime_unit="h") ** 2))(jnp.asarray(F))
    assert g.shape == F.shape and bool(jnp.all(jnp.isfinite(g)))


@pytest.mark.parametrize("unit", ["Y", "M", "days", "B", ""])
def test_units_without_a_fixed_length_or_unknown(unit):
    with pytest.raises(ValueError, match="datetime_unit"):
        jaxgrad.gradient(F, TIMES, datetime_unit=unit)
    with pytest.raises(ValueError, match="datetime_unit"):
        jaxgrad.derivative(F, TIMES, datetime_unit=unit)


def test_unit_of_the_wrong_type():
    with pytest.raises(TypeError, match="datetime_unit"):
        jaxgrad.gradient(F, TIMES, datetime_unit=3600)


def test_unit_without_dates_is_an_error():
    f = jnp.asarray(F)
    jaxgrad.gradient(f, 0.5)  # remembered on the fast path: datetime_unit must still be checked
    with pytest.raises(ValueError, match="datetime_unit='D' is given, but no spacing is datetime64"):
        jaxgrad.gradient(f, 0.5, datetime_unit="D")
    with pytest.raises(ValueError, match="datetime_unit"):
        jaxgrad.derivative(f, HOURS, datetime_unit="h")


def test_datetime_values_are_a_type_error():
    with pytest.raises(TypeError, match="f must hold numbers"):
        jaxgrad.gradient(TIMES)
    with pytest.raises(TypeError, match="f must hold numbers"):
        jaxgrad.derivative(TIMES, 1.0)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (TIMES[[0, 2, 1, 3, 4, 5, 6, 7]], ValueError, "strictly increasing or strictly decreasing"),
        (TIMES[[0, 1, 1, 3, 4, 5, 6, 7]], ValueError, "repeats the date"),
        (np.where(np.arange(8) == 3, np.datetime64("NaT"), TIMES), ValueError, "NaT"),
        (np.stack([TIMES, TIMES]), ValueError, "1-D"),
        (TIMES[0], TypeError, "point in time"),
        (np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="timedelta64[M]"), ValueError, "no fixed"),
        (TIMES[:5], ValueError, "length 5"),
    ],
)
def test_bad_date_coordinates(bad, error, message):
    with pytest.raises(error, match=message):
        jaxgrad.gradient(F, bad)


def test_bad_dates_name_the_argument():
    with pytest.raises(ValueError, match=r"spacing\[1\] repeats"):
        jaxgrad.gradient(np.ones((3, 8)), 1.0, TIMES[[0, 1, 1, 3, 4, 5, 6, 7]])
    with pytest.raises(ValueError, match="^spacing must be strictly"):
        jaxgrad.derivative(F, TIMES[::-1][[0, 2, 1, 3, 4, 5, 6, 7]])


def test_numbers_pass_through_untouched():
    x = jnp.arange(3.0)
    spacing = (0.5, x, [0.0, 1.0, 2.0])
    assert convert_dates(spacing, None) == (spacing, None)
    assert as_date_array(x) is None and as_date_array(1.0) is None and as_date_array([1.0, 2.0]) is None


def test_a_duration_period_needs_date_coordinates():
    with pytest.raises(TypeError, match="period is a time duration"):
        jaxgrad.derivative(np.arange(6.0) ** 2, np.arange(6.0), boundary="periodic", period=np.timedelta64(6, "D"))
