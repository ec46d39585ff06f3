"""Reverse mode through the transposed stencil, against JAX's own transpose of the same slices.

``jax.jit(jax.grad(loss))`` of losses users write, float32, 2-D 4096^2 (3-D 256^3 for two rows),
timed twice in one process: as jaxgrad runs it (the transposed plan, ``_stencils.transposed``)
and with that plan switched off, so that JAX transposes ``_apply._applied``'s slices itself (the
formulation before the change). Each workload runs in a fresh process (compiled programs of other
workloads in the same process moved these timings by up to 30% on the 2-core machine), both
variants interleaved, min over the rounds. The two gradients are compared (max relative
difference printed). Not a test: nothing here fails.

Run:  python benchmarks/bench_adjoint.py [--rounds N] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad
from jaxgrad import _apply


def workloads() -> dict:
    rng = np.random.default_rng(0)
    n = 4096
    u = jnp.asarray(rng.standard_normal((n, n)), jnp.float32)
    u3 = jnp.asarray(rng.standard_normal((256,) * 3), jnp.float32)
    s, s3 = 0.5 * u, 0.5 * u3
    h = 1.0 / n
    x = jnp.asarray(np.cumsum(rng.uniform(0.5, 1.5, n)) / n, jnp.float32)  # uneven 1-D coordinates
    energy = lambda *spacing: lambda f: sum(jnp.sum(g**2) for g in jaxgrad.gradient(f, *spacing))
    return {
        "gradient energy, steps": (energy(h, h), u),
        "gradient energy, steps, 3-D": (energy(h, h, h), u3),
        "gradient energy, coordinates": (energy(x, x), u),
        "laplacian residual, steps": (lambda f: jnp.mean((jaxgrad.laplacian(f, h, h) - s) ** 2), u),
        "laplacian residual, steps, 3-D": (lambda f: jnp.mean((jaxgrad.laplacian(f, h, h, h) - s3) ** 2), u3),
        "laplacian residual, coordinates": (lambda f: jnp.mean((jaxgrad.laplacian(f, x, x) - s) ** 2), u),
        "accuracy 4, axis 0, steps": (lambda f: jnp.sum(jaxgrad.derivative(f, h, axis=0, accuracy=4) ** 2), u),
        "accuracy 4, axis 1, steps": (lambda f: jnp.sum(jaxgrad.derivative(f, h, axis=1, accuracy=4) ** 2), u),
        "accuracy 4, axis 0, coordinates": (lambda f: jnp.sum(jaxgrad.derivative(f, x, axis=0, accuracy=4) ** 2), u),
        "accuracy 4, axis 1, coordinates": (lambda f: jnp.sum(jaxgrad.derivative(f, x, axis=1, accuracy=4) ** 2), u),
    }


def run_one(name: str, rounds: int) -> None:
    loss, data = workloads()[name]
    planned = _apply.transposed
    compiled = {}
    for label, plan in (("JAX's transpose", lambda *a: None), ("transposed plan", planned)):
        _apply.transposed = plan
        jax.clear_caches()  # jaxgrad's inner jit caches would otherwise keep the first trace
        compiled[label] = jax.jit(jax.grad(loss)).lower(data).compile()
    _apply.transposed = planned
    best = dict.fromkeys(compiled, float("inf"))
    for _ in range(rounds):
        for label, fn in compiled.items():
            start = time.perf_counter()
            fn(data).block_until_ready()
            best[label] = min(best[label], time.perf_counter() - start)
    a, b = (np.asarray(fn(data)) for fn in compiled.values())
    diff = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
    old, new = best["JAX's transpose"] * 1e3, best["transposed plan"] * 1e3
    print(f"| {name} | {old:.1f} | {new:.1f} | {old / new:.2f} | {diff:.1e} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", help="comma-separated workload names")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one workload, in this process
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.rounds)
        return
    names = args.only.split(",") if args.only else _names()
    print(f"jax {jax.__version__} on {jax.default_backend()}, {os.cpu_count()} cores, {args.rounds} rounds, float32, "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(default allocator)')}")
    print("| workload (jax.grad) | JAX's transpose ms | transposed plan ms | speed-up | max rel. difference |")
    print("|---|---|---|---|---|", flush=True)
    for name in names:
        subprocess.run([sys.executable, __file__, "--one", name, "--rounds", str(args.rounds)], check=True)


def _names() -> list[str]:
    """The keys of ``workloads()``, without allocating its arrays in the parent process."""
    return [
        "gradient energy, steps", "gradient energy, steps, 3-D", "gradient energy, coordinates",
        "laplacian residual, steps", "laplacian residual, steps, 3-D", "laplacian residual, coordinates",
        "accuracy 4, axis 0, steps", "accuracy 4, axis 1, steps",
        "accuracy 4, axis 0, coordinates", "accuracy 4, axis 1, coordinates",
    ]


if __name__ == "__main__":
    main()
