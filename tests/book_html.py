"""Reading the built website for the tests: pages, internal links, chart specs, headings.

Shared by test_site.py (static checks of the HTML files), test_accessibility.py and
test_browser.py (the same checks on the DOM a browser rendered).
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

#: Pages Sphinx generates for navigation, not written by us (checked for links, not content).
GENERATED_PAGES = {"genindex.html", "search.html"}


def html_pages(html_dir: Path) -> list[str]:
    """Every HTML page of the site (relative POSIX paths), static assets excluded."""
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
                  if "_static" not in p.relative_to(html_dir).parts)


def content_pages(html_dir: Path) -> list[str]:
    """The book's own pages (the chapters): not genindex/search, not redirect stubs."""
    return [p for p in html_pages(html_dir) if p not in GENERATED_PAGES
            and not is_redirect((html_dir / p).read_text(encoding="utf-8"))]


def is_redirect(html: str) -> bool:
    """A page that only forwards the browser (Jupyter Book's root ``index.html``)."""
    return bool(re.search(r"<meta[^>]+http-equiv=[\"']?refresh", html, re.IGNORECASE)) and "<body" not in html


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(page: BeautifulSoup) -> BeautifulSoup:
    """The page's main text (pydata-sphinx-theme's ``article.bd-article``), or the page."""
    return page.select_one("article.bd-article") or page


def is_internal(url: str) -> bool:
    """A link within the site: no scheme (http:, mailto:, data:, javascript:) and no host."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def resolve(page: str, url: str) -> tuple[str, str]:
    """``(target page path, fragment)`` of ``url`` written on ``page`` (both site-relative)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path:
        return page, unquote(parts.fragment)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if path.endswith("/") or target == ".":
        target = posixpath.join(target, "index.html")
    return posixpath.normpath(target), unquote(parts.fragment)


def ids(page: BeautifulSoup) -> set[str]:
    """Every anchor a fragment can point to: element ids and ``<a name>``."""
    return {t["id"] for t in page.find_all(id=True)} | {t["name"] for t in page.find_all("a", attrs={"name": True})}


def broken_links(html_dir: Path) -> list[str]:
    """Internal ``href``/``src`` that point to a missing file or to a missing ``#id``."""
    anchors: dict[str, set[str]] = {}
    problems = []
    for page_path in html_pages(html_dir):
        page = soup(html_dir / page_path)
        for tag in page.find_all(["a", "link", "script", "img", "iframe", "source"]):
            url = tag.get("href") or tag.get("src")
            if not url or url == "#" or not is_internal(url):
                continue
            target, fragment = resolve(page_path, url)
            if not (html_dir / target).is_file():
                problems.append(f"{page_path}: {url} -> missing file {target}")
                continue
            if fragment and target.endswith(".html"):
                if target not in anchors:
                    anchors[target] = ids(soup(html_dir / target))
                if fragment not in anchors[target]:
                    problems.append(f"{page_path}: {url} -> no id {fragment!r} in {target}")
    return problems


def external_links(html_dir: Path) -> dict[str, list[str]]:
    """``{url: [pages]}`` of every http(s) link in the text of the book's pages."""
    found: dict[str, list[str]] = {}
    for page_path in content_pages(html_dir):
        for tag in article(soup(html_dir / page_path)).find_all("a", href=True):
            if urlsplit(tag["href"]).scheme in {"http", "https"}:
                found.setdefault(tag["href"], []).append(page_path)
    return found


def bibliography_links(html_dir: Path) -> list[str]:
    """The http(s) links inside bibliography entries (sphinxcontrib-bibtex's ``.citation``)."""
    urls = set()
    for page_path in content_pages(html_dir):
        for entry in soup(html_dir / page_path).select(".citation"):
            urls.update(a["href"] for a in entry.find_all("a", href=True)
                        if urlsplit(a["href"]).scheme in {"http", "https"})
    return sorted(urls)


EMBED = "vegaEmbed(el, "


def chart_specs(html: str) -> list[dict]:
    """The Vega-Lite spec of every chart on a page (the JSON passed to ``vegaEmbed``)."""
    decoder = json.JSONDecoder()
    specs = []
    for match in re.finditer(re.escape(EMBED), html):
        spec, _ = decoder.raw_decode(html, match.end())
        specs.append(spec)
    return specs


def heading_levels(page: BeautifulSoup) -> list[tuple[int, str]]:
    """``(level, text)`` of the h1-h6 headings of the page's main text, in order."""
    return [(int(h.name[1]), h.get_text(" ", strip=True).rstrip("#").strip())
            for h in article(page).find_all(re.compile(r"^h[1-6]$"))]


def skipped_levels(levels: list[tuple[int, str]]) -> list[str]:
    """Headings that skip a level (h2 then h4) or a page that does not start with one h1."""
    problems = []
    if not levels or levels[0][0] != 1:
        problems.append("the page does not start with an h1")
    if sum(1 for level, _ in levels if level == 1) > 1:
        problems.append("more than one h1")
    for (before, _), (level, text) in zip(levels, levels[1:]):
        if level > before + 1:
            problems.append(f"h{before} -> h{level} ({text!r})")
    return problems
