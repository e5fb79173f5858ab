"""Each headline result under every reasonable analysis choice of the plan (a specification curve).

Choices (the statistical plan (methods chapter)): the test (mixed-ANOVA interaction, ANCOVA, linear mixed model,
Mann-Whitney U on change scores); for biomarkers the scale (natural log or raw) and the value
given to samples below the limit of quantification (half the limit or missing,
:func:`mbpm.assays.censor`); and the sample (completers, or everyone with data, which only the
mixed model can use; it is fitted to everyone with data only, since on completers its interaction
estimate is the mixed ANOVA's). Every specification is computed with the same :mod:`mbpm.stats` function
the results chapters use.

To put the tests on one axis, each estimate is expressed on the analysis scale (log for the log
specifications) and divided by the pooled within-arm baseline SD of that specification's data
(all MBPM and WL participants with a baseline value): a standardized difference in change
between the arms, MBPM - WL. The Mann-Whitney estimate is the Hodges-Lehmann shift of the
change scores, on the same scale; it has no CI.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from mbpm import analysis, cache, claims, outcomes, stats
from mbpm import study as study_definition
from mbpm.io import Study

#: The headline results: oxytocin, the cytokines and DHEA-S, the main pain and mood outcomes.
HEADLINE = tuple(study_definition.active().outcome_set("headline"))
#: The plan's primary specification, against which direction is compared.
PRIMARY = {"test": "ANCOVA", "sample": "completers", "scale": "log", "below_lloq": "half_lloq"}
#: Test names as the stats functions give them -> short names, in the order the charts list them.
TESTS = {stats.ANCOVA: "ANCOVA", stats.MIXED_ANOVA: "mixed ANOVA",
         stats.MIXED_MODEL: "mixed model", stats.MANN_WHITNEY_CHANGE: "Mann-Whitney"}
LLOQ_LABELS = {"half_lloq": "LLOQ/2", "missing": "<LLOQ out", "": ""}


def completers(long: pd.DataFrame) -> pd.DataFrame:
    """Rows of MBPM/WL participants with both visits of that outcome (others dropped)."""
    arms = long.loc[long["group"].isin(stats.ARMS)]
    visits = arms.groupby(["participant_id", "outcome"])["visit"].transform("nunique")
    return arms.loc[visits == 2]


def _baseline_sd(long: pd.DataFrame, log: bool) -> pd.Series:
    """Pooled within-arm SD of the baseline values per outcome (ln values when ``log``)."""
    base = long.loc[(long["visit"] == stats.PRE) & long["group"].isin(stats.ARMS)]
    y = np.log(base["value"]) if log else base["value"]
    dev = y - y.groupby([base["outcome"], base["group"]]).transform("mean")
    ss = (dev**2).groupby(base["outcome"]).sum()
    dof = base.groupby("outcome").size() - base.groupby("outcome")["group"].nunique()
    return np.sqrt(ss / dof)


def _one_version(long: pd.DataFrame, log: bool, below_lloq: str) -> pd.DataFrame:
    """The four tests on one version of the data (``below_lloq`` is only recorded)."""
    fam = outcomes.families()
    logs = sorted(set(long["outcome"])) if log else ()
    arms = long.loc[long["group"].isin(stats.ARMS)]
    parts = [stats.mixed_anova(arms, fam, logs), stats.ancova(arms, fam, logs),
             stats.change_nonparametric(arms, fam, logs),
             stats.mixed_model(arms, fam, logs)]
    res = pd.concat(parts, ignore_index=True)
    res["test"] = res["analysis"].map(TESTS)
    res["sample"] = np.where(res["test"] == "mixed model", "all with data", "completers")
    res["scale"] = "log" if log else "raw"
    res["below_lloq"] = below_lloq
    sd = res["outcome"].map(_baseline_sd(arms, log))
    for col in ("estimate", "ci_low", "ci_high"):
        value = res[col].astype(float)
        res[col + "_std"] = (np.log(value) if log else value) / sd
    return res


def _version(job: tuple[pd.DataFrame, bool, str]) -> pd.DataFrame:
    return _one_version(*job)


def specifications(study: Study, headline: tuple[str, ...] = HEADLINE,
                   workers: int = 1) -> pd.DataFrame:
    """Every specification of every headline result, one row each.

    Columns: outcome, label, test, sample, scale, below_lloq ('' for questionnaires), estimate
    (as the test reports it: ratio for log specifications), estimate_std, ci_low_std,
    ci_high_std (standardized, see the module docstring), p (unadjusted), n, primary (the plan's
    primary specification), spec (a short label; "(all)" marks everyone with data). Rows are
    ordered by headline result, then test, scale (log first) and LLOQ rule (half first), so the
    primary specification comes first. ``workers`` > 1 computes the five versions
    of the data in that many processes (same result).
    """
    key = cache.frames_digest([study.participants, study.scores, study.biomarkers])
    return cache.cached("specifications", f"{key}|{','.join(headline)}",
                        lambda: _specifications(study, headline, workers))


def _specifications(study: Study, headline: tuple[str, ...], workers: int) -> pd.DataFrame:
    markers = [o for o in headline if o in outcomes.log_outcomes()]
    scales = [o for o in headline if o not in markers]
    jobs = []
    for below in ("half_lloq", "missing"):
        long = analysis.outcome_table(study, below_lloq=below)
        jobs += [(long.loc[long["outcome"].isin(markers)], log, below) for log in (True, False)]
    long = analysis.outcome_table(study)
    jobs.append((long.loc[long["outcome"].isin(scales)], False, ""))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_version, jobs))
    else:
        parts = [_version(job) for job in jobs]
    parts[-1] = parts[-1].assign(scale="")
    res = pd.concat(parts, ignore_index=True)
    res["label"] = res["outcome"].map(outcomes.catalogue_frame()["label"])
    res["primary"] = ((res["test"] == PRIMARY["test"]) & (res["sample"] == PRIMARY["sample"])
                      & res["scale"].isin([PRIMARY["scale"], ""])
                      & res["below_lloq"].isin([PRIMARY["below_lloq"], ""]))
    res["spec"] = [" · ".join(x for x in (t + (" (all)" if s == "all with data" else ""), sc,
                                          LLOQ_LABELS[b]) if x)
                   for t, s, sc, b in zip(res["test"], res["sample"], res["scale"],
                                          res["below_lloq"])]
    ranks = {"outcome": {o: i for i, o in enumerate(headline)},
             "test": {t: i for i, t in enumerate(TESTS.values())},
             "scale": {"log": 0, "raw": 1, "": 0}, "below_lloq": {"half_lloq": 0, "missing": 1, "": 0}}
    res = res.sort_values(list(ranks), key=lambda c: c.map(ranks[c.name])).reset_index(drop=True)
    return res.loc[:, ["outcome", "label", "test", "sample", "scale", "below_lloq", "spec",
                       "estimate", "estimate_std", "ci_low_std", "ci_high_std", "p", "n",
                       "primary"]]


def agreement(specs: pd.DataFrame, alpha: float = claims.ALPHA) -> pd.DataFrame:
    """Per headline result: how many specifications there are, how many point the same way as
    the primary one, how many have p < ``alpha``, and the primary's standardized estimate and p.
    """
    rows = []
    for outcome, sub in specs.groupby("outcome", sort=False):
        prim = sub.loc[sub["primary"]].iloc[0]
        sign = np.sign(prim["estimate_std"])
        rows.append({"outcome": outcome, "label": prim["label"], "specs": len(sub),
                     "same_direction": int((np.sign(sub["estimate_std"]) == sign).sum()),
                     "significant": int((sub["p"] < alpha).sum()),
                     "primary_std": float(prim["estimate_std"]), "primary_p": float(prim["p"])})
    return pd.DataFrame(rows)


def changed_conclusions(specs: pd.DataFrame, alpha: float = claims.ALPHA) -> pd.DataFrame:
    """The specifications whose conclusion differs from the primary one's for the same result:
    significant (unadjusted p < ``alpha``) where the primary is not, or the reverse, or
    significant in the other direction. Columns: outcome, label, spec, estimate_std, p,
    primary_p, change ("significant where the primary is not", "not significant where the
    primary is", "significant the other way")."""
    rows = []
    for _, sub in specs.groupby("outcome", sort=False):
        prim = sub.loc[sub["primary"]].iloc[0]
        prim_sig, prim_sign = prim["p"] < alpha, np.sign(prim["estimate_std"])
        for spec in sub.loc[~sub["primary"]].itertuples():
            sig = spec.p < alpha
            if sig and prim_sig and np.sign(spec.estimate_std) != prim_sign:
                change = "significant the other way"
            elif sig and not prim_sig:
                change = "significant where the primary is not"
            elif prim_sig and not sig:
                change = "not significant where the primary is"
            else:
                continue
            rows.append({"outcome": spec.outcome, "label": spec.label, "spec": spec.spec,
                         "estimate_std": spec.estimate_std, "p": spec.p,
                         "primary_p": prim["p"], "change": change})
    return pd.DataFrame(rows, columns=["outcome", "label", "spec", "estimate_std", "p",
                                       "primary_p", "change"])


def changed_conclusions_text(changed: pd.DataFrame) -> str:
    """:func:`changed_conclusions` as one sentence of prose, e.g. "for Oxytocin, ANCOVA · log ·
    <LLOQ out is significant where the primary is not (p = 0.031; primary p = 0.764)"; or
    "no specification changes a conclusion"."""
    from mbpm.tables import biomarker_p_text, english_list

    if changed.empty:
        return "no specification changes a conclusion"
    parts = [f"for {r.label}, {r.spec} is {r.change} ({biomarker_p_text(r.p)}; primary "
             f"{biomarker_p_text(r.primary_p)})" for r in changed.itertuples()]
    return english_list(parts)
