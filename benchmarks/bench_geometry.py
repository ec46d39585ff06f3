"""Time ratios of the geometry functions against the plain ones on arrays of the same shape.

* curvilinear ``gradient(f, X, Y[, Z])`` (full-shape coordinate arrays) against the rectilinear
  ``gradient(f, hx, hy[, hz])`` and against 1-D coordinates;
* ``spherical_gradient / divergence / curl / laplacian`` on a latitude/longitude grid against
  ``derivative`` along both axes, ``divergence``, ``curl`` and ``laplacian`` with scalar steps (the
  same stencils at accuracy 2; longitude periodic in both).

Every row runs inside ``jax.jit``, forward and under ``jax.grad`` of a loss ``sum(out**2)`` with
respect to the field (for the curvilinear tables also with respect to the field and the coordinate
arrays, grid optimisation; the rectilinear reference row stays the field's gradient); implementations interleaved, caches flushed before each call
(``_timing.measure``), ratio = min time over the reference row's min. Not a test: nothing fails.

Run:  python benchmarks/bench_geometry.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad
from _timing import environment, measure, report


def loss_of(fn, coordinates: bool = False):
    """jit(grad(sum of squares of fn's outputs)) with respect to the field (and the coordinates:
    grid optimisation)."""
    loss = lambda f, *a: sum(jnp.sum(o**2) for o in jax.tree.leaves(fn(f, *a)))
    return jax.jit(lambda f, *a: jax.grad(loss, argnums=tuple(range(1 + len(a))) if coordinates else 0)(f, *a))


def _gradient_with(steps, f, *coordinates):
    return jaxgrad.gradient(f, *steps, *coordinates)


def curvilinear_tables(quick: bool, sizes: tuple[int, int] | None = None):
    rng = np.random.default_rng(0)
    n2, n3 = sizes or ((512, 64) if quick else (1024, 96))
    for shape in [(n2, n2), (n3, n3, n3)]:
        k = len(shape)
        axes = [np.arange(n, dtype=np.float32) * 0.5 for n in shape]
        index = np.meshgrid(*axes, indexing="ij")
        # A sheared, gently curved grid (every coordinate array depends on every index).
        coords = [jnp.asarray(index[a] + 0.2 * index[(a + 1) % k] + 0.05 * np.sin(index[(a + 2) % k])) for a in range(k)]
        f = jnp.asarray(rng.standard_normal(shape, dtype=np.float32))
        one_d = [jnp.asarray(x + 0.01 * np.sin(x)) for x in axes]  # uneven 1-D coordinates
        variants = {
            "rectilinear (scalar steps)": ((0.5,) * k, ()),
            "1-D coordinates": ((), one_d),
            "curvilinear (full-shape coordinates)": ((), coords),
        }
        name = "x".join(map(str, shape))
        for mode in ("forward", "jax.grad of sum(out**2)", "jax.grad w.r.t. the field and the coordinates"):
            impls = {}
            for label, (steps, args) in variants.items():
                fn = functools.partial(_gradient_with, steps)
                run = jax.jit(fn) if mode == "forward" else loss_of(fn, coordinates="coordinates" in mode)
                impls[label] = functools.partial(run, f, *args)
            yield f"gradient, {name}, {mode}", impls, "rectilinear (scalar steps)"


def sphere_tables(quick: bool):
    nlat, nlon = (361, 720) if quick else (721, 1440)  # 0.5 and 0.25 degree global grids
    lat = np.linspace(-89.75, 89.75, nlat)
    lon = np.arange(nlon) * (360.0 / nlon)
    h = (float(lat[1] - lat[0]), float(lon[1] - lon[0]))
    rng = np.random.default_rng(1)
    f = jnp.asarray(rng.standard_normal((nlat, nlon), dtype=np.float32))
    b = ("one-sided", "periodic")
    pairs = {
        # numpy's gradient has no periodic axis: the two derivatives, longitude periodic, instead.
        "gradient": (lambda f: jaxgrad.spherical_gradient(f, lat, lon),
                     lambda f: (jaxgrad.derivative(f, h[1], axis=-1, boundary="periodic"), jaxgrad.derivative(f, h[0], axis=-2))),
        # f as both components, so that it is differentiated along both axes in both rows.
        "divergence": (lambda f: jaxgrad.spherical_divergence(f, f, lat, lon), lambda f: jaxgrad.divergence([f, f], *h, boundary=b)),
        "curl": (lambda f: jaxgrad.spherical_curl(f, f, lat, lon), lambda f: jaxgrad.curl([f, f], *h, boundary=b)),
        "laplacian": (lambda f: jaxgrad.spherical_laplacian(f, lat, lon), lambda f: jaxgrad.laplacian(f, *h, boundary=b)),
    }
    for mode in ("forward", "jax.grad of sum(out**2)"):
        for name, (sph, plain) in pairs.items():
            wrap = jax.jit if mode == "forward" else loss_of
            impls = {f"spherical_{name}": (lambda r: lambda: r(f))(wrap(sph)),
                     f"{name} (scalar steps)": (lambda r: lambda: r(f))(wrap(plain))}
            yield f"spherical_{name}, {nlat}x{nlon}, {mode}", impls, f"{name} (scalar steps)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small arrays, few rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("N2", "N3"),
                        help="curvilinear grids N2^2 and N3^3 (default 1024 96; larger on a GPU)")
    args = parser.parse_args()
    if args.sizes is not None and min(args.sizes) < 16:
        parser.error(f"--sizes must be at least 16 points per axis, got {args.sizes}")
    rounds = args.rounds or (3 if args.quick else 10)
    print("\n".join(environment()))
    print(f"{rounds} rounds, float32, inside jax.jit; ratio = min time / the min time of the table's reference row\n")
    # Each table is measured before the generators build the next (their lambdas close over loop variables).
    for tables in (curvilinear_tables(args.quick, args.sizes), sphere_tables(args.quick)):
        for title, impls, base in tables:
            report(title, measure(impls, rounds), base)


if __name__ == "__main__":
    main()
