"""The statistical plan (the statistical plan (methods chapter)): each analysis takes tidy DataFrames and returns a tidy
DataFrame whose first columns are :data:`RESULT_COLUMNS`.

Input ``long``: participant_id, group ('MBPM', 'WL', 'HC'), visit ('baseline', 'week8'), outcome,
value. ``families``: outcome -> family for Benjamini-Hochberg. ``log_outcomes``: outcomes analysed
on the natural log (``True`` = all), reported back as ratios of geometric means.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mbpm.stats._core import (ARMS, CONTROL, FAMILIES, GROUPS, POST, PRE, REFERENCE,
                              RESULT_COLUMNS, TREATED, VISITS, LogOutcomes, Prepared,
                              bh_within_families, fdr_bh, prepared)
from mbpm.stats.baseline import baseline_comparison
from mbpm.stats.correlation import change_correlations
from mbpm.stats.descriptives import change_scores, describe, table_one
from mbpm.stats.effects import cohen_dz, hedges_g, spearman_ci
from mbpm.stats.fast import ancova_fast, arm_arrays, interaction_fast
from mbpm.stats.multiplicity import adjust
from mbpm.stats.names import (ANCOVA, MANN_WHITNEY, MANN_WHITNEY_CHANGE, MIXED_ANOVA, PAIRED,
                              WELCH, WILCOXON)
from mbpm.stats.prepost import (MIXED_MODEL, ancova, change_nonparametric, mixed_anova,
                                mixed_model, pingouin_mixed_anova, within_group_tests)


def all_results(long: pd.DataFrame, families: Mapping[str, str],
                log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Every per-outcome analysis of the plan stacked into one tidy table (results.csv), with
    the plan's multiplicity step (:func:`adjust`) applied to the stack; change correlations are
    separate (:func:`change_correlations`)."""
    parts = [f(long, families, log_outcomes) for f in (
        baseline_comparison, mixed_anova, within_group_tests, ancova, mixed_model,
        change_nonparametric)]
    return adjust(pd.concat([p for p in parts if not p.empty], ignore_index=True))


__all__ = [
    "ANCOVA", "ARMS", "CONTROL", "FAMILIES", "GROUPS", "MANN_WHITNEY", "MANN_WHITNEY_CHANGE",
    "MIXED_ANOVA", "MIXED_MODEL", "PAIRED", "POST", "PRE", "Prepared", "REFERENCE", "RESULT_COLUMNS", "TREATED",
    "VISITS", "WELCH", "WILCOXON", "adjust",
    "all_results", "ancova", "ancova_fast", "arm_arrays", "baseline_comparison", "bh_within_families", "change_correlations",
    "change_nonparametric", "change_scores", "cohen_dz", "describe", "fdr_bh", "hedges_g",
    "interaction_fast", "mixed_anova", "mixed_model", "pingouin_mixed_anova", "spearman_ci",
    "prepared", "table_one", "within_group_tests",
]
