"""total_variation and smoothness: values, reductions, coordinates, finite gradients."""

import math

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


def test_total_variation_matches_a_direct_formula(precision):
    dtype, rtol = precision
    rng = np.random.default_rng(0)
    f = rng.standard_normal((6, 7))
    dx, dy = _forward(f, 0.5, 0), _forward(f, 2.0, 1)
    iso = np.sqrt(dx**2 + dy**2 + 0.1**2)
    g = f.astype(dtype)
    assert jaxgrad.total_variation(g, 0.5, 2.0, eps=0.1).dtype == dtype
    np.testing.assert_allclose(jaxgrad.total_variation(g, 0.5, 2.0, eps=0.1, reduction="none"), iso, rtol=rtol)
    np.testing.assert_allclose(jaxgrad.total_variation(g, 0.5, 2.0, eps=0.1), iso.mean(), rtol=rtol)
    np.testing.assert_allclose(jaxgrad.total_variation(g, 0.5, 2.0, isotropic=False, reduction="sum"), (np.abs(dx) + np.abs(dy)).sum(), rtol=rtol)
    np.testing.assert_allclose(jaxgrad.total_variation(g, 0.5, axis=0, reduction="sum"), np.abs(dx).sum(), rtol=rtol)


def test_total_variation_of_a_monotone_signal_is_its_rise(x64):
    x = np.sort(np.random.default_rng(1).uniform(0, 1, 30))
    f = np.tanh(5 * (x - 0.5))
    # sum of |df| = f[-1] - f[0]; on coordinates each difference is divided by its step, so the
    # per-point values times the steps add up to the rise again.
    np.testing.assert_allclose(jaxgrad.total_variation(f, reduction="sum"), f[-1] - f[0], rtol=1e-12)
    tv = np.asarray(jaxgrad.total_variation(f, x, reduction="none"))
    assert tv[-1] == 0.0
    np.testing.assert_allclose(np.sum(tv[:-1] * np.diff(x)), f[-1] - f[0], rtol=1e-12)


# A reference on coordinates, written out: per point, the forward difference of ``order`` over the
# ``order + 1`` consecutive coordinates from it, with the weights that make it exact for polynomials
# of degree ``order``, zero at the last ``order`` points. The weights come from a Vandermonde
# system solved per point in numpy (values), or from their closed form, the divided difference
# ``order! / prod_{m != j} (t_j - t_m)``, in jax.numpy (jax.grad of the reference: one small
# compile, where a batched solve takes seconds); the two are checked against each other.


def _offsets(x, order, xp):
    m = x.shape[0] - order
    return xp.stack([x[k : k + m] - x[:m] for k in range(order + 1)], axis=-1)  # (m, order + 1)


def _solved_weights(x, order):
    t = _offsets(np.asarray(x, np.float64), order, np)
    powers = np.arange(order + 1)
    vandermonde = t[:, None, :] ** powers[None, :, None]  # [i, p, k] = t[i, k] ** p
    rhs = np.broadcast_to((powers == order) * float(math.factorial(order)), t.shape)[..., None]
    return np.linalg.solve(vandermonde, rhs)[..., 0]


def _divided_weights(x, order, xp):
    t = _offsets(x, order, xp)
    columns = [math.factorial(order) / math.prod(t[:, j] - t[:, m] for m in range(order + 1) if m != j) for j in range(order + 1)]
    return xp.stack(columns, axis=-1)


def _forward_weights(x, order, xp):
    return _solved_weights(x, order) if xp is np else _divided_weights(x, order, xp)


def _forward_reference(f, x, axis, order, xp):
    g = xp.moveaxis(f, axis, 0)
    n = g.shape[0]
    if xp.ndim(x) == 0:  # a step: the unit-step weights over h ** order
        w = xp.asarray([float(v) for v in jaxgrad.stencil(order, range(order + 1))]) / x**order
        w = xp.broadcast_to(w, (n - order, order + 1))
    else:
        w = _forward_weights(x, order, xp)
    w = w.reshape(w.shape + (1,) * (g.ndim - 1))
    d = sum(w[:, k] * g[k : k + n - order] for k in range(order + 1))
    d = xp.concatenate([d, xp.zeros((order,) + g.shape[1:], d.dtype)])
    return xp.moveaxis(d, 0, axis)


def _reduce(field, reduction, xp):
    return field if reduction == "none" else xp.sum(field) if reduction == "sum" else xp.mean(field)


def _tv_reference(f, spacings, *, isotropic, eps, reduction="mean", xp=np):
    squares = [xp.abs(_forward_reference(f, s, a, 1, xp)) ** 2 for a, s in enumerate(spacings)]
    if isotropic:
        field = xp.sqrt(sum(squares) + eps**2)
    else:
        field = sum(xp.sqrt(q + eps**2) for q in squares)
    return _reduce(field, reduction, xp)


def _smoothness_reference(f, spacings, *, order, reduction="mean", xp=np):
    field = sum(xp.abs(_forward_reference(f, s, a, order, xp)) ** 2 for a, s in enumerate(spacings))
    return _reduce(field, reduction, xp)


def test_the_reference_weights_agree():
    x = uneven_coordinates(np.random.default_rng(9), 9, jitter=0.6)
    for order in (1, 2, 3):
        np.testing.assert_allclose(_solved_weights(x, order), _divided_weights(x, order, np), rtol=1e-10)
    np.testing.assert_allclose(_solved_weights(x, 1), np.stack([-1, 1], axis=-1) / np.diff(x)[:, None], rtol=1e-12)


def _coordinate_case(seed):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((5, 7))
    return f, uneven_coordinates(rng, 5, jitter=0.4), uneven_coordinates(rng, 7, jitter=0.4, decreasing=True)


def _assert_grads(ours, reference, args, rtol):
    argnums = tuple(range(len(args)))
    got = jax.grad(ours, argnums=argnums)(*args)
    want = jax.jit(jax.grad(reference, argnums=argnums))(*args)  # one compile, not one per operation
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * float(np.max(np.abs(w))))


@pytest.mark.parametrize("isotropic", [True, False])
def test_total_variation_on_coordinates_matches_a_reference(precision, isotropic):
    dtype, rtol = precision
    f, x, y = _coordinate_case(10)
    # Per point (the reductions are checked on uniform grids above; "mean" again under grad below).
    for eps in (0.0, 0.1):
        want = _tv_reference(f, (x, y), isotropic=isotropic, eps=eps, reduction="none")
        got = jaxgrad.total_variation(f.astype(dtype), x, y, isotropic=isotropic, eps=eps, reduction="none")
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
        # A step on one axis and coordinates on the other.
        want = _tv_reference(f, (0.5, y), isotropic=isotropic, eps=eps, reduction="none")
        got = jaxgrad.total_variation(f.astype(dtype), 0.5, y, isotropic=isotropic, eps=eps, reduction="none")
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    # jax.grad with respect to the values and both coordinate arrays (eps > 0: smooth everywhere).
    args = tuple(jnp.asarray(a, dtype) for a in (f, x, y))
    ours = lambda f, x, y: jaxgrad.total_variation(f, x, y, isotropic=isotropic, eps=0.1)
    reference = lambda f, x, y: _tv_reference(f, (x, y), isotropic=isotropic, eps=0.1, xp=jnp)
    _assert_grads(ours, reference, args, 50 * rtol)


@pytest.mark.parametrize("order", [1, 2])
def test_smoothness_on_coordinates_matches_a_reference(precision, order):
    dtype, rtol = precision
    f, x, y = _coordinate_case(11 + order)
    want = _smoothness_reference(f, (x, y), order=order, reduction="none")
    got = jaxgrad.smoothness(f.astype(dtype), x, y, order=order, reduction="none")
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=10 * rtol, atol=10 * rtol * np.abs(want).max())
    want = _smoothness_reference(f, (x, 0.25), order=order, reduction="none")
    got = jaxgrad.smoothness(f.astype(dtype), x, 0.25, order=order, reduction="none")
    np.testing.assert_allclose(got, want, rtol=10 * rtol, atol=10 * rtol * np.abs(want).max())
    # Along one axis only, and jax.grad with respect to the values and the coordinates.
    want = np.moveaxis(_smoothness_reference(np.moveaxis(f, 1, 0), (y,), order=order, reduction="none"), 0, 1)
    got = jaxgrad.smoothness(f.astype(dtype), y, axis=1, order=order, reduction="none")
    np.testing.assert_allclose(got, want, rtol=10 * rtol, atol=10 * rtol * np.abs(want).max())
    args = tuple(jnp.asarray(a, dtype) for a in (f, x, y))
    ours = lambda f, x, y: jaxgrad.smoothness(f, x, y, order=order)
    reference = lambda f, x, y: _smoothness_reference(f, (x, y), order=order, xp=jnp)
    _assert_grads(ours, reference, args, 50 * rtol)


def test_total_variation_sees_the_checkerboard_that_central_differences_miss(x64):
    board = np.indices((8, 8)).sum(axis=0) % 2 * 1.0
    assert float(jaxgrad.total_variation(board)) > 0.8
    central = jaxgrad.gradient(board[1:-1, 1:-1])  # interior central differences vanish
    assert float(np.abs(central[0][1:-1, 1:-1]).max()) == 0.0


def test_smoothness_matches_direct_formulas(precision):
    dtype, rtol = precision
    rng = np.random.default_rng(2)
    f = rng.standard_normal((9, 8))
    g = f.astype(dtype)
    d2 = np.zeros_like(f)
    d2[:-2] = (f[2:] - 2 * f[1:-1] + f[:-2]) / 0.3**2
    np.testing.assert_allclose(jaxgrad.smoothness(g, 0.3, axis=0, order=2, reduction="none"), d2**2, rtol=10 * rtol, atol=10 * rtol * np.max(d2**2))
    e1 = _forward(f, 0.3, 0) ** 2 + _forward(f, 0.7, 1) ** 2
    np.testing.assert_allclose(jaxgrad.smoothness(g, 0.3, 0.7), e1.mean(), rtol=rtol)
    # Coordinates: quadratics have constant second differences on any grid.
    x = np.sort(rng.uniform(0, 1, 12))
    field = jaxgrad.smoothness((3 * x**2 - x).astype(dtype), x, order=2, reduction="none")
    assert field.dtype == dtype
    np.testing.assert_allclose(field[:-2], 36.0, rtol=1e-9 if dtype == "float64" else 1e-2)
    np.testing.assert_array_equal(field[-2:], 0.0)


@pytest.mark.parametrize("isotropic", [True, False])
def test_gradients_are_finite_on_flat_regions(isotropic):
    f = np.zeros((5, 5))  # numpy: no eager scatter, isfinite or all to compile
    f[2, 2] = 1.0
    grad = jax.grad(lambda f: jaxgrad.total_variation(f, isotropic=isotropic))
    assert np.all(np.isfinite(grad(f)))
    np.testing.assert_array_equal(grad(np.zeros((4, 4))), 0.0)
    hessian = jax.jit(jax.hessian(lambda f: jaxgrad.smoothness(f, order=2)))  # eagerly: dozens of small compiles
    assert np.all(np.isfinite(hessian(np.zeros(6))))


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
        (jaxgrad.total_variation, (np.zeros(4),), {"eps": -1.0}, ValueError, "eps must be a finite real scalar >= 0"),
        (jaxgrad.total_variation, (np.zeros(4),), {"eps": np.inf}, ValueError, "eps must be a finite real scalar >= 0"),
        (jaxgrad.total_variation, (np.zeros(4),), {"eps": None}, TypeError, "eps must be a real scalar >= 0, got None"),
        (jaxgrad.total_variation, (np.zeros(4),), {"eps": [[1.0], []]}, ValueError, "eps must be a scalar or a rectangular"),
        (jaxgrad.total_variation, (np.zeros(4),), {"isotropic": "yes"}, TypeError, "isotropic must be"),
        (jaxgrad.total_variation, (np.zeros(1),), {}, ValueError, "too small"),
        (jaxgrad.smoothness, (np.zeros(3),), {"order": 3}, ValueError, "smoothness of order 3: at least 4 points"),
        (jaxgrad.smoothness, (np.zeros(3),), {"order": 0}, ValueError, "order must be >= 1"),
        (jaxgrad.smoothness, (np.zeros((3, 3)), 1.0, 2.0, 3.0), {}, TypeError, "invalid number of spacing"),
    ],
)
def test_errors(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_smoothness_gradient_on_axes_shorter_than_its_edge_blocks(order):
    # n < 2 * order leaves no room for the two edge blocks of D^T D: the two-step form is used.
    ref = lambda g: jnp.mean(jnp.pad(jnp.diff(g, n=order), (0, order)) ** 2)
    # Ours and the reference in one program per length (eagerly, each of the reference's operations
    # compiles on its own, for every length).
    both = lambda g: (jax.grad(lambda g: jaxgrad.smoothness(g, order=order))(g), jax.grad(ref)(g))
    for n in range(order + 1, 2 * order + 2):
        f = jnp.asarray(np.random.default_rng(n).standard_normal(n), jnp.float32)
        got, want = jax.jit(both)(f)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_mean_of_an_empty_field_is_nan():
    # as jnp.mean gives: no samples, no mean (the sum is 0)
    for penalty in (jaxgrad.smoothness, jaxgrad.total_variation):
        assert math.isnan(float(penalty(jnp.zeros((0, 5)), axis=1)))
        assert float(penalty(jnp.zeros((0, 5)), axis=1, reduction="sum")) == 0.0


def test_eps_of_a_time_type_is_refused():
    with pytest.raises(ValueError, match="eps"):
        jaxgrad.total_variation(jnp.ones(4), eps=np.timedelta64(1, "s"))


@pytest.mark.parametrize("order, shape", [(1, (9, 13)), (2, (4, 7)), (3, (9, 13)), (2, (5, 6, 11))])
def test_smoothness_gradient_on_uniform_grids_equals_autodiff(x64, order, shape):
    # Every axis uniform: the D^T D stencils summed in one pass (or axis by axis where an axis is
    # short), against JAX's derivative of the plain formula; a traced step too.
    rng = np.random.default_rng(order)
    f = jnp.asarray(rng.standard_normal(shape))
    steps = (0.5, 0.25, 2.0)[: len(shape)]

    def plain(f, h):
        return sum(jnp.sum(jnp.pad(jnp.diff(f, n=order, axis=a) / s**order, [(0, order if b == a else 0) for b in range(f.ndim)]) ** 2)
                   for a, s in enumerate(h)) / f.size

    ours = lambda f, h: jaxgrad.smoothness(f, *h, order=order)

    # One program: ours with both reductions (steps as constants) and with traced steps, and the
    # reference, whose operations would otherwise each compile on their own.
    def derivatives(f, h):
        by_reduction = [jax.grad(lambda f, r=r: jaxgrad.smoothness(f, *steps, order=order, reduction=r))(f)
                        for r in ("mean", "sum")]
        return by_reduction, jax.grad(ours, argnums=(0, 1))(f, h), jax.grad(plain, argnums=(0, 1))(f, h)

    by_reduction, got, want = jax.jit(derivatives)(f, tuple(jnp.asarray(steps)))
    for g, factor in zip(by_reduction, (1.0, f.size)):
        np.testing.assert_allclose(g, factor * want[0], rtol=1e-10, atol=1e-10)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)
    if order == 1:
        check_grads(jax.jit(lambda f: ours(f, steps)), (f,), order=2, modes=("fwd", "rev"))


# Every shape in float64; float32 on one 2-D and one 3-D shape (the same program at another dtype).
TV_CASES = [("float64", s) for s in [(3, 2), (6, 7), (3, 3, 2), (5, 4, 6)]] + [("float32", (6, 7)), ("float32", (5, 4, 6))]


@pytest.mark.parametrize("isotropic", [True, False])
@pytest.mark.parametrize("dtype, shape", TV_CASES)
def test_total_variation_gradient_on_uniform_grids_equals_autodiff(dtype, shape, isotropic):
    # Every axis uniform: the one-pass gradient (one loop over the raveled array on XLA:CPU, its
    # major axes' edge rows from slabs), against JAX's derivative of the per-point field; flat
    # patches without eps (the subgradient 0), a traced step, a batch under vmap, the Hessian.
    with jax.enable_x64(dtype == "float64"):
        _check_total_variation_gradient(dtype, 1e-12 if dtype == "float64" else 2e-5, shape, isotropic)


def _check_total_variation_gradient(dtype, rtol, shape, isotropic):
    rng = np.random.default_rng(len(shape) + 7 * shape[0])
    f = rng.standard_normal((2, *shape))
    f[:, 1] = 0.0  # flat: every difference inside this slab is zero
    f = jnp.asarray(f, dtype)
    steps = (0.5, 2.0, 0.75)[: len(shape)]

    def derivatives(f, h):
        got, want = [], []
        for eps in (0.0, 1e-2):
            ours = lambda f, h, eps=eps: jaxgrad.total_variation(f, *h, eps=eps, isotropic=isotropic)
            plain = lambda f, h, eps=eps: jnp.mean(jaxgrad.total_variation(f, *h, eps=eps, isotropic=isotropic, reduction="none"))
            got.append(jax.vmap(jax.grad(ours), in_axes=(0, None))(f, h))
            got.append(jax.grad(ours)(f[0], steps))  # steps as constants
            want.append(jax.vmap(jax.grad(plain), in_axes=(0, None))(f, h))
            want.append(want[-1][0])
        if dtype != "float64" or shape != (3, 3, 2) or not isotropic:
            return got, want
        # Second order, once (its compilation takes seconds): the one-pass gradient differentiated
        # (the anisotropic sum is the same loop with one difference per root).
        got.append(jax.hessian(lambda f: jaxgrad.total_variation(f, *h, eps=0.1, isotropic=isotropic))(f[0]))
        want.append(jax.hessian(lambda f: jnp.mean(jaxgrad.total_variation(f, *h, eps=0.1, isotropic=isotropic,
                                                                           reduction="none")))(f[0]))
        return got, want

    got, want = jax.jit(derivatives)(f, tuple(jnp.asarray(steps, dtype)))
    for g, w in zip(got, want):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * float(np.max(np.abs(w))))
