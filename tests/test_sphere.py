"""spherical_gradient, spherical_divergence, spherical_curl, spherical_laplacian (jaxgrad/_sphere.py):
analytic fields with measured convergence, the seam of a full circle, batch axes, periodic or
one-sided longitude, differentiability, transformations, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxgrad


def grid(n, *, uneven=False, full=True):
    """n latitudes in [-70, 70] (uneven: stretched towards the equator) and 2n longitudes (the
    whole circle, or 150 degrees of it)."""
    s = np.linspace(-1.0, 1.0, n)
    lat = 70.0 * (s + 0.15 * np.sin(np.pi * s)) if uneven else 70.0 * s
    lon = np.arange(2 * n) * (360.0 / (2 * n)) - 180.0 if full else np.linspace(10.0, 160.0, 2 * n)
    return lat, lon, np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]


def errors(n, accuracy, uneven=False, full=True):
    """Max errors of the four functions on analytic fields (radius 1)."""
    lat, lon, phi, lam = grid(n, uneven=uneven, full=full)
    f = np.cos(phi) * np.cos(lam)
    east, north = jaxgrad.spherical_gradient(f, lat, lon, radius=1.0, accuracy=accuracy)
    e_grad = max(np.abs(np.asarray(east) + np.sin(lam)).max(), np.abs(np.asarray(north) + np.sin(phi) * np.cos(lam)).max())
    # Solid-body rotation about the polar axis: divergence-free, vorticity 2 sin(phi).
    u, v = np.cos(phi) + 0 * lam, 0 * phi + 0 * lam
    e_div = np.abs(np.asarray(jaxgrad.spherical_divergence(u, v, lat, lon, radius=1.0, accuracy=accuracy))).max()
    e_curl = np.abs(np.asarray(jaxgrad.spherical_curl(u, v, lat, lon, radius=1.0, accuracy=accuracy)) - 2 * np.sin(phi)).max()
    # Divergence of the gradient of f (a non-trivial field): -2 f; and a degree-2 harmonic, -6 y.
    e_div2 = np.abs(np.asarray(jaxgrad.spherical_divergence(-np.sin(lam) + 0 * phi, -np.sin(phi) * np.cos(lam), lat, lon,
                                                            radius=1.0, accuracy=accuracy)) + 2 * f).max()
    y = np.sin(phi) * np.cos(phi) * np.cos(lam)
    e_lap = np.abs(np.asarray(jaxgrad.spherical_laplacian(y, lat, lon, radius=1.0, accuracy=accuracy)) + 6 * y).max()
    return [e_grad, max(e_div, 1e-300), e_curl, e_div2, e_lap]


@pytest.mark.parametrize("accuracy, uneven", [(2, False), (4, False), (2, True)], ids=["acc2", "acc4", "acc2-uneven"])
def test_analytic_fields_converge_at_the_scheme_order(x64, accuracy, uneven):
    e = np.array([errors(n, accuracy, uneven) for n in (24, 48)])
    slopes = np.log2(e[0] / e[1])
    for name, slope, err in zip(["gradient", "divergence", "curl", "div of grad", "laplacian"], slopes, e[1]):
        if name == "divergence":  # solid-body rotation has zero divergence, to rounding on every grid
            assert err < 1e-12, err
            continue
        assert slope >= accuracy - 0.3, f"{name}: measured order {slope:.2f} for accuracy {accuracy}"


def test_the_seam_of_a_full_circle_is_as_accurate_as_the_middle(x64):
    lat, lon, phi, lam = grid(24)
    y = np.sin(phi) * np.cos(phi) ** 2 * np.cos(2 * lam + 0.3)
    err = np.abs(np.asarray(jaxgrad.spherical_laplacian(y, lat, lon, radius=1.0)) + 12 * y)
    east, _ = jaxgrad.spherical_gradient(y, lat, lon, radius=1.0)
    err_east = np.abs(np.asarray(east) + 2 * np.sin(phi) * np.cos(phi) * np.sin(2 * lam + 0.3))
    for e in (err, err_east):
        seam = np.concatenate([e[:, :2], e[:, -2:]], axis=1).max()
        assert seam <= 1.05 * e.max() and seam <= 1.05 * np.max(e[:, 10:-10]) + 1e-15


def test_longitude_is_periodic_only_on_a_full_circle_and_one_sided_when_traced(x64):
    lat, lon, phi, lam = grid(12)
    f = np.cos(phi) * np.sin(3 * lam)
    one_sided = np.asarray(jaxgrad.derivative(f, lon, axis=-1))  # per degree, one-sided edges
    periodic = np.asarray(jaxgrad.derivative(f, lon[1] - lon[0], axis=-1, boundary="periodic"))
    scale = 180 / np.pi / np.cos(phi)
    east, _ = jaxgrad.spherical_gradient(f, lat, lon, radius=1.0)
    np.testing.assert_allclose(east, periodic * scale, rtol=1e-12, atol=1e-12)
    traced, _ = jax.jit(lambda lon: jaxgrad.spherical_gradient(f, lat, lon, radius=1.0))(lon)
    np.testing.assert_allclose(traced, one_sided * scale, rtol=1e-12, atol=1e-12)
    part = lon[:-1]  # one step short of the circle
    east, _ = jaxgrad.spherical_gradient(f[:, :-1], lat, part, radius=1.0)
    np.testing.assert_allclose(east, np.asarray(jaxgrad.derivative(f[:, :-1], part, axis=-1)) * scale, rtol=1e-12, atol=1e-12)
    # 0..360 with both ends (a duplicated seam) is one-sided; shifted or descending circles are periodic.
    for lons in (np.linspace(0.0, 360.0, 24, endpoint=False) + 100.0, np.linspace(180.0, -180.0, 24, endpoint=False)):
        g = np.cos(np.deg2rad(lons)) + 0 * phi
        east, _ = jaxgrad.spherical_gradient(g, lat, lons, radius=1.0)
        per = np.asarray(jaxgrad.derivative(g, lons[1] - lons[0], axis=-1, boundary="periodic"))
        np.testing.assert_allclose(east, per * scale, rtol=1e-12, atol=1e-12)


def test_leading_axes_are_carried_along_and_radius_scales(x64):
    lat, lon, phi, lam = grid(10, full=False)
    rng = np.random.default_rng(0)
    fs = rng.standard_normal((2, 3, *phi.shape[:1], lam.shape[1]))
    out = jaxgrad.spherical_laplacian(fs, lat, lon, accuracy=4)
    np.testing.assert_allclose(out[1, 2], jaxgrad.spherical_laplacian(fs[1, 2], lat, lon, accuracy=4), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out) * 6371008.8**2, jaxgrad.spherical_laplacian(fs, lat, lon, radius=1.0, accuracy=4),
                               rtol=1e-10)
    curl = jaxgrad.spherical_curl(fs[0], fs[1], lat, lon)
    np.testing.assert_allclose(curl[2], jaxgrad.spherical_curl(fs[0, 2], fs[1, 2], lat, lon), rtol=1e-12)


def test_descending_latitudes_give_the_flipped_result(x64):
    lat, lon, phi, lam = grid(10)
    f = np.sin(phi) * np.cos(lam) + np.cos(2 * phi)
    for fn in (jaxgrad.spherical_laplacian, lambda f, lat, lon: jaxgrad.spherical_gradient(f, lat, lon)[1]):
        np.testing.assert_allclose(fn(f[::-1], lat[::-1], lon)[::-1], fn(f, lat, lon), rtol=1e-10, atol=1e-20)


def test_float32_matches_float64():
    lat, lon, phi, lam = grid(16)
    y = (np.sin(phi) * np.cos(phi) ** 2 * np.cos(2 * lam)).astype(np.float32)
    with jax.enable_x64(True):
        want = np.asarray(jaxgrad.spherical_laplacian(y.astype(np.float64), lat, lon, radius=1.0))
    with jax.enable_x64(False):
        got = jaxgrad.spherical_laplacian(y, lat.astype(np.float32), lon.astype(np.float32), radius=1.0)
        assert got.dtype == jnp.float32
        east, _ = jaxgrad.spherical_gradient(jnp.asarray(y, jnp.bfloat16), lat, lon)
        assert east.dtype == jnp.bfloat16
    np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())


def test_differentiable_jit_and_vmap(x64):
    lat, lon, phi, lam = grid(6, full=False)
    f = np.cos(phi) * np.sin(lam)
    check_grads(lambda f, lat: jaxgrad.spherical_gradient(f, lat, lon, radius=2.0)[0], (f, lat), order=1, modes=["rev"])
    check_grads(lambda u, r: jaxgrad.spherical_divergence(u, f, lat, lon, radius=r), (f, 3.0), order=1, modes=["rev"])
    fs = np.stack([f, 2 * f, f**2])
    mapped = jax.vmap(lambda f: jaxgrad.spherical_curl(f, f, lat, lon))(fs)
    jitted = jax.jit(lambda f: jaxgrad.spherical_curl(f, f, lat, lon))
    for i in range(3):
        want = jaxgrad.spherical_curl(fs[i], fs[i], lat, lon)
        np.testing.assert_allclose(mapped[i], want, rtol=1e-12)
        np.testing.assert_allclose(jitted(fs[i]), want, rtol=1e-12)


def test_bad_input_raises_errors_naming_the_argument():
    lat, lon, phi, lam = grid(8)
    f = np.zeros((8, 16))
    with pytest.raises(ValueError, match=r"lat must lie within \[-90, 90\]"):
        jaxgrad.spherical_gradient(f, np.linspace(-95, 95, 8), lon)
    with pytest.raises(ValueError, match="lat must be strictly increasing or strictly decreasing"):
        jaxgrad.spherical_laplacian(f, lat[[0, 2, 1, 3, 4, 5, 6, 7]], lon)
    with pytest.raises(ValueError, match="lon must be strictly increasing"):
        jaxgrad.spherical_divergence(f, f, lat, np.r_[lon[:-1], lon[0]])
    with pytest.raises(ValueError, match="lat has 7 values, but the latitude axis of the field has 8"):
        jaxgrad.spherical_curl(f, f, lat[:-1], lon)
    with pytest.raises(ValueError, match="lon must be a 1-D array"):
        jaxgrad.spherical_gradient(f, lat, np.zeros((16, 1)))
    with pytest.raises(ValueError, match="more than the circle's 360"):
        jaxgrad.spherical_gradient(f, lat, np.linspace(0, 400, 16))
    with pytest.raises(ValueError, match="last two axes are latitude and longitude"):
        jaxgrad.spherical_gradient(np.zeros(8), lat, lon)
    with pytest.raises(ValueError, match="u and v must have one shape"):
        jaxgrad.spherical_divergence(f, f[:, :-1], lat, lon)
    with pytest.raises(ValueError, match="radius must be finite and positive"):
        jaxgrad.spherical_laplacian(f, lat, lon, radius=-1.0)
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        jaxgrad.spherical_laplacian(f, lat, lon, accuracy=3)
    with pytest.raises(ValueError, match="lat contains NaN"):
        jaxgrad.spherical_gradient(f, np.r_[lat[:-1], np.nan], lon)
