"""The built website: offline (no external scripts, styles or images) and drawn in a browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import book_html

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


# ----------------------------------------------------------------------------------------------
# Links: every internal link resolves; external links are listed, never fetched (offline build)
# ----------------------------------------------------------------------------------------------

EXTERNAL_LINKS = Path(__file__).resolve().parent.parent / "_build" / "external-links.txt"


def test_link_checker_finds_missing_files_and_anchors(tmp_path: Path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "index.html").write_text('<a href="chapters/a.html#sec">ok</a>'
                                         '<a href="chapters/a.html#gone">bad id</a>'
                                         '<a href="https://doi.org/10.1/x">external</a>')
    (tmp_path / "chapters" / "a.html").write_text(
        '<h1 id="sec">A</h1><a href="../index.html">up</a><a href="b.html">missing</a>'
        '<a href="#sec">self</a><img src="../_static/x.png">')
    problems = book_html.broken_links(tmp_path)
    assert len(problems) == 3, problems
    assert any("'gone'" in p for p in problems)
    assert any("missing file chapters/b.html" in p for p in problems)
    assert any("missing file _static/x.png" in p for p in problems)


def test_every_internal_link_resolves(html_dir: Path):
    problems = book_html.broken_links(html_dir)
    assert not problems, "\n".join(problems)


def test_external_links_are_listed_not_fetched(html_dir: Path):
    links = book_html.external_links(html_dir)
    bibliography = book_html.bibliography_links(html_dir)
    assert bibliography, "the bibliography has no DOI/URL links"
    assert set(bibliography) <= set(links)
    lines = [f"{url}\t{'bibliography' if url in bibliography else 'text'}\t{','.join(sorted(set(pages)))}"
             for url, pages in sorted(links.items())]
    EXTERNAL_LINKS.write_text("url\tkind\tpages\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n{len(links)} external links ({len(bibliography)} in the bibliography), not fetched: "
          f"listed in {EXTERNAL_LINKS}")


# ----------------------------------------------------------------------------------------------
# Tables: column headers are words for readers, not code names
# ----------------------------------------------------------------------------------------------

CODE_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def code_named_headers(page_html: str) -> list[str]:
    """Column headers of the page's tables written as code names (``missing_item_rule``)."""
    page = BeautifulSoup(page_html, "html.parser")
    return [th.get_text(" ").strip() for th in book_html.article(page).select("table th")
            if CODE_NAME.search(th.get_text(" "))]


def test_code_name_finder():
    page = ("<article class='bd-article'><table><tr><th>missing_item_rule</th><th>below LLOQ</th>"
            "<th>IL-1β</th><th>below_lloq (n)</th></tr><tr><td>dheas_01</td></tr></table></article>")
    assert code_named_headers(page) == ["missing_item_rule", "below_lloq (n)"]


def test_table_headers_are_labels_not_code_names(html_dir: Path):
    """Issue 14: headers showed ``missing_item_rule``, ``below_lloq``, ``il1b``."""
    found = {path: names for path in book_html.content_pages(html_dir)
             if (names := code_named_headers((html_dir / path).read_text(encoding="utf-8")))}
    assert not found, f"table headers written as code names: {found}"
