"""The book's parallel pre-execution (chapters/_ext/book_assets.py, ``execute_stale_notebooks``)
on a throwaway two-page book: outputs land in the execution cache where myst-nb finds them, and
a failing cell still fails the build."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def page(title: str, code: str) -> str:
    return HEADER + f"# {title}\n\n```{{code-cell}} ipython3\n{code}\n```\n"


def make_book(root: Path, pages: dict[str, str]) -> Path:
    root.mkdir()
    (root / "_config.yml").write_text(textwrap.dedent(f"""\
        title: t
        only_build_toc_files: true
        execute:
          execute_notebooks: cache
          raise_on_error: true
          run_in_temp: false
        sphinx:
          local_extensions:
            book_assets: {ROOT / "chapters" / "_ext"}
          config:
            book_strict: true
        """))
    names = list(pages)
    (root / "_toc.yml").write_text("format: jb-book\nroot: " + names[0] + "\nchapters:\n"
                                   + "".join(f"- file: {n}\n" for n in names[1:]))
    for name, text in pages.items():
        (root / f"{name}.md").write_text(text)
    return root


def build(book: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MBPM_CACHE_DIR": str(book / "_build" / "c")}
    return subprocess.run([str(JUPYTER_BOOK), "build", str(book), "--builder", "html", "-W",
                           "--keep-going"], capture_output=True, text=True, env=env, timeout=600,
                          cwd=book)


@pytest.mark.slow
def test_stale_pages_are_executed_first_and_read_from_the_cache(tmp_path: Path) -> None:
    book = make_book(tmp_path / "book", {"intro": page("Intro", "print('one' * 2)"),
                                         "second": page("Second", "print(6 * 7)"),
                                         "third": page("Third", "print('three')")})
    result = build(book)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "[book_assets] executing 3 notebooks, 2 at a time" in log
    assert log.count("Using cached notebook") == 3 and "Executing notebook using" not in log
    assert "oneone" in (book / "_build" / "html" / "intro.html").read_text()
    assert "42" in (book / "_build" / "html" / "second.html").read_text()
    # Nothing changed: nothing is executed again.
    again = build(book)
    assert again.returncode == 0 and "executing" not in again.stdout


@pytest.mark.slow
def test_a_failing_cell_still_fails_the_build(tmp_path: Path) -> None:
    book = make_book(tmp_path / "book", {"intro": page("Intro", "print('fine')"),
                                         "broken": page("Broken", "raise ValueError('boom 1234')"),
                                         "third": page("Third", "print('three')")})
    result = build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert "[book_assets] broken failed; left to myst-nb to report" in log
    assert "Executing notebook failed" in log and "boom 1234" in log
