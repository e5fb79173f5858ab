"""Per chapter: code cells, glue() calls and the longest code cell (lines), as issue 12 measures them.

Run: ``python benchmarks/chapter_cells.py [chapters/*.md]``. A glue call is a ``glue(`` or ``glue_all(`` in a code
cell (a loop of glue counts once); lines are the cell's source lines without its ``:tags:`` option line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def measure(path: Path) -> tuple[int, int, int]:
    cells = CELL.findall(path.read_text(encoding="utf-8"))
    bodies = [[line for line in c.splitlines() if not line.startswith(":")] for c in cells]
    glue = sum(len(re.findall(r"\bglue(_all)?\(", "\n".join(b))) for b in bodies)
    return len(cells), glue, max((len(b) for b in bodies), default=0)


def main(paths: list[str]) -> None:
    files = [Path(p) for p in paths] or sorted(Path("chapters").glob("*.md"))
    total = [0, 0, 0]
    print(f"{'chapter':<16}{'cells':>6}{'glue':>6}{'longest':>8}")
    for f in files:
        cells, glue, longest = measure(f)
        total = [total[0] + cells, total[1] + glue, max(total[2], longest)]
        print(f"{f.stem:<16}{cells:>6}{glue:>6}{longest:>8}")
    print(f"{'all':<16}{total[0]:>6}{total[1]:>6}{total[2]:>8}")


if __name__ == "__main__":
    main(sys.argv[1:])
