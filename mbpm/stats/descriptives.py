"""Descriptive tables the chapters show: per-group summaries, change scores, Table 1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mbpm.errors import DataError
from mbpm.lazy import lazy_module
from mbpm.stats._core import ARMS, CONFIDENCE, GROUPS, POST, PRE, VISITS, LogOutcomes, prepare

#: scipy.special's t quantile, the function ``scipy.stats.t.ppf`` computes with (bit for bit):
#: importing scipy.stats costs a chapter 1.8 s, scipy.special 0.3 s (imported at first use).
special = lazy_module("scipy.special")


def _summary(values: pd.Series, is_log: bool) -> dict[str, float]:
    """n, mean (t CI), SD, median, quartiles; geometric mean with the back-transformed t CI of the
    mean log, exp(mean(ln x) +/- t_{n-1} SD(ln x)/sqrt(n)), for log outcomes."""
    v = values.to_numpy(dtype=float)
    n = len(v)
    crit = special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2) if n > 1 else np.nan  # t_{n-1} quantile
    mean, sd = v.mean(), (v.std(ddof=1) if n > 1 else np.nan)
    out = {"n": n, "mean": mean, "sd": sd, "mean_ci_low": mean - crit * sd / np.sqrt(n),
           "mean_ci_high": mean + crit * sd / np.sqrt(n), "median": np.median(v),
           "q1": np.quantile(v, 0.25), "q3": np.quantile(v, 0.75),
           "gmean": np.nan, "gmean_ci_low": np.nan, "gmean_ci_high": np.nan}
    if is_log:
        lv = np.log(v)
        half = crit * (lv.std(ddof=1) if n > 1 else np.nan) / np.sqrt(n)
        out.update(gmean=np.exp(lv.mean()), gmean_ci_low=np.exp(lv.mean() - half),
                   gmean_ci_high=np.exp(lv.mean() + half))
    return out


def describe(long: pd.DataFrame, log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """Per outcome, group and visit: n, mean with 95 % t CI, SD, median, q1, q3 (numpy default
    linear quantiles) and, for log outcomes, the geometric mean with its 95 % CI."""
    df, logs = prepare(long, None, log_outcomes)
    rows = [{"outcome": o, "group": g, "visit": v, **_summary(sub["value"], o in logs),
             "log_scale": o in logs}
            for (o, g, v), sub in df.groupby(["outcome", "group", "visit"], sort=False)]
    out = pd.DataFrame(rows)
    order = {"group": list(GROUPS), "visit": list(VISITS)}
    for col, cats in order.items():
        out[col] = pd.Categorical(out[col], categories=cats, ordered=True)
    out = out.sort_values(["outcome", "group", "visit"], kind="stable").reset_index(drop=True)
    for col in order:
        out[col] = out[col].astype("str")
    return out


def change_scores(long: pd.DataFrame, log_outcomes: LogOutcomes = ()) -> pd.DataFrame:
    """One row per MBPM/WL participant and outcome: baseline, week8 (original scale) and change =
    week8 - baseline, or ln(week8 / baseline) for log outcomes (``log_change`` says which).
    Participants missing a visit have NaN change."""
    df, logs = prepare(long, None, log_outcomes)
    arms = df.loc[df["group"].isin(ARMS)]
    wide = arms.pivot_table(index=["participant_id", "group", "outcome"], columns="visit",
                            values="value", aggfunc="first")
    wide = wide.reindex(columns=list(VISITS))
    wide.columns = list(VISITS)
    wide = wide.reset_index()
    is_log = wide["outcome"].isin(logs)
    ratio = wide[POST] / wide[PRE]
    wide["change"] = np.where(is_log, np.log(ratio.where(is_log, 1.0)),
                              wide[POST] - wide[PRE])
    wide["log_change"] = is_log
    return wide


PARTICIPANT_COLUMNS = ("participant_id", "group", "age", "sex", "pain_condition", "pain_years")


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def _column(p: pd.DataFrame, conditions: list[str]) -> dict[str, str]:
    n = len(p)
    female = int((p["sex"] == "F").sum())
    years = p["pain_years"].dropna()
    cells = {"n": str(n),
             "Age, years, mean (SD)": f"{_fmt(p['age'].mean())} ({_fmt(p['age'].std(ddof=1))})",
             "Female, n (%)": f"{female} ({_fmt(100 * female / n if n else np.nan)})"}
    pain = p["pain_condition"].dropna()
    for c in conditions:
        k = int((pain == c).sum())
        cells[f"Pain condition: {c}, n (%)"] = f"{k} ({_fmt(100 * k / n)})" if len(pain) else "—"
    cells["Pain duration, years, median (IQR)"] = (
        f"{_fmt(years.median())} ({_fmt(years.quantile(0.25))}–{_fmt(years.quantile(0.75))})"
        if len(years) else "—")
    return cells


def table_one(participants: pd.DataFrame) -> pd.DataFrame:
    """Table 1 by group (MBPM, WL, HC): n, age mean (SD), female n (%), pain condition n (%),
    pain duration median (IQR, numpy linear quantiles). Index: characteristic; one column per
    group present; HC pain rows are '—'. Percentages are of the group's n."""
    missing = [c for c in PARTICIPANT_COLUMNS if c not in participants.columns]
    if missing:
        raise DataError(f"participants: missing column(s) {missing}")
    p = participants.copy()
    p["age"] = pd.to_numeric(p["age"])
    p["pain_years"] = pd.to_numeric(p["pain_years"])
    bad = p.loc[~p["group"].isin(GROUPS)]
    if len(bad):
        raise DataError(f"participants: row {bad.index[0]}, column group: expected one of "
                        f"{list(GROUPS)}, got {bad['group'].iloc[0]!r}")
    conditions = sorted(p["pain_condition"].dropna().astype("str").unique())
    cols = {g: _column(p.loc[p["group"] == g], conditions) for g in GROUPS
            if (p["group"] == g).any()}
    table = pd.DataFrame(cols)
    table.index.name = "characteristic"
    return table
