"""Patient Activation Measure, 13 items (PAM-13; Hibbard et al. 2004, 2005).

Items 1 disagree strongly ... 4 agree strongly; "not applicable" is stored empty. No reversed items.

**The 0-100 activation score is proprietary** (Insignia Health's Rasch-based conversion; no
public table). This module never converts: it reports ``pam_mean_item_score``, the mean of the
answered items (1-4, higher = more activated), which is a raw score and not on the activation
metric. Where the licensed scoring service produced activation scores, the data carry them in
``pam_activation`` and they are passed through unchanged, with ``pam_activation_level`` from the
**current Insignia cut points** (SRAlab Rehabilitation Measures page): level 1 <= 47.0,
2 47.1-55.1, 3 55.2-72.4, 4 >= 72.5. We use the current set because scores from today's licensed
service are interpreted with it; the older literature's 67.0/67.1 split for levels 3/4 is not
confirmed by any retrieved source (reference, section 3).

Missing items: mean of the answered items when at least 7 of 13 are answered (the package's
half rule, ceil(13/2) = 7, which is also the validity rule recalled for Insignia's service).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales

#: Upper bounds of activation levels 1-3 (current Insignia cut points); above 72.4 is level 4.
LEVEL_UPPER_BOUNDS: tuple[float, float, float] = (47.0, 55.1, 72.4)

MEAN_ITEM = Scale(
    "pam_mean_item_score",
    "Mean item score (1–4, not the 0–100 activation score)",
    tuple(f"pam_{i}" for i in range(1, 14)),
    "mean",
    "better",
)
ACTIVATION = Scale(
    "pam_activation",
    "Activation score (licensed scoring, when provided)",
    ("pam_activation",),
    "item",
    "better",
    optional=True,
)

KEY = Key(
    name="pam13",
    title="Patient Activation Measure (PAM-13)",
    measures="Knowledge, skill and confidence for managing one's own health",
    scales=(MEAN_ITEM, ACTIVATION),
    missing_rule=(
        "Mean of answered items when at least 7 of 13 are answered ('not applicable' counts as "
        "unanswered; package half rule, equal to the recalled Insignia validity rule)."
    ),
    reference="hibbard2004pam, hibbard2005pam13",
    notes=(
        "The 0–100 activation conversion is proprietary and is not computed; activation levels "
        "use the current Insignia cut points (47.0, 55.1, 72.4) and only when the data provide "
        "licensed activation scores."
    ),
)


def activation_level(activation: pd.Series) -> pd.Series:
    """Activation level 1-4 from 0-100 scores (nullable integer; NA where the score is NA)."""
    x = activation.to_numpy(dtype=float, na_value=np.nan)
    level = 1 + sum((x > b).astype(int) for b in LEVEL_UPPER_BOUNDS)
    return pd.Series(level, index=activation.index).astype("Int64").where(~np.isnan(x))


def score(items: pd.DataFrame) -> pd.DataFrame:
    """``pam_mean_item_score``; plus ``pam_activation`` and ``pam_activation_level`` (Int64)
    only when ``items`` has a ``pam_activation`` column."""
    scales = [MEAN_ITEM, ACTIVATION] if ACTIVATION.items[0] in items.columns else [MEAN_ITEM]
    columns = [c for s in scales for c in s.items]
    out = score_scales(check_items(items, columns), scales)
    if ACTIVATION in scales:
        out["pam_activation_level"] = activation_level(out["pam_activation"])
    return out
