"""Beck Depression Inventory-II (BDI-II; Beck, Steer & Brown 1996).

21 items scored 0-3 (items 16 and 18, with a/b options, are stored as their number: 1a/1b = 1);
no reversed items. Total = sum, 0-63. Severity bands (manual): 0-13 minimal, 14-19 mild,
20-28 moderate, 29-63 severe; a prorated total between bands (e.g. 13.5) falls in the lower band,
since bands start at 14, 20 and 29. Item 9 (suicidal thoughts or wishes) is flagged when above 0.

Missing items: the manual's rule was not retrieved; the package's shared rule applies (total
with at least 11 of 21 items answered, prorated sum). The item-9 flag is NA when item 9 is
unanswered: an unanswered suicide item is not evidence of its absence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales

#: (label, lowest total in the band), from the BDI-II manual.
SEVERITY_BANDS: tuple[tuple[str, float], ...] = (
    ("minimal", 0), ("mild", 14), ("moderate", 20), ("severe", 29),
)

KEY = Key(
    name="bdi2",
    title="Beck Depression Inventory-II (BDI-II)",
    measures="Severity of depressive symptoms over the past two weeks",
    scales=(Scale("total", "Total", tuple(f"bdi_{i}" for i in range(1, 22)), "sum", "worse"),),
    missing_rule=(
        "Manual rule not retrieved: total with at least 11 of 21 items answered, prorated sum "
        "(package rule)."
    ),
    reference="beck1996bdi2",
    notes="Severity: 0–13 minimal, 14–19 mild, 20–28 moderate, 29–63 severe; item 9 > 0 flagged.",
)


def severity(total: pd.Series) -> pd.Series:
    """Severity band of each total, an ordered categorical (NaN total -> NaN band)."""
    labels = [b[0] for b in SEVERITY_BANDS]
    edges = [b[1] for b in SEVERITY_BANDS[1:]]
    return pd.cut(total, [-np.inf, *edges, np.inf], right=False, labels=labels, ordered=True)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """BDI-II ``total``, ``severity`` (ordered categorical) and ``item9_flag`` (boolean:
    item 9 > 0; NA when item 9 is unanswered)."""
    values = check_items(items, KEY.items)
    out = score_scales(values, KEY.scales)
    out["severity"] = severity(out["total"])
    item9 = values["bdi_9"]
    out["item9_flag"] = (item9 > 0).astype("boolean").where(item9.notna())
    return out
