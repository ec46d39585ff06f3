"""jaxgrad.gradient against numpy.gradient: every argument form, dtypes, errors, transforms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads

import jaxgrad
from conftest import uneven_coordinates
from jaxgrad._gradient import _gradient  # the kernel, to count its traces

# 20 random calls per property, not 60: each is a new program to compile (tenths of a second), and
# every run draws new ones.
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def gradient_cases(draw):
    """A random numpy.gradient call: data, spacing arguments, axis and edge order."""
    edge_order = draw(st.sampled_from([1, 2]))
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(edge_order + 1, 7 if ndim < 3 else 4), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    f = rng.standard_normal(shape)
    axis_form = draw(st.sampled_from(["none", "int", "tuple"]))
    if axis_form == "none":
        axis, axes = None, tuple(range(ndim))
    elif axis_form == "int":
        a = draw(st.integers(-ndim, ndim - 1))
        axis, axes = a, (a % ndim,)
    else:
        picked = draw(st.permutations(range(ndim)))[: draw(st.integers(1, ndim))]
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in picked)
        axes = tuple(a % ndim for a in axis)
    form = draw(st.sampled_from(["unit", "scalar", "per-axis"]))
    if form == "unit":
        varargs = ()
    elif form == "scalar":
        varargs = (float(rng.uniform(0.1, 3.0) * rng.choice([-1, 1])),)
    else:
        varargs = []
        for a in axes:
            kind = draw(st.sampled_from(["scalar", "uneven", "decreasing", "even-coords"]))
            if kind == "scalar":
                varargs.append(float(rng.uniform(0.1, 3.0)))
            elif kind == "even-coords":
                varargs.append(np.arange(shape[a]) * 0.5 - 1.0)
            else:
                varargs.append(uneven_coordinates(rng, shape[a], decreasing=kind == "decreasing"))
        varargs = tuple(varargs)
    return f, varargs, axis, edge_order


def _assert_matches(ours, ref, rtol, atol_scale):
    if isinstance(ref, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(ref)
    else:
        assert not isinstance(ours, tuple)
        ours, ref = (ours,), (ref,)
    for o, r in zip(ours, ref):
        assert o.shape == r.shape
        np.testing.assert_allclose(np.asarray(o), r, rtol=rtol, atol=atol_scale * (1 + np.abs(r).max()))


@SETTINGS
@given(gradient_cases())
def test_matches_numpy_x64(case):
    f, varargs, axis, edge_order = case
    with jax.enable_x64(True):
        ours = jaxgrad.gradient(f, *varargs, axis=axis, edge_order=edge_order)
        assert all(o.dtype == jnp.float64 for o in (ours if isinstance(ours, tuple) else (ours,)))
    _assert_matches(ours, np.gradient(f, *varargs, axis=axis, edge_order=edge_order), 1e-12, 1e-12)


@SETTINGS
@given(gradient_cases())
def test_matches_numpy_inside_jit_with_traced_coordinates(case):
    f, varargs, axis, edge_order = case
    with jax.enable_x64(True):
        fn = jax.jit(lambda f, *v: jaxgrad.gradient(f, *v, axis=axis, edge_order=edge_order))
        ours = fn(f, *[jnp.asarray(v) for v in varargs])
    _assert_matches(ours, np.gradient(f, *varargs, axis=axis, edge_order=edge_order), 1e-12, 1e-12)


@SETTINGS
@given(gradient_cases())
def test_matches_numpy_float32(case):
    f, varargs, axis, edge_order = case
    f32 = f.astype(np.float32)
    ours = jaxgrad.gradient(f32, *varargs, axis=axis, edge_order=edge_order)
    for o in ours if isinstance(ours, tuple) else (ours,):
        assert o.dtype == jnp.float32
    _assert_matches(ours, np.gradient(f, *varargs, axis=axis, edge_order=edge_order), 2e-5, 2e-5)


# numpy.gradient's own documented examples.
F = np.array([1, 2, 4, 7, 11, 16], dtype=float)
F2 = np.array([[1, 2, 6], [3, 4, 5]], dtype=float)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((F,), {}),
        ((F, 2), {}),
        ((F, np.arange(F.size)), {}),
        ((F, np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])), {}),
        ((F2,), {}),
        ((F2, 2.0, np.array([1.0, 1.5, 3.5])), {}),
        ((np.arange(5.0) ** 2,), {"edge_order": 1}),
        ((np.arange(5.0) ** 2,), {"edge_order": 2}),
        ((F2,), {"axis": 0}),
        ((F2,), {"axis": (1, 0)}),
        ((np.outer(F[:3], F[:4]), 3.0, 2.0), {"axis": (-1, 0), "edge_order": 2}),
    ],
)
def test_numpy_documented_examples(x64, args, kwargs):
    ref = np.gradient(*args, **kwargs)
    _assert_matches(jaxgrad.gradient(*args, **kwargs), ref if isinstance(ref, np.ndarray) else tuple(ref), 1e-14, 1e-14)


def test_seed_example_from_the_readme():
    np.testing.assert_array_equal(jaxgrad.gradient(F), [1, 1.5, 2.5, 3.5, 4.5, 5])


def test_returns_numpy_types():
    assert isinstance(jaxgrad.gradient(F2), tuple)
    assert isinstance(jaxgrad.gradient(F2, axis=1), jax.Array)
    assert isinstance(jaxgrad.gradient(F2, axis=(1,)), jax.Array)
    for scalar in (np.array(3.0), np.float32(3), jnp.float32(3), 3.0):  # numpy: an empty tuple
        assert jaxgrad.gradient(scalar) == ()
        assert jaxgrad.gradient(scalar) == ()  # the fast path too


# dtypes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_low_precision_computes_in_float32_and_rounds_once(dtype):
    rng = np.random.default_rng(0)
    f = jnp.asarray(rng.standard_normal((6, 7)), dtype)
    x = uneven_coordinates(rng, 7)
    out = jaxgrad.gradient(f, 0.3, x, edge_order=2)
    ref = jaxgrad.gradient(f.astype(jnp.float32), 0.3, x, edge_order=2)
    for o, r in zip(out, ref):
        assert o.dtype == dtype
        np.testing.assert_array_equal(np.asarray(o, np.float32), np.asarray(r.astype(dtype), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_float_and_complex_dtypes_are_kept(x64, dtype):
    rng = np.random.default_rng(1)
    f = (rng.standard_normal((5, 4)) + (1j * rng.standard_normal((5, 4)) if np.iscomplexobj(dtype(0)) else 0)).astype(dtype)
    x = uneven_coordinates(rng, 4)
    out = jaxgrad.gradient(f, 0.5, x)
    ref = np.gradient(f.astype(np.complex128 if np.iscomplexobj(f) else np.float64), 0.5, x)
    tol = 1e-5 if dtype in (np.float32, np.complex64) else 1e-13
    for o, r in zip(out, ref):
        assert o.dtype == dtype
        np.testing.assert_allclose(np.asarray(o), r, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_integer_and_bool_data_become_default_float(dtype):
    f = np.array([0, 1, 1, 0, 1, 1], dtype=dtype)
    out = jaxgrad.gradient(f)
    assert out.dtype == jnp.result_type(float)
    np.testing.assert_allclose(out, np.gradient(f.astype(float)))


def test_integer_coordinates_are_converted_before_subtraction(x64):
    f = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    for x in [np.array([5, 4, 3, 2, 1, 0], np.uint8), np.array([0, 2**40, 2**41, 3 * 2**40, 2**42, 2**43], np.int64)]:
        np.testing.assert_allclose(jaxgrad.gradient(f, x, edge_order=2), np.gradient(f, x, edge_order=2), rtol=1e-12)
        traced = jax.jit(lambda f, x: jaxgrad.gradient(f, x, edge_order=2))(f, x)
        np.testing.assert_allclose(traced, np.gradient(f, x, edge_order=2), rtol=1e-12)


def test_int64_data_beyond_int32_without_x64():
    f = np.array([0, 2**40, 2**41], dtype=np.int64)
    np.testing.assert_allclose(jaxgrad.gradient(f), np.gradient(f.astype(float)), rtol=1e-6)


# errors -------------------------------------------------------------------------------------

G = np.zeros((5, 4))


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((G, 1.0, 2.0, 3.0), {}, TypeError, "invalid number of spacing arguments"),
        ((G, np.arange(5.0)), {}, TypeError, "invalid number of spacing arguments"),
        ((G, np.arange(5.0), np.arange(5.0)), {}, ValueError, "axis 1 has length 5, but f.shape\\[1\\] is 4"),
        ((G, np.zeros((5, 2)), 1.0), {}, ValueError, "scalar or a 1-D coordinate array"),
        ((G, "a"), {}, TypeError, "must be a number or a 1-D coordinate array"),
        ((G, None, 1.0), {}, TypeError, "must be a number"),
        ((G, 1 + 2j), {}, TypeError, "real number"),
        ((G, True), {}, TypeError, "real number"),
        ((G, 0.0), {}, ValueError, "finite and nonzero"),
        ((G, np.inf), {}, ValueError, "finite and nonzero"),
        ((G, np.array([0.0, 1, 1, 2, 3]), 1.0), {}, ValueError, "repeats the value 1.0"),
        ((G, np.array([0.0, 1, np.nan, 2, 3]), 1.0), {}, ValueError, "NaN or inf"),
        ((G, np.arange(5) * 1j, 1.0), {}, TypeError, "real numbers"),
        ((G,), {"axis": 2}, np.exceptions.AxisError, "axis 2 is out of bounds"),
        ((G,), {"axis": -3}, np.exceptions.AxisError, "out of bounds"),
        ((G,), {"axis": (0, -2)}, ValueError, "repeated axis"),
        ((G,), {"axis": 1.5}, TypeError, "axis must be an int"),
        ((G,), {"edge_order": 3}, ValueError, "edge_order must be 1 or 2"),
        ((G,), {"edge_order": 0}, ValueError, "edge_order must be >= 1"),
        ((G,), {"edge_order": 1.0}, TypeError, "edge_order must be an int"),
        ((np.zeros((1, 4)),), {}, ValueError, "f.shape\\[0\\] is 1, too small"),
        ((np.zeros((2, 4)),), {"edge_order": 2}, ValueError, "at least edge_order \\+ 1 = 3 points"),
        ((np.zeros(0),), {}, ValueError, "too small"),
        ((jnp.float32(3),), {"axis": 0}, np.exceptions.AxisError, "out of bounds"),
        ((G,), {"halo": "yes"}, TypeError, "halo must be True, False or a jax.sharding.NamedSharding"),
        (("abc",), {}, TypeError, "f must be an array of numbers"),
        (([[1.0, 2.0], [3.0]],), {}, ValueError, "rectangular"),
        ((np.array(["a", "b"]),), {}, TypeError, "must hold numbers"),
    ],
)
def test_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        jaxgrad.gradient(*args, **kwargs)


def test_axis_error_is_numpy_axis_error_and_value_error():
    with pytest.raises(ValueError):
        jaxgrad.gradient(G, axis=5)
    with pytest.raises(IndexError):
        jaxgrad.gradient(G, axis=5)


def test_empty_non_differentiated_axis_like_numpy():
    f = np.zeros((3, 0))
    np.testing.assert_array_equal(jaxgrad.gradient(f, axis=0), np.gradient(f, axis=0))


def test_accepts_lists_like_numpy():
    np.testing.assert_allclose(jaxgrad.gradient([1, 2, 4, 7], [0, 1, 3, 4]), np.gradient([1, 2, 4, 7], [0, 1, 3, 4]),
                               rtol=1e-6)  # float32 against float64


# transforms -------------------------------------------------------------------------------


def test_check_grads_wrt_values_coordinates_and_scalar_spacing(x64):
    rng = np.random.default_rng(2)
    f = jnp.asarray(rng.standard_normal((4, 3)))
    x = jnp.asarray(uneven_coordinates(rng, 4))
    for edge_order, order in ((1, 1), (2, 2)):
        # Jitted: eagerly every operation of the checks' transformations compiles on its own.
        fn = jax.jit(lambda f, x, h, e=edge_order: jaxgrad.gradient(f, x, h, edge_order=e))
        check_grads(fn, (f, x, 0.7), order=order, modes=("fwd", "rev"))


def test_hessian_and_jacrev_through_the_operator(x64):
    x = jnp.linspace(0.0, 1.0, 7) ** 1.5 + jnp.arange(7.0)
    f = jnp.sin(x)
    energy = lambda x: jnp.sum(jaxgrad.gradient(f, x, edge_order=2) ** 2)
    # Under jit: eagerly, every operation of the transformations compiles on its own.
    H = jax.jit(jax.hessian(energy))(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-10)
    both = jax.jit(lambda f: (jax.jacfwd(lambda f: jaxgrad.gradient(f, x))(f), jax.jacrev(lambda f: jaxgrad.gradient(f, x))(f)))
    np.testing.assert_allclose(*both(f), atol=1e-12)


def test_jacobian_wrt_values_is_the_numpy_operator(x64):
    x = np.array([0.0, 0.4, 1.0, 1.3, 2.0])
    J = jax.jacfwd(lambda f: jaxgrad.gradient(f, x, edge_order=2))(jnp.zeros(5))
    np.testing.assert_allclose(J, np.stack([np.gradient(e, x, edge_order=2) for e in np.eye(5)], axis=1), atol=1e-13)


def test_vmap_over_signals_and_coordinates_equals_a_loop(x64):
    rng = np.random.default_rng(3)
    fs = rng.standard_normal((4, 9))
    xs = np.stack([uneven_coordinates(rng, 9) for _ in range(4)])
    batched = jax.vmap(lambda f, x: jaxgrad.gradient(f, x, edge_order=2))(fs, xs)
    np.testing.assert_allclose(batched, np.stack([np.gradient(f, x, edge_order=2) for f, x in zip(fs, xs)]), atol=1e-12)
    shared = jax.vmap(lambda f: jaxgrad.gradient(f, xs[0]))(fs)
    np.testing.assert_allclose(shared, np.stack([np.gradient(f, xs[0]) for f in fs]), atol=1e-12)


def test_new_coordinate_values_and_steps_do_not_recompile():
    rng = np.random.default_rng(4)
    f = rng.standard_normal((8, 6)).astype(np.float32)
    jaxgrad.gradient(f, uneven_coordinates(rng, 8), 0.5)
    size = _gradient.cache_size()
    for _ in range(3):
        jaxgrad.gradient(f, uneven_coordinates(rng, 8), float(rng.uniform(0.1, 1)))
        jaxgrad.gradient(rng.standard_normal((8, 6)).astype(np.float32), uneven_coordinates(rng, 8), 2.0)
    assert _gradient.cache_size() == size


def test_nan_stays_local():
    f = np.arange(10.0) ** 2
    f[5] = np.nan
    for edge_order in (1, 2):
        out = np.asarray(jaxgrad.gradient(f, edge_order=edge_order))
        np.testing.assert_array_equal(np.isnan(out), np.isnan(np.gradient(f, edge_order=edge_order)))


def test_concrete_jax_coordinates_closed_over_inside_jit():
    # A JAX array captured by a user's jit is concrete: checked now, not traced (once a crash).
    x = jnp.cumsum(jnp.linspace(0.5, 1.5, 12))
    f = jnp.sin(x)
    want = np.gradient(np.asarray(f), np.asarray(x))
    np.testing.assert_allclose(jax.jit(lambda f: jaxgrad.gradient(f, x))(f), want, rtol=1e-5)
    np.testing.assert_allclose(jax.jit(lambda f: jaxgrad.derivative(f, x))(f), np.gradient(np.asarray(f), np.asarray(x), edge_order=2), rtol=1e-5)
    assert jax.jit(lambda f: jaxgrad.laplacian(f, x))(f).shape == f.shape
    period = float(x[-1] - x[0]) + 1.0
    periodic = jax.jit(lambda f: jaxgrad.derivative(f, x, boundary="periodic", period=period))(f)
    np.testing.assert_allclose(periodic, jaxgrad.derivative(f, np.asarray(x), boundary="periodic", period=period), rtol=1e-5)
    repeated = x.at[3].set(x[2])
    with pytest.raises(ValueError, match="repeats the value"):
        jax.jit(lambda f: jaxgrad.gradient(f, repeated))(f)
