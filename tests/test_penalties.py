"""total_variation and smoothness: values, reductions, coordinates, finite gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxgrad
from conftest import uneven_coordinates


def _forward(f, h, axis):
    d = np.diff(f, axis=axis) / h
    pad = [(0, 0)] * f.ndim
    pad[axis] = (0, 1)
    return np.pad(d, pad)


def test_total_variation_matches_a_direct_formula(x64):
    rng = np.random.default_rng(0)
    f = rng.standard_normal((6, 7))
    dx, dy = _forward(f, 0.5, 0), _forward(f, 2.0, 1)
    iso = np.sqrt(dx**2 + dy**2 + 0.1**2)
    np.testing.assert_allclose(jaxgrad.total_variation(f, 0.5, 2.0, eps=0.1, reduction="none"), iso, rtol=1e-12)
    np.testing.assert_allclose(jaxgrad.total_variation(f, 0.5, 2.0, eps=0.1), iso.mean(), rtol=1e-12)
    np.testing.assert_allclose(jaxgrad.total_variation(f, 0.5, 2.0, isotropic=False, reduction="sum"), (np.abs(dx) + np.abs(dy)).sum(), rtol=1e-12)
    np.testing.assert_allclose(jaxgrad.total_variation(f, 0.5, axis=0, reduction="sum"), np.abs(dx).sum(), rtol=1e-12)


def test_total_variation_of_a_monotone_signal_is_its_rise(x64):
    x = np.sort(np.random.default_rng(1).uniform(0, 1, 30))
    f = np.tanh(5 * (x - 0.5))
    # sum of |df| = f[-1] - f[0]; on coordinates each difference is divided by its step.
    tv = jaxgrad.total_variation(f * np.gradient(x), x, reduction="none")
    assert tv.shape == f.shape
    np.testing.assert_allclose(jaxgrad.total_variation(f, reduction="sum"), f[-1] - f[0], rtol=1e-12)


def test_total_variation_sees_the_checkerboard_that_central_differences_miss(x64):
    board = np.indices((8, 8)).sum(axis=0) % 2 * 1.0
    assert float(jaxgrad.total_variation(board)) > 0.8
    central = jaxgrad.gradient(board[1:-1, 1:-1])  # interior central differences vanish
    assert float(np.abs(central[0][1:-1, 1:-1]).max()) == 0.0


def test_smoothness_matches_direct_formulas(x64):
    rng = np.random.default_rng(2)
    f = rng.standard_normal((9, 8))
    d2 = np.zeros_like(f)
    d2[:-2] = (f[2:] - 2 * f[1:-1] + f[:-2]) / 0.3**2
    np.testing.assert_allclose(jaxgrad.smoothness(f, 0.3, axis=0, order=2, reduction="none"), d2**2, rtol=1e-12)
    e1 = _forward(f, 0.3, 0) ** 2 + _forward(f, 0.7, 1) ** 2
    np.testing.assert_allclose(jaxgrad.smoothness(f, 0.3, 0.7), e1.mean(), rtol=1e-12)
    # Coordinates: quadratics have constant second differences on any grid.
    x = np.sort(rng.uniform(0, 1, 12))
    field = jaxgrad.smoothness(3 * x**2 - x, x, order=2, reduction="none")
    np.testing.assert_allclose(field[:-2], 36.0, rtol=1e-9)
    np.testing.assert_array_equal(field[-2:], 0.0)


@pytest.mark.parametrize("isotropic", [True, False])
def test_gradients_are_finite_on_flat_regions(isotropic):
    f = jnp.zeros((5, 5)).at[2, 2].set(1.0)
    g = jax.grad(lambda f: jaxgrad.total_variation(f, isotropic=isotropic))(f)
    assert bool(jnp.all(jnp.isfinite(g)))
    g = jax.grad(lambda f: jaxgrad.total_variation(f, isotropic=isotropic))(jnp.zeros((4, 4)))
    np.testing.assert_array_equal(g, 0.0)
    assert bool(jnp.all(jnp.isfinite(jax.hessian(lambda f: jaxgrad.smoothness(f, order=2))(jnp.zeros(6)))))


def test_check_grads(x64):
    rng = np.random.default_rng(3)
    f = jnp.asarray(rng.standard_normal((5, 6)))
    x = jnp.asarray(uneven_coordinates(rng, 6, jitter=0.3))
    check_grads(lambda f, x: jaxgrad.total_variation(f, 0.5, x, eps=0.01), (f, x), order=1, modes=("fwd", "rev"))
    check_grads(lambda f, x: jaxgrad.smoothness(f, 0.5, x, order=2), (f, x), order=2, modes=("fwd", "rev"))


def test_dtypes():
    f = jnp.ones((4, 4), jnp.bfloat16)
    assert jaxgrad.total_variation(f).dtype == jnp.bfloat16
    assert jaxgrad.smoothness(jnp.ones(5, jnp.complex64)).dtype == jnp.float32
    assert jaxgrad.smoothness(np.arange(5)).dtype == jnp.result_type(float)


@pytest.mark.parametrize(
    "fn, args, kwargs, exc, match",
    [
        (jaxgrad.total_variation, (np.zeros(4),), {"reduction": "max"}, ValueError, "reduction must be"),
        (jaxgrad.total_variation, (np.zeros(4),), {"eps": -1.0}, ValueError, "eps must be a real scalar >= 0"),
        (jaxgrad.total_variation, (np.zeros(4),), {"isotropic": "yes"}, TypeError, "isotropic must be"),
        (jaxgrad.total_variation, (np.zeros(1),), {}, ValueError, "too small"),
        (jaxgrad.smoothness, (np.zeros(3),), {"order": 3}, ValueError, "at least 4 points"),
        (jaxgrad.smoothness, (np.zeros(3),), {"order": 0}, ValueError, "order must be >= 1"),
        (jaxgrad.smoothness, (np.zeros((3, 3)), 1.0, 2.0, 3.0), {}, TypeError, "invalid number of spacing"),
    ],
)
def test_errors(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)
