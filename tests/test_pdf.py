"""The built PDF as a reader gets it: every chapter in its outline (bookmarks), every figure an
image (not its text fallback), nothing running off the page, and the glued numbers printed.

Reads _build/pdf/mbpm-oxytocin.pdf with poppler (pdftotext, pdftohtml -xml for the outline),
the LaTeX source and log in _build/latex/, and the glue values of the executed chapters in
_build/jupyter_execute/chapters/<chapter>.glue.json (what myst-nb pasted into the book).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

import book_html
from conftest import PDF, ROOT

from mbpm import tables

pytestmark = pytest.mark.book

LATEX_DIR = ROOT / "_build" / "latex"
LATEX_LOG = LATEX_DIR / "mbpm-oxytocin.log"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"
#: An overfull line wider than this (points) is visible as text running into the margin.
OVERFULL_LIMIT_PT = 20.0


def poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdf_text() -> str:
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf` (make test does it for you)")
    return poppler("pdftotext", "-layout", str(PDF), "-")


def flat(text: str) -> str:
    """Text with typographic variants undone and all whitespace collapsed to one space."""
    for fancy, plain in {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "--", "—": "---",
                         "\u00a0": " ", "ﬁ": "fi", "ﬂ": "fl"}.items():
        text = text.replace(fancy, plain)
    return re.sub(r"\s+", " ", text).strip()


def toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def chapter_files() -> list[Path]:
    files = [toc()["root"]] + [c["file"] for part in toc()["parts"] for c in part["chapters"]]
    return [ROOT / f"{name}.md" for name in files]


def title(chapter: Path) -> str:
    return next(line for line in chapter.read_text().splitlines() if line.startswith("# "))[2:].strip()


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.upper()))


# ---- chapters and outline --------------------------------------------------------------------

def test_every_chapter_is_in_the_pdf(pdf_text: str):
    text = words(pdf_text)  # the LaTeX class sets chapter titles in capitals
    missing = [title(c) for c in chapter_files() if words(title(c)) not in text]
    assert not missing, f"chapters missing from the PDF: {missing}"


def outline(pdf: Path) -> list[str]:
    """Every bookmark title of the PDF's outline (poppler's ``pdftohtml -xml``), in order."""
    xml = poppler("pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf))
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    return [" ".join(item.itertext()).strip() for item in root.iter("item")]


def test_every_chapter_and_part_is_bookmarked():
    bookmarks = [words(b) for b in outline(PDF)]
    expected = [title(c) for c in chapter_files()[1:]] + [p["caption"] for p in toc()["parts"]]
    # Parts are numbered in the outline ("I The study"); chapters are not.
    missing = [t for t in expected if not any(b == words(t) or b.endswith(" " + words(t))
                                              for b in bookmarks)]
    assert not missing, f"not in the PDF's outline: {missing}; outline: {bookmarks}"


# ---- figures ---------------------------------------------------------------------------------

FIGURE_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(glue:figure|figure)\}", re.MULTILINE)
INCLUDED = re.compile(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]+)\}(\.[a-z]+)\}")


def glue_values(chapter: str) -> dict[str, dict]:
    """``{name: mime bundle}`` glued by an executed chapter (empty if it glues nothing)."""
    path = EXECUTED / f"{chapter}.glue.json"
    if not path.exists():
        return {}
    return {name: output["data"] for name, output in json.loads(path.read_text()).items()}


def test_every_figure_is_an_image(pdf_text: str):
    tex = (LATEX_DIR / "mbpm-oxytocin.tex").read_text()
    # TeX wraps its log at 79 characters, file names included
    log = LATEX_LOG.read_text(errors="replace").replace("\n", "")
    n_directives = sum(len(FIGURE_DIRECTIVE.findall(c.read_text())) for c in chapter_files())
    images = INCLUDED.findall(tex)
    assert n_directives, "the book has no figure"
    assert len(images) >= n_directives, (
        f"{n_directives} figure directives in the chapters but {len(images)} images in the LaTeX")
    for stem, ext in images:
        data = (LATEX_DIR / f"{stem}{ext}").read_bytes()
        assert data[:4] in {b"%PDF", b"\x89PNG"}, f"{stem}{ext} is not a PDF or PNG image"
        assert len(data) > 1000, f"{stem}{ext} is nearly empty"
        assert f"{stem}{ext}" in log, f"LaTeX did not include {stem}{ext}"
    # A chart that fell back to text would print its text/plain form, "<description>".
    text = flat(pdf_text)
    fallbacks = [data["text/plain"] for c in chapter_files() for data in glue_values(c.stem).values()
                 if "mbpm-chart" in data.get("text/html", "")]
    printed = [f for f in fallbacks if flat(f) in text]
    assert not printed, f"charts printed as text instead of images: {printed}"


# ---- nothing runs off the page ----------------------------------------------------------------

OVERFULL = re.compile(r"^Overfull \\hbox \((?P<pt>[\d.]+)pt too wide\) (?P<where>[^\n]*)\n"
                      r"(?P<text>(?:.+\n){0,3})", re.MULTILINE)


def overfull_boxes(log: str, limit: float = OVERFULL_LIMIT_PT) -> list[str]:
    """LaTeX's overfull-hbox warnings wider than ``limit`` points, with what overflowed."""
    return [f"{m['pt']} pt {m['where']}: {' '.join(m['text'].split())[:160]}"
            for m in OVERFULL.finditer(log) if float(m["pt"]) > limit]


def test_overfull_parser():
    log = ("Overfull \\hbox (8.2pt too wide) in paragraph at lines 1--2\n[]|x|\n\n"
           "Overfull \\hbox (45.5pt too wide) in alignment at lines 626--629\n"
           "[]\\TU/FreeSerif(0)/m/n/10 c50dba0db2ceff07 []\n []\n\n")
    assert overfull_boxes(log) == ["45.5 pt in alignment at lines 626--629: "
                                   "[]\\TU/FreeSerif(0)/m/n/10 c50dba0db2ceff07 [] []"]


def test_no_line_runs_off_the_page():
    log = LATEX_LOG.read_text(errors="replace")
    assert "Output written on" in log, "the LaTeX log is not of a finished PDF build"
    wide = overfull_boxes(log)
    assert not wide, (f"{len(wide)} line(s) of text, table or code run more than "
                      f"{OVERFULL_LIMIT_PT} pt off the page (lines of _build/latex/mbpm-oxytocin.tex):\n"
                      + "\n".join(wide))


# ---- glued numbers ---------------------------------------------------------------------------

GLUE_ROLE = re.compile(r"\{glue:text\}`([^`]+)`")


def glued_texts(chapter: Path) -> list[tuple[str, str]]:
    """``(name, text as printed)`` of every ``{glue:text}`` role of a chapter, formatted the way
    myst-nb formats it (``name:format_spec``, myst_nb.ext.glue.roles.PasteTextRole)."""
    from myst_nb.core.variables import format_plain_text

    values = glue_values(chapter.stem)
    found = []
    for role in GLUE_ROLE.findall(chapter.read_text()):
        name, spec = role.rsplit(":", 1) if ":" in role else (role, "")
        assert name in values, f"{chapter.name}: glue {name!r} is not in the executed notebook"
        found.append((name, format_plain_text(values[name]["text/plain"], spec)))
    return found


def test_every_glued_text_is_printed(pdf_text: str):
    text = flat(pdf_text)
    dehyphenated = re.sub(r"(\w)- (\w)", r"\1\2", text)  # words LaTeX split at a line end
    checked, missing = 0, []
    for chapter in chapter_files():
        for name, value in glued_texts(chapter):
            checked += 1
            if flat(value) not in text and flat(value) not in dehyphenated:
                missing.append(f"{chapter.stem}: {name} = {value!r}")
    assert checked, "no glued text in the book"
    assert not missing, "glued values not printed in the PDF:\n" + "\n".join(missing)


#: Spot checks against results.csv: (chapter that reports it, outcome, analysis, contrast,
#: column, format). The chapter prints the oxytocin results to two decimals and p in its complete
#: test report (tables.apa_p, "p = .764").
SPOT_CHECKS = [
    ("oxytocin_pain", "oxytocin", "ANCOVA (completers)",
     "MBPM - WL at week 8, adjusted for baseline", "estimate", "{:.2f}"),
    ("oxytocin_pain", "oxytocin", "ANCOVA (completers)",
     "MBPM - WL at week 8, adjusted for baseline", "p", "p"),
    ("baseline", "oxytocin", "Welch t-test", "patients (MBPM+WL) vs HC", "estimate", "{:.2f}"),
]


@pytest.fixture(scope="module")
def results_csv(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("export")
    subprocess.run([sys.executable, "-m", "mbpm", "export", str(ROOT / "data"), str(out)],
                   check=True, capture_output=True)
    return pd.read_csv(out / "results.csv")


@pytest.mark.parametrize("check", SPOT_CHECKS, ids=lambda c: f"{c[0]}-{c[2]}-{c[4]}")
def test_spot_check_against_results_csv(check, pdf_text: str, request):
    chapter, outcome, analysis, contrast, column, fmt = check
    if not glue_values(chapter):
        pytest.skip(f"chapter {chapter} glues nothing yet (not written)")
    results = request.getfixturevalue("results_csv")
    row = results[(results.outcome == outcome) & (results.analysis == analysis)
                  & (results.contrast == contrast)]
    assert len(row) == 1, f"results.csv has {len(row)} rows for {check}"
    value = row[column].iloc[0]
    printed = tables.apa_p(value) if fmt == "p" else fmt.format(value)
    assert printed in flat(pdf_text), f"{outcome} {analysis} {column} = {printed} not in the PDF"


# ---- page layout: running footer, filled pages, chapters ---------------------------------------

@dataclass
class PdfPage:
    """One page of the PDF as poppler reads it: its number (from 1), height, and every word
    with its box in points from the top left, ``(x_min, y_min, x_max, y_max, text)``."""

    number: int
    height: float
    words: list[tuple[float, float, float, float, str]]


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"([^<]*)</word>")


def pdf_pages(pdf: Path) -> list[PdfPage]:
    """Every page with its words (``pdftotext -bbox``)."""
    html = poppler("pdftotext", "-bbox", str(pdf), "-")
    pages = []
    for number, chunk in enumerate(re.findall(r"<page [^>]*>.*?</page>", html, re.S), start=1):
        height = float(re.search(r'height="([\d.]+)"', chunk).group(1))
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(chunk)]
        pages.append(PdfPage(number, height, words))
    return pages


@pytest.fixture(scope="module")
def layout() -> list[PdfPage]:
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    return pdf_pages(PDF)


def footer_line(pages: list[PdfPage]) -> tuple[float, float]:
    """``(top, bottom)`` of the running footer: the line the last word of most pages sits on
    (the page number)."""
    lowest = [max(p.words, key=lambda w: w[3]) for p in pages if p.words]
    tops = Counter(round(w[1], 1) for w in lowest)
    top = tops.most_common(1)[0][0]
    return top, max(w[3] for w in lowest if round(w[1], 1) == top)


def over_the_footer(page: PdfPage, footer: tuple[float, float], tolerance: float = 1.0) -> list[str]:
    """Words that reach into the footer's band without sitting on its line, or that sit on it
    over another word: text printed over the running footer."""
    top, bottom = footer
    on_line = [w for w in page.words if abs(w[1] - top) <= tolerance]
    intruders = [w for w in page.words if w[3] > top - tolerance and w not in on_line]
    clashes = [a for i, a in enumerate(on_line) for b in on_line[i + 1:]
               if a[0] < b[2] - tolerance and b[0] < a[2] - tolerance]
    return [w[4] for w in intruders + clashes]


def test_over_the_footer_finds_a_caption_on_the_footer():
    page = PdfPage(1, 792, [(72, 741.9, 100, 751.9, "1.5."), (534, 741.9, 540, 751.9, "6"),
                            (72, 738.0, 130, 748.0, "Figure"), (300, 741.9, 340, 751.9, "x")])
    assert over_the_footer(page, (741.9, 751.9)) == ["Figure"]
    page.words.append((330, 741.9, 360, 751.9, "over"))
    assert over_the_footer(page, (741.9, 751.9)) == ["Figure", "x"]


def test_no_text_is_printed_over_the_running_footer(layout: list[PdfPage]):
    """Issue 14: the captions of figures 2.1 and 7.1 ran over the footer."""
    footer = footer_line(layout)
    clashes = {p.number: words[:8] for p in layout if (words := over_the_footer(p, footer))}
    assert not clashes, f"text over the footer band {footer} (page: words): {clashes}"


def outline_pages(pdf: Path) -> list[tuple[int, int, str]]:
    """``(depth, page, title)`` of every bookmark (depth 1 = parts and back-matter chapters)."""
    xml = poppler("pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf))
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    found = []

    def walk(outline: ET.Element, depth: int) -> None:
        for child in outline:
            if child.tag == "item":
                found.append((depth, int(child.get("page", "0")), " ".join(child.itertext()).strip()))
            elif child.tag == "outline":
                walk(child, depth + 1)

    for top in root.iter("outline"):
        walk(top, 1)
        break
    return found


def chapter_starts(pdf: Path) -> list[tuple[int, str]]:
    """``(page, title)`` where each part and each chapter of the outline begins."""
    parts = {p["caption"] for p in toc()["parts"]}
    starts = []
    for depth, page, name in outline_pages(pdf):
        is_part = any(name.endswith(p) for p in parts)
        if depth == 1 or (depth == 2 and not is_part):
            starts.append((page, name))
    return starts


def body_words(page: PdfPage, footer: tuple[float, float]) -> list[tuple]:
    """The page's words without the running footer and the running header (the words above
    the first eighth of the page)."""
    return [w for w in page.words if w[3] < footer[0] - 1.0 and w[1] > page.height / 12]


#: A page before another page of the same chapter should be at least this full. The defect of
#: issue 14 was a page two-thirds blank (a third full); half a page before a table too tall to
#: fit beside the text is ordinary float placement (tables stay in their section: placeins).
MIN_FILL = 0.4


def test_no_page_inside_a_chapter_is_mostly_blank(layout: list[PdfPage]):
    """Issue 14: a page two-thirds blank in the middle of a chapter (a float that did not fit)."""
    footer = footer_line(layout)
    starts = {page for page, _ in chapter_starts(PDF)}
    first = min(starts)
    top_of_body = layout[0].height / 12
    blank = {}
    for page in layout[first - 1:-1]:
        if page.number + 1 in starts:  # the last page of a chapter or part may end anywhere
            continue
        words = body_words(page, footer)
        bottom = max((w[3] for w in words), default=top_of_body)
        fill = (bottom - top_of_body) / (footer[0] - top_of_body)
        if fill < MIN_FILL:
            blank[page.number] = round(fill, 2)
    assert not blank, f"pages filled less than {MIN_FILL:.0%} (page: fill): {blank}"


#: A chapter with fewer words than this besides its title is empty.
MIN_CHAPTER_WORDS = 40


def test_no_chapter_is_empty(layout: list[PdfPage]):
    """Issue 14: an empty "References" chapter page before the bibliography."""
    footer = footer_line(layout)
    starts = chapter_starts(PDF)
    parts = {p["caption"] for p in toc()["parts"]}
    ends = [page for page, _ in starts[1:]] + [len(layout) + 1]
    empty = {}
    for (start, name), end in zip(starts, ends):
        if any(name.endswith(p) for p in parts):
            continue
        n = sum(len(body_words(p, footer)) for p in layout[start - 1:max(end - 1, start)])
        if n - len(name.split()) < MIN_CHAPTER_WORDS:
            empty[name] = n
    assert not empty, f"chapters with (almost) no text (title: words): {empty}"


def test_the_introduction_is_a_titled_chapter(layout: list[PdfPage]):
    """Issue 14: the introduction had no title and its footer said CONTENTS."""
    starts = dict((name, page) for page, name in chapter_starts(PDF))
    assert "Introduction" in starts, f"no Introduction in the outline: {list(starts)}"
    page = layout[starts["Introduction"] - 1]
    text = " ".join(w[4] for w in page.words)
    assert "re-creates" in text and "CONTENTS" not in text, text[:300]


RAW_TEX = re.compile(r"\\[A-Za-z]{2,}|\b(?:textsuperscript|textregistered|emph|mathrm)\b")


def test_no_raw_tex_in_the_text(pdf_text: str):
    """Issue 14: ``PROMIS\\textsuperscript ®-29`` in a reference."""
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(pdf_text)})
    assert not raw, f"LaTeX commands printed as text: {raw}"


def test_no_code_in_the_pdf():
    """The chapters' code is folded in the website and left out of the PDF."""
    tex = (LATEX_DIR / "mbpm-oxytocin.tex").read_text()
    assert "figures.use()" not in tex and "from mbpm import" not in tex


# ---- legible text: charts not shrunk below reading size, numbers not split ---------------------

#: Smallest text the PDF may print (pt). LaTeX's own subscripts beside 10 pt text are 7 pt; a
#: chart that LaTeX shrinks to fit the page prints its labels smaller (issue 14: the 18 plate
#: curves at 4 pt; the forest plot and the specification curves at 6 pt). Poppler reports
#: sizes rounded to whole points, so this fails on text below 6.5 pt.
MIN_TEXT_PT = 7
FONTSPEC = re.compile(r'<fontspec id="(\d+)" size="([\d.]+)"')
TEXT = re.compile(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', re.S)


def text_sizes(xml: str) -> list[tuple[int, float, str]]:
    """``(page, size in pt, text)`` of every text run of ``pdftohtml -xml -zoom 1`` output."""
    sizes = {font: float(size) for font, size in FONTSPEC.findall(xml)}
    runs = []
    for number, page in enumerate(re.findall(r"<page [^>]*>.*?</page>", xml, re.S), start=1):
        runs += [(number, sizes[font], re.sub(r"<[^>]+>", "", text))
                 for font, text in TEXT.findall(page) if re.sub(r"<[^>]+>", "", text).strip()]
    return runs


def test_text_sizes_reads_the_size_of_each_run():
    xml = ('<page number="1" height="842"><fontspec id="0" size="10" family="X" color="#000"/>'
           '<text top="1" left="1" width="9" height="12" font="0">Body</text>'
           '<fontspec id="1" size="4" family="Y" color="#000"/>'
           '<text top="9" left="1" width="9" height="5" font="1"><b>0.1</b></text></page>'
           '<page number="2" height="842"><text top="1" left="1" width="9" height="5" '
           'font="1">10</text></page>')
    assert text_sizes(xml) == [(1, 10.0, "Body"), (1, 4.0, "0.1"), (2, 4.0, "10")]


def test_no_text_is_too_small_to_read():
    """Every word of the PDF, chart labels included (vl-convert's PDFs keep their text), is at
    least MIN_TEXT_PT."""
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    runs = text_sizes(poppler("pdftohtml", "-xml", "-i", "-q", "-stdout", "-zoom", "1", str(PDF)))
    small = Counter((page, size) for page, size, _ in runs if size < MIN_TEXT_PT)
    examples = {key: next(t for p, s, t in runs if (p, s) == key)[:40] for key in small}
    assert runs, "no text found in the PDF"
    assert not small, (f"text smaller than {MIN_TEXT_PT} pt (page, pt: runs, e.g.): "
                       + "; ".join(f"{k}: {n}, {examples[k]!r}" for k, n in sorted(small.items())))


#: A quantity of a table cell: "CV > 20", "< 0.001", "p = .340" (word, sign, word), "95 %".
SIGNED = re.compile(r"(\S*) ?([<>≤≥=±]) (\S+)")
PERCENT = re.compile(r"(\d\S*) (%)")


def table_quantities(html_dir: Path) -> set[tuple[str, str, str]]:
    """``(before, sign, after)`` of every quantity in a table of the website: ``"CV > 20 %"``
    gives ``("CV", ">", "20")`` and ``("20", "%", "")``."""
    found = set()
    for path in book_html.content_pages(html_dir):
        for cell in book_html.article(book_html.soup(html_dir / path)).select("table th, table td"):
            text = re.sub(r"\s+", " ", cell.get_text(" "))
            found |= {m.groups() for m in SIGNED.finditer(text)}
            found |= {(*m.groups(), "") for m in PERCENT.finditer(text)}
    return found


def table_words(html_dir: Path) -> set[str]:
    """Every word of the website's tables (split at spaces)."""
    return {word for path in book_html.content_pages(html_dir)
            for cell in book_html.article(book_html.soup(html_dir / path)).select("table th, table td")
            for word in cell.get_text(" ").replace("\u200b", "").split()}


def hyphenated_words(lines: list[str], words: set[str]) -> list[str]:
    """Identifiers of ``words`` (with a digit or an underscore: plate and column names) that
    LaTeX hyphenated over two consecutive ``lines``: the first line ends with "oxy-", the next
    starts with "tocin_01", and "oxytocin_01" is a word of a table. A hyphen of the text itself
    ("PROMIS-" / "29") is not one; ordinary words may be hyphenated ("oxy-" / "tocin")."""
    found = []
    for first, second in zip(lines, lines[1:]):
        if first.endswith("-") and first.split() and second.split():
            head, tail = first.split()[-1][:-1], second.split()[0]
            word = head + tail
            if (head and word in words and f"{head}-{tail}" not in words
                    and re.search(r"[\d_]", word)):
                found.append(f"{first.split()[-1]} / {tail}")
    return found


def test_hyphenated_words_finds_an_identifier_split_by_latex():
    words = {"oxytocin_01", "PROMIS-29", "8/8", "baseline", "controls"}
    assert hyphenated_words(["oxy-", "tocin_01 8/8", "PROMIS-", "29", "base-", "line", "-",
                             "controls"], words) == ["oxy- / tocin_01"]


def test_no_table_word_is_hyphenated(html_dir: Path):
    """Identifiers in narrow columns are not hyphenated (issue 14 audit: "oxy- / tocin_01" in
    the plate quality-control table)."""
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    words = table_words(html_dir)
    found = [f"page {page}: {w}" for page, lines in pdf_blocks(PDF)
             for w in hyphenated_words(lines, words)]
    assert not found, "table words hyphenated:\n" + "\n".join(found[:30])


def pdf_blocks(pdf: Path) -> list[tuple[int, list[str]]]:
    """``(page, lines)`` of every text block poppler finds (``pdftotext -bbox-layout``); a table
    cell's lines are consecutive lines of a block."""
    html = poppler("pdftotext", "-bbox-layout", str(pdf), "-")
    unescape = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}
    blocks = []
    for number, page in enumerate(re.findall(r"<page [^>]*>.*?</page>", html, re.S), start=1):
        for block in re.findall(r"<block [^>]*>(.*?)</block>", page, re.S):
            lines = [" ".join(re.findall(r"<word [^>]*>([^<]*)</word>", line))
                     for line in re.findall(r"<line [^>]*>(.*?)</line>", block, re.S)]
            for code, char in unescape.items():
                lines = [line.replace(code, char) for line in lines]
            blocks.append((number, lines))
    return blocks


def split_quantities(lines: list[str], quantities: set[tuple[str, str, str]]) -> list[str]:
    """Quantities printed over two consecutive ``lines``: a break before or after the sign."""
    found = []
    for first, second in zip(lines, lines[1:]):
        for before, sign, after in quantities:
            head = f"{before} {sign}".strip()
            if ((before and (first == before or first.endswith(" " + before))
                 and second.startswith(f"{sign} {after}".strip()))
                    or (after and (first == head or first.endswith(" " + head))
                        and second.startswith(after))):
                found.append(f"{first!r} / {second!r}")
    return found


def test_split_quantities_finds_a_header_broken_at_its_sign():
    quantities = {("CV", ">", "20"), ("20", "%", ""), ("", "<", "0.001")}
    assert split_quantities(["median CV", "> 20 %", "< 0.001", "< 0.001"], quantities) == [
        "'median CV' / '> 20 %'"]
    assert split_quantities(["CV > 20", "%", "p <", "0.001"], quantities) == [
        "'CV > 20' / '%'", "'p <' / '0.001'"]
    assert split_quantities(["CV > 20 %", "< 0.001"], quantities) == []


def test_no_table_quantity_is_split_across_lines(html_dir: Path):
    """Issue 14: narrow table columns printed "< / 0.001", "Estimate (95 / % CI)" and
    "CV / > 20 %" on two lines."""
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    quantities = table_quantities(html_dir)
    assert quantities, "no quantity found in the website's tables"
    split = [f"page {page}: {pair}" for page, lines in pdf_blocks(PDF)
             for pair in split_quantities(lines, quantities)]
    assert not split, "table quantities split across lines:\n" + "\n".join(split[:30])
