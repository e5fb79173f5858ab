"""The built PDF: every chapter in it, charts as images (not their text fallback)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import PDF, ROOT

pytestmark = pytest.mark.book

LATEX_DIR = ROOT / "_build" / "latex"


@pytest.fixture(scope="module")
def pdf_text() -> str:
    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: run `make pdf` (make test does it for you)")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(PDF), "-"], check=True,
                          capture_output=True, text=True).stdout


def chapter_titles() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    titles = []
    for name in files:
        heading = next(line for line in (ROOT / f"{name}.md").read_text().splitlines()
                       if line.startswith("# "))
        titles.append(heading[2:].strip())
    return titles


def test_every_chapter_is_in_the_pdf(pdf_text: str):
    flat = re.sub(r"\s+", " ", pdf_text).upper()  # the LaTeX class sets chapter titles in capitals
    missing = [t for t in chapter_titles() if re.sub(r"\s+", " ", t).upper() not in flat]
    assert not missing, f"chapters missing from the PDF: {missing}"


def test_charts_are_images_not_text(pdf_text: str):
    tex = (LATEX_DIR / "mbpm-oxytocin.tex").read_text()
    images = re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]+)\}\.(pdf|png)\}", tex)
    assert images, "no chart image in the PDF"
    for stem, ext in images:
        assert (LATEX_DIR / f"{stem}.{ext}").stat().st_size > 1000
    # The text fallback of an Altair chart would print its description in angle brackets.
    assert not re.search(r"<[^<>\n]*(chart|Chart)[^<>\n]*>", pdf_text)
