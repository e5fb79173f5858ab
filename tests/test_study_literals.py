"""No study literal outside the study definition: the arm, visit and analyte ids of the shipped
definition (mbpm/study.yml) must not appear as string literals in ``mbpm/**/*.py`` or in the code
cells of ``chapters/*.md``; code takes them from :func:`mbpm.study.active` (roles such as
``treated``/``pre``, the analyte list, the named outcome sets).

A literal is a Python string constant (parsed with :mod:`ast`, f-string parts included) equal to
an id, e.g. ``"MBPM"`` or ``== "week8"``; an id inside a longer text (a docstring, a message) is
not one. The scan fails naming ``file:line``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mbpm import study

ROOT = Path(__file__).resolve().parent.parent
#: Files allowed to type a study id: none (the definition and the instrument keys are YAML).
ALLOWED: set[str] = set()
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def study_ids(definition: study.Definition) -> frozenset[str]:
    """The ids a literal may not spell: arms, visits, analytes."""
    return frozenset((*definition.arm_ids, *definition.visit_ids, *definition.analyte_ids))


def literals(source: str, ids: frozenset[str], first_line: int = 1) -> list[tuple[int, str]]:
    """(line, id) of every string constant of ``source`` equal to one of ``ids``."""
    tree = ast.parse(source)
    return sorted((node.lineno + first_line - 1, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and node.value in ids)


def code_cells(text: str) -> list[tuple[int, str]]:
    """(first line, code) of each ``{code-cell}`` of a MyST notebook; cell options dropped."""
    cells = []
    for match in _CELL.finditer(text):
        body = match.group(1)
        line = text.count("\n", 0, match.start(1)) + 1
        lines = body.split("\n")
        while lines and lines[0].startswith(":"):
            lines.pop(0)
            line += 1
        cells.append((line, "\n".join(lines)))
    return cells


def scan(root: Path, ids: frozenset[str]) -> dict[str, list[tuple[int, str]]]:
    """Every literal, by file relative to ``root`` (only files that have one)."""
    found: dict[str, list[tuple[int, str]]] = {}
    for path in sorted((root / "mbpm").rglob("*.py")):
        hits = literals(path.read_text(encoding="utf-8"), ids)
        if hits:
            found[path.relative_to(root).as_posix()] = hits
    for path in sorted((root / "chapters").glob("*.md")):
        hits = [h for line, code in code_cells(path.read_text(encoding="utf-8"))
                for h in literals(code, ids, line)]
        if hits:
            found[path.relative_to(root).as_posix()] = hits
    return found


def test_no_study_literal_outside_the_definition():
    found = scan(ROOT, study_ids(study.default()))
    bad = [f"{file}:{line}: {value!r}" for file, hits in found.items() if file not in ALLOWED
           for line, value in hits]
    assert not bad, "study ids typed as literals (take them from mbpm.study.active()):\n" + \
        "\n".join(bad)


def test_the_scan_finds_a_planted_literal(tmp_path: Path):
    (tmp_path / "mbpm").mkdir()
    (tmp_path / "chapters").mkdir()
    (tmp_path / "mbpm" / "x.py").write_text('"""MBPM in a docstring is text."""\n'
                                            'ARMS = ("MBPM",)\nlabel = f"{1}week8"\n')
    (tmp_path / "chapters" / "c.md").write_text("# t\n\n```{code-cell} ipython3\n:tags: [x]\n"
                                                "a = 1\nb = df[df.visit == 'week8']\n```\n")
    ids = study_ids(study.default())
    assert scan(tmp_path, ids) == {"mbpm/x.py": [(2, "MBPM"), (3, "week8")],
                                   "chapters/c.md": [(6, "week8")]}


def test_every_allowed_file_exists():
    assert all((ROOT / name).is_file() for name in ALLOWED)

