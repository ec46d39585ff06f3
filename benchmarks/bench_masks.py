"""Masked (``where=``) against unmasked calls: what a mask costs.

Workloads on a 2-D float32 field (4096^2 by default), each inside ``jax.jit``:

* forward: ``gradient(f, axis=a)``, ``gradient(f)`` (all axes), ``derivative(f, axis=a)``
  along the first and the last axis, and ``derivative(f, axis=1, accuracy=4)``;
* reverse mode: ``jax.grad`` of ``jnp.nansum(out**2)`` for the same calls;
* penalties: ``total_variation(f, eps=1e-3)`` and ``smoothness(f)``, forward and ``jax.grad``.

The mask is random with about 10% invalid samples (short runs everywhere: the worst case for the
selection, as every candidate stencil is used); a full mask is timed too. Per table: min and
median time per call and the ratio to the unmasked call (see ``_timing.py``). Not a test.

Run:  python benchmarks/bench_masks.py [--n 4096] [--rounds 7] [--only PATTERN]
"""

from __future__ import annotations

import argparse
import re

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad
from _timing import environment, measure, report


def workloads(n: int):
    rng = np.random.default_rng(0)
    f = jnp.asarray(rng.standard_normal((n, n)), jnp.float32)
    holes = jnp.asarray(rng.random((n, n)) > 0.1)
    full = jnp.ones((n, n), bool)
    calls = {
        "gradient axis 0": lambda f, **k: jaxgrad.gradient(f, axis=0, **k),
        "gradient axis 1": lambda f, **k: jaxgrad.gradient(f, axis=1, **k),
        "gradient all axes": lambda f, **k: jaxgrad.gradient(f, **k),
        "derivative axis 0": lambda f, **k: jaxgrad.derivative(f, axis=0, **k),
        "derivative axis 1": lambda f, **k: jaxgrad.derivative(f, axis=1, **k),
        "derivative axis 1, accuracy 4": lambda f, **k: jaxgrad.derivative(f, axis=1, accuracy=4, **k),
        "total_variation": lambda f, **k: jaxgrad.total_variation(f, eps=1e-3, **k),
        "smoothness": lambda f, **k: jaxgrad.smoothness(f, **k),
    }

    def loss(call, f, w):
        out = call(f) if w is None else call(f, where=w)
        if not isinstance(out, tuple) and jnp.ndim(out) == 0:  # a penalty
            return out
        return sum(jnp.nansum(o**2) for o in (out if isinstance(out, tuple) else (out,)))

    for name, call in calls.items():
        penalty = name.startswith(("total", "smooth"))
        forward = (lambda f, w=None, call=call: loss(call, f, w)) if penalty else (
            lambda f, w=None, call=call: call(f) if w is None else call(f, where=w))
        backward = lambda f, w=None, call=call: jax.grad(loss, argnums=1)(call, f, w)
        for mode, fn in (("forward", jax.jit(forward)), ("grad", jax.jit(backward))):
            impls = {
                "unmasked": lambda fn=fn: fn(f),
                "masked, 10% holes": lambda fn=fn: fn(f, holes),
                "masked, full mask": lambda fn=fn: fn(f, full),
            }
            yield f"{name}, {mode}", impls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    print("\n".join(environment()))
    print(f"field {args.n}x{args.n} float32, {args.rounds} rounds\n")
    summary = []
    for title, impls in workloads(args.n):
        if args.only and not re.search(args.only, title):
            continue
        res = measure(impls, args.rounds)
        report(title, res, "unmasked")
        base = res["unmasked"][0]
        summary.append((title, res["masked, 10% holes"][0] / base, res["masked, full mask"][0] / base))
    print("## Summary: masked min time / unmasked min time")
    print("| workload | 10% holes | full mask |\n|---|---|---|")
    for title, holes, full in summary:
        print(f"| {title} | {holes:.2f} | {full:.2f} |")


if __name__ == "__main__":
    main()
