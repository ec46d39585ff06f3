"""Time ratios of jaxgrad against jax.numpy.gradient, numpy.gradient and torch.gradient.

Everything is measured in one process, implementations interleaved in a shuffled order per
round; the table gives the min and median time per call and each row's ratio to jaxgrad
(min over min). Not a test: nothing here fails.

Run:  python benchmarks/bench_gradient.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad

try:
    import torch
except ImportError:  # torch is optional: its rows are left out
    torch = None


def _block(out):
    return jax.block_until_ready(out) if isinstance(out, (jax.Array, tuple, list)) else out


def roofline_kernel(n_out: int):
    """Reads f once and writes n_out outputs of its size: the bytes a gradient must move."""
    return jax.jit(lambda f: tuple(f * (i + 1.0) for i in range(n_out)))


def workloads(quick: bool):
    s2, s3 = (1024, 64) if quick else (4096, 256)
    rng = np.random.default_rng(0)
    f2 = rng.standard_normal((s2, s2), dtype=np.float32)
    f3 = rng.standard_normal((s3, s3, s3), dtype=np.float32)
    x3 = np.cumsum(rng.uniform(0.5, 1.5, s3)).astype(np.float32)
    yield f"2-D {s2}^2, all axes", f2, (), {}
    yield f"3-D {s3}^3, all axes", f3, (), {}
    yield f"3-D {s3}^3, all axes, edge_order=2", f3, (), {"edge_order": 2}
    yield f"3-D {s3}^3, coordinates on every axis", f3, (x3, x3, x3), {}


def implementations(f, varargs, kwargs):
    fj = jnp.asarray(f)
    vj = tuple(jnp.asarray(v) for v in varargs)
    impls = {
        "jaxgrad": lambda: jaxgrad.gradient(fj, *vj, **kwargs),
        "numpy.gradient": lambda: np.gradient(f, *varargs, **kwargs),
        "roofline (jit, same bytes)": (lambda k: lambda: k(fj))(roofline_kernel(f.ndim)),
    }
    if "edge_order" not in kwargs:  # jax.numpy.gradient has no edge_order
        impls["jax.numpy.gradient"] = lambda: jnp.gradient(fj, *vj)
    if torch is not None:
        ft = torch.from_numpy(f)
        sp = {"spacing": [torch.from_numpy(v) for v in varargs]} if varargs else {}
        impls["torch.gradient"] = lambda: torch.gradient(ft, **sp, **kwargs)
    return impls


def measure(impls, rounds: int):
    times = {name: [] for name in impls}
    for fn in impls.values():
        _block(fn())  # compile and warm up
    for _ in range(rounds):
        order = list(impls)
        random.shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            _block(impls[name]())
            times[name].append(time.perf_counter() - t0)
    return {name: (min(t), float(np.median(t))) for name, t in times.items()}


def derivative_case(quick: bool):
    """derivative at accuracy 2, 4 and 8 against gradient(edge_order=2), along each axis of a 3-D array."""
    s3 = 64 if quick else 256
    fj = jnp.asarray(np.random.default_rng(1).standard_normal((s3, s3, s3), dtype=np.float32))
    impls = {"jaxgrad.gradient(edge_order=2), 3 axes": lambda: jaxgrad.gradient(fj, edge_order=2)}
    for acc in (2, 4, 8):
        impls[f"jaxgrad.derivative(accuracy={acc}), 3 axes"] = (
            lambda accuracy: lambda: tuple(jaxgrad.derivative(fj, axis=a, accuracy=accuracy) for a in range(3))
        )(acc)
    impls["roofline (jit, same bytes)"] = (lambda k: lambda: k(fj))(roofline_kernel(3))
    return f"3-D {s3}^3, derivative accuracy 2/4/8", impls, "jaxgrad.gradient(edge_order=2), 3 axes"


def extra_cases(quick: bool):
    """1-D, reverse mode, batches under vmap, and per-call dispatch on a small array."""
    rng = np.random.default_rng(2)
    n1 = 1_000_000 if quick else 10_000_000
    f1 = rng.standard_normal(n1, dtype=np.float32)
    f1j = jnp.asarray(f1)
    yield f"1-D {n1:,}", {
        "jaxgrad": lambda: jaxgrad.gradient(f1j),
        "jax.numpy.gradient": lambda: jnp.gradient(f1j),
        "numpy.gradient": lambda: np.gradient(f1),
        "roofline (jit, same bytes)": (lambda k: lambda: k(f1j))(roofline_kernel(1)),
    }, "jaxgrad"

    s2 = 1024 if quick else 4096
    f2 = jnp.asarray(rng.standard_normal((s2, s2), dtype=np.float32))
    energy = lambda grad_fn: jax.jit(jax.grad(lambda f: jnp.sum(grad_fn(f) ** 2)))
    yield f"reverse mode: grad of sum(gradient(f, axis=0)**2), 2-D {s2}^2", {
        "jaxgrad": (lambda g: lambda: g(f2))(energy(lambda f: jaxgrad.gradient(f, axis=0))),
        "jax.numpy.gradient": (lambda g: lambda: g(f2))(energy(lambda f: jnp.gradient(f, axis=0))),
        "roofline (jit, same bytes)": (lambda k: lambda: k(f2))(roofline_kernel(1)),
    }, "jaxgrad"

    batch, length = (128, 4096) if quick else (1024, 4096)
    xs = np.cumsum(rng.uniform(0.5, 1.5, (batch, length)), axis=1).astype(np.float32)
    fs = np.sin(xs)
    xj, fj = jnp.asarray(xs), jnp.asarray(fs)
    yield f"vmap over {batch} signals of {length}, each with its own coordinates", {
        "jaxgrad": (lambda g: lambda: g(fj, xj))(jax.jit(jax.vmap(lambda f, x: jaxgrad.gradient(f, x)))),
        "jax.numpy.gradient": (lambda g: lambda: g(fj, xj))(jax.jit(jax.vmap(lambda f, x: jnp.gradient(f, x)))),
        "numpy.gradient (loop)": lambda: [np.gradient(fs[i], xs[i]) for i in range(batch)],
    }, "jaxgrad"

    small = rng.standard_normal(1000, dtype=np.float32)
    small_j = jnp.asarray(small)
    yield "dispatch: 1-D 1,000 points, one call", {
        "jaxgrad": lambda: jaxgrad.gradient(small_j),
        "jax.numpy.gradient": lambda: jnp.gradient(small_j),
        "numpy.gradient": lambda: np.gradient(small),
    }, "jaxgrad"


def compile_time(quick: bool) -> float:
    """Seconds to trace and compile gradient of a 3-D array, all axes, edge_order=2 (cold cache)."""
    from jaxgrad._gradient import _gradient

    s3 = 64 if quick else 256
    f = jax.ShapeDtypeStruct((s3, s3, s3 + 1), jnp.float32)  # a shape no other row compiled
    t0 = time.perf_counter()
    _gradient.lower(f, (1.0, 1.0, 1.0), axes=(0, 1, 2), edge_order=2).compile()
    return time.perf_counter() - t0


def report(title: str, res: dict, base_name: str) -> None:
    base = res[base_name][0]
    print(f"## {title}")
    print(f"| implementation | min ms | median ms | ratio to {base_name} |\n|---|---|---|---|")
    for name, (tmin, tmed) in sorted(res.items(), key=lambda kv: kv[1][0]):
        digits = 1 if tmin > 1e-3 else 4
        print(f"| {name} | {tmin * 1e3:.{digits}f} | {tmed * 1e3:.{digits}f} | {tmin / base:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small arrays, few rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ", torch not installed"))
    print(f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(default allocator)')}")
    print(f"{rounds} rounds, float32; ratio = min time / the min time of the table's reference row\n")
    for title, f, varargs, kwargs in workloads(args.quick):
        report(title, measure(implementations(f, varargs, kwargs), rounds), "jaxgrad")
    title, impls, base_name = derivative_case(args.quick)
    report(title, measure(impls, rounds), base_name)
    for title, impls, base_name in extra_cases(args.quick):
        report(title, measure(impls, rounds if "dispatch" not in title else 200), base_name)
    print(f"compile time, gradient of a 3-D array, all axes, edge_order=2: {compile_time(args.quick) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
