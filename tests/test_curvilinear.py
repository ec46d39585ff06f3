"""Curvilinear coordinates in gradient, laplacian, divergence and curl (jaxgrad/_curvilinear.py):
exactness on affine grids, agreement with 1-D coordinates on meshgrids, convergence on a polar
grid, differentiability with respect to the coordinates, transformations, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify
from jax.test_util import check_grads

import jaxgrad
from conftest import check_grads_compiled


def affine(kind, shape):
    """Coordinates of an affine grid (sheared, rotated or scaled), far from the origin."""
    idx = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    k = len(shape)
    if kind == "scaled":
        A = np.diag([0.5, 2.0, 0.25][:k])
    elif kind == "sheared":
        A = np.eye(k) + np.triu(np.full((k, k), 0.4), 1)
    else:  # rotated and scaled
        t = 0.6
        R = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        A = (R @ np.diag([0.7, 1.3, 0.9]))[:k, :k]
    return [sum(A[a, b] * idx[b] for b in range(k)) + 10.0 * (a + 1) for a in range(k)]


def close(got, want, tol):
    got, want = np.asarray(got), np.asarray(want)
    err = float(np.max(np.abs(got - want)))
    assert err <= tol * (1.0 + float(np.max(np.abs(want)))), f"max difference {err}"


@pytest.mark.parametrize("shape", [(7, 6), (6, 7, 6)], ids=["2-D", "3-D"])
@pytest.mark.parametrize("kind", ["scaled", "sheared", "rotated"])
def test_linear_fields_are_exact_on_affine_grids_edges_included(x64, kind, shape):
    X = affine(kind, shape)
    k = len(shape)
    c = np.array([2.0, -3.0, 0.5][:k])
    f = 1.0 + sum(ci * Xi for ci, Xi in zip(c, X))
    for edge_order in (1, 2) if k == 2 else (2,):
        for got, want in zip(jaxgrad.gradient(f, *X, edge_order=edge_order), c):
            close(got, np.full(shape, want), 1e-12)
    # Fields linear in the coordinates: divergence trace(A), curl of A x the antisymmetric part.
    M = np.arange(1.0, 1.0 + k * k).reshape(k, k) / 3.0
    F = [sum(M[a, b] * X[b] for b in range(k)) for a in range(k)]
    for accuracy in (2,):  # higher accuracies: the polar grid's convergence test
        close(jaxgrad.divergence(F, *X, accuracy=accuracy), np.full(shape, np.trace(M)), 1e-11)
        curl = jaxgrad.curl(F, *X, accuracy=accuracy)
        if k == 2:
            close(curl, np.full(shape, M[1, 0] - M[0, 1]), 1e-11)
        else:
            want = (M[2, 1] - M[1, 2], M[0, 2] - M[2, 0], M[1, 0] - M[0, 1])
            for got, w in zip(curl, want):
                close(got, np.full(shape, w), 1e-11)
        # Quadratic fields are exact too: the Laplacian of |X|^2 is 2k.
        close(jaxgrad.laplacian(sum(Xi**2 for Xi in X), *X, accuracy=accuracy), np.full(shape, 2.0 * k), 1e-10)


@pytest.mark.parametrize("shape, x64_on", [((7, 6), False), ((7, 6), True), ((6, 7, 6), True)],
                         ids=["2-D-float32", "2-D-float64", "3-D-float64"])
def test_meshgrid_coordinates_equal_the_1d_coordinate_result(shape, x64_on):
    with jax.enable_x64(x64_on):
        meshgrid_against_1d(shape, 1e-12 if x64_on else 2e-5)


def meshgrid_against_1d(shape, tol):
    rng = np.random.default_rng(0)
    xs = [np.arange(n) * h - 3.0 for n, h in zip(shape, (0.5, 0.25, 2.0))]  # exactly uniform
    X = np.meshgrid(*xs, indexing="ij")
    f = rng.standard_normal(shape)
    F = rng.standard_normal((len(shape), *shape))
    for edge_order in (1, 2) if len(shape) == 2 else (2,):
        for got, want in zip(jaxgrad.gradient(f, *X, edge_order=edge_order), jaxgrad.gradient(f, *xs, edge_order=edge_order)):
            close(got, want, 10 * tol)
    for accuracy in (2, 4) if len(shape) == 2 and tol < 1e-10 else (2,):
        close(jaxgrad.laplacian(f, *X, accuracy=accuracy), jaxgrad.laplacian(f, *xs, accuracy=accuracy), 10 * tol)
        close(jaxgrad.divergence(F, *X, accuracy=accuracy), jaxgrad.divergence(F, *xs, accuracy=accuracy), 10 * tol)
        for got, want in zip(jax.tree.leaves(jaxgrad.curl(F, *X, accuracy=accuracy)),
                             jax.tree.leaves(jaxgrad.curl(F, *xs, accuracy=accuracy))):
            close(got, want, 10 * tol)


def polar(n, *, full=True):
    """A polar grid of n radii in [1, 2] and 2n angles (the whole circle, axis 1 periodic)."""
    r = np.linspace(1.0, 2.0, n)
    t = np.arange(2 * n) * (2 * np.pi / (2 * n)) if full else np.linspace(0.2, 1.7, 2 * n)
    R, T = np.meshgrid(r, t, indexing="ij")
    return R * np.cos(T), R * np.sin(T)


def polar_errors(n, accuracy):
    X, Y = polar(n)
    f = np.sin(X) * np.exp(0.5 * Y)
    fx, fy = np.cos(X) * np.exp(0.5 * Y), 0.5 * np.sin(X) * np.exp(0.5 * Y)
    lap = -f + 0.25 * f
    X, Y, f, fx, fy = map(jnp.asarray, (X, Y, f, fx, fy))
    b = ("one-sided", "periodic")
    grad = jaxgrad.gradient(f, X, Y, edge_order=2)
    return [
        jnp.maximum(jnp.abs(grad[0] - fx).max(), jnp.abs(grad[1] - fy).max()),
        jnp.abs(jaxgrad.laplacian(f, X, Y, accuracy=accuracy, boundary=b) - lap).max(),
        jnp.abs(jaxgrad.divergence([fx, fy], X, Y, accuracy=accuracy, boundary=b) - lap).max(),
        jnp.abs(jaxgrad.curl([-fy, fx], X, Y, accuracy=accuracy, boundary=b) - lap).max(),
    ]


@pytest.mark.parametrize("accuracy", [2, 4])
def test_measured_convergence_on_a_polar_grid(x64, accuracy):
    # One program (the grids closed over: concrete, as in eager calls): eagerly each operator and
    # each size compiles on its own.
    errors = np.array(jax.jit(lambda: [jnp.stack(polar_errors(n, accuracy)) for n in (16, 32)])())
    slopes = np.log2(errors[0] / errors[1])
    wanted = [1.8, accuracy - 0.3, accuracy - 0.3, accuracy - 0.3]  # gradient: edge_order=2
    assert np.all(slopes >= wanted), f"measured orders {slopes} (gradient, laplacian, divergence, curl)"


def test_listing_the_arrays_as_y_x_reverses_the_orientation(x64):
    X, Y = polar(8, full=False)
    F = [np.sin(X + 2 * Y), X * Y]
    close(jaxgrad.curl(F[::-1], Y, X), -np.asarray(jaxgrad.curl(F, X, Y)), 1e-12)
    gx, gy = jaxgrad.gradient(F[0], X, Y)
    gy2, gx2 = jaxgrad.gradient(F[0], Y, X)
    close(gx2, gx, 1e-12)
    close(gy2, gy, 1e-12)


def test_check_grads_with_respect_to_values_and_coordinates(x64):
    X, Y = polar(4, full=False)
    f = np.sin(X) * Y
    check_grads_compiled(lambda f, X, Y: jaxgrad.gradient(f, X, Y, edge_order=2)[0], (f, X, Y), order=1, modes=["rev"])
    check_grads_compiled(lambda f, X, Y: jaxgrad.laplacian(f, X, Y), (f, X, Y), order=1, modes=["rev"])


def test_jit_and_vmap_agree_with_eager(x64):
    X, Y = polar(6, full=False)
    rng = np.random.default_rng(1)
    fs = rng.standard_normal((3, *X.shape))
    Xs = X + 0.01 * rng.standard_normal((3, *X.shape))
    eager = [jaxgrad.gradient(f, x, Y) for f, x in zip(fs, Xs)]
    jitted = jax.jit(lambda f, x: jaxgrad.gradient(f, x, Y))
    mapped = jax.vmap(lambda f, x: jaxgrad.gradient(f, x, Y))(fs, Xs)
    for i, want in enumerate(eager):
        for a in range(2):
            close(jitted(fs[i], Xs[i])[a], want[a], 1e-12)
            close(mapped[a][i], want[a], 1e-12)


def test_complex_and_low_precision_fields_keep_their_dtype():
    X, Y = polar(6, full=False)
    f = (X + 1j * Y).astype(np.complex64)
    gx, gy = jaxgrad.gradient(f, X, Y)
    assert gx.dtype == jnp.complex64
    close(gx, np.ones_like(X), 1e-4)
    close(gy, np.full(X.shape, 1j), 1e-4)
    assert jaxgrad.laplacian(jnp.asarray(X, jnp.bfloat16), X, Y).dtype == jnp.bfloat16


def test_a_singular_grid_gives_non_finite_values_and_check_grid_finds_it():
    i, j = np.meshgrid(np.arange(5.0), np.arange(6.0), indexing="ij")
    X, Y = i, np.where(j < 3, j, 3.0 + 0.0 * j)  # columns 3.. collapse onto one line: J singular there
    gx, _ = jaxgrad.gradient(i * j, X, Y)
    assert not np.all(np.isfinite(np.asarray(gx))) and np.all(np.isfinite(np.asarray(gx)[:, :2]))
    with pytest.raises(ValueError, match="singular"):
        jaxgrad.check_grid(X, Y)
    with pytest.raises(ValueError, match="folds over itself"):
        jaxgrad.check_grid(i, np.abs(j - 2.5))
    sheared = j + 0.3 * i
    assert all(a is b for a, b in zip(jaxgrad.check_grid(i, sheared), (i, sheared)))
    checked = jax.jit(checkify.checkify(lambda x, y: jaxgrad.gradient(i * j, *jaxgrad.check_grid(x, y)),
                                        errors=checkify.user_checks))
    err, _ = checked(X, Y)
    assert "singular" in err.get()
    err, _ = checked(i, j + 0.3 * i)
    assert err.get() is None


def test_bad_curvilinear_input_raises_errors_naming_the_argument():
    X, Y = polar(4, full=False)
    f = np.ones_like(X)
    with pytest.raises(ValueError, match="spacing argument 1 has shape"):
        jaxgrad.gradient(f, X, Y[:, :-1])
    with pytest.raises(ValueError, match="spacing argument 1 is a 1-D coordinate array, but spacing argument 0"):
        jaxgrad.gradient(f, X, np.arange(X.shape[1]))
    with pytest.raises(ValueError, match="spacing argument 0 is a scalar step"):
        jaxgrad.laplacian(f, 0.5, Y)
    with pytest.raises(ValueError, match="axis=0 cannot be combined with curvilinear"):
        jaxgrad.gradient(f, X, Y, axis=0)
    with pytest.raises(ValueError, match="axis=1 cannot be combined with curvilinear"):
        jaxgrad.laplacian(f, X, Y, axis=1)
    with pytest.raises(TypeError, match="one coordinate array per axis"):
        jaxgrad.gradient(f, X)
    with pytest.raises(ValueError, match="a hessian takes scalar steps or 1-D coordinate arrays"):
        jaxgrad.hessian(f, X, Y)
    with pytest.raises(ValueError, match="period is not used with curvilinear"):
        jaxgrad.laplacian(f, X, Y, boundary="periodic", period=1.0)
    with pytest.raises(ValueError, match="contains NaN or inf"):
        jaxgrad.divergence([f, f], np.where(X > 1.5, np.nan, X), Y)
    with pytest.raises(ValueError, match="too few"):
        jaxgrad.laplacian(f[:, :3], X[:, :3], Y[:, :3], accuracy=4)
    with pytest.raises(TypeError, match="must hold real numbers"):
        jaxgrad.gradient(f, X + 0j, Y)


# No 3-D case of edge order 1: the next test compares the values of its 3-D case (edge order 1)
# too, and each 3-D case compiles for seconds.
@pytest.mark.parametrize("shape, edge_order", [((9, 8), 1), ((6, 7, 5), 2), ((3, 7, 5), 2), ((5, 3, 4), 2)],
                         ids=["2-D", "3-D", "3-D, an axis of 3 points", "3-D, a middle axis of 3 points"])
def test_the_fused_blocks_of_large_grids_equal_the_general_path(x64, shape, edge_order):
    from jaxgrad import _curvilinear as cv

    rng = np.random.default_rng(3)
    X = [x + 0.1 * rng.standard_normal(shape) for x in np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")]
    f = rng.standard_normal(shape)
    space = cv.IndexSpace((False,) * len(shape), None, edge_order=edge_order)
    # One program: what the two paths share compiles once.
    both = jax.jit(lambda f, *X: (cv._blocked_gradient(space, f, *X), cv._gradient_everywhere(f, X, space)))
    by_blocks, everywhere = both(f, *X)
    for got, want in zip(by_blocks, everywhere):
        close(got, want, 1e-12)


@pytest.mark.parametrize("shape, edge_order", [((9, 8), 2), ((6, 7, 5), 1)], ids=["2-D", "3-D"])
def test_the_blocks_custom_jvp_equals_autodiff_of_the_general_path(x64, shape, edge_order):
    """Reverse mode of the blocks runs their hand-written adjoint (``h = K ct`` by blocks, then
    transposed stencils); it must equal JAX's own derivatives of the general path, in both modes,
    with respect to the values and the coordinates, and to second order."""
    from jaxgrad import _curvilinear as cv

    rng = np.random.default_rng(4)
    k = len(shape)
    X = tuple(x + 0.1 * rng.standard_normal(shape)
              for x in np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij"))
    f = rng.standard_normal(shape)
    space = cv.IndexSpace((False,) * k, None, edge_order=edge_order)
    blocks = lambda f, *X: cv._blocked_gradient(space, f, *X)
    general = lambda f, *X: tuple(cv._gradient_everywhere(f, X, space))
    weights = [rng.standard_normal(shape) for _ in range(k)]
    loss = lambda fn: lambda f, *X: sum(jnp.sum(w * jnp.sin(o)) for w, o in zip(weights, fn(f, *X)))
    tangents = (rng.standard_normal(shape),) + tuple(0.1 * rng.standard_normal(shape) for _ in range(k))

    def derivatives(f, *X, fn):
        grads = jax.grad(loss(fn), tuple(range(k + 1)))(f, *X)
        # Only the blocks' custom JVP has branches for symbolically zero tangents: the general
        # path's reference for them is part of its full gradient (not compiled a second time).
        by_branch = fn is general
        return (grads,
                jax.jvp(fn, (f, *X), tangents),  # the values too
                grads[0] if by_branch else jax.grad(loss(fn))(f, *X),  # the coordinates' tangents symbolically zero
                grads[1] if by_branch else jax.grad(loss(fn), 1)(f, *X),  # the values' tangent symbolically zero
                # second order, forward over reverse (in 2-D: the 3-D program compiles slowly)
                jax.jacfwd(jax.grad(loss(fn)))(f, *X) if k == 2 else ())

    derivatives = jax.jit(derivatives, static_argnames="fn")
    for got, want in zip(jax.tree.leaves(derivatives(f, *X, fn=blocks)), jax.tree.leaves(derivatives(f, *X, fn=general))):
        close(got, want, 1e-12)
    if k == 2:
        check_grads(jax.jit(lambda f, X0: blocks(f, X0, *X[1:])[0]), (f, X[0]), order=1, modes=["rev", "fwd"])


def test_the_blocks_derivatives_in_float32_under_jit_and_vmap():
    from jaxgrad import _curvilinear as cv

    rng = np.random.default_rng(5)
    shape = (12, 10)
    X = tuple(jnp.asarray(x + 0.1 * rng.standard_normal(shape), jnp.float32)
              for x in np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij"))
    f = jnp.asarray(rng.standard_normal((3, *shape)), jnp.float32)
    space = cv.IndexSpace((False, False), None, edge_order=1)
    loss = lambda fn: lambda f, *X: sum(jnp.sum(o**2) for o in fn(f, *X))
    blocks = loss(lambda f, *X: cv._blocked_gradient(space, f, *X))
    general = loss(lambda f, *X: tuple(cv._gradient_everywhere(f, X, space)))
    got = jax.jit(jax.vmap(jax.grad(blocks, (0, 1)), in_axes=(0, None, None)))(f, *X)
    want = jax.jit(jax.vmap(jax.grad(general, (0, 1)), in_axes=(0, None, None)))(f, *X)
    for g, w in zip(got, want):
        assert g.dtype == jnp.float32
        close(g, w, 1e-5)


def test_large_grids_take_the_blocks_through_the_public_function(x64):
    """From BLOCKS_FROM samples on, ``gradient`` runs the blocks and their adjoint: the same values
    and derivatives as the general path, a float32 field keeps its dtype with float64 coordinates,
    and a complex field is differentiated part by part."""
    from jaxgrad import _curvilinear as cv

    shape = (256, 260)
    assert shape[0] * shape[1] >= cv.BLOCKS_FROM
    rng = np.random.default_rng(6)
    i, j = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    X, Y = 0.5 * i + 0.2 * j + 0.05 * np.sin(0.1 * j), 0.4 * j - 0.1 * i + 0.05 * np.cos(0.1 * i)
    f = rng.standard_normal(shape)
    space = cv.IndexSpace((False, False), None, edge_order=2)
    loss = lambda fn: lambda f, X, Y: sum(jnp.sum(jnp.sin(o)) for o in fn(f, X, Y))
    public = lambda f, X, Y: jaxgrad.gradient(f, X, Y, edge_order=2)
    general = lambda f, X, Y: tuple(cv._gradient_everywhere(f, (X, Y), space))
    both = lambda fn: jax.jit(lambda *a: (fn(*a), jax.grad(loss(fn), (0, 1, 2))(*a)))
    want = both(general)(f, X, Y)  # reused below: eagerly, the general path compiles op by op
    for got, w in zip(jax.tree.leaves(both(public)(f, X, Y)), jax.tree.leaves(want)):
        close(got, w, 1e-12)
    low = jaxgrad.gradient(jnp.asarray(f, jnp.float32), X, Y, edge_order=2)
    assert all(g.dtype == jnp.float32 for g in low)
    close(low[0], want[0][0], 1e-5)
    z = jaxgrad.gradient(f + 2j * f[::-1], X, Y)
    for a in range(2):
        close(z[a], jaxgrad.gradient(f, X, Y)[a] + 2j * jaxgrad.gradient(f[::-1], X, Y)[a], 1e-12)
