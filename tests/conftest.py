"""Shared test helpers: x64 switching and random grids; the gate of tests/sharded/."""

import os

import jax
import numpy as np
import pytest

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


def pytest_collection_modifyitems(items):
    """The sharded run (minutes, in a subprocess) first: with several workers it then overlaps
    the rest of the suite instead of running alone at the end."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/test_sharding.py::test_sharded_arrays"))
