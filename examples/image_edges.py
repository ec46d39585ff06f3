"""Image gradients of a real photograph and slopes of a real terrain model.

1. Grace Hopper's portrait (shipped with matplotlib): the gradient magnitude (edge strength) and
   orientation from ``jaxgrad.gradient``, the classic first step of edge detection.
2. The Jacksboro fault digital elevation model (also shipped with matplotlib, with its grid
   spacing): the terrain slope in degrees from the elevation gradient in metres per metre.

Run:  python examples/image_edges.py [--fast] [--out docs/figures]
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


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        rgb = plt.imread(fh).astype(np.float32) / 255.0
    image = jnp.asarray(rgb[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))
    if fast:
        image = image[::4, ::4]
    d_rows, d_cols = jaxgrad.gradient(image, edge_order=2)
    magnitude = jnp.hypot(d_rows, d_cols)
    orientation = jnp.degrees(jnp.arctan2(d_rows, d_cols))
    strong = magnitude > jnp.quantile(magnitude, 0.9)
    print(f"image {image.shape}: mean edge strength {float(magnitude.mean()):.4f} per pixel, "
          f"10% strongest edges above {float(jnp.quantile(magnitude, 0.9)):.4f}")

    # Terrain: elevation in metres on a grid whose spacing is given in degrees of arc.
    dem = cbook.get_sample_data("jacksboro_fault_dem.npz")
    elevation = jnp.asarray(dem["elevation"], jnp.float32)
    metres_per_degree = 111_200.0
    latitude = 0.5 * (float(dem["ymin"]) + float(dem["ymax"]))
    dy, dx = dem["dy"] * metres_per_degree, dem["dx"] * metres_per_degree * np.cos(np.radians(latitude))
    dz_dy, dz_dx = jaxgrad.gradient(elevation, dy, dx)
    slope = jnp.degrees(jnp.arctan(jnp.hypot(dz_dy, dz_dx)))
    result = {"mean_edge": float(magnitude.mean()), "mean_slope_deg": float(slope.mean()), "max_slope_deg": float(slope.max())}
    print(f"terrain {elevation.shape}, spacing {dy:.1f} m x {dx:.1f} m: mean slope {result['mean_slope_deg']:.1f} deg, "
          f"steepest {result['max_slope_deg']:.1f} deg")

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8))
    axes[0].imshow(np.asarray(image), cmap="gray")
    axes[0].set_title("photograph")
    axes[1].imshow(np.asarray(magnitude), cmap="magma", vmax=float(jnp.quantile(magnitude, 0.99)))
    axes[1].set_title("gradient magnitude")
    axes[2].imshow(np.where(np.asarray(strong), np.asarray(orientation), np.nan), cmap="twilight")
    axes[2].set_title("orientation of the strongest 10%")
    im = axes[3].imshow(np.asarray(slope), cmap="terrain")
    axes[3].set_title("Jacksboro fault: slope (deg)")
    fig.colorbar(im, ax=axes[3], fraction=0.046)
    for ax in axes:
        ax.axis("off")
    save_figure(fig, out, "image_edges.png", dpi=80)
    return result


if __name__ == "__main__":
    cli(main)
