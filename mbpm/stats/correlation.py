"""Interplay: change in (log) oxytocin against change in the clinical outcomes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from mbpm.errors import DataError
from mbpm.lazy import lazy_module
from mbpm import study
from mbpm.stats import names
from mbpm.stats._core import ARMS, TREATED, LogOutcomes, finish, log_set
from mbpm.stats.descriptives import change_scores
from mbpm.stats.effects import spearman_ci

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)

CI_METHOD = "Fisher z with the Bonett & Wright (2000) SE sqrt((1 + rho^2/2)/(n - 3))"


def _label(groups: Sequence[str]) -> str:
    return names.group_contrast(groups)


def change_correlations(long: pd.DataFrame, x_outcome: str | None = None,
                        y_outcomes: Iterable[str] | None = None, log_x: bool = True,
                        groups: Sequence[Sequence[str]] = ((TREATED,), ARMS),
                        families: Mapping[str, str] | None = None,
                        log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Spearman rho between the change in ``x_outcome`` (week8 - baseline; ln-ratio if ``log_x``)
    and the change in each of ``y_outcomes`` (default: every other outcome; log change for those
    in ``log_outcomes``), within each set of ``groups`` (default: MBPM alone, MBPM+WL pooled).
    ``x_outcome`` None: the study definition's ``interplay_marker`` (oxytocin).

    p from scipy.stats.spearmanr; 95 % CI by Fisher z with the Bonett-Wright SE. ``n`` = people
    with both changes. BH within (family, contrast) when ``families`` is given (family = the y
    outcome's; without ``families``, across all y outcomes of a contrast). Pairs with n < 4 are skipped.
    """
    outcomes = set(long["outcome"].astype("str"))
    if x_outcome is None:
        x_outcome = str(study.active().outcome_set("interplay_marker"))
    if x_outcome not in outcomes:
        raise DataError(f"long: x_outcome {x_outcome!r} not found among outcomes")
    ys = [o for o in (y_outcomes if y_outcomes is not None else sorted(outcomes - {x_outcome}))]
    logs = set(log_set(log_outcomes, outcomes)) | ({x_outcome} if log_x else set())
    ch = change_scores(long.loc[long["outcome"].isin([x_outcome, *ys])], log_outcomes=logs)
    wide = ch.pivot(index="participant_id", columns="outcome", values="change")
    arm = ch.groupby("participant_id")["group"].first()
    rows = []
    for members in groups:
        sub = wide.loc[arm.reindex(wide.index).isin(list(members))]
        for y in ys:
            pair = sub[[x_outcome, y]].dropna() if y in sub else pd.DataFrame()
            n = len(pair)
            if n < 4:
                continue
            res = stats.spearmanr(pair[x_outcome], pair[y])
            rho = float(res.statistic)
            lo, hi = spearman_ci(rho, n)
            rows.append({"outcome": y, "analysis": names.correlation(x_outcome), "contrast": _label(list(members)), "n": n,
                         "estimate": rho, "ci_low": lo, "ci_high": hi, "statistic": rho,
                         "df": float(n - 2), "p": float(res.pvalue), "effect_size": rho,
                         "effect_size_name": "Spearman rho", "x_outcome": x_outcome,
                         "x_log_change": x_outcome in logs, "y_log_change": y in logs,
                         "ci_method": CI_METHOD})
    return finish(rows, families)
