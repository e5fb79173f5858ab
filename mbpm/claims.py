"""The claims of the paper's abstract (the statistical plan (methods chapter) claims 1-5): which statistic tests each, and
what a set of results says about it.

Two different questions are asked of one definition of the claims (:func:`tests`):

* **What does this data folder say about each claim?** (:func:`ledger`, :func:`evidence`): a
  result significant in the claimed direction (Benjamini-Hochberg p within the outcome family below
  :data:`ALPHA`) *supports* it, significant the other way *contradicts* it, and a non-significant
  result is *inconclusive*: it is never support (Gelman & Stern 2006; the book's discussion). A claim
  of no change ("does not rise within the wait-list") needs an interval argument: with no
  equivalence margin in the plan it is *not testable* unless the data contradict it.
* **How often would a trial reproduce the pattern the abstract reports?** (:func:`holds`, used by
  the design simulation of :mod:`mbpm.design`): significant where the abstract says so, not
  significant where it says "not significantly", no significant rise where it says "does not rise".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mbpm import outcomes, study
from mbpm.stats import names

_DEFINITION = study.active()
ALPHA = _DEFINITION.plan("significance_level")
#: The arms and visits as the claims name them (study definition).
_TREATED, _CONTROL = _DEFINITION.treated.id, _DEFINITION.control.id
_CONTROL_WORDS = _DEFINITION.control.label.lower()
#: The abstract's claims in a few words (the statistical plan (methods chapter)).
CLAIMS = {1: "patients more distressed than controls", 2: f"oxytocin rises with {_TREATED}",
          3: "cytokines and DHEA-S fall, not significantly",
          4: f"pain and mood improve with {_TREATED}",
          5: "oxytocin change goes with pain change"}
#: The main pain ("pain perception") and mood outcomes of claims 4 and 5.
MAIN_PAIN = _DEFINITION.outcome_set("main_pain")
MAIN_MOOD = _DEFINITION.outcome_set("main_mood")
#: The distress outcome of claim 1 (patients vs healthy controls at baseline).
DISTRESS = _DEFINITION.outcome_set("distress")
#: The analytes of claim 3.
MARKER = _DEFINITION.outcome_set("interplay_marker")
FALLING_MARKERS = tuple(a for a in _DEFINITION.analyte_ids if a != MARKER)

#: The result rows that test the claims: (analysis, contrast), by the names of mbpm.stats.
ANCOVA = (names.ANCOVA, names.ANCOVA_CONTRAST)
PAIRED_MBPM = (names.PAIRED, names.within_contrast(_TREATED))
PAIRED_WL = (names.PAIRED, names.within_contrast(_CONTROL))
WELCH = (names.WELCH, names.BASELINE_CONTRAST)
SPEARMAN_MBPM = (names.correlation(MARKER), names.group_contrast([_TREATED]))


#: What a test must show for its claim to hold (:func:`holds`).
SIGNIFICANT = "significant"  # the claimed direction, FDR p < ALPHA
NOT_SIGNIFICANT = "direction, not significant"  # the claimed direction, FDR p >= ALPHA
NO_SIGNIFICANT_CHANGE = "no significant change that way"  # not (claimed direction and p < ALPHA)


@dataclass(frozen=True)
class Test:
    """One row of the ledger: a claim's part, the outcome and the result row that tests it, the
    direction the claim names (+1 up, -1 down; ratios relative to 1) and what must hold."""

    claim: int
    wording: str
    outcome: str
    analysis: tuple[str, str]
    sign: int
    expect: str = SIGNIFICANT


def _improves(outcome: str) -> int:
    """The sign of an improvement: -1 when higher is worse, +1 when higher is better."""
    return -1 if outcomes.catalogue_frame().at[outcome, "higher_is"] == "worse" else 1


@functools.cache
def tests() -> tuple[Test, ...]:
    """The claims of the abstract as tests (the statistical plan (methods chapter), claims 1-5); built once per process."""
    label = outcomes.catalogue_frame()["label"]
    ox, t, wl = label[MARKER], _TREATED, _CONTROL_WORDS
    rows = [Test(1, f"Patients more distressed than controls ({label[DISTRESS]})", DISTRESS,
                 WELCH, -_improves(DISTRESS)),
            Test(2, f"{ox} rises with {t} more than on the {wl}", MARKER, ANCOVA, 1),
            Test(2, f"{ox} rises within {t}", MARKER, PAIRED_MBPM, 1),
            Test(2, f"{ox} does not rise within the {wl}", MARKER, PAIRED_WL, 1,
                 NO_SIGNIFICANT_CHANGE)]
    rows += [Test(3, f"{label[a]} falls within {t}, not significantly", a, PAIRED_MBPM, -1,
                  NOT_SIGNIFICANT) for a in FALLING_MARKERS]
    rows += [Test(4, f"{label[o]} improves with {t} vs {wl}", o, ANCOVA, _improves(o))
             for o in (MAIN_PAIN, MAIN_MOOD)]
    rows.append(Test(5, f"{ox} change goes with less pain ({label[MAIN_PAIN]})", MAIN_PAIN,
                     SPEARMAN_MBPM, _improves(MAIN_PAIN)))
    return tuple(rows)


def direction(estimate: float | np.ndarray, is_ratio: bool | np.ndarray) -> np.ndarray:
    """+1, -1 or 0: the sign of a difference, or of log(ratio) for ratios."""
    est = np.asarray(estimate, float)
    return np.sign(np.where(is_ratio, np.log(np.where(is_ratio, est, 1.0)), est))


def holds(expect: str, sign: int, observed_sign: np.ndarray, p_fdr: np.ndarray) -> np.ndarray:
    """Whether results bear out a claim (elementwise): see :data:`SIGNIFICANT`,
    :data:`NOT_SIGNIFICANT` and :data:`NO_SIGNIFICANT_CHANGE`. A NaN p never bears out a claim."""
    p = np.asarray(p_fdr, float)
    way = np.asarray(observed_sign) == sign
    significant, known = p < ALPHA, np.isfinite(p)
    if expect == SIGNIFICANT:
        return way & significant
    if expect == NOT_SIGNIFICANT:
        return way & ~significant & known
    if expect == NO_SIGNIFICANT_CHANGE:
        return ~(way & significant) & known
    raise ValueError(f"expect must be one of {SIGNIFICANT!r}, {NOT_SIGNIFICANT!r}, "
                     f"{NO_SIGNIFICANT_CHANGE!r}; got {expect!r}")


def _is_ratio(row: pd.Series) -> bool:
    return bool(row.get("log_scale")) if pd.notna(row.get("log_scale")) else False


#: What the data say about a claim (:func:`evidence`).
SUPPORTS, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE = ("supports", "contradicts", "inconclusive",
                                                     "not testable")
EVIDENCE_PHRASES = {
    SUPPORTS: "supports the claim",
    CONTRADICTS: "contradicts the claim",
    INCONCLUSIVE: "inconclusive",
    NOT_TESTABLE: "not testable (no equivalence margin)",
}


def evidence(test: Test, observed_sign: int, p_fdr: float) -> str:
    """What one result says about one claim test: :data:`SUPPORTS`, :data:`CONTRADICTS`,
    :data:`INCONCLUSIVE` or :data:`NOT_TESTABLE` (see the module docstring).

    For a claimed effect (and for "falls, not significantly", whose claimed direction is the fall):
    significant the claimed way supports it, significant the other way contradicts it, anything
    else is inconclusive. For a claim of no change that way: a significant change that way
    contradicts it; otherwise it cannot be tested without an equivalence margin.

    >>> t = Test(2, "x rises", "x", ANCOVA, sign=1)
    >>> evidence(t, 1, 0.01), evidence(t, 1, 0.2), evidence(t, -1, 0.01)
    ('supports', 'inconclusive', 'contradicts')
    """
    significant = bool(np.isfinite(p_fdr) and p_fdr < ALPHA)
    if test.expect == NO_SIGNIFICANT_CHANGE:
        return CONTRADICTS if significant and observed_sign == test.sign else NOT_TESTABLE
    if not significant:
        return INCONCLUSIVE
    return SUPPORTS if observed_sign == test.sign else CONTRADICTS


def _verdict(test: Test, row: pd.Series) -> tuple[str, str]:
    """(evidence, the result in words), e.g. ('inconclusive', 'rose, not significant:
    inconclusive')."""
    observed = int(direction(row["estimate"], _is_ratio(row)))
    significant = row["p_fdr"] < ALPHA
    if test.analysis == SPEARMAN_MBPM:
        moved = {1: "positive", -1: "negative", 0: "zero"}[observed] + " correlation"
    elif test.analysis == WELCH:
        moved = {1: "patients higher", -1: "patients lower", 0: "no difference"}[observed]
    else:
        moved = {1: "rose", -1: "fell", 0: "unchanged"}[observed]
    found = evidence(test, observed, float(row["p_fdr"]))
    return found, (f"{moved}, {'significant' if significant else 'not significant'}: "
                   f"{EVIDENCE_PHRASES[found]}")


def ledger(table: pd.DataFrame) -> pd.DataFrame:
    """The claims ledger from a results table (:meth:`mbpm.analysis.Results.table`).

    One row per test of :func:`tests`: claim number, the claim in words, the statistic, the
    estimate with its 95 % CI as text, p, FDR p, ``evidence`` (:func:`evidence`) and the verdict
    in words. A claimed result whose row is missing (e.g. an outcome absent from the data folder)
    says so (evidence ``not computable``).
    """
    index = table.set_index(["outcome", "analysis", "contrast"])
    rows = []
    for test in tests():
        key = (test.outcome, *test.analysis)
        base = {"claim": test.claim, "claim_text": test.wording, "outcome": test.outcome,
                "analysis": test.analysis[0], "statistic": _statistic_name(test)}
        if key not in index.index:
            rows.append({**base, "estimate": "", "p": np.nan, "p_fdr": np.nan,
                         "evidence": "not computable",
                         "verdict": "not computable from this data folder"})
            continue
        row = index.loc[key]
        ci = "" if pd.isna(row["ci_low"]) else f" ({row['ci_low']:.2f} to {row['ci_high']:.2f})"
        found, words = _verdict(test, row)
        rows.append({**base, "estimate": f"{row['estimate']:.2f}{ci}", "p": float(row["p"]),
                     "p_fdr": float(row["p_fdr"]), "evidence": found, "verdict": words})
    return pd.DataFrame(rows)


def ledger_findings(ledger_frame: pd.DataFrame) -> dict[str, object]:
    """What the discussion quotes from the ledger: ``n_tests``, ``n_claims``, the number of tests
    per evidence category (``n_supports``, ``n_contradicts``, ``n_inconclusive``,
    ``n_not_testable``, ``n_not_computable``), ``n_claims_supported`` (claims whose every test
    supports them), and the primary test (the ANCOVA of the interplay marker, claim 2):
    ``primary_estimate`` (text with CI), ``primary_p`` and ``primary_p_fdr`` (as prose writes them,
    "p = 0.412" or "p < 0.001"), ``primary_verdict``."""
    from mbpm.findings.format import biomarker_p_text

    counts = ledger_frame["evidence"].value_counts()
    supported = ledger_frame.assign(ok=ledger_frame["evidence"] == SUPPORTS) \
        .groupby("claim")["ok"].all()
    primary = ledger_frame.loc[(ledger_frame["outcome"] == MARKER)
                               & (ledger_frame["analysis"] == ANCOVA[0])].iloc[0]
    return {"n_tests": len(ledger_frame), "n_claims": int(ledger_frame["claim"].nunique()),
            **{f"n_{name.replace(' ', '_')}": int(counts.get(name, 0))
               for name in (SUPPORTS, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE, "not computable")},
            "n_claims_supported": int(supported.sum()),
            "primary_estimate": primary["estimate"], "primary_p": biomarker_p_text(primary["p"]),
            "primary_p_fdr": biomarker_p_text(primary["p_fdr"]),
            "primary_verdict": primary["verdict"]}


def _statistic_name(test: Test) -> str:
    """How the ledger names the statistic, e.g. 'ANCOVA: adjusted ratio MBPM/WL'."""
    ratio = test.outcome in outcomes.log_outcomes()
    t, c = _TREATED, _CONTROL
    if test.analysis == ANCOVA:
        return "ANCOVA, adjusted " + (f"ratio {t}/{c}" if ratio else f"difference {t} - {c}")
    if test.analysis in (PAIRED_MBPM, PAIRED_WL):
        arm = t if test.analysis == PAIRED_MBPM else c
        visits = f"{_DEFINITION.post.label.lower()}/{_DEFINITION.pre.label.lower()}"
        return f"paired t in {arm}, " + (f"ratio {visits}" if ratio else "mean change")
    if test.analysis == WELCH:
        return "Welch t, patients - controls"
    return f"Spearman rho of changes in {t}"


def ledger_table(ledger_frame: pd.DataFrame) -> pd.DataFrame:
    """The ledger with the book's column names (p-values stay numbers; pass
    ``p_columns=("p", "FDR p")`` to :func:`mbpm.tables.markdown`)."""
    return pd.DataFrame({
        "Claim": ledger_frame["claim"].astype(str) + ". " + ledger_frame["claim_text"],
        "Statistic": ledger_frame["statistic"], "Estimate (95 % CI)": ledger_frame["estimate"],
        "p": ledger_frame["p"], "FDR p": ledger_frame["p_fdr"],
        "Verdict": ledger_frame["verdict"]})
