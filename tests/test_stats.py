"""mbpm.stats against independent computations (scipy, statsmodels, pingouin, closed forms,
pingouin's published reference example). Synthetic data use explicit seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests

import mbpm.stats as S
from mbpm.errors import DataError

FAMILIES = {"oxytocin": "biomarkers", "il6": "biomarkers", "pain": "pain", "pcs": "pain",
            "bdi": "mood"}
LOGS = ("oxytocin", "il6")


def make_long(seed: int, n_mbpm: int = 20, n_wl: int = 20, n_hc: int = 15,
              drop_week8: tuple[int, ...] = ()) -> pd.DataFrame:
    """Synthetic long table: biomarkers log-normal, scales normal; MBPM improves.
    ``drop_week8``: participant numbers (0-based, arms) without a week-8 visit."""
    rng = np.random.default_rng(seed)
    rows = []
    groups = ["MBPM"] * n_mbpm + ["WL"] * n_wl + ["HC"] * n_hc
    for i, group in enumerate(groups):
        pid = f"P{i:03d}"
        for outcome in FAMILIES:
            person = rng.normal()
            effect = 0.6 if group == "MBPM" else 0.0
            if outcome in LOGS:
                base = float(np.exp(3 + 0.6 * person + 0.3 * rng.normal()))
                week8 = float(np.exp(3 + 0.6 * person + 0.3 * rng.normal() + 0.4 * effect))
            else:
                base = 50 + 8 * person + 4 * rng.normal()
                week8 = 50 + 8 * person + 4 * rng.normal() - 6 * effect
            rows.append((pid, group, "baseline", outcome, base))
            if group != "HC" and i not in drop_week8:
                rows.append((pid, group, "week8", outcome, week8))
    return pd.DataFrame(rows, columns=["participant_id", "group", "visit", "outcome", "value"])


def arm_wide(long: pd.DataFrame, outcome: str, log: bool = False) -> pd.DataFrame:
    """Independent reshaping for the checks: completers, one row per participant."""
    sub = long[(long["outcome"] == outcome) & (long["group"] != "HC")]
    w = sub.pivot_table(index=["participant_id", "group"], columns="visit", values="value")
    w = w.dropna().reset_index()
    if log:
        w["baseline"], w["week8"] = np.log(w["baseline"]), np.log(w["week8"])
    w["change"] = w["week8"] - w["baseline"]
    return w


def one(df: pd.DataFrame, **where: str) -> pd.Series:
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, where
    return sel.iloc[0]


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    return make_long(seed=20240253)


# --- result shape -----------------------------------------------------------------------------

def test_every_analysis_has_the_standard_columns_first(long):
    for f in (S.baseline_comparison, S.mixed_anova, S.within_group_tests, S.ancova,
              S.mixed_model, S.change_nonparametric):
        res = f(long, FAMILIES, LOGS)
        assert list(res.columns[:14]) == list(S.RESULT_COLUMNS), f.__name__
        assert set(res["outcome"]) == set(FAMILIES), f.__name__
        assert (res["family"] == res["outcome"].map(FAMILIES)).all()


# --- baseline ---------------------------------------------------------------------------------

def test_welch_matches_scipy_and_hedges_matches_pingouin(long):
    res = S.baseline_comparison(long, FAMILIES, LOGS)
    base = long[long["visit"] == "baseline"]
    for outcome in ("pain", "bdi"):
        x = base[(base.outcome == outcome) & base.group.isin(["MBPM", "WL"])]["value"].to_numpy()
        y = base[(base.outcome == outcome) & (base.group == "HC")]["value"].to_numpy()
        ref = stats.ttest_ind(x, y, equal_var=False)
        ci = ref.confidence_interval(0.95)
        row = one(res, outcome=outcome, analysis="Welch t-test")
        assert row["n"] == len(x) + len(y) == 55
        assert row["estimate"] == pytest.approx(x.mean() - y.mean(), abs=1e-12)
        assert (row["statistic"], row["df"], row["p"]) == pytest.approx(
            (ref.statistic, ref.df, ref.pvalue), rel=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
        g = pg.compute_effsize(x, y, eftype="hedges")
        assert row["effect_size"] == pytest.approx(g, rel=1e-10)
        g_ci = pg.compute_esci(g, nx=len(x), ny=len(y), eftype="cohen", decimals=12)
        assert (row["effect_size_ci_low"], row["effect_size_ci_high"]) == pytest.approx(
            tuple(g_ci), abs=1e-10)


def test_mann_whitney_matches_scipy_and_pingouin_rank_biserial(long):
    res = S.baseline_comparison(long, FAMILIES, LOGS)
    base = long[(long["visit"] == "baseline") & (long["outcome"] == "pcs")]
    x = base[base.group != "HC"]["value"].to_numpy()
    y = base[base.group == "HC"]["value"].to_numpy()
    # 40 vs 15 continuous values, no ties: R's wilcox.test uses the exact distribution (n < 50)
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact")
    row = one(res, outcome="pcs", analysis="Mann-Whitney U")
    assert (row["statistic"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert row["p_method"] == "exact"
    assert row["effect_size"] == pytest.approx(pg.mwu(x, y)["RBC"].iloc[0], rel=1e-12)
    # Hodges-Lehmann shift: the median of all len(x)*len(y) pairwise differences, by loops
    assert row["estimate"] == pytest.approx(np.median([a - b for a in x for b in y]))


def test_log_outcome_is_a_ratio_of_geometric_means(long):
    res = S.baseline_comparison(long, FAMILIES, LOGS)
    base = long[(long["visit"] == "baseline") & (long["outcome"] == "oxytocin")]
    x = base[base.group != "HC"]["value"].to_numpy()
    y = base[base.group == "HC"]["value"].to_numpy()
    row = one(res, outcome="oxytocin", analysis="Welch t-test")
    assert row["estimate"] == pytest.approx(stats.gmean(x) / stats.gmean(y), rel=1e-12)
    assert row["estimate"] == pytest.approx(np.exp(np.log(x).mean() - np.log(y).mean()))
    ci = stats.ttest_ind(np.log(x), np.log(y), equal_var=False).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(np.exp([ci.low, ci.high]))
    assert row["estimate_name"] == "ratio of geometric means" and row["log_scale"]


# --- the 2 x 2 closed forms -----------------------------------------------------------------

@pytest.mark.parametrize("n_wl", [20, 13])  # balanced, and unbalanced (type II SS in pingouin)
def test_interaction_F_is_squared_t_of_change_scores(n_wl):
    long = make_long(seed=7, n_wl=n_wl)
    res = S.mixed_anova(long, FAMILIES)
    for outcome in ("pain", "il6"):
        w = arm_wide(long, outcome)
        ref = stats.ttest_ind(w.change[w.group == "MBPM"], w.change[w.group == "WL"],
                              equal_var=True)
        row = one(res, outcome=outcome)
        assert row["statistic"] == pytest.approx(ref.statistic**2, rel=1e-9)
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-8)
        assert row["df"] == len(w) - 2 and row["df_num"] == 1
        assert row["estimate"] == pytest.approx(
            w.change[w.group == "MBPM"].mean() - w.change[w.group == "WL"].mean(), abs=1e-10)
        # partial eta squared for a 1-df effect: F / (F + df_error)
        assert row["effect_size"] == pytest.approx(ref.statistic**2 / (ref.statistic**2 + len(w) - 2))


def test_mixed_model_interaction_is_difference_of_mean_changes_when_balanced():
    long = make_long(seed=11)
    res = S.mixed_model(long, FAMILIES)
    for outcome in ("pain", "bdi"):
        w = arm_wide(long, outcome)
        diff = w.change[w.group == "MBPM"].mean() - w.change[w.group == "WL"].mean()
        row = one(res, outcome=outcome)
        assert row["estimate"] == pytest.approx(diff, abs=1e-10)
        assert row["analysis"] == "linear mixed model (REML, Satterthwaite)"
        # t test on the Satterthwaite df: CI estimate +/- t_df SE, p from t = estimate / SE
        assert row["ci_high"] - row["ci_low"] == pytest.approx(
            2 * stats.t.ppf(0.975, row["df"]) * row["se"], rel=1e-12)
        assert row["statistic"] == pytest.approx(row["estimate"] / row["se"], rel=1e-12)
        assert row["p"] == pytest.approx(2 * stats.t.sf(abs(row["statistic"]), row["df"]))
        # balanced and complete: the interaction's SE is that of the two-sample t of change
        # scores (pooled variance), and its df (n - 2 = 38) equals that t-test's
        ref = stats.ttest_ind(w.change[w.group == "MBPM"], w.change[w.group == "WL"])
        assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-8)
        assert row["df"] == pytest.approx(38, rel=1e-8)


def test_pingouin_reference_dataset_published_values():
    # pingouin.mixed_anova docstring (0.7.0): Group F=5.052 p=0.028; Time F=4.027 p=0.020;
    # Interaction F=2.728 p=0.070 (3 time levels, so the wrapper is tested directly).
    df = pg.read_dataset("mixed_anova")
    tab = S.pingouin_mixed_anova(df, dv="Scores", within="Time", between="Group",
                                 subject="Subject").set_index("Source")
    assert round(tab.loc["Interaction", "F"], 3) == 2.728
    assert round(tab.loc["Interaction", "p_unc"], 3) == 0.070
    assert round(tab.loc["Group", "F"], 3) == 5.052 and round(tab.loc["Group", "p_unc"], 3) == 0.028
    assert round(tab.loc["Time", "F"], 3) == 4.027 and round(tab.loc["Time", "p_unc"], 3) == 0.020


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # pingouin 0.7 under pandas 3.1
def test_pingouin_wrapper_drops_incomplete_subjects_explicitly():
    df = pg.read_dataset("mixed_anova")
    holed = df.drop(index=df.index[(df.Subject == 3) & (df.Time == "June")])
    got = S.pingouin_mixed_anova(holed, dv="Scores", within="Time", between="Group",
                                 subject="Subject")
    expected = pg.mixed_anova(df[df.Subject != 3], dv="Scores", within="Time",
                              between="Group", subject="Subject")
    pd.testing.assert_frame_equal(got, expected)


# --- within-arm tests -------------------------------------------------------------------------

def test_within_group_paired_t_dz_and_wilcoxon(long):
    res = S.within_group_tests(long, FAMILIES, LOGS)
    w = arm_wide(long, "pain")
    m = w[w.group == "MBPM"]
    ref = stats.ttest_rel(m.week8, m.baseline)
    row = one(res, outcome="pain", analysis="paired t-test", contrast="MBPM: week8 vs baseline")
    assert (row["statistic"], row["df"], row["p"]) == pytest.approx(
        (ref.statistic, ref.df, ref.pvalue), rel=1e-12)
    d = m.change.to_numpy()
    assert row["effect_size"] == pytest.approx(d.mean() / d.std(ddof=1))
    dz_ci = pg.compute_esci(row["effect_size"], nx=len(d), ny=1, eftype="cohen", decimals=12)
    assert (row["effect_size_ci_low"], row["effect_size_ci_high"]) == pytest.approx(
        tuple(dz_ci), abs=1e-10)
    wil = one(res, outcome="pain", analysis="Wilcoxon signed-rank",
              contrast="MBPM: week8 vs baseline")
    ref_w = stats.wilcoxon(d, method="exact")  # 20 continuous differences: exact, as R
    ranks = stats.rankdata(np.abs(d))
    assert wil["statistic"] == ranks[d > 0].sum()  # R's V: the sum of the positive ranks
    assert wil["p"] == pytest.approx(ref_w.pvalue) and wil["p_method"] == "exact"
    assert wil["effect_size"] == pytest.approx(pg.wilcoxon(d)["RBC"].iloc[0], rel=1e-12)
    ox = one(res, outcome="oxytocin", analysis="paired t-test", contrast="WL: week8 vs baseline")
    wo = arm_wide(long, "oxytocin")
    wo = wo[wo.group == "WL"]
    assert ox["estimate"] == pytest.approx(stats.gmean(wo.week8) / stats.gmean(wo.baseline))


# --- ANCOVA -----------------------------------------------------------------------------------

def test_ancova_equals_statsmodels_ols(long):
    res = S.ancova(long, FAMILIES, LOGS)
    for outcome, log in (("pain", False), ("oxytocin", True)):
        w = arm_wide(long, outcome, log=log)
        fit = smf.ols("week8 ~ C(group, Treatment('WL')) + baseline", data=w).fit()
        term = "C(group, Treatment('WL'))[T.MBPM]"
        lo, hi = fit.conf_int().loc[term]
        tr = np.exp if log else (lambda v: v)
        row = one(res, outcome=outcome)
        assert row["estimate"] == pytest.approx(tr(fit.params[term]), rel=1e-10)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((tr(lo), tr(hi)), rel=1e-10)
        assert (row["statistic"], row["df"], row["p"]) == pytest.approx(
            (fit.tvalues[term], fit.df_resid, fit.pvalues[term]), rel=1e-10)
        sd = np.sqrt((w[w.group == "MBPM"].baseline.var() * (sum(w.group == "MBPM") - 1)
                      + w[w.group == "WL"].baseline.var() * (sum(w.group == "WL") - 1))
                     / (len(w) - 2))
        assert row["effect_size"] == pytest.approx(fit.params[term] / sd)


def test_ancova_tiny_dataset_normal_equations():
    # 6 people; X = [1, baseline, mbpm]; beta = lstsq(X, y); Var(beta) = s^2 (X'X)^-1, s^2 = RSS/3
    base = np.array([10.0, 12.0, 15.0, 11.0, 13.0, 16.0])
    week8 = np.array([11.0, 12.5, 16.0, 8.0, 10.5, 12.0])
    mbpm = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    X = np.column_stack([np.ones(6), base, mbpm])
    beta, rss, *_ = np.linalg.lstsq(X, week8, rcond=None)
    s2 = rss[0] / 3
    se = np.sqrt(s2 * np.linalg.inv(X.T @ X)[2, 2])
    crit = stats.t.ppf(0.975, 3)
    ids = [f"P{i:03d}" for i in range(6)]
    groups = ["WL" if g == 0 else "MBPM" for g in mbpm]
    long = pd.DataFrame({"participant_id": ids * 2, "group": groups * 2,
                         "visit": ["baseline"] * 6 + ["week8"] * 6, "outcome": "pain",
                         "value": np.r_[base, week8]})
    row = one(S.ancova(long, {"pain": "pain"}))
    assert row["n"] == 6 and row["df"] == 3
    assert row["estimate"] == pytest.approx(beta[2], abs=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (beta[2] - crit * se, beta[2] + crit * se), abs=1e-12)
    assert row["statistic"] == pytest.approx(beta[2] / se)
    fast = S.ancova_fast(base, week8, mbpm.astype(bool))
    assert fast["estimate"] == pytest.approx(beta[2], abs=1e-12)
    assert fast["se"] == pytest.approx(se, abs=1e-12)


# --- fast paths -------------------------------------------------------------------------------

def test_ancova_fast_equals_statsmodels_for_many_outcomes_with_missing():
    rng = np.random.default_rng(2024)
    n_trials, n = 30, 40
    mbpm = np.arange(n) < 20
    base = rng.normal(50, 10, (n_trials, n))
    week8 = 0.6 * base + rng.normal(20, 6, (n_trials, n)) - 4 * mbpm
    week8[rng.random((n_trials, n)) < 0.1] = np.nan  # dropouts differ per trial
    fast = S.ancova_fast(base, week8, mbpm)
    for k in range(n_trials):
        d = pd.DataFrame({"b": base[k], "w": week8[k], "m": mbpm.astype(float)}).dropna()
        fit = smf.ols("w ~ b + m", data=d).fit()
        lo, hi = fit.conf_int().loc["m"]
        got = [fast[key][k] for key in ("estimate", "se", "ci_low", "ci_high", "t", "df", "p")]
        want = [fit.params["m"], fit.bse["m"], lo, hi, fit.tvalues["m"], fit.df_resid,
                fit.pvalues["m"]]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        assert fast["n"][k] == len(d)


def test_interaction_fast_equals_pingouin_mixed_anova():
    long = make_long(seed=5, n_wl=17, drop_week8=(2, 25))
    res = S.mixed_anova(long, FAMILIES)
    for outcome in ("pain", "bdi"):
        sub = long[(long.outcome == outcome) & (long.group != "HC")]
        w = sub.pivot_table(index=["participant_id", "group"], columns="visit",
                            values="value").reset_index()  # week8 NaN for dropouts
        fast = S.interaction_fast(w.baseline.to_numpy(), w.week8.to_numpy(),
                                  (w.group == "MBPM").to_numpy())
        row = one(res, outcome=outcome)
        assert fast["n"] == row["n"] == len(w) - 2
        assert (fast["F"], fast["p"], fast["np2"], fast["estimate"]) == pytest.approx(
            (row["statistic"], row["p"], row["effect_size"], row["estimate"]), rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_wide_by_outcome_equals_wide_arms_on_random_tables(seed: int):
    """The one-pass reshaping of the pre/post analyses gives wide_arms' frame for every outcome:
    rows shuffled, IDs of mixed lengths (sorted as text: P10 before P9), any visit missing per
    outcome, an outcome measured in HC only, log outcomes."""
    from mbpm.stats import _core, prepost

    rng = np.random.default_rng(seed)
    long = make_long(seed=seed, n_mbpm=int(rng.integers(2, 30)), n_wl=int(rng.integers(2, 30)),
                     n_hc=int(rng.integers(0, 8)))
    long = long.assign(participant_id="P" + long["participant_id"].str[1:].astype(int).astype(str))
    long = long.loc[rng.random(len(long)) > 0.15]  # any visit of any outcome missing
    hc_only = long.loc[(long["group"] == "HC") & (long["outcome"] == "pain")].assign(outcome="hc_only")
    long = pd.concat([long, hc_only], ignore_index=True).sample(frac=1.0, random_state=seed)
    df, _ = _core.prepare(long, None, LOGS)
    got = list(prepost.wide_by_outcome(df))
    assert [o for o, _ in got] == list(dict.fromkeys(df["outcome"]))
    for outcome, wide in got:
        want = _core.wide_arms(df, outcome)
        if want.empty:
            assert wide.empty and list(wide.columns) == list(want.columns)
        else:
            pd.testing.assert_frame_equal(wide, want)


def test_arm_arrays_feed_the_fast_path_to_the_same_answers():
    long = make_long(seed=8, drop_week8=(4, 33))
    arr = S.arm_arrays(long, LOGS)
    assert arr["pre"].shape == (len(FAMILIES), 40) and arr["treated"].sum() == 20
    fast = S.ancova_fast(arr["pre"], arr["post"], arr["treated"])
    slow = S.ancova(long, FAMILIES, LOGS).set_index("outcome").loc[arr["outcomes"]]
    is_log = np.isin(arr["outcomes"], LOGS)
    np.testing.assert_allclose(np.where(is_log, np.exp(fast["estimate"]), fast["estimate"]),
                               slow["estimate"], rtol=1e-10)
    np.testing.assert_allclose(fast["p"], slow["p"], rtol=1e-9)
    assert (fast["n"] == slow["n"]).all()


def test_all_results_stacks_every_analysis(long):
    res = S.all_results(long, FAMILIES, LOGS)
    assert list(res.columns[:14]) == list(S.RESULT_COLUMNS)
    assert set(res["analysis"]) == {
        "Welch t-test", "Mann-Whitney U", "mixed ANOVA (completers)", "paired t-test",
        "Wilcoxon signed-rank", "ANCOVA (completers)", "linear mixed model (REML, Satterthwaite)",
        "Mann-Whitney U on change"}
    # per outcome: 2 baseline + 1 ANOVA + 4 within-arm + 1 ANCOVA + 1 LMM + 1 change MWU rows
    assert len(res) == 10 * len(FAMILIES)


# --- missing data -----------------------------------------------------------------------------

def test_dropouts_excluded_from_completer_analyses_but_not_mixed_model():
    long = make_long(seed=3, drop_week8=(0, 1, 2, 30))  # 3 MBPM and 1 WL without week 8
    for f in (S.mixed_anova, S.ancova, S.change_nonparametric):
        assert (f(long, FAMILIES)["n"] == 36).all(), f.__name__
    mm = S.mixed_model(long, FAMILIES)
    assert (mm["n"] == 40).all() and (mm["n_obs"] == 76).all() and (mm["n_complete"] == 36).all()
    within = S.within_group_tests(long, FAMILIES)
    assert set(within.loc[within.contrast.str.startswith("MBPM"), "n"]) == {17}


def _two_visit_long(base: np.ndarray, week8: np.ndarray, n_mbpm: int) -> pd.DataFrame:
    ids = [f"P{i:03d}" for i in range(len(base))]
    groups = ["MBPM"] * n_mbpm + ["WL"] * (len(base) - n_mbpm)
    return pd.DataFrame({"participant_id": ids * 2, "group": groups * 2,
                         "visit": ["baseline"] * len(base) + ["week8"] * len(base),
                         "outcome": "pain", "value": np.r_[base, week8]})


def test_mixed_model_flags_a_singular_fit_certain_by_construction():
    # baseline + week8 is the same for everyone in an arm, so the participant means do not vary
    # within an arm: the between-participant mean square is 0 < the within one, and the REML
    # estimate of the between-participant variance is exactly 0 (on the boundary). The model is
    # then ordinary least squares, whose SE and residual df (N - 4) the row must carry.
    a = np.random.default_rng(4).normal(0, 5, 20)
    long = _two_visit_long(50 + a, 50 - a - 3 * (np.arange(20) < 10), n_mbpm=10)
    row = one(S.mixed_model(long, {"pain": "pain"}), outcome="pain")
    assert row["singular"] == True and row["converged"] == True  # noqa: E712 (numpy bool)
    assert "singular" in row["notes"] and row["var_participant"] == 0
    d = long.assign(mbpm=(long.group == "MBPM") * 1.0, week8=(long.visit == "week8") * 1.0)
    ols = smf.ols("value ~ mbpm * week8", data=d).fit()
    assert row["estimate"] == pytest.approx(ols.params["mbpm:week8"], abs=1e-10)
    assert row["se"] == pytest.approx(ols.bse["mbpm:week8"], rel=1e-10)
    assert row["df"] == pytest.approx(ols.df_resid, rel=1e-10) and ols.df_resid == 36
    assert row["p"] == pytest.approx(ols.pvalues["mbpm:week8"], rel=1e-8)


@pytest.mark.parametrize("case, reason", [
    ("constant", "no residual variation"), ("one WL participant", "fewer than 2 participants"),
    ("infinite value", "non-finite"), ("no one seen twice", "two observations"),
    ("no MBPM week 8", "not of full rank")])
def test_mixed_model_records_a_fit_that_cannot_be_done_instead_of_crashing(case, reason):
    base = np.random.default_rng(5).normal(50, 5, 12)
    week8 = base + np.random.default_rng(6).normal(0, 3, 12)
    long = _two_visit_long(base, week8, n_mbpm=6)
    if case == "constant":
        long["value"] = 50.0
    elif case == "one WL participant":
        long = long[~long.participant_id.isin([f"P{i:03d}" for i in range(7, 12)])]
    elif case == "infinite value":
        long.loc[3, "value"] = np.inf
    elif case == "no one seen twice":  # even participants at baseline only, odd at week 8 only
        number = long.participant_id.str[1:].astype(int)
        long = long[(long.visit == "baseline") == (number % 2 == 0)]
    else:  # the interaction is not estimable
        long = long[(long.visit == "baseline") | (long.group == "WL")]
    row = one(S.mixed_model(long, {"pain": "pain"}), outcome="pain")
    assert row["converged"] == False  # noqa: E712 (numpy bool)
    assert reason in row["notes"] and row["notes"].startswith("not fitted")
    assert np.isnan(row["estimate"]) and np.isnan(row["p"]) and np.isnan(row["df"])


# --- change-score tests and correlations --------------------------------------------------------

def test_change_nonparametric_matches_scipy(long):
    row = one(S.change_nonparametric(long, FAMILIES, LOGS), outcome="il6")
    w = arm_wide(long, "il6", log=True)
    x, y = w.change[w.group == "MBPM"], w.change[w.group == "WL"]
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact")  # 20 vs 20, no ties
    assert (row["statistic"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue))
    assert row["p_method"] == "exact"
    assert row["effect_size"] == pytest.approx(pg.mwu(x, y)["RBC"].iloc[0])


def test_spearman_and_bonett_wright_ci(long):
    res = S.change_correlations(long, "oxytocin", ["pain", "bdi"], families=FAMILIES)
    ox = arm_wide(long, "oxytocin", log=True).set_index("participant_id")
    pain = arm_wide(long, "pain").set_index("participant_id")
    for label, members in (("MBPM", ["MBPM"]), ("MBPM+WL (pooled)", ["MBPM", "WL"])):
        ids = ox.index[ox.group.isin(members)]
        ref = stats.spearmanr(ox.loc[ids, "change"], pain.loc[ids, "change"])
        row = one(res, outcome="pain", contrast=label)
        assert row["n"] == len(ids)
        assert (row["estimate"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue))
        r, n = ref.statistic, len(ids)
        se = np.sqrt((1 + r**2 / 2) / (n - 3))  # Bonett & Wright (2000)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (np.tanh(np.arctanh(r) - 1.959963985 * se), np.tanh(np.arctanh(r) + 1.959963985 * se)))


def test_fisher_z_ci_worked_numbers():
    # rho = 0.5, n = 28: z = atanh(0.5) = 0.549306; SE = sqrt(1.125 / 25) = 0.212132;
    # 1.959964 * SE = 0.415771; CI = tanh(0.133535), tanh(0.965077) = 0.132747, 0.746533
    assert S.spearman_ci(0.5, 28) == pytest.approx((0.132747, 0.746533), abs=1e-6)


# --- Benjamini-Hochberg ------------------------------------------------------------------------

def test_bh_matches_statsmodels_within_each_family():
    rng = np.random.default_rng(99)
    p = rng.uniform(0, 0.2, 12)
    p[4] = np.nan
    res = pd.DataFrame({"family": ["a"] * 7 + ["b"] * 5, "analysis": "x", "contrast": "c",
                        "p": p})
    got = S.bh_within_families(res)["p_fdr"].to_numpy()
    for sl in (slice(0, 7), slice(7, 12)):
        part = p[sl]
        ok = np.isfinite(part)
        want = np.full(part.shape, np.nan)
        want[ok] = multipletests(part[ok], method="fdr_bh")[1]
        np.testing.assert_allclose(got[sl], want, rtol=1e-12)


def test_bh_in_results_is_per_family(long):
    res = S.adjust(S.ancova(long, FAMILIES, LOGS))
    bio = res[res.family == "biomarkers"]
    assert bio["p_fdr"].to_numpy() == pytest.approx(
        multipletests(bio["p"], method="fdr_bh")[1])
    single = one(res, family="mood")
    assert single["p_fdr"] == pytest.approx(single["p"])


# --- descriptives -------------------------------------------------------------------------------

def test_describe_and_change_scores(long):
    d = S.describe(long, LOGS)
    row = one(d, outcome="oxytocin", group="HC", visit="baseline")
    v = long[(long.outcome == "oxytocin") & (long.group == "HC")]["value"].to_numpy()
    assert row["n"] == 15 and row["gmean"] == pytest.approx(stats.gmean(v))
    half = stats.t.ppf(0.975, 14) * np.log(v).std(ddof=1) / np.sqrt(15)
    assert row["gmean_ci_high"] == pytest.approx(stats.gmean(v) * np.exp(half))
    assert np.isnan(one(d, outcome="pain", group="HC", visit="baseline")["gmean"])
    ch = S.change_scores(long, LOGS)
    assert len(ch) == 40 * len(FAMILIES)
    r = one(ch, participant_id="P000", outcome="oxytocin")
    assert r["change"] == pytest.approx(np.log(r["week8"] / r["baseline"]))


def test_table_one_hand_counted():
    p = pd.DataFrame({
        "participant_id": ["P001", "P002", "P003", "P004", "P005"],
        "group": ["MBPM", "MBPM", "MBPM", "WL", "HC"],
        "age": [30, 40, 50, 35, 28], "sex": ["F", "M", "F", "F", "M"],
        "pain_condition": ["fibromyalgia", "low back pain", "fibromyalgia", "arthritis", None],
        "pain_years": [2.0, 4.0, 9.0, 1.0, None]})
    t = S.table_one(p)
    assert list(t.columns) == ["MBPM", "WL", "HC"]
    assert t.loc["Age, years, mean (SD)", "MBPM"] == "40.0 (10.0)"  # SD of 30, 40, 50 is 10
    assert t.loc["Female, n (%)", "MBPM"] == "2 (66.7)"
    assert t.loc["Pain condition: fibromyalgia, n (%)", "MBPM"] == "2 (66.7)"
    assert t.loc["Pain duration, years, median (IQR)", "MBPM"] == "4.0 (3.0–6.5)"
    assert t.loc["Pain duration, years, median (IQR)", "HC"] == "—"


# --- bad input ----------------------------------------------------------------------------------

def test_bad_input_raises_data_error(long):
    with pytest.raises(DataError, match="no family"):
        S.ancova(long, {"pain": "pain"})
    neg = long.copy()
    neg.loc[neg.index[0], "value"] = -1.0  # P000 baseline oxytocin
    with pytest.raises(DataError, match="P000.*positive"):
        S.ancova(neg, FAMILIES, LOGS)
    bad = long.copy()
    bad.loc[bad.index[3], "group"] = "XX"
    with pytest.raises(DataError, match="column group"):
        S.describe(bad)
    with pytest.raises(DataError, match="duplicated"):
        S.describe(pd.concat([long, long.iloc[:1]]))
    with pytest.raises(DataError, match="missing column"):
        S.describe(long.drop(columns="visit"))
