"""Masks (``where=``) on sharded arrays, 8 virtual CPU devices (run by tests/test_sharding.py in
its own process): the same values as on one device, the input's sharding kept, a sharded mask,
and gradients inside a user's jit."""

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxgrad
from conftest import SHARDED_DEVICES

if len(jax.devices()) != SHARDED_DEVICES:
    raise RuntimeError(f"tests/sharded needs {SHARDED_DEVICES} virtual devices, found {len(jax.devices())}")

_rng = np.random.default_rng(0)
F = _rng.standard_normal((32, 24)).astype(np.float32)
W = _rng.random((32, 24)) > 0.2
X = np.cumsum(_rng.uniform(0.5, 1.5, 32)).astype(np.float32)
DIRTY = np.where(W, F, np.nan).astype(np.float32)

FUNCTIONS = {
    "gradient": lambda f, w: jaxgrad.gradient(f, X, 0.5, edge_order=2, where=w),
    "derivative accuracy 4": lambda f, w: jaxgrad.derivative(f, 0.5, axis=1, accuracy=4, where=w),
    "derivative periodic": lambda f, w: jaxgrad.derivative(f, 0.1, axis=0, boundary="periodic", where=w),
    "total_variation": lambda f, w: jaxgrad.total_variation(f, X, 0.5, where=w),
    "grad of smoothness": jax.grad(lambda f, w: jaxgrad.smoothness(f, order=2, where=w)),
}
LAYOUTS = [("Auto", ("i", None)), ("Explicit", (None, "i"))]
# Every function on automatic axes. Explicit axes add no masked code of their own (the mask is one
# more argument of the kernel under auto_axes, and masked stencils always take the partitioner's
# path): there, masked derivatives (accuracy 4 along the split axis 1) and the gradient of a masked
# penalty (the gradient's tuple outputs on explicit axes run unmasked in test_sharded_arrays.py).
EXPLICIT = ("derivative accuracy 4", "derivative periodic", "grad of smoothness")
CASES = [pytest.param(kind, spec, name, id=f"{name}-{kind}-spec{i}")
         for name in FUNCTIONS for i, (kind, spec) in enumerate(LAYOUTS) if kind == "Auto" or name in EXPLICIT]


def leaves(out):
    return out if isinstance(out, tuple) else (out,)


@functools.cache
def one_device():
    """The one-device values of every function, computed once, in one program (one compilation
    instead of one per function)."""
    everything = lambda f, w: {name: fn(f, w) for name, fn in FUNCTIONS.items()}
    return {name: leaves(out) for name, out in jax.jit(everything)(DIRTY, W).items()}


@pytest.mark.parametrize("kind, spec, name", CASES)
def test_masked_calls_match_one_device_and_keep_the_sharding(kind, spec, name):
    mesh = jax.make_mesh((8,), ("i",), axis_types=(getattr(AxisType, kind),))
    sharding = NamedSharding(mesh, P(*spec))
    fn = FUNCTIONS[name]
    want = one_device()[name]
    with jax.set_mesh(mesh) if kind == "Explicit" else contextlib.nullcontext():
        got = leaves(fn(jax.device_put(DIRTY, sharding), jax.device_put(W, sharding)))
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_allclose(np.nan_to_num(g), np.nan_to_num(w), rtol=1e-5, atol=1e-5)
    for g in got:
        if g.ndim:
            assert tuple(g.sharding.spec) + (None,) * (g.ndim - len(g.sharding.spec)) == spec


def test_masked_gradient_inside_jit_with_a_sharded_mask():
    mesh = jax.make_mesh((4, 2), ("i", "j"), axis_types=(AxisType.Auto,) * 2)
    sharding = NamedSharding(mesh, P("i", "j"))
    loss = lambda f, w: jnp.nansum(jaxgrad.derivative(f, X, axis=0, where=w) ** 2)
    got = jax.jit(jax.grad(loss))(jax.device_put(DIRTY, sharding), jax.device_put(W, sharding))
    want = jax.jit(jax.grad(loss))(DIRTY, W)  # one compilation, not one per op
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-4)
    assert np.isfinite(np.asarray(got)).all() and (np.asarray(got)[~W] == 0).all()
