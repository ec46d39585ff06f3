"""mkdocs hook: serve MathJax from the site itself, so formulas render without network access.

MathJax comes from a Python package, ``django-static-mathjax`` (in the ``docs`` extra), which holds
the unmodified MathJax 3 distribution; its module ``mathjax`` has no code and does not need Django.
This hook adds one self-contained bundle of it to the site (TeX input, SVG output, every TeX
extension built in, so nothing is loaded later), next to ``javascripts/mathjax-config.js``.
Nothing is committed to the repository and nothing is fetched when the site is built or viewed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

BUNDLE = "es5/tex-svg-full.js"  # inside the package's static/mathjax/ folder
SITE_PATH = "javascripts/mathjax/tex-svg-full.js"  # where mkdocs.yml's extra_javascript expects it


def _bundle() -> Path:
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "static" / "mathjax" / BUNDLE
        if path.is_file():
            return path
    raise PluginError(
        f"MathJax's {BUNDLE} was not found: install the docs dependencies with "
        '`pip install -e ".[docs]"` (they include django-static-mathjax)'
    )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, SITE_PATH, abs_src_path=str(_bundle())))
    return files
