"""Batches of signals with jax.vmap: each signal on its own (irregular) sampling grid.

Times the derivative of 1024 signals of 4096 samples, each with its own coordinates, three ways:
one ``jax.vmap``-ed jaxgrad call, a Python loop of jaxgrad calls, and a Python loop of
``numpy.gradient``; checks they agree. Then differentiates the multichannel EEG recording shipped
with matplotlib (a real batch of signals) and saves a figure.

Run:  python examples/batched_signals.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib import cbook

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def best_of(fn, repeats: int = 3) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    batch, length = (64, 1024) if fast else (1024, 4096)
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.uniform(0.5, 1.5, (batch, length)), axis=1).astype(np.float32)
    f = np.sin(x / 50.0 + rng.uniform(0, 6, (batch, 1))).astype(np.float32)
    fj, xj = jnp.asarray(f), jnp.asarray(x)

    batched = jax.jit(jax.vmap(lambda f, x: jaxgrad.gradient(f, x, edge_order=2)))
    t_vmap = best_of(lambda: batched(fj, xj))
    loop_rows = min(batch, 64)  # the loops are slow: time a slice and scale up
    t_loop = best_of(lambda: [jaxgrad.gradient(fj[i], xj[i], edge_order=2) for i in range(loop_rows)], 1) * batch / loop_rows
    t_numpy = best_of(lambda: [np.gradient(f[i], x[i], edge_order=2) for i in range(batch)], 1)
    err = float(np.abs(np.asarray(batched(fj, xj))[:8] - np.stack([np.gradient(f[i], x[i], edge_order=2) for i in range(8)])).max())
    result = {"vmap_s": t_vmap, "loop_s": t_loop, "numpy_s": t_numpy, "max_diff_vs_numpy": err}
    print(f"{batch} signals x {length} samples, own coordinates each:")
    print(f"  jax.vmap(jaxgrad.gradient)   {t_vmap * 1e3:8.1f} ms")
    print(f"  Python loop of jaxgrad       {t_loop * 1e3:8.1f} ms  ({t_loop / t_vmap:.0f}x the vmap time)")
    print(f"  Python loop of numpy         {t_numpy * 1e3:8.1f} ms  ({t_numpy / t_vmap:.1f}x the vmap time)")
    print(f"  max |vmap - numpy| on 8 rows: {err:.1e}")

    # Real data: 4 channels of EEG, 800 float64 samples each over 10 s (as matplotlib's own
    # mri_with_eeg example reads them).
    with cbook.get_sample_data("eeg.dat") as fh:
        eeg = np.fromfile(fh, dtype=float).reshape(800, 4).T.astype(np.float32)
    dt = 10.0 / 800
    t = np.arange(eeg.shape[1]) * dt
    rates = jax.vmap(lambda s: jaxgrad.derivative(s, dt, accuracy=4))(jnp.asarray(eeg))
    print(f"EEG: {eeg.shape[0]} channels x {eeg.shape[1]} samples; peak |d/dt| per channel (units/s):",
          np.round(np.abs(np.asarray(rates)).max(axis=1), 1).tolist())

    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for c in range(eeg.shape[0]):
        axes[0].plot(t, eeg[c] + 2 * np.ptp(eeg) * c, lw=0.7)
        axes[1].plot(t, np.asarray(rates[c]) + 2 * float(np.ptp(np.asarray(rates))) * c, lw=0.7)
    axes[0].set_ylabel("EEG (offset per channel)")
    axes[1].set_ylabel("d/dt (offset per channel)")
    axes[1].set_xlabel("time (s)")
    axes[0].set_title("a batch of signals and their derivatives: jax.vmap(jaxgrad.derivative)")
    save_figure(fig, out, "batched_signals.png")
    return result


if __name__ == "__main__":
    cli(main)
