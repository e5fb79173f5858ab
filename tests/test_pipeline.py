"""The glue between loading and the statistics: outcome catalogue, analysis table, export."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from mbpm import analysis, assays, export, outcomes, report, stats
from mbpm.io import load_study


@pytest.fixture(scope="module")
def study():
    return load_study()


# The plan's families (the statistical plan (methods chapter), "Outcome families for multiplicity"), typed here.
PLAN = {
    "biomarkers": {"oxytocin", "il1b", "il6", "il8", "tnfa", "dheas"},
    "pain": {"promis29.pain_interference", "promis29.pain_intensity", "sfmpq.sensory",
             "sfmpq.affective", "sfmpq.total", "sfmpq.vas", "sfmpq.ppi", "pcs.total",
             "pcs.rumination", "pcs.magnification", "pcs.helplessness"},
    "mood": {"bdi2.total", "promis29.anxiety", "promis29.depression", "promis29.fatigue",
             "promis29.sleep_disturbance"},
    "function and activation": {"promis29.physical_function", "promis29.social_roles",
                                "pam13.pam_mean_item_score", "pam13.pam_activation"},
    "mindfulness and interoception": {
        "ffmq.observing", "ffmq.describing", "ffmq.acting_with_awareness", "ffmq.nonjudging",
        "ffmq.nonreactivity", "ffmq.total", "maia.noticing", "maia.not_distracting",
        "maia.not_worrying", "maia.attention_regulation", "maia.emotional_awareness",
        "maia.self_regulation", "maia.body_listening", "maia.trusting"},
}


def test_catalogue_follows_the_plan_families():
    by_family: dict[str, set[str]] = {}
    for outcome, family in outcomes.families().items():
        by_family.setdefault(family, set()).add(outcome)
    assert by_family == PLAN
    assert set(by_family) == set(stats.FAMILIES)


def test_only_biomarkers_are_log_scale():
    assert set(outcomes.log_outcomes()) == PLAN["biomarkers"]


def test_analysis_table_shape_and_groups(study):
    long = analysis.outcome_table(study)
    assert list(long.columns) == ["participant_id", "group", "visit", "outcome", "value"]
    assert not long.duplicated(["participant_id", "visit", "outcome"]).any()
    assert set(long.loc[long["group"] == "HC", "visit"]) == {"baseline"}
    assert long["value"].notna().all()
    groups = study.participants.set_index("participant_id")["group"]
    assert (long["group"] == long["participant_id"].map(groups)).all()


def test_analysis_table_applies_the_censoring_option(study):
    below = study.biomarkers[study.biomarkers["flag"] == "below_lloq"].iloc[0]
    key = (below["participant_id"], below["visit"], below["analyte"])

    def value(option: str) -> pd.Series:
        long = analysis.outcome_table(study, below_lloq=option).set_index(
            ["participant_id", "visit", "outcome"])["value"]
        return long.get(key)

    # Reported at the limit (times dilution); half of it by default, absent when "missing".
    assert value("half_lloq") == pytest.approx(below["concentration"] / 2)
    assert value("missing") is None


def test_results_table_covers_every_outcome_and_analysis(study):
    results = analysis.run(study)
    table = results.table()
    assert list(table.columns[:len(stats.RESULT_COLUMNS)]) == list(stats.RESULT_COLUMNS)
    present = set(outcomes.analysis_table(study.participants, study.scores,
                                          study.biomarkers)["outcome"])
    for field in dataclasses.fields(results):
        if field.name in {"long", "correlations"}:
            continue
        frame = getattr(results, field.name)
        assert set(frame["outcome"]) == present, field.name
    assert set(results.correlations["outcome"]) == set(analysis.INTERPLAY_OUTCOMES)


def test_export_writes_the_three_files(study, tmp_path):
    paths = export.export(None, tmp_path)
    scores = pd.read_csv(paths["scores.csv"])
    assert list(scores.columns) == export.SCORE_COLUMNS and len(scores) == len(study.scores)
    markers = pd.read_csv(paths["biomarkers.csv"], keep_default_na=False)
    assert list(markers.columns) == list(assays.BIOMARKER_COLUMNS)
    assert set(markers["flag"]) <= {"", "below_lloq", "above_uloq", "high_cv"}
    results = pd.read_csv(paths["results.csv"])
    assert {"ANCOVA", "Welch t-test"} <= {a.split(" (")[0] for a in results["analysis"]}


def test_data_notice_names_the_seed_or_the_folder(study):
    simulated = report.data_notice(study).data
    assert "Simulated data" in simulated and str(study.simulation["seed"]) in simulated
    real = report.data_notice(dataclasses.replace(study, simulation=None)).data
    assert "simulated" not in real.lower() and "data" in real
