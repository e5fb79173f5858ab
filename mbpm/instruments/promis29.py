"""PROMIS-29 Profile v2.0: seven 4-item domains to T-scores, plus pain intensity 0-10.

Items: each domain is its 4a short form (4 items, stored 1-5); ``promis_painint`` is the 0-10
pain-intensity item, reported raw (the profile does not convert it to a T-score).

**No reversal at scoring time.** Sleep items 1-2 (sleep quality, refreshing sleep) and all four
Social Roles items are reverse-*worded*, but the PROMIS paper form prints the *scored* value next
to each box (e.g. sleep quality: Very poor 5 ... Very good 1; social roles: Never 5 ... Always 1),
and the data contract stores "the number printed next to the answer". The stored numbers therefore already
carry the reversal, and a higher raw sum always means more of the named domain (more physical
function, more anxiety, ...). Reversing again here would flip those domains. A REDCap export that
stores the option's position instead of the printed value breaks the contract and must be recoded
before it is loaded.

**Raw sum to T-score:** the HealthMeasures 4a lookup tables in ``promis_tables/<domain>.csv``
(columns raw, t_score, se), typed from the project reference (instruments.md, 1.3), whose primary
source (camrprojects ``lst_promis29_scoring``) and an independent REDCap script citing the PROMIS
manual agree on every T and SE. Physical Function uses **Table A** (raw 4 -> 22.5 ... 20 -> 57.0):
it is the table both sources that carry standard errors (i.e. copied the full manual table) give;
the alternative Table B (22.9 ... 56.9, no SEs) comes from sources that also carry a copy error
elsewhere (Pain Interference raw 20 = 75.8) and is most likely an older PF calibration. This is
not yet verified against the HealthMeasures manual PDF (reference 1.4). Pain Interference raw 20
is 75.6 (three sources; 75.8 looks copied from the Fatigue row).

**Missing items:** the shared rule (at least 2 of 4 answered), with the HealthMeasures proration:
raw = ceil(sum_answered * 4 / n_answered), then table lookup. The HealthMeasures wording of this
rule is recalled, not read from the manual (reference 1.5). The HealthMeasures Scoring Service's
response-pattern scoring gives slightly different T-scores; this is sum-score lookup.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scale

# (scale name = table file stem, item prefix, label, higher is)
_DOMAINS: tuple[tuple[str, str, str, str], ...] = (
    ("physical_function", "pf", "Physical function", "better"),
    ("anxiety", "anx", "Anxiety", "worse"),
    ("depression", "dep", "Depression", "worse"),
    ("fatigue", "fat", "Fatigue", "worse"),
    ("sleep_disturbance", "slp", "Sleep disturbance", "worse"),
    ("social_roles", "sr", "Social roles", "better"),
    ("pain_interference", "pi", "Pain interference", "worse"),
)

@cache
def t_score_table(domain: str) -> pd.DataFrame:
    """The 4a raw-sum lookup table of a domain: columns raw (4-20), t_score, se."""
    path = files("mbpm.instruments") / "promis_tables" / f"{domain}.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"raw": int, "t_score": float, "se": float})
    if table["raw"].tolist() != list(range(4, 21)):
        raise ValueError(f"{path}: raw must run 4..20")
    return table


def _domain_scale(name: str, prefix: str, label: str, higher_is: str) -> Scale:
    t = t_score_table(name)["t_score"]
    return Scale(
        name=name,
        label=f"{label} (T)",
        items=tuple(f"promis_{prefix}{i}" for i in range(1, 5)),
        aggregate="sum",
        higher_is=higher_is,  # type: ignore[arg-type]
        score_range=(float(t.iloc[0]), float(t.iloc[-1])),
    )


T_SCALES: tuple[Scale, ...] = tuple(_domain_scale(*d) for d in _DOMAINS)
PAIN_INTENSITY = Scale(
    "pain_intensity", "Pain intensity (0–10)", ("promis_painint",), "item", "worse"
)

KEY = Key(
    name="promis29",
    title="PROMIS-29 Profile v2.0",
    measures="Health-related quality of life: seven domains and pain intensity",
    scales=(*T_SCALES, PAIN_INTENSITY),
    missing_rule=(
        "Domain scored with at least 2 of 4 items; raw sum prorated as ceil(sum × 4 / n answered) "
        "before the T-score lookup (HealthMeasures guidance; recalled, not read from the manual). "
        "Pain intensity: missing if unanswered."
    ),
    reference="cella2010promis, hays2018promis29",
    notes=(
        "T-scores from the HealthMeasures 4a raw-sum tables (Physical Function: the table with "
        "standard errors, raw 20 = 57.0). Stored values are the scored numbers printed on the "
        "form, so reverse-worded items (sleep 1-2, social roles 1-4) are not reversed again."
    ),
)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """PROMIS-29 scores: seven domain T-scores and pain intensity (0-10, raw).

    Extra columns ``<domain>_raw`` (the prorated raw sum looked up, 4-20) and ``<domain>_se``
    (the table's standard error of the T-score). Rows with fewer than 2 of a domain's 4 items
    answered get NaN for that domain.
    """
    values = check_items(items, KEY.items)
    out: dict[str, np.ndarray] = {}
    extras: dict[str, np.ndarray] = {}
    for scale in T_SCALES:
        raw = np.ceil(score_scale(values, scale))
        table = t_score_table(scale.name)
        ok = ~np.isnan(raw)
        pos = np.where(ok, raw, 4).astype(int) - 4
        out[scale.name] = np.where(ok, table["t_score"].to_numpy()[pos], np.nan)
        extras[f"{scale.name}_raw"] = raw
        extras[f"{scale.name}_se"] = np.where(ok, table["se"].to_numpy()[pos], np.nan)
    out[PAIN_INTENSITY.name] = score_scale(values, PAIN_INTENSITY)
    return pd.DataFrame({**out, **extras}, index=items.index, dtype=float)
