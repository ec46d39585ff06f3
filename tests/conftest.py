"""Shared test helpers: x64 switching and random grids."""

import jax
import numpy as np
import pytest


@pytest.fixture
def x64():
    """Runs a test with jax_enable_x64 on (float64 computations), restoring the setting after."""
    with jax.enable_x64(True):
        yield


def uneven_coordinates(rng: np.random.Generator, n: int, *, decreasing: bool = False, jitter: float = 0.5) -> np.ndarray:
    """Coordinates of n points whose steps vary by up to ``jitter`` around 1, in random order of size."""
    steps = 1.0 + jitter * rng.uniform(-1.0, 1.0, n - 1)
    x = np.concatenate([[0.0], np.cumsum(steps)]) + rng.uniform(-3, 3)
    return x[::-1].copy() if decreasing else x
