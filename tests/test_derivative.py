"""jaxgrad.derivative and derivative_matrix: convergence order, exactness, periodic axes, findiff."""

import findiff
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from conftest import check_grads_compiled, uneven_coordinates


def _max_errors(order, accuracy, periodic, perturbed, sizes):
    """Max errors (interior, edges) per size n of the derivative of sin(w x + 0.5) on n points of
    [0, 1] (periodic: [0, 1), period 1). Perturbed grids move each interior point independently by
    up to a quarter step; the max is taken over eight such random grids, so one lucky grid cannot
    tilt the measured slope."""
    w = 2 * np.pi * 3 if periodic else (6.0 if accuracy <= 4 else 10.0)
    grids = []
    for n in sizes:
        rng = np.random.default_rng(n)
        x = np.arange(n) / n if periodic else np.linspace(0.0, 1.0, n)
        xs = np.stack([x] * 8)
        if perturbed:
            moved = slice(None) if periodic else slice(1, -1)
            xs[:, moved] += 0.25 * rng.uniform(-1, 1, xs[:, moved].shape) / n
        grids.append(xs)
    kwargs = dict(order=order, accuracy=accuracy, boundary="periodic" if periodic else "one-sided")

    def derivatives(fs, coordinates):
        if perturbed:
            period = 1.0 if periodic else None
            at_coordinates = jax.vmap(lambda f, x: jaxgrad.derivative(f, x, period=period, **kwargs))
            return [at_coordinates(f, x) for f, x in zip(fs, coordinates)]
        return [jaxgrad.derivative(f, float(x[0, 1] - x[0, 0]), **kwargs) for f, x in zip(fs, grids)]

    # Every size in one program: each size compiles anew, and compilation is these tests' cost.
    ds = jax.jit(derivatives)([np.sin(w * xs + 0.5) for xs in grids], grids)
    m = order + accuracy
    errors = []
    for d, xs in zip(ds, grids):
        err = np.abs(np.asarray(d) - w**order * np.sin(w * xs + 0.5 + order * np.pi / 2))
        errors.append((err[:, m:-m].max(), max(err[:, :m].max(), err[:, -m:].max())))
    return np.array(errors)


@pytest.mark.parametrize("perturbed", [False, True], ids=["uniform", "perturbed"])
@pytest.mark.parametrize("periodic", [False, True], ids=["one-sided", "periodic"])
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("accuracy", [2, 4, 6, 8])
def test_measured_convergence_order(x64, accuracy, order, periodic, perturbed):
    n0 = 24 if accuracy <= 4 else 32
    sizes = [n0, 2 * n0]  # two grids, one refinement by 2: compilation is this test's cost
    errors = _max_errors(order, accuracy, periodic, perturbed, sizes)
    for where, e in zip(["interior", "edges"], errors.T):
        if periodic and where == "edges":
            continue  # no edges: the interior formula holds everywhere
        slope = -np.polyfit(np.log(sizes), np.log(e), 1)[0]
        assert slope >= accuracy - 0.3, f"{where}: measured order {slope:.2f} for accuracy {accuracy}"


# float32: the cases where truncation error, not rounding, dominates on these grids (higher orders
# and accuracies reach float32's rounding floor at these sizes, and then no slope can be measured).
FLOAT32_CASES = [(2, 1, False, False), (2, 1, False, True), (2, 1, True, False), (2, 1, True, True),
                 (2, 2, False, False), (2, 2, True, False), (4, 1, False, False), (4, 1, True, False)]


@pytest.mark.parametrize("accuracy, order, periodic, perturbed", FLOAT32_CASES,
                         ids=[f"accuracy{a}-order{o}-{'periodic' if p else 'one-sided'}-{'perturbed' if q else 'uniform'}"
                              for a, o, p, q in FLOAT32_CASES])
def test_measured_convergence_order_in_float32(accuracy, order, periodic, perturbed):
    with jax.enable_x64(False):
        sizes = [int(round(24 * 1.5**i)) for i in range(4)]
        errors = _max_errors(order, accuracy, periodic, perturbed, sizes)
    for where, e in zip(["interior", "edges"], errors.T):
        slope = -np.polyfit(np.log(sizes), np.log(e), 1)[0]
        assert slope >= accuracy - 0.3, f"{where}: measured order {slope:.2f} for accuracy {accuracy} in float32"


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_polynomials_below_the_scheme_degree_are_exact(x64, order, accuracy):
    rng = np.random.default_rng(order * 10 + accuracy)
    n = 3 * (order + accuracy)
    degree = order + accuracy - 1
    coeffs = rng.standard_normal(degree + 1)
    poly = np.polynomial.Polynomial(coeffs)
    for x in (np.linspace(-1, 1, n), uneven_coordinates(rng, n, jitter=0.4) / n):
        spacing = x if x[1] - x[0] != x[2] - x[1] else x[1] - x[0]
        d = jaxgrad.derivative(poly(x), spacing, order=order, accuracy=accuracy)
        exact = poly.deriv(order)(x)
        np.testing.assert_allclose(d, exact, atol=1e-7 * np.abs(exact).max() * n**order)


def test_order_one_accuracy_two_equals_gradient_edge_order_two(x64):
    rng = np.random.default_rng(5)
    f = rng.standard_normal((7, 9))
    x = uneven_coordinates(rng, 9)
    for spacing, axis in [(0.3, 0), (x, 1), (x[::-1].copy(), -1)]:
        np.testing.assert_allclose(
            jaxgrad.derivative(f, spacing, axis=axis),
            jaxgrad.gradient(f, spacing, axis=axis, edge_order=2),
            rtol=1e-13, atol=1e-13,
        )


def test_periodic_trigonometric_derivative_matches_analytic_values(x64):
    n = 40
    L = 2 * np.pi
    x = np.linspace(0.0, L, n, endpoint=False)
    for order, exact in [(1, 3 * np.cos(3 * x)), (2, -9 * np.sin(3 * x))]:
        d = jaxgrad.derivative(np.sin(3 * x), L / n, order=order, accuracy=8, boundary="periodic")
        np.testing.assert_allclose(d, exact, atol=5e-5)
    # Shifted, uneven periodic coordinates need the period.
    rng = np.random.default_rng(6)
    xs = np.sort(rng.uniform(0.0, L, n)) + 5.0
    d = jaxgrad.derivative(np.sin(xs), xs, accuracy=8, boundary="periodic", period=L)
    np.testing.assert_allclose(d, np.cos(xs), atol=1e-3)


def test_derivative_matrix_reproduces_derivative(x64):
    rng = np.random.default_rng(7)
    f = jnp.asarray(rng.standard_normal(12))
    x = jnp.asarray(uneven_coordinates(rng, 12))  # closed over: concrete, as an eager call's
    cases = [(kw, spacing) for kw in [dict(), dict(order=2, accuracy=4), dict(order=3, accuracy=2)] for spacing in (0.2, x)]
    # One program for every case: eagerly each matrix and each derivative compiles on its own.
    both = jax.jit(lambda: [(jaxgrad.derivative_matrix(12, h, **kw), jaxgrad.derivative(f, h, **kw)) for kw, h in cases])()
    for D, want in both:
        assert D.shape == (12, 12)
        np.testing.assert_allclose(D @ f, want, rtol=1e-11, atol=1e-9)
    D = jaxgrad.derivative_matrix(10, 0.1, order=2, boundary="periodic")
    np.testing.assert_allclose(D.sum(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(D, D.T, atol=1e-10)


def test_derivative_matrix_solves_a_boundary_value_problem(x64):
    # u'' = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0: the solution is sin(pi x).
    n = 41
    x = np.linspace(0.0, 1.0, n)
    D2 = np.array(jaxgrad.derivative_matrix(n, x[1], order=2, accuracy=4))
    rhs = -np.pi**2 * np.sin(np.pi * x)
    D2[0], D2[-1] = np.eye(n)[0], np.eye(n)[-1]
    rhs[0] = rhs[-1] = 0.0
    u = jnp.linalg.solve(D2, rhs)
    np.testing.assert_allclose(u, np.sin(np.pi * x), atol=1e-6)


@pytest.mark.parametrize("order,accuracy", [(1, 2), (1, 4), (2, 2), (2, 6), (3, 4)])
def test_agrees_with_findiff(x64, order, accuracy):
    rng = np.random.default_rng(order + accuracy)
    f = rng.standard_normal((16, 5))
    ours = jaxgrad.derivative(f, 0.1, axis=0, order=order, accuracy=accuracy)
    theirs = findiff.Diff(0, 0.1, acc=accuracy) ** order if hasattr(findiff, "Diff") else findiff.FinDiff(0, 0.1, order, acc=accuracy)
    # findiff's rows next to the edge use stencils that start at the point itself, ours a window
    # at the edge (both hold the accuracy); the edge rows and the interior are the same formulas.
    p = order + accuracy
    rows = np.r_[0, p : 16 - p, 15]
    np.testing.assert_allclose(np.asarray(ours)[rows], theirs(f)[rows], rtol=1e-9, atol=1e-9)


def test_check_grads_wrt_values_coordinates_and_period(x64):
    rng = np.random.default_rng(8)
    f = jnp.asarray(rng.standard_normal(9))
    x = jnp.asarray(uneven_coordinates(rng, 9, jitter=0.3))
    check_grads_compiled(lambda f, x: jaxgrad.derivative(f, x, order=2, accuracy=2), (f, x), order=1)
    check_grads_compiled(lambda f, h: jaxgrad.derivative(f, h, accuracy=4), (f, 0.3), order=2)
    period = float(x[-1] - x[0]) + 1.0
    check_grads_compiled(lambda x, L: jaxgrad.derivative(f, x, boundary="periodic", period=L), (x, period), order=1)


def test_derivative_matrix_is_differentiable_in_the_coordinates(x64):
    x = jnp.asarray(uneven_coordinates(np.random.default_rng(10), 7, jitter=0.3))
    check_grads_compiled(lambda x: jaxgrad.derivative_matrix(7, x, order=2), (x,), order=1)


def test_vmap_over_coordinates(x64):
    rng = np.random.default_rng(9)
    fs = rng.standard_normal((3, 12))
    xs = np.stack([uneven_coordinates(rng, 12) for _ in range(3)])
    batched = jax.vmap(lambda f, x: jaxgrad.derivative(f, x, order=2, accuracy=4))(fs, xs)
    loop = np.stack([jaxgrad.derivative(f, x, order=2, accuracy=4) for f, x in zip(fs, xs)])
    np.testing.assert_allclose(batched, loop, rtol=1e-12, atol=1e-12)


def test_float32_high_order_on_a_fine_grid_does_not_underflow():
    x = np.linspace(0.0, 1e-4, 64)
    x[1:-1] += 1e-7 * np.sin(np.arange(62))
    d = jaxgrad.derivative(np.sin(x * 1e4).astype(np.float32), x.astype(np.float32), accuracy=8)
    assert np.all(np.isfinite(d))
    np.testing.assert_allclose(d, 1e4 * np.cos(x * 1e4), rtol=5e-2, atol=50.0)


F = np.zeros((8, 6))


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((F,), {"order": 0}, ValueError, "order must be >= 1"),
        ((F,), {"order": 1.5}, TypeError, "order must be an int"),
        ((F,), {"accuracy": 3}, ValueError, "positive even integer"),
        ((F,), {"accuracy": 0}, ValueError, "accuracy must be >= 1"),
        ((F,), {"boundary": "reflected"}, ValueError, "boundary must be one of"),
        ((F,), {"axis": (0, 1)}, TypeError, "single int axis"),
        ((F,), {"axis": 2}, np.exceptions.AxisError, "out of bounds"),
        ((F,), {"order": 2, "accuracy": 6}, ValueError, "f.shape\\[1\\] is 6, too small .* at least 8 points"),
        ((F, np.arange(6.0)), {"boundary": "periodic"}, ValueError, "pass period=L"),
        ((F, 0.1), {"boundary": "periodic", "period": 1.0}, ValueError, "pass period only with coordinate arrays"),
        ((F, np.arange(6.0)), {"period": 6.0}, ValueError, "boundary is not 'periodic'"),
        ((F, np.arange(6.0)), {"boundary": "periodic", "period": 3.0}, ValueError, "does not fit its coordinates"),
        ((F, np.array([0.0, 1, 3, 2, 4, 5])), {}, ValueError, "strictly increasing or strictly decreasing"),
        ((F, np.arange(5.0)), {}, ValueError, "has length 5, but f.shape\\[1\\] is 6"),
        ((F, "x"), {}, TypeError, "must be a number"),
    ],
)
def test_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        jaxgrad.derivative(*args, **kwargs)


def test_derivative_matrix_errors():
    # The messages speak of n, never of the field derivative_matrix makes for itself.
    with pytest.raises(ValueError, match="n must be >= 1"):
        jaxgrad.derivative_matrix(0)
    with pytest.raises(ValueError, match="^n is 3, too small .* at least 6 points"):
        jaxgrad.derivative_matrix(3, order=2, accuracy=4)
    with pytest.raises(ValueError, match="^n is 3, too small"):
        jaxgrad.derivative_matrix(3, order=2, accuracy=4, format="sparse")
    with pytest.raises(ValueError, match="spacing has 5 coordinates, but n is 4"):
        jaxgrad.derivative_matrix(4, np.arange(5.0))
    with pytest.raises(ValueError, match="n is 1000000000000, beyond the 2147483647 rows"):
        jaxgrad.derivative_matrix(10**12, format="sparse")
    with pytest.raises(ValueError, match="format must be 'dense' or 'sparse', got array"):
        jaxgrad.derivative_matrix(4, format=np.array(["dense", "sparse"]))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"order": 2, "accuracy": 4},
        {"order": 3, "accuracy": 2, "boundary": "periodic"},
        {"coords": True, "accuracy": 4},
        {"coords": True, "order": 2, "boundary": "periodic"},
    ],
)
def test_sparse_derivative_matrix_equals_dense_and_applies_the_scheme(kw):
    kw = dict(kw)
    n = 17
    rng = np.random.default_rng(5)
    if kw.pop("coords", False):
        x = np.cumsum(rng.uniform(0.5, 1.5, n))
        kw["spacing"] = x
        if kw.get("boundary") == "periodic":
            kw["period"] = float(x[-1] - x[0] + 1.0)
    dense = jaxgrad.derivative_matrix(n, **kw)
    D = jaxgrad.derivative_matrix(n, format="sparse", **kw)
    assert D.shape == (n, n)
    np.testing.assert_allclose(D.todense(), dense, rtol=1e-6, atol=1e-6)
    f = rng.standard_normal(n)
    spacing = kw.pop("spacing", 1.0)
    want = jaxgrad.derivative(f, spacing, **kw)
    np.testing.assert_allclose(jax.jit(lambda f: D @ f)(f), want, rtol=1e-5, atol=1e-5)


def test_large_matrices_are_sparse_only():
    with pytest.raises(ValueError, match="format='sparse'"):
        jaxgrad.derivative_matrix(10**6)
    D = jaxgrad.derivative_matrix(10**6, format="sparse", order=2, accuracy=4)
    assert D.nse <= 10**6 * 6
    with pytest.raises(ValueError, match="format must be"):
        jaxgrad.derivative_matrix(10, format="banded")


def test_sparse_matrix_is_differentiable_with_respect_to_coordinates():
    x = jnp.cumsum(jnp.linspace(0.5, 1.5, 9))
    loss = lambda x, fmt: jnp.sum(jnp.sin(jaxgrad.derivative_matrix(9, x, order=2, format=fmt) @ jnp.cos(x)))
    # One program: eagerly, every operation of the sparse matrix's gradient compiles on its own.
    sparse_grad, dense_grad = jax.jit(lambda x: (jax.grad(loss)(x, "sparse"), jax.grad(loss)(x, "dense")))(x)
    np.testing.assert_allclose(sparse_grad, dense_grad, rtol=1e-4, atol=1e-4)
