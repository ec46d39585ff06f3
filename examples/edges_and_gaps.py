"""Edges and holes: boundary modes at the ends of a recording, and masks for dropped samples.

A real EEG recording (four channels, 800 samples over 10 s, shipped with matplotlib):

1. its time derivative near the start under each boundary mode: the one-sided edge of numpy,
   the ghost samples of scipy.ndimage's modes (`reflect`, `mirror`, `nearest`, `constant`) and
   wrap-around (`periodic`), which joins the end of the recording to its start;
2. the same recording with gaps cut into it (dropouts of many samples and single lost samples):
   `gradient(..., where=valid)` differentiates each run of valid samples on its own, with
   one-sided edges at the gaps, where the naive approach (NaN in the gaps) spreads NaN over every
   neighbour of a gap; and `jax.grad` of a loss of the masked derivative stays finite.

Run:  python examples/edges_and_gaps.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from matplotlib import cbook

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODES = ("one-sided", "reflect", "mirror", "nearest", "constant", "periodic")
SECONDS = 10.0


def load_eeg() -> tuple[np.ndarray, float]:
    """The four EEG channels as an (800, 4) array (normalized units) and the sampling step in s."""
    with cbook.get_sample_data("eeg.dat") as file:
        data = np.fromfile(file, dtype=float).reshape(800, 4)
    return data, SECONDS / data.shape[0]


def cut_gaps(n: int, rng: np.random.Generator) -> np.ndarray:
    """A validity mask of n samples: three dropouts of 15-40 samples and a few single lost ones."""
    valid = np.ones(n, bool)
    for start in rng.choice(np.arange(40, n - 80), 3, replace=False):
        valid[start : start + rng.integers(15, 40)] = False
    valid[rng.choice(np.arange(5, n - 5), 6, replace=False)] = False
    return valid


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    eeg, dt = load_eeg()
    if fast:
        eeg = eeg[:400]
    signal = eeg[:, 0]

    # 1. The edges: every mode agrees inside, they differ in the first sample.
    slopes = {m: np.asarray(jaxgrad.derivative(signal, dt, boundary=m)) for m in MODES}
    inside = max(float(np.max(np.abs(s[1:-1] - slopes["one-sided"][1:-1]))) for s in slopes.values())

    # 2. The gaps: NaN in the dropped samples, all four channels at once (axis 0).
    rng = np.random.default_rng(7)
    valid = np.stack([cut_gaps(eeg.shape[0], rng) for _ in range(eeg.shape[1])], axis=1)
    recorded = np.where(valid, eeg, np.nan)
    naive = np.asarray(jaxgrad.gradient(recorded, dt, axis=0))
    masked = np.asarray(jaxgrad.gradient(recorded, dt, axis=0, where=valid))

    # Each run of valid samples equals numpy.gradient of the run alone (runs of 1 have none).
    worst, runs = 0.0, 0
    for c in range(eeg.shape[1]):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], valid[:, c].astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a >= 2:
                runs += 1
                worst = max(worst, float(np.max(np.abs(masked[a:b, c] - np.gradient(eeg[a:b, c], dt)))))
    # A loss that ignores the NaN outputs has a finite gradient, even with NaN in the input.
    loss = lambda f: jnp.nansum(jaxgrad.gradient(f, dt, axis=0, where=valid) ** 2)
    grad = np.asarray(jax.grad(loss)(jnp.asarray(recorded)))

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 7))
    k = 6
    t = np.arange(eeg.shape[0]) * dt
    for j, m in enumerate(MODES):
        ax1.plot(t[:k] + (j - 2.5) * dt / 14, slopes[m][:k], marker="o", ms=5, lw=1, label=m)
    ax1.set(title="EEG channel 1: d/dt near the start of the recording, per boundary mode",
            xlabel="time (s)", ylabel="d signal / dt (1/s)")
    ax1.legend(ncol=3, fontsize=8)
    # A second and a half around the first dropout of channel 1.
    first_gap = int(np.flatnonzero(~valid[:, 0])[0])
    window = slice(max(0, first_gap - 50), min(eeg.shape[0], first_gap + 70))
    ax2.plot(t[window], recorded[window, 0] * 20, color="0.7", lw=1, label="signal x 20 (gaps: NaN)")
    ax2.plot(t[window], naive[window, 0], color="tab:red", lw=2.5, alpha=0.5, label="gradient with NaN in the gaps")
    ax2.plot(t[window], masked[window, 0], color="tab:blue", lw=1, label="gradient(..., where=valid)")
    ax2.set(title="Dropped samples: one-sided differences at every gap instead of NaN spreading",
            xlabel="time (s)", ylabel="d signal / dt (1/s)")
    ax2.legend(fontsize=8)
    save_figure(fig, out, "edges_and_gaps.png")

    n_valid = int(valid.sum())
    result = {
        "modes_agree_inside": inside,
        "mirror_slope_at_start": float(slopes["mirror"][0]),
        "periodic_minus_one_sided_at_start": float(slopes["periodic"][0] - slopes["one-sided"][0]),
        "valid_samples": n_valid,
        "valid_lost_naive": int(np.sum(valid & np.isnan(naive))),
        "valid_lost_masked": int(np.sum(valid & np.isnan(masked))),
        "isolated_valid_samples": int(sum(_isolated(valid[:, c]) for c in range(valid.shape[1]))),
        "runs_checked": runs,
        "worst_run_vs_numpy": worst,
        "grad_finite": bool(np.all(np.isfinite(grad))),
        "grad_zero_in_gaps": bool(np.all(grad[~valid] == 0)),
    }
    print(
        f"boundary modes: every mode equal inside (max difference {inside:.1e}); at the first sample "
        f"mirror gives {result['mirror_slope_at_start']:.3g}, periodic differs from one-sided by "
        f"{result['periodic_minus_one_sided_at_start']:.3g} 1/s\n"
        f"gaps: of {n_valid} valid samples the naive NaN spread loses {result['valid_lost_naive']}, where= loses "
        f"{result['valid_lost_masked']} (the {result['isolated_valid_samples']} valid samples alone between gaps); "
        f"{runs} runs equal numpy.gradient of the run to {worst:.1e}; jax.grad finite: {result['grad_finite']}"
    )
    return result


def _isolated(valid: np.ndarray) -> int:
    padded = np.concatenate([[False], valid, [False]])
    return int(np.sum(padded[1:-1] & ~padded[:-2] & ~padded[2:]))


if __name__ == "__main__":
    cli(main)
