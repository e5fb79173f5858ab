"""The stored chapter references (tests/reference/*.ipynb) must match the chapters' code.

nbval re-runs the *reference* notebooks and compares every output with the stored one; these
tests make sure those references are the chapters as they are now, so a chapter edit without
``make refresh-reference`` fails here instead of silently testing old code.
"""

from __future__ import annotations

import jupytext
import nbformat
import pytest
from refresh_reference import REFERENCE, chapter_files


def code_cells(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


@pytest.mark.parametrize("chapter", chapter_files(), ids=lambda p: p.stem)
def test_reference_is_current(chapter):
    reference = REFERENCE / f"{chapter.stem}.ipynb"
    assert reference.exists(), f"no reference for {chapter.stem}: run `make refresh-reference`"
    stored = nbformat.read(reference, as_version=4)
    assert code_cells(stored) == code_cells(jupytext.read(chapter)), (
        f"{chapter.stem}.md changed since its reference was stored: "
        "run `make refresh-reference` and review the diff of tests/reference/"
    )


def test_every_reference_has_outputs():
    for reference in sorted(REFERENCE.glob("*.ipynb")):
        stored = nbformat.read(reference, as_version=4)
        assert any(c.get("outputs") for c in stored.cells if c.cell_type == "code"), reference.name
