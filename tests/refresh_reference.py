"""Re-execute every chapter into ``tests/reference/<chapter>.ipynb``: ``make refresh-reference``.

The reference notebooks hold what each chapter reported the last time a change to its numbers
was accepted. ``make test`` re-runs them under nbval and fails, naming the chapter, the cell and
the value, when any output differs (after the sanitizers in ``tests/nbval_sanitize.cfg``).
Run this only for a deliberate change, and review ``git diff tests/reference`` before committing.
The chapters are executed with the machine's default BLAS kernel, threads and NumPy loops (any
override of ``nbval_numbers.SETTINGS`` is dropped), so that the suite, which re-executes them as
on another machine (``nbval_numbers.other_machine``), compares two set-ups every run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
REFERENCE = Path(__file__).resolve().parent / "reference"
PDF_PLACEHOLDER = "<PDF>"


def chapter_files() -> list[Path]:
    """The chapter notebooks listed in _toc.yml, in book order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files if (ROOT / f"{f}.md").read_text().count("code-cell")]


def execute(chapter: Path) -> nbformat.NotebookNode:
    """Execute a MyST chapter as the book does (kernel python3, cwd = chapters/)."""
    notebook = jupytext.read(chapter)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()
    for number, cell in enumerate(notebook.cells, start=1):
        # Stable ids and no timestamps, so `git diff tests/reference` shows only what changed.
        cell.id = f"cell-{number}"
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in [m for m in data if m.endswith("application/pdf")]:  # glued charts too
                data[mime] = PDF_PLACEHOLDER
    return notebook


def main(argv: list[str]) -> int:
    from nbval_numbers import SETTINGS

    for setting in SETTINGS:  # the kernels inherit this environment
        os.environ.pop(setting, None)
    REFERENCE.mkdir(exist_ok=True)
    wanted = set(argv)
    for chapter in chapter_files():
        if wanted and chapter.stem not in wanted:
            continue
        start = time.perf_counter()
        notebook = execute(chapter)
        nbformat.write(notebook, REFERENCE / f"{chapter.stem}.ipynb")
        print(f"{chapter.stem}: {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
