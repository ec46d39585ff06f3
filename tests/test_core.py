"""jaxgrad/_core.py: stencil widths and point counts, the dtype rules, and the plans it builds."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from jaxgrad._core import (
    add_all,
    axis_stencil,
    forward_stencil,
    half_width,
    min_points,
    real_dtype,
    scheme_stencil,
    to_output,
    to_working,
    working_dtype,
)


@pytest.mark.parametrize(
    "order, accuracy, uniform, p",
    [
        (1, 2, True, 1), (2, 2, True, 1), (3, 2, True, 2), (4, 2, True, 2), (1, 4, True, 2), (2, 6, True, 3),
        # Coordinates: even orders get no free order of accuracy from symmetry, so one more point a side.
        (1, 2, False, 1), (2, 2, False, 2), (3, 2, False, 2), (2, 4, False, 3), (1, 8, False, 4),
    ],
)
def test_half_width(order, accuracy, uniform, p):
    assert half_width(order, accuracy, uniform) == p


@pytest.mark.parametrize("order, accuracy", [(1, 2), (2, 4), (3, 2)])
@pytest.mark.parametrize("uniform", [True, False], ids=["step", "coordinates"])
@pytest.mark.parametrize("periodic", [False, True], ids=["one-sided", "periodic"])
def test_min_points_is_the_fewest_points_derivative_takes(order, accuracy, uniform, periodic):
    p = half_width(order, accuracy, uniform)
    need = min_points(order, accuracy, uniform, "periodic" if periodic else "one-sided")
    assert need == (2 * p + 1 if periodic else max(2 * p, order + accuracy))

    def call(n):
        x = np.cumsum(np.linspace(1.0, 1.5, n))  # uneven, so not reduced to a step
        spacing = 0.5 if uniform else x
        period = float(x[-1] - x[0]) + 2.0 if periodic and not uniform else None
        boundary = "periodic" if periodic else "one-sided"
        return jaxgrad.derivative(np.ones(n), spacing, order=order, accuracy=accuracy, boundary=boundary, period=period)

    assert call(need).shape == (need,)
    with pytest.raises(ValueError, match=f"at least {need} points are required"):
        call(need - 1)


@pytest.mark.parametrize(
    "dtype, working, real",
    [
        (jnp.float16, jnp.float32, jnp.float16),
        (jnp.bfloat16, jnp.float32, jnp.bfloat16),
        (jnp.float32, jnp.float32, jnp.float32),
        (jnp.float64, jnp.float64, jnp.float64),
        (jnp.complex64, jnp.complex64, jnp.float32),
        (jnp.complex128, jnp.complex128, jnp.float64),
    ],
)
def test_dtype_rules(x64, dtype, working, real):
    assert working_dtype(dtype) == jnp.dtype(working)
    assert real_dtype(dtype) == jnp.dtype(real)
    f = jnp.ones(3, dtype)
    assert to_working(f).dtype == jnp.dtype(working)
    assert to_output(to_working(f), dtype).dtype == jnp.dtype(dtype)


def test_axis_stencil_shapes(x64):
    f64 = jnp.float64
    st = axis_stencil(0.5, f64, 10, order=1, offsets=(-1, 0, 1), edge_width=2)  # gradient, edge_order=1
    assert st.offsets == (-1, 1) and (st.left, st.right) == (1, 1) and not st.periodic
    assert st.left_weights == (-1.0, 1.0) and st.right_weights == (-1.0, 1.0)
    x = jnp.asarray(np.cumsum(np.linspace(1.0, 2.0, 10)))
    st = axis_stencil(x, f64, 10, order=1, offsets=(-1, 0, 1), edge_width=3)  # gradient on coordinates, edge_order=2
    assert st.offsets == (-1, 0, 1) and [w.shape for w in st.weights] == [(8,)] * 3 and st.scale is None
    assert [w.shape for w in st.left_weights] == [(1,)] * 3 and [w.shape for w in st.right_weights] == [(1,)] * 3
    assert all(w.dtype == f64 for w in st.weights)
    st = axis_stencil(x, f64, 10, order=2, offsets=(-2, -1, 0, 1, 2), edge_width=5, boundary="periodic", period=20.0)
    assert st.periodic and st.offsets == (-2, -1, 0, 1, 2) and [w.shape for w in st.weights] == [(10,)] * 5


def test_scheme_stencil_shapes(x64):
    x = jnp.asarray(np.cumsum(np.linspace(1.0, 2.0, 12)))
    for spacing in (0.5, x):
        uniform = jnp.ndim(spacing) == 0
        for order, accuracy in ((1, 2), (2, 4), (3, 2)):
            p = half_width(order, accuracy, uniform)
            st = scheme_stencil(spacing, jnp.float64, 12, order=order, accuracy=accuracy, boundary="one-sided")
            assert (st.left, st.right) == (p, p)
            assert len(st.left_weights) == len(st.right_weights) == order + accuracy  # the edge windows
            assert max(st.offsets) <= p and min(st.offsets) >= -p
            if not uniform:
                assert st.offsets == tuple(range(-p, p + 1)) and all(w.shape == (12 - 2 * p,) for w in st.weights)
            st = scheme_stencil(spacing, jnp.float64, 12, order=order, accuracy=accuracy, boundary="periodic", period=30.0)
            assert st.periodic and (st.left, st.right, st.left_weights, st.right_weights) == (0, 0, (), ())


def test_forward_stencil_shapes(x64):
    x = jnp.asarray(np.cumsum(np.linspace(1.0, 2.0, 9)))
    for order in (1, 2, 3):
        st = forward_stencil(0.5, jnp.float64, order=order)
        np.testing.assert_allclose(st.weights, jaxgrad.stencil(order, range(order + 1)), rtol=1e-15)
        assert st.offsets == tuple(range(order + 1)) and (st.left, st.right) == (0, order)
        assert st.right_weights == ()  # an empty window: the last `order` points are zero
        st = forward_stencil(x, jnp.float64, order=order)
        assert st.offsets == tuple(range(order + 1)) and [w.shape for w in st.weights] == [(9 - order,)] * (order + 1)
    # float32 data with float64 coordinates under x64: the offsets are taken in float64, the
    # weights returned in the data's dtype.
    st = forward_stencil(x, jnp.float32, order=1)
    assert all(w.dtype == jnp.float32 for w in st.weights)


def test_add_all():
    a = jnp.ones(3, jnp.float32)
    out = add_all(iter([a, 2 * a, 3 * a]))
    assert out.dtype == jnp.float32
    np.testing.assert_array_equal(out, 6.0)
