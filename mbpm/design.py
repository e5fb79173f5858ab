"""Design analysis: what a trial of this size can detect, analytically and by simulation.

* :func:`detectable_effects`: for each primary test, the smallest standardized effect detected
  with 80 % power at two-sided alpha 0.05 with the sample sizes of a study (statsmodels power).
* :func:`power_simulation`: many simulated trials (:func:`mbpm.simulate.simulate_tables`, in
  memory) pushed through the book's own pipeline (validation, scoring, plate fitting,
  :func:`mbpm.analysis.outcome_table`, the closed-form tests of :mod:`mbpm.stats.fast`), and for
  each trial whether it reproduces each claim as :mod:`mbpm.claims` defines it. By default the
  trials run in batches (:func:`run_batch`): a batch's cohorts are stacked into one set of
  tables (:func:`mbpm.simulate.simulate_batch`) that is validated, scored and quantified once,
  and the claims are tested for all its trials at once (:func:`batch_results`); each trial's
  result is that of :func:`run_trial`, which runs one trial alone.
  :func:`power_table` turns that into the proportion of trials per claim and size with its
  Monte Carlo standard error.

Seeds: trial ``i`` of arm size ``n`` uses ``SeedSequence(seed, spawn_key=(n, i))``, so a trial's
data do not depend on how many trials are run or on how many processes run them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from mbpm import analysis, claims, outcomes, stats
from mbpm.assays import quantify_many
from mbpm import study as study_definition
from mbpm.errors import DataError
from mbpm.lazy import lazy_module
from mbpm.io import Study, study_from_tables
from mbpm.simulate import TRIAL_DIGITS, Params, read_params, simulate_batch, simulate_tables

POWER = study_definition.active().plan("target_power")
#: The biomarker whose change is correlated with the change in pain (claim 5; oxytocin).
MARKER = study_definition.active().outcome_set("interplay_marker")
ALPHA = claims.ALPHA
#: Numbers of simulated trials per patients-per-arm size (the study definition's
#: ``plan.design_trials``; the shipped plan: 1,000 at 25, 50 and 100): the run the book executes
#: on every build (batched, :func:`run_batch`); the chapter states the Monte Carlo standard
#: errors that come with it.
FULL_RUN = study_definition.active().design_trials()
DEFAULT_SEED = 20240253
sps = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)


# ----------------------------------------------------------------------------------------------
# Analytic: minimal detectable effects
# ----------------------------------------------------------------------------------------------

def mde_two_sample(n1: int, n2: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest Cohen's d a two-sided two-sample t-test (pooled variance, n1 + n2 - 2 df)
    detects with ``power`` (statsmodels ``TTestIndPower``, noncentral t)."""
    from statsmodels.stats.power import TTestIndPower

    return float(TTestIndPower().solve_power(effect_size=None, nobs1=n1, ratio=n2 / n1,
                                             alpha=alpha, power=power))


def mde_paired(n: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest Cohen's dz a two-sided paired t-test on ``n`` pairs detects with ``power``
    (statsmodels ``TTestPower``)."""
    from statsmodels.stats.power import TTestPower

    return float(TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power))


def mde_correlation(n: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest |r| detected with ``power`` by the Fisher-z test: tanh((z_{1-alpha/2} + z_power)
    / sqrt(n - 3)) (Pearson; for Spearman's rho an approximation, its SE is a little larger)."""
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    return float(np.tanh(z / np.sqrt(n - 3)))


def _arm_summary(long: pd.DataFrame, outcome: str) -> dict[str, float]:
    """Completers per arm, the pooled within-arm baseline-week 8 correlation and the pooled
    baseline SD (analysis scale) of one outcome."""
    arr = stats.arm_arrays(long.loc[long["outcome"] == outcome], outcomes.log_outcomes())
    b, w, m = arr["pre"][0], arr["post"][0], arr["treated"]
    ok = np.isfinite(b) & np.isfinite(w)
    dev_b = np.concatenate([b[ok & g] - b[ok & g].mean() for g in (m, ~m)])
    dev_w = np.concatenate([w[ok & g] - w[ok & g].mean() for g in (m, ~m)])
    has_b = np.isfinite(b)
    sd = np.sqrt(sum(((b[has_b & g] - b[has_b & g].mean()) ** 2).sum() for g in (m, ~m))
                 / (has_b.sum() - 2))
    return {"n_treated": int((ok & m).sum()), "n_control": int((ok & ~m).sum()),
            "rho": float(np.corrcoef(dev_b, dev_w)[0, 1]), "baseline_sd": float(sd)}


def detectable_effects(long: pd.DataFrame, alpha: float = ALPHA,
                       power: float = POWER) -> pd.DataFrame:
    """Minimal detectable effects of the primary tests with this study's sample sizes.

    ``long`` is :func:`mbpm.analysis.outcome_table`. For the between-arm tests of oxytocin and
    the main pain and mood outcomes, with n completers per arm and rho the pooled within-arm
    correlation of baseline and week 8 observed in the data:

    * change scores (= the mixed-ANOVA interaction): d_change from the two-sample t power; in
      baseline-SD units d = d_change * sqrt(2 (1 - rho)), since Var(change) = 2 sigma^2 (1 - rho);
    * ANCOVA: d = d_change_free * sqrt(1 - rho^2), d_change_free being the two-sample t MDE: the
      residual SD of ANCOVA is sigma sqrt(1 - rho^2) (Borm, Fransen & Lemmens 2007; ignores the
      one df spent on the covariate);
    * within MBPM: the paired-t dz, in baseline-SD units dz * sqrt(2 (1 - rho));
    * at baseline, patients vs controls: the two-sample t MDE (claim 1's distress outcome);
    * the oxytocin-pain change correlation in MBPM: :func:`mde_correlation`.

    Columns: test, outcome, n (per group, as "a+b" or a count), rho, mde_sd (standardized, in
    baseline SDs or r), mde_natural (in the outcome's unit: ratio for log outcomes), natural_name.

    Three chapters show it: with ``MBPM_CACHE_DIR`` set (the book build) it is computed once, by
    :mod:`mbpm.cache` keyed by ``long``'s content and the study definition in use (its labels and
    outcome sets), so the others import neither statsmodels nor scipy.stats for it (2.5 s of a
    chapter's execution).
    """
    from mbpm import cache

    key = (f"{cache.frames_digest([long])}|{alpha!r}|{power!r}|"
           f"{study_definition.active().text}")
    return cache.cached("detectable", key, lambda: _detectable_effects(long, alpha, power))


def _detectable_effects(long: pd.DataFrame, alpha: float, power: float) -> pd.DataFrame:
    label = outcomes.catalogue_frame()["label"]
    logs = set(outcomes.log_outcomes())
    rows = []
    arms = f"{stats.TREATED} vs {stats.CONTROL}"
    for outcome in (MARKER, claims.MAIN_PAIN, claims.MAIN_MOOD):
        s = _arm_summary(long, outcome)
        d_t = mde_two_sample(s["n_treated"], s["n_control"], alpha, power)
        d_pair = mde_paired(s["n_treated"], alpha, power)
        between = d_t * np.sqrt(1 - s["rho"] ** 2), d_t * np.sqrt(2 * (1 - s["rho"]))
        for test, d, two in ((f"ANCOVA, {arms}", between[0], True),
                             (f"change scores / interaction, {arms}", between[1], True),
                             (f"paired t within {stats.TREATED}",
                              d_pair * np.sqrt(2 * (1 - s["rho"])), False)):
            rows.append({"test": test, "outcome": label[outcome],
                         "n": f"{s['n_treated']}+{s['n_control']}" if two
                         else str(s["n_treated"]), "rho": s["rho"], "mde_sd": d,
                         **_natural(d * s["baseline_sd"], outcome in logs)})
    base = long.loc[(long["outcome"] == claims.DISTRESS) & (long["visit"] == stats.PRE)]
    n_hc = int((base["group"] == stats.REFERENCE).sum())
    n_pat = int(base["group"].isin(stats.ARMS).sum())
    rows.append({"test": "Welch t, patients vs controls", "outcome": label[claims.DISTRESS],
                 "n": f"{n_pat}+{n_hc}", "rho": np.nan,
                 "mde_sd": mde_two_sample(n_pat, n_hc, alpha, power),
                 "mde_natural": np.nan, "natural_name": ""})
    n_corr = _arm_summary(long, MARKER)["n_treated"]
    rows.append({"test": f"Spearman rho of changes in {stats.TREATED}",
                 "outcome": f"{label[MARKER]} and {label[claims.MAIN_PAIN]}", "n": str(n_corr),
                 "rho": np.nan, "mde_sd": mde_correlation(n_corr, alpha, power),
                 "mde_natural": np.nan, "natural_name": "correlation"})
    return pd.DataFrame(rows)


def _natural(effect: float, is_log: bool) -> dict[str, Any]:
    if is_log:
        return {"mde_natural": float(np.exp(effect)), "natural_name": "ratio"}
    return {"mde_natural": float(effect), "natural_name": "points"}


# ----------------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------------

def paired_fast(baseline: np.ndarray, week8: np.ndarray, arm: np.ndarray) -> dict[str, np.ndarray]:
    """Paired t-test of week8 - baseline within ``arm`` (bool over the last axis) for every
    leading index: mean change, t = mean / (sd / sqrt(n)) on n - 1 df, two-sided p; completers."""
    change = np.asarray(week8, float) - np.asarray(baseline, float)
    ok = np.isfinite(change) & np.asarray(arm, bool)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, change, 0.0).sum(-1) / n
        ss = (np.where(ok, change - mean[..., None], 0.0) ** 2).sum(-1)
        t = mean / np.sqrt(ss / (n - 1) / n)
        return {"estimate": mean, "t": t, "df": n - 1.0, "p": 2 * sps.t.sf(np.abs(t), n - 1),
                "n": n}


def _fdr_by_family(p: np.ndarray, names: np.ndarray, family: Mapping[str, str]) -> np.ndarray:
    """Benjamini-Hochberg within each family of outcomes (as :func:`mbpm.stats.fdr_bh`)."""
    fams = np.array([family[o] for o in names])
    out = np.full(len(p), np.nan)
    for f in np.unique(fams):
        out[fams == f] = stats.fdr_bh(p[fams == f])
    return out


def _spearman_mbpm(arr: dict[str, np.ndarray], index: dict[str, int], family: Mapping[str, str],
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Spearman rho of the change in log oxytocin with the change of each interplay outcome in
    MBPM (scipy), with BH within each y family, as :func:`mbpm.stats.change_correlations`."""
    change = arr["post"] - arr["pre"]
    m = arr["treated"]
    x = change[index[MARKER]]
    ys = [y for y in analysis.INTERPLAY_OUTCOMES if y in index]
    rho, p = np.full(len(ys), np.nan), np.full(len(ys), np.nan)
    for j, y in enumerate(ys):
        ok = m & np.isfinite(x) & np.isfinite(change[index[y]])
        if ok.sum() >= 4:
            res = sps.spearmanr(x[ok], change[index[y]][ok])
            rho[j], p[j] = res.statistic, res.pvalue
    return rho, _fdr_by_family(p, np.array(ys), family), ys


def trial_results(long: pd.DataFrame) -> dict[str, Any]:
    """Which claim tests (:func:`mbpm.claims.tests`, claims 2-5) one trial bears out.

    ``long`` is :func:`mbpm.analysis.outcome_table` of the trial. The tests are the closed forms
    of :mod:`mbpm.stats.fast` and :func:`paired_fast`, equal to the ANCOVA and paired t-test the
    book reports, with BH within each outcome family. Keys: ``"claim <k>: <wording>"`` per test,
    ``"claim <k>"`` (all of its tests hold), and ``"p ANCOVA <outcome>"``: the unadjusted ANCOVA
    p of each outcome a claim names (the per-test power at ``ALPHA``, and the null check).
    """
    fam = outcomes.families()
    arr = stats.arm_arrays(long, outcomes.log_outcomes())
    names = arr["outcomes"]
    index = {o: i for i, o in enumerate(names)}
    b, w, m = arr["pre"], arr["post"], arr["treated"]
    found: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, dict[str, int]]] = {}
    anc = stats.ancova_fast(b, w, m)
    named = dict.fromkeys(t.outcome for t in claims.tests())
    out: dict[str, Any] = {f"p ANCOVA {o}": float(anc["p"][index[o]]) if o in index else np.nan
                           for o in named}
    for key, res in ((claims.ANCOVA, anc),
                     (claims.PAIRED_MBPM, paired_fast(b, w, m)),
                     (claims.PAIRED_WL, paired_fast(b, w, ~m))):
        found[key] = (np.sign(res["estimate"]), _fdr_by_family(res["p"], names, fam), index)
    rho, p_rho, ys = _spearman_mbpm(arr, index, fam)
    found[claims.SPEARMAN_MBPM] = (np.sign(rho), p_rho, {y: j for j, y in enumerate(ys)})
    for test in claims.tests():
        if test.analysis not in found:
            continue  # claim 1 needs the healthy controls; the simulation studies claims 2-5
        sign, p_fdr, where = found[test.analysis]
        j = where.get(test.outcome)
        ok = j is not None and bool(claims.holds(test.expect, test.sign, sign[j], p_fdr[j]))
        out[f"claim {test.claim}: {test.wording}"] = ok
        out[f"claim {test.claim}"] = out.get(f"claim {test.claim}", True) and ok
    return out


# ----------------------------------------------------------------------------------------------
# The batched path: many trials through one validation, one scoring, one plate fit, array tests
# ----------------------------------------------------------------------------------------------

#: About how many participants one batch of the batched path holds (its tables, validated and
#: quantified at once): large enough to spread the per-call cost of pandas over many trials.
BATCH_PARTICIPANTS = 6000


def bh_rows(p: np.ndarray) -> np.ndarray:
    """:func:`mbpm.stats.fdr_bh` along the last axis of ``p`` (NaN passed through, not counted
    in m): p_(i) m / i made monotone from the top, capped at 1.

    >>> bh_rows(np.array([[0.01, 0.04, np.nan, 0.03]])).round(3).tolist()
    [[0.03, 0.04, nan, 0.04]]
    """
    p = np.asarray(p, float)
    order = np.argsort(np.where(np.isfinite(p), p, np.inf), axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, -1)
    finite = np.isfinite(ranked)
    m = finite.sum(-1, keepdims=True)
    scaled = np.where(finite, ranked * m / np.arange(1, p.shape[-1] + 1), np.inf)
    adjusted = np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1].clip(max=1.0)
    out = np.empty_like(p)
    np.put_along_axis(out, order, np.where(finite, adjusted, np.nan), -1)
    return out


def _bh_by_family(p: np.ndarray, names: np.ndarray, family: Mapping[str, str]) -> np.ndarray:
    """:func:`bh_rows` within each family of outcomes (the last axis of ``p`` is ``names``)."""
    fams = np.array([family[o] for o in names])
    out = np.full(p.shape, np.nan)
    for f in np.unique(fams):
        out[..., fams == f] = bh_rows(p[..., fams == f])
    return out


def spearman_rows(x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman's rho of ``x`` and ``y`` over the cells ``ok`` along the last axis, with the
    p-value of :func:`scipy.stats.spearmanr` (two-sided, t = r sqrt((n - 2) / ((1 + r)(1 - r)))
    on n - 2 df); NaN where fewer than 4 cells are ``ok`` (as :func:`_spearman_mbpm`).
    Average ranks for ties; cells outside ``ok`` are ranked last and then ignored."""
    rx = sps.rankdata(np.where(ok, x, np.inf), axis=-1)
    ry = sps.rankdata(np.where(ok, y, np.inf), axis=-1)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = np.where(ok, rx - (rx * ok).sum(-1, keepdims=True) / n[..., None], 0.0)
        dy = np.where(ok, ry - (ry * ok).sum(-1, keepdims=True) / n[..., None], 0.0)
        rho = (dx * dy).sum(-1) / np.sqrt((dx * dx).sum(-1) * (dy * dy).sum(-1))
        rho = np.clip(rho, -1.0, 1.0)
        t = rho * np.sqrt((n - 2) / ((rho + 1.0) * (1.0 - rho)))
        p = 2 * sps.t.sf(np.abs(t), n - 2)
    few = n < 4
    return np.where(few, np.nan, rho), np.where(few, np.nan, p)


def _trial_cube(long: pd.DataFrame, trial_of: Mapping[str, int], n_trials: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of :func:`mbpm.stats.arm_arrays` of a batch's long table, split by trial:
    outcomes (k, sorted), pre and post (trials, k, n_max; ln for log outcomes) and treated
    (trials, n_max); a trial's participants in the order of their IDs, padded with NaN (and not
    treated). The table is the pipeline's own (:func:`mbpm.analysis.outcome_table`), so the
    checks of :func:`mbpm.stats.prepare` are left out, except that a log outcome must be > 0."""
    group = long["group"].to_numpy(object)
    value = long["value"].to_numpy(float)
    keep = ((group == stats.TREATED) | (group == stats.CONTROL)) & ~np.isnan(value)
    column = {c: long[c].to_numpy(object)[keep] for c in ("outcome", "participant_id", "visit")}
    group, value = group[keep], value[keep]
    o_code, names = pd.factorize(column["outcome"], sort=True)
    p_code, ids = pd.factorize(column["participant_id"], sort=True)
    is_log = np.isin(np.asarray(names, dtype=object), list(outcomes.log_outcomes()))[o_code]
    if np.any(is_log & (value <= 0)):
        raise DataError("long: a log-scale outcome has a value <= 0")
    y = np.where(is_log, np.log(np.where(is_log, value, 1.0)), value)
    trial = np.array([trial_of[i] for i in ids])  # sorted IDs: trials in order
    slot = np.arange(len(ids)) - np.searchsorted(trial, trial)
    width = int(slot.max()) + 1 if slot.size else 1
    cube = np.full((2, n_trials, len(names), width), np.nan)
    post = (column["visit"] == stats.POST).astype(int)
    cube[post, trial[p_code], o_code, slot[p_code]] = y
    treated = np.zeros((n_trials, width), bool)
    treated[trial[p_code], slot[p_code]] = group == stats.TREATED
    return np.asarray(names, dtype=str), cube[0], cube[1], treated


def batch_results(long: pd.DataFrame, trial_of: Mapping[str, int], n_trials: int,
                  ) -> list[dict[str, Any]]:
    """:func:`trial_results` of every trial of a batch at once: ``long`` is the outcome table of
    the batch's stacked tables, ``trial_of`` maps each participant ID to its trial (0..n-1).

    The same tests on arrays with a leading trial axis: :func:`mbpm.stats.ancova_fast`,
    :func:`paired_fast`, :func:`spearman_rows`, BH within each family (:func:`bh_rows`). An
    outcome a trial has no value of is all NaN there: its p is NaN, which BH does not count,
    as :func:`trial_results` leaves it out."""
    names, b, w, m = _trial_cube(long, trial_of, n_trials)
    fam = outcomes.families()
    index = {o: i for i, o in enumerate(names)}
    mm = m[:, None, :]
    anc = stats.ancova_fast(b, w, mm)
    found: dict[str, tuple[np.ndarray, np.ndarray, dict[str, int]]] = {}
    for key, res in ((claims.ANCOVA, anc), (claims.PAIRED_MBPM, paired_fast(b, w, mm)),
                     (claims.PAIRED_WL, paired_fast(b, w, ~mm))):
        found[key] = (np.sign(res["estimate"]), _bh_by_family(res["p"], names, fam), index)
    ys = [y for y in analysis.INTERPLAY_OUTCOMES if y in index]
    change = w - b
    x = change[:, index[MARKER], :][:, None, :]
    y = change[:, [index[o] for o in ys], :]
    rho, p_rho = spearman_rows(x, y, mm & np.isfinite(x) & np.isfinite(y))
    found[claims.SPEARMAN_MBPM] = (np.sign(rho), _bh_by_family(p_rho, np.array(ys), fam),
                                   {o: j for j, o in enumerate(ys)})
    columns: dict[str, np.ndarray] = {}
    for o in dict.fromkeys(t.outcome for t in claims.tests()):
        columns[f"p ANCOVA {o}"] = anc["p"][:, index[o]] if o in index else np.full(n_trials, np.nan)
    for test in claims.tests():
        if test.analysis not in found:
            continue  # claim 1 needs the healthy controls; the simulation studies claims 2-5
        sign, p_fdr, where = found[test.analysis]
        j = where.get(test.outcome)
        ok = (np.zeros(n_trials, bool) if j is None
              else claims.holds(test.expect, test.sign, sign[:, j], p_fdr[:, j]))
        columns[f"claim {test.claim}: {test.wording}"] = ok
        whole = f"claim {test.claim}"
        columns[whole] = columns.get(whole, np.ones(n_trials, bool)) & ok
    return [{k: (bool(v[t]) if v.dtype == bool else float(v[t])) for k, v in columns.items()}
            for t in range(n_trials)]


def run_trial(seed: int, n_arm: int, params: Params, n_hc: int | None = None) -> dict[str, Any]:
    """One simulated trial through the whole pipeline: simulate (in memory), validate, score,
    fit the plates (:func:`mbpm.io.study_from_tables`), build the outcome table, test the
    claims. A plate without a usable standard curve drops its samples, as in a real analysis
    (``on_plate_failure="drop"``, the default of :func:`mbpm.io.study_from_tables`), so such a
    trial is analysed without them; only a trial the pipeline rejects (DataError) is returned
    with ``failed=True``. ``plates_dropped`` counts the trial's plates left out."""
    row: dict[str, Any] = {"n_per_arm": n_arm, "seed": seed, "failed": False, "plates_dropped": 0}
    try:
        study: Study = study_from_tables(simulate_tables(params, seed, n_arm, n_arm, n_hc))
    except DataError:
        return {**row, "failed": True}
    row["plates_dropped"] = len(study.assay.failures)
    return {**row, **trial_results(analysis.outcome_table(study))}


def run_batch(seeds: list[int], n_arm: int, params: Params, n_hc: int | None = None,
              ) -> list[dict[str, Any]]:
    """:func:`run_trial` of each seed, batched: the cohorts are simulated and stacked into one
    set of tables (:func:`mbpm.simulate.simulate_batch`), which go once through the same
    validation, scoring and plate fitting (:func:`mbpm.io.study_from_tables`, one
    Levenberg-Marquardt over every plate) and one outcome table, and the claims are tested for
    all trials at once (:func:`batch_results`). Each trial's screening counts are checked as
    :func:`mbpm.io.validate_tables` checks a folder's (the stacked screening table holds their
    sums); the one rule that compares plates with one another (a plate's standard levels
    against most plates of its analyte) compares them across the batch, and the simulation
    gives every plate of a kit the same levels. Should the stacked tables be rejected
    (DataError), each trial is run alone, so a rejected trial is reported as :func:`run_trial`
    reports it."""
    batch = simulate_batch(params, seeds, n_arm, n_arm, n_hc)
    counts = batch.screening_counts
    try:
        if np.any(counts[0] - counts[1:].sum(0) != batch.patients):
            raise DataError("screening.csv: assessed - excluded differs from the patients")
        study = study_from_tables(batch.tables, participant_id=batch.participant_id,
                                  quantifier=quantify_many)
    except DataError:
        return [run_trial(s, n_arm, params, n_hc) for s in seeds]
    tested = batch_results(analysis.outcome_table(study), batch.trial_of, len(seeds))
    failed = study.assay.plates.loc[study.assay.plates["failure"] != "", "plate_id"]
    dropped = np.bincount(failed.str.slice(1, 1 + TRIAL_DIGITS).astype(int), minlength=len(seeds))
    return [{"n_per_arm": n_arm, "seed": s, "failed": False, "plates_dropped": int(dropped[k]),
             **tested[k]} for k, s in enumerate(seeds)]


def trial_seeds(seed: int, n_arm: int, n_trials: int) -> list[int]:
    """The seed of each trial: ``SeedSequence(seed, spawn_key=(n_arm, i))``, first 32-bit word."""
    return [int(np.random.SeedSequence(seed, spawn_key=(n_arm, i)).generate_state(1)[0])
            for i in range(n_trials)]


def folder_params(folder: str | os.PathLike[str] | None = None) -> Params:
    """The simulation parameters of the data folder (``folder``, ``$MBPM_DATA``, ``data/``;
    :func:`mbpm.io.data_dir`): its ``simulation.yml`` when it has one (a simulated folder, whose
    arms and analytes are its study definition's), else the shipped mbpm/simulation.yml."""
    from mbpm import io

    own = io.data_dir(folder) / "simulation.yml"
    return read_params(own if own.is_file() else None)


def _run_batch_packed(job: tuple[list[int], int, Params, int | None]) -> list[dict[str, Any]]:
    return run_batch(*job)


def batch_jobs(trials: Mapping[int, int], seed: int, params: Params, n_hc: int | None,
               ) -> list[tuple[list[int], int, Params, int | None]]:
    """The batches of :func:`run_batch` for ``trials``: per size, consecutive trials holding
    about :data:`BATCH_PARTICIPANTS` participants together."""
    from mbpm.simulate import arm_sizes

    jobs = []
    for n, k in trials.items():
        people = sum(arm_sizes(params.values, (n, n, n_hc)).values())
        step = max(1, BATCH_PARTICIPANTS // people)
        seeds = trial_seeds(seed, n, k)
        jobs += [(seeds[i:i + step], n, params, n_hc) for i in range(0, k, step)]
    return jobs


def checked_params(params: Params) -> Params:
    """``params`` if a small cohort can be simulated from them; else DataError naming the
    problem (a parameter file without a key the simulation needs, say), raised here rather than
    deep inside a worker process."""
    from mbpm.simulate import simulate_tables

    try:
        simulate_tables(params, 0, 3, 3, 2)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise DataError(f"simulation.yml: cannot simulate a cohort from these parameters "
                        f"({type(err).__name__}: {err})") from None
    return params


def power_simulation(trials: Mapping[int, int], seed: int = DEFAULT_SEED,
                     params: Params | None = None, n_hc: int | None = None,
                     workers: int | None = None, progress: bool = False,
                     batched: bool = True) -> pd.DataFrame:
    """Simulate ``trials[n]`` trials with ``n`` patients per arm for each ``n``.

    Returns one row per trial: n_per_arm, trial, seed, failed, plates_dropped and one boolean column per claim
    test and claim (:func:`trial_results`). ``params`` defaults to :func:`folder_params`
    (the data folder's simulation.yml, its true effects), ``n_hc`` to its number of controls. ``workers`` processes (default
    :func:`default_workers`) share the trials; results do not depend on their number. ``progress`` shows a tqdm bar.
    ``batched`` (default) runs the trials in batches (:func:`run_batch`, the same results as
    :func:`run_trial` one by one, which ``batched=False`` does). With ``MBPM_CACHE_DIR`` set
    (the book build) the result is stored by :mod:`mbpm.cache`, keyed by the parameters and,
    when they are the data folder's, the folder's bytes.
    """
    from mbpm import cache, io

    own = params is None
    params = checked_params(params or folder_params())
    key = "|".join([params.text, repr(sorted(trials.items())), str(seed), str(n_hc), str(batched)]
                   + ([cache.folder_digest(io.data_dir())] if own else []))
    return cache.cached("design", key, lambda: _simulate(trials, seed, params, n_hc, workers,
                                                         progress, batched))


def _simulate(trials: Mapping[int, int], seed: int, params: Params, n_hc: int | None,
              workers: int | None, progress: bool, batched: bool) -> pd.DataFrame:
    from tqdm import tqdm  # a text bar: tqdm.auto warns without ipywidgets

    workers = default_workers() if workers is None else workers
    trial_no = [i for n, k in trials.items() for i in range(k)]
    bar = tqdm(total=len(trial_no), disable=not progress, desc="simulated trials")
    if batched:
        jobs: list[Any] = batch_jobs(trials, seed, params, n_hc)
        run, size = _run_batch_packed, (lambda job: len(job[0]))
    else:
        jobs = [([s], n, params, n_hc) for n, k in trials.items() for s in trial_seeds(seed, n, k)]
        run, size = _run_one_packed, (lambda job: 1)
    rows: list[dict[str, Any]] = []
    if workers <= 1:
        results: Any = map(run, jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        chunk = 1 if batched else max(1, len(jobs) // (workers * 8))
        results = pool.map(run, jobs, chunksize=chunk)
    try:
        for job, part in zip(jobs, results):
            rows += part
            bar.update(size(job))
    finally:
        bar.close()
        if workers > 1:
            pool.shutdown()
    frame = pd.DataFrame(rows)
    frame.insert(1, "trial", trial_no)
    return frame


def _run_one_packed(job: tuple[list[int], int, Params, int | None]) -> list[dict[str, Any]]:
    return [run_trial(job[0][0], *job[1:])]


def default_workers() -> int:
    """Processes for the simulation: the CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def power_table(sim: pd.DataFrame) -> pd.DataFrame:
    """Per size and claim (or claim test): trials, proportion reproducing it and its Monte Carlo
    standard error sqrt(p (1 - p) / trials). Failed trials are left out (counted in ``failed``).
    ``is_claim`` marks whole claims (all their tests); ``label`` names the claim or test."""
    ok = sim.loc[~sim["failed"]]
    cols = [c for c in sim.columns if c.startswith("claim ")]
    long = ok.melt(id_vars=["n_per_arm"], value_vars=cols, var_name="claim", value_name="hit")
    long["hit"] = long["hit"].astype(float)
    table = long.groupby(["n_per_arm", "claim"], sort=False)["hit"].agg(["size", "mean"])
    table = table.rename(columns={"size": "trials", "mean": "proportion"}).reset_index()
    table["mc_se"] = np.sqrt(table["proportion"] * (1 - table["proportion"]) / table["trials"])
    failed = sim.groupby("n_per_arm")["failed"].sum()
    table["failed"] = table["n_per_arm"].map(failed).astype(int)
    table["is_claim"] = ~table["claim"].str.contains(":")
    number = table["claim"].str.extract(r"claim (\d)")[0].astype(int)
    table["label"] = np.where(table["is_claim"],
                              number.astype(str) + ". " + number.map(claims.CLAIMS),
                              table["claim"].str.replace(r"^claim \d: ", "", regex=True))
    return table


def null_params(params: Params | None = None) -> Params:
    """A copy of ``params`` with every true effect set to zero: no latent change in either arm,
    no week-8 effect on any analyte, no oxytocin-pain change correlation."""
    import copy

    params = params or folder_params()
    v = copy.deepcopy(params.values)
    for arm in v["latent"]["change"].values():
        for factor in arm:
            arm[factor] = 0.0
    for analyte in v["biomarkers"]["analytes"].values():
        analyte["effect"] = {arm: 0.0 for arm in analyte["effect"]}
    v["biomarkers"]["oxytocin_pain_change_correlation"] = 0.0
    return Params(text=params.text + "\n# mbpm.design.null_params: every effect set to 0\n",
                  values=v)


def cli(args: argparse.Namespace) -> int:
    """``python -m mbpm design --trials N --sizes 25 50 100 [--seed --workers --out]``: run the
    simulation with a progress bar and print the proportion of trials reproducing each claim."""
    seed = DEFAULT_SEED if args.seed is None else args.seed
    sim = power_simulation({n: args.trials for n in args.sizes}, seed=seed,
                           workers=args.workers, progress=True)
    if args.out is not None:
        sim.to_csv(args.out, index=False)
    table = power_table(sim)
    table = table.loc[table["is_claim"], ["n_per_arm", "label", "trials", "proportion", "mc_se",
                                          "failed"]]
    print(f"seed {seed}; proportion of simulated trials reproducing each claim (MC SE)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0
