"""Re-execute every chapter into ``tests/reference/<chapter>.ipynb``: ``make refresh-reference``.

The reference notebooks hold what each chapter reported the last time a change to its numbers
was accepted. ``make test`` re-runs them under nbval and fails, naming the chapter, the cell and
the value, when any output differs (after the sanitizers in ``tests/nbval_sanitize.cfg``).
Run this only for a deliberate change, and review ``git diff tests/reference`` before committing.
The chapters are executed as on another machine (``nbval_numbers.other_machine``: OpenBLAS's
Prescott kernel, one thread, an older CPU's NumPy loops; any other override of
``nbval_numbers.SETTINGS`` is dropped), so that the suite, which re-executes them with the
machine's defaults as the book build does, compares two set-ups every run. Each reference
records the set-up its kernel had (``metadata.mbpm.stored_on``: OpenBLAS kernel and threads,
NumPy's CPU features), which tests/test_portability.py compares with the suite's kernels.
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


def chapter_files() -> list[Path]:
    """The chapter notebooks listed in _toc.yml, in book order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files if (ROOT / f"{f}.md").read_text().count("code-cell")]


#: Printed by a kernel: NumPy's OpenBLAS kernel and threads (SciPy loads an OpenBLAS of its own,
#: with the same settings) and NumPy's CPU features, as JSON.
MACHINE_INFO = (
    "import json, numpy, threadpoolctl\n"
    "from numpy._core._multiarray_umath import __cpu_features__\n"
    "(blas,) = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas'\n"
    "           and 'numpy' in i['filepath']]\n"
    "print(json.dumps({'architecture': blas['architecture'], 'threads': blas['num_threads'], "
    "'numpy': sorted(k for k, v in __cpu_features__.items() if v)}))")


def execute(chapter: Path) -> nbformat.NotebookNode:
    """Execute a MyST chapter as the book does (kernel python3, cwd = chapters/); the kernel's
    set-up (:data:`MACHINE_INFO`, run after the chapter) goes into ``metadata.mbpm.stored_on``."""
    import json

    notebook = jupytext.read(chapter)
    notebook.cells.append(nbformat.v4.new_code_cell(MACHINE_INFO))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()
    probe = notebook.cells.pop()
    stored_on = json.loads("".join(o.get("text", "") for o in probe.outputs))
    notebook.metadata["mbpm"] = {"stored_on": stored_on}
    for number, cell in enumerate(notebook.cells, start=1):
        # Stable ids and no timestamps, so `git diff tests/reference` shows only what changed.
        cell.id = f"cell-{number}"
        cell.get("metadata", {}).pop("execution", None)
    return notebook


def main(argv: list[str]) -> int:
    from nbval_numbers import SETTINGS, other_machine

    for setting in SETTINGS:  # the kernels inherit this environment
        os.environ.pop(setting, None)
    os.environ.update(other_machine())
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
