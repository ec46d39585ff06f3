"""jaxgrad/_halo.py on one device: the halo argument, layouts, and the one-device path. The
multi-device halo exchange is tested on 8 virtual devices in tests/sharded/."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgrad._apply import apply_stencil
from jaxgrad._core import scheme_stencil
from jaxgrad._halo import Layout, apply_along, layout_of, normalize_halo, spatial_spec


def _one_device_sharding(spec=None):
    return NamedSharding(jax.make_mesh((1,), ("i",)), P("i") if spec is None else spec)


def test_normalize_halo():
    sharding = _one_device_sharding()
    for good in (True, False, sharding):
        assert normalize_halo(good) is good
    for bad in ("yes", 1, 0, None, P("i"), np.bool_(True), jax.make_mesh((1,), ("i",))):
        with pytest.raises(TypeError, match="halo must be True, False or a jax.sharding.NamedSharding"):
            normalize_halo(bad)


def test_no_layout_on_one_device_or_with_halo_false():
    f = jnp.ones((4, 6))
    sharding = _one_device_sharding(P("i", None))
    placed = jax.device_put(f, sharding)
    for halo in (True, False, sharding):
        assert layout_of(f, halo, None, None) is None
        assert layout_of(placed, halo, None, None) is None  # a mesh of one device splits nothing
        assert layout_of(placed, halo, sharding, 2) is None
    assert layout_of(np.ones((4, 6)), True, None, None) is None
    # Inside a user's jit the field is traced: only the hint could give a layout.
    assert jax.jit(lambda f: jnp.asarray(layout_of(f, sharding, None, None) is None))(f)


def test_layout_names_and_partition():
    layout = Layout(mesh=None, spec=("i", None, ("j", "k")))  # the trailing three dimensions
    assert [layout.names(a, 4) for a in range(4)] == [(), ("i",), (), ("j", "k")]
    assert [layout.names(a, 3) for a in range(3)] == [("i",), (), ("j", "k")]
    assert layout.partition(4) == P(None, "i", None, ("j", "k"))
    assert layout.partition(3) == P("i", None, ("j", "k"))
    assert Layout(None, ()).names(0, 2) == () and Layout(None, ()).partition(2) == P(None, None)


def test_spatial_spec():
    sharding = _one_device_sharding(P("i"))
    assert spatial_spec(sharding, 3, None) == ("i", None, None)  # short specs are padded with None
    assert spatial_spec(sharding, 3, 2) == (None, None)  # a leading component axis is not spatial
    assert spatial_spec(_one_device_sharding(P(None, "i")), 3, 2) == ("i", None)


def test_apply_along_without_a_split_axis_is_apply_stencil(x64):
    f = jnp.asarray(np.random.default_rng(0).standard_normal((6, 9)))
    st = scheme_stencil(0.5, jnp.float64, 9, order=2, accuracy=4, boundary="one-sided")
    want = np.asarray(apply_stencil(f, 1, st))
    np.testing.assert_array_equal(apply_along(f, 1, st, None), want)
    # A layout that splits another axis (or none) leaves this one to apply_stencil.
    mesh = jax.make_mesh((1,), ("i",))
    np.testing.assert_array_equal(apply_along(f, 1, st, Layout(mesh, ("i", None))), want)
