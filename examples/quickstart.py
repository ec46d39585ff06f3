"""jaxgrad in one minute: numpy parity, edge_order=2, coordinates, jit, vmap and jax.grad.

Run:  python examples/quickstart.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad

jax.config.update("jax_enable_x64", True)  # float64, to compare with numpy digit for digit


def main() -> None:
    # 1. The gradient of an array: central differences inside, one-sided at the two edges.
    f = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    print("f                          ", f)
    print("jaxgrad.gradient(f)        ", np.asarray(jaxgrad.gradient(f)))
    print("numpy.gradient(f)          ", np.gradient(f))

    # 2. edge_order=2: second-order edges (jax.numpy.gradient has no edge_order).
    x = np.linspace(0.0, 1.0, 11)
    for edge_order in (1, 2):
        err = np.abs(np.asarray(jaxgrad.gradient(x**2, x[1], edge_order=edge_order)) - 2 * x).max()
        print(f"d(x^2)/dx, edge_order={edge_order}: max error {err:.1e}")

    # 3. Non-uniform coordinates, several axes at once, matching numpy.
    rng = np.random.default_rng(0)
    xs = np.sort(rng.uniform(0, 2 * np.pi, 40))
    ys = np.linspace(-1.0, 1.0, 30)
    F = np.sin(xs)[:, None] * ys[None, :] ** 2
    dFdx, dFdy = jaxgrad.gradient(F, xs, ys, edge_order=2)
    ref = np.gradient(F, xs, ys, edge_order=2)
    print("non-uniform 2-D, max |jaxgrad - numpy|:", max(float(np.abs(a - b).max()) for a, b in zip((dFdx, dFdy), ref)))

    # 4. Inside jax.jit, with traced coordinates (new values never recompile).
    slope = jax.jit(lambda f, x: jaxgrad.gradient(f, x, edge_order=2))
    print("jit, d sin/dx at x=0..:     ", np.round(np.asarray(slope(np.sin(xs), xs))[:4], 4), " cos:", np.round(np.cos(xs[:4]), 4))

    # 5. vmap over a batch of signals, each on its own grid.
    grids = np.sort(rng.uniform(0, 1, (8, 50)), axis=1)
    batch = jax.vmap(lambda x: jaxgrad.gradient(jnp.exp(x), x, edge_order=2))(grids)
    print("vmap over 8 signals, max error vs exp:", float(jnp.abs(batch - jnp.exp(grids)).max()))

    # 6. jax.grad through the operator: move grid points to make a sampled slope smooth.
    def roughness(x):
        return jnp.sum(jaxgrad.gradient(jaxgrad.gradient(jnp.sin(x), x), x) ** 2)

    g = jax.grad(roughness)(jnp.asarray(xs))
    print("jax.grad w.r.t. coordinates: finite =", bool(jnp.all(jnp.isfinite(g))), " norm =", float(jnp.linalg.norm(g)))

    # 7. Beyond numpy: higher derivatives, to any accuracy, edges included.
    t = np.linspace(0.0, 1.0, 41)
    d3 = jaxgrad.derivative(np.sin(4 * t), t[1], order=3, accuracy=6)
    print("3rd derivative, accuracy 6, max error:", float(np.abs(np.asarray(d3) + 64 * np.cos(4 * t)).max()))


if __name__ == "__main__":
    main()
