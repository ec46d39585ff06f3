"""laplacian, divergence, curl, hessian, jacobian against analytic fields."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from conftest import check_grads_compiled, uneven_coordinates


def _grids(rng, n=17):
    """A uniform grid (scalar steps) and a non-uniform one (coordinates), both on about [-1, 1]."""
    x = np.linspace(-1.0, 1.0, n)
    xu = uneven_coordinates(rng, n, jitter=0.3)
    xu = 2 * (xu - xu[0]) / (xu[-1] - xu[0]) - 1
    return [((x, x, x), (x[1] - x[0],) * 3), ((xu, xu[::-1].copy(), xu), (xu, xu[::-1].copy(), xu))]


@pytest.mark.parametrize("grid", [0, 1], ids=["uniform", "coordinates"])
def test_laplacian_of_quadratic_and_harmonic_fields(x64, grid):
    # The fields' calls in one program, the grid closed over: checked as concrete coordinates (as in
    # an eager call) and folded into the weights by XLA, which then compiles several times faster.
    (x, y, _), spacing = _grids(np.random.default_rng(0))[grid]
    X, Y = np.meshgrid(x, y, indexing="ij")
    run = jax.jit(lambda a, b, c: (jaxgrad.laplacian(a, *spacing[:2]), jaxgrad.laplacian(b, *spacing[:2], accuracy=4),
                                   jaxgrad.laplacian(c, spacing[0], axis=0)))
    quadratic, harmonic, cubic = run(X**2 + Y**2, X**2 - Y**2 + 3 * X * Y, X**3 + Y**2)
    np.testing.assert_allclose(quadratic, 4.0, atol=1e-9)
    np.testing.assert_allclose(harmonic, 0.0, atol=1e-9)
    np.testing.assert_allclose(cubic, 6 * X, atol=1e-8)


@pytest.mark.parametrize("grid", [0, 1], ids=["uniform", "coordinates"])
def test_curl_divergence_and_identities(x64, grid):
    (x, y, z), spacing = _grids(np.random.default_rng(1), n=9)[grid]
    X, Y = np.meshgrid(x, y, indexing="ij")
    np.testing.assert_allclose(jaxgrad.curl([-Y, X], *spacing[:2]), 2.0, atol=1e-10)
    np.testing.assert_allclose(jaxgrad.divergence([X, Y], *spacing[:2]), 2.0, atol=1e-10)
    np.testing.assert_allclose(jaxgrad.divergence(np.stack([X * Y, -0.5 * Y**2]), *spacing[:2]), 0.0, atol=1e-10)
    X3, Y3, Z3 = np.meshgrid(x, y, z, indexing="ij")
    cx, cy, cz = jaxgrad.curl([Y3 * Z3, -X3 * Z3, X3 * Y3], *spacing)
    np.testing.assert_allclose(cx, 2 * X3, atol=1e-10)
    np.testing.assert_allclose(cy, 0.0, atol=1e-10)
    np.testing.assert_allclose(cz, -2 * Z3, atol=1e-10)
    # curl of a gradient vanishes for polynomials the scheme differentiates exactly.
    phi = X3**2 * Y3 + Z3 * Y3
    grad = jaxgrad.gradient(phi, *spacing, edge_order=2)
    for c in jaxgrad.curl(grad, *spacing):
        np.testing.assert_allclose(c, 0.0, atol=1e-9)


@pytest.mark.parametrize("grid", [0, 1], ids=["uniform", "coordinates"])
def test_hessian_and_jacobian(x64, grid):
    (x, y, _), spacing = _grids(np.random.default_rng(2))[grid]
    X, Y = np.meshgrid(x, y, indexing="ij")
    run = jax.jit(lambda X, Y: (jaxgrad.hessian(X**2 * Y + Y**2, *spacing[:2]),
                                jaxgrad.jacobian([X * Y, X + 2 * Y, X**2], *spacing[:2]),
                                jaxgrad.divergence([X * Y, X + 2 * Y], *spacing[:2])))
    H, J, div = run(X, Y)  # one program, as in test_laplacian_of_quadratic_and_harmonic_fields
    assert H.shape == (2, 2) + X.shape
    np.testing.assert_allclose(H[0, 0], 2 * Y, atol=1e-9)
    np.testing.assert_allclose(H[0, 1], 2 * X, atol=1e-9)
    np.testing.assert_array_equal(H[0, 1], H[1, 0])
    np.testing.assert_allclose(H[1, 1], 2.0, atol=1e-9)
    assert J.shape == (3, 2) + X.shape
    for got, want in [(J[0, 0], Y), (J[0, 1], X), (J[1, 0], 1.0), (J[1, 1], 2.0), (J[2, 0], 2 * X), (J[2, 1], 0.0)]:
        np.testing.assert_allclose(got, want, atol=1e-9)
    np.testing.assert_allclose(jnp.trace(J[:2]), div, atol=1e-12)


def test_mixed_boundaries_and_periods(x64):
    # Periodic longitude given by coordinates (period 2 pi), one-sided latitude with a step.
    lon = np.sort(np.random.default_rng(3).uniform(0, 2 * np.pi, 48))
    lat = np.linspace(-1.0, 1.0, 21)
    LON, LAT = np.meshgrid(lon, lat, indexing="ij")
    f = np.sin(LON) * LAT**2
    h = lat[1] - lat[0]
    lap = jaxgrad.laplacian(f, lon, h, boundary=("periodic", "one-sided"), period=(2 * np.pi, None), accuracy=4)
    np.testing.assert_allclose(lap, -np.sin(LON) * LAT**2 + 2 * np.sin(LON), atol=2e-2)
    same = jaxgrad.laplacian(f, lon, h, boundary=("periodic", "one-sided"), period=2 * np.pi, accuracy=4)
    np.testing.assert_array_equal(lap, same)


def test_check_grads_of_operators(x64):
    rng = np.random.default_rng(4)
    x = jnp.asarray(uneven_coordinates(rng, 6, jitter=0.3))
    f = jnp.asarray(rng.standard_normal((6, 5)))
    F = jnp.asarray(rng.standard_normal((2, 6, 5)))
    check_grads_compiled(lambda f, x: jaxgrad.laplacian(f, x, 0.5), (f, x), order=1)
    check_grads_compiled(lambda f, x: jaxgrad.hessian(f, x, 0.5), (f, x), order=1)
    check_grads_compiled(lambda F, x: jaxgrad.jacobian(F, x, 0.5), (F, x), order=1)
    check_grads_compiled(lambda F, x: jaxgrad.divergence(F, x, 0.5), (F, x), order=1)
    check_grads_compiled(lambda F, x: jaxgrad.curl(F, x, 0.5), (F, x), order=1)


def test_operators_under_jit_and_vmap(x64):
    rng = np.random.default_rng(5)
    fs = rng.standard_normal((3, 8, 7))
    xs = np.stack([uneven_coordinates(rng, 8) for _ in range(3)])
    batched = jax.jit(jax.vmap(lambda f, x: jaxgrad.laplacian(f, x, 0.3)))(fs, xs)
    loop = np.stack([jaxgrad.laplacian(f, x, 0.3) for f, x in zip(fs, xs)])
    np.testing.assert_allclose(batched, loop, rtol=1e-12, atol=1e-12)


F2 = [np.zeros((5, 6)), np.zeros((5, 6))]


@pytest.mark.parametrize(
    "fn, args, kwargs, exc, match",
    [
        (jaxgrad.divergence, ([np.zeros((5, 6))] * 3,), {}, ValueError, "one component per spatial axis"),
        (jaxgrad.curl, ([np.zeros(5)],), {}, ValueError, "2 or 3-D grids"),
        (jaxgrad.curl, ([np.zeros((4, 4))] * 3,), {}, ValueError, "one component per spatial axis"),
        (jaxgrad.curl, ([np.zeros((3, 3, 3, 3))] * 4,), {}, ValueError, "2 or 3-D grids"),
        (jaxgrad.divergence, ([np.zeros((5, 6)), np.zeros((5, 5))],), {}, ValueError, "must all have one shape"),
        (jaxgrad.divergence, (F2, 1.0, 2.0, 3.0), {}, TypeError, "invalid number of spacing arguments"),
        (jaxgrad.divergence, (F2,), {"boundary": ("periodic",)}, ValueError, "boundary has 1 entries"),
        (jaxgrad.laplacian, (np.zeros((5, 6)),), {"period": 1.0}, ValueError, "no differentiated axis is periodic"),
        (jaxgrad.laplacian, (np.zeros((5, 6)),), {"accuracy": 5}, ValueError, "positive even integer"),
        (jaxgrad.laplacian, (np.zeros((5, 2)),), {}, ValueError, "f.shape\\[1\\] is 2, too small"),
        (jaxgrad.laplacian, (np.zeros(()),), {}, ValueError, "at least one axis"),
        (jaxgrad.hessian, (np.zeros((5, 6)),), {"axis": 3}, np.exceptions.AxisError, "out of bounds"),
        (jaxgrad.jacobian, (np.zeros(5),), {}, ValueError, "sequence of component arrays"),
        (jaxgrad.jacobian, ([0.0, 1.0],), {}, ValueError, "components of F must be arrays on a grid of at least one axis"),
        (jaxgrad.jacobian, (np.zeros((6, 5)), 1.0, 1.0), {}, TypeError, "leading axis of an array field holds the components"),
        (jaxgrad.laplacian, (np.zeros((5, 6)), np.arange(5.0), np.arange(5.0)), {}, ValueError, "has length 5"),
    ],
)
def test_errors(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)
