"""The built website: offline (no external scripts, styles or images) and drawn in a browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

# src= of script/img/iframe/source and href= of <link> load resources; <a href> only navigates.
RESOURCE = re.compile(
    r"<(script|img|iframe|source|embed|link)\b[^>]*?\b(src|href)\s*=\s*[\"'](https?:)?//[^\"']+",
    re.IGNORECASE,
)


def external_resources(html: str) -> list[str]:
    """Tags in ``html`` that would load a script, style sheet or image from another host."""
    return [m.group(0)[:160] for m in RESOURCE.finditer(html)]


def test_scanner_catches_cdn_tags():
    page = ('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
            '<link rel="stylesheet" href="//fonts.example/x.css"><img src="http://x/y.png">'
            '<a href="https://doi.org/10.1/x">ok</a><script src="_static/vega-bundle.js"></script>')
    assert len(external_resources(page)) == 3


def test_site_loads_nothing_from_the_network(html_dir: Path):
    offenders = {}
    for page in sorted(html_dir.rglob("*.html")):
        found = external_resources(page.read_text(encoding="utf-8"))
        if found:
            offenders[str(page.relative_to(html_dir))] = found
    assert not offenders, f"external resources in the built site: {offenders}"


def test_vega_and_mathjax_are_served_locally(html_dir: Path):
    assert (html_dir / "_static" / "vega-bundle.js").stat().st_size > 100_000
    assert (html_dir / "_static" / "mathjax" / "tex-svg.js").stat().st_size > 100_000
