"""Design analysis and claims: power formulas against scipy's noncentral t, the pipeline's null
rejection rate, seed handling, and the claims' decision rules against hand-made results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from mbpm import analysis, claims, design, io
from mbpm.simulate import read_params


# --- analytic power -------------------------------------------------------------------------

def _power_two_sample(d: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    """Power of the two-sided pooled t-test: noncentral t, ncp = d / sqrt(1/n1 + 1/n2)."""
    df = n1 + n2 - 2
    crit = stats.t.ppf(1 - alpha / 2, df)
    ncp = d / np.sqrt(1 / n1 + 1 / n2)
    return stats.nct.sf(crit, df, ncp) + np.nan_to_num(stats.nct.cdf(-crit, df, ncp))


def _power_paired(dz: float, n: int, alpha: float = 0.05) -> float:
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    ncp = dz * np.sqrt(n)
    return stats.nct.sf(crit, df, ncp) + np.nan_to_num(stats.nct.cdf(-crit, df, ncp))


@pytest.mark.parametrize(("n1", "n2"), [(25, 25), (23, 23), (22, 24), (50, 15)])
def test_mde_two_sample_solves_the_noncentral_t_power(n1, n2):
    expected = optimize.brentq(lambda d: _power_two_sample(d, n1, n2) - 0.8, 0.05, 2)
    assert design.mde_two_sample(n1, n2) == pytest.approx(expected, abs=1e-4)


def test_mde_two_sample_matches_cohens_table():
    # Cohen (1988), Table 2.4.1: d = 0.80 needs n = 26 per group for power 0.80 at alpha 0.05
    # (two-sided), so 26 per group detects d = 0.80 (to the table's rounding of n).
    assert design.mde_two_sample(26, 26) == pytest.approx(0.80, abs=0.01)


@pytest.mark.parametrize("n", [10, 23, 50])
def test_mde_paired_solves_the_noncentral_t_power(n):
    expected = optimize.brentq(lambda d: _power_paired(d, n) - 0.8, 0.05, 2)
    assert design.mde_paired(n) == pytest.approx(expected, abs=1e-4)


def test_mde_correlation_closed_form():
    # n = 28: (1.959964 + 0.841621) / sqrt(25) = 0.560317; tanh(0.560317) = (e^1.120634 - 1) / (e^1.120634 + 1) = 2.066790 / 4.066790 = 0.508212
    assert design.mde_correlation(28) == pytest.approx(0.508212, abs=1e-5)


def test_detectable_effects_uses_the_baseline_correlation():
    long = analysis.outcome_table(io.load_study())
    table = design.detectable_effects(long)
    # rho by hand: completers, values centred within arm, Pearson correlation of baseline, week 8.
    bdi = long[(long["outcome"] == "bdi2.total") & long["group"].isin(["MBPM", "WL"])]
    wide = bdi.pivot_table(index=["participant_id", "group"], columns="visit",
                           values="value").dropna()
    centred = wide - wide.groupby(level="group").transform("mean")
    rho = centred["baseline"].corr(centred["week8"])
    n = wide.groupby(level="group").size()
    d_t = optimize.brentq(lambda d: _power_two_sample(d, n["MBPM"], n["WL"]) - 0.8, 0.05, 2)
    rows = table[table["outcome"] == "BDI-II: Total"].set_index("test")
    assert rows.at["ANCOVA, MBPM vs WL", "rho"] == pytest.approx(rho)
    assert rows.at["ANCOVA, MBPM vs WL", "mde_sd"] == pytest.approx(
        d_t * np.sqrt(1 - rho**2), abs=1e-4)
    assert rows.at["change scores / interaction, MBPM vs WL", "mde_sd"] == pytest.approx(
        d_t * np.sqrt(2 * (1 - rho)), abs=1e-4)


def test_detectable_effects_are_computed_once_per_build(tmp_path, monkeypatch):
    """With the build's results cache on, the three chapters that show the table share one
    computation (a second call reads it, equal); a changed outcome table is computed anew."""
    long = analysis.outcome_table(io.load_study())
    computed = []
    compute = design._detectable_effects
    monkeypatch.setattr(design, "_detectable_effects",
                        lambda *args: computed.append(1) or compute(*args))
    monkeypatch.setenv("MBPM_CACHE_DIR", str(tmp_path))
    first, second = design.detectable_effects(long), design.detectable_effects(long)
    assert len(computed) == 1
    pd.testing.assert_frame_equal(first, second)
    changed = long.assign(value=long["value"] * 1.01)
    design.detectable_effects(changed)
    assert len(computed) == 2


# --- fast paired t, seeds, tables -----------------------------------------------------------

def test_paired_fast_equals_scipy_with_missing_values():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(4, 30))
    week8 = base + rng.normal(0.3, 1, size=(4, 30))
    week8[rng.random((4, 30)) < 0.1] = np.nan
    arm = np.arange(30) < 18
    res = design.paired_fast(base, week8, arm)
    for k in range(4):
        ok = arm & np.isfinite(week8[k])
        ref = stats.ttest_rel(week8[k][ok], base[k][ok])
        assert res["t"][k] == pytest.approx(ref.statistic)
        assert res["p"][k] == pytest.approx(ref.pvalue)
        assert res["n"][k] == ok.sum()


def test_trial_seeds_do_not_depend_on_the_number_of_trials():
    assert design.trial_seeds(7, 25, 3) == design.trial_seeds(7, 25, 6)[:3]
    assert design.trial_seeds(7, 25, 3) != design.trial_seeds(7, 50, 3)
    assert len(set(design.trial_seeds(7, 25, 50))) == 50


def test_simulation_does_not_depend_on_the_worker_count():
    one = design.power_simulation({25: 2, 50: 1}, seed=5, workers=1)
    two = design.power_simulation({25: 2, 50: 1}, seed=5, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert list(one["n_per_arm"]) == [25, 25, 50] and list(one["trial"]) == [0, 1, 0]


@pytest.mark.slow
def test_two_processes_simulate_the_same_trials_bit_for_bit(tmp_path):
    """The book's design run, on a sample of its trials (its seed, all three sizes), in two
    processes with other string-hash seeds and one or two workers: the trial tables (p-values
    written in full) are byte-identical. The suite reuses the build's table of the full run
    instead of computing it again (tests/nbval_numbers.py); this is what makes that sound."""
    import os
    import subprocess
    import sys

    outputs = []
    for hash_seed, workers in (("1", "1"), ("2", "2")):
        out = tmp_path / f"trials-{hash_seed}.csv"
        env = {k: v for k, v in os.environ.items() if k != "MBPM_CACHE_DIR"}
        subprocess.run([sys.executable, "-m", "mbpm", "design", "--trials", "12", "--sizes",
                        *map(str, design.FULL_RUN), "--workers", workers, "--out", str(out)],
                       check=True, capture_output=True, env={**env, "PYTHONHASHSEED": hash_seed})
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    table = pd.read_csv(tmp_path / "trials-1.csv")
    assert len(table) == 12 * len(design.FULL_RUN) and table.filter(like="p ANCOVA").notna().all().all()


def test_power_table_proportion_and_monte_carlo_se():
    sim = pd.DataFrame({"n_per_arm": [25] * 4, "trial": range(4), "seed": range(4),
                        "failed": False, "claim 2": [True, False, False, False]})
    row = design.power_table(sim).iloc[0]
    assert row["proportion"] == 0.25
    assert row["mc_se"] == pytest.approx(np.sqrt(0.25 * 0.75 / 4))  # 0.2165
    assert row["label"] == "2. " + claims.CLAIMS[2]


def test_null_params_zeroes_every_effect_and_leaves_the_original():
    params = read_params()
    null = design.null_params(params).values
    assert all(v == 0 for arm in null["latent"]["change"].values() for v in arm.values())
    assert all(v == 0 for a in null["biomarkers"]["analytes"].values()
               for v in a["effect"].values())
    assert null["biomarkers"]["oxytocin_pain_change_correlation"] == 0
    assert params.values["biomarkers"]["analytes"]["oxytocin"]["effect"]["MBPM"] != 0


def test_zero_true_effect_rejects_at_the_nominal_rate():
    """80 null trials through the whole pipeline; the six analytes are independent under the
    null parameters, so their 6 x (trials the pipeline accepts) ANCOVA tests at alpha 0.05 are
    Binomial(m, 0.05) if the test holds its size. Tolerance: the central 99.8 % of that binomial
    (for m = 480: 11 to 40 rejections, mean 24). A trial whose plate fails QC is rejected by the
    pipeline (DataError) and left out; such failures must stay rare."""
    sim = design.power_simulation({25: 80}, seed=11, params=design.null_params(), workers=2)
    assert sim["failed"].mean() < 0.1
    ok = sim.loc[~sim["failed"]]
    p = ok[[f"p ANCOVA {a}" for a in ("oxytocin", *claims.FALLING_MARKERS)]].to_numpy()
    m, rejections = p.size, int((p < 0.05).sum())
    low, high = stats.binom.ppf([0.001, 0.999], m, 0.05)
    assert low <= rejections <= high


# --- claims ---------------------------------------------------------------------------------

def test_holds_decision_rules():
    sign = np.array([1, 1, -1, -1])
    p = np.array([0.01, 0.2, 0.01, 0.2])
    assert list(claims.holds(claims.SIGNIFICANT, 1, sign, p)) == [True, False, False, False]
    assert list(claims.holds(claims.NOT_SIGNIFICANT, -1, sign, p)) == [False, False, False, True]
    assert list(claims.holds(claims.NO_SIGNIFICANT_CHANGE, 1, sign, p)) == [False, True, True,
                                                                           True]
    assert not claims.holds(claims.SIGNIFICANT, 1, np.array(1), np.array(np.nan))
    with pytest.raises(ValueError, match="expect"):
        claims.holds("maybe", 1, sign, p)


def test_direction_of_ratios_and_differences():
    assert list(claims.direction([1.2, 0.8, 1.0], True)) == [1, -1, 0]
    assert list(claims.direction([1.2, -0.8, 0.0], False)) == [1, -1, 0]


def _row(outcome, key, estimate, p_fdr, log_scale):
    return {"outcome": outcome, "analysis": key[0], "contrast": key[1], "estimate": estimate,
            "ci_low": estimate - 0.1, "ci_high": estimate + 0.1, "p": p_fdr / 2,
            "p_fdr": p_fdr, "log_scale": log_scale}


def test_ledger_verdicts_from_hand_made_results():
    table = pd.DataFrame([
        _row("bdi2.total", claims.WELCH, 9.0, 0.001, False),
        _row("oxytocin", claims.ANCOVA, 1.3, 0.01, True),
        _row("oxytocin", claims.PAIRED_MBPM, 0.9, 0.30, True),
        _row("oxytocin", claims.PAIRED_WL, 1.5, 0.01, True),
        _row("il6", claims.PAIRED_MBPM, 0.8, 0.20, True),
        _row("sfmpq.total", claims.ANCOVA, -4.0, 0.02, False),
    ])
    led = claims.ledger(table).set_index("claim_text")["verdict"]
    # significant the claimed way: support; significant the other way: contradiction
    assert led.iloc[0] == "patients higher, significant: supports the claim"
    assert led["Oxytocin rises with MBPM more than on the wait-list"] == \
        "rose, significant: supports the claim"
    # a non-significant result is never support, whichever way it points
    assert led["Oxytocin rises within MBPM"].startswith("fell, not significant: inconclusive")
    assert led["IL-6 falls within MBPM, not significantly"].startswith(
        "fell, not significant: inconclusive")
    # "does not rise" is contradicted by a significant rise ...
    assert led["Oxytocin does not rise within the wait-list"] == \
        "rose, significant: contradicts the claim"
    assert led["SF-MPQ: Total PRI improves with MBPM vs wait-list"] == \
        "fell, significant: supports the claim"
    assert led["IL-8 falls within MBPM, not significantly"] == \
        "not computable from this data folder"
    # ... and a non-significant change cannot show "no change" without an equivalence margin
    calm = pd.DataFrame([_row("oxytocin", claims.PAIRED_WL, 1.1, 0.40, True)])
    assert claims.ledger(calm).set_index("claim_text").loc[
        "Oxytocin does not rise within the wait-list", "evidence"] == claims.NOT_TESTABLE
