"""The outcomes the statistical plan analyses, in one catalogue, and the tidy table they come in.

An outcome is a questionnaire scale (``"<instrument>.<scale>"``, e.g. ``"pcs.total"``) or an
analyte (``"oxytocin"``). Each belongs to one family of the plan, within which Benjamini-Hochberg
controls the false discovery rate. The families, their order and their members come from the
study definition (``families`` in mbpm/study.yml); analytes are analysed on the natural log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mbpm import instruments, study
from mbpm.errors import DataError
from mbpm.assays import ANALYTE_LABELS, UNITS, factorize

FAMILY_ORDER = study.active().family_order


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
    definition = study.active()
    found = [Outcome(a, ANALYTE_LABELS[a], str(definition.biomarker_family), "neutral", UNITS[a],
                     True) for a in ANALYTE_LABELS]
    for name, key in instruments.KEYS.items():
        for scale in key.scales:
            oid = f"{name}.{scale.name}"
            family = definition.family_of(name, scale.name)  # the definition covers every scale
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
    limit of quantification already handled by :func:`mbpm.assays.censor`). Missing values are
    dropped; an outcome outside the catalogue raises :class:`~mbpm.errors.DataError` (a scale or
    analyte the study definition does not know would otherwise vanish from every analysis).
    """
    scale_rows = scores.assign(outcome=_scale_outcomes(scores))
    marker_rows = biomarkers.rename(columns={"analyte": "outcome", "concentration": "value"})
    long = pd.concat([scale_rows[["participant_id", "visit", "outcome", "value"]],
                      marker_rows[["participant_id", "visit", "outcome", "value"]]],
                     ignore_index=True)
    known = long["outcome"].isin(families())
    if not known.all():
        unknown = list(dict.fromkeys(long.loc[~known, "outcome"]))
        raise DataError(f"outcome(s) {', '.join(map(repr, unknown))} not in the catalogue of the "
                        f"study definition ({study.active().source}: instruments, analytes)")
    long = long[long["value"].notna()]
    groups = participants.set_index("participant_id")["group"]
    long.insert(1, "group", long["participant_id"].map(groups))
    return long.reset_index(drop=True)


def _scale_outcomes(scores: pd.DataFrame) -> pd.Series:
    """The outcome id of each score row, ``instrument + "." + scale`` (``promis_pain.tscore``),
    joined once per distinct pair and placed by the pair's codes (the same Series, dtype
    included, as adding the two text columns row by row, which it falls back to when a cell is
    missing)."""
    inst, inst_names = factorize(scores["instrument"])
    scale, scale_names = factorize(scores["scale"])
    if (inst < 0).any() or (scale < 0).any():
        return scores["instrument"] + "." + scores["scale"]
    names = np.array([f"{i}.{s}" for i in inst_names for s in scale_names], dtype=object)
    return pd.Series(names[inst * len(scale_names) + scale], index=scores.index,
                     dtype=scores["instrument"].dtype)
