"""A count quoted in several chapters is one value (issue 13: the methods said 40 outcomes, the
discussion 39). Read from the stored references, which nbval keeps equal to what the chapters
glue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent / "reference"
#: Glue name -> the chapters that quote it.
SHARED_COUNTS = {"n_outcomes": ("methods", "summary", "discussion")}


def glued(chapter: str, name: str) -> str:
    notebook = json.loads((REFERENCE / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                (plain,) = [v for k, v in output["data"].items() if k.endswith("text/plain")]
                return plain
    raise AssertionError(f"{chapter} glues no {name!r}")


@pytest.mark.parametrize("name", SHARED_COUNTS)
def test_a_count_quoted_in_several_chapters_is_one_value(name: str):
    values = {chapter: glued(chapter, name) for chapter in SHARED_COUNTS[name]}
    assert len(set(values.values())) == 1, values
