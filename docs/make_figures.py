"""Draws the figures of the "What is the gradient of an array?" and "Performance" pages
(committed under docs/figures). The performance figure plots the JSON tables that
``benchmarks/bench_gradient.py --json`` wrote into benchmarks/.

Run:  python docs/make_figures.py
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import matplotlib
import numpy as np

import jaxgrad

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).parent / "figures"


def stencils() -> None:
    """Which samples each scheme uses, and with which weights (unit spacing)."""
    rows = [
        ("central (interior)", [-1, 0, 1], 1),
        ("one-sided, edge_order=1", [0, 1], 0),
        ("one-sided, edge_order=2", [0, 1, 2], 0),
        ("central, accuracy 4", [-2, -1, 0, 1, 2], 2),
        ("second derivative, central", [-1, 0, 1], 1),
    ]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for r, (name, offsets, at) in enumerate(rows):
        order = 2 if name.startswith("second") else 1
        w = jaxgrad.stencil(order, offsets)
        y = len(rows) - r
        xs = np.array(offsets) - offsets[at] + offsets[at]
        ax.plot(xs, [y] * len(xs), "-", color="0.8", zorder=0)
        for x, wi in zip(xs, w):
            ax.scatter([x], [y], s=300, color="C3" if x == offsets[at] else "C0", zorder=1)
            ax.annotate(f"{wi:+.3g}", (x, y), textcoords="offset points", xytext=(0, 11), ha="center", fontsize=8)
        ax.text(-3.3, y, name, va="center", ha="left", fontsize=9)
    ax.set_xlim(-3.4, 3)
    ax.set_ylim(0.3, len(rows) + 0.7)
    ax.set_yticks([])
    ax.set_xticks(range(-2, 3))
    ax.set_xlabel("sample offset from the point where the derivative is taken (red)")
    ax.set_title("finite-difference stencils: samples used and their weights (h = 1)")
    fig.tight_layout()
    fig.savefig(OUT / "stencils.png", dpi=90)
    plt.close(fig)


def convergence() -> None:
    """Max error of d/dx sin(3x) on [0, 2] against the grid step, for each scheme."""
    jax.config.update("jax_enable_x64", True)
    sizes = np.array([10, 20, 40, 80, 160, 320, 640])
    schemes = {
        "gradient, edge_order=1 (edges)": lambda f, h: jaxgrad.gradient(f, h),
        "gradient, edge_order=2": lambda f, h: jaxgrad.gradient(f, h, edge_order=2),
        "derivative, accuracy=4": lambda f, h: jaxgrad.derivative(f, h, accuracy=4),
        "derivative, accuracy=8": lambda f, h: jaxgrad.derivative(f, h, accuracy=8),
    }
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for name, fn in schemes.items():
        errors, steps = [], []
        for n in sizes:
            x = np.linspace(0.0, 2.0, n)
            h = x[1] - x[0]
            errors.append(float(np.max(np.abs(np.asarray(fn(np.sin(3 * x), h)) - 3 * np.cos(3 * x)))))
            steps.append(h)
        # Fitted on the three finest grids still above rounding error (1e-9).
        usable = [i for i, e in enumerate(errors) if e > 1e-9][-3:]
        slope = np.polyfit(np.log(np.take(steps, usable)), np.log(np.take(errors, usable)), 1)[0]
        ax.loglog(steps, errors, "o-", label=f"{name}: order {slope:.1f}")
    ax.set_xlabel("grid step h")
    ax.set_ylabel("max error of d/dx sin(3x)")
    ax.set_title("measured convergence (float64)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "convergence.png", dpi=90)
    plt.close(fig)


PERFORMANCE_ROWS = {  # benchmark table: short label
    "1-D 10,000,000": "1-D 10M", "2-D 4096^2, axis 0": "2-D\naxis 0", "2-D 4096^2, axis 1": "2-D\naxis 1",
    "2-D 4096^2, all axes": "2-D\nall axes", "3-D 256^3, all axes": "3-D\nall axes",
    "3-D 256^3, all axes, edge_order=2": "3-D\nedge_order=2", "3-D 256^3, coordinates on every axis": "3-D\ncoordinates",
}
PERFORMANCE_BARS = ("jaxgrad", "jax.numpy.gradient", "numpy.gradient", "torch.gradient (2 threads)")


def performance() -> None:
    """Time per call over the roofline kernel's, per workload, in both allocator regimes."""
    bench = Path(__file__).parents[1] / "benchmarks"
    regimes = [("memory-reusing allocator", bench / "results_reuse.json"), ("default allocator", bench / "results_default.json")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    for ax, (name, path) in zip(axes, regimes):
        tables = json.loads(path.read_text())["tables"]
        rows = [r for r in PERFORMANCE_ROWS if r in tables]
        width = 0.8 / len(PERFORMANCE_BARS)
        for k, impl in enumerate(PERFORMANCE_BARS):
            ratios = [tables[r][impl][0] / tables[r]["roofline: jit, fresh outputs"][0] if impl in tables[r] else np.nan for r in rows]
            ax.bar(np.arange(len(rows)) + k * width, ratios, width, label=impl)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2, [PERFORMANCE_ROWS[r] for r in rows], fontsize=8)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
    axes[0].set_ylabel("time / roofline kernel (fresh outputs)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "performance.png", dpi=90)
    plt.close(fig)


def ghost_samples() -> None:
    """The ghost samples each boundary mode puts past the left end of a b c d e."""
    values = np.array([1.0, 2.0, 4.0, 3.5, 2.5])
    names = "abcde"
    cval = 0.0
    modes = ["periodic", "reflect", "mirror", "nearest", "constant"]
    fig, axes = plt.subplots(1, len(modes), figsize=(12, 2.6), sharey=True)
    for ax, mode in zip(axes, modes):
        ghosts = {"periodic": [3, 4], "reflect": [1, 0], "mirror": [2, 1], "nearest": [0, 0], "constant": [None, None]}[mode]
        gx = np.array([-2, -1])
        gv = np.array([cval if g is None else values[g] for g in ghosts])
        glabel = ["cval" if g is None else names[g] for g in ghosts]
        ax.axvline(-0.5, color="0.6", lw=1, ls=":")
        ax.plot(np.arange(5), values, "o-", color="C0")
        ax.plot(gx, gv, "o", mfc="white", color="C1")
        for x, v, t in zip(np.arange(5), values, names):
            ax.annotate(t, (x, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9)
        for x, v, t in zip(gx, gv, glabel):
            ax.annotate(t, (x, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9, color="C1")
        d0 = float(jaxgrad.derivative(values, boundary=mode, cval=cval)[0])
        ax.set_title(f"{mode}\nd/dx at a: {d0:+.2f}", fontsize=10)
        ax.set_xticks(range(-2, 5))
        ax.set_ylim(-0.5, 5.0)
    axes[0].set_ylabel("sample value")
    fig.suptitle("ghost samples (open) left of the edge, and the central first derivative at the first sample", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "ghost_samples.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    stencils()
    ghost_samples()
    convergence()
    performance()
