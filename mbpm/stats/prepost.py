"""MBPM vs WL over the course (baseline -> week 8): mixed ANOVA, within-arm tests, ANCOVA, mixed
model, nonparametric change-score test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mbpm.lazy import lazy_module
from mbpm.stats import lmm, names, ranks

from mbpm.stats._core import (ARMS, CONFIDENCE, CONTROL, N_COLUMN, POST, PRE, TREATED,
                              LogOutcomes, back, estimate_name, finish, prepare)
from mbpm.stats.effects import (DZ_CI_METHOD, _t, cohen_dz, hodges_lehmann_shift, pseudo_median,
                                rank_biserial_paired, rank_biserial_two_sample)

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)

CONTRAST_ARMS = names.ARMS_CONTRAST
ANCOVA_CONTRAST = names.ANCOVA_CONTRAST
DIFF_CHANGE = ("difference in mean change", "ratio of geometric-mean fold changes")
TYPE_II_NOTE = ("2 x 2 mixed ANOVA on completers (listwise), in closed form: the group x time "
                "interaction is the pooled-variance two-sample t-test of change scores (F = t^2), "
                "so it does not depend on the SS type (pingouin.mixed_anova, type II with unequal "
                "group sizes, gives the same; SPSS/JASP default to type III); the time main "
                "effect would.")


def _arms(wide: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of one column for the treated and for the control arm."""
    return (wide.loc[wide["group"] == TREATED, column].to_numpy(),
            wide.loc[wide["group"] == CONTROL, column].to_numpy())


def wide_by_outcome(df: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(outcome, wide_arms(df, outcome))`` for every outcome of a prepared table (the MBPM/WL
    completers: participant_id, baseline, week8, group, sorted by participant_id), in order of
    first appearance, built in one pass.

    The participant IDs are factorised (sorted) once for the whole table and each outcome's
    values are placed by integer code, instead of selecting and pivoting each outcome's rows
    out of the whole table (outcomes x rows string comparisons). Same frames as
    :func:`mbpm.stats._core.wide_arms` (tested on random tables). Example: a table with one
    outcome ``pain`` yields ``("pain", <frame of its completers>)``.
    """
    arms = df.loc[df["group"].isin(ARMS)]
    codes, ids = pd.factorize(arms["participant_id"], sort=True)
    group_codes, groups = pd.factorize(arms["group"])
    group_of = np.zeros(len(ids), dtype=np.intp)
    group_of[codes] = group_codes  # one group per participant (checked by prepare)
    post = (arms["visit"] == POST).to_numpy()
    y = arms["y"].to_numpy(float)
    by_outcome = arms.groupby("outcome", sort=False).indices
    for outcome in pd.unique(df["outcome"]):
        idx = by_outcome.get(outcome, np.array([], dtype=np.intp))
        values = np.full((2, len(ids)), np.nan)
        values[post[idx].astype(np.intp), codes[idx]] = y[idx]
        keep = np.flatnonzero(~np.isnan(values).any(axis=0))
        yield outcome, pd.DataFrame({"participant_id": ids.take(keep), PRE: values[0, keep],
                                     POST: values[1, keep], "group": groups.take(group_of[keep])})


def _arm_counts(wide: pd.DataFrame) -> dict[str, int]:
    m, w = _arms(wide, "participant_id")
    return {N_COLUMN[TREATED]: len(m), N_COLUMN[CONTROL]: len(w)}


def pingouin_mixed_anova(data: pd.DataFrame, dv: str, within: str, between: str,
                         subject: str) -> pd.DataFrame:
    """pingouin.mixed_anova after dropping, explicitly, subjects who miss any level of ``within``.

    pingouin deletes incomplete subjects listwise itself; doing it here makes the rule visible and
    avoids the odd p-values reported for subjects with a single session (pingouin issue #199).
    Returns pingouin's table (Source, SS, DF1, DF2, MS, F, p_unc, np2, eps).
    """
    import pingouin as pg  # here, not at the top: it imports matplotlib, seaborn and xarray

    data = data.dropna(subset=[dv])
    n_levels = data[within].nunique()
    complete = data.groupby(subject)[within].nunique()
    keep = complete.index[complete == n_levels]
    with warnings.catch_warnings():  # pingouin 0.7 calls dropna(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message="The inplace keyword", module="pingouin")
        return pg.mixed_anova(data=data.loc[data[subject].isin(keep)], dv=dv, within=within,
                              between=between, subject=subject, effsize="np2")


def mixed_anova(long: pd.DataFrame, families: Mapping[str, str] | None,
                log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """2 (MBPM, WL) x 2 (baseline, week 8) mixed ANOVA on completers, per outcome.

    One row per outcome: the group x time interaction F (``statistic``), its denominator df
    (``df``; numerator df in ``df_num``), p and partial eta squared. In a 2 x 2 design with
    complete cases the interaction is the pooled-variance two-sample t-test of the change scores
    d = week 8 - baseline: F = t^2 on (1, n - 2) df, p that of t, partial eta squared
    SS_interaction / (SS_interaction + SS_error) = F / (F + n - 2) (Maxwell & Delaney, Designing
    Experiments and Analyzing Data, 2004, ch. 12), whatever the SS type; the tests check it
    against pingouin.mixed_anova. ``estimate`` is the difference in mean change MBPM - WL with
    that t CI (for log outcomes exponentiated: the ratio of geometric-mean fold changes).
    Example: changes 1, 2, 3 (MBPM) and 0, 1, 2 (WL) give estimate 1, t = 1.22, F = 1.5 on
    (1, 4) df, partial eta squared 1.5 / 5.5 = 0.27.
    """
    df, logs = prepare(long, families, log_outcomes)
    rows = []
    for outcome, wide in wide_by_outcome(df):
        counts = _arm_counts(wide)
        if min(counts.values()) < 2:
            continue
        cm, cw = _arms(wide.assign(change=wide[POST] - wide[PRE]), "change")
        res = stats.ttest_ind(cm, cw, equal_var=True)
        ci = res.confidence_interval(CONFIDENCE)
        est, lo, hi = back(cm.mean() - cw.mean(), ci.low, ci.high, outcome in logs)
        f, dof = float(res.statistic) ** 2, float(res.df)
        rows.append({
            "outcome": outcome, "analysis": names.MIXED_ANOVA,
            "contrast": names.INTERACTION, "n": len(wide), "estimate": est,
            "ci_low": lo, "ci_high": hi, "statistic": f, "df": dof, "p": float(res.pvalue),
            "effect_size": f / (f + dof), "effect_size_name": "partial eta squared",
            "df_num": 1.0, **counts, "notes": TYPE_II_NOTE,
            **estimate_name(outcome in logs, *DIFF_CHANGE)})
    return finish(rows, families)


def _paired_rows(outcome: str, arm: str, base: np.ndarray, week8: np.ndarray,
                 is_log: bool) -> list[dict[str, Any]]:
    """Paired t-test (with Cohen's dz) and Wilcoxon signed-rank of week8 - baseline in one arm
    (statistic V = sum of the positive ranks, p as R's ``wilcox.test``: :mod:`mbpm.stats.ranks`)."""
    diff = week8 - base
    common = {"outcome": outcome, "contrast": names.within_contrast(arm), "n": len(diff)}
    labels = estimate_name(is_log, "mean change", f"ratio of geometric means ({POST}/{PRE})")
    res = stats.ttest_rel(week8, base)
    ci = res.confidence_interval(CONFIDENCE)
    est, lo, hi = back(diff.mean(), ci.low, ci.high, is_log)
    dz, dz_lo, dz_hi = cohen_dz(diff)
    rows = [{**common, "analysis": names.PAIRED, "estimate": est, "ci_low": lo,
             "ci_high": hi, "statistic": float(res.statistic), "df": float(res.df),
             "p": float(res.pvalue), "effect_size": dz, "effect_size_name": "Cohen dz",
             "effect_size_ci_low": dz_lo, "effect_size_ci_high": dz_hi,
             "effect_size_ci_method": DZ_CI_METHOD, **labels}]
    if np.any(diff != 0):
        w = ranks.signed_rank(diff)
        hl = pseudo_median(diff)
        rows.append({**common, "analysis": names.WILCOXON,
                     "estimate": float(np.exp(hl) if is_log else hl), "ci_low": np.nan,
                     "ci_high": np.nan, "statistic": w.statistic, "df": np.nan,
                     "p": w.p, "p_method": w.method, "effect_size": rank_biserial_paired(diff),
                     "effect_size_name": "matched-pairs rank-biserial r",
                     **estimate_name(is_log, "Hodges-Lehmann pseudo-median change",
                                     "exp(Hodges-Lehmann pseudo-median log change)")})
    return rows


def within_group_tests(long: pd.DataFrame, families: Mapping[str, str] | None,
                       log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Within each arm (completers): paired t-test of week 8 vs baseline with Cohen's dz and CI,
    and the Wilcoxon signed-rank test (zero differences dropped; p as R's ``wilcox.test``
    defaults, method in ``p_method``) with the matched-pairs rank-biserial r. Arms with fewer
    than 3 completers are skipped."""
    df, logs = prepare(long, families, log_outcomes)
    rows = []
    for outcome, wide in wide_by_outcome(df):
        for arm in ARMS:
            sub = wide.loc[wide["group"] == arm]
            if len(sub) >= 3:
                rows += _paired_rows(outcome, arm, sub[PRE].to_numpy(),
                                     sub[POST].to_numpy(), outcome in logs)
    return finish(rows, families)


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                         / (len(a) + len(b) - 2)))


ANCOVA_ES = "adjusted difference / pooled baseline SD"


def ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Least squares as statsmodels' ``OLS(y, X).fit()`` computes it (its default ``pinv``):
    beta = X^+ y, cov(beta) = s^2 X^+ X^+' with s^2 = RSS / (n - rank X); returns beta, the
    standard errors and the residual df n - rank X. Example: y = [1, 2, 4], X = [1, x] with
    x = [0, 1, 2] gives beta = (5/6, 3/2), residual df 1."""
    pinv = np.linalg.pinv(X)
    beta = pinv @ y
    dof = float(len(y) - np.linalg.matrix_rank(X))
    resid = y - X @ beta
    scale = float(resid @ resid) / dof
    return beta, np.sqrt(scale * np.diag(pinv @ pinv.T)), dof


def ancova(long: pd.DataFrame, families: Mapping[str, str] | None,
           log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """ANCOVA on completers, per outcome: OLS ``week8 ~ baseline + mbpm`` (:func:`ols`, as
    statsmodels fits it; mbpm = 1 for MBPM, 0 for WL), Vickers & Altman (BMJ 2001).

    ``estimate`` is the adjusted difference MBPM - WL with its t CI on the residual df (for log
    outcomes both variables are logged and the estimate is exponentiated: the adjusted ratio of
    geometric means). ``effect_size`` = adjusted difference / pooled baseline SD of the two arms
    (analysis scale); its CI divides the estimate's CI by that SD (SD treated as fixed).
    """
    df, logs = prepare(long, families, log_outcomes)
    rows = []
    for outcome, wide in wide_by_outcome(df):
        counts = _arm_counts(wide)
        if min(counts.values()) < 2 or len(wide) < 4:
            continue
        pre, post = wide[PRE].to_numpy(float), wide[POST].to_numpy(float)
        treated = (wide["group"].to_numpy(object) == TREATED).astype(float)
        beta, se, dof = ols(post, np.column_stack([np.ones(len(pre)), pre, treated]))
        b, t = float(beta[2]), float(beta[2] / se[2])
        crit = _t(dof)
        lo, hi = b - crit * se[2], b + crit * se[2]
        sd = _pooled_sd(pre[treated == 1], pre[treated == 0])
        est, elo, ehi = back(b, lo, hi, outcome in logs)
        rows.append({
            "outcome": outcome, "analysis": names.ANCOVA,
            "contrast": ANCOVA_CONTRAST, "n": len(wide),
            "estimate": est, "ci_low": elo, "ci_high": ehi,
            "statistic": t, "df": dof, "p": float(2 * stats.t.sf(abs(t), dof)),
            "effect_size": b / sd,
            "effect_size_name": ANCOVA_ES, "effect_size_ci_low": lo / sd,
            "effect_size_ci_high": hi / sd, "baseline_slope": float(beta[1]),
            **counts, **estimate_name(outcome in logs, "adjusted mean difference",
                                      "adjusted ratio of geometric means")})
    return finish(rows, families)


MIXED_MODEL = names.MIXED_MODEL
#: The interaction column of the design [1, mbpm, week8, mbpm x week8].
INTERACTION = np.array([0.0, 0.0, 0.0, 1.0])


def _mixed_model_row(y: np.ndarray, mbpm: np.ndarray, week8: np.ndarray, cluster: np.ndarray,
                     is_log: bool) -> dict[str, Any]:
    """The REML random-intercept fit of one outcome (:func:`mbpm.stats.lmm.fit`) as result
    columns; a fit that cannot be done gives NaN with the reason in ``notes``."""
    X = np.column_stack([np.ones(len(y)), mbpm, week8, mbpm * week8])
    try:
        res = lmm.fit(y, X, cluster)
        b, se, dof = res.contrast(INTERACTION)
    except (lmm.FitError, np.linalg.LinAlgError, ValueError) as err:
        return {"estimate": np.nan, "converged": False, "singular": False,
                "notes": f"not fitted: {err}"}
    t = b / se
    crit = _t(dof)
    est, lo, hi = back(b, b - crit * se, b + crit * se, is_log)
    notes = ("singular fit: the between-participant variance estimate is 0 (on the boundary); "
             "the model reduces to least squares" if res.singular else "")
    return {"estimate": est, "ci_low": lo, "ci_high": hi, "statistic": t, "df": dof,
            "p": float(2 * stats.t.sf(abs(t), dof)), "se": se, "converged": True,
            "singular": res.singular, "var_participant": res.tau2, "var_residual": res.sigma2,
            "notes": notes}


def mixed_model(long: pd.DataFrame, families: Mapping[str, str] | None,
                log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Linear mixed model on every MBPM/WL participant with any data (missing at random), per
    outcome: ``y ~ mbpm * week8 + (1 | participant)``, REML, as lme4 + lmerTest report it
    (:mod:`mbpm.stats.lmm`: closed form per participant, cost linear in the participants).

    Reports the interaction (difference in change MBPM - WL; exponentiated for log outcomes):
    ``se`` = sqrt of lme4's ``vcov`` (sigma^2 (X'V^-1 X)^-1 at the REML estimates), ``statistic``
    t = estimate / se, ``df`` the Satterthwaite df of lmerTest, p = 2 P(T_df > |t|) and the
    CI estimate +/- t_{df, 0.975} se. ``var_participant`` and ``var_residual`` are the variance
    components (analysis scale). A singular fit (between-participant variance 0) is flagged in
    ``singular`` and ``notes``; a fit that cannot be done (an arm with fewer than 2
    participants, constant outcome, non-finite values, ...) gives NaN, ``converged`` False and
    the reason in ``notes``. Example: ``mixed_model(long, {"pain": "pain"})`` -> one row.
    """
    df, logs = prepare(long, families, log_outcomes)
    arms = df.loc[df["group"].isin(ARMS)]
    codes = pd.factorize(arms["participant_id"])[0]
    is_mbpm = (arms["group"] == TREATED).to_numpy()
    is_week8 = (arms["visit"] == POST).to_numpy(float)
    y = arms["y"].to_numpy(float)
    rows = []
    for outcome, idx in arms.groupby("outcome", sort=False).indices.items():
        cluster, mbpm = codes[idx], is_mbpm[idx]
        counts = np.bincount(cluster)
        n_mbpm, n_wl = len(np.unique(cluster[mbpm])), len(np.unique(cluster[~mbpm]))
        row: dict[str, Any] = {
            "outcome": outcome, "analysis": MIXED_MODEL,
            "contrast": names.INTERACTION, "n": n_mbpm + n_wl, "n_obs": len(idx),
            "n_complete": int((counts == 2).sum()), "statistic_name": "t (Satterthwaite df)",
            **estimate_name(outcome in logs, *DIFF_CHANGE)}
        if min(n_mbpm, n_wl) < 2:
            rows.append({**row, "estimate": np.nan, "converged": False, "singular": False,
                         "notes": "not fitted: fewer than 2 participants in an arm "
                                  f"({TREATED} {n_mbpm}, {CONTROL} {n_wl})"})
            continue
        rows.append({**row, **_mixed_model_row(y[idx], mbpm.astype(float), is_week8[idx],
                                               cluster, outcome in logs)})
    return finish(rows, families)


def change_nonparametric(long: pd.DataFrame, families: Mapping[str, str] | None,
                         log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Mann-Whitney U (two-sided, p as R's ``wilcox.test`` defaults, method in ``p_method``) of
    change scores (week8 - baseline, on the log scale for log outcomes), MBPM vs WL, completers.
    ``statistic`` = U of MBPM; estimate = Hodges-Lehmann shift (exponentiated for log outcomes);
    effect size rank-biserial r = 2U/(n1 n2) - 1."""
    df, logs = prepare(long, families, log_outcomes)
    rows = []
    for outcome, wide in wide_by_outcome(df):
        wide = wide.assign(change=wide[POST] - wide[PRE])
        cm, cw = _arms(wide, "change")
        if len(cm) < 2 or len(cw) < 2:
            continue
        res = ranks.mann_whitney(cm, cw)
        shift = hodges_lehmann_shift(cm, cw)
        rows.append({
            "outcome": outcome, "analysis": names.MANN_WHITNEY_CHANGE,
            "contrast": CONTRAST_ARMS, "n": len(wide),
            "estimate": float(np.exp(shift) if outcome in logs else shift),
            "ci_low": np.nan, "ci_high": np.nan, "statistic": res.statistic,
            "df": np.nan, "p": res.p, "p_method": res.method,
            "effect_size": rank_biserial_two_sample(res.statistic, len(cm), len(cw)),
            "effect_size_name": "rank-biserial r", **_arm_counts(wide),
            **estimate_name(outcome in logs, "Hodges-Lehmann shift of change",
                            "Hodges-Lehmann ratio of fold changes")})
    return finish(rows, families)
