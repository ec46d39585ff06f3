"""Run by tests/test_sharding.py in a separate process with 8 virtual CPU devices.

Every public function on arrays sharded over 1-D and 2-D meshes, automatic and explicit axes,
along sharded and unsharded axes: same values as on one device, and the input's sharding kept.
Then the halo-exchange path: only neighbour transfers of halo bytes in the compiled program,
periodic wrap-around across the first and last shard, inside a user's jit, under grad and vmap,
NaN locality, and the fallback for shards too short for a stencil.
Prints one line per check and exits non-zero on the first failure.
"""

import contextlib
import functools
import os
import sys
from pathlib import Path

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxgrad  # noqa: E402
from jaxgrad import _halo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from hlo import collectives  # noqa: E402


def leaves(out):
    return out if isinstance(out, tuple) else (out,)


_REFERENCE = {}


def check(name, fn, f, sharding, spatial_spec):
    key = (id(fn), id(f))  # one-device reference values, computed once per function
    if key not in _REFERENCE:
        _REFERENCE[key] = leaves(fn(f))
    want = _REFERENCE[key]
    got = leaves(fn(jax.device_put(f, sharding)))
    for g, w in zip(got, want):
        err = float(np.max(np.abs(np.asarray(g) - np.asarray(w)))) if w.size else 0.0
        scale = 1.0 + float(np.max(np.abs(np.asarray(w)))) if w.size else 1.0
        assert err <= 1e-5 * scale, f"{name}: max difference {err} against one device"
        spec = tuple(g.sharding.spec) + (None,) * (g.ndim - len(g.sharding.spec))
        expected = (None,) * (g.ndim - len(spatial_spec)) + spatial_spec if g.ndim >= len(spatial_spec) else ()
        assert g.ndim == 0 or spec == expected, f"{name}: output sharding {spec}, expected {expected}"
    print(f"ok  {name}")


def main():
    assert len(jax.devices()) == 8, jax.devices()
    rng = np.random.default_rng(0)
    f = rng.standard_normal((32, 24)).astype(np.float32)
    F = rng.standard_normal((2, 32, 24)).astype(np.float32)
    x = np.cumsum(rng.uniform(0.5, 1.5, 32)).astype(np.float32)
    functions = {
        "gradient": lambda f: jaxgrad.gradient(f, x, 0.5, edge_order=2),
        "derivative axis 0, accuracy 8": lambda f: jaxgrad.derivative(f, x, axis=0, accuracy=8),
        "derivative axis 1, order 2": lambda f: jaxgrad.derivative(f, 0.5, axis=1, order=2, accuracy=4),
        "derivative periodic": lambda f: jaxgrad.derivative(f, 0.1, axis=0, accuracy=6, boundary="periodic"),
        "laplacian": lambda f: jaxgrad.laplacian(f, x, 0.5, accuracy=4),
        "hessian": lambda f: jaxgrad.hessian(f, x, 0.5),
        "total_variation none": lambda f: jaxgrad.total_variation(f, reduction="none"),
        "smoothness mean": lambda f: jaxgrad.smoothness(f, x, 0.5),
        "grad of smoothness": jax.grad(lambda f: jaxgrad.smoothness(f, x, 0.5)),
        "jit(gradient)": jax.jit(lambda f: jaxgrad.gradient(f, axis=0)),
    }
    fields = {
        "divergence": lambda F: jaxgrad.divergence(F, x, 0.5),
        "curl": lambda F: jaxgrad.curl(F, x, 0.5),
        "jacobian": lambda F: jaxgrad.jacobian(F, x, 0.5),
    }
    for kind in (AxisType.Auto, AxisType.Explicit):
        meshes = [(jax.make_mesh((8,), ("i",), axis_types=(kind,)), [P("i", None), P(None, "i")]),
                  (jax.make_mesh((4, 2), ("i", "j"), axis_types=(kind,) * 2), [P("i", "j")])]
        for mesh, specs in meshes:
            # Explicit sharding is used inside a mesh context, as JAX asks for it.
            with jax.set_mesh(mesh) if kind == AxisType.Explicit else contextlib.nullcontext():
                run_mesh(kind, mesh, specs, functions, fields, f, F)
    check_halo_path(rng)
    print("all sharded checks passed")


# On the other layouts, a few functions suffice: the full set runs on P("i", None).
FEW = ("gradient", "derivative axis 0, accuracy 8", "laplacian", "divergence")


def run_mesh(kind, mesh, specs, functions, fields, f, F):
    for spec in specs:
        if spec != P("i", None):
            functions = {k: v for k, v in functions.items() if k in FEW}
            fields = {k: v for k, v in fields.items() if k in FEW}
        sharding = NamedSharding(mesh, spec)
        spatial = tuple(spec) + (None,) * (2 - len(spec))
        for name, fn in functions.items():
            check(f"{kind.name} {spec} {name}", fn, f, sharding, spatial)
        field_sharding = NamedSharding(mesh, P(None, *spec))
        for name, fn in fields.items():
            check(f"{kind.name} {spec} {name}", fn, F, field_sharding, spatial)


def uses_halo_path(fn, *args, fresh=True):
    """Whether calling ``fn`` traces a halo exchange, and its output. ``fresh`` clears the
    caches first, so that it traces."""
    if fresh:
        jax.clear_caches()
    taken = []
    original = _halo._exchanged

    def spy(*a):
        out = original(*a)
        taken.append(out is not None)
        return out

    _halo._exchanged = spy
    try:
        out = fn(*args)
    finally:
        _halo._exchanged = original
    return any(taken), out


def close(got, want, name, tol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    err = float(np.max(np.abs(got - want)))
    assert err <= tol * (1.0 + float(np.max(np.abs(want)))), f"{name}: max difference {err}"


def check_halo_path(rng):
    mesh = jax.make_mesh((4, 2), ("i", "j"), axis_types=(AxisType.Auto,) * 2)
    sharding = NamedSharding(mesh, P("i", "j"))
    f = rng.standard_normal((64, 48)).astype(np.float32)
    fs = jax.device_put(f, sharding)
    x = np.cumsum(rng.uniform(0.5, 1.5, 64)).astype(np.float32)

    # Concrete sharded arrays take the halo path by themselves; the switch turns it off.
    assert uses_halo_path(lambda f: jaxgrad.gradient(f, x, 0.5), fs)[0]
    assert not uses_halo_path(lambda f: jaxgrad.gradient(f, x, 0.5, halo=False), fs)[0]
    close(jaxgrad.gradient(fs, x, 0.5, halo=False)[0], np.gradient(f, x, 0.5)[0], "partitioner path")
    print("ok  halo path chosen for concrete sharded arrays, and switched off")

    # The compiled program sends only halos: local blocks are (16, 24); one row or column per
    # neighbour and direction for gradient, three for accuracy 6 along axis 0; for a laplacian of
    # accuracy 4, three rows (coordinates: 7-point stencils) and two columns (uniform: 5 points).
    found = collectives(lambda f: jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=sharding), fs)
    assert found == {"collective-permute": (4, 2 * (24 + 16) * 4)}, found
    found = collectives(lambda f: jaxgrad.derivative(f, 0.5, axis=0, accuracy=6, halo=sharding), fs)
    assert found == {"collective-permute": (2, 2 * 3 * 24 * 4)}, found
    found = collectives(lambda f: jaxgrad.laplacian(f, x, 0.5, accuracy=4, halo=sharding), fs)
    assert found == {"collective-permute": (4, 2 * (3 * 24 + 2 * 16) * 4)}, found
    found = collectives(lambda f: jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=False), fs)
    assert "all-to-all" in found, found  # XLA's partitioner, for contrast
    print("ok  halo path compiles to neighbour permutes of halo bytes only")

    # Periodic axes wrap across the first and last shard, on steps and on coordinates.
    theta = np.sort(rng.uniform(0.0, 2 * np.pi, 64)).astype(np.float32)
    for name, fn in {
        "periodic uniform": lambda f: jaxgrad.derivative(f, 0.1, axis=0, order=2, accuracy=4, boundary="periodic"),
        "periodic coordinates": lambda f: jaxgrad.derivative(f, theta, axis=0, boundary="periodic", period=2 * np.pi),
        "periodic axis 1": lambda f: jaxgrad.laplacian(f, 0.1, 0.2, boundary=("one-sided", "periodic")),
    }.items():
        assert uses_halo_path(fn, fs)[0], name
        close(fn(fs), fn(f), name)
        print(f"ok  halo {name}")

    # Inside a user's jit (automatic axes: the sharding is given), under grad, jvp and vmap.
    loss = lambda f, x, halo=sharding: jnp.sum(jnp.sin(jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=halo)[0]))
    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    assert uses_halo_path(step, fs, x)[0]
    got = step(fs, x)
    assert got[0].sharding.spec == P("i", "j"), got[0].sharding
    want = jax.grad(functools.partial(loss, halo=True), argnums=(0, 1))(f, x)
    close(got[0], want[0], "grad wrt f")
    close(got[1], want[1], "grad wrt coordinates", tol=1e-4)
    tangent = rng.standard_normal(f.shape).astype(np.float32)
    _, jvp = jax.jit(lambda f, t: jax.jvp(lambda f: jaxgrad.derivative(f, x, axis=0, accuracy=4, halo=sharding), (f,), (t,)))(fs, tangent)
    close(jvp, jaxgrad.derivative(tangent, x, axis=0, accuracy=4), "jvp")
    batch = jax.device_put(np.stack([f, 2 * f]), NamedSharding(mesh, P(None, "i", "j")))
    out = jax.jit(jax.vmap(lambda f: jaxgrad.derivative(f, 0.5, axis=0, accuracy=4, halo=NamedSharding(mesh, P("i", "j")))))(batch)
    close(out, np.stack([jaxgrad.derivative(g, 0.5, axis=0, accuracy=4) for g in (f, 2 * f)]), "vmap")
    print("ok  halo path inside jit, under grad, jvp and vmap")

    # NaN stays local across shard boundaries: row 16 starts the second shard along axis 0.
    g = f.copy()
    g[16, 5] = np.nan
    out = np.asarray(jaxgrad.derivative(jax.device_put(g, sharding), 0.5, axis=0, accuracy=4))
    bad = {tuple(b) for b in np.argwhere(np.isnan(out))}
    # rows 14..18 of column 5, but not 16 itself: the central weight of a first derivative is 0
    assert bad == {(14, 5), (15, 5), (17, 5), (18, 5)}, bad
    print("ok  halo NaN locality")

    # Every kind of stencil through the halo path: orders, accuracies, steps and coordinates,
    # one-sided and periodic, along both mesh axes (shards of 24 rows and 24 columns).
    big = rng.standard_normal((96, 48)).astype(np.float32)
    bigs = jax.device_put(big, sharding)
    coords = {0: np.cumsum(rng.uniform(0.5, 1.5, 96)), 1: np.cumsum(rng.uniform(0.5, 1.5, 48))}
    kinds = [(a, o, acc, uniform, b) for a in (0, 1) for o in (1, 2, 3) for acc in (2, 4, 6)
             for uniform in (True, False) for b in ("one-sided", "periodic")]
    picked = [kinds[i] for i in rng.choice(len(kinds), 16, replace=False)]  # 16 of 72, fixed seed
    for axis, order, accuracy, uniform, boundary in picked:
        spacing = 0.7 if uniform else coords[axis].astype(np.float32)
        period = float(coords[axis][-1] + 1.0) if boundary == "periodic" and not uniform else None
        fn = functools.partial(jaxgrad.derivative, spacing=spacing, axis=axis, order=order, accuracy=accuracy, boundary=boundary, period=period)
        taken, got = uses_halo_path(fn, bigs, fresh=False)  # a new kind traces anyway
        assert taken, (axis, order, accuracy, uniform, boundary)
        want = np.asarray(fn(big))
        err = np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want)))
        assert err < 2e-5, (axis, order, accuracy, uniform, boundary, err)
    count = len(picked)
    print(f"ok  halo path matches one device on {count} stencil kinds")

    # Shards shorter than the one-sided edge window (8 rows, 9-point edges): the partitioner path.
    fine = jax.device_put(f, NamedSharding(jax.make_mesh((8,), ("k",), axis_types=(AxisType.Auto,)), P("k")))
    fn = lambda f: jaxgrad.derivative(f, x, axis=0, accuracy=8)
    assert not uses_halo_path(fn, fine)[0]
    close(fn(fine), fn(f), "fallback")
    # A hint that cannot apply (30 rows over 8 devices) is ignored, not an error.
    odd = rng.standard_normal((30, 5)).astype(np.float32)
    hint = NamedSharding(fine.sharding.mesh, P("k"))
    taken, out = uses_halo_path(jax.jit(lambda f: jaxgrad.gradient(f, axis=0, halo=hint)), odd)
    assert not taken
    close(out, np.gradient(odd, axis=0), "uneven hint")
    print("ok  short or uneven shards fall back to the partitioner")


if __name__ == "__main__":
    main()
