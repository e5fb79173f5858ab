"""Accessibility basics of the book: text alternatives for every figure, captioned tables, a
colour-blind-safe palette used by every chart, and headings that do not skip levels.

The HTML checks read the built site (``make html``); the source checks read chapters/*.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import book_html
from conftest import ROOT
from mbpm import figures

# Okabe, M. & Ito, K. (2008) "Color Universal Design (CUD): how to make figures and
# presentations that are friendly to colorblind people", https://jfly.uni-koeln.de/color/
# (table "Set of colors that is unambiguous both to colorblinds and non-colorblinds"), as RGB
# 0-255: black (0,0,0), orange (230,159,0), sky blue (86,180,233), bluish green (0,158,115),
# yellow (240,228,66), blue (0,114,178), vermillion (213,94,0), reddish purple (204,121,167).
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7"}
COLOUR_CHANNELS = ("color", "fill", "stroke")


def chapter_sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files]


# ---- palette ---------------------------------------------------------------------------------

def test_palette_is_okabe_ito():
    assert {c.upper() for c in figures.PALETTE} == OKABE_ITO
    assert len(figures.PALETTE) == len(OKABE_ITO)
    assert {c.upper() for c in figures.GROUP_COLOURS.values()} <= OKABE_ITO
    assert figures._theme()["config"]["range"]["category"] == figures.PALETTE


def category_colour_problems(spec: object, path: str = "spec") -> list[str]:
    """Colour encodings of categories (nominal/ordinal) whose scale leaves the palette."""
    problems = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            here = f"{path}.{key}"
            if key in COLOUR_CHANNELS and isinstance(value, dict) and "field" in value:
                kind = value.get("type", "nominal")
                scale = value.get("scale") or {}
                if kind in {"nominal", "ordinal"}:
                    if "scheme" in scale:
                        problems.append(f"{here}: colour scheme {scale['scheme']!r}")
                    outside = [c for c in scale.get("range", []) if str(c).upper() not in OKABE_ITO]
                    if outside:
                        problems.append(f"{here}: colours outside the palette {outside}")
            problems += category_colour_problems(value, here)
    elif isinstance(spec, list):
        for i, item in enumerate(spec):
            problems += category_colour_problems(item, f"{path}[{i}]")
    return problems


def test_colour_checker_flags_foreign_colours():
    spec = {"layer": [{"encoding": {"color": {"field": "g", "type": "nominal",
                                              "scale": {"range": ["#0072B2", "#ff0000"]}}}},
                      {"encoding": {"fill": {"field": "g", "type": "nominal",
                                             "scale": {"scheme": "category10"}}}},
                      {"encoding": {"color": {"field": "y", "type": "quantitative"}}}]}
    assert len(category_colour_problems(spec)) == 2


@pytest.mark.book
def test_charts_use_the_palette_for_categories(html_dir: Path):
    problems, n_charts = [], 0
    for page_path in book_html.content_pages(html_dir):
        for spec in book_html.chart_specs((html_dir / page_path).read_text(encoding="utf-8")):
            n_charts += 1
            category = spec.get("config", {}).get("range", {}).get("category")
            if category != figures.PALETTE:
                problems.append(f"{page_path}: chart without the book's theme palette")
            problems += [f"{page_path}: {p}" for p in category_colour_problems(spec)]
    assert n_charts, "no chart found in the site"
    assert not problems, "\n".join(problems)


# ---- text alternatives -----------------------------------------------------------------------

@pytest.mark.book
def test_every_image_and_chart_has_a_text_alternative(html_dir: Path):
    problems, n_charts = [], 0
    for page_path in book_html.html_pages(html_dir):
        page = book_html.soup(html_dir / page_path)
        problems += [f"{page_path}: <img src={img.get('src')}> without alt"
                     for img in page.find_all("img") if not (img.get("alt") or "").strip()]
        for chart in page.select(".mbpm-chart"):
            n_charts += 1
            if not (chart.get("aria-label") or "").strip() or chart.get("role") != "img":
                problems.append(f"{page_path}: chart {chart.get('id')} without role=img/aria-label")
    assert n_charts, "no chart found in the site"
    assert not problems, "\n".join(problems)


FIGURE = re.compile(r"^(`{3,}|:{3,})\{(glue:figure|figure)\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)",
                    re.MULTILINE)


def figures_without_alt(text: str) -> list[str]:
    """The first line of every ``{glue:figure}``/``{figure}`` directive without an ``:alt:``."""
    return [m.group(0).splitlines()[0] for m in FIGURE.finditer(text)
            if not re.search(r"^:alt:[ \t]*\S", m.group("options"), re.MULTILINE)]


def test_alt_checker():
    good = "```{glue:figure} fig_a\n:name: fig-a\n:alt: Two curves.\n\nCaption.\n```\n"
    bad = "```{glue:figure} fig_b\n:name: fig-b\n\nCaption.\n```\n:::{figure} x.png\n:alt:\n:::\n"
    assert figures_without_alt(good) == []
    assert figures_without_alt(bad) == ["```{glue:figure} fig_b", ":::{figure} x.png"]


def test_every_figure_directive_has_alt_text():
    missing = {p.name: figures_without_alt(p.read_text()) for p in chapter_sources()}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"figures without :alt: {missing}"
    assert any(FIGURE.search(p.read_text()) for p in chapter_sources()), "no figure in the book"


# ---- tables and headings ---------------------------------------------------------------------

@pytest.mark.book
def test_every_table_has_a_caption(html_dir: Path):
    problems, n_tables = [], 0
    for page_path in book_html.content_pages(html_dir):
        for table in book_html.article(book_html.soup(html_dir / page_path)).find_all("table"):
            n_tables += 1
            caption = table.find("caption")
            if caption is None or not caption.get_text(strip=True):
                problems.append(f"{page_path}: table {table.get('id') or n_tables} has no caption")
    assert n_tables, "no table found in the site"
    assert not problems, "\n".join(problems)


def test_heading_checker():
    assert book_html.skipped_levels([(1, "a"), (2, "b"), (3, "c"), (2, "d")]) == []
    assert book_html.skipped_levels([(1, "a"), (3, "c")]) == ["h1 -> h3 ('c')"]
    assert book_html.skipped_levels([(2, "a")]) == ["the page does not start with an h1"]
    assert book_html.skipped_levels([(1, "a"), (1, "b")]) == ["more than one h1"]


@pytest.mark.book
def test_headings_do_not_skip_levels(html_dir: Path):
    problems = {}
    for page_path in book_html.content_pages(html_dir):
        found = book_html.skipped_levels(book_html.heading_levels(book_html.soup(html_dir / page_path)))
        if found:
            problems[page_path] = found
    assert not problems, problems
