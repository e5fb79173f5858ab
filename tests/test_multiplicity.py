"""The plan's multiplicity step (issue 12): Benjamini-Hochberg once over the full result table,
within the definition's families; and result rows found by name (``Results.get``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from test_stats import FAMILIES, LOGS, make_long

import mbpm.stats as S
from mbpm import analysis
from mbpm.stats import names

RULE = "benjamini-hochberg within family, analysis and contrast"


@pytest.fixture(scope="module")
def arms() -> pd.DataFrame:
    long = make_long(5)
    return long.loc[long["group"] != "HC"]


def test_a_single_analysis_leaves_fdr_to_the_plan(arms):
    # Before issue 12 each test filled p_fdr over the outcomes of its own call, so a subset gave
    # other FDR p-values than the full plan.
    sub = S.ancova(arms.loc[arms["outcome"].isin(["oxytocin", "pain"])], FAMILIES, LOGS)
    assert len(sub) == 2 and sub["p_fdr"].isna().all()


def test_fdr_of_an_outcome_does_not_depend_on_the_subset_computed(arms):
    whole = S.adjust(S.ancova(arms, FAMILIES, LOGS)).set_index("outcome")
    first, rest = ["il6", "pcs"], ["oxytocin", "pain", "bdi"]
    parts = [S.ancova(arms.loc[arms["outcome"].isin(o)], FAMILIES, LOGS) for o in (first, rest)]
    for stacked in (pd.concat(parts), pd.concat(parts[::-1])):
        got = S.adjust(stacked).set_index("outcome")
        np.testing.assert_allclose(got.loc[whole.index, "p_fdr"], whole["p_fdr"], rtol=1e-12)


def test_fdr_matches_statsmodels_on_each_family(arms):
    table = S.adjust(pd.concat([S.ancova(arms, FAMILIES, LOGS),
                                S.within_group_tests(arms, FAMILIES, LOGS)]))
    checked = 0
    for _, fam in table.groupby(["family", "analysis", "contrast"]):
        np.testing.assert_allclose(fam["p_fdr"], multipletests(fam["p"], method="fdr_bh")[1],
                                   rtol=1e-12)
        checked += len(fam) > 1
    assert checked >= 4  # biomarkers and pain have two outcomes in each analysis


def test_fdr_by_hand():
    # m = 3 in family a: p 0.01, 0.04, 0.03 -> sorted 0.01, 0.03, 0.04; times 3/1, 3/2, 3/3 =
    # 0.03, 0.045, 0.04; made monotone from the top: 0.03, 0.04, 0.04. Family b alone: p itself.
    t = pd.DataFrame({"family": ["a", "a", "a", "b"], "analysis": "x", "contrast": "c",
                      "p": [0.01, 0.04, 0.03, 0.2]})
    assert S.adjust(t, RULE)["p_fdr"].tolist() == pytest.approx([0.03, 0.04, 0.04, 0.2])
    # Two analyses in family a: (a, x) has p 0.01, 0.03 -> 0.02, 0.03 (m = 2); (a, y) has 0.04
    # alone. A rule "within family" pools them again into the m = 3 family above.
    t2 = t.assign(analysis=["x", "y", "x", "x"])
    assert S.adjust(t2, RULE)["p_fdr"].tolist() == pytest.approx([0.02, 0.04, 0.03, 0.2])
    assert S.adjust(t2, "benjamini-hochberg within family")["p_fdr"].tolist() == pytest.approx(
        [0.03, 0.04, 0.04, 0.2])


def test_plan_rule_is_parsed_and_checked():
    assert S.multiplicity.family_keys(RULE) == ("family", "analysis", "contrast")
    with pytest.raises(ValueError, match="benjamini-hochberg within"):
        S.multiplicity.family_keys("bonferroni")
    with pytest.raises(ValueError, match="no column"):
        S.adjust(pd.DataFrame({"p": [0.1]}), "benjamini-hochberg within family")


def test_plan_applies_fdr_once_over_all_results(arms):
    fam = FAMILIES
    parts = {"ancova": S.ancova(arms, fam, LOGS), "within": S.within_group_tests(arms, fam, LOGS)}
    got = analysis.adjusted(parts)
    for name, part in parts.items():
        want = S.adjust(part)["p_fdr"].to_numpy()
        np.testing.assert_allclose(got[name]["p_fdr"], want, rtol=1e-12)


# --- Results.get -------------------------------------------------------------------------------

def _results(**frames: pd.DataFrame) -> analysis.Results:
    empty = pd.DataFrame(columns=list(S.RESULT_COLUMNS))
    fields = ("long", "baseline", "mixed_anova", "within", "ancova", "mixed_model",
              "nonparametric", "correlations")
    return analysis.Results(**{f: frames.get(f, empty) for f in fields})


def _row(outcome, analysis_name, contrast, estimate):
    return {"outcome": outcome, "family": "f", "analysis": analysis_name, "contrast": contrast,
            "n": 10, "estimate": estimate, "p": 0.5}


def test_get_finds_one_row_by_name():
    within = pd.DataFrame([_row("ox", names.PAIRED, names.within_contrast("MBPM"), 1.3),
                           _row("ox", names.PAIRED, names.within_contrast("WL"), 0.9),
                           _row("ox", names.WILCOXON, names.within_contrast("WL"), 0.8)])
    ancova = pd.DataFrame([_row("ox", names.ANCOVA, names.ANCOVA_CONTRAST, 1.5),
                           _row("il6", names.ANCOVA, names.ANCOVA_CONTRAST, 0.7)])
    res = _results(within=within, ancova=ancova)
    assert res.get(S.ANCOVA, "il6")["estimate"] == 0.7
    assert res.get(S.PAIRED, "ox", names.within_contrast("WL"))["estimate"] == 0.9
    assert res.rows(S.ANCOVA, ["il6", "ox"])["estimate"].tolist() == [0.7, 1.5]
    with pytest.raises(KeyError, match="several contrasts"):
        res.get(S.PAIRED, "ox")
    with pytest.raises(KeyError, match="for il8"):
        res.get(S.ANCOVA, "il8")
