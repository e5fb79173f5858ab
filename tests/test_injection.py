"""Free text of a data folder reaches the book as literal text: no markup, no script, no file copied.

A simulated folder (the shipped seed, so only the text differs from ``data/``) gets hostile text in
every free-text field: ``pain_condition`` and ``withdrawal_reason`` of participants.csv, the
exclusion reasons of screening.csv and the generator version of the SIMULATED marker. The book is
built from a temporary copy of the sources with ``MBPM_DATA`` pointing at that folder, once as
HTML and once as LaTeX, and then

* the build succeeds;
* in headless Chromium no dialog opens, no injected element exists (``<img onerror>``, a script
  calling ``alert``, ``<strong>`` around the bold text) and the hostile text is shown literally;
* nothing outside the folder is copied into ``_build`` (the ``{download}`` roles name
  /etc/hostname, absolute and relative to the page; no ``_downloads`` of it, no file called
  hostname or passwd);
* the LaTeX source holds the LaTeX commands escaped, never as commands, and no control byte.

Slow (two builds of the whole book, several minutes); marked ``book`` and ``slow``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _data_helpers import read_rows, write_rows
from conftest import ROOT

pytestmark = [pytest.mark.book, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHIPPED_SEED = 20240253

#: Hostile free text: HTML, a closing script tag, MyST roles and directives, math, emphasis,
#: LaTeX commands, entities, substitutions and an ANSI escape.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "{download}`/etc/hostname`",
    "{download}`" + "../" * 12 + "etc/hostname`",
    "x\n:::{raw} html\n<script>alert(3)</script>\n:::\n",
    "$x$ and $$y$$",
    "**bold** and _em_",
    "\\textbf{x} \\input{/etc/passwd}",
    "\x1b[31mred\x1b[0m",
    "&lt;b&gt; &amp; {{ sub }} [link](javascript:alert(4))",
]


def shown(text: str) -> str:
    """How the reader must see ``text``: literally, control characters as their escapes."""
    return text.replace("\x1b", "\\x1b").replace("\n", "\\n")


BUILD_FLAGS = ["--warningiserror", "--nitpick", "--keep-going"]


def hostile_folder(out: Path) -> dict[str, set[str]]:
    """Write the shipped cohort again (same seed) with a payload in every free-text field.

    Returns the texts each page must show: the pain conditions on baseline.html (Table 1), the
    exclusion and withdrawal reasons on methods.html (CONSORT diagram) and data.html (flow table).
    """
    subprocess.run([sys.executable, "-m", "mbpm", "simulate", str(out), "--seed", str(SHIPPED_SEED)],
                   check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    rows = read_rows(out / "participants.csv")
    head = rows[0]
    cond, done, why = (head.index(c) for c in ("pain_condition", "completed_week8", "withdrawal_reason"))
    patients = [r for r in rows[1:] if r[cond]]
    for k, r in enumerate(patients):
        r[cond] = PAYLOADS[k % len(PAYLOADS)]
    reasons = set()
    for k, r in enumerate(r for r in patients if r[done] == "no"):
        r[why] = PAYLOADS[(k + 3) % len(PAYLOADS)]
        reasons.add(r[why])
    write_rows(out / "participants.csv", rows)
    screening = read_rows(out / "screening.csv")
    for k, r in enumerate(r for r in screening[1:] if r[0] == "excluded"):
        r[1] = PAYLOADS[(k + 1) % len(PAYLOADS)] + ("" if k < len(PAYLOADS) else f" {k}")
        reasons.add(r[1])
    write_rows(out / "screening.csv", screening)
    marker = yaml.safe_load((out / "SIMULATED").read_text(encoding="utf-8"))
    marker["generator_version"] = "1.0 **v** <b>v</b> {download}`/etc/hostname`"
    (out / "SIMULATED").write_text(yaml.safe_dump(marker), encoding="utf-8")
    flow = {shown(t) for t in reasons}
    return {"baseline.html": {shown(r[cond]) for r in patients}, "methods.html": flow,
            "data.html": flow}


def _copy_sources(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("_build", ".git", ".venv", "__pycache__", ".pytest_cache",
                                    ".hypothesis", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _build(book: Path, data: Path, builder: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MBPM_DATA": str(data), "PYTHONPATH": str(book)}
    env.pop("MBPM_CACHE_DIR", None)
    jb = Path(sys.executable).with_name("jupyter-book")
    flags = BUILD_FLAGS if builder == "html" else ["--warningiserror", "--keep-going"]
    return subprocess.run([str(jb), "build", ".", "--builder", builder, *flags], cwd=book,
                          capture_output=True, text=True, env=env, timeout=3600)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    data = tmp_path_factory.mktemp("injection") / "data"
    return data, hostile_folder(data)


@pytest.fixture(scope="module")
def builds(hostile: tuple[Path, dict[str, set[str]]],
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, str]]]:
    """Both builds (``--keep-going``: the pages are written even when the build fails), their
    exit status and the end of their log."""
    book = _copy_sources(tmp_path_factory.mktemp("book") / "book")
    results = {}
    for builder in ("html", "latex"):
        result = _build(book, hostile[0], builder)
        results[builder] = (result.returncode, (result.stdout + result.stderr)[-6000:])
    return book / "_build", results


@pytest.fixture(scope="module")
def built(builds: tuple[Path, dict[str, tuple[int, str]]]) -> Path:
    return builds[0]


@pytest.mark.parametrize("builder", ["html", "latex"])
def test_book_builds(builds: tuple[Path, dict[str, tuple[int, str]]], builder: str) -> None:
    status, log = builds[1][builder]
    assert status == 0, f"{builder} build failed:\n{log}"


def test_nothing_outside_the_folder_is_copied(built: Path) -> None:
    names = {p.name for p in built.rglob("*")}
    assert "hostname" not in names and "passwd" not in names
    downloads = built / "html" / "_downloads"
    copied = sorted(p.name for p in downloads.rglob("*") if p.is_file()) if downloads.exists() else []
    assert not [n for n in copied if "hostname" in n or "passwd" in n], copied


def test_latex_holds_the_text_escaped(built: Path) -> None:
    tex = next((built / "latex").glob("*.tex")).read_text(encoding="utf-8")
    assert "\\input{/etc/passwd}" not in tex
    assert "\\textbf{x}" not in tex
    assert "\x1b" not in tex
    assert "textbackslash{}input" in tex  # the text is there, escaped


def test_raw_html_has_no_injected_markup(built: Path) -> None:
    for page in sorted((built / "html").rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for bad in ("<script>alert", "<img src=x", "<strong>bold</strong>", "\x1b",
                    'class="xref download'):  # a {download} role that ran
            assert bad not in text, f"{page.name}: {bad!r}"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_browser_shows_text_literally_and_runs_nothing(
        built: Path, hostile: tuple[Path, dict[str, set[str]]]) -> None:
    from playwright.sync_api import sync_playwright

    html = built / "html"
    pages = hostile[1]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        for page_file in sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")):
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto((html / page_file).as_uri())
            if page_file in pages:  # let the charts draw (the CONSORT diagram is SVG text)
                page.wait_for_function("() => [...document.querySelectorAll('.mbpm-chart')]"
                                       ".every(c => c.querySelector('svg'))", timeout=20_000)
            page.wait_for_timeout(300)
            assert not dialogs, f"{page_file}: a dialog opened: {dialogs}"
            injected = page.evaluate("""() => [
                ...[...document.querySelectorAll('img[onerror], img[src="x"]')].map(e => e.outerHTML),
                ...[...document.querySelectorAll('script')].filter(s => /alert\\(/.test(s.text)
                    && !/vegaEmbed/.test(s.text)).map(s => s.outerHTML),
                ...[...document.querySelectorAll('strong, em, b')].filter(
                    e => /^(bold|em|v)$/.test(e.textContent)).map(e => e.outerHTML),
                ...[...document.querySelectorAll('a[href^="javascript"]')].map(e => e.outerHTML)]""")
            assert not injected, f"{page_file}: injected elements {injected}"
            if page_file in pages:
                text = page.evaluate("() => document.body.innerText + '\\n' + "
                                      "[...document.querySelectorAll('svg text')]"
                                      ".map(t => t.textContent).join('\\n')")
                missing = sorted(s for s in pages[page_file] if s not in text)
                assert not missing, f"{page_file}: not shown literally: {missing}"
            page.close()
        browser.close()
