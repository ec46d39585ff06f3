"""pytest configuration for the whole checkout (tests/ and the doctests of jaxgrad/).

The doctests of an optional module run only where its extra is installed: without xarray,
``jaxgrad/xarray.py`` (which needs it to import) is not collected.
"""

import importlib.util


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


collect_ignore = [] if _installed("xarray") else ["jaxgrad/xarray.py"]
