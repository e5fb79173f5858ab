"""Chapters only tell (issue 12): every code cell is short, indexes no result by position, parses
no label and types no arm, visit or analyte id of the study definition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mbpm import study

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.md"))
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
MAX_LINES = 10
#: Positional indexing and label parsing the chapters used to rely on.
FORBIDDEN = (".iloc[", ".str.split(", "[0]", "[1]", "[1:]", "[-1]", "rsplit(")


def _cells(path: Path) -> list[list[str]]:
    return [[line for line in cell.splitlines() if not line.startswith(":")]
            for cell in CELL.findall(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_cells_only_tell(path):
    d = study.default()
    ids = {*d.arm_ids, *d.visit_ids, *d.analyte_ids}
    for number, cell in enumerate(_cells(path), 1):
        assert len(cell) <= MAX_LINES, f"{path.name}, code cell {number}: {len(cell)} lines"
        source = "\n".join(cell)
        for pattern in FORBIDDEN:
            assert pattern not in source, f"{path.name}, code cell {number}: {pattern!r}"
        typed = {m.group(2) for m in re.finditer(r"(['\"])(.*?)\1", source)} & ids
        assert not typed, f"{path.name}, code cell {number}: study ids typed: {sorted(typed)}"
