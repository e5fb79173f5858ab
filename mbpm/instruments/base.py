"""The common shape of a scoring key, the one missing-item rule, and the input check.

Every instrument module holds a :class:`Key` (its scales as data) and a ``score`` function built
from the helpers here, so reversal, the missing-item rule and range checking are written once:

- **Reversal** of an item with response range ``lo..hi`` is ``(lo + hi) - x`` (MAIA 0-5: ``5 - x``;
  FFMQ 1-5: ``6 - x``). Ranges come from :mod:`mbpm.instruments.items`, the single list of items.
- **Missing items** (:func:`score_scale`): a scale is scored when at least half of its items are
  answered (``ceil(n_items / 2)``: 2 of 4, 2 of 3, 4 of 7, 7 of 13); otherwise it is missing.
  A mean scale is the mean of the answered items; a sum scale is prorated,
  ``sum_answered * n_items / n_answered`` (equal to ``mean * n_items``), so a prorated sum stays on
  the full-form metric. A one-item scale needs its item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mbpm.errors import DataError
from mbpm.instruments.items import ITEM_SETS, ItemSet

Aggregate = Literal["sum", "mean", "item"]
Direction = Literal["better", "worse"]

_ITEM_SET_OF: dict[str, ItemSet] = {c: s for s in ITEM_SETS for c in s.columns}


def _fmt(x: float) -> str:
    """A range bound without a spurious ``.0``."""
    return f"{x:g}"


@dataclass(frozen=True)
class Scale:
    """One score of an instrument.

    ``items`` are columns of questionnaires.csv; ``reversed`` (a subset) are reverse-scored by the
    scorer as ``(lo + hi) - x``. ``aggregate`` is ``sum`` (prorated), ``mean`` or ``item`` (a
    single item passed through). ``score_range`` overrides the range derived from the items (used
    for PROMIS T-scores, whose range is that of the lookup table). ``optional`` scales are scored
    only when their columns are present in the data (``pam_activation``).
    """

    name: str
    label: str
    items: tuple[str, ...]
    aggregate: Aggregate
    higher_is: Direction
    reversed: tuple[str, ...] = ()
    score_range: tuple[float, float] | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        unknown = [c for c in self.items if c not in _ITEM_SET_OF]
        if unknown:
            raise ValueError(f"scale {self.name}: columns not in items.py: {unknown}")
        if not set(self.reversed) <= set(self.items):
            raise ValueError(f"scale {self.name}: reversed items must be among its items")
        if self.aggregate == "item" and len(self.items) != 1:
            raise ValueError(f"scale {self.name}: an 'item' scale has exactly one item")

    @property
    def min_answered(self) -> int:
        """Items that must be answered for the scale to be scored: at least half."""
        return math.ceil(len(self.items) / 2)

    @property
    def item_range(self) -> tuple[float, float]:
        """Response range shared by the scale's items (from items.py)."""
        ranges = {(_ITEM_SET_OF[c].minimum, _ITEM_SET_OF[c].maximum) for c in self.items}
        if len(ranges) != 1:
            raise ValueError(f"scale {self.name}: items with different ranges {ranges}")
        return ranges.pop()

    @property
    def range(self) -> tuple[float, float]:
        """Possible score range: table range, or n*lo..n*hi for sums, lo..hi otherwise."""
        if self.score_range is not None:
            return self.score_range
        lo, hi = self.item_range
        n = len(self.items) if self.aggregate == "sum" else 1
        return (n * lo, n * hi)

    def item_numbers(self) -> str:
        """Items as the form numbers them, reversed marked R, e.g. ``1, 6R, 11``."""
        numbers = [c.rsplit("_", 1)[-1] + ("R" if c in self.reversed else "") for c in self.items]
        return ", ".join(numbers)


@dataclass(frozen=True)
class Key:
    """An instrument's scoring key: its scales plus what the methods chapter says about it."""

    name: str
    title: str
    measures: str
    scales: tuple[Scale, ...]
    missing_rule: str
    reference: str  # BibTeX key(s) in mbpm/instruments/references.bib, comma-separated
    notes: str = ""

    @property
    def items(self) -> tuple[str, ...]:
        """Every item column the key uses (optional scales excluded), in first-use order."""
        cols = [c for s in self.scales if not s.optional for c in s.items]
        return tuple(dict.fromkeys(cols))

    def scale(self, name: str) -> Scale:
        return next(s for s in self.scales if s.name == name)

    def items_summary(self) -> str:
        """Item count and response ranges from items.py, e.g. ``29: 28 x 1-5, 1 x 0-10``."""
        blocks = [s for s in ITEM_SETS if s.instrument == self.name and not s.optional]
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


def check_items(items: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The given item columns as floats, after checking them against items.py.

    Raises :class:`DataError` naming the column, the row and the expected range for a missing
    column, a non-numeric answer, an answer outside the range, or a fraction where the form only
    allows whole numbers. Empty cells (NaN) are unanswered items and pass.
    """
    absent = [c for c in columns if c not in items.columns]
    if absent:
        raise DataError(f"item data: missing column(s) {', '.join(absent)}")
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
    sets = [_ITEM_SET_OF[c] for c in columns]
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
    ``mean``/``item`` scale is ``sum_answered / n``.
    """
    x = values.loc[:, list(scale.items)].to_numpy(dtype=float, copy=True)
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


def score_scales(values: pd.DataFrame, scales: Sequence[Scale]) -> pd.DataFrame:
    """:func:`score_scale` for several scales, as float columns named after the scales."""
    return pd.DataFrame(
        {s.name: score_scale(values, s) for s in scales}, index=values.index, dtype=float
    )
