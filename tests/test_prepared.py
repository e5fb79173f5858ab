"""Analyses given a table prepared once (:class:`mbpm.stats.Prepared`, as mbpm.analysis.run
shares one) return exactly what they return from the raw long table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mbpm.stats as S
from mbpm.errors import DataError
from test_stats import FAMILIES, LOGS, make_long

ARM_ANALYSES = (S.mixed_anova, S.within_group_tests, S.ancova, S.mixed_model,
                S.change_nonparametric)


def _long(seed: int) -> pd.DataFrame:
    """Shuffled rows, some values missing (NaN rows are dropped by prepare), dropouts."""
    rng = np.random.default_rng(seed)
    long = make_long(seed=seed, n_wl=int(rng.integers(8, 25)), drop_week8=(1, 30))
    long.loc[rng.random(len(long)) < 0.05, "value"] = np.nan
    return long.sample(frac=1.0, random_state=seed)


@pytest.mark.parametrize("seed", range(3))
def test_analyses_of_a_prepared_table_equal_those_of_the_raw_table(seed: int):
    long = _long(seed)
    checked = S.prepared(long, FAMILIES, LOGS)
    arms = checked.rows(checked.table["group"].isin(S.ARMS))
    patients = long[long["group"].isin(S.ARMS)]
    pd.testing.assert_frame_equal(S.baseline_comparison(checked, FAMILIES, LOGS),
                                  S.baseline_comparison(long, FAMILIES, LOGS))
    for analysis in ARM_ANALYSES:
        pd.testing.assert_frame_equal(analysis(arms, FAMILIES, LOGS),
                                      analysis(patients, FAMILIES, LOGS))


def test_a_prepared_table_with_other_log_outcomes_is_logged_again():
    long = _long(4)
    checked = S.prepared(long, FAMILIES, LOGS)
    before = checked.table["y"].copy()
    for logs in ((), ("oxytocin",), True):
        pd.testing.assert_frame_equal(S.ancova(checked, FAMILIES, logs),
                                      S.ancova(long, FAMILIES, logs))
    pd.testing.assert_series_equal(checked.table["y"], before)  # the shared table is untouched


def test_a_prepared_table_still_checks_families_and_log_outcomes():
    checked = S.prepared(_long(5), FAMILIES, LOGS)
    with pytest.raises(DataError, match="no family given"):
        S.ancova(checked, {"pain": "pain"}, LOGS)
    with pytest.raises(DataError, match="not an outcome"):
        S.ancova(checked, FAMILIES, ("oxytocine",))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # pingouin 0.7 under pandas 3.1
@pytest.mark.parametrize("seed", range(4))
def test_closed_form_mixed_anova_equals_pingouin(seed: int):
    """mixed_anova's closed form (F = t^2 of change scores) against pingouin.mixed_anova's
    interaction row on the completers: unequal arms, dropouts, log outcomes."""
    long = _long(seed)
    res = S.mixed_anova(long, FAMILIES, LOGS).set_index("outcome")
    for outcome in FAMILIES:
        sub = long.loc[(long["outcome"] == outcome) & long["group"].isin(S.ARMS)].dropna()
        sub = sub.assign(y=np.log(sub["value"]) if outcome in LOGS else sub["value"])
        tab = S.pingouin_mixed_anova(sub, dv="y", within="visit", between="group",
                                     subject="participant_id").set_index("Source")
        want = tab.loc["Interaction"]
        row = res.loc[outcome]
        assert (row["statistic"], row["p"], row["effect_size"], row["df"], row["df_num"]) == \
            pytest.approx((want["F"], want["p_unc"], want["np2"], want["DF2"], want["DF1"]),
                          rel=1e-9)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
@pytest.mark.parametrize("deficient", [False, True])
def test_ols_equals_statsmodels(deficient: bool):
    """prepost.ols (the ANCOVA's fit, without patsy) against statsmodels' OLS, also when a
    column is constant (rank 2 of 3: pinv, residual df n - rank)."""
    import statsmodels.api as sm

    from mbpm.stats.prepost import ols

    rng = np.random.default_rng(9)
    X = np.column_stack([np.ones(30), np.full(30, 5.0) if deficient else rng.normal(size=30),
                         rng.integers(0, 2, 30)])
    y = rng.normal(size=30) + X[:, 2]
    fit = sm.OLS(y, X).fit()
    beta, se, dof = ols(y, X)
    np.testing.assert_allclose(beta, fit.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(se, fit.bse, rtol=1e-10)
    assert dof == fit.df_resid == (28 if deficient else 27)


def test_scale_outcomes_equal_the_joined_text_columns():
    """outcomes._scale_outcomes (joined once per pair) against the row-by-row join, for text
    and object columns, and with a missing cell (the row-by-row fallback)."""
    from mbpm import outcomes

    scores = pd.DataFrame({"instrument": pd.array(["bdi", "pcs", "bdi", "pcs"] * 3, dtype="str"),
                           "scale": pd.array(["total", "total", "total", "rumination"] * 3,
                                             dtype="str")}, index=range(5, 17))
    for frame in (scores, scores.astype(object), scores.assign(scale=scores["scale"].where(
            scores.index != 7))):
        want = frame["instrument"] + "." + frame["scale"]
        pd.testing.assert_series_equal(outcomes._scale_outcomes(frame), want, check_names=False)
