"""The shape of a scoring key, the one missing-item rule, the input check and the generic scorer.

A questionnaire is one key file (``keys/<name>.yml``, read by :mod:`mbpm.instruments.registry`)
turned into a :class:`Key`; :func:`score_key` scores any key, so reversal, the missing-item rule,
lookup tables and range checking are written once:

- **Reversal** of an item with response range ``lo..hi`` is ``(lo + hi) - x`` (MAIA 0-5: ``5 - x``;
  FFMQ 1-5: ``6 - x``). Ranges come from the key's item blocks.
- **Missing items** (:func:`score_scale`): a scale is scored when at least half of its items are
  answered (``ceil(n_items / 2)``: 2 of 4, 2 of 3, 4 of 7, 7 of 13); otherwise it is missing.
  A mean scale is the mean of the answered items; a sum scale is prorated,
  ``sum_answered * n_items / n_answered`` (equal to ``mean * n_items``), so a prorated sum stays on
  the full-form metric. A one-item scale needs its item.
- **Lookup tables** (PROMIS T-scores): the prorated raw sum is rounded as the key says
  (``ceil``) and looked up; the table's other columns (``se``) come out as ``<scale>_<column>``,
  and the raw sum as ``<scale>_raw``.
- **Derived values** (:class:`Derived`): a flag (scale at least, or item above, a threshold),
  labelled bands of a scale (lower bounds, inclusive) or numbered levels (upper bounds, inclusive).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from mbpm.errors import DataError

Aggregate = Literal["sum", "mean", "item"]
Direction = Literal["better", "worse"]


def _fmt(x: float) -> str:
    """A range bound without a spurious ``.0``."""
    return f"{x:g}"


@dataclass(frozen=True)
class ItemSet:
    """A block of item columns of questionnaires.csv that share a response range."""

    instrument: str
    columns: tuple[str, ...]
    minimum: float
    maximum: float
    integer: bool = True
    optional: bool = False  # the column may be absent from the file


@dataclass(frozen=True)
class Lookup:
    """A raw-score conversion table: ``raw`` (whole numbers, consecutive), ``t_score`` and any
    further columns (e.g. ``se``); ``rounding`` turns a prorated raw sum into a table row."""

    table: pd.DataFrame = field(compare=False, hash=False, repr=False)
    source: str = ""
    rounding: Literal["ceil"] = "ceil"

    def convert(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """``{"t_score": ..., "raw": rounded raw, <other column>: ...}``; NaN where raw is NaN."""
        rounded = np.ceil(raw)
        first = int(self.table["raw"].iloc[0])
        ok = ~np.isnan(rounded)
        pos = np.where(ok, rounded, first).astype(int) - first
        out = {"raw": rounded}
        for column in self.table.columns.drop("raw"):
            out[column] = np.where(ok, self.table[column].to_numpy(float)[pos], np.nan)
        return out


@dataclass(frozen=True)
class Scale:
    """One score of an instrument.

    ``items`` are columns of questionnaires.csv sharing the response range ``item_range``;
    ``reversed`` (a subset) are reverse-scored as ``(lo + hi) - x``. ``aggregate`` is ``sum``
    (prorated), ``mean`` or ``item`` (a single item passed through). ``lookup`` converts the raw sum
    (PROMIS T-scores; the scale's range is then the table's). ``optional`` scales are scored only
    when their columns are present in the data (``pam_activation``).
    """

    name: str
    label: str
    items: tuple[str, ...]
    aggregate: Aggregate
    higher_is: Direction
    item_range: tuple[float, float]
    reversed: tuple[str, ...] = ()
    optional: bool = False
    lookup: Lookup | None = None

    @property
    def min_answered(self) -> int:
        """Items that must be answered for the scale to be scored: at least half."""
        return math.ceil(len(self.items) / 2)

    @property
    def range(self) -> tuple[float, float]:
        """Possible score range: the lookup table's, or n*lo..n*hi for sums, lo..hi otherwise."""
        if self.lookup is not None:
            t = self.lookup.table["t_score"]
            return (float(t.min()), float(t.max()))
        lo, hi = self.item_range
        n = len(self.items) if self.aggregate == "sum" else 1
        return (n * lo, n * hi)

    def item_numbers(self) -> str:
        """Items as the form numbers them, reversed marked R, e.g. ``1, 6R, 11``."""
        numbers = [_number(c) + ("R" if c in self.reversed else "") for c in self.items]
        return ", ".join(numbers)


def _number(column: str) -> str:
    """The item number at the end of a column name (``promis_pf3`` -> ``3``, ``maia_12`` -> ``12``)."""
    digits = len(column) - len(column.rstrip("0123456789"))
    return column[-digits:] if digits else column


@dataclass(frozen=True)
class Derived:
    """A value derived from a scale or an item (see the module docstring).

    ``kind``: ``flag`` (``at_least`` on a scale, or ``above`` on an item), ``bands`` (``bounds``
    = the lowest value of each labelled band, inclusive, in order) or ``levels`` (``bounds`` = the
    highest value of levels 1, 2, ..., inclusive; above the last is the next level).
    """

    name: str
    kind: Literal["flag", "bands", "levels"]
    source: str  # a scale name, or an item column for an item flag
    on_item: bool = False
    threshold: float = 0.0
    bounds: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()

    def apply(self, values: pd.Series) -> pd.Series:
        """The derived value of each element of ``values`` (NA where the value is NA)."""
        x = values.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(x)
        if self.kind == "flag":
            hit = (x > self.threshold) if self.on_item else (x >= self.threshold)
            return pd.Series(hit, index=values.index).astype("boolean").where(~missing)
        if self.kind == "levels":
            level = 1 + sum((x > b).astype(int) for b in self.bounds)
            return pd.Series(level, index=values.index).astype("Int64").where(~missing)
        edges = [-np.inf, *self.bounds[1:], np.inf]
        return pd.cut(pd.Series(x, index=values.index), edges, right=False,
                      labels=list(self.labels), ordered=True)


@dataclass(frozen=True)
class Key:
    """An instrument's scoring key: its item blocks, scales, derived values and what the methods
    chapter says about it."""

    name: str
    title: str
    short: str
    version: str
    measures: str
    blocks: tuple[ItemSet, ...]
    scales: tuple[Scale, ...]
    missing_rule: str
    reference: str  # BibTeX key(s) in mbpm/instruments/references.bib, comma-separated
    notes: str = ""
    derived: tuple[Derived, ...] = ()

    @property
    def items(self) -> tuple[str, ...]:
        """Every item column the key uses (optional scales excluded), in first-use order."""
        cols = [c for s in self.scales if not s.optional for c in s.items]
        return tuple(dict.fromkeys(cols))

    def scale(self, name: str) -> Scale:
        found = [s for s in self.scales if s.name == name]
        if not found:
            raise KeyError(f"{self.name} has no scale {name!r}; its scales: "
                           f"{', '.join(s.name for s in self.scales)}")
        return found[0]

    def derived_value(self, name: str) -> Derived:
        found = [d for d in self.derived if d.name == name]
        if not found:
            raise KeyError(f"{self.name} has no derived value {name!r}")
        return found[0]

    def items_summary(self) -> str:
        """Item count and response ranges, e.g. ``29 (28 × 1–5, 1 × 0–10)``."""
        blocks = [b for b in self.blocks if not b.optional]
        parts = [f"{len(b.columns)} × {_fmt(b.minimum)}–{_fmt(b.maximum)}" for b in blocks]
        return f"{sum(len(b.columns) for b in blocks)} ({', '.join(parts)})"

    def table_row(self) -> dict[str, str]:
        """One row of the methods chapter's instrument table."""
        scales = "; ".join(s.label for s in self.scales)
        ranges = "; ".join(f"{s.label} {_fmt(s.range[0])}–{_fmt(s.range[1])}" for s in self.scales)
        directions = {s.higher_is for s in self.scales}
        if len(directions) == 1:
            direction = f"higher = {directions.pop()}"
        else:
            direction = "; ".join(f"{s.label}: higher = {s.higher_is}" for s in self.scales)
        return {
            "instrument": self.title,
            "measures": self.measures,
            "items": self.items_summary(),
            "scales": scales,
            "range": ranges,
            "direction": direction,
            "missing_item_rule": self.missing_rule,
            "reference": self.reference,
        }

    def scale_rows(self) -> list[dict[str, object]]:
        """One row per scale: items (reversed marked R), aggregation, range, direction."""
        return [
            {
                "instrument": self.name,
                "scale": s.name,
                "label": s.label,
                "items": s.item_numbers(),
                "n_items": len(s.items),
                "reversed": ", ".join(s.reversed),
                "aggregate": s.aggregate,
                "min": s.range[0],
                "max": s.range[1],
                "higher_is": s.higher_is,
                "min_answered": s.min_answered,
            }
            for s in self.scales
        ]


def _row_label(items: pd.DataFrame, position: int) -> str:
    """``row <index label>`` plus participant and visit when the frame has them."""
    label = f"row {items.index[position]}"
    ids = [str(items[c].iloc[position]) for c in ("participant_id", "visit") if c in items.columns]
    return f"{label} ({', '.join(ids)})" if ids else label


def check_items(items: pd.DataFrame, blocks: Sequence[ItemSet],
                columns: Sequence[str]) -> pd.DataFrame:
    """The given item columns as floats, after checking them against their blocks' ranges.

    Raises :class:`DataError` naming the column, the row and the expected range for a missing
    column, a non-numeric answer, an answer outside the range, or a fraction where the form only
    allows whole numbers. Empty cells (NaN) are unanswered items and pass.
    """
    absent = [c for c in columns if c not in items.columns]
    if absent:
        raise DataError(f"item data: missing column(s) {', '.join(absent)}")
    block_of = {c: b for b in blocks for c in b.columns}
    frame = items.loc[:, list(columns)]
    converted = {}
    for c in columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raw = frame[c]
            num = pd.to_numeric(raw.astype("string").str.strip().replace("", pd.NA), errors="coerce")
            bad = num.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
            if bad.any():
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(
                    f"item data, {_row_label(items, pos)}, column {c}: expected a number, "
                    f"got {raw.iloc[pos]!r}"
                )
            converted[c] = num.astype(float)
    if converted:
        frame = frame.assign(**converted)
    x = frame.to_numpy(dtype=float, na_value=np.nan)
    sets = [block_of[c] for c in columns]
    lo = np.array([s.minimum for s in sets])
    hi = np.array([s.maximum for s in sets])
    whole = np.array([s.integer for s in sets])
    with np.errstate(invalid="ignore"):
        bad = (x < lo) | (x > hi) | (whole & (x != np.round(x)) & ~np.isnan(x))
    if bad.any():
        r, c = (int(i[0]) for i in np.nonzero(bad))
        s = sets[c]
        kind = "an integer" if s.integer else "a number"
        more = int(bad.sum()) - 1
        extra = f" ({more} more out-of-range answer(s) in this data)" if more else ""
        raise DataError(
            f"item data, {_row_label(items, r)}, column {columns[c]}: expected {kind} from "
            f"{_fmt(s.minimum)} to {_fmt(s.maximum)}, got {_fmt(x[r, c])}{extra}"
        )
    return pd.DataFrame(x, index=items.index, columns=list(columns))


def score_scale(values: pd.DataFrame, scale: Scale) -> np.ndarray:
    """One scale's score per row, with reversal and the shared missing-item rule.

    ``values`` are checked items (:func:`check_items`). Reversed items become ``(lo + hi) - x``.
    With ``n`` answered items out of ``N``: missing if ``n < ceil(N / 2)``; else a ``sum`` scale is
    ``sum_answered * N / n`` (computed in that order so a whole-number result is exact), a
    ``mean``/``item`` scale is ``sum_answered / n``. (A lookup scale's conversion is applied by
    :func:`score_key`.)
    """
    return _score_items(values.loc[:, list(scale.items)].to_numpy(dtype=float, copy=True), scale)


def _score_items(x: np.ndarray, scale: Scale) -> np.ndarray:
    """:func:`score_scale` of ``x``, a float copy of the scale's item columns (changed in place)."""
    if scale.reversed:
        lo, hi = scale.item_range
        idx = [scale.items.index(c) for c in scale.reversed]
        x[:, idx] = (lo + hi) - x[:, idx]
    answered = (~np.isnan(x)).sum(axis=1)
    total = np.nansum(x, axis=1)
    enough = answered >= scale.min_answered
    safe_n = np.where(enough, answered, 1)
    if scale.aggregate == "sum":
        score = total * len(scale.items) / safe_n
    else:
        score = total / safe_n
    return np.where(enough, score, np.nan)


def score_key(key: Key, items: pd.DataFrame) -> pd.DataFrame:
    """Every scale of ``key`` for each row of ``items``, then the lookup extras and derived values.

    Columns: the scales in key order (optional scales only when their columns are in ``items``),
    then ``<scale>_raw`` and ``<scale>_<column>`` of lookup scales, then the derived values. Rows
    with too few answered items get NaN for that scale. Raises :class:`DataError` on a missing
    column or an out-of-range answer.

    >>> from mbpm.instruments import KEYS
    >>> rows = pd.DataFrame({f"pcs_{i}": [2.0] for i in range(1, 14)})
    >>> score_key(KEYS["pcs"], rows).loc[0, ["total", "rumination"]].tolist()
    [26.0, 8.0]
    """
    scales = [s for s in key.scales if not s.optional or all(c in items.columns for c in s.items)]
    columns = list(dict.fromkeys(c for s in scales for c in s.items))
    values = check_items(items, key.blocks, columns)
    x, at = values.to_numpy(dtype=float), {c: j for j, c in enumerate(columns)}
    out: dict[str, np.ndarray] = {}
    extras: dict[str, np.ndarray] = {}
    for scale in scales:  # score_scale, on the item array (its columns taken by position)
        score = _score_items(x[:, [at[c] for c in scale.items]], scale)
        if scale.lookup is not None:
            converted = scale.lookup.convert(score)
            score = converted.pop("t_score")
            extras.update({f"{scale.name}_{k}": v for k, v in converted.items()})
        out[scale.name] = score
    frame = pd.DataFrame({**out, **extras}, index=items.index, dtype=float)
    for d in key.derived:
        if d.on_item:
            frame[d.name] = d.apply(values[d.source])
        elif d.source in frame:
            frame[d.name] = d.apply(frame[d.source])
    return frame
