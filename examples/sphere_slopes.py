"""Slopes and curvature of real topography and bathymetry on the sphere.

matplotlib ships a latitude/longitude grid of elevations (metres, land and sea floor) of the
Pacific Northwest, from the Strait of Juan de Fuca to the Salish Sea: ``topobathy.npz``.
``jaxgrad.spherical_gradient`` turns it into eastward and northward slopes in metres per metre
(the grid's degrees become metres through the Earth's radius and the cosine of latitude), and
``jaxgrad.spherical_laplacian`` into its curvature. The sea floor alone is differentiated with
``where=`` (each run of sea samples on its own): next to the coast the unmasked slopes mix the
land's elevations into the sea floor's. A flat-Earth shortcut (one metres-per-degree
factor for the whole map, taken at its mid-latitude) is compared: it misstates eastward slopes
by the change of cos(latitude) across the map.

Run:  python examples/sphere_slopes.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib import cbook

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elevation (metres; negative below sea level), latitudes and longitudes (degrees)."""
    data = cbook.get_sample_data("topobathy.npz")
    return data["topo"].astype(np.float32), data["latitude"].astype(np.float64), data["longitude"].astype(np.float64)


def terrain(z: jnp.ndarray, lat: np.ndarray, lon: np.ndarray) -> dict:
    """Slope components and magnitude (m/km) and the Laplacian (m/km^2) of elevations ``z``."""
    east, north = jaxgrad.spherical_gradient(z, lat, lon, accuracy=4)
    return {
        "east": 1e3 * east,
        "north": 1e3 * north,
        "slope": 1e3 * jnp.hypot(east, north),
        "laplacian": 1e6 * jaxgrad.spherical_laplacian(z, lat, lon, accuracy=4),
    }


def flat_earth_east(z: jnp.ndarray, lat: np.ndarray, lon: np.ndarray) -> jnp.ndarray:
    """The eastward slope (m/km) with one metres-per-degree factor for the whole map."""
    metres_per_degree = np.pi / 180 * 6371008.8 * np.cos(np.deg2rad(lat.mean()))
    return 1e3 * jaxgrad.derivative(z, lon * metres_per_degree, axis=-1, accuracy=4)


def sea_floor_slope(z: jnp.ndarray, lat: np.ndarray, lon: np.ndarray, sea: np.ndarray) -> jnp.ndarray:
    """The slope magnitude (m/km) of the sea floor alone: ``where=sea`` differentiates each run of
    sea samples on its own (one-sided at the coast), so no land elevation enters a sea-floor slope;
    NaN on land. The same spherical metric as ``spherical_gradient``, from two derivatives."""
    radius = 6371008.8
    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    d_lam = jaxgrad.derivative(z, lam, axis=-1, accuracy=4, where=sea)
    d_phi = jaxgrad.derivative(z, phi, axis=-2, accuracy=4, where=sea)
    east = d_lam / (radius * np.cos(phi)[:, None])
    return 1e3 * jnp.hypot(east, d_phi / radius)


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    z, lat, lon = load()
    if fast:
        z, lat, lon = z[::2, ::2], lat[::2], lon[::2]
    t = terrain(jnp.asarray(z), lat, lon)
    sea = z < 0  # the sea floor, for the statistics below
    flat = flat_earth_east(jnp.asarray(z), lat, lon)
    sea_only = np.asarray(sea_floor_slope(jnp.asarray(z), lat, lon, sea))
    # Sea samples within two samples of land (accuracy 4 reaches two): where land leaks into the
    # unmasked stencils.
    land = ~sea
    near = np.zeros_like(land)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near |= np.roll(np.roll(land, dy, 0), dx, 1)
    coast = sea & near
    rel = np.abs(np.asarray(flat) - np.asarray(t["east"])) / np.maximum(np.abs(np.asarray(t["east"])), 1e-9)
    result = {
        "grid": z.shape,
        "spacing_km": (float(np.diff(lat).mean() * np.pi / 180 * 6371.0088),
                       float(np.diff(lon).mean() * np.pi / 180 * 6371.0088 * np.cos(np.deg2rad(lat.mean())))),
        "mean_slope_land": float(np.mean(np.asarray(t["slope"])[~sea])),
        "mean_slope_sea": float(np.mean(np.asarray(t["slope"])[sea])),
        "max_slope": float(np.max(np.asarray(t["slope"]))),
        # Where the eastward slope is not tiny, the flat-Earth shortcut is off by the relative change
        # of cos(latitude) from the map's middle: up to ~2% at its northern and southern edges.
        "flat_earth_max_rel_error": float(np.max(rel[np.abs(np.asarray(t["east"])) > 1.0])),
        "expected_flat_earth_error": float(np.max(np.abs(np.cos(np.deg2rad(lat.mean())) / np.cos(np.deg2rad(lat)) - 1))),
        "laplacian_range": (float(np.min(np.asarray(t["laplacian"]))), float(np.max(np.asarray(t["laplacian"])))),
        "coast_sea_samples": int(coast.sum()),
        "mean_slope_coast_unmasked": float(np.mean(np.asarray(t["slope"])[coast])),
        "mean_slope_coast_sea_floor": float(np.nanmean(sea_only[coast])),
        "sea_floor_defined": float(np.mean(np.isfinite(sea_only[sea]))),
    }
    print(f"grid {z.shape}, about {result['spacing_km'][0]:.2f} km x {result['spacing_km'][1]:.2f} km: mean slope "
          f"{result['mean_slope_land']:.0f} m/km on land, {result['mean_slope_sea']:.0f} m/km on the sea floor, "
          f"steepest {result['max_slope']:.0f} m/km")
    print(f"sea floor next to the coast ({result['coast_sea_samples']} samples): mean slope "
          f"{result['mean_slope_coast_unmasked']:.0f} m/km with land in the stencils, "
          f"{result['mean_slope_coast_sea_floor']:.0f} m/km with where=sea (defined at "
          f"{100 * result['sea_floor_defined']:.1f}% of the sea samples)")
    print(f"flat-Earth eastward slopes off by up to {100 * result['flat_earth_max_rel_error']:.2f}% "
          f"(cos(latitude) across the map: {100 * result['expected_flat_earth_error']:.2f}%)")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    extent = (lon.min(), lon.max(), lat.min(), lat.max())
    panels = [
        (z, "elevation and depth (m)", "gist_earth", None),
        (np.asarray(t["slope"]), "slope magnitude (m/km)", "magma", (0.0, float(np.quantile(np.asarray(t["slope"]), 0.99)))),
        (np.asarray(t["laplacian"]), "Laplacian (m/km$^2$)", "RdBu_r", None),
    ]
    for ax, (img, title, cmap, limits) in zip(axes, panels):
        if limits is None and title.startswith("Laplacian"):
            v = float(np.quantile(np.abs(img), 0.98))
            limits = (-v, v)
        im = ax.imshow(img, origin="lower", extent=extent, cmap=cmap, aspect=1 / np.cos(np.deg2rad(lat.mean())),
                       vmin=None if limits is None else limits[0], vmax=None if limits is None else limits[1])
        ax.contour(lon, lat, z, levels=[0.0], colors="k", linewidths=0.6)  # the coastline
        ax.set_title(title)
        ax.set_xlabel("longitude (deg)")
        fig.colorbar(im, ax=ax, fraction=0.04)
    axes[0].set_ylabel("latitude (deg)")
    save_figure(fig, out, "sphere_slopes.png", dpi=60 if fast else 80)
    return result


if __name__ == "__main__":
    cli(main)
