"""What the oxytocin-pain chapter (``chapters/oxytocin_pain.md``) quotes: Spearman's rho between
the change in log oxytocin (the interplay marker) and the change in pain and mood, within the
treated arm and over both arms pooled; counts over all correlations; the reading of the log
ratio; the measurement problems of the marker.

Keys are the chapter's glue names; correlations quoted by name are ``<short>_<who>_<part>``
with who ``treated`` (the treated arm alone) or ``pooled`` (both arms), e.g. ``pi_treated_rho``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mbpm import assays, study
from mbpm.analysis import CORRELATION, Results
from mbpm.findings.format import row_report, study_words
from mbpm.stats import names

#: The correlations the text quotes by name: short name -> outcome.
QUOTED = {"pi": "promis29.pain_interference", "bdi": "bdi2.total"}
#: A log ratio shown as an example (0.1 is a rise of 10.5 %), and the log ratio of a halving.
X_EXAMPLE, X_HALF = 0.1, math.log(0.5)


def _rho(row: pd.Series, name: str) -> dict[str, Any]:
    return {f"{name}_rho": float(row["estimate"]), f"{name}_low": float(row["ci_low"]),
            f"{name}_high": float(row["ci_high"]), f"{name}_n": int(row["n"]),
            f"{name}_test": row_report(row)}


def _counts(corr: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """Over every correlation: how many, of how many outcomes, significant raw and after FDR,
    negative, and the range of rho."""
    return {"n_corr": len(corr), "n_corr_outcomes": corr["outcome"].nunique(),
            "n_corr_fdr": int((corr["p_fdr"] < alpha).sum()),
            "n_corr_raw": int((corr["p"] < alpha).sum()),
            "n_corr_negative": int((corr["estimate"] < 0).sum()),
            "rho_min": float(corr["estimate"].min()), "rho_max": float(corr["estimate"].max()),
            "corr_verdict": "went" if (corr["p_fdr"] < alpha).any() else "did not clearly go"}


def _measurement(biomarkers: pd.DataFrame, marker: str, treated: pd.DataFrame) -> dict[str, Any]:
    """The marker's share of samples below the LLOQ or with a high CV, and the width and n of
    the treated arm's correlations."""
    ox = biomarkers.loc[biomarkers["analyte"] == marker]
    width = treated["ci_high"] - treated["ci_low"]
    return {"ox_pct_below": float(100 * (ox["flag"] == "below_lloq").mean()),
            "ox_pct_high_cv": float(100 * (ox["flag"] == "high_cv").mean()),
            "max_cv": float(assays.MAX_CV), "ci_width_min": float(width.min()),
            "ci_width_max": float(width.max()), "n_treated_min": int(treated["n"].min()),
            "n_treated_max": int(treated["n"].max())}


def findings(results: Results, biomarkers: pd.DataFrame,
             definition: study.Definition | None = None,
             n_main: int | None = None) -> dict[str, Any]:
    """Every number and phrase of the oxytocin-pain chapter's prose (module docstring).
    ``n_main``: the number of outcomes in the chapter's figure (default: the definition's
    outcome set ``interplay_figure``)."""
    d = definition or study.active()
    alpha = d.plan("significance_level")
    corr = results.correlations
    who = {"treated": names.group_contrast([d.treated.id]),
           "pooled": names.group_contrast([d.treated.id, d.control.id])}
    out: dict[str, Any] = {}
    for short, outcome in QUOTED.items():
        for key, contrast in who.items():
            out.update(_rho(results.get(CORRELATION, outcome, contrast), f"{short}_{key}"))
    treated = corr.loc[corr["contrast"] == who["treated"]]
    n_main = len(d.outcome_set("interplay_figure")) if n_main is None else n_main
    return {**out, "alpha": alpha, **_counts(corr, alpha),
            "x_example": X_EXAMPLE, "x_example_pct": 100 * math.expm1(X_EXAMPLE),
            "x_half": X_HALF, "n_main": n_main,
            **_measurement(biomarkers, d.outcome_set("interplay_marker"), treated),
            **study_words(d)}
