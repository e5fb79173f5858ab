"""What the psychological chapter (``chapters/psychological.md``) quotes: the ANCOVA of every
questionnaire scale after FDR correction, by family; the largest standardized effect; the
within-arm paired tests of the pain and mood scales; the range of completers.

Keys are the chapter's glue names (``psy_...``); arm-dependent keys are named by role
(``psy_within_treated``), so a study with other arm names reads the same.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mbpm import figures, study, tables
from mbpm.analysis import Results
from mbpm.findings.format import row_report, study_words
from mbpm.stats import names

#: The families whose within-arm change the text counts ("pain and mood scales").
WITHIN_FAMILIES = ("pain", "mood")


def _adjusted(ancova: pd.DataFrame, catalogue: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """Scales with an FDR-significant ANCOVA difference: counts, labels, families."""
    found = tables.adjusted_findings(ancova, catalogue, alpha=alpha)
    with_diff = found["n_fdr"] > 0
    return {"psy_n": int(found["n"].sum()), "psy_n_fdr": int(found["n_fdr"].sum()),
            "psy_n_fdr_favour": int(found["n_fdr_favour_mbpm"].sum()),
            "psy_fdr_labels": "; ".join(x for x in found["labels_fdr"] if x) or "none",
            "psy_families": tables.families_sentence(
                list(found.loc[with_diff, "family"]), list(found.loc[~with_diff, "family"]),
                "at least one such difference")}


def _top(results: Results, catalogue: pd.DataFrame, words: dict[str, str]) -> dict[str, Any]:
    """The scale with the largest standardized ANCOVA effect (positive favours the treated
    arm, :func:`mbpm.figures.adjusted_effects_data`), with its CI and test."""
    effects = figures.adjusted_effects_data(results.ancova, catalogue)
    top = effects.loc[effects["x"].abs().idxmax()]
    return {"psy_top_label": top["label"], "psy_top_x": float(top["x"]),
            "psy_top_side": words["treated"] if top["x"] > 0 else f"the {words['control']}",
            "psy_top_low": float(top["low"]), "psy_top_high": float(top["high"]),
            "psy_top_test": row_report(results.get(names.ANCOVA, top["outcome"]))}


def findings(results: Results, catalogue: pd.DataFrame,
             definition: study.Definition | None = None) -> dict[str, Any]:
    """Every number and phrase of the psychological chapter's prose (module docstring)."""
    d = definition or study.active()
    alpha = d.plan("significance_level")
    words = study_words(d)
    within = tables.within_findings(results.within, catalogue, WITHIN_FAMILIES, alpha=alpha)
    out: dict[str, Any] = {"psy_alpha": alpha, **_adjusted(results.ancova, catalogue, alpha),
                           **_top(results, catalogue, words)}
    for role, arm in (("treated", d.treated), ("control", d.control)):
        out[f"psy_within_{role}"], out[f"psy_within_{role}_n"] = within[arm.id]
    return {**out, "psy_n_min": int(results.ancova["n"].min()),
            "psy_n_max": int(results.ancova["n"].max()), **words}
