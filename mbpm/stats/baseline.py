"""Baseline comparison of patients (MBPM + WL) with healthy controls (HC)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mbpm.lazy import lazy_module
from mbpm.stats import names, ranks
from mbpm.stats._core import (ARMS, CONFIDENCE, N_COLUMN, PRE, REFERENCE, LogOutcomes, back,
                              estimate_name, finish, prepare)
from mbpm.stats.effects import (HEDGES_CI_METHOD, hedges_g, hodges_lehmann_shift,
                                rank_biserial_two_sample)

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)

CONTRAST = names.BASELINE_CONTRAST


def welch_row(x: np.ndarray, y: np.ndarray, is_log: bool) -> dict[str, Any]:
    """Welch's t-test of x - y: mean difference (ratio of geometric means if logged) with the Welch
    CI (t on the Welch-Satterthwaite df), and Hedges' g with its CI."""
    res = stats.ttest_ind(x, y, equal_var=False)
    ci = res.confidence_interval(CONFIDENCE)
    est, lo, hi = back(x.mean() - y.mean(), ci.low, ci.high, is_log)
    g, g_lo, g_hi = hedges_g(x, y)
    return {"analysis": names.WELCH, "estimate": est, "ci_low": lo, "ci_high": hi,
            "statistic": float(res.statistic), "df": float(res.df), "p": float(res.pvalue),
            "effect_size": g, "effect_size_name": "Hedges g",
            "effect_size_ci_low": g_lo, "effect_size_ci_high": g_hi,
            "effect_size_ci_method": HEDGES_CI_METHOD,
            **estimate_name(is_log, "mean difference", "ratio of geometric means")}


def mann_whitney_row(x: np.ndarray, y: np.ndarray, is_log: bool) -> dict[str, Any]:
    """Mann-Whitney U of x vs y, two-sided, p as R's ``wilcox.test`` defaults
    (:func:`mbpm.stats.ranks.mann_whitney`; ``p_method`` says exact or normal approximation);
    the statistic is U of x.

    Estimate: Hodges-Lehmann shift (exponentiated, a ratio, when logged), no CI;
    effect size: rank-biserial r = 2U/(nx ny) - 1.
    """
    res = ranks.mann_whitney(x, y)
    shift = hodges_lehmann_shift(x, y)
    return {"analysis": names.MANN_WHITNEY, "estimate": float(np.exp(shift) if is_log else shift),
            "ci_low": np.nan, "ci_high": np.nan, "statistic": res.statistic,
            "df": np.nan, "p": res.p, "p_method": res.method,
            "effect_size": rank_biserial_two_sample(res.statistic, len(x), len(y)),
            "effect_size_name": "rank-biserial r",
            **estimate_name(is_log, "Hodges-Lehmann shift", "Hodges-Lehmann ratio")}


def baseline_comparison(long: pd.DataFrame, families: Mapping[str, str] | None,
                        log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Patients (MBPM + WL) vs HC at baseline, per outcome: Welch t-test (primary; with Hedges' g
    and CI) and Mann-Whitney U (sensitivity); BH within family. ``n`` = patients + HC with a value;
    ``n_patients`` and ``n_hc`` are extra columns. Outcomes with fewer than 2 per side are skipped.
    """
    df, logs = prepare(long, families, log_outcomes)
    base = df.loc[df["visit"] == PRE]
    rows = []
    for outcome, sub in base.groupby("outcome", sort=False):
        x = sub.loc[sub["group"].isin(ARMS), "y"].to_numpy()
        y = sub.loc[sub["group"] == REFERENCE, "y"].to_numpy()
        if len(x) < 2 or len(y) < 2:
            continue
        common = {"outcome": outcome, "contrast": CONTRAST, "n": len(x) + len(y),
                  "n_patients": len(x), N_COLUMN[REFERENCE]: len(y)}
        is_log = outcome in logs
        rows.append({**common, **welch_row(x, y, is_log)})
        rows.append({**common, **mann_whitney_row(x, y, is_log)})
    return finish(rows, families)
