"""The batched design simulation (mbpm.design.run_batch) against the ordinary path, one trial at
a time (mbpm.design.run_trial); its array pieces against scipy and mbpm.stats; the cache."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mbpm import design, simulate
from mbpm import stats as mstats
from mbpm.errors import DataError
from mbpm.findings import robustness as robust


@pytest.fixture(scope="module")
def params():
    return design.folder_params()


def _no_fallback(*args, **kwargs):
    raise AssertionError("the batch fell back to one trial at a time")


@pytest.mark.parametrize("n_arm", [25, 50])
def test_batched_trials_equal_the_ordinary_path(params, n_arm, monkeypatch):
    """20 trials per size: the batch (one stacked validation, scoring, plate fit and array
    tests) gives each trial what run_trial gives it alone. Counts and decisions must be equal;
    p-values to 1e-9 relative (the batch sums over padded participant axes, which may change
    the last bits of a sum; a decision could then flip only for a p within that of alpha, and
    the test would show it as a failure to look at, not hide it)."""
    seeds = design.trial_seeds(design.DEFAULT_SEED, n_arm, 20)
    ordinary = pd.DataFrame([design.run_trial(s, n_arm, params) for s in seeds])
    monkeypatch.setattr(design, "run_trial", _no_fallback)  # the stacked tables must be accepted
    batched = pd.DataFrame(design.run_batch(seeds, n_arm, params))
    assert list(batched.columns) == list(ordinary.columns)
    p_cols = [c for c in ordinary.columns if c.startswith("p ")]
    exact = [c for c in ordinary.columns if c not in p_cols]
    pd.testing.assert_frame_equal(batched[exact], ordinary[exact])
    np.testing.assert_allclose(batched[p_cols].to_numpy(float), ordinary[p_cols].to_numpy(float),
                               rtol=1e-9, atol=0)
    assert ordinary[[c for c in exact if c.startswith("claim ")]].to_numpy().any()  # not all False


def test_a_trial_does_not_depend_on_its_batch(params, monkeypatch):
    monkeypatch.setattr(design, "run_trial", _no_fallback)
    seeds = design.trial_seeds(3, 25, 3)
    alone = design.run_batch(seeds[1:2], 25, params)[0]
    assert design.run_batch(seeds, 25, params)[1] == alone


def test_simulate_batch_equals_the_stacked_cohorts(params):
    seeds = [11, 12, 13]
    stacked = simulate.stack_tables([simulate.simulate_tables(params, s, 25, 25, None)
                                     for s in seeds])
    batch = simulate.simulate_batch(params, seeds, 25, 25, None)
    for name in ("participants", "questionnaires", "screening", "plate_layout"):
        pd.testing.assert_frame_equal(batch.tables[name], stacked.tables[name])
    assert list(batch.tables["plates"]) == list(stacked.tables["plates"])
    for plate, grid in stacked.tables["plates"].items():
        np.testing.assert_array_equal(batch.tables["plates"][plate].to_numpy(), grid.to_numpy())
    assert batch.trial_of == stacked.trial_of and batch.participant_id == stacked.participant_id
    np.testing.assert_array_equal(batch.screening_counts, stacked.screening_counts)
    # trial 1's first participant is P001 of its cohort, renamed
    assert stacked.tables["participants"]["participant_id"].iloc[65] == "P00001001"


def test_bh_rows_equals_fdr_bh_row_by_row():
    rng = np.random.default_rng(1)
    p = rng.random((30, 7)) ** 3
    p[rng.random(p.shape) < 0.2] = np.nan
    p[0] = np.nan
    p[1, :3] = 0.01  # ties
    got = design.bh_rows(p)
    for k in range(len(p)):
        np.testing.assert_allclose(got[k], mstats.fdr_bh(p[k]), rtol=1e-15)


def test_spearman_rows_equals_scipy_with_masks_and_ties():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 6, (25, 40)).astype(float)  # many ties
    y = x + rng.normal(0, 2, x.shape)
    ok = rng.random(x.shape) < 0.6
    ok[0] = False
    ok[1, :3] = True
    ok[1, 3:] = False  # 3 cells: too few
    rho, p = design.spearman_rows(x, y, ok)
    assert np.isnan(rho[0]) and np.isnan(p[1])
    for k in range(2, len(x)):
        ref = stats.spearmanr(x[k][ok[k]], y[k][ok[k]])
        assert rho[k] == pytest.approx(ref.statistic, rel=1e-12)
        assert p[k] == pytest.approx(ref.pvalue, rel=1e-9)


def test_power_simulation_is_cached(tmp_path, monkeypatch, params):
    monkeypatch.setenv("MBPM_CACHE_DIR", str(tmp_path))
    first = design.power_simulation({25: 2}, seed=4, params=params, workers=1)

    def fail(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(design, "_simulate", fail)
    pd.testing.assert_frame_equal(design.power_simulation({25: 2}, seed=4, params=params,
                                                          workers=1), first)
    with pytest.raises(AssertionError, match="computed again"):  # another seed: computed
        design.power_simulation({25: 2}, seed=5, params=params, workers=1)


@pytest.mark.parametrize(("key", "said"), [("kits", "no entry"), ("well_cv", "KeyError: 'well_cv'")])
def test_unusable_parameters_raise_a_clear_error(params, key, said):
    broken = copy.deepcopy(params.values)
    del broken["assay"][key]
    bad = simulate.Params(text=params.text + f"\n# without {key}\n", values=broken)
    with pytest.raises(DataError, match=f"simulation.yml.*{said}"):
        design.power_simulation({25: 1}, params=bad, workers=1)


def test_power_findings_total_trials_and_largest_se():
    sim = pd.DataFrame({"failed": [False] * 4, "plates_dropped": [0] * 4})
    power = pd.DataFrame([{"n_per_arm": n, "claim": f"claim {k}", "is_claim": True,
                           "proportion": 0.5, "mc_se": se}
                          for n, k, se in [(25, 2, 0.05), (25, 3, 0.04), (25, 4, 0.03),
                                           (25, 5, 0.02), (100, 2, 0.06)]]
                         + [{"n_per_arm": 25, "claim": "claim 2: part", "is_claim": False,
                             "proportion": 0.5, "mc_se": 0.3}])
    got = robust.power_findings(sim, power, {25: 2, 50: 1, 100: 1}, seed=1)
    assert got["n_trials_total"] == 4
    assert got["se_max"] == pytest.approx(6.0)  # claims only; the claim test's 30 is not one


def _assay_frames_equal(many, one) -> None:
    for name in ("samples", "standards", "plates", "wells"):
        pd.testing.assert_frame_equal(getattr(many, name), getattr(one, name), check_exact=True)
    assert [str(e) for e in many.failures] == [str(e) for e in one.failures]


def test_quantify_many_equals_quantify_on_the_shipped_plates_and_odd_ones():
    """Exactly equal (the same starting values, the same batched fit): the shipped plates, and
    the same plates with a saturated standard, a plate without blanks and a plate whose
    standards are scrambled (not monotone), which quantify_many hands to quantify's steps."""
    from mbpm import assays, io

    wells = io.load_study().wells
    _assay_frames_equal(assays.quantify_many(wells), assays.quantify(wells))
    plates = sorted(wells["plate_id"].unique())
    odd = wells.copy()
    first = odd.index[(odd["plate_id"] == plates[0]) & (odd["role"] == "standard")][0]
    odd.loc[first, ["od", "saturated"]] = [np.nan, "high"]
    odd = odd.loc[~((odd["plate_id"] == plates[1]) & (odd["role"] == "blank"))]
    scrambled = odd.index[(odd["plate_id"] == plates[2]) & (odd["role"] == "standard")]
    odd.loc[scrambled, "od"] = np.random.default_rng(0).permutation(odd.loc[scrambled, "od"].to_numpy())
    odd = odd.reset_index(drop=True)
    one = assays.quantify(odd)
    assert len(one.failures) >= 2
    _assay_frames_equal(assays.quantify_many(odd), one)
