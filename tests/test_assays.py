"""Tests of mbpm.assays: the 4PL curve, its fit, plate reading and the QC rules.

Expected values come from the generating parameters of synthetic plates (noiseless plates give
the truth to optimiser precision), closed forms, scipy's curve_fit, and the published elisar
worked example (/work/shared/reference/assays.md).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

from mbpm import assays
from mbpm.assays import (CurveFit, censor, fit_four_pl, four_pl, inverse_four_pl, limits_table,
                         qc_table, quantify, tidy_wells)
from mbpm.errors import DataError, PlateFitError

sys.path.insert(0, str(Path(__file__).parent))
from plate_factory import (COMPETITIVE, SANDWICH, STANDARDS_COMPETITIVE,  # noqa: E402
                           STANDARDS_SANDWICH,
                           Plate, Sample, build_many, cohort)


def run(*plates: Plate, **options) -> assays.AssayResult:
    layout, grids = build_many(list(plates))
    return quantify(tidy_wells(layout, grids), **options)


def sample_row(result: assays.AssayResult, participant_id: str) -> pd.Series:
    rows = result.samples.loc[result.samples["participant_id"] == participant_id]
    assert len(rows) == 1
    return rows.iloc[0]


# --- the curve and its inverse -------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(a=st.floats(0.0, 3.0), span=st.floats(0.2, 3.0), rising=st.booleans(),
       b=st.floats(0.5, 3.0), c=st.floats(1.0, 1e4), t=st.floats(-4.0, 4.0))
def test_inverse_is_exact_inverse(a, span, rising, b, c, t):
    d = a + span if rising else a - span
    x = c * np.exp(t)  # within a factor e^4 of the EC50, where the curve is not flat to 1e-9
    y = four_pl(x, a, b, c, d)
    assert inverse_four_pl(y, a, b, c, d) == pytest.approx(x, rel=1e-9)
    assert four_pl(inverse_four_pl(y, a, b, c, d), a, b, c, d) == pytest.approx(y, rel=1e-12,
                                                                                 abs=1e-14)


def test_inverse_closed_forms():
    # Halfway between the asymptotes the concentration is the EC50, c, for either direction.
    assert inverse_four_pl(1.5, 0.5, 1.3, 42.0, 2.5) == pytest.approx(42.0, rel=1e-15)
    assert inverse_four_pl(1.5, 2.5, 1.3, 42.0, 0.5) == pytest.approx(42.0, rel=1e-15)
    # Beyond an asymptote there is no finite inverse; CurveFit reads it as 0 or infinity.
    assert np.isnan(inverse_four_pl([0.4, 2.6], 0.5, 1.3, 42.0, 2.5)).all()
    curve = CurveFit(0.5, 1.3, 42.0, 2.5, r2=1.0, rse=0.0, n_points=0)
    assert curve.concentration([0.4, 0.5, 2.5, 2.6]).tolist() == [0.0, 0.0, np.inf, np.inf]


# --- the fit -------------------------------------------------------------------------------------

LEVELS = np.repeat([1000.0, 400.0, 160.0, 64.0, 25.6, 10.24, 4.096, 1.6384], 2)


@pytest.mark.parametrize("params", [SANDWICH, COMPETITIVE], ids=["sandwich", "competitive"])
@pytest.mark.parametrize("weighting", assays.WEIGHTINGS)
def test_fit_recovers_parameters_without_noise(params, weighting):
    y = four_pl(LEVELS, *params)
    fit = fit_four_pl(LEVELS, y, assays.standard_sigma(LEVELS, y, weighting))
    assert [fit.a, fit.b, fit.c, fit.d] == pytest.approx(params, rel=1e-6, abs=1e-8)
    assert fit.r2 == pytest.approx(1.0)


def noisy_fits(params, weighting, n=100, seed=20240253) -> np.ndarray:
    """(a, b, c, d) fitted to ``n`` curves with 4 % multiplicative noise, triplicates of 8 levels."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.unique(LEVELS), 3)
    fits = []
    for _ in range(n):
        y = four_pl(x, *params) * (1 + 0.04 * rng.standard_normal(x.size))
        fit = fit_four_pl(x, y, assays.standard_sigma(x, y, weighting))
        fits.append([fit.a, fit.b, fit.c, fit.d])
    return np.array(fits)


@pytest.mark.parametrize("params", [SANDWICH, COMPETITIVE], ids=["sandwich", "competitive"])
def test_fit_recovers_parameters_with_noise(params):
    # 4 % CV noise (typical of ELISA duplicates). One fit's slope varies by ~5 % (SD), so the
    # test averages 100 fits: an unbiased estimator's mean lies within ~0.6 % of the truth
    # (SD / 10); tolerances 3 % (b, c) and 0.02 OD + 2 % (asymptotes).
    mean = noisy_fits(params, "relative").mean(axis=0)
    a, b, c, d = params
    assert mean[1] == pytest.approx(b, rel=0.03)
    assert mean[2] == pytest.approx(c, rel=0.03)
    assert mean[0] == pytest.approx(a, rel=0.02, abs=0.02)
    assert mean[3] == pytest.approx(d, rel=0.02, abs=0.02)


@pytest.mark.parametrize("params", [SANDWICH, COMPETITIVE], ids=["sandwich", "competitive"])
def test_relative_weighting_is_more_precise_under_constant_cv(params):
    # The reason for the default: with SD proportional to the mean, 1/y^2 weights are the
    # efficient (generalised least squares) choice, so the slope and the asymptote near zero
    # signal vary less between replicate plates than with ordinary least squares.
    weighted, unweighted = noisy_fits(params, "relative"), noisy_fits(params, "none")
    low = 0 if params[0] < params[3] else 3  # the asymptote at low OD
    assert weighted[:, 1].std() < unweighted[:, 1].std()
    assert weighted[:, low].std() < unweighted[:, low].std()


@pytest.mark.parametrize("params", [SANDWICH, COMPETITIVE], ids=["sandwich", "competitive"])
def test_weighted_fit_matches_scipy_curve_fit(params):
    # An independent implementation of the same weighted least-squares problem.
    rng = np.random.default_rng(5)
    y = four_pl(LEVELS, *params) * (1 + 0.05 * rng.standard_normal(LEVELS.size))
    sigma = assays.standard_sigma(LEVELS, y, "relative")
    ours = fit_four_pl(LEVELS, y, sigma)
    theirs, _ = curve_fit(four_pl, LEVELS, y, p0=[params[0], 1.0, 100.0, params[3]], sigma=sigma,
                          bounds=([-np.inf, 1e-3, 1e-3, -np.inf], np.inf), max_nfev=10_000)
    assert [ours.a, ours.b, ours.c, ours.d] == pytest.approx(theirs, rel=1e-4, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(means=st.lists(st.one_of(st.integers(0, 3).map(float), st.floats(-5, 5)), min_size=2,
                      max_size=12))
def test_spearman_of_levels_matches_scipy(means):
    # The monotonicity check's rho (average ranks for ties) against scipy.stats.spearmanr.
    from scipy.stats import spearmanr
    levels = np.arange(1.0, len(means) + 1) * 10
    ours = assays._spearman(levels, np.array(means))
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = spearmanr(levels, means).statistic
    assert ours == pytest.approx(theirs, abs=1e-12, nan_ok=True)


def _noisy_curves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` noisy sandwich and competitive standard curves (duplicates of 8 levels), weights."""
    rng = np.random.default_rng(seed)
    x = np.tile(LEVELS, (n, 1))
    params = np.where((np.arange(n) % 2 == 0)[:, None], SANDWICH, COMPETITIVE)
    y = four_pl(x, *(params[:, k, None] for k in range(4))) * (1 + 0.05 * rng.standard_normal(x.shape))
    sigma = np.array([assays.standard_sigma(LEVELS, row, "relative") for row in y])
    return x, y, sigma


def test_batched_fit_reaches_the_least_squares_minimum():
    # The batched solver against MINPACK run to its tightest tolerances on the same problems
    # (an independent solver of the same least-squares problem): the same minimum, a cost no
    # higher than MINPACK's.
    from scipy.optimize import least_squares
    x, y, sigma = _noisy_curves(40, seed=8)
    start = np.array([assays._start(x[k], y[k]) for k in range(len(x))])
    theta, converged = assays.fit_four_pl_many(x, y, sigma, start)
    assert converged.all()
    for k in range(len(x)):
        residuals, jacobian = assays._residuals_and_jacobian(x[k], y[k], sigma[k])
        tight = least_squares(residuals, start[k], jac=jacobian, method="lm", xtol=1e-15,
                              ftol=1e-15, gtol=1e-15, max_nfev=20_000)
        assert np.sum(residuals(theta[k]) ** 2) <= 2 * tight.cost * (1 + 1e-12)
        assert theta[k] == pytest.approx(tight.x, rel=1e-6, abs=1e-9)


def test_batched_fit_pads_curves_of_different_lengths():
    # Padding points (sigma = inf) do not change a curve's fit: two curves with 16 and 12
    # standards fitted together give what each gives alone.
    x, y, sigma = _noisy_curves(2, seed=9)
    x[1, 12:], y[1, 12:], sigma[1, 12:] = 1.0, 0.0, np.inf
    start = np.array([assays._start(x[0], y[0]), assays._start(x[1, :12], y[1, :12])])
    together, _ = assays.fit_four_pl_many(x, y, sigma, start)
    alone, _ = assays.fit_four_pl_many(x[1:, :12], y[1:, :12], sigma[1:, :12], start[1:])
    assert together[1] == pytest.approx(alone[0], rel=1e-9)


def test_starting_values_of_many_plates_equal_each_plates_own():
    # _starts (all plates at once, grouped by level set) is _start of each plate to the last bit
    # (np.polyfit per plate is the reference): plates with and without a zero standard, with 3
    # to 8 levels, two dilution series, noise from none to so much that levels drop out of the
    # linearised fit or the slope turns negative.
    rng = np.random.default_rng(1)
    plates, xs, ys = [], [], []
    for k in range(600):
        level = np.array([0, 1, 2, 4, 8, 16, 32, 64][: rng.integers(3, 9)], float) * rng.choice([1, 3.7])
        level = level[1:] if rng.random() < 0.3 else level
        x = np.repeat(level, 2)
        y = 0.1 + 2 * x / (x + 10) + rng.normal(0, 0.3 * rng.random(), x.size)
        plates.append(np.full(x.size, k)), xs.append(x), ys.append(y)
    plate, x, y = map(np.concatenate, (plates, xs, ys))
    level_plate, levels, level = assays._levels_of(plate, x)
    means = np.bincount(level, weights=y) / np.bincount(level)
    bounds = np.searchsorted(plate, np.arange(601))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        each = np.array([assays._start(x[bounds[k]:bounds[k + 1]], y[bounds[k]:bounds[k + 1]])
                         for k in range(600)])
        many = assays._starts(level_plate, levels, means, 601)
    assert np.isnan(many[600]).all()  # a code without standards
    assert np.array_equal(many[:600], each)
    assert (each[:, 1] == 0).any() and (each[:, 1] != 0).any()  # both branches of the slope


def test_quantify_equals_fit_plate_per_plate():
    # quantify fits all plates at once; fit_plate fits one: the same curves and limits.
    layout, grids = build_many(cohort(n_participants=40, seed=4))
    wells = tidy_wells(layout, grids)
    result = quantify(wells)
    assert len(result.plates) > 2
    for plate_id, plate in wells.groupby("plate_id"):
        one = assays.fit_plate(plate)
        row = result.plates.set_index("plate_id").loc[plate_id]
        assert [row["a"], row["b"], row["c"], row["d"]] == pytest.approx(
            [one.curve.a, one.curve.b, one.curve.c, one.curve.d], rel=1e-9)
        assert (row["lloq"], row["uloq"]) == (one.lloq, one.uloq)


# --- the published elisar example ----------------------------------------------------------------

# koncina/elisar inst/extdata/example.xls (Tecan Sunrise), README: drc LL.4 fit of all 14 standard
# points, unweighted, no blank subtraction (see /work/shared/reference/assays.md).
ELISAR_STANDARDS = {1000: (2.110, 2.166), 500: (1.480, 1.407), 250: (0.728, 0.760),
                    125: (0.460, 0.425), 62.5: (0.259, 0.230), 31.25: (0.145, 0.138),
                    15.625: (0.132, 0.106)}
ELISAR_SAMPLES = {"S1": (0.516, 159.998), "S2": (0.251, 70.308), "S3": (0.112, 5.933),
                  "S4": (0.231, 62.799)}


def elisar_wells() -> pd.DataFrame:
    rows = [dict(role="standard", concentration=conc, od=od)
            for conc, ods in ELISAR_STANDARDS.items() for od in ods]
    rows += [dict(role="sample", participant_id=pid, visit="baseline", od=od)
             for pid, (od, _) in ELISAR_SAMPLES.items()]
    wells = pd.DataFrame(rows).assign(plate_id="elisar", analyte="il6", dilution=1.0)
    return wells.assign(well=[f"{'ABCDEFGH'[i // 12]}{i % 12 + 1}" for i in range(len(wells))])


def test_elisar_published_concentrations():
    result = quantify(elisar_wells(), weighting="none", blank_correction=False)
    assert not result.failures
    for pid in ("S1", "S2", "S4"):  # published to 3 decimals; tolerance 0.1 %
        row = sample_row(result, pid)
        assert row["flag"] == ""
        assert row["concentration"] == pytest.approx(ELISAR_SAMPLES[pid][1], rel=1e-3)


def test_elisar_low_sample_is_below_lloq_not_extrapolated():
    # OD 0.112 is below the lowest standard's mean OD (0.119): elisar extrapolates to 5.933;
    # the project's rules report it below the LLOQ, at the LLOQ (no lower than the lowest standard).
    result = quantify(elisar_wells(), weighting="none", blank_correction=False)
    row = sample_row(result, "S3")
    assert row["flag"] == "below_lloq"
    assert row["concentration"] == row["lloq"] >= 15.625
    assert row["concentration"] != pytest.approx(5.933, rel=0.5)


# --- QC rules on synthetic plates (noiseless, so the truth is known) -----------------------------

def test_samples_back_calculate_with_dilution_both_directions():
    sandwich = Plate("s1", "il6", SANDWICH, samples=[Sample("P001", "baseline", 100.0),
                                                     Sample("P002", "baseline", 400.0, 4.0)])
    competitive = Plate("c1", "oxytocin", COMPETITIVE, STANDARDS_COMPETITIVE,
                        samples=[Sample("P001", "baseline", 50.0),
                                 Sample("P002", "baseline", 300.0, 2.0)])
    result = run(sandwich, competitive)
    assert not result.failures
    got = result.samples.set_index(["analyte", "participant_id"])["concentration"]
    assert got[("il6", "P001")] == pytest.approx(100.0, rel=1e-6)
    assert got[("il6", "P002")] == pytest.approx(400.0, rel=1e-6)  # 100 in the well x 4
    assert got[("oxytocin", "P001")] == pytest.approx(50.0, rel=1e-6)
    assert got[("oxytocin", "P002")] == pytest.approx(300.0, rel=1e-6)
    assert set(result.samples["unit"]) == {"pg/mL"}
    assert list(result.biomarkers().columns) == list(assays.BIOMARKER_COLUMNS)


def test_recovery_flag_triggered_and_not():
    clean = run(Plate("p1"))
    assert (clean.standards["flag"] == "").all() and clean.standards["used"].all()
    assert clean.standards["recovery"].to_numpy() == pytest.approx(100.0, rel=1e-6)
    # Level 62.5 read 40 % high: its OD maps to a concentration far above 120 % of nominal.
    bad = run(Plate("p1", standard_factors={62.5: 1.4})).standards.set_index("nominal")
    assert bad.loc[62.5, "flag"] == "poor_recovery" and not bad.loc[62.5, "used"]
    assert bad.loc[62.5, "recovery"] > 120


def test_limits_of_quantification_rule():
    # By hand: levels meeting 80-120 % are 31.25, 62.5, 250, 500 (125 fails inside the range and
    # does not split it; 120 and 80 are inside, inclusive; the zero standard never counts).
    nominal = [0.0, 15.625, 31.25, 62.5, 125.0, 250.0, 500.0, 1000.0]
    recovery = [np.nan, 72.0, 80.0, 110.0, 130.0, 95.0, 120.0, 120.5]
    assert assays.meets_recovery(nominal, recovery).tolist() == [False, False, True, True, False,
                                                                 True, True, False]
    assert assays.quantifiable_range(nominal, recovery) == (31.25, 500.0)
    assert np.isnan(assays.quantifiable_range([10.0], [50.0])).all()


def test_limits_of_quantification_on_plates():
    clean = run(Plate("p1", standards=STANDARDS_SANDWICH + (0.0,)))  # with a zero standard
    plate = clean.plates.iloc[0]
    assert (plate["lloq"], plate["uloq"], plate["n_levels"]) == (15.625, 1000.0, 7)
    zero = clean.standards.set_index("nominal").loc[0.0]
    assert np.isnan(zero["recovery"]) and zero["flag"] == "" and not zero["used"]
    # A distorted plate's limits follow the rule from its own standards' recoveries.
    bad = run(Plate("p1", standard_factors={62.5: 1.4}))
    assert tuple(bad.plates.loc[0, ["lloq", "uloq"]]) == assays.quantifiable_range(
        bad.standards["nominal"], bad.standards["recovery"])


def test_below_and_above_limits_are_censored_not_extrapolated():
    samples = [Sample("P001", "baseline", 5.0), Sample("P002", "baseline", 3000.0),
               Sample("P003", "baseline", 20.0), Sample("P004", "baseline", 900.0),
               Sample("P005", "baseline", 40.0, dilution=4.0)]  # 10 in the well: below 15.625
    result = run(Plate("p1", samples=samples))
    expected = {"P001": ("below_lloq", 15.625), "P002": ("above_uloq", 1000.0),
                "P003": ("", 20.0), "P004": ("", 900.0), "P005": ("below_lloq", 62.5)}
    for pid, (flag, conc) in expected.items():
        row = sample_row(result, pid)
        assert row["flag"] == flag, pid
        assert row["concentration"] == pytest.approx(conc, rel=1e-6), pid


@pytest.mark.parametrize(("spread", "cv", "flag"), [
    ((0.7, 1.3), 100 * 0.6 / np.sqrt(2), "high_cv"),    # SD of (0.7c, 1.3c) = 0.6c / sqrt(2)
    ((0.85, 1.15), 100 * 0.3 / np.sqrt(2), "high_cv"),  # 21.2 %
    ((0.86, 1.14), 100 * 0.28 / np.sqrt(2), ""),        # 19.8 %
    ((1.0, 1.0), 0.0, ""),
])
def test_duplicate_cv_rule(spread, cv, flag):
    row = sample_row(run(Plate("p1", samples=[Sample("P001", "week8", 100.0, spread=spread)])),
                     "P001")
    assert row["cv"] == pytest.approx(cv, rel=1e-5, abs=1e-6)
    assert row["flag"] == flag
    assert row["concentration"] == pytest.approx(100.0, rel=1e-6)  # mean of the two wells


def test_blank_correction():
    samples = [Sample("P001", "baseline", 80.0)]
    plain = run(Plate("p1", blank_od=0.0, samples=samples))
    raised = run(Plate("p1", blank_od=0.3, samples=samples))
    assert sample_row(raised, "P001")["concentration"] == pytest.approx(80.0, rel=1e-6)
    assert raised.plates.loc[0, "blank"] == pytest.approx(0.3)
    assert raised.plates.loc[0, "a"] == pytest.approx(plain.plates.loc[0, "a"], abs=1e-6)
    # Without correction the free asymptotes absorb the constant: a and d rise by the blank
    # (0.3) and the concentrations do not change.
    uncorrected = run(Plate("p1", blank_od=0.3, samples=samples), blank_correction=False)
    assert uncorrected.plates.loc[0, "a"] - raised.plates.loc[0, "a"] == pytest.approx(0.3)
    assert uncorrected.plates.loc[0, "d"] - raised.plates.loc[0, "d"] == pytest.approx(0.3)
    assert sample_row(uncorrected, "P001")["concentration"] == pytest.approx(80.0, rel=1e-6)
    no_blanks = run(Plate("p1", n_blanks=0, samples=samples))
    assert "p1" in str(no_blanks.failures[0]) and "no blank wells" in str(no_blanks.failures[0])
    assert not run(Plate("p1", n_blanks=0), blank_correction=False).failures


def test_bad_plates_fail_by_name_while_others_report():
    good = Plate("good", samples=[Sample("P001", "baseline", 100.0)])
    hook = Plate("hook", samples=[Sample("P002", "baseline", 100.0)],  # signal rises then falls
                 standard_factors={1000.0: 0.08, 500.0: 0.19, 250.0: 0.5})
    few = Plate("few", standards=(1000.0, 500.0, 250.0, 125.0),
                samples=[Sample("P003", "baseline", 100.0)])
    poor = Plate("poor", standards=(1000.0, 500.0, 250.0, 125.0, 62.5),
                 standard_factors={62.5: 1.5}, samples=[Sample("P004", "baseline", 100.0)])
    result = run(good, hook, few, poor)
    messages = {str(err).split()[1]: str(err) for err in result.failures}
    assert set(messages) == {"hook", "few", "poor"}
    assert "not monotone" in messages["hook"]
    assert "only 4 non-zero standard levels" in messages["few"]
    assert "only 4 of 5 standard levels within 80-120 % recovery" in messages["poor"]
    assert result.samples["participant_id"].tolist() == ["P001"]
    plates = result.plates.set_index("plate_id")
    assert plates.loc["good", "failure"] == "" and plates.loc["hook", "failure"] != ""
    with pytest.raises(PlateFitError, match="plate few"):
        assays.fit_plate(tidy_wells(*build_many([few])))
    with pytest.raises(PlateFitError, match="hook"):
        result.raise_failures()


def test_fit_that_does_not_converge_fails_the_plate(monkeypatch):
    from types import SimpleNamespace

    def stalled(fun, x0, **_):  # what least_squares returns when it runs out of evaluations
        return SimpleNamespace(x=x0, status=0, message="maximum number of evaluations exceeded")

    def batch_stalled(x, y, sigma, start):  # the batched solver gives up on every curve
        return np.array(start, dtype=float), np.zeros(len(start), dtype=bool)

    monkeypatch.setattr(assays, "least_squares", stalled)
    monkeypatch.setattr(assays, "fit_four_pl_many", batch_stalled)
    result = run(Plate("p1", samples=[Sample("P001", "baseline", 100.0)]))
    assert str(result.failures[0]) == ("plate p1 (il6): the 4PL fit did not converge (maximum "
                                       "number of evaluations exceeded)")
    assert result.samples.empty


def test_monotone_rule_tolerates_a_plateau_swap():
    # The top level reads just under the 500 level (one adjacent swap, Spearman 0.96): the
    # plate is still fitted; the swapped plateau levels fail recovery and the ULOQ drops.
    result = run(Plate("p1", standard_factors={1000.0: 0.88}))
    assert not result.failures
    flags = result.standards.set_index("nominal")["flag"]
    assert flags[1000.0] == "poor_recovery" and flags[125.0] == ""
    assert result.plates.iloc[0]["uloq"] < 1000.0


def test_censor_options():
    table = pd.DataFrame({"concentration": [10.0, 50.0, 1000.0],
                          "flag": ["below_lloq", "", "above_uloq"]})
    assert censor(table)["concentration"].tolist() == [5.0, 50.0, 1000.0]  # default: LLOQ / 2
    assert censor(table, "lloq")["concentration"].tolist() == [10.0, 50.0, 1000.0]
    assert censor(table, "missing")["concentration"].isna().tolist() == [True, False, False]
    assert table["concentration"].tolist() == [10.0, 50.0, 1000.0]  # input unchanged
    with pytest.raises(ValueError, match="below_lloq must be one of"):
        censor(table, "zero")


def test_qc_and_limit_tables():
    p1 = Plate("p1", samples=[Sample("P001", "baseline", 5.0), Sample("P002", "baseline", 4.0),
                              Sample("P003", "week8", 3000.0),
                              Sample("P004", "baseline", 100.0, spread=(0.5, 1.5)),
                              Sample("P005", "week8", 100.0)])
    result = run(p1, Plate("bad", "tnfa", standards=(1000.0, 500.0)))
    limits = limits_table(result).set_index(["analyte", "visit"])
    assert limits.loc[("il6", "baseline")].tolist() == [3, 2, 0, 1]
    assert limits.loc[("il6", "week8")].tolist() == [2, 0, 1, 0]
    qc = qc_table(result).set_index("plate_id")
    assert qc.loc["p1", "levels_used"] == "7/7" and qc.loc["p1", "n_high_cv"] == 1
    assert qc.loc["p1", "n_samples"] == 5 and qc.loc["bad", "n_samples"] == 0
    assert "non-zero standard levels" in qc.loc["bad", "failure"]


# --- reading plates ------------------------------------------------------------------------------

def test_tidy_wells_joins_and_drops_unused_wells():
    layout, grids = build_many([Plate("p1", samples=[Sample("P001", "baseline", 100.0, 2.0)])])
    layout = layout.assign(dilution=layout["dilution"].where(layout["role"] != "sample"))
    wells = tidy_wells(layout, grids)
    assert len(wells) == len(layout) == 7 * 2 + 2 + 2  # standards, blanks, sample duplicates
    assert (wells["dilution"] == 1.0).all()  # empty dilution means 1
    od = grids["p1"].set_index("well")["od"]
    assert wells["od"].tolist() == od.loc[wells["well"]].tolist()


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.assign(plate_id="p9"), r"row 2 \(plate p9, .*column plate_id"),
    (lambda t: t.assign(role=t["role"].replace("blank", "empty")), r"column role: expected one of"),
    (lambda t: t.assign(well=t["well"].where(t.index != 3, "J13")), r"row 5 .*well J13"),
    (lambda t: t.drop(columns="visit"), r"missing column\(s\) visit"),
    (lambda t: t.assign(dilution=t["dilution"].astype(object).where(t["role"] != "sample", "x2")),
     r"column dilution: expected a dilution > 0 \(empty means 1\), got 'x2'"),
    (lambda t: t.assign(concentration=t["concentration"].where(t.index != 0, -5.0)),
     r"row 2 .*column concentration: expected a concentration >= 0 for a standard, got '-5.0'"),
    (lambda t: pd.concat([t, t.iloc[[3]]], ignore_index=True),
     r"row 20 .*column well: expected each well of a plate listed once"),
    (lambda t: t.assign(participant_id=t["participant_id"].where(t["role"] != "sample")),
     r"row 18 .*column participant_id: expected a participant for a sample, got 'nan'"),
    (lambda t: t.assign(analyte=t["analyte"].where(t.index != 5, "oxytocin" if t["analyte"].iloc[0] != "oxytocin" else "il6")),
     r"row 2 .*column analyte: expected one analyte per plate"),
    (lambda t: t.assign(dilution=t["dilution"].where(t.index != len(t) - 1, 4.0)),
     r"row 18 .*column dilution: expected the same dilution in all wells of one sample"),
])
def test_tidy_wells_rejects_bad_layout(change, message):
    layout, grids = build_many([Plate("p1", samples=[Sample("P001", "baseline", 100.0)])])
    with pytest.raises(DataError, match=message):
        tidy_wells(change(layout), grids)


# --- speed and charts ----------------------------------------------------------------------------

def test_cohort_quantifies_well_under_a_second():
    layout, grids = build_many(cohort())  # 6 analytes x 3 plates, full plates
    wells = tidy_wells(layout, grids)
    quantify(wells)
    start = time.perf_counter()
    result = quantify(wells)
    assert time.perf_counter() - start < 0.5
    assert len(result.plates) == 18 and not result.failures


def test_plate_curves_chart_has_one_panel_per_fitted_plate():
    from mbpm import figures

    result = run(Plate("p1", samples=[Sample("P001", "baseline", 100.0)]),
                 Plate("c1", "dheas", COMPETITIVE, STANDARDS_COMPETITIVE,
                       samples=[Sample("P001", "baseline", 50.0)]),
                 Plate("bad", standards=(1000.0,)))
    spec = figures.plate_curves(result).to_dict()
    assert spec["facet"]["field"] == "panel"
    panels = {row["panel"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert panels == {"p1 · IL-6 (pg/mL)", "c1 · DHEA-S (ng/mL)"}
    kinds = {row["kind"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert kinds == {"standard", "sample", "curve", "LLOQ", "ULOQ"}


def test_integer_code_helpers_equal_the_pandas_operations_they_replace():
    # Each helper against the pandas expression its docstring names, on cells with repeats,
    # missing values, empty strings and spaces (the helpers' own fallbacks included).
    rng = np.random.default_rng(3)
    n = 400
    pick = lambda values: pd.Series(rng.choice(np.array(values, dtype=object), n), dtype="str")
    frame = pd.DataFrame({"plate_id": pick(["p1", "p2", "p10", np.nan]),
                          "participant_id": pick(["P2", "P10", "P1", np.nan]),
                          "visit": pick(["baseline", "week8"]), "well": pick([" A1", "B2 ", "C3"]),
                          "analyte": pick(list(assays.ANALYTES))})
    for keys in (["plate_id"], ["plate_id", "participant_id"], ["plate_id", "participant_id", "visit"]):
        codes = assays.key_codes(*(frame[k] for k in keys))
        expected = frame.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
        assert np.array_equal(pd.factorize(codes)[0], expected)
    full = frame.dropna()
    assert np.array_equal(assays._sample_groups(frame), frame.groupby(  # missing keys: groupby's
        ["plate_id", "participant_id", "visit"], sort=False).ngroup().to_numpy(), equal_nan=True)
    assert np.array_equal(assays._sample_groups(full), full.groupby(
        ["plate_id", "participant_id", "visit"], sort=False).ngroup().to_numpy())
    unique = full.drop_duplicates(["plate_id", "participant_id", "visit"]).sample(frac=1, random_state=0)
    order = ["plate_id", "participant_id", "visit"]
    assert np.array_equal(unique.iloc[assays._sorted_rows(unique, order)].index,
                          unique.sort_values(order).index)
    pd.testing.assert_series_equal(assays._stripped(frame["well"]), frame["well"].str.strip())
    pd.testing.assert_series_equal(assays._mapped(frame["analyte"], assays.UNITS),
                                   frame["analyte"].map(assays.UNITS))
    nominal = np.where(rng.random(n) < 0.5, rng.choice([0.0, 1.0, 2.0, 4.0, np.nan], n), np.nan)
    plate = pd.factorize(frame["plate_id"], use_na_sentinel=False)[0]
    expected = [np.unique(nominal[(plate == k) & (nominal > 0)]).size for k in range(plate.max() + 1)]
    assert assays._level_counts(plate, nominal, plate.max() + 1).tolist() == expected


def test_average_ranks_equal_scipy_rankdata():
    # quantify_many's monotone check ranks without SciPy: the same ranks as
    # scipy.stats.rankdata(axis=-1), with ties, infinite padding and rows holding NaN.
    from scipy.stats import rankdata
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.integers(0, 5, (30, rng.integers(1, 12))).astype(float)
        x[rng.random(x.shape) < 0.1] = np.inf
        x[rng.random(x.shape) < 0.03] = np.nan
        assert np.array_equal(assays.average_ranks(x), rankdata(x, axis=-1), equal_nan=True)


def test_loading_the_shipped_plates_does_not_import_scipy():
    # quantify_many (the default of io._build) ranks in NumPy; SciPy is imported only by a plate
    # that the batched fit hands to MINPACK.
    import subprocess
    code = "import sys; from mbpm import io; io.load_study(); print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "False"
