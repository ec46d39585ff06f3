"""pytest configuration for the whole checkout (tests/ and the doctests of jaxgrad/).

The doctests of an optional module run only where its extra is installed: without xarray,
``jaxgrad/xarray.py`` (which needs it to import) is not collected.
"""

import importlib.util
import os

# The tests check values, not speed: with XLA:CPU's LLVM optimizations off their compile times,
# most of the suite's time, halve. The benchmarks measure with the default flags. Set before any
# JAX backend starts (the sharded subprocess inherits it).
_FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
if _FAST_COMPILE not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FAST_COMPILE).strip()


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


collect_ignore = [] if _installed("xarray") else ["jaxgrad/xarray.py"]
