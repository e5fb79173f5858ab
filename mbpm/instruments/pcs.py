"""Pain Catastrophizing Scale (PCS; Sullivan, Bishop & Pivik 1995).

13 items, 0 not at all ... 4 all the time; no reversed items. Scores are sums: rumination
(8-11, 0-16), magnification (6, 7, 13; 0-12), helplessness (1-5, 12; 0-24), total (1-13, 0-52).

**Clinical cut-off: total >= 30.** The PCS User Manual (Sullivan 2009) is quoted as "a total score
of 30 or more", about the 75th percentile of chronic pain patients; some secondary pages
paraphrase it as "above 30". We follow the manual, the primary source, so 30 itself is flagged.

Missing items: Sullivan (1995) gives no rule; the package's shared rule applies (each score with at
least half its items answered, prorated sum: rumination 2 of 4, magnification 2 of 3,
helplessness 3 of 6, total 7 of 13). The flag uses the prorated total.
"""

from __future__ import annotations

import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales

CLINICAL_CUTOFF = 30.0  # total >= 30 is clinically relevant catastrophizing (PCS manual)


def _items(*numbers: int) -> tuple[str, ...]:
    return tuple(f"pcs_{i}" for i in numbers)


KEY = Key(
    name="pcs",
    title="Pain Catastrophizing Scale (PCS)",
    measures="Catastrophic thinking about pain",
    scales=(
        Scale("total", "Total", _items(*range(1, 14)), "sum", "worse"),
        Scale("rumination", "Rumination", _items(8, 9, 10, 11), "sum", "worse"),
        Scale("magnification", "Magnification", _items(6, 7, 13), "sum", "worse"),
        Scale("helplessness", "Helplessness", _items(1, 2, 3, 4, 5, 12), "sum", "worse"),
    ),
    missing_rule=(
        "No published rule: each score with at least half its items answered, prorated sum "
        "(package rule)."
    ),
    reference="sullivan1995pcs, sullivan2009pcsmanual",
    notes="Clinically relevant catastrophizing: total ≥ 30 (PCS User Manual).",
)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """PCS total and subscale sums, plus ``clinical_catastrophizing`` (boolean, total >= 30;
    NA where the total is missing)."""
    out = score_scales(check_items(items, KEY.items), KEY.scales)
    out["clinical_catastrophizing"] = (out["total"] >= CLINICAL_CUTOFF).astype("boolean").where(
        out["total"].notna()
    )
    return out
