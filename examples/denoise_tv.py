"""Total-variation denoising of a real photograph with optax.

Minimizes  0.5 * mean((u - noisy)^2) + lam * total_variation(u)  over the image u with Adam:
the TV term removes noise while keeping edges, which a quadratic smoothness penalty would blur.
Prints the PSNR of the noisy and the denoised image against the clean one, saves a figure.

Run:  python examples/denoise_tv.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from matplotlib import cbook

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load_photo(size: int) -> np.ndarray:
    """Grace Hopper's portrait (shipped with matplotlib), grey levels in [0, 1], size x size."""
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        rgb = plt.imread(fh).astype(np.float32) / 255.0
    grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    step = max(1, min(grey.shape) // size)
    return grey[: size * step : step, : size * step : step][:size, :size]


def psnr(u, clean) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.asarray(u) - clean) ** 2)))


def denoise(noisy: jax.Array, lam: float, steps: int, lr: float = 0.01) -> jax.Array:
    def loss(u):
        return 0.5 * jnp.mean((u - noisy) ** 2) + lam * jaxgrad.total_variation(u, eps=1e-3)

    opt = optax.adam(lr)

    @jax.jit
    def step(carry, _):
        u, state = carry
        g = jax.grad(loss)(u)
        updates, state = opt.update(g, state)
        return (optax.apply_updates(u, updates), state), None

    (u, _), _ = jax.lax.scan(step, (noisy, opt.init(noisy)), None, length=steps)
    return u


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    size, steps = (96, 100) if fast else (384, 300)
    clean = load_photo(size)
    noisy = clean + 0.12 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    u = denoise(jnp.asarray(noisy), lam=0.1, steps=steps)
    result = {"psnr_noisy": psnr(noisy, clean), "psnr_denoised": psnr(u, clean)}
    print(f"PSNR noisy {result['psnr_noisy']:.2f} dB -> denoised {result['psnr_denoised']:.2f} dB ({size}x{size}, {steps} Adam steps)")

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    for ax, img, title in zip(axes, [clean, noisy, u], ["clean", f"noisy ({result['psnr_noisy']:.1f} dB)", f"TV denoised ({result['psnr_denoised']:.1f} dB)"]):
        ax.imshow(np.asarray(img), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title)
        ax.axis("off")
    save_figure(fig, out, "denoise_tv.png")
    return result


if __name__ == "__main__":
    cli(main)
