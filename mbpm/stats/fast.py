"""Vectorised closed forms for many trials x outcomes at once (the design analysis).

Arrays have shape (..., n): the last axis is participants (MBPM and WL), any leading axes are
trials/outcomes. ``mbpm`` (bool) broadcasts against them. NaN in baseline or week 8 excludes that
participant from that regression (completers), as the DataFrame functions do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mbpm.lazy import lazy_module
from mbpm.stats._core import ARMS, CONFIDENCE, TREATED, VISITS, LogOutcomes, prepare

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)


def _group_moments(x: np.ndarray, y: np.ndarray, mbpm: np.ndarray):
    """Counts, group means and pooled within-group sums of squares/products, masked."""
    ok = np.isfinite(x) & np.isfinite(y)
    g1 = ok & mbpm
    g0 = ok & ~mbpm
    x0, y0 = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    n1, n0 = g1.sum(-1), g0.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx1, my1 = (x0 * g1).sum(-1) / n1, (y0 * g1).sum(-1) / n1
        mx0, my0 = (x0 * g0).sum(-1) / n0, (y0 * g0).sum(-1) / n0
    dx = np.where(g1, x0 - mx1[..., None], np.where(g0, x0 - mx0[..., None], 0.0))
    dy = np.where(g1, y0 - my1[..., None], np.where(g0, y0 - my0[..., None], 0.0))
    return n1, n0, mx1 - mx0, my1 - my0, (dx * dx).sum(-1), (dx * dy).sum(-1), (dy * dy).sum(-1)


def _t_summary(est, se, df, confidence: float) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
        crit = stats.t.ppf(0.5 + confidence / 2, df)
        return {"estimate": est, "se": se, "ci_low": est - crit * se, "ci_high": est + crit * se,
                "t": t, "df": df, "p": 2 * stats.t.sf(np.abs(t), df)}


def ancova_fast(baseline: np.ndarray, week8: np.ndarray, mbpm: np.ndarray,
                confidence: float = CONFIDENCE) -> dict[str, np.ndarray]:
    """OLS ``week8 ~ baseline + mbpm`` for every leading index at once, in closed form.

    With b_w = Sxy_w / Sxx_w the pooled within-group slope (sums over deviations from each group's
    mean), the adjusted difference is (ybar1 - ybar0) - b_w (xbar1 - xbar0); the residual SS is
    Syy_w - b_w Sxy_w on n - 3 df, and Var = s^2 (1/n1 + 1/n0 + (xbar1 - xbar0)^2 / Sxx_w)
    (the classical one-covariate ANCOVA, e.g. Snedecor & Cochran, Statistical Methods, ch. 18).
    Returns arrays: estimate, se, ci_low, ci_high, t, df, p, n, slope. Log the inputs yourself for
    log outcomes (and exponentiate estimate/CI).
    """
    x, y = np.asarray(baseline, float), np.asarray(week8, float)
    g = np.broadcast_to(np.asarray(mbpm, bool), np.broadcast_shapes(x.shape, y.shape))
    n1, n0, dxbar, dybar, sxx, sxy, syy = _group_moments(x, y, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        est = dybar - slope * dxbar
        df = (n1 + n0 - 3).astype(float)
        s2 = (syy - slope * sxy) / df
        se = np.sqrt(s2 * (1 / n1 + 1 / n0 + dxbar**2 / sxx))
    return {**_t_summary(est, se, df, confidence), "n": n1 + n0, "slope": slope}


def interaction_fast(baseline: np.ndarray, week8: np.ndarray, mbpm: np.ndarray,
                     confidence: float = CONFIDENCE) -> dict[str, np.ndarray]:
    """The 2 x 2 mixed-ANOVA interaction for every leading index at once, on completers.

    It is the pooled-variance two-sample t-test of change scores: F = t^2 on (1, n - 2) df,
    partial eta squared = F / (F + n - 2). Returns estimate (difference in mean change MBPM - WL),
    se, ci_low, ci_high, t, df, p, F, np2, n.
    """
    x, y = np.asarray(baseline, float), np.asarray(week8, float)
    change = y - x
    g = np.broadcast_to(np.asarray(mbpm, bool), change.shape)
    n1, n0, dbar, _, ss, _, _ = _group_moments(change, change, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (n1 + n0 - 2).astype(float)
        se = np.sqrt(ss / df * (1 / n1 + 1 / n0))
        out = _t_summary(dbar, se, df, confidence)
        f = out["t"] ** 2
        return {**out, "F": f, "np2": f / (f + df), "n": n1 + n0}


def arm_arrays(long: pd.DataFrame, log_outcomes: LogOutcomes = ()) -> dict[str, np.ndarray]:
    """A long table -> the arrays the fast paths take: ``outcomes`` (k,), ``participant_id`` (n,),
    ``pre`` and ``post`` (k, n: the baseline and week-8 values on the analysis scale, i.e. ln for
    log outcomes; NaN = missing) and ``treated`` (n,: in the MBPM arm) for the MBPM and WL
    participants (the treated and control arms of the study definition)."""
    df, _ = prepare(long, None, log_outcomes)
    arms = df.loc[df["group"].isin(ARMS)]
    # prepare() has checked visits and rejected duplicated (participant, visit, outcome) rows, so
    # each cell of the (visit, outcome, participant) cube is written at most once.
    outcomes, o_idx = np.unique(arms["outcome"].to_numpy(str), return_inverse=True)
    ids, p_idx = np.unique(arms["participant_id"].to_numpy(str), return_inverse=True)
    v_idx = (arms["visit"].to_numpy(str) == VISITS[1]).astype(int)
    cube = np.full((len(VISITS), len(outcomes), len(ids)), np.nan)
    cube[v_idx, o_idx, p_idx] = arms["y"].to_numpy(float)
    mbpm = np.zeros(len(ids), bool)
    mbpm[p_idx] = arms["group"].to_numpy(str) == TREATED
    return {"outcomes": outcomes, "participant_id": ids, "pre": cube[0], "post": cube[1],
            "treated": mbpm}
