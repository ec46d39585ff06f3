"""Labelled data: xarray objects and date coordinates, differentiated by jaxgrad.

1. A bathymetry and topography grid of the Pacific Northwest (shipped with matplotlib, with its
   latitude and longitude) as an ``xarray.DataArray``: its derivatives along both coordinates, in
   metres per degree, with ``jaxgrad.xarray.differentiate``, then the slope in metres per km.
2. Google's daily closing prices (also shipped with matplotlib): real trading dates, with weekend
   and holiday gaps, as a time coordinate. The rate of change in dollars per calendar day comes
   from the ``datetime64`` coordinate itself (``datetime_unit="D"``): a gap of three days counts
   as three days.

Both print the largest difference from xarray's own ``differentiate`` on the numpy data. Nothing
is downloaded.

Run:  python examples/xarray_dates.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax
import matplotlib
import numpy as np
import xarray as xr
from matplotlib import cbook

import jaxgrad.xarray  # registers the accessor obj.jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

KM_PER_DEGREE = 111.2  # of latitude, and of longitude at the equator


def max_difference(ours: xr.DataArray, theirs: xr.DataArray) -> float:
    return float(np.max(np.abs(np.asarray(ours.data) - theirs.values)))


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    jax.config.update("jax_enable_x64", True)  # float64, as xarray computes: the numbers agree to rounding

    # 1. Terrain: elevation (m) on a latitude x longitude grid (degrees).
    grid = cbook.get_sample_data("topobathy.npz")
    topo = xr.DataArray(
        grid["topo"].astype(np.float64),
        dims=("latitude", "longitude"),
        coords={"latitude": grid["latitude"].astype(np.float64), "longitude": grid["longitude"].astype(np.float64)},
        name="elevation",
        attrs={"units": "m"},
    )
    if fast:
        topo = topo[::2, ::2]
    d_lat = jaxgrad.xarray.differentiate(topo, "latitude")  # m per degree of latitude
    d_lon = topo.jaxgrad.differentiate("longitude")  # the accessor: the same function
    diff_topo = max(max_difference(d_lat, topo.differentiate("latitude")),
                    max_difference(d_lon, topo.differentiate("longitude")))
    cos_lat = np.cos(np.radians(topo.latitude))
    slope = np.hypot(d_lat / KM_PER_DEGREE, d_lon / (KM_PER_DEGREE * cos_lat))  # m per km
    print(f"terrain {dict(topo.sizes)}: d/dlatitude and d/dlongitude in m/degree; steepest slope "
          f"{float(slope.max()):.0f} m/km; largest difference from xarray's differentiate {diff_topo:.1e} m/degree")

    # 2. Prices on trading days: a datetime64 coordinate with gaps.
    prices = cbook.get_sample_data("goog.npz")["price_data"]
    if fast:
        prices = prices[-250:]
    close = xr.DataArray(prices["close"], coords={"time": prices["date"]}, name="close", attrs={"units": "USD"})
    rate = jaxgrad.xarray.differentiate(close, "time", datetime_unit="D")  # USD per calendar day
    diff_goog = max_difference(rate, close.differentiate("time", datetime_unit="D"))
    gaps = np.diff(close.time.values).astype("timedelta64[D]").astype(int)
    print(f"GOOG, {close.sizes['time']} trading days ({int((gaps > 1).sum())} gaps of 2 days or more): mean rate "
          f"{float(rate.mean()):+.3f} $/day, largest {float(abs(rate).max()):.1f} $/day; "
          f"largest difference from xarray's differentiate {diff_goog:.1e} $/day")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.0), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    topo.plot(ax=axes[0], cmap="terrain", cbar_kwargs={"label": "elevation (m)"})
    axes[0].set_title("topography and bathymetry")
    slope.rename("slope").plot(ax=axes[1], cmap="magma", robust=True, cbar_kwargs={"label": "slope (m/km)"})
    axes[1].set_title("slope from d/dlatitude, d/dlongitude")
    axes[2].plot(close.time, close, color="0.3", lw=1)
    axes[2].set_ylabel("close ($)")
    twin = axes[2].twinx()
    twin.plot(rate.time, np.asarray(rate.data), color="C3", lw=0.8)
    twin.set_ylabel("rate of change ($/day)", color="C3")
    axes[2].set_title("GOOG: daily rate of change on trading dates")
    fig.autofmt_xdate()
    save_figure(fig, out, "xarray_dates.png")
    return {"max_diff_topo": diff_topo, "max_diff_goog": diff_goog, "max_slope_m_per_km": float(slope.max()),
            "gaps": int((gaps > 1).sum())}


if __name__ == "__main__":
    cli(main)
