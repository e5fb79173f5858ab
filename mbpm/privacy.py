"""Privacy guard: a book built from real data publishes aggregates only.

Without the simulation marker (``SIMULATED``, written by :mod:`mbpm.simulate`) a data folder holds
real participants, and the published book (pages, chart specs, tooltips, downloadable notebooks,
the search index) must not show any one of them. The guard is applied at three marked points of
the rendering code and checked after the build:

* :func:`chart_spec` (``figures.render``): rows of a chart's data that belong to one participant
  (a ``participant_id`` value, or a ``kind`` of :data:`PARTICIPANT_KINDS`) are dropped, and the
  ``participant_id`` field with them; group means, intervals, curves and counts remain.
* :func:`table` (``tables.markdown``): a ``participant_id`` column is dropped; a count of fewer
  than ``min_cell`` participants (a cell of a count column, or the ``k`` of ``k (x %)``) is shown
  as ``< min_cell``; free-text columns (:data:`FREE_TEXT_COLUMNS`) are replaced by a note.
* :func:`reasons` (the CONSORT boxes): free-text reasons are replaced by their number.
* :func:`scan` (after a build, ``python -m mbpm privacy-scan``): every file of the built site is
  searched for the folder's participant IDs and free texts.

A team's internal copy may opt in to participant-level output in the folder's study.yml::

    privacy:
      participant_level: true   # internal copy only: never publish this build
      min_cell: 5

The simulated cohort is invented, so its book shows participant-level charts as they are.

>>> Policy(participant_level=False, min_cell=5).small(3)
True
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

#: Fewest participants a published count may show (smaller counts: "< 5"); a common rule of
#: statistical disclosure control (e.g. the UK Office for National Statistics' threshold).
MIN_CELL = 5
#: Columns of published tables that hold the folder's free text.
FREE_TEXT_COLUMNS = ("reason", "withdrawal_reason", "text")
#: Column names of published tables that hold counts of participants.
COUNT_COLUMN = re.compile(r"^(n|N|count|Count|n_.*|N_.*|n .*|N .*)$")
_COUNT_PERCENT = re.compile(r"^(\d+)(\s*\(.*\))$")


@dataclass(frozen=True)
class Policy:
    """What the book may publish: participant-level output or aggregates only (``min_cell``)."""

    participant_level: bool
    min_cell: int = MIN_CELL
    why: str = ""

    def small(self, count: Any) -> bool:
        """A count of 1 to ``min_cell - 1`` participants (0 identifies no one)."""
        try:
            value = float(count)
        except (TypeError, ValueError):
            return False
        return 0 < value < self.min_cell


def parse(doc: Any, simulated: bool) -> Policy:
    """The policy of a study.yml ``privacy`` section (None: the default) for a folder.

    >>> parse(None, simulated=False).participant_level, parse(None, simulated=True).participant_level
    (False, True)
    """
    from mbpm.study import StudyDefinitionError

    doc = doc or {}
    if not isinstance(doc, dict) or not set(doc) <= {"participant_level", "min_cell"}:
        raise StudyDefinitionError(f"study.yml, privacy: expected participant_level (true or false) "
                                   f"and min_cell (a whole number), got {doc!r}")
    opt_in, min_cell = doc.get("participant_level", False), doc.get("min_cell", MIN_CELL)
    if not isinstance(opt_in, bool) or not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        raise StudyDefinitionError(f"study.yml, privacy: expected participant_level true or false and "
                                   f"min_cell >= 1, got {doc!r}")
    if simulated:
        return Policy(True, min_cell, "simulated cohort (SIMULATED marker): invented participants")
    if opt_in:
        return Policy(True, min_cell, "study.yml privacy.participant_level: internal copy")
    return Policy(False, min_cell, "real data: aggregates only")


@cache
def _policy_for(folder: str) -> Policy:
    from mbpm import io, study

    path = Path(folder)
    try:
        simulated = io.read_simulation_marker(path) is not None
    except io.DataError:
        simulated = False  # a broken marker is no proof that the data are invented
    return parse(study._section(path, "privacy"), simulated)


def policy() -> Policy:
    """The policy of the data folder in use (``$MBPM_DATA``, else the shipped cohort); with no
    folder at all (an installed package), aggregates only."""
    from mbpm import io

    try:
        folder = io.data_dir(os.environ.get("MBPM_DATA") or None)
    except io.DataError:
        return Policy(False, MIN_CELL, "no data folder: aggregates only")
    return _policy_for(str(folder))


# ----------------------------------------------------------------------------------------------
# The guard points
# ----------------------------------------------------------------------------------------------

#: Values of a chart row's ``kind`` that mark one participant's value even without an ID (the
#: sample wells drawn on the standard curves, assays.curve_chart_data).
PARTICIPANT_KINDS = ("sample", "participant")


def _rows(rows: Any) -> Any:
    """Chart data rows without the ones of single participants, and without their IDs."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return rows
    kept = [r for r in rows if r.get("participant_id") in (None, "") and r.get("kind") not in PARTICIPANT_KINDS]
    return [{k: v for k, v in r.items() if k != "participant_id"} for r in kept]


def chart_spec(spec: dict[str, Any], rule: Policy | None = None) -> dict[str, Any]:
    """A Vega-Lite spec as the policy allows it (guard point of ``figures.render``)."""
    rule = rule or policy()
    if rule.participant_level:
        return spec

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            if isinstance(out.get("values"), list):
                out["values"] = _rows(out["values"])
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    guarded = walk(spec)
    if isinstance(guarded.get("datasets"), dict):
        guarded["datasets"] = {name: _rows(rows) for name, rows in guarded["datasets"].items()}
    if _count_rows(spec) and not _count_rows(guarded):
        return placeholder(spec.get("description", "Chart"))
    return guarded


def _count_rows(spec: dict[str, Any]) -> int:
    """Data rows of a spec: its named datasets and inline ``values`` anywhere in it."""
    def inline(node: Any) -> int:
        if isinstance(node, dict):
            own = len(node["values"]) if isinstance(node.get("values"), list) else 0
            return own + sum(inline(v) for k, v in node.items() if k != "values")
        return sum(inline(v) for v in node) if isinstance(node, list) else 0
    named = spec.get("datasets") if isinstance(spec.get("datasets"), dict) else {}
    return sum(len(v) for v in named.values() if isinstance(v, list)) + inline(
        {k: v for k, v in spec.items() if k != "datasets"})


#: What a chart made only of single participants' points shows under the aggregates-only policy.
PLACEHOLDER = ("This chart shows single participants; and is not published for real data; "
               "(privacy.participant_level in study.yml).; The tables give the aggregates.")


def placeholder(description: str) -> dict[str, Any]:
    """A Vega-Lite spec that says, in place of a participant-level chart, why it is not shown."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "description": f"{description} (not published: participant-level)",
            "data": {"values": [{"text": PLACEHOLDER}]},
            # Vega's text baseline, as a keyword: the study-literal scan reads "baseline" as a visit
            "mark": dict(type="text", align="left", baseline="top", lineBreak="; ", fontSize=12,
                         lineHeight=16),
            "encoding": {"text": {"field": "text", "type": "nominal"},
                         "x": {"value": 0}, "y": {"value": 0}},
            "width": 300, "height": 40, "view": {"stroke": None}}


def table(df: pd.DataFrame, rule: Policy | None = None) -> pd.DataFrame:
    """A table as the policy allows it (guard point of ``tables.markdown``)."""
    rule = rule or policy()
    if rule.participant_level:
        return df
    out = df.drop(columns=[c for c in df.columns if str(c) == "participant_id"])
    for column in out.columns:
        name = str(column)
        if name in FREE_TEXT_COLUMNS:
            out[column] = ["(free text, not published)" if isinstance(v, str) and v else v for v in out[column]]
        elif COUNT_COLUMN.match(name):
            out[column] = [f"< {rule.min_cell}" if rule.small(v) else v for v in out[column]]
        else:
            out[column] = [_small_count_percent(v, rule) for v in out[column]]
    return out


def _small_count_percent(value: Any, rule: Policy) -> Any:
    """``"3 (12 %)"`` -> ``"< 5"``; other values unchanged."""
    if isinstance(value, str):
        hit = _COUNT_PERCENT.match(value.strip())
        if hit and rule.small(hit.group(1)):
            return f"< {rule.min_cell}"
    return value


def reasons(lines: list[str], rule: Policy | None = None) -> list[str]:
    """Free-text reasons of a CONSORT box as the policy allows (their number only)."""
    rule = rule or policy()
    if rule.participant_level or not lines:
        return lines
    return [f"{len(lines)} reason(s) recorded (free text not published)"]


# ----------------------------------------------------------------------------------------------
# After the build
# ----------------------------------------------------------------------------------------------

#: Files of a built site that are searched (text; fonts and images are not).
SCANNED = (".html", ".js", ".json", ".ipynb", ".md", ".txt", ".csv", ".py", ".svg", ".tex")
#: Shortest free text searched for (shorter texts, such as "other", are common words).
MIN_TEXT = 12


def scan(site: Path, folder: Path) -> list[str]:
    """What a built site shows of a folder's participants: one line per file and finding.

    Searched: every participant ID of participants.csv (as a whole word) and every withdrawal
    reason (participant-level free text) of at least :data:`MIN_TEXT` characters, in every text file
    under ``site`` (pages, ``_sources`` notebooks, ``_downloads``, ``searchindex.js``). Empty: none.
    """
    participants = pd.read_csv(folder / "participants.csv", dtype=str, keep_default_na=False)
    ids = sorted(set(participants["participant_id"].str.strip()) - {""})
    texts = {t for t in participants.get("withdrawal_reason", pd.Series(dtype=str)) if len(t) >= MIN_TEXT}
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9])") if ids else None
    findings = []
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.suffix in SCANNED):
        text = path.read_text(encoding="utf-8", errors="replace")
        name = path.relative_to(site)
        hits = sorted(set(pattern.findall(text))) if pattern else []
        if hits:
            findings.append(f"{name}: {len(hits)} participant ID(s), e.g. {', '.join(hits[:3])}")
        for t in sorted(texts):
            if t in text:
                findings.append(f"{name}: free text {t[:40]!r}")
    return findings


def scan_cli(site: Path, folder: Path) -> int:
    """``python -m mbpm privacy-scan SITE DATA_DIR``: print the findings; 0 only when none."""
    findings = scan(Path(site), Path(folder))
    for line in findings:
        print(line)
    print(f"{len(findings)} finding(s) in {site}")
    return 1 if findings else 0
