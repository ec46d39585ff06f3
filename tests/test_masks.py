"""Masks (``where=``): every run of valid samples differentiated on its own (jaxgrad/_masks.py)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads

import jaxgrad
from conftest import uneven_coordinates
from jaxgrad import _masks
from jaxgrad._masks import derivative_rule, gradient_rule, row_offsets

# --- references in numpy ---------------------------------------------------------------------------


def runs(w):
    """(start, stop) of each run of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], w.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def all_points(f, x, order):
    """Per point, the order-th derivative of the polynomial through every sample (the short-run rule)."""
    out = np.empty(len(f))
    for i in range(len(f)):
        p = np.polyfit(x - x[i], f, len(f) - 1)
        out[i] = p[-1 - order] * math.factorial(order)
    return out


def reference_gradient(f, x, w, edge_order):
    out = np.full(len(f), np.nan)
    for a, b in runs(w):
        if b - a >= edge_order + 1:
            out[a:b] = np.gradient(f[a:b], x[a:b], edge_order=edge_order)
        elif b - a == 2:
            out[a:b] = np.gradient(f[a:b], x[a:b], edge_order=1)
    return out


def polynomial_derivative(f, x, at, order):
    """The order-th derivative at ``at`` of the polynomial through (x, f) (the exact stencil)."""
    t = (x - at) / np.ptp(x)
    p = np.polyfit(t, f, len(f) - 1)
    return p[-1 - order] * math.factorial(order) / np.ptp(x) ** order


def reference_derivative(f, x, w, order, accuracy, uniform):
    """Each run as a whole axis: central stencils of half-width p inside, windows of
    order + accuracy points at its ends, all its samples when it is short."""
    p = (order - 1) // 2 + accuracy // 2 if uniform else (order + accuracy) // 2
    width = order + accuracy
    needed = max(2 * p, width)
    out = np.full(len(f), np.nan)
    for a, b in runs(w):
        if b - a < order + 1:
            continue
        for i in range(a, b):
            if b - a < needed:
                lo, hi = a, b
            elif i - a < p:
                lo, hi = a, a + width
            elif b - 1 - i < p:
                lo, hi = b - width, b
            else:
                lo, hi = i - p, i + p + 1
            out[i] = polynomial_derivative(f[lo:hi], x[lo:hi], x[i], order)
    return out


def same(actual, expected, rtol=1e-9, atol=1e-9):
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(np.nan_to_num(actual), np.nan_to_num(expected), rtol=rtol, atol=atol)


# --- the row rule ----------------------------------------------------------------------------------


def test_row_rule_of_the_gradient():
    rule = gradient_rule(1)
    assert row_offsets(0, 0, rule) is None  # a lone sample
    assert row_offsets(0, 1, rule) == (0, 1) and row_offsets(1, 0, rule) == (-1, 0)
    assert row_offsets(1, 1, rule) == (-1, 0, 1)
    rule = gradient_rule(2)
    assert row_offsets(0, 1, rule) == (0, 1)  # two samples: the two-point difference
    assert row_offsets(0, 2, rule) == (0, 1, 2) and row_offsets(2, 0, rule) == (-2, -1, 0)
    assert row_offsets(1, 1, rule) == (-1, 0, 1) and row_offsets(2, 2, rule) == (-1, 0, 1)


def test_row_rule_of_the_central_derivative():
    rule = derivative_rule(1, 4, True)  # 5-point central, 5-point edges
    assert rule.cap == 4
    assert row_offsets(0, 4, rule) == (0, 1, 2, 3, 4) and row_offsets(1, 4, rule) == (-1, 0, 1, 2, 3)
    assert row_offsets(2, 2, rule) == (-2, -1, 0, 1, 2) and row_offsets(4, 1, rule) == (-3, -2, -1, 0, 1)
    assert row_offsets(1, 2, rule) == (-1, 0, 1, 2)  # a run of 4: all of it
    assert row_offsets(0, 0, rule) is None
    rule = derivative_rule(2, 2, True)  # 3-point central, 4-point edges
    assert row_offsets(1, 1, rule) == (-1, 0, 1)  # a run of 3 (fewer than 4): all of it
    assert row_offsets(0, 1, rule) is None  # a run of 2 has no second derivative
    assert row_offsets(0, 3, rule) == (0, 1, 2, 3) and row_offsets(1, 2, rule) == (-1, 0, 1)


def test_row_rule_of_one_sided_schemes():
    forward, backward = derivative_rule(1, 1, True, "forward"), derivative_rule(1, 1, True, "backward")
    assert row_offsets(5, 5, forward) == (0, 1) and row_offsets(5, 5, backward) == (-1, 0)
    assert row_offsets(3, 0, forward) == (-1, 0) and row_offsets(0, 3, backward) == (0, 1)  # the far end
    forward, backward = derivative_rule(1, 3, True, "forward"), derivative_rule(1, 3, True, "backward")
    assert row_offsets(4, 4, forward) == (0, 1, 2, 3) and row_offsets(4, 4, backward) == (-3, -2, -1, 0)
    # a run of 4 seen from its second-to-last (first) sample: the run's last (first) 4 samples
    assert row_offsets(2, 1, forward) == (-2, -1, 0, 1) and row_offsets(1, 2, backward) == (-1, 0, 1, 2)
    # a run of 5: the backward (forward) stencil where it fits, as on a whole axis (contract 8b)
    assert row_offsets(3, 1, forward) == (-3, -2, -1, 0) and row_offsets(1, 3, backward) == (0, 1, 2, 3)
    assert row_offsets(2, 2, forward) == (-1, 0, 1, 2)  # neither fits: the run's last 4
    assert row_offsets(0, 2, forward) == (0, 1, 2) and row_offsets(2, 0, backward) == (-2, -1, 0)  # a run of 3
    assert row_offsets(0, 0, forward) is None


@pytest.mark.parametrize("scheme", ["central", "forward", "backward"])
def test_full_rules_cover_every_class(scheme):
    for order, accuracy in [(1, 1), (1, 2), (2, 3), (3, 4)]:
        if scheme == "central" and accuracy % 2:
            continue
        rule = derivative_rule(order, accuracy, False, scheme)
        offsets, table = _masks.candidates(rule)
        for left in range(rule.cap + 1):
            for right in range(rule.cap + 1):
                offs = row_offsets(left, right, rule)
                if offs is None:
                    assert table[left, right] == 0
                else:  # inside the run, enough points, and the table agrees
                    assert -left <= min(offs) and max(offs) <= right and len(offs) >= order + 1
                    assert offsets[table[left, right] - 1] == offs


@pytest.mark.parametrize("scheme", ["forward", "backward"])
def test_one_sided_schemes_on_runs(scheme, x64):
    rng = np.random.default_rng(3)
    f = rng.standard_normal(23)
    w = np.ones(23, bool)
    w[[6, 9, 10]] = False  # runs of 6, 2 and 12
    rule = derivative_rule(1, 2, True, scheme)
    along = jax.jit(lambda g, w: _masks.masked_along(g, w, 0.5, 0, rule))  # eagerly, some 80 small programs
    got = np.asarray(along(jnp.where(w, f, 0.0), jnp.asarray(w)))
    want = np.full(23, np.nan)
    for a, b in runs(w):
        for i in range(a, b):
            offs = np.array(row_offsets(min(i - a, rule.cap), min(b - 1 - i, rule.cap), rule))
            want[i] = jaxgrad.stencil(1, offs) @ f[i + offs] / 0.5
    same(got, want)
    assert np.isfinite(got[11:]).all()  # the run of 12: forward (or backward) everywhere


# --- against numpy.gradient and unmasked derivatives, run by run ----------------------------------

# One length: every example reuses one compiled kernel per option set.
masks_1d = st.lists(st.booleans(), min_size=16, max_size=16).map(np.array)


@settings(max_examples=30, deadline=None)
@given(w=masks_1d, edge_order=st.sampled_from([1, 2]), coords=st.booleans(), seed=st.integers(0, 2**16))
def test_gradient_is_numpy_gradient_of_each_run(w, edge_order, coords, seed):
    rng = np.random.default_rng(seed)
    n = len(w)
    x = uneven_coordinates(rng, n) if coords else np.arange(n) * 0.7
    f = rng.standard_normal(n)
    garbage = np.where(w, f, rng.choice([np.nan, np.inf, 1e30], n))
    with jax.enable_x64(True):
        got = np.asarray(jaxgrad.gradient(garbage, x if coords else 0.7, edge_order=edge_order, where=w))
    same(got, reference_gradient(f, x, w, edge_order))


@settings(max_examples=20, deadline=None)
@given(
    w=masks_1d,
    order_accuracy=st.sampled_from([(1, 2), (1, 4), (2, 2)]),
    coords=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_derivative_is_the_unmasked_derivative_of_each_run(w, order_accuracy, coords, seed):
    order, accuracy = order_accuracy
    rng = np.random.default_rng(seed)
    n = len(w)
    x = uneven_coordinates(rng, n, jitter=0.3) if coords else np.arange(n) * 0.5
    f = rng.standard_normal(n)
    with jax.enable_x64(True):
        got = np.asarray(jaxgrad.derivative(np.where(w, f, np.nan), x if coords else 0.5, order=order,
                                            accuracy=accuracy, where=w))
        want = reference_derivative(f, x, w, order, accuracy, not coords)
    same(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["gradient", "gradient coords", "derivative", "derivative coords",
                                  "periodic", "periodic coords", "order 2 accuracy 6"])
def test_a_full_mask_is_the_unmasked_call(case):
    dtype, rtol = "float32", 2e-5
    rng = np.random.default_rng(1)
    f = rng.standard_normal((12, 17)).astype(dtype)
    x = uneven_coordinates(rng, 17)
    calls = {
        "gradient": lambda f, **k: jaxgrad.gradient(f, 0.5, 2.0, edge_order=2, **k),
        "gradient coords": lambda f, **k: jaxgrad.gradient(f, 0.5, x, **k),
        "derivative": lambda f, **k: jaxgrad.derivative(f, 0.3, axis=0, accuracy=4, **k),
        "derivative coords": lambda f, **k: jaxgrad.derivative(f, x, order=2, **k),
        "periodic": lambda f, **k: jaxgrad.derivative(f, 0.3, accuracy=6, boundary="periodic", **k),
        "periodic coords": lambda f, **k: jaxgrad.derivative(f, x, boundary="periodic", period=x[-1] - x[0] + 1.0, **k),
        "order 2 accuracy 6": lambda f, **k: jaxgrad.derivative(f, 0.3, axis=0, order=2, accuracy=6, **k),
    }
    # Both calls in one program; the mask is an argument, the coordinates are closed over (checked
    # as concrete arrays, as in an eager call, and folded into the weights: seconds less to compile).
    run = jax.jit(lambda f, full: (calls[case](f), calls[case](f, where=full)))
    want, got = run(f, np.ones(f.shape, bool))
    for a, b in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        assert b.dtype == a.dtype
        scale = float(jnp.max(jnp.abs(a)))
        np.testing.assert_allclose(b, a, rtol=rtol, atol=10 * rtol * scale)


def test_periodic_runs_wrap_across_the_seam(x64):
    rng = np.random.default_rng(2)
    n = 20
    f = rng.standard_normal(n)
    w = np.ones(n, bool)
    w[[7, 8]] = False  # one run: 9 .. 19, 0 .. 6
    got = np.asarray(jaxgrad.derivative(f, 0.5, accuracy=4, boundary="periodic", where=w))
    run = np.roll(f, -9)[:18]  # the run, contiguous
    want = np.roll(np.concatenate([np.asarray(jaxgrad.derivative(run, 0.5, accuracy=4)), [np.nan, np.nan]]), 9)
    same(got, want)
    x = np.cumsum(rng.uniform(0.5, 1.5, n))
    period = x[-1] - x[0] + 0.8
    got = np.asarray(jaxgrad.derivative(f, x, boundary="periodic", period=period, where=w))
    xr = np.concatenate([x[9:], x[:7] + period])
    want = np.roll(np.concatenate([np.asarray(jaxgrad.derivative(run, xr)), [np.nan, np.nan]]), 9)
    same(got, want)


def test_masks_along_each_axis_and_broadcast_masks(x64):
    rng = np.random.default_rng(4)
    f = rng.standard_normal((9, 11))
    w = rng.random((9, 11)) > 0.25
    x = np.arange(11) * 0.5
    d0, d1 = jaxgrad.gradient(f, 1.0, 0.5, where=w)
    for j in range(11):
        same(np.asarray(d0[:, j]), reference_gradient(f[:, j], np.arange(9.0), w[:, j], 1))
    for i in range(9):
        same(np.asarray(d1[i]), reference_gradient(f[i], x, w[i], 1))
    row = rng.random(11) > 0.3  # broadcast along axis 0
    d = jaxgrad.derivative(f, 0.5, axis=1, where=row)
    np.testing.assert_array_equal(np.asarray(d), np.asarray(jaxgrad.derivative(f, 0.5, axis=1, where=np.broadcast_to(row, f.shape))))


# --- garbage, gradients, transformations ---------------------------------------------------------


@pytest.mark.parametrize("call", ["gradient coords", "derivative accuracy 4", "periodic"])
def test_garbage_never_reaches_valid_outputs_or_gradients(call, precision):
    rng = np.random.default_rng(5)
    n = 40
    f = rng.standard_normal(n)
    w = rng.random(n) > 0.3
    w[:3] = [True, False, True]  # lone samples
    x = jnp.asarray(uneven_coordinates(rng, n))
    fns = {
        "gradient": lambda f, x, w: jaxgrad.gradient(f, edge_order=2, where=w),
        "gradient coords": lambda f, x, w: jaxgrad.gradient(f, x, where=w),
        "derivative accuracy 4": lambda f, x, w: jaxgrad.derivative(f, 0.3, accuracy=4, where=w),
        "periodic": lambda f, x, w: jaxgrad.derivative(f, 0.1, order=2, boundary="periodic", where=w),
    }
    fn = fns[call]

    @jax.jit  # one program for every bad value (eagerly, each gradient compiles several)
    def run(dirty, clean, x, w):
        grad_f, grad_x = jax.grad(lambda f, x: jnp.nansum(fn(f, x, w) ** 2), argnums=(0, 1))(dirty, x)
        lone = jax.grad(lambda f: jnp.sum(jnp.where(w, fn(f, x, w), 0.0)))(dirty)
        return fn(dirty, x, w), fn(clean, x, w), grad_f, grad_x, lone

    clean = jnp.asarray(np.where(w, f, 0.0))
    for bad in (np.nan, np.inf, -1e30):
        out, out_clean, grad_f, grad_x, lone = run(jnp.asarray(np.where(w, f, bad)), clean, x, w)
        same(np.asarray(out), np.asarray(out_clean), rtol=0, atol=0)
        assert np.isfinite(grad_f).all() and np.isfinite(grad_x).all()
        assert (np.asarray(grad_f)[~w] == 0).all()
        assert np.isfinite(np.asarray(lone)[3:]).all()


def test_check_grads_with_masks(x64):
    rng = np.random.default_rng(6)
    f = jnp.asarray(rng.standard_normal(10))
    x = jnp.asarray(uneven_coordinates(rng, 10))
    w = jnp.asarray([True, True, False, True, True, True, False, True, True, True])
    zeroed = lambda out: jnp.where(w, out, 0.0)
    check_grads(lambda f, x: zeroed(jaxgrad.gradient(f, x, edge_order=2, where=w)), (f, x), order=1, modes=("fwd", "rev"))
    no_nan = lambda out: jnp.where(jnp.isnan(out), 0.0, out)  # the run of 2 has no second derivative
    check_grads(lambda f: no_nan(jaxgrad.derivative(f, 0.5, order=2, where=w)), (f,), order=2, modes=("rev",))


def test_traced_masks_under_jit_and_vmap():
    rng = np.random.default_rng(7)
    f = jnp.asarray(rng.standard_normal((5, 16)), jnp.float32)
    w = jnp.asarray(rng.random((5, 16)) > 0.3)
    loop = jnp.stack([jaxgrad.derivative(f[b], 0.5, where=w[b]) for b in range(5)])
    batched = jax.vmap(lambda f, w: jaxgrad.derivative(f, 0.5, where=w))(f, w)
    jitted = jax.jit(lambda f, w: jaxgrad.derivative(f, 0.5, where=w))(f, w)
    same(np.asarray(batched), np.asarray(loop), rtol=1e-6, atol=1e-6)
    same(np.asarray(jitted), np.asarray(loop), rtol=1e-6, atol=1e-6)
    grads = jax.vmap(jax.grad(lambda f, w: jnp.nansum(jaxgrad.gradient(f, where=w) ** 2)))(f, w)
    assert np.isfinite(grads).all()
    # accuracy 4 writes its cotangent once (a conditional), also under vmap
    loss = lambda f, w: jnp.nansum(jaxgrad.derivative(f, 0.5, accuracy=4, where=w) ** 2)
    grads = jax.vmap(jax.grad(loss))(f, w)
    row_grad = jax.jit(jax.grad(loss))  # one program for the rows (a forward and a backward one eagerly)
    np.testing.assert_allclose(grads, jnp.stack([row_grad(f[b], w[b]) for b in range(5)]), rtol=1e-5, atol=1e-5)
    # one trace serves every mask
    fn = jax.jit(lambda f, w: jaxgrad.gradient(f, where=w))
    fn(f, w), fn(f, ~w)
    assert fn._cache_size() == 1


def test_low_precision_keeps_its_dtype():
    f = jnp.arange(10.0, dtype=jnp.bfloat16) ** 2
    w = jnp.arange(10) != 4
    out = jaxgrad.gradient(f, where=w)
    assert out.dtype == jnp.bfloat16 and bool(jnp.isnan(out[4]))
    np.testing.assert_allclose(np.asarray(out[6:9], np.float32), 2 * np.arange(6.0, 9.0), rtol=1e-2)


def test_bad_masks():
    f = jnp.ones((4, 5))
    with pytest.raises(TypeError, match="where must be a boolean array"):
        jaxgrad.gradient(f, where=jnp.ones((4, 5)))
    with pytest.raises(TypeError, match="where"):
        jaxgrad.derivative(f, where=np.ones((4, 5), int))
    with pytest.raises(ValueError, match=r"where has shape \(4, 4\), which does not broadcast to f's shape \(4, 5\)"):
        jaxgrad.gradient(f, where=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="where"):
        jaxgrad.smoothness(f, where=np.ones((5, 5), bool))
    with pytest.raises(ValueError, match="where= supports boundary 'one-sided' and 'periodic' only"):
        jaxgrad.derivative(f, boundary="reflect", where=np.ones((4, 5), bool))
    np.testing.assert_array_equal(jaxgrad.gradient(jnp.arange(4.0), where=[True, True, False, True]),
                                  [1.0, 1.0, np.nan, np.nan])


# --- penalties -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["tv isotropic", "tv anisotropic eps", "smoothness", "smoothness order 2 coords"])
def test_penalties_with_a_full_mask_are_unmasked(call):
    dtype, rtol = "float32", 2e-5
    rng = np.random.default_rng(8)
    f = rng.standard_normal((9, 12)).astype(dtype)
    x = uneven_coordinates(rng, 12)
    calls = {
        "tv isotropic": lambda f, **k: jaxgrad.total_variation(f, 0.5, **k),
        "tv anisotropic eps": lambda f, **k: jaxgrad.total_variation(f, isotropic=False, eps=0.1, **k),
        "smoothness": lambda f, **k: jaxgrad.smoothness(f, **k),
        "smoothness order 2 coords": lambda f, **k: jaxgrad.smoothness(f, 1.0, x, order=2, **k),
    }
    fn, reductions = calls[call], ("mean", "sum", "none")

    @jax.jit  # one program (ten eagerly); the mask an argument, the coordinates closed over
    def run(f, full):
        values = [(fn(f, reduction=r, where=full), fn(f, reduction=r)) for r in reductions]
        return values, jax.grad(lambda f: fn(f, where=full))(f), jax.grad(fn)(f)

    values, grad_masked, grad = run(f, np.ones(f.shape, bool))
    for reduction, (masked, unmasked) in zip(reductions, values):
        np.testing.assert_allclose(masked, unmasked, rtol=10 * rtol, err_msg=reduction)
    np.testing.assert_allclose(grad_masked, grad, rtol=10 * rtol, atol=1e-6)


def test_penalties_count_only_valid_differences(x64):
    rng = np.random.default_rng(9)
    f = rng.standard_normal((6, 8))
    w = rng.random((6, 8)) > 0.3
    d0 = np.zeros_like(f)
    d1 = np.zeros_like(f)
    d0[:-1] = np.where(w[:-1] & w[1:], (f[1:] - f[:-1]) / 0.5, 0.0)
    d1[:, :-1] = np.where(w[:, :-1] & w[:, 1:], f[:, 1:] - f[:, :-1], 0.0)
    eps = 0.2
    iso = np.where(w, np.sqrt(d0**2 + d1**2 + eps**2), 0.0)
    dirty = np.where(w, f, np.nan)
    smooth = np.where(w, d0**2 + d1**2, 0.0)

    @jax.jit  # one program (seven eagerly)
    def run(dirty, w):
        losses = (lambda f: jaxgrad.total_variation(f, where=w),
                  lambda f: jaxgrad.smoothness(f, order=2, where=w, reduction="sum"))
        return (jaxgrad.total_variation(dirty, 0.5, 1.0, eps=eps, where=w, reduction="none"),
                jaxgrad.total_variation(dirty, 0.5, 1.0, eps=eps, where=w), jaxgrad.smoothness(dirty, 0.5, 1.0, where=w),
                [jax.grad(loss)(dirty) for loss in losses])

    got, tv, smoothness, grads = run(dirty, w)
    np.testing.assert_allclose(got, iso, rtol=1e-12)
    np.testing.assert_allclose(tv, iso.sum() / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(smoothness, smooth.sum() / w.sum(), rtol=1e-12)
    for g in map(np.asarray, grads):
        assert np.isfinite(g).all() and (g[~w] == 0).all()
    assert float(jaxgrad.total_variation(f, where=np.zeros(f.shape, bool))) == 0.0  # no valid sample


def test_complex_data_and_xarray_passthrough():
    rng = np.random.default_rng(10)
    re, im = rng.standard_normal((2, 12))
    w = rng.random(12) > 0.3
    out = jaxgrad.derivative(re + 1j * im, 0.5, where=w)
    same(np.asarray(out.real), np.asarray(jaxgrad.derivative(re, 0.5, where=w)), rtol=1e-6, atol=1e-6)
    same(np.asarray(out.imag), np.asarray(jaxgrad.derivative(im, 0.5, where=w)), rtol=1e-6, atol=1e-6)
    xr = pytest.importorskip("xarray")
    da = xr.DataArray(re, dims="x", coords={"x": np.arange(12) * 0.5})
    from jaxgrad.xarray import differentiate

    got = differentiate(da, "x", where=w)
    same(np.asarray(got.data), np.asarray(jaxgrad.derivative(re, 0.5, where=w)), rtol=1e-6, atol=1e-6)
