"""Derivatives on a curvilinear grid: a polar (annulus) grid, refined step by step.

The samples of a field sit at ``X = r cos(theta)``, ``Y = r sin(theta)``: a grid that no
rectilinear ``gradient`` can describe. Passing the two coordinate arrays, ``jaxgrad.gradient(f,
X, Y)`` returns ``df/dX`` and ``df/dY`` by the chain rule through the grid's Jacobian, and
``jaxgrad.laplacian(f, X, Y)`` the Laplacian by the second-order chain rule (the angle axis
periodic). Their errors against the analytic derivatives fall at the order of the scheme as the
grid is refined: measured here, and plotted.

Run:  python examples/curvilinear.py [--fast] [--out docs/figures]
"""

from __future__ import annotations

import jax
import matplotlib
import numpy as np

import jaxgrad
from _common import cli, save_figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def polar_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n radii from 1 to 2 and 3n angles around the whole circle (not repeating the first)."""
    r = np.linspace(1.0, 2.0, n)
    theta = np.arange(3 * n) * (2 * np.pi / (3 * n))
    R, T = np.meshgrid(r, theta, indexing="ij")
    return R * np.cos(T), R * np.sin(T)


def field(X, Y):
    """f = sin(2X) exp(Y/2), its gradient and its Laplacian."""
    f = np.sin(2 * X) * np.exp(0.5 * Y)
    return f, (2 * np.cos(2 * X) * np.exp(0.5 * Y), 0.5 * f), (0.25 - 4.0) * f


def max_errors(n: int) -> dict[str, float]:
    X, Y = polar_grid(n)
    f, (fx, fy), lap = field(X, Y)
    periodic_angle = ("one-sided", "periodic")
    errors = {}
    for edge_order in (1, 2):
        gx, gy = jaxgrad.gradient(f, X, Y, edge_order=edge_order)
        errors[f"gradient, edge_order={edge_order}"] = float(max(np.abs(gx - fx).max(), np.abs(gy - fy).max()))
    for accuracy in (2, 4):
        got = jaxgrad.laplacian(f, X, Y, accuracy=accuracy, boundary=periodic_angle)
        errors[f"laplacian, accuracy={accuracy}"] = float(np.abs(got - lap).max())
    return errors


def main(fast: bool = False, out: str = "docs/figures") -> dict:
    sizes = [12, 24] if fast else [12, 24, 48, 96, 192]
    with jax.enable_x64(True):  # float64: the errors reach far below float32's rounding
        table = [max_errors(n) for n in sizes]
        X, Y = polar_grid(12)
        f, _, _ = field(X, Y)
    names = list(table[0])
    steps = np.array([1.0 / (n - 1) for n in sizes])  # the radial step
    orders = {}
    for name in names:
        e = np.array([row[name] for row in table])
        orders[name] = float(np.polyfit(np.log(steps[-3:]), np.log(e[-3:]), 1)[0])
        print(f"{name:26s} max errors {' '.join(f'{v:.2e}' for v in e)}  measured order {orders[name]:.2f}")

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.6))
    ax0.pcolormesh(np.vstack([X.T, X[:, :1].T]), np.vstack([Y.T, Y[:, :1].T]), np.vstack([f.T, f[:, :1].T]),
                   cmap="viridis", edgecolors="w", linewidth=0.3, shading="gouraud")
    ax0.plot(np.c_[X, X[:, :1]].T, np.c_[Y, Y[:, :1]].T, "w-", lw=0.4)
    ax0.plot(X, Y, "w-", lw=0.4)
    ax0.set_aspect("equal")
    ax0.set_title("sin(2X) exp(Y/2) on a 12 x 36 polar grid")
    for name in names:
        ax1.loglog(steps, [row[name] for row in table], "o-", label=f"{name}: order {orders[name]:.2f}")
    ax1.set_xlabel("radial step (the angular step shrinks with it)")
    ax1.set_ylabel("max error against the analytic derivative")
    ax1.set_title("convergence on the polar grid (float64)")
    ax1.legend(fontsize=8)
    save_figure(fig, out, "curvilinear.png")
    return {"orders": orders, "errors": table[-1]}


if __name__ == "__main__":
    cli(main)
