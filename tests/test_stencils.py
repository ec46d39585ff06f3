"""jaxgrad/_stencils.py: stencil plans. Uniform weights are jaxgrad.stencil's, coordinate weights
solve the moment equations, matrix entries are the dense matrix of the plan, and the normal
stencil is D^T D of the forward difference."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from conftest import uneven_coordinates
from jaxgrad._apply import apply_stencil
from jaxgrad._core import forward_stencil
from jaxgrad._stencils import (
    Stencil,
    constant_weights,
    coordinate_stencil,
    matrix_entries,
    normal_stencil,
    periodic_coordinate_stencil,
    periodic_uniform_stencil,
    uniform_stencil,
)


def _moment_weights(order, nodes):
    """Weights exact for polynomials of degree below len(nodes), at 0: the Vandermonde system."""
    nodes = np.asarray(nodes, np.float64)
    powers = np.arange(len(nodes))
    rhs = np.where(powers == order, float(math.factorial(order)), 0.0)
    return np.linalg.solve(nodes[None, :] ** powers[:, None], rhs)


def _column(w, rows):
    """A weight as one value per row (scalars broadcast)."""
    return np.broadcast_to(np.asarray(w, np.float64), (rows,))


@pytest.mark.parametrize("order, p, width", [(1, 1, 2), (1, 1, 3), (2, 1, 4), (1, 2, 6), (3, 2, 5)])
def test_uniform_stencil_weights_are_jaxgrad_stencil(order, p, width):
    h = 0.25
    st = uniform_stencil(order, h, jnp.float32, offsets=tuple(range(-p, p + 1)), left=p, left_width=width,
                         right=p, right_width=width)
    full = jaxgrad.stencil(order, range(-p, p + 1))
    # Zero weights are left out, the others kept in order.
    assert st.offsets == tuple(o for o, w in zip(range(-p, p + 1), full) if w != 0)
    np.testing.assert_allclose(st.weights, full[full != 0], rtol=1e-15)
    np.testing.assert_allclose(float(st.scale), h**-order, rtol=1e-6)
    assert constant_weights(st) and (st.left, st.right) == (p, p)
    # Edge row r uses the window's first (last) width points, seen from the row's position.
    assert len(st.left_weights) == len(st.right_weights) == width
    for r in range(p):
        want = jaxgrad.stencil(order, [j - r for j in range(width)])
        np.testing.assert_allclose([_column(w, p)[r] for w in st.left_weights], want, rtol=1e-6)
        want = jaxgrad.stencil(order, [j - (width - p + r) for j in range(width)])
        np.testing.assert_allclose([_column(w, p)[r] for w in st.right_weights], want, rtol=1e-6)


@pytest.mark.parametrize("order, p, width", [(1, 1, 3), (2, 2, 5), (1, 2, 6)])
def test_coordinate_stencil_weights_solve_the_moment_equations(x64, order, p, width):
    n = 12
    x = uneven_coordinates(np.random.default_rng(order + p), n, jitter=0.4)
    st = coordinate_stencil(order, jnp.asarray(x), jnp.float64, offsets=tuple(range(-p, p + 1)), left=p,
                            left_width=width, right=p, right_width=width)
    assert not constant_weights(st) and st.scale is None and st.offsets == tuple(range(-p, p + 1))
    interior = np.stack([np.asarray(w) for w in st.weights], axis=1)  # (points, offsets)
    assert interior.shape == (n - 2 * p, 2 * p + 1)
    for i in range(p, n - p):
        want = _moment_weights(order, x[i - p : i + p + 1] - x[i])
        np.testing.assert_allclose(interior[i - p], want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    for r in range(p):
        want = _moment_weights(order, x[:width] - x[r])
        np.testing.assert_allclose([np.asarray(w)[r] for w in st.left_weights], want, rtol=1e-9)
        i = n - p + r
        want = _moment_weights(order, x[n - width :] - x[i])
        np.testing.assert_allclose([np.asarray(w)[r] for w in st.right_weights], want, rtol=1e-9)


def test_periodic_stencils(x64):
    st = periodic_uniform_stencil(2, 0.5, jnp.float64, offsets=(-2, -1, 0, 1, 2))
    assert st.periodic and st.offsets == (-2, -1, 0, 1, 2)
    np.testing.assert_allclose(st.weights, jaxgrad.stencil(2, range(-2, 3)), rtol=1e-15)
    # Coordinates: the points past the ends are the other end's, one period away.
    n, period = 9, 12.0
    x = np.sort(np.random.default_rng(3).uniform(0.0, period, n))
    st = periodic_coordinate_stencil(1, jnp.asarray(x), period, jnp.float64, offsets=(-1, 0, 1))
    extended = np.concatenate([x[-1:] - period, x, x[:1] + period])
    for i in range(n):
        want = _moment_weights(1, extended[i : i + 3] - x[i])
        np.testing.assert_allclose([np.asarray(w)[i] for w in st.weights], want, rtol=1e-10)


def _dense(st, n):
    """The plan's matrix, by applying it to the identity: column j is the plan applied to e_j."""
    return np.asarray(jax.jit(lambda e: apply_stencil(e, 0, st))(jnp.eye(n, dtype=jnp.float64)))  # one compile


def _from_entries(st, n):
    values, indices = matrix_entries(st, n)
    assert indices.shape == (values.shape[0], 2) and indices.min() >= 0 and indices.max() < n
    out = np.zeros((n, n))
    np.add.at(out, (indices[:, 0], indices[:, 1]), np.asarray(values))
    return out


def _plans(n):
    rng = np.random.default_rng(n)
    x = jnp.asarray(uneven_coordinates(rng, n, jitter=0.4))
    f64 = jnp.float64
    central = lambda order, p, width, spacing: (uniform_stencil if jnp.ndim(spacing) == 0 else coordinate_stencil)(
        order, spacing, f64, offsets=tuple(range(-p, p + 1)), left=p, left_width=width, right=p, right_width=width)
    return {  # built on demand: coordinate weights cost a few eager operations each
        "uniform, order 1": lambda: central(1, 1, 3, 0.5),
        "uniform, order 2, wide edges": lambda: central(2, 2, 6, 0.5),
        "coordinates, order 1": lambda: central(1, 1, 3, x),
        "coordinates, order 3": lambda: central(3, 2, 5, x),
        "periodic uniform": lambda: periodic_uniform_stencil(2, 0.5, f64, offsets=(-2, -1, 0, 1, 2)),
        "periodic coordinates": lambda: periodic_coordinate_stencil(1, x, float(x[-1] - x[0]) + 1.0, f64, offsets=(-2, -1, 0, 1, 2)),
        "forward (empty right window)": lambda: forward_stencil(0.5, f64, order=2),
        "forward, coordinates": lambda: forward_stencil(x, f64, order=1),
        "normal": lambda: normal_stencil(3, 0.5, f64),
    }


PLANS = ["uniform, order 1", "uniform, order 2, wide edges", "coordinates, order 1", "coordinates, order 3", "periodic uniform",
         "periodic coordinates", "forward (empty right window)", "forward, coordinates", "normal"]


@pytest.mark.parametrize("name", PLANS)
def test_matrix_entries_are_the_dense_matrix_of_the_plan(x64, name):
    n = 13
    st = _plans(n)[name]()
    np.testing.assert_allclose(_from_entries(st, n), _dense(st, n), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normal_stencil_is_the_normal_matrix_of_the_forward_difference(x64, order):
    h = 0.5
    for n in (4 * order + 2, 4 * order + 7):  # the smallest length with interior rows, and a longer one
        D = _dense(forward_stencil(h, jnp.float64, order=order), n)
        # D: the unit-step forward difference over h ** order, zero in its last `order` rows.
        w = jaxgrad.stencil(order, range(order + 1)) / h**order
        for i in range(n - order):
            np.testing.assert_allclose(D[i, i : i + order + 1], w, rtol=1e-14)
        np.testing.assert_array_equal(D[n - order :], 0.0)
        np.testing.assert_allclose(_dense(normal_stencil(order, h, jnp.float64), n), D.T @ D, rtol=1e-12, atol=1e-9)


def test_stencil_tuple_defaults():
    st = Stencil((-1, 1), (-0.5, 0.5))
    assert (st.left, st.right, st.left_weights, st.right_weights, st.periodic, st.scale) == (0, 0, (), (), False, None)
    assert constant_weights(st) and not constant_weights(st._replace(weights=(np.ones(3), 0.5)))
