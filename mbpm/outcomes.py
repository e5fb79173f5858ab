"""The outcomes the statistical plan analyses, in one catalogue, and the tidy table they come in.

An outcome is a questionnaire scale (``"<instrument>.<scale>"``, e.g. ``"pcs.total"``) or an
analyte (``"oxytocin"``). Each belongs to one family of the plan (the statistical plan (methods chapter)), within which
Benjamini-Hochberg controls the false discovery rate:

* biomarkers: the six analytes, analysed on the natural log;
* pain: PROMIS pain interference and intensity, SF-MPQ, PCS;
* mood: BDI-II, PROMIS anxiety, depression, fatigue and sleep disturbance;
* function and activation: PROMIS physical function and social roles, PAM-13;
* mindfulness and interoception: FFMQ and MAIA.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mbpm import instruments
from mbpm.assays import ANALYTE_LABELS, UNITS


_FAMILY_OF_SCALE: dict[str, str] = {
    "promis29.pain_interference": "pain", "promis29.pain_intensity": "pain",
    "promis29.anxiety": "mood", "promis29.depression": "mood", "promis29.fatigue": "mood",
    "promis29.sleep_disturbance": "mood",
    "promis29.physical_function": "function and activation",
    "promis29.social_roles": "function and activation",
}
_FAMILY_OF_INSTRUMENT = {
    "sfmpq": "pain", "pcs": "pain", "bdi2": "mood", "pam13": "function and activation",
    "ffmq": "mindfulness and interoception", "maia": "mindfulness and interoception",
}
FAMILY_ORDER = ("biomarkers", "pain", "mood", "function and activation",
                "mindfulness and interoception")


@dataclass(frozen=True)
class Outcome:
    """One analysed outcome: its id, label for tables and axes, family, direction and unit."""

    id: str
    label: str
    family: str
    higher_is: str  # "better", "worse" or "neutral" (biomarkers)
    unit: str
    log: bool


def catalogue() -> list[Outcome]:
    """Every outcome of the plan, biomarkers first, then the families' scales in key order."""
    found = [Outcome(a, ANALYTE_LABELS[a], "biomarkers", "neutral", UNITS[a], True)
             for a in ANALYTE_LABELS]
    for name, key in instruments.KEYS.items():
        for scale in key.scales:
            oid = f"{name}.{scale.name}"
            family = _FAMILY_OF_SCALE.get(oid) or _FAMILY_OF_INSTRUMENT.get(name)
            if family is None:
                continue
            found.append(Outcome(oid, f"{key.short}: {scale.label}", family,
                                 scale.higher_is, "", False))
    order = {f: i for i, f in enumerate(FAMILY_ORDER)}
    return sorted(found, key=lambda o: order[o.family])


def catalogue_frame() -> pd.DataFrame:
    """The catalogue as a DataFrame indexed by outcome id."""
    return pd.DataFrame([o.__dict__ for o in catalogue()]).set_index("id")


def families() -> dict[str, str]:
    """Outcome id -> family, as :mod:`mbpm.stats` expects."""
    return {o.id: o.family for o in catalogue()}


def log_outcomes() -> list[str]:
    """Outcomes analysed on the natural log (the biomarkers)."""
    return [o.id for o in catalogue() if o.log]


def analysis_table(participants: pd.DataFrame, scores: pd.DataFrame,
                   biomarkers: pd.DataFrame) -> pd.DataFrame:
    """Long table for :mod:`mbpm.stats`: participant_id, group, visit, outcome, value.

    ``scores`` is :func:`mbpm.instruments.score_all`'s output; ``biomarkers`` has one row per
    participant, visit and analyte with the concentration the analysis uses (values below the
    limit of quantification already handled by :func:`mbpm.assays.censor`). Outcomes outside the
    catalogue (for example PAM activation when absent) and missing values are dropped.
    """
    scale_rows = scores.assign(outcome=scores["instrument"] + "." + scores["scale"])
    marker_rows = biomarkers.rename(columns={"analyte": "outcome", "concentration": "value"})
    long = pd.concat([scale_rows[["participant_id", "visit", "outcome", "value"]],
                      marker_rows[["participant_id", "visit", "outcome", "value"]]],
                     ignore_index=True)
    long = long[long["outcome"].isin(families()) & long["value"].notna()]
    groups = participants.set_index("participant_id")["group"]
    long.insert(1, "group", long["participant_id"].map(groups))
    return long.reset_index(drop=True)
