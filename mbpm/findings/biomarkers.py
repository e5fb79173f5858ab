"""What the biomarker chapter (``chapters/biomarkers.md``) quotes: the primary ANCOVA of the
interplay marker (oxytocin), its change within each arm, the other analytes' adjusted ratios,
the samples below the limit of quantification and the degrees of freedom of the tests.

Keys are the chapter's glue names; arm-dependent keys are named by role (``ox_treated_fold``,
``ox_control_test``), so a study with other arm names reads the same.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mbpm import study
from mbpm.analysis import Results
from mbpm.findings.format import biomarker_p_text, english_list, lower_first, row_report, study_words
from mbpm.stats import names

#: A ratio of geometric means shown as an example of how to read one (1.25 = 25 % higher).
RATIO_EXAMPLE = 1.25
#: How the text names each rule for values below the LLOQ (mbpm.assays.censor).
BELOW_LLOQ_WORDS = {"half_lloq": "half the LLOQ", "lloq": "the LLOQ itself",
                    "missing": "a missing value"}


def _primary(results: Results, marker: str, alpha: float) -> dict[str, Any]:
    """The ANCOVA ratio of the marker with its CI, test, FDR p and whether it reached alpha."""
    ox = results.get(names.ANCOVA, marker)
    return {"ox_ratio": float(ox["estimate"]), "ox_ratio_low": float(ox["ci_low"]),
            "ox_ratio_high": float(ox["ci_high"]),
            "ox_ratio_pct": float(100 * abs(ox["estimate"] - 1)),
            "ox_higher": "higher" if ox["estimate"] > 1 else "lower",
            "ox_test": row_report(ox), "ox_p_fdr": biomarker_p_text(ox["p_fdr"]),
            "ox_reached": "reached" if ox["p_fdr"] < alpha else "did not reach",
            "n_completers": int(ox["n"])}


def _within(results: Results, marker: str, definition: study.Definition) -> dict[str, Any]:
    """The marker's fold change (ratio week 8 / baseline) and paired t report in each arm."""
    out: dict[str, Any] = {}
    for role, arm in (("treated", definition.treated), ("control", definition.control)):
        row = results.get(names.PAIRED, marker, names.within_contrast(arm.id))
        out[f"ox_{role}_fold"] = float(row["estimate"])
        out[f"ox_{role}_test"] = row_report(row)
    return out


def _others(results: Results, others: list[str], catalogue: pd.DataFrame,
            alpha: float) -> dict[str, Any]:
    """The other analytes: how many adjusted ratios fall below 1 or pass FDR, their range, the
    smallest unadjusted ANCOVA p, and how many interactions have unadjusted p < alpha."""
    rest = results.rows(names.ANCOVA, others)
    low, high, best = rest["estimate"].idxmin(), rest["estimate"].idxmax(), rest["p"].idxmin()
    anova = results.rows(names.MIXED_ANOVA, others)
    return {"n_others": len(others), "n_others_lower": int((rest["estimate"] < 1).sum()),
            "n_others_fdr": int((rest["p_fdr"] < alpha).sum()),
            "others_min": float(rest.at[low, "estimate"]),
            "others_min_label": catalogue.at[low, "label"],
            "others_max": float(rest.at[high, "estimate"]),
            "others_max_label": catalogue.at[high, "label"],
            "others_min_p_label": catalogue.at[best, "label"],
            "others_min_p_test": row_report(rest.loc[best]),
            "n_others_interaction": int((anova["p"] < alpha).sum())}


def _below_lloq(biomarkers: pd.DataFrame, marker: str, rule: str) -> dict[str, Any]:
    """Samples below their plate's LLOQ (flag ``below_lloq``), all and of the marker."""
    below = biomarkers["flag"] == "below_lloq"
    is_marker = biomarkers["analyte"] == marker
    return {"n_samples": len(biomarkers), "n_below": int(below.sum()),
            "pct_below": float(100 * below.mean()), "n_ox_samples": int(is_marker.sum()),
            "n_ox_below": int((below & is_marker).sum()), "below_rule": BELOW_LLOQ_WORDS[rule]}


def findings(results: Results, biomarkers: pd.DataFrame, catalogue: pd.DataFrame,
             definition: study.Definition | None = None) -> dict[str, Any]:
    """Every number and phrase of the biomarker chapter's prose (see the module docstring).

    ``biomarkers`` is the study's quantified samples (columns analyte, flag); ``catalogue`` is
    :func:`mbpm.outcomes.catalogue_frame` (labels); the definition gives the marker
    (outcome set ``interplay_marker``), the analytes, the significance level and the LLOQ rule.
    """
    d = definition or study.active()
    alpha = d.plan("significance_level")
    marker = d.outcome_set("interplay_marker")
    others = [a for a in d.analyte_ids if a != marker]
    anova = results.get(names.MIXED_ANOVA, marker)
    return {"alpha_pct": 100 * alpha, "n_analytes": len(d.analyte_ids),
            **_primary(results, marker, alpha), **_within(results, marker, d),
            **_others(results, others, catalogue, alpha),
            "ratio_example": RATIO_EXAMPLE, "ratio_example_pct": 100 * (RATIO_EXAMPLE - 1),
            **_below_lloq(biomarkers, marker, d.plan("below_lloq")),
            "anova_df1": int(anova["df_num"]), "anova_df2": int(anova["df"]),
            "others_labels": english_list([lower_first(d.analyte(a).label) for a in others]),
            **study_words(d)}
