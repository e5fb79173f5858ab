"""Free text of a data folder reaches the book as literal text: no markup, no script, no file copied.

A simulated folder gets hostile text in every free-text field: ``pain_condition`` and
``withdrawal_reason`` of participants.csv, the exclusion reasons of screening.csv and the
generator version of the SIMULATED marker (:func:`book_builds.plant_hostile_text`). The book is
built from a temporary copy of the sources with ``MBPM_DATA`` pointing at that folder, once as
HTML and once as LaTeX, and then

* the build succeeds;
* in headless Chromium no dialog opens, no injected element exists (``<img onerror>``, a script
  calling ``alert``, ``<strong>`` around the bold text) and the hostile text is shown literally;
* nothing outside the folder is copied into ``_build`` (the ``{download}`` roles name
  /etc/hostname, absolute and relative to the page; no ``_downloads`` of it, no file called
  hostname or passwd);
* the LaTeX source holds the LaTeX commands escaped, never as commands, and no control byte.

The folder is the second study's (tests/fixtures/second_study), so that one build serves these
tests and the second-study build test (the ``hostile_second_study`` fixture of conftest.py;
tests/book_builds.py says why each keeps its meaning). Slow (the book is built); marked ``book``
and ``slow``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _data_helpers import read_rows
from book_builds import PAYLOADS, SharedBuild, shown

pytestmark = [pytest.mark.book, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def built(hostile_second_study: SharedBuild) -> Path:
    return hostile_second_study.built


def test_every_free_text_field_gets_a_payload(hostile_second_study: SharedBuild) -> None:
    """The planted folder is what the tests below assume: a payload in each free-text field, and
    every payload among the texts the pages must show."""
    people = read_rows(hostile_second_study.folder / "participants.csv")
    cond = people[0].index("pain_condition")
    assert {r[cond] for r in people[1:] if r[cond]} == set(PAYLOADS)
    expected = hostile_second_study.shown
    assert expected["baseline.html"] == {shown(p) for p in PAYLOADS}
    assert expected["methods.html"] and expected["methods.html"] == expected["data.html"]


@pytest.mark.parametrize("builder", ["html", "latex"])
def test_book_builds(hostile_second_study: SharedBuild, builder: str) -> None:
    status, log = hostile_second_study.results[builder]
    assert status == 0, f"{builder} build failed:\n{log[-6000:]}"


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
        built: Path, hostile_second_study: SharedBuild) -> None:
    from playwright.sync_api import sync_playwright

    html = built / "html"
    pages = hostile_second_study.shown
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        reader = browser.new_context()  # one context: its tabs share a cache, as a reader's do
        for page_file in sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")):
            page = reader.new_page()
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
