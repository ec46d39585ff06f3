"""Boundary modes (contract 8a) and one-sided schemes (8b): scipy.ndimage's ghost samples,
numpy.pad as a second oracle, exactness on polynomials, convergence with ghost coordinates."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

import jaxgrad
from conftest import check_grads_compiled, uneven_coordinates

PADDING = ("reflect", "mirror", "nearest", "constant")
MODES = (*PADDING, "wrap")
# numpy.pad's names for scipy.ndimage's modes
NUMPY_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "constant": "constant", "wrap": "wrap"}


def central_weights(order, accuracy):
    p = (order - 1) // 2 + accuracy // 2
    return jaxgrad.stencil(order, range(-p, p + 1))


def padded_reference(f, h, order, offsets, mode, cval=0.0, axis=-1):
    """sum_k w_k f[i + k] on f padded by numpy.pad with the mode's ghost samples."""
    f = np.moveaxis(np.asarray(f, np.float64), axis, -1)
    w = jaxgrad.stencil(order, offsets)
    below, above = max(0, -min(offsets)), max(0, max(offsets))
    pad = [(0, 0)] * (f.ndim - 1) + [(below, above)]
    kw = {"constant_values": cval} if mode == "constant" else {}
    g = np.pad(f, pad, mode=NUMPY_PAD[mode], **kw)
    n = f.shape[-1]
    out = sum(wk * g[..., below + k : below + k + n] for k, wk in zip(offsets, w))
    return np.moveaxis(out / h**order, -1, axis)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_every_mode_equals_scipy_correlate1d(x64, mode, ndim):
    rng = np.random.default_rng(ndim)
    shape = (13, 11, 9)[:ndim]
    f = rng.standard_normal(shape)
    # Orders 1-3 and accuracies 2-6: three of the nine pairs per axis, a different three for
    # each mode and axis, so that every mode sees every pair (each pair compiles anew).
    pairs = [(o, a) for o in (1, 2, 3) for a in (2, 4, 6)]
    start = 3 * MODES.index(mode)
    cases = [(axis, *pairs[(start + 3 * axis + j) % 9]) for axis in range(ndim) for j in range(3)]
    cval = 0.75 if mode == "constant" else 0.0
    # All of them in one program: compiled one by one, they cost most of the test's time.
    run = jax.jit(lambda f: [jaxgrad.derivative(f, 0.5, axis=axis, order=order, accuracy=accuracy, boundary=mode, cval=cval)
                             for axis, order, accuracy in cases])
    for (axis, order, accuracy), got in zip(cases, run(f)):
        w = central_weights(order, accuracy)
        want = ndimage.correlate1d(f, w, axis=axis, mode=mode, cval=0.75) / 0.5**order
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-11, err_msg=f"{axis=} {order=} {accuracy=}")


@pytest.mark.parametrize("mode", MODES)
def test_modes_in_float32(mode):
    f = np.random.default_rng(1).standard_normal((7, 12)).astype(np.float32)
    got = jaxgrad.derivative(f, 0.5, order=2, accuracy=4, boundary=mode, cval=2.0 if mode == "constant" else 0.0)
    want = ndimage.correlate1d(f.astype(np.float64), central_weights(2, 4), mode=mode, cval=2.0) / 0.25
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-4)


def test_the_contract_table_on_a_small_example(x64):
    # f = a b c d = 1 2 4 8; the first derivative (accuracy 2) at the first sample is
    # (f[1] - ghost) / 2 with each mode's ghost.
    f = np.array([1.0, 2.0, 4.0, 8.0])
    ghosts = {"reflect": 1.0, "mirror": 2.0, "nearest": 1.0, "constant": -3.0, "wrap": 8.0}
    for mode, ghost in ghosts.items():
        d = jaxgrad.derivative(f, boundary=mode, cval=-3.0 if mode == "constant" else 0.0)
        assert float(d[0]) == (2.0 - ghost) / 2, mode
        np.testing.assert_array_equal(d[1:3], [1.5, 3.0])
    assert float(jaxgrad.derivative(f, boundary="mirror")[0]) == 0.0  # a first derivative of 0 at the edge


@pytest.mark.parametrize("mode", PADDING)
def test_gradient_takes_every_mode_per_axis(x64, mode):
    f = np.random.default_rng(2).standard_normal((6, 8))
    other = "wrap" if mode != "wrap" else "reflect"
    gy, gx = jaxgrad.gradient(f, 2.0, 0.5, boundary=(mode, other), cval=1.25 if mode == "constant" else 0.0, edge_order=2)
    np.testing.assert_allclose(gy, ndimage.correlate1d(f, [-0.5, 0, 0.5], axis=0, mode=mode, cval=1.25) / 2.0, atol=1e-12)
    np.testing.assert_allclose(gx, ndimage.correlate1d(f, [-0.5, 0, 0.5], axis=1, mode=other) / 0.5, atol=1e-12)


def test_the_one_sided_default_is_numpy_and_unchanged(x64):
    f = np.random.default_rng(3).standard_normal((5, 7))
    for a, b in zip(jaxgrad.gradient(f, edge_order=2, boundary="one-sided"), np.gradient(f, edge_order=2)):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("mode", [*PADDING, "periodic"])
def test_exactly_uniform_coordinates_give_the_scalar_step_result(x64, mode):
    # Inside jit coordinates are not reduced to a step: this runs the ghost-coordinate weights.
    rng = np.random.default_rng(4)
    f = rng.standard_normal(12)
    x = 1.5 + 0.25 * np.arange(12)
    kw = {"cval": 0.5} if mode == "constant" else {}
    period = {"period": 3.0} if mode == "periodic" else {}
    # Odd orders: the coordinate rule widens even-order stencils (no symmetry bonus on arbitrary grids).
    pairs = ((1, 2), (1, 4), (3, 2))
    calls = lambda f, h, **p: ([jaxgrad.derivative(f, h, order=o, accuracy=a, boundary=mode, **kw, **p) for o, a in pairs],
                               jaxgrad.gradient(f, h, boundary=mode, **kw, **p))
    # Both sides in one program (one by one, each call compiles anew).
    (got, got_gradient), (want, want_gradient) = jax.jit(lambda f, x: (calls(f, x, **period), calls(f, 0.25)))(f, x)
    for (order, accuracy), d, d_want in zip(pairs, got, want):
        np.testing.assert_allclose(d, d_want, rtol=1e-9, atol=1e-9, err_msg=f"{order=} {accuracy=}")
    np.testing.assert_allclose(got_gradient, want_gradient, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("accuracy", [2, 4])
def test_mirror_ghost_coordinates_converge_at_the_scheme_order(x64, accuracy):
    # cos has zero slope at 0 and pi: its mirror-symmetric extension is smooth, so the mirror
    # ghosts (and their mirrored coordinates) keep the full order at the edges of an uneven grid.
    unit = [np.linspace(0.0, 1.0, n) for n in (40, 80, 160)]
    grids = [np.pi * (s + 0.05 * np.sin(2 * np.pi * s)) for s in unit]  # smooth, uneven, with the ends fixed
    # One program for the three grids, closed over: checked as concrete coordinates (as in an eager
    # call) and folded into the weights by XLA, which compiles them several times faster.
    ds = jax.jit(lambda fs: [jaxgrad.derivative(f, x, order=1, accuracy=accuracy, boundary="mirror")
                             for f, x in zip(fs, grids)])([np.cos(x) for x in grids])
    errors = [float(np.max(np.abs(np.asarray(d) + np.sin(x)))) for d, x in zip(ds, grids)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > accuracy - 0.3), rates


def test_reflect_ghost_coordinates_are_half_a_step_out(x64):
    # reflect mirrors about the point half an edge step outside the edge: on uneven coordinates
    # a field even about that point has derivative zero there, so its first derivative is exact
    # for a parabola centred on it.
    x = np.array([0.0, 0.4, 1.0, 1.9, 3.0])
    centre = x[0] - (x[1] - x[0]) / 2
    f = (x - centre) ** 2
    d = jaxgrad.derivative(f, x, order=1, accuracy=2, boundary="reflect")
    assert abs(float(d[0]) - 2 * (x[0] - centre)) < 1e-12


@pytest.mark.parametrize("mode", PADDING)
def test_autodiff_through_values_coordinates_and_cval(x64, mode):
    rng = np.random.default_rng(5)
    f = jnp.asarray(rng.standard_normal(9))
    x = jnp.asarray(uneven_coordinates(rng, 9, jitter=0.3))
    cval = 0.5 if mode == "constant" else 0.0
    # Second order once, forward mode there only: each costs many traces.
    order, modes = (2, ["fwd", "rev"]) if mode == "mirror" else (1, ["rev"])
    check_grads_compiled(lambda f, x: jaxgrad.derivative(f, x, boundary=mode, cval=cval), (f, x), order=order, modes=modes)
    if mode == "constant":
        fn = lambda f, x, c: jaxgrad.derivative(f, x, accuracy=4, boundary=mode, cval=c)
        check_grads_compiled(fn, (f, x, 0.5), order=1, modes=["rev"])
        # d/dcval is the sum of the ghost weights of each edge row (zero inside)
        dc = jax.jit(jax.jacfwd(fn, argnums=2))(f, x, 0.5)  # one program (several eagerly)
        assert np.all(np.asarray(dc[2:-2]) == 0) and np.all(np.asarray(dc[:2]) != 0)


@pytest.mark.parametrize("mode", [*PADDING, "wrap"])
def test_padding_modes_under_jit_vmap_and_traced_cval(x64, mode):
    f = np.random.default_rng(6).standard_normal((4, 10))
    kw = dict(order=2, accuracy=2, boundary=mode)
    want = np.stack([jaxgrad.derivative(row, 0.5, cval=1.0 if mode == "constant" else 0.0, **kw) for row in f])
    got = jax.jit(jax.vmap(lambda r, c: jaxgrad.derivative(r, 0.5, cval=c, **kw), in_axes=(0, None)))(
        f, 1.0 if mode == "constant" else 0.0)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_operators_take_modes_per_axis(x64):
    rng = np.random.default_rng(7)
    f = rng.standard_normal((9, 10))
    F = rng.standard_normal((2, 9, 10))

    def run(f, F):  # one program (a dozen eagerly)
        lap = jaxgrad.laplacian(f, 0.5, 0.25, boundary=("reflect", "constant"), cval=2.0, accuracy=4)
        lap_want = (jaxgrad.derivative(f, 0.5, axis=0, order=2, accuracy=4, boundary="reflect")
                    + jaxgrad.derivative(f, 0.25, axis=1, order=2, accuracy=4, boundary="constant", cval=2.0))
        div = jaxgrad.divergence(F, 0.5, 0.25, boundary="nearest")
        div_want = (jaxgrad.derivative(F[0], 0.5, axis=0, boundary="nearest")
                    + jaxgrad.derivative(F[1], 0.25, axis=1, boundary="nearest"))
        # Mixed partials with constant ghosts: the inner derivative pads with cval, the outer one
        # with zeros (the derivative of a constant).
        H = jaxgrad.hessian(f, 0.5, 0.25, boundary="constant", cval=3.0)
        inner = jaxgrad.derivative(f, 0.25, axis=1, boundary="constant", cval=3.0)
        return lap, lap_want, div, div_want, H[0, 1], jaxgrad.derivative(inner, 0.5, axis=0, boundary="constant")

    lap, lap_want, div, div_want, mixed, mixed_want = jax.jit(run)(f, F)
    np.testing.assert_allclose(lap, lap_want, atol=1e-10)
    np.testing.assert_allclose(div, div_want, atol=1e-10)
    np.testing.assert_allclose(mixed, mixed_want, atol=1e-10)


# --- schemes --------------------------------------------------------------------------------------


def test_forward_accuracy_one_is_the_contract_formula(x64):
    f = np.random.default_rng(8).standard_normal(9)
    d = np.asarray(jaxgrad.derivative(f, 0.5, scheme="forward", accuracy=1))
    np.testing.assert_allclose(d[:-1], np.diff(f) / 0.5, atol=1e-14)
    assert d[-1] == pytest.approx((f[-1] - f[-2]) / 0.5)
    b = np.asarray(jaxgrad.derivative(f, 0.5, scheme="backward", accuracy=1))
    np.testing.assert_allclose(b[1:], np.diff(f) / 0.5, atol=1e-14)
    assert b[0] == pytest.approx((f[1] - f[0]) / 0.5)


@pytest.mark.parametrize("scheme", ["forward", "backward"])
@pytest.mark.parametrize("uniform", [True, False], ids=["step", "coordinates"])
def test_one_sided_schemes_are_exact_on_polynomials(x64, scheme, uniform):
    rng = np.random.default_rng(9)
    n = 14
    x = np.arange(n) * 0.3 if uniform else uneven_coordinates(rng, n, jitter=0.3) * 0.3
    spacing = 0.3 if uniform else x
    # Every accuracy 1-4 at order 1, odd and even ones at orders 2 and 3, in one program (each pair
    # compiles anew); coordinates closed over, as in test_mirror_ghost_coordinates_converge_at_the_scheme_order.
    pairs = ((1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 4), (3, 2), (3, 3))
    run = jax.jit(lambda fs: [jaxgrad.derivative(f, spacing, order=o, accuracy=a, scheme=scheme)
                              for f, (o, a) in zip(fs, pairs)])
    for (order, accuracy), got in zip(pairs, run([x ** (o + a - 1) for o, a in pairs])):
        degree = order + accuracy - 1
        want = math.factorial(degree) / math.factorial(degree - order) * x ** (degree - order)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7 * np.max(np.abs(want)), err_msg=f"{order=} {accuracy=}")


def test_backward_mirrors_forward(x64):
    f = np.random.default_rng(10).standard_normal(11)
    pairs = ((1, 1), (1, 3), (2, 2), (3, 1))
    run = jax.jit(lambda f, r: [(jaxgrad.derivative(f, 0.5, order=o, accuracy=a, scheme="forward"),
                                 jaxgrad.derivative(r, 0.5, order=o, accuracy=a, scheme="backward")) for o, a in pairs])
    for (order, accuracy), (fwd, bwd) in zip(pairs, run(f, f[::-1].copy())):  # one program
        np.testing.assert_allclose(fwd, (-1) ** order * bwd[::-1], atol=1e-10, err_msg=f"{order=} {accuracy=}")


@pytest.mark.parametrize("scheme", ["forward", "backward"])
@pytest.mark.parametrize("mode", MODES)
def test_schemes_on_padded_and_periodic_axes_read_the_ghosts(x64, scheme, mode):
    f = np.random.default_rng(11).standard_normal((3, 10))
    pairs = ((1, 1), (1, 2), (2, 3))
    run = jax.jit(lambda f: [jaxgrad.derivative(f, 0.5, order=o, accuracy=a, scheme=scheme, boundary=mode,
                                                cval=-1.0 if mode == "constant" else 0.0) for o, a in pairs])
    for (order, accuracy), got in zip(pairs, run(f)):  # one program
        m = order + accuracy
        offsets = tuple(range(m)) if scheme == "forward" else tuple(range(1 - m, 1))
        want = padded_reference(f, 0.5, order, offsets, mode, cval=-1.0)
        np.testing.assert_allclose(got, want, atol=1e-10, err_msg=f"{order=} {accuracy=}")


def test_periodic_schemes_on_coordinates_converge(x64):
    grids = [2 * np.pi * (s + 0.03 * np.sin(2 * np.pi * s)) for s in (np.arange(n) / n for n in (32, 64, 128))]
    # One program, the grids closed over, as in test_mirror_ghost_coordinates_converge_at_the_scheme_order.
    ds = jax.jit(lambda fs: [jaxgrad.derivative(f, x, scheme="backward", accuracy=3, boundary="periodic", period=2 * np.pi)
                             for f, x in zip(fs, grids)])([np.sin(x) for x in grids])
    errors = [float(np.max(np.abs(np.asarray(d) - np.cos(x)))) for d, x in zip(ds, grids)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 2.7), rates


@pytest.mark.parametrize("scheme", ["forward", "backward"])
def test_one_sided_schemes_are_differentiable_in_the_coordinates(x64, scheme):
    rng = np.random.default_rng(12)
    f = jnp.asarray(rng.standard_normal(8))
    x = jnp.asarray(uneven_coordinates(rng, 8, jitter=0.3))
    check_grads_compiled(lambda f, x: jaxgrad.derivative(f, x, accuracy=2, scheme=scheme), (f, x), order=1,
                         modes=["fwd", "rev"])


# --- matrices ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("boundary, scheme, accuracy", [
    ("reflect", "central", 4), ("mirror", "central", 2), ("nearest", "forward", 2), ("constant", "backward", 3),
    ("one-sided", "forward", 1), ("periodic", "backward", 2),
])
def test_derivative_matrix_takes_modes_and_schemes(x64, boundary, scheme, accuracy):
    rng = np.random.default_rng(13)
    x = uneven_coordinates(rng, 12, jitter=0.3)
    f = rng.standard_normal(12)
    # Half the cases on coordinates, half on a step (each compiles a dense and a sparse matrix).
    spacing = 0.5 if boundary in ("mirror", "one-sided", "constant") else x
    period = {"period": float(x[-1] - x[0]) + 1.0} if boundary == "periodic" and np.ndim(spacing) else {}
    kw = dict(order=2, accuracy=accuracy, boundary=boundary, scheme=scheme, **period)
    build = lambda f: (jaxgrad.derivative_matrix(12, spacing, **kw), jaxgrad.derivative(f, spacing, **kw),
                       jaxgrad.derivative_matrix(12, spacing, format="sparse", **kw))
    # Steps eagerly; coordinates in one program, closed over (checked as concrete arrays), where
    # eagerly the sparse form's weights alone compile dozens of small programs.
    D, d, S = jax.jit(build)(f) if np.ndim(spacing) else build(f)
    np.testing.assert_allclose(D @ f, d, atol=1e-9)
    np.testing.assert_allclose(S.todense(), D, atol=1e-12)


def test_a_matrix_with_nonzero_constant_ghosts_is_refused():
    with pytest.raises(ValueError, match="cval=1.0: .* affine"):
        jaxgrad.derivative_matrix(8, boundary="constant", cval=1.0)


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"boundary": "symmetric"}, ValueError, "boundary must be one of"),
    ({"boundary": ("reflect", "mirror")}, ValueError, "boundary has 2 entries, but 1 axes"),
    ({"boundary": "constant", "cval": [1.0, 2.0]}, TypeError, "cval must be a scalar"),
    ({"boundary": "constant", "cval": "0"}, TypeError, "cval must be a scalar"),
    ({"boundary": "constant", "cval": np.nan}, ValueError, "cval must be finite"),
    ({"boundary": "constant", "cval": 1j}, TypeError, "cval is complex"),
    ({"boundary": "reflect", "cval": 2.0}, ValueError, "no boundary is 'constant'"),
    ({"accuracy": 3}, ValueError, "odd accuracies need scheme='forward' or 'backward'"),
    ({"scheme": "upwind"}, ValueError, "scheme must be 'central', 'forward' or 'backward'"),
    ({"scheme": "forward", "accuracy": 0}, ValueError, "accuracy must be >= 1"),
    ({"scheme": "forward", "accuracy": 9}, ValueError, "at least 10 points"),
    ({"boundary": "mirror", "accuracy": 20}, ValueError, "at least 11 points"),
])
def test_bad_modes_and_schemes_are_named(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        jaxgrad.derivative(np.ones((3, 9)), **kwargs)


def test_gradient_bad_modes_are_named():
    with pytest.raises(ValueError, match="boundary has 1 entries, but 2 axes"):
        jaxgrad.gradient(np.ones((4, 4)), boundary=("reflect",))
    with pytest.raises(ValueError, match="pass period=L"):
        jaxgrad.gradient(np.ones(4), np.arange(4.0), boundary="wrap")
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        jaxgrad.gradient(np.ones(4), np.array([0.0, 2.0, 1.0, 3.0]), boundary="mirror")
    with pytest.raises(ValueError, match="at least boundary 'periodic': 3 points"):
        jaxgrad.gradient(np.ones(2), boundary="periodic")
