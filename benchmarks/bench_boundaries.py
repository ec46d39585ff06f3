"""Boundary modes and one-sided schemes, in the forms users call them: a derivative inside `jit`,
and the `jax.grad` of a loss built on it; against the one-sided default, what a user would write
by hand (`jnp.pad` with the mode, then slices), scipy.ndimage.correlate1d (numpy), and the
read-once/read-write rooflines. All rows of a table are measured in one process, interleaved.

Run:  python benchmarks/bench_boundaries.py [--quick] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad
from _timing import environment, measure, report

try:
    from scipy import ndimage
except ImportError:  # optional: its rows are left out
    ndimage = None

# numpy.pad's names for scipy.ndimage's modes
NUMPY_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "constant": "constant", "wrap": "wrap"}
H = 0.5


def by_hand(mode: str, axis: int):
    """A second-order central first derivative on jnp.pad'ed data: the user's own version."""

    def d(f):
        pad = [(0, 0)] * f.ndim
        pad[axis] = (1, 1)
        g = jnp.pad(f, pad, mode=NUMPY_PAD[mode])
        n = f.shape[axis]
        hi = jax.lax.slice_in_dim(g, 2, n + 2, axis=axis)
        lo = jax.lax.slice_in_dim(g, 0, n, axis=axis)
        return (hi - lo) * (0.5 / H)

    return d


def tables(quick: bool):
    n = 512 if quick else 4096
    f = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    fj = jnp.asarray(f)
    read_write = jax.jit(lambda f: f * 2.0)
    read_once = jax.jit(lambda f: jnp.sum(f * f))
    for axis in (0, 1):
        one_sided = jax.jit(lambda f, a=axis: jaxgrad.derivative(f, H, axis=a))
        for mode in ("reflect", "nearest", "constant", "wrap"):
            ours = jax.jit(lambda f, m=mode, a=axis: jaxgrad.derivative(f, H, axis=a, boundary=m))
            hand = jax.jit(by_hand(mode, axis))
            impls = {
                f"jaxgrad boundary={mode!r}": lambda o=ours: o(fj),
                "jaxgrad one-sided (default)": lambda o=one_sided: o(fj),
                "jnp.pad + slices (by hand)": lambda h=hand: h(fj),
                "roofline: read-write": lambda: read_write(fj),
            }
            if ndimage is not None:
                impls["scipy.ndimage.correlate1d"] = lambda m=mode, a=axis: ndimage.correlate1d(
                    f, np.array([-0.5, 0, 0.5], np.float32) / H, axis=a, mode=m)
            yield f"2-D {n}^2 float32 | derivative, axis {axis}, {mode} | jit", impls, f"jaxgrad boundary={mode!r}"
        # Inside a loss, under jax.grad.
        loss_ours = jax.jit(jax.grad(lambda f, a=axis: jnp.sum(jaxgrad.derivative(f, H, axis=a, boundary="reflect") ** 2)))
        loss_hand = jax.jit(jax.grad(lambda f, a=axis: jnp.sum(by_hand("reflect", a)(f) ** 2)))
        impls = {
            "jaxgrad boundary='reflect'": lambda g=loss_ours: g(fj),
            "jnp.pad + slices (by hand)": lambda g=loss_hand: g(fj),
            "roofline: read-write": lambda: read_write(fj),
        }
        yield f"2-D {n}^2 float32 | jax.grad of sum(derivative(f)**2), axis {axis}, reflect", impls, "jaxgrad boundary='reflect'"
        # Schemes: forward differences of accuracy 1 against jnp.diff with the backward end.
        fwd = jax.jit(lambda f, a=axis: jaxgrad.derivative(f, H, axis=a, scheme="forward", accuracy=1))

        def diff_by_hand(f, a=axis):
            d = jnp.diff(f, axis=a) / H
            return jnp.concatenate([d, jax.lax.slice_in_dim(d, d.shape[a] - 1, d.shape[a], axis=a)], axis=a)

        hand_fwd = jax.jit(diff_by_hand)
        impls = {
            "jaxgrad scheme='forward', accuracy=1": lambda g=fwd: g(fj),
            "jnp.diff + last row (by hand)": lambda g=hand_fwd: g(fj),
            "roofline: read-write": lambda: read_write(fj),
            "roofline: read-once (sum f*f)": lambda: read_once(fj),
        }
        yield f"2-D {n}^2 float32 | forward difference, axis {axis} | jit", impls, "jaxgrad scheme='forward', accuracy=1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="512^2 and 3 rounds: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timed calls per implementation (default 11)")
    parser.add_argument("--json", help="also write the tables here")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 11)
    print("\n".join(environment()))
    print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(none)')}; JAX backend {jax.default_backend()}; "
          f"load average {os.getloadavg()[0]:.2f}; {rounds} rounds; ratio = min time / the first row's min time\n")
    results = {}
    for title, impls, base in tables(args.quick):
        results[title] = measure(impls, rounds)
        report(title, results[title], base)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"environment": environment(), "rounds": rounds, "tables": results}, out, indent=1)


if __name__ == "__main__":
    main()
