"""jaxgrad.xarray: differentiate DataArrays and Datasets, compared with xarray's own differentiate."""

import inspect
import subprocess
import sys

import pytest

xr = pytest.importorskip("xarray")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxgrad  # noqa: E402
import jaxgrad.xarray  # noqa: E402
from conftest import uneven_coordinates  # noqa: E402
from jaxgrad.xarray import differentiate  # noqa: E402

RNG = np.random.default_rng(14)
DIMS = ("t", "y", "x")
SIZES = {"t": 6, "y": 5, "x": 7}


def on_host(obj):
    """A copy with numpy data (jaxgrad gives jax.Arrays), for xarray's comparisons."""
    if isinstance(obj, xr.Dataset):
        return obj.map(on_host, keep_attrs=True)
    return obj.copy(data=np.asarray(obj.data))


def assert_same(ours, theirs, rtol=1e-12):
    """Values to ``rtol``, and dims, coords, names, attrs exactly as xarray's result has them."""
    arrays = ours.data_vars.values() if isinstance(ours, xr.Dataset) else [ours]
    for a in arrays:
        assert isinstance(a.data, (jax.Array, np.ndarray))
    xr.testing.assert_allclose(on_host(ours), theirs, rtol=rtol, atol=0)
    assert ours.attrs == theirs.attrs
    if isinstance(ours, xr.Dataset):
        assert list(ours.data_vars) == list(theirs.data_vars)
        for name in ours.variables:
            assert ours[name].attrs == theirs[name].attrs, name
    else:
        assert ours.name == theirs.name and ours.dims == theirs.dims


def field(dims, coords="uneven"):
    shape = tuple(SIZES[d] for d in dims)
    data = RNG.normal(size=shape)
    cs = {}
    for d in dims:
        n = SIZES[d]
        if d == "t":
            cs[d] = np.datetime64("2024-01-01", "ns") + np.cumsum(RNG.integers(1, 48, n)).astype("timedelta64[h]")
        elif coords == "uneven":
            cs[d] = uneven_coordinates(RNG, n)
        else:
            cs[d] = 0.25 * np.arange(n)
    return xr.DataArray(data, dims=dims, coords=cs, name="v", attrs={"units": "K"})


CASES = [(dims, d) for dims in [("x",), ("y", "x"), DIMS] for d in dims]


@pytest.mark.parametrize("dims, coord", CASES)
@pytest.mark.parametrize("edge_order", [1, 2])
def test_matches_xarray(x64, dims, coord, edge_order):
    da = field(dims)
    assert_same(differentiate(da, coord, edge_order), da.differentiate(coord, edge_order))


@pytest.mark.parametrize("unit", [None, "D", "h", "s"])
def test_date_coordinates_follow_xarray(x64, unit):
    da = field(("t", "x"), coords="uniform")
    ours = differentiate(da, "t", datetime_unit=unit)
    assert_same(ours, da.differentiate("t", datetime_unit=unit))
    if unit == "D":
        hourly = differentiate(da, "t", datetime_unit="h")
        np.testing.assert_allclose(ours.values, 24 * hourly.values, rtol=1e-12, atol=1e-12)


def test_none_means_the_coordinates_own_unit(x64):
    days = np.array(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"], dtype="datetime64[s]")
    da = xr.DataArray([0.0, 2.0, 5.0, 6.0], coords={"time": days})
    unit = np.datetime_data(da.time.dtype)[0]  # as xarray stores it
    ours = differentiate(da, "time")
    assert_same(ours, da.differentiate("time"))
    np.testing.assert_allclose(ours.values * {"s": 86400, "ms": 86400e3, "us": 86400e6, "ns": 86400e9}[unit],
                               differentiate(da, "time", datetime_unit="D").values, rtol=1e-13)


def test_timedelta_coordinate(x64):
    da = xr.DataArray(np.arange(5.0) ** 2, coords={"lag": np.array([0, 1, 3, 4, 8], dtype="timedelta64[m]")})
    assert_same(differentiate(da, "lag"), da.differentiate("lag"))
    assert_same(differentiate(da, "lag", datetime_unit="h"), da.differentiate("lag", datetime_unit="h"))


def test_float32_matches_to_float32_rounding():
    da = field(("y", "x"))
    ours = differentiate(da, "x")
    assert ours.dtype == jnp.float32
    np.testing.assert_allclose(ours.values, da.differentiate("x").values, rtol=2e-5, atol=2e-5)


def test_dataset(x64):
    da = field(DIMS)
    ds = xr.Dataset(
        {
            "v": da,
            "w": (("x", "y"), RNG.normal(size=(7, 5)), {"units": "m"}),  # another dim order
            "flat": ("y", np.arange(5.0), {"units": "s"}),  # lacks x: kept as it is
            "stamp": ("x", np.datetime64("2024-01-01") + np.array([0, 1, 3, 4, 6, 7, 9], dtype="timedelta64[D]")),
        },
        coords={"label": ("x", list("abcdefg"))},  # a non-index coordinate along x: kept
        attrs={"title": "test"},
    )
    ours = differentiate(ds, "x", datetime_unit="D")
    assert_same(ours, ds.differentiate("x", datetime_unit="D"))
    assert ours["flat"].attrs == {"units": "s"} and isinstance(ours["flat"].data, np.ndarray)
    assert isinstance(ours["w"].data, jax.Array)
    assert_same(differentiate(ds, "t", edge_order=2), ds.differentiate("t", edge_order=2))


def test_dimension_without_coordinate(x64):
    da = xr.DataArray(np.arange(6.0) ** 2, dims="i")
    assert_same(differentiate(da, "i"), da.differentiate("i"))


def test_jax_backed_input(x64):
    da = field(("y", "x"))
    on_device = da.copy(data=jnp.asarray(da.values))
    assert isinstance(on_device.data, jax.Array)
    ours = differentiate(on_device, "x", edge_order=2)
    assert isinstance(ours.data, jax.Array)
    assert_same(ours, da.differentiate("x", edge_order=2))
    ds = xr.Dataset({"a": on_device, "b": on_device * 2})
    assert_same(differentiate(ds, "y"), xr.Dataset({"a": da, "b": da * 2}).differentiate("y"))


def test_accessor(x64):
    da = field(("t", "x"))
    assert_same(da.jaxgrad.differentiate("x"), da.differentiate("x"))
    assert_same(da.jaxgrad.differentiate("t", 2, "D"), da.differentiate("t", 2, "D"))
    ds = xr.Dataset({"v": da})
    assert_same(ds.jaxgrad.differentiate("x", edge_order=2), ds.differentiate("x", edge_order=2))


def test_options_switch_to_derivative(x64):
    da = field(("y", "x"))
    x = da.x.values
    got = differentiate(da, "x", order=2, accuracy=2)
    np.testing.assert_allclose(got.values, jaxgrad.derivative(da.values, x, axis=1, order=2), rtol=1e-12)
    assert got.dims == da.dims and got.name == "v"
    # order 1, accuracy 2: gradient with edge_order=2, as xarray's.
    assert_same(differentiate(da, "x", accuracy=2), da.differentiate("x", edge_order=2), rtol=1e-10)


def test_timedelta_period_on_a_date_coordinate(x64):
    hours = np.arange(24.0)
    da = xr.DataArray(np.sin(2 * np.pi * hours / 24), coords={"time": np.datetime64("2024-01-01T00", "ns")
                                                             + hours.astype("timedelta64[h]")})
    got = differentiate(da, "time", boundary="periodic", period=np.timedelta64(1, "D"), datetime_unit="h")
    expected = jaxgrad.derivative(da.values, 1.0, boundary="periodic")
    np.testing.assert_allclose(got.values, expected, rtol=1e-12)


def test_datetime_data_variable_like_xarray(x64):
    arrival = np.datetime64("2024-01-01T00", "ns") + np.array([0, 2, 3, 7, 8], dtype="timedelta64[h]")
    da = xr.DataArray(arrival, coords={"km": [0.0, 1.0, 2.5, 3.0, 5.0]}, name="arrival")
    assert_same(differentiate(da, "km"), da.differentiate("km"))
    assert_same(differentiate(da, "km", datetime_unit="h"), da.differentiate("km", datetime_unit="h"))


def test_under_jit_and_grad_use_the_raw_arrays(x64):
    da = field(("y", "x"))
    x = jnp.asarray(da.x.values)

    @jax.jit
    def slope(values, x):
        return jaxgrad.gradient(values, x, axis=da.get_axis_num("x"))

    wrapped = da.copy(data=slope(jnp.asarray(da.values), x))  # wrapped outside the jit
    xr.testing.assert_allclose(on_host(wrapped), da.differentiate("x"), rtol=1e-12)
    loss = lambda values: jnp.sum(slope(values, x) ** 2)
    assert jax.grad(loss)(jnp.asarray(da.values)).shape == da.shape


@pytest.mark.parametrize(
    "coord, kwargs, error, message",
    [
        ("z", {}, ValueError, "coord 'z' is neither a coordinate nor a dimension"),
        ("lat2d", {}, ValueError, "coord 'lat2d' must be 1-dimensional"),
        ("x", {"foo": 1}, TypeError, "unexpected keyword 'foo'"),
        ("x", {"edge_order": 2, "order": 2}, ValueError, "edge_order=2 is gradient's"),
        ("t", {"datetime_unit": "M"}, ValueError, "datetime_unit"),
        ("x", {"order": 2, "accuracy": 8}, ValueError, "differentiating 'v' along 'x': f.shape"),
    ],
)
def test_bad_input(coord, kwargs, error, message):
    da = field(("t", "x")).assign_coords(lat2d=(("t", "x"), np.zeros((6, 7))))
    with pytest.raises(error, match=message):
        differentiate(da, coord, **kwargs)


def test_bad_dates():
    da = field(("t", "x"))
    t = da.t.values
    with pytest.raises(ValueError, match="coordinate 't' must be strictly increasing or strictly decreasing"):
        differentiate(da.assign_coords(t=t[[0, 2, 1, 3, 4, 5]]), "t")
    with pytest.raises(ValueError, match="coordinate 't' repeats the date"):
        differentiate(da.assign_coords(t=t[[0, 1, 1, 3, 4, 5]]), "t")


def test_schemes_and_boundary_modes_pass_through():
    da = field(("t", "x"))
    x = da.x.values
    for options in ({"scheme": "forward", "accuracy": 1}, {"boundary": "constant", "cval": 2.0, "order": 2}):
        got = differentiate(da, "x", **options)
        want = jaxgrad.derivative(da.values, x, axis=1, **options)
        np.testing.assert_allclose(np.asarray(got.data), np.asarray(want), rtol=1e-6, atol=1e-6)


def test_options_this_version_lacks_and_wrong_objects():
    da = field(("x",))
    for option in ("scheme", "where"):
        if option not in inspect.signature(jaxgrad.derivative).parameters:
            with pytest.raises(TypeError, match=f"option '{option}' needs a newer jaxgrad"):
                differentiate(da, "x", **{option: None})
    with pytest.raises(TypeError, match="DataArray or Dataset"):
        differentiate(da.values, "x")


def test_import_jaxgrad_does_not_import_xarray():
    code = "import jaxgrad, sys; assert 'xarray' not in sys.modules, 'xarray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
