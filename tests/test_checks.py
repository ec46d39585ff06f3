"""check_spacing (jaxgrad/_checks.py): checks of traced spacing in the data flow, reported by
checkify; concrete spacing raises at once."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import jaxgrad


def _checked(fn):
    return jax.jit(checkify.checkify(fn, errors=checkify.user_checks))


def test_traced_coordinates_and_steps_are_checked_under_checkify():
    f = jnp.arange(5.0) ** 2
    g = jnp.stack([f, f], axis=1)
    fn = lambda g, x, h: jaxgrad.gradient(g, jaxgrad.check_spacing(x), jaxgrad.check_spacing(h))
    bad, good = jnp.array([0.0, 1.0, 1.0, 2.0, 3.0]), jnp.arange(5.0)
    err, _ = _checked(fn)(g, bad, 1.0)
    with pytest.raises(checkify.JaxRuntimeError, match="coordinates must be distinct"):
        err.throw()
    err, _ = _checked(fn)(g, good, 0.0)
    with pytest.raises(checkify.JaxRuntimeError, match="spacing must be finite and nonzero"):
        err.throw()
    err, _ = _checked(fn)(g, good.at[2].set(jnp.nan), 1.0)
    with pytest.raises(checkify.JaxRuntimeError, match="coordinates must be finite"):
        err.throw()
    err, out = _checked(fn)(g, good, 1.0)
    err.throw()
    np.testing.assert_allclose(out[0][:, 0], np.gradient(np.arange(5.0) ** 2))
    # Without checkify the checks cost nothing and change nothing.
    assert jax.jit(fn)(g, bad, 1.0)[0].shape == (5, 2)


def test_monotone_and_period_are_checked():
    fn = lambda x: jaxgrad.derivative(jnp.sin(x), jaxgrad.check_spacing(x, monotone=True))
    err, _ = _checked(fn)(jnp.array([0.0, 2.0, 1.0, 3.0, 4.0]))
    with pytest.raises(checkify.JaxRuntimeError, match="strictly monotone"):
        err.throw()
    _checked(fn)(jnp.arange(5.0))[0].throw()
    periodic = lambda x, L: jaxgrad.check_spacing(x, monotone=True, period=L)
    _checked(periodic)(jnp.arange(4.0), 4.0)[0].throw()
    err, _ = _checked(periodic)(jnp.arange(4.0), 3.0)  # wrap-around step x[0] + 3 - x[-1] = 0
    with pytest.raises(checkify.JaxRuntimeError, match="strictly monotone"):
        err.throw()


def test_concrete_spacing_raises_at_once_and_passes_through_unchanged():
    x = np.array([0.0, 1.0, 3.0])
    assert jaxgrad.check_spacing(x) is x
    assert jaxgrad.check_spacing(0.5) == 0.5
    with pytest.raises(ValueError, match="distinct"):
        jaxgrad.check_spacing([0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="finite and nonzero"):
        jaxgrad.check_spacing(0.0)
    with pytest.raises(ValueError, match="strictly monotone"):
        jaxgrad.check_spacing([0.0, 2.0, 1.0], monotone=True)
    with pytest.raises(ValueError, match="1-D coordinate array"):
        jaxgrad.check_spacing(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="monotone must be True or False"):
        jaxgrad.check_spacing(x, monotone="yes")


def test_removed_context_managers_say_what_to_use():
    with pytest.raises(AttributeError, match="check_spacing"):
        jaxgrad.runtime_checks  # noqa: B018
    with pytest.raises(AttributeError, match="halo="):
        jaxgrad.halo_exchange  # noqa: B018
