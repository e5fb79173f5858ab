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
from pathlib import Path

import pandas as pd
import pytest
import yaml
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
    log = LATEX_LOG.read_text(errors="replace")
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
