"""Curvilinear and spherical functions on sharded arrays (8 virtual CPU devices, run by
tests/test_sharding.py in its own process): same values as on one device, the sharding kept."""

import contextlib
import functools

import jax
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxgrad

_r, _t = np.meshgrid(np.linspace(1.0, 2.0, 32), np.linspace(0.0, 2 * np.pi, 24, endpoint=False), indexing="ij")
X, Y = (_r * np.cos(_t)).astype(np.float32), (_r * np.sin(_t)).astype(np.float32)
F = (np.sin(X) * Y).astype(np.float32)
LAT = np.linspace(-60.0, 60.0, 32)
LON = np.arange(24) * 15.0
BATCH = np.random.default_rng(0).standard_normal((2, 32, 24)).astype(np.float32)

FUNCTIONS = {
    "curvilinear gradient": lambda f: jaxgrad.gradient(f, X, Y, edge_order=2),
    "curvilinear laplacian, periodic angle": lambda f: jaxgrad.laplacian(f, X, Y, accuracy=4, boundary=("one-sided", "periodic")),
    "curvilinear divergence": lambda f: jaxgrad.divergence([f, 2 * f], X, Y),
    "curvilinear curl": lambda f: jaxgrad.curl([f, f * f], X, Y),
    "spherical_gradient": lambda f: jaxgrad.spherical_gradient(f, LAT, LON, accuracy=4),
    "spherical_laplacian": lambda f: jaxgrad.spherical_laplacian(f, LAT, LON),
    "spherical_divergence": lambda f: jaxgrad.spherical_divergence(f, 2 * f, LAT, LON),
    "spherical_curl": lambda f: jaxgrad.spherical_curl(f, f * f, LAT, LON),
}
LAYOUTS = [((8,), ("i",), ("i", None)), ((4, 2), ("i", "j"), ("i", "j"))]
# Every function on the 1-D mesh; the 2-D mesh and explicit axes with one curvilinear and one
# spherical function (the suite's time is spent on compiling: each case compiles anew).
CASES = [(kind, shape, names, spec, name) for kind in ("Auto", "Explicit") for shape, names, spec in LAYOUTS
         for name in FUNCTIONS
         if (kind, shape) == ("Auto", (8,)) or name in ("curvilinear gradient", "spherical_laplacian") and kind == "Auto"
         or (kind, shape, name) == ("Explicit", (8,), "curvilinear gradient")]


def leaves(out):
    return out if isinstance(out, tuple) else (out,)


@functools.cache
def one_device():
    """The one-device values of every function, computed once, in one program (one compilation
    instead of one per function)."""
    everything = lambda f, batch: {name: fn(batch if name.startswith("spherical") else f) for name, fn in FUNCTIONS.items()}
    return {name: leaves(out) for name, out in jax.jit(everything)(F, BATCH).items()}


@pytest.mark.parametrize("kind, shape, names, spec, name", CASES, ids=[f"{k}-{s}-{n}" for k, _, _, s, n in CASES])
def test_matches_one_device_and_keeps_the_sharding(kind, shape, names, spec, name):
    mesh = jax.make_mesh(shape, names, axis_types=(getattr(AxisType, kind),) * len(names))
    data = BATCH if name.startswith("spherical") else F
    fn = FUNCTIONS[name]
    want = one_device()[name]
    sharding = NamedSharding(mesh, P(*((None,) * (data.ndim - 2)), *spec))
    with jax.set_mesh(mesh) if kind == "Explicit" else contextlib.nullcontext():
        got = leaves(fn(jax.device_put(data, sharding)))
    for g, w in zip(got, want):
        err = float(np.max(np.abs(np.asarray(g) - np.asarray(w))))
        # float32: a Laplacian's rounding is amplified by 1/h^2 (the one-device and sharded programs
        # round differently; in float64 they agree to 1e-11).
        tol = 3e-3 if "laplacian" in name else 1e-5
        assert err <= tol * float(np.max(np.abs(np.asarray(w)))), f"max difference {err} against one device"
        out_spec = tuple(g.sharding.spec) + (None,) * (g.ndim - len(g.sharding.spec))
        assert out_spec == (None,) * (g.ndim - 2) + spec, f"output sharding {out_spec}, expected {spec}"
