"""Every page of the built site in headless Chromium (Debian's, no browser download), network off.

Per page: no console error or uncaught exception, no request leaving localhost, every Altair
chart drew marks, every formula typeset. A screenshot of each page goes to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots"
CHART_WAIT_MS = 15_000


@pytest.fixture(scope="module")
def site(html_dir: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


def pages(html_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(html_dir)) for p in html_dir.rglob("*.html")
                  if p.parent.name != "_static" and p.name not in {"genindex.html"})


def test_every_page_renders(site: str, browser, html_dir: Path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    for page_path in pages(html_dir):
        problems[page_path] = check_page(browser, f"{site}/{page_path}", page_path)
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, problems


def check_page(browser, url: str, page_path: str) -> list[str]:
    issues: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: m.type == "error" and issues.append(f"console: {m.text[:200]}"))
    page.on("pageerror", lambda e: issues.append(f"exception: {str(e)[:200]}"))
    origin = url.split("/", 3)[:3]

    def guard(route):
        if route.request.url.split("/", 3)[:3] == origin:
            route.continue_()
        else:
            issues.append(f"network: {route.request.url[:120]}")
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="load")
    n_charts = page.locator(".mbpm-chart").count()
    if n_charts:
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('.mbpm-chart svg .mark-group, "
                ".mbpm-chart svg [class^=mark-]').length > 0 && "
                "[...document.querySelectorAll('.mbpm-chart')].every(c => c.querySelector('svg [class^=mark-]'))",
                arg=n_charts, timeout=CHART_WAIT_MS)
        except Exception:  # noqa: BLE001 - reported below as an issue of this page
            issues.append(f"{n_charts} chart(s), not all drew marks")
    n_math = page.locator(".math").count()
    if n_math:
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('mjx-container').length >= n", arg=n_math,
                timeout=CHART_WAIT_MS)
        except Exception:  # noqa: BLE001
            issues.append(f"{n_math} formula(s), not all typeset")
    name = page_path.replace("/", "__").removesuffix(".html")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.close()
    return issues
