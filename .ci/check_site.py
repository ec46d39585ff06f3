"""Checks that a built docs site works offline: no page loads anything from the network.

Usage: python .ci/check_site.py SITE_DIR

Every <script src>, <link href> (stylesheets, icons, preconnects), <img src>, <iframe src> and
<source src> in the site's HTML pages must be a relative or site-absolute path, never an http(s)
or protocol-relative URL, and every local script must exist in the site (the MathJax bundle that
docs/hooks/offline_mathjax.py adds, among others). Plain links (<a href>) may point anywhere.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOADED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = LOADED.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.found.append((tag, value))


def problems(site: Path) -> list[str]:
    found = []
    pages = sorted(site.rglob("*.html"))
    if not pages:
        return [f"no HTML pages under {site}"]
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, url in parser.found:
            parts = urlsplit(url)
            where = f"{page.relative_to(site)}: <{tag}> {url}"
            if parts.scheme in ("http", "https") or url.startswith("//"):
                found.append(f"{where} is loaded from the network")
            elif tag == "script" and not parts.scheme:
                path = unquote(parts.path)
                target = site / path.lstrip("/") if path.startswith("/") else page.parent / path
                if not target.resolve().is_file():
                    found.append(f"{where} is not in the site")
    return found


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    site = Path(sys.argv[1])
    found = problems(site)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"check_site: {len(found)} problem(s) in {site}", file=sys.stderr)
        return 1
    print(f"check_site: {site} loads nothing from the network; every script is in the site")
    return 0


if __name__ == "__main__":
    sys.exit(main())
