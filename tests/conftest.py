"""Shared test helpers: x64 switching, random grids, compiled gradient checks; the gate of tests/sharded/."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_jvp, check_vjp

# tests/sharded/ needs 8 virtual CPU devices, and JAX fixes the device count when its backend
# starts: tests/test_sharding.py runs it in its own process with JAXGRAD_SHARDED=1 (by hand:
# `JAXGRAD_SHARDED=1 python -m pytest tests/sharded`). Anywhere else nothing there is collected
# or imported, doctests included.
SHARDED_DEVICES = 8
if os.environ.get("JAXGRAD_SHARDED") == "1":  # before the backend starts (importing jax does not)
    os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={SHARDED_DEVICES}"
else:
    collect_ignore = ["sharded"]


@pytest.fixture
def x64():
    """Runs a test with jax_enable_x64 on (float64 computations), restoring the setting after."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(params=["float64", "float32"])
def precision(request):
    """Runs a test twice: with jax_enable_x64 on (float64 computations) and off (float32), restoring
    the setting after; yields ``(dtype name, relative tolerance)`` for comparisons with float64
    references."""
    with jax.enable_x64(request.param == "float64"):
        yield request.param, (1e-12 if request.param == "float64" else 2e-5)


def uneven_coordinates(rng: np.random.Generator, n: int, *, decreasing: bool = False, jitter: float = 0.5) -> np.ndarray:
    """Coordinates of n points whose steps vary by up to ``jitter`` around 1, in random order of size."""
    steps = 1.0 + jitter * rng.uniform(-1.0, 1.0, n - 1)
    x = np.concatenate([[0.0], np.cumsum(steps)]) + rng.uniform(-3, 3)
    return x[::-1].copy() if decreasing else x


def check_grads_compiled(f, args, order, modes=("fwd", "rev")):
    """``jax.test_util.check_grads``'s checks (its ``check_jvp`` and ``check_vjp``: the same directions
    and tolerances, the same recursion for ``order > 1``) on jitted JVPs and VJPs. Eagerly a VJP
    compiles its forward and backward passes as two programs; as one, first-order checks here take
    a quarter to a third less time (second-order ones about as long)."""
    args = tuple(args)
    if "fwd" in modes:
        jvp = jax.jit(lambda primals, tangents: jax.jvp(f, primals, tangents))
        check_jvp(f, jvp, args)
        if order > 1:
            check_grads_compiled(jvp, (args, args), order - 1, modes)
    if "rev" in modes:

        @jax.jit
        def vjp(args, cotangent):
            out, pullback = jax.vjp(f, *args)
            return out, pullback(cotangent)

        zeros = jax.tree.map(jnp.zeros_like, f(*args))
        check_vjp(f, lambda *args: (vjp(args, zeros)[0], lambda cotangent: vjp(args, cotangent)[1]), args)
        if order > 1:  # as check_grads: the VJP of the function's own output
            check_grads_compiled(jax.jit(lambda *args: vjp(args, f(*args))[1]), args, order - 1, modes)


def pytest_collection_modifyitems(items):
    """The sharded run (minutes, in a subprocess) first: with several workers it then overlaps
    the rest of the suite instead of running alone at the end."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/test_sharding.py::test_sharded_arrays"))
