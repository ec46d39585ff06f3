"""Sharded arrays on 8 virtual CPU devices, in a separate process (the device count is fixed when
JAX starts): see tests/sharded_check.py."""

import os
import subprocess
import sys
from pathlib import Path


def test_sharded_arrays_match_one_device_and_keep_their_sharding():
    script = Path(__file__).with_name("sharded_check.py")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "all sharded checks passed" in run.stdout


def test_halo_argument_on_one_device():
    import jax
    import jax.numpy as jnp
    import numpy as np
    import pytest

    import jaxgrad

    f = jnp.arange(12.0) ** 2
    want = np.gradient(np.asarray(f))
    mesh = jax.make_mesh((1,), ("i",))
    for mode in (True, False, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("i"))):
        np.testing.assert_allclose(jaxgrad.gradient(f, halo=mode), want)
        np.testing.assert_array_equal(jaxgrad.laplacian(f, halo=mode), jaxgrad.laplacian(f))
    for bad in ("yes", 1, None, jax.sharding.PartitionSpec("i")):
        with pytest.raises(TypeError, match="halo must be True, False or a jax.sharding.NamedSharding"):
            jaxgrad.gradient(f, halo=bad)
