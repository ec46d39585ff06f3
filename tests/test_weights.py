"""jaxgrad.stencil and the Fornberg weights behind every scheme."""

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from jaxgrad._weights import exact_weights, fornberg, fornberg_loop, lagrange, short_weights


@pytest.mark.parametrize(
    "order, offsets, expected",
    [
        (1, [-1, 0, 1], [-0.5, 0.0, 0.5]),
        (2, [-1, 0, 1], [1.0, -2.0, 1.0]),
        (1, [0, 1, 2], [-1.5, 2.0, -0.5]),
        (1, [-2, -1, 0, 1, 2], [1 / 12, -2 / 3, 0.0, 2 / 3, -1 / 12]),
        (4, [-2, -1, 0, 1, 2], [1.0, -4.0, 6.0, -4.0, 1.0]),
        (0, [0, 1], [1.0, 0.0]),
    ],
)
def test_textbook_stencils(order, offsets, expected):
    np.testing.assert_allclose(jaxgrad.stencil(order, offsets), expected, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_exact_for_polynomials_below_the_node_count(order):
    offsets = (-3, -1, 0, 2, 5, 6, 8)
    w = exact_weights(order, offsets)
    assert all(isinstance(v, Fraction) for v in w)
    for degree in range(len(offsets)):
        # d^order/dx^order of x^degree at 0 is order! when degree == order, else 0.
        value = sum(wj * Fraction(o) ** degree for wj, o in zip(w, offsets))
        assert value == (math.factorial(order) if degree == order else 0)


@pytest.mark.parametrize("form", ["unrolled", "lagrange", "loop"])
def test_traced_fornberg_matches_exact_weights_and_is_differentiable(form):
    unrolled = {"unrolled": fornberg, "lagrange": lagrange}.get(form)
    weights = (lambda o, n: jnp.stack(unrolled(o, list(n)))) if unrolled else fornberg_loop
    with jax.enable_x64(True):
        offsets = (-2, -1, 0, 1, 3, 4)
        nodes = jnp.asarray(np.array(offsets, float)[:, None] * np.array([[1.0, 0.5]]))
        w = weights(2, nodes)
        exact = np.array([float(v) for v in exact_weights(2, offsets)])
        np.testing.assert_allclose(w[:, 0], exact, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(w[:, 1], exact / 0.25, rtol=1e-12, atol=1e-12)
        # Weights scale as h**-order, so d w / d h at h = 1 is -order * w.
        dw = jax.grad(lambda h: weights(2, nodes[:, :1] * h)[0, 0])(1.0)
        np.testing.assert_allclose(dw, -2 * exact[0], rtol=1e-10)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
def test_lagrange_form_matches_exact_weights_on_uneven_nodes(order):
    # Every width up to the unrolled limit and beyond, nodes at uneven gaps on both sides of 0.
    rng = np.random.default_rng(order)
    for m in range(order + 1, order + 10):
        nodes = [Fraction(int(v)) - 2 for v in np.cumsum(rng.integers(1, 4, m))]
        exact = np.array([float(v) for v in exact_weights(order, tuple(nodes))])
        got = np.array(lagrange(order, [np.float64(v) for v in nodes]))
        np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-12 * np.abs(exact).max())
        assert lagrange(order, nodes) == list(exact_weights(order, tuple(nodes)))  # exact in Fractions


def test_short_closed_forms_match_the_recursion():
    with jax.enable_x64(True):
        nodes = [jnp.array([-0.7, -1.0]), jnp.array([0.0, 0.0]), jnp.array([1.3, 0.4])]
        for order in (1, 2):
            np.testing.assert_allclose(short_weights(order, nodes), fornberg(order, nodes), rtol=1e-13)
        np.testing.assert_allclose(short_weights(1, nodes[1:]), fornberg(1, nodes[1:]), rtol=1e-13)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((1, [0, 0, 1]), ValueError, "distinct"),
        ((2, [0, 1]), ValueError, "at least 3 offsets"),
        ((-1, [0, 1]), ValueError, "order must be >= 0"),
        ((1.5, [0, 1]), TypeError, "order must be an int"),
        ((1, [0.5, 1.0]), TypeError, "1-D sequence of integers"),
        ((1, [[0, 1]]), TypeError, "1-D sequence of integers"),
    ],
)
def test_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        jaxgrad.stencil(*args)
