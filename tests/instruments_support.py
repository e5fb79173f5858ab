"""Helpers for the instrument tests: build item rows in the data-contract layout."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mbpm.instruments.items import ITEM_SETS

NAN = np.nan


def middle_row() -> dict[str, float]:
    """Every required item column at a middle answer (floor of the range midpoint)."""
    return {
        c: float((s.minimum + s.maximum) // 2)
        for s in ITEM_SETS
        if not s.optional
        for c in s.columns
    }


def frame(*rows: dict[str, float]) -> pd.DataFrame:
    """A questionnaires-like frame: each row = middle answers overridden by the given values."""
    records = []
    for i, overrides in enumerate(rows):
        record = {"participant_id": f"P{i + 1:03d}", "visit": "baseline", **middle_row()}
        record.update(overrides)
        records.append(record)
    return pd.DataFrame(records)


def numbered(prefix: str, values: list[float], start: int = 1) -> dict[str, float]:
    """``{prefix1: v1, prefix2: v2, ...}`` for item answers typed in order."""
    return {f"{prefix}{i}": float(v) for i, v in enumerate(values, start=start)}
