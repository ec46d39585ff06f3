"""Sharded gradients on 8 virtual CPU devices: the halo-exchange path against XLA's partitioner
and jax.numpy.gradient, by the collectives in the compiled program and by time.

For each workload: the collectives XLA compiled (kind: count x bytes each device sends, summed),
and min/median time per call, implementations interleaved in one process. The 8 "devices" share
this machine's cores, so times show overheads and transfer volume, not multi-chip speed-ups.

Run:  python benchmarks/bench_sharding.py [--quick]
"""

from __future__ import annotations

import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from bench_gradient import measure  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxgrad  # noqa: E402

# The collective counter is a test helper (the sharded tests assert with it): one copy, in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hlo_util import collectives  # noqa: E402


def workloads(quick: bool):
    s2, s3 = (1024, 64) if quick else (4096, 256)
    rng = np.random.default_rng(0)
    f2 = rng.standard_normal((s2, s2), dtype=np.float32)
    f3 = rng.standard_normal((s3, s3, s3), dtype=np.float32)
    x2 = np.cumsum(rng.uniform(0.5, 1.5, s2)).astype(np.float32)
    row, grid, slab = ((8,), ("i",)), ((4, 2), ("i", "j")), ((8,), ("i",))
    gradient = lambda *v, **k: lambda f, halo=True: jaxgrad.gradient(f, *v, halo=halo, **k)
    yield f"gradient, 2-D {s2}^2, all axes", f2, row, P("i"), gradient(), jnp.gradient
    yield f"gradient, 2-D {s2}^2, all axes", f2, grid, P("i", "j"), gradient(), jnp.gradient
    yield f"gradient, 2-D {s2}^2, coordinates, edge_order=2", f2, grid, P("i", "j"), gradient(x2, x2, edge_order=2), None
    yield f"gradient, 3-D {s3}^3, all axes", f3, slab, P("i"), gradient(), jnp.gradient
    yield f"gradient, 3-D {s3}^3, all axes", f3, grid, P("i", "j"), gradient(), jnp.gradient
    yield (f"derivative accuracy 8, axis 0, 2-D {s2}^2", f2, grid, P("i", "j"),
           lambda f, halo=True: jaxgrad.derivative(f, 0.5, axis=0, accuracy=8, halo=halo), None)
    yield (f"laplacian accuracy 4, coordinates, 2-D {s2}^2", f2, grid, P("i", "j"),
           lambda f, halo=True: jaxgrad.laplacian(f, x2, x2, accuracy=4, halo=halo), None)
    yield (f"periodic derivative, axis 0, 2-D {s2}^2", f2, grid, P("i", "j"),
           lambda f, halo=True: jaxgrad.derivative(f, 0.5, axis=0, boundary="periodic", halo=halo), None)


def describe(found: dict) -> str:
    return ", ".join(f"{k} {c} x, {b / 1024:.1f} KiB" for k, (c, b) in sorted(found.items())) or "none"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small arrays, few rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; jax {jax.__version__}, "
          f"{len(jax.devices())} virtual {jax.devices()[0].platform} devices; {rounds} rounds, float32\n")
    for workload in workloads(args.quick):
        table(*workload, rounds)


def table(title, f, mesh_shape, spec, ours, theirs, rounds: int) -> None:
    shape, names = mesh_shape
    mesh = jax.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(names))
    sharding = NamedSharding(mesh, spec)
    fs = jax.device_put(f, sharding)
    f1 = jax.device_put(f, jax.devices()[0])
    xla_path = jax.jit(lambda f: ours(f, halo=False))
    impls = {
        "jaxgrad, halo exchange": lambda: ours(fs),
        "jaxgrad, XLA partitioner": lambda: xla_path(fs),
        "jaxgrad, one device": lambda: ours(f1),
    }
    found = {
        "jaxgrad, halo exchange": collectives(lambda f: ours(f, halo=sharding), fs),
        "jaxgrad, XLA partitioner": collectives(lambda f: ours(f, halo=False), fs),
    }
    if theirs is not None:
        impls["jax.numpy.gradient"] = lambda: theirs(fs)
        found["jax.numpy.gradient"] = collectives(theirs, fs)
    res = measure(impls, rounds)
    base = res["jaxgrad, halo exchange"][0]
    print(f"## {title}, mesh {dict(zip(names, shape))}, {spec}")
    print("| implementation | collectives (count, bytes per device) | min ms | median ms | ratio |\n|---|---|---|---|---|")
    for name, (tmin, tmed, _) in sorted(res.items(), key=lambda kv: kv[1][0]):
        print(f"| {name} | {describe(found.get(name, {}))} | {tmin * 1e3:.1f} | {tmed * 1e3:.1f} | {tmin / base:.2f} |")
    print()

if __name__ == "__main__":
    main()
