"""The fast path for repeated calls (jaxgrad/_launch.py): same results as the full path, and
never a way around validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgrad
from jaxgrad import _launch


@pytest.fixture(autouse=True)
def no_plans():
    _launch._plans.clear()
    yield
    _launch._plans.clear()


def test_repeated_calls_reuse_a_plan_and_agree():
    f = jnp.asarray(np.random.default_rng(0).standard_normal((6, 7)), jnp.float32)
    first = jaxgrad.gradient(f, 0.5, 2, edge_order=2)
    assert len(_launch._plans) == 1
    second = jaxgrad.gradient(f, 0.5, 2, edge_order=2)
    assert len(_launch._plans) == 1
    assert isinstance(second, tuple) and len(second) == 2
    for a, b, w in zip(first, second, np.gradient(np.asarray(f), 0.5, 2, edge_order=2)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(b, w, rtol=1e-5, atol=1e-5)
    d1 = jaxgrad.derivative(f, 0.3, axis=0, order=2, accuracy=4)
    d2 = jaxgrad.derivative(f[:, ::-1] * 1.0, 0.3, axis=0, order=2, accuracy=4)  # same key, new values
    np.testing.assert_allclose(d2, np.asarray(d1)[:, ::-1], rtol=1e-6)


def test_a_new_step_value_is_used_and_does_not_retrace():
    f = jnp.arange(10.0) ** 2
    jaxgrad.gradient(f, 1.0)
    jaxgrad.gradient(f, 1.0)
    size = jaxgrad._gradient._gradient.cache_size()
    for h in (0.5, 0.25, 2.0):
        np.testing.assert_allclose(jaxgrad.gradient(f, h), np.gradient(np.asarray(f), h))
        np.testing.assert_allclose(jaxgrad.gradient(f, h), np.gradient(np.asarray(f), h))
    assert jaxgrad._gradient._gradient.cache_size() == size


def test_validation_is_never_skipped():
    f = jnp.ones(5)
    jaxgrad.gradient(f, 1)
    jaxgrad.gradient(f, 1)
    with pytest.raises(TypeError, match="must be a real number"):
        jaxgrad.gradient(f, True)  # equal to 1 as a dict key, but not the same call
    for _ in range(2):  # a failing call leaves no plan behind
        with pytest.raises(ValueError, match="edge_order"):
            jaxgrad.gradient(f, 1, edge_order=3)
        with pytest.raises(ValueError, match="too small"):
            jaxgrad.derivative(jnp.ones(3), 1.0, accuracy=8)


def test_plans_follow_dtype_x64_and_checks():
    f32 = jnp.linspace(0.0, 1.0, 9, dtype=jnp.float32)
    assert jaxgrad.gradient(f32).dtype == jnp.float32
    assert jaxgrad.gradient(f32.astype(jnp.bfloat16)).dtype == jnp.bfloat16
    with jax.enable_x64(True):
        f64 = jnp.linspace(0.0, 1.0, 9, dtype=jnp.float64)
        assert jaxgrad.gradient(f64, 0.125).dtype == jnp.float64
        assert jaxgrad.gradient(f64, 0.125).dtype == jnp.float64
    assert jaxgrad.gradient(f32, 0.125).dtype == jnp.float32
    assert len({key[-1] for key in _launch._plans}) == 2  # with and without x64: two plans


def test_only_plain_concrete_calls_take_the_fast_path():
    f = jnp.arange(8.0)
    jaxgrad.gradient(np.arange(8.0))  # numpy data
    jaxgrad.gradient(f, jnp.arange(8.0) * 2)  # coordinate array
    jaxgrad.gradient(jnp.arange(8))  # integer data: converted outside the kernel
    jax.jit(jaxgrad.gradient)(f)  # traced
    assert not _launch._plans


def test_plans_are_bounded():
    f = jnp.arange(6.0)
    for i in range(_launch._MAX_PLANS + 20):
        jaxgrad.gradient(f, 1.0 + i)
    assert 0 < len(_launch._plans) <= _launch._MAX_PLANS


def test_operators_reuse_plans_and_still_validate():
    f = jnp.asarray(np.random.default_rng(1).standard_normal((12, 10)), jnp.float32)
    call = lambda: jaxgrad.laplacian(f, 0.1, 0.2, accuracy=4, boundary=("periodic", "one-sided"))
    first, second = call(), call()
    assert len(_launch._plans) == 1
    np.testing.assert_array_equal(first, second)
    h = [jaxgrad.hessian(f, 0.5, axis=(0, 1)) for _ in range(2)]
    np.testing.assert_array_equal(h[0], h[1])
    assert len(_launch._plans) == 2
    for _ in range(2):
        with pytest.raises(ValueError, match="boundary"):
            jaxgrad.laplacian(f, 0.1, 0.2, boundary=("periodic", "sideways"))


def test_vector_field_operators_reuse_plans():
    F = jnp.asarray(np.random.default_rng(2).standard_normal((3, 6, 7, 8)), jnp.float32)
    for op in (jaxgrad.divergence, jaxgrad.curl, jaxgrad.jacobian):
        full = op(list(F), 0.5, 0.25, 1.0, accuracy=4)  # a list: always the full path
        first, second = op(F, 0.5, 0.25, 1.0, accuracy=4), op(F, 0.5, 0.25, 1.0, accuracy=4)
        for a, b, c in zip(jax.tree.leaves(full), jax.tree.leaves(first), jax.tree.leaves(second)):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(c, b)
    assert len(_launch._plans) == 3
    with pytest.raises(ValueError, match="one component per spatial axis"):
        jaxgrad.divergence(F[:2], 0.5)
