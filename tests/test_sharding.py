"""Sharded arrays on 8 virtual CPU devices, in a separate process (the device count is fixed when
JAX starts): the tests in tests/sharded/, run by pytest there, each on its own."""

import os
import subprocess
import sys
from pathlib import Path


def test_sharded_arrays_match_one_device_and_keep_their_sharding():
    here = Path(__file__).parent
    env = dict(os.environ, JAXGRAD_SHARDED="1", JAX_PLATFORMS="cpu")
    env.pop("PYTEST_ADDOPTS", None)
    # -n 0: one process (the suite's other workers keep the cores busy meanwhile)
    command = [sys.executable, "-m", "pytest", str(here / "sharded"), "-q", "-rfE", "-p", "no:cacheprovider", "-n", "0"]
    run = subprocess.run(command, cwd=here.parent, capture_output=True, text=True, env=env, timeout=900)
    summary = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"the sharded tests failed (exit {run.returncode}):\n{summary}"
    assert " passed" in run.stdout and " failed" not in run.stdout, summary


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
