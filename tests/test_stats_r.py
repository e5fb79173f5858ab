"""mbpm.stats against values computed by R (lme4 + lmerTest, wilcox.test), stored in
tests/fixtures/r/ with the R script that made them (reference.R; README.md says how to
regenerate them). R is not needed to run these tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import mbpm.stats as S
from mbpm.stats import lmm, ranks

FIXTURES = Path(__file__).parent / "fixtures" / "r"
REL = 1e-6  # the issue's tolerance; the agreement is about 1e-7 (lme4's optimizer tolerance)


@pytest.fixture(scope="module")
def lmm_input() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "lmm_input.csv")


@pytest.fixture(scope="module")
def lme4() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "lmm_lme4.csv")


@pytest.fixture(scope="module")
def rank_input() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "rank_input.csv")


@pytest.fixture(scope="module")
def wilcox() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "rank_wilcox.csv")


def _design(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mbpm = (d["group"] == "MBPM").to_numpy(float)
    week8 = (d["visit"] == "week8").to_numpy(float)
    X = np.column_stack([np.ones(len(d)), mbpm, week8, mbpm * week8])
    return d["y"].to_numpy(float), X, pd.factorize(d["participant_id"])[0]


def test_fixtures_cover_real_outcomes_dropouts_and_a_singular_fit(lme4):
    inter = lme4[lme4.term == "mbpm:week8"].set_index("dataset")
    assert {"data:oxytocin", "data:il6", "data:sfmpq.total", "made-up:dropouts"} <= set(inter.index)
    assert inter.loc["made-up:singular", "singular"] and not inter.loc["data:il6", "singular"]
    assert (inter["n_obs"] < 2 * inter["n_participants"]).all()  # every set has incomplete people


def test_mixed_model_matches_lme4_and_lmertest(lmm_input, lme4):
    long = lmm_input.rename(columns={"dataset": "outcome", "y": "value"})
    got = S.mixed_model(long, None).set_index("outcome")
    ref = lme4[lme4.term == "mbpm:week8"].set_index("dataset").loc[got.index]
    np.testing.assert_allclose(got["se"], ref["se"], rtol=REL)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=REL)
    np.testing.assert_allclose(got["p"], ref["p"], rtol=REL)
    np.testing.assert_allclose(got["statistic"], ref["t"], rtol=REL)
    for col in ("estimate", "ci_low", "ci_high"):  # relative to the SE: estimates can be ~0
        assert (np.abs(got[col] - ref[col]) <= REL * ref["se"]).all(), col
    np.testing.assert_allclose(got["var_participant"], ref["var_participant"], rtol=REL, atol=1e-12)
    np.testing.assert_allclose(got["var_residual"], ref["var_residual"], rtol=REL)
    assert (got["singular"] == ref["singular"]).all()
    assert (got["n"] == ref["n_participants"]).all() and (got["n_obs"] == ref["n_obs"]).all()


def test_every_fixed_effect_and_the_variance_parameters_match_lme4(lmm_input, lme4):
    for dataset, d in lmm_input.groupby("dataset", sort=False):
        ref = lme4[lme4.dataset == dataset].reset_index(drop=True)
        fit = lmm.fit(*_design(d))
        for j, r in ref.iterrows():
            est, se, dof = fit.contrast(np.eye(4)[j])
            assert abs(est - r["estimate"]) <= REL * r["se"], (dataset, r["term"])
            assert (se, dof) == pytest.approx((r["se"], r["df"]), rel=REL), (dataset, r["term"])
        r = ref.iloc[0]
        assert fit.reml_criterion == pytest.approx(r["reml_criterion"], rel=1e-12), dataset
        assert fit.theta == pytest.approx(r["theta"], rel=REL, abs=1e-12), dataset
        vp = fit.vcov_varpar
        np.testing.assert_allclose(
            [vp[0, 0], vp[0, 1], vp[1, 1]],
            r[["vcov_theta_theta", "vcov_theta_sigma", "vcov_sigma_sigma"]].to_numpy(float),
            rtol=1e-5, atol=1e-8, err_msg=dataset)  # numDeriv noise: ~1e-10 at theta = 0


def test_reml_estimate_and_variances_agree_with_statsmodels_mixedlm(lmm_input):
    # statsmodels fits the same REML model by its own optimizer: the estimates and variance
    # components agree to its convergence tolerance (its SEs, from the joint Hessian with the
    # variance parameters, are not lme4's and are not compared).
    for dataset, d in lmm_input.groupby("dataset", sort=False):
        if dataset == "made-up:singular":
            continue  # MixedLM warns about the boundary and stops near it, not on it
        y, X, cluster = _design(d)
        fit = lmm.fit(y, X, cluster)
        frame = pd.DataFrame({"y": y, "m": X[:, 1], "w": X[:, 2], "g": cluster})
        sm = smf.mixedlm("y ~ m * w", frame, groups=frame["g"]).fit(reml=True)
        np.testing.assert_allclose(fit.beta, sm.fe_params.to_numpy(), rtol=1e-4, atol=1e-6)
        assert fit.sigma2 == pytest.approx(sm.scale, rel=1e-4), dataset
        assert fit.tau2 == pytest.approx(float(sm.cov_re.iloc[0, 0]), rel=1e-3), dataset


def test_satterthwaite_hessian_is_the_numerical_second_derivative(lmm_input):
    # The analytic Hessian of the REML deviance D(theta, sigma) against central differences of
    # D computed from its definition (lmerTest's devfun_vp), here on the dropout data set.
    y, X, cluster = _design(lmm_input[lmm_input.dataset == "made-up:dropouts"])
    fit = lmm.fit(y, X, cluster)
    n, p = X.shape

    def deviance(theta: float, sigma: float) -> float:
        g = theta**2
        ids = np.unique(cluster)
        vinv = np.zeros((n, n))
        logdet = 0.0
        for i in ids:
            idx = np.flatnonzero(cluster == i)
            k = len(idx)
            vinv[np.ix_(idx, idx)] = np.eye(k) - g / (1 + k * g)
            logdet += np.log1p(k * g)
        M = X.T @ vinv @ X
        beta = np.linalg.solve(M, X.T @ vinv @ y)
        r = y - X @ beta
        return (np.linalg.slogdet(M)[1] + logdet + r @ vinv @ r / sigma**2
                + (n - p) * np.log(2 * np.pi * sigma**2))

    x0 = np.array([fit.theta, np.sqrt(fit.sigma2)])
    h = 1e-4
    H = np.zeros((2, 2))
    for a in range(2):
        for b in range(2):
            ea, eb = np.eye(2)[a] * h, np.eye(2)[b] * h
            H[a, b] = (deviance(*(x0 + ea + eb)) - deviance(*(x0 + ea - eb))
                       - deviance(*(x0 - ea + eb)) + deviance(*(x0 - ea - eb))) / (4 * h * h)
    np.testing.assert_allclose(2 * np.linalg.inv(H), fit.vcov_varpar, rtol=1e-5)


def _samples(rank_input: pd.DataFrame, dataset: str, test: str) -> dict[str, np.ndarray]:
    d = rank_input[(rank_input.dataset == dataset) & (rank_input.test == test)]
    return {s: g["value"].to_numpy(float) for s, g in d.groupby("sample")}


def test_rank_tests_match_r_wilcox_test_defaults(rank_input, wilcox):
    methods = set()
    for _, r in wilcox.iterrows():
        s = _samples(rank_input, r["dataset"], r["test"])
        got = (ranks.mann_whitney(s["x"], s["y"]) if r["test"] == "two-sample"
               else ranks.signed_rank(s["d"]))
        assert got.statistic == r["statistic"], r["dataset"]
        assert got.p == pytest.approx(r["p"], rel=1e-12), (r["dataset"], r["test"])
        assert (got.method == ranks.EXACT) == ("exact" in r["method"]), r["dataset"]
        methods.add((r["test"], got.method))
    assert len(methods) == 4  # exact and normal approximation, for both tests


def test_rank_rows_of_the_analyses_match_r(rank_input, wilcox):
    ref = wilcox.set_index(["dataset", "test"])
    # two-sample: change scores as week8 - baseline with baseline 0 (MBPM = x, WL = y)
    for dataset in ("data:change:oxytocin", "made-up:small-no-ties", "made-up:50-no-ties"):
        s = _samples(rank_input, dataset, "two-sample")
        rows = [(f"X{i}", "MBPM", v) for i, v in enumerate(s["x"])]
        rows += [(f"Y{i}", "WL", v) for i, v in enumerate(s["y"])]
        ids, groups, values = map(list, zip(*rows))
        long = pd.DataFrame({"participant_id": ids * 2, "group": groups * 2,
                             "visit": ["baseline"] * len(ids) + ["week8"] * len(ids),
                             "outcome": "o", "value": [0.0] * len(ids) + values})
        row = S.change_nonparametric(long, None).iloc[0]
        assert row["p"] == pytest.approx(ref.loc[(dataset, "two-sample"), "p"], rel=1e-12)
        base = long[long.visit == "week8"].assign(
            visit="baseline", group=lambda f: np.where(f.group == "MBPM", "MBPM", "HC"))
        row = S.baseline_comparison(base, None).query("analysis == 'Mann-Whitney U'").iloc[0]
        assert row["p"] == pytest.approx(ref.loc[(dataset, "two-sample"), "p"], rel=1e-12)
    # signed rank: the within-arm test of week8 - baseline with baseline 0
    for dataset in ("data:WL:bdi2.total", "made-up:no-ties", "made-up:a-zero-no-ties"):
        d = _samples(rank_input, dataset, "signed-rank")["d"]
        ids = [f"P{i}" for i in range(len(d))]
        long = pd.DataFrame({"participant_id": ids * 2, "group": "MBPM",
                             "visit": ["baseline"] * len(d) + ["week8"] * len(d),
                             "outcome": "o", "value": np.r_[np.zeros(len(d)), d]})
        row = S.within_group_tests(long, None).query("analysis == 'Wilcoxon signed-rank'").iloc[0]
        r = ref.loc[(dataset, "signed-rank")]
        assert (row["statistic"], row["p"]) == pytest.approx((r["statistic"], r["p"]), rel=1e-12)
