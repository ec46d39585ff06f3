"""The derivative of noisy measured data: naive finite differences versus a TV-regularized fit.

Differencing amplifies noise by 1/h. Total-variation regularized differentiation (R. Chartrand,
"Numerical differentiation of noisy, nonsmooth data", ISRN Appl. Math. 2011) instead looks for
the derivative u whose integral matches the data, with a total-variation penalty on u:

    minimize  0.5 * mean((integral(u) - (f - f[0]))^2) + alpha * total_variation(u)

(both terms measured in units of the data's noise level)

fitted here with optax. A signal with a known derivative (including a kink) gives the errors;
Google's daily closing prices (shipped with matplotlib) show it on real data.

Run:  python examples/noisy_derivative.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib
import optax
from matplotlib import cbook

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def integral(u: jax.Array, x: jax.Array) -> jax.Array:
    """Cumulative trapezoid integral of u over x, starting at 0."""
    pieces = 0.5 * (u[1:] + u[:-1]) * jnp.diff(x)
    return jnp.concatenate([jnp.zeros(1, u.dtype), jnp.cumsum(pieces)])


def tv_derivative(f: jax.Array, x: jax.Array, alpha: float, steps: int, lr: float = 0.05) -> jax.Array:
    """Fits the derivative of f(x) by TV-regularized integration (x roughly uniform)."""
    target = f - f[0]
    h = (x[-1] - x[0]) / (x.size - 1)
    # The noise level, from second differences (smooth signals have tiny ones): it sets the units
    # of both terms, so one alpha serves data of any scale.
    noise = jnp.std(jnp.diff(f, 2)) / jnp.sqrt(6.0)

    def loss(u):
        misfit = (integral(u, x) - target) / noise
        return 0.5 * jnp.mean(misfit**2) + alpha * jaxgrad.total_variation(u * h / noise, eps=1e-6)

    opt = optax.adam(lr)
    u0 = jaxgrad.gradient(f, x)  # start from the naive derivative

    def step(carry, _):
        u, state = carry
        updates, state = opt.update(jax.grad(loss)(u), state)
        return (optax.apply_updates(u, updates), state), None

    (u, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, None, length=steps))((u0, opt.init(u0)))
    return u


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    jax.config.update("jax_enable_x64", True)
    steps = 500 if fast else 3000
    # A signal with a known derivative: a sine plus a kink, sampled with noise.
    x = jnp.linspace(0.0, 1.0, 201)
    f_true = jnp.sin(2 * jnp.pi * x) + 2.0 * jnp.abs(x - 0.6)
    d_true = 2 * jnp.pi * jnp.cos(2 * jnp.pi * x) + 2.0 * jnp.sign(x - 0.6)
    noisy = f_true + 0.01 * jax.random.normal(jax.random.PRNGKey(0), x.shape)
    naive = jaxgrad.gradient(noisy, x)
    fitted = tv_derivative(noisy, x, alpha=5.0, steps=steps)
    rms = lambda d: float(jnp.sqrt(jnp.mean((d - d_true) ** 2)))
    result = {"rms_naive": rms(naive), "rms_tv": rms(fitted)}
    print(f"RMS error of the derivative: naive gradient {result['rms_naive']:.3f}, TV-regularized {result['rms_tv']:.3f}")

    # Real data: daily closing prices, a derivative in dollars per trading day.
    close = cbook.get_sample_data("goog.npz")["price_data"]["adj_close"][-250:]
    days = jnp.arange(close.size, dtype=jnp.float64)
    price_naive = jaxgrad.gradient(close, days)
    price_tv = tv_derivative(jnp.asarray(close), days, alpha=5.0, steps=steps)
    print(f"GOOG, last {close.size} days: naive slope std {float(jnp.std(price_naive)):.2f} $/day, TV slope std {float(jnp.std(price_tv)):.2f} $/day")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(x, naive, color="0.7", lw=0.8, label=f"naive gradient (RMS {result['rms_naive']:.2f})")
    axes[0].plot(x, fitted, color="C3", label=f"TV-regularized (RMS {result['rms_tv']:.2f})")
    axes[0].plot(x, d_true, "k--", lw=1, label="true derivative")
    axes[0].set_title("noisy samples of sin(2 pi x) + 2|x - 0.6|")
    axes[0].legend(fontsize=8)
    axes[1].plot(days, price_naive, color="0.7", lw=0.8, label="naive gradient")
    axes[1].plot(days, price_tv, color="C3", label="TV-regularized")
    axes[1].set_title("GOOG adjusted close: slope ($/day)")
    axes[1].set_xlabel("trading day")
    axes[1].legend(fontsize=8)
    save_figure(fig, out, "noisy_derivative.png")
    return result


if __name__ == "__main__":
    cli(main)
