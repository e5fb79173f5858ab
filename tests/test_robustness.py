"""Specification curves: completers, the standardizing SD by hand, the primary specification
against the book's own ANCOVA, and the agreement counts on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mbpm import analysis, io, outcomes, robustness, stats


def _long(rows):
    return pd.DataFrame(rows, columns=["participant_id", "group", "visit", "outcome", "value"])


def test_completers_keeps_people_with_both_visits_of_that_outcome():
    long = _long([("P1", "MBPM", "baseline", "a", 1), ("P1", "MBPM", "week8", "a", 2),
                  ("P1", "MBPM", "baseline", "b", 1), ("P2", "WL", "baseline", "a", 3),
                  ("P3", "HC", "baseline", "a", 3)])
    kept = robustness.completers(long)
    assert sorted(zip(kept["participant_id"], kept["outcome"])) == [("P1", "a"), ("P1", "a")]


def test_baseline_sd_is_the_pooled_within_arm_sd():
    # MBPM baselines 1, 3 (SS 2), WL baselines 2, 6 (SS 8): pooled SD = sqrt(10 / (4 - 2)).
    long = _long([("P1", "MBPM", "baseline", "a", 1), ("P2", "MBPM", "baseline", "a", 3),
                  ("P3", "WL", "baseline", "a", 2), ("P4", "WL", "baseline", "a", 6),
                  ("P4", "WL", "week8", "a", 60)])
    assert robustness._baseline_sd(long, log=False)["a"] == pytest.approx(np.sqrt(5))
    # log scale: SS = (ln 3 - ln 1)^2 / 2 + (ln 6 - ln 2)^2 / 2 = ln(3)^2
    assert robustness._baseline_sd(long, log=True)["a"] == pytest.approx(
        np.sqrt(np.log(3) ** 2 / 2))


@pytest.fixture(scope="module")
def specs():
    return robustness.specifications(io.load_study(), headline=("oxytocin", "bdi2.total"))


def test_every_specification_is_there(specs):
    counts = specs.groupby("outcome").size()
    # biomarker: 4 tests x 2 scales x 2 LLOQ rules; questionnaire: 4 tests
    assert counts["oxytocin"] == 16 and counts["bdi2.total"] == 4
    assert specs.groupby("outcome")["primary"].sum().tolist() == [1, 1]
    assert not specs.duplicated(["outcome", "spec"]).any()


def test_primary_specification_is_the_books_ancova(specs):
    study = io.load_study()
    long = analysis.outcome_table(study)
    arms = long[long["outcome"].isin(["oxytocin", "bdi2.total"])]
    ref = stats.ancova(arms, outcomes.families(), outcomes.log_outcomes()).set_index("outcome")
    prim = specs[specs["primary"]].set_index("outcome")
    for o in ("oxytocin", "bdi2.total"):
        assert prim.at[o, "estimate"] == pytest.approx(ref.at[o, "estimate"])
        assert prim.at[o, "p"] == pytest.approx(ref.at[o, "p"])


def test_missing_below_lloq_drops_samples_only_when_some_are_below(specs):
    study = io.load_study()
    below = study.biomarkers.query("analyte == 'oxytocin' and flag == 'below_lloq'")
    ox = specs[(specs["outcome"] == "oxytocin") & (specs["test"] == "ANCOVA")
               & (specs["scale"] == "log")].set_index("below_lloq")["n"]
    assert (ox["missing"] < ox["half_lloq"]) == (len(below) > 0)


def test_agreement_counts_by_hand():
    specs = pd.DataFrame({
        "outcome": ["a"] * 4, "label": "A", "estimate_std": [0.5, 0.2, -0.1, 0.4],
        "p": [0.01, 0.30, 0.04, 0.20], "primary": [True, False, False, False]})
    row = robustness.agreement(specs).iloc[0]
    assert (row["specs"], row["same_direction"], row["significant"]) == (4, 3, 2)
    assert row["primary_std"] == 0.5 and row["primary_p"] == 0.01


def test_changed_conclusions_lists_specifications_that_flip_significance():
    specs = pd.DataFrame({
        "outcome": ["a"] * 4 + ["b"] * 2, "label": ["A"] * 4 + ["B"] * 2,
        "spec": ["primary", "s1", "s2", "s3", "primary", "s4"],
        "estimate_std": [0.2, 0.5, 0.1, -0.3, -0.6, 0.4],
        "p": [0.30, 0.01, 0.40, 0.20, 0.001, 0.02],
        "primary": [True, False, False, False, True, False]})
    changed = robustness.changed_conclusions(specs, alpha=0.05)
    assert changed[["outcome", "spec", "change"]].values.tolist() == [
        ["a", "s1", "significant where the primary is not"],
        ["b", "s4", "significant the other way"]]
    text = robustness.changed_conclusions_text(changed).replace("\u00a0", " ")  # no-break spaces
    assert text.startswith("for A, s1 is significant where the primary is not (p = 0.010; "
                           "primary p = 0.300) and for B, s4")
    assert robustness.changed_conclusions_text(changed.iloc[:0]) == \
        "no specification changes a conclusion"
