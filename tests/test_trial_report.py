"""The trial report's pieces from hand-made inputs: the CONSORT flow boxes and their drawing,
the estimands and the analysis register (mbpm.trial_report)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import fields
from types import SimpleNamespace

import pandas as pd
import pytest

from mbpm import analysis, study, trial_report
from mbpm.literal import visible

NB = "\u00a0"
COUNTS = pd.DataFrame(
    [("assessed", "", "", 40), ("excluded", "", "too young", 6), ("excluded", "", "declined", 4),
     ("enrolled", "patients", "", 30), ("allocated", "MBPM", "", 16),
     ("lost", "MBPM", "moved away", 3), ("analysed", "MBPM", "completed week 8", 13),
     ("allocated", "WL", "", 14), ("analysed", "WL", "completed week 8", 14),
     ("enrolled", "HC", "healthy controls", 9)],
    columns=["stage", "group", "reason", "count"])


def fake_results() -> SimpleNamespace:
    """Results of two outcomes: the ANCOVA used 12 of the 13 MBPM completers for oxytocin and 11
    for pain; 16 MBPM and 14 WL participants have some oxytocin value, 15 MBPM some pain value;
    the baseline comparison used 9 and 8 healthy controls."""
    ancova = pd.DataFrame({"outcome": ["oxytocin", "sfmpq.total"], "n_mbpm": [12, 11],
                           "n_wl": [14, 14]})
    long = pd.DataFrame(
        [(f"M{i}", "MBPM", "oxytocin", 1.0) for i in range(16)]
        + [(f"M{i}", "MBPM", "sfmpq.total", 1.0 if i < 15 else None) for i in range(16)]
        + [(f"W{i}", "WL", o, 1.0) for i in range(14) for o in ("oxytocin", "sfmpq.total")],
        columns=["participant_id", "group", "outcome", "value"])
    return SimpleNamespace(ancova=ancova, long=long, baseline=pd.DataFrame({"n_hc": [9, 8]}))


def lines(box: trial_report.Box) -> list[str]:
    return [line.replace(NB, " ") for line in box.lines]


def test_flow_boxes_carry_the_counts_of_every_stage():
    boxes = trial_report.flow_boxes(COUNTS, fake_results())
    assert lines(boxes["assessed"]) == ["Assessed for eligibility (n = 40)"]
    assert lines(boxes["excluded"]) == ["Excluded (n = 10)", "• too young (n = 6)",
                                        "• declined (n = 4)"]
    assert lines(boxes["allocated"])[0] == "Allocated (n = 30)"
    assert lines(boxes["allocated MBPM"])[0] == "Allocated to MBPM course (n = 16)"
    assert lines(boxes["lost MBPM"]) == ["Lost to follow-up (n = 3)", "• moved away (n = 3)",
                                         "Completed week 8 (n = 13)"]
    assert lines(boxes["lost WL"]) == ["Lost to follow-up (n = 0)", "Completed week 8 (n = 14)"]
    assert lines(boxes["analysed MBPM"]) == [
        "Analysed, primary outcome (n = 12)", "excluded: 1 (a missing sample)",
        "Completers' analyses (n = 11–12)", "excluded: 1–2 (a missing value)",
        "Mixed model, everyone with data (n = 15–16)"]
    assert lines(boxes["analysed WL"])[1] == "excluded: 0 (a missing sample)"
    assert lines(boxes["reference"])[0] == "Healthy controls (n = 9)"
    assert lines(boxes["reference"])[1].endswith("analysed at baseline (n = 8–9)")


def test_the_drawing_keeps_folder_text_literal_and_is_valid_svg():
    reason = '</text><script>alert(1)</script>\nnext & "more"'
    counts = COUNTS.copy()
    counts.loc[counts["reason"] == "moved away", "reason"] = reason
    figure = trial_report.ConsortFigure(trial_report.flow_boxes(counts, fake_results()))
    for width, svg in figure.svg.items():
        root = ET.fromstring(svg)  # well-formed XML: nothing in the data closed an element
        assert root.get("width") == str(width)
        text = "".join(root.itertext())
        assert visible(reason, 60).split(" ")[0] in text
        assert "<script" not in svg and "\n" not in text
    assert "<script" not in figure.html()


def test_every_line_fits_its_box():
    boxes = trial_report.flow_boxes(COUNTS, fake_results())
    font = trial_report._font(), trial_report._font(bold=True)
    for width in (trial_report.NARROW, trial_report.WIDE):
        column = (width - 12) / 2
        for box in boxes.values():
            for text, bold in trial_report._box_lines(box, column):
                assert font[bold].getlength(text) <= column - 2 * trial_report.PAD, text


def test_the_narrow_drawing_fits_a_phone():
    assert trial_report.NARROW <= 358  # the text column of a 390 px window (test_browser PHONE)


@pytest.mark.parametrize("text, width", [("a b c d e f", 20), ("one-very-long-word here", 30)])
def test_wrap_keeps_every_word_in_order(text: str, width: float):
    assert " ".join(trial_report.wrap(text, width)).split() == text.split()


def test_one_estimand_per_family_with_its_summary_measure():
    definition = study.default()
    frame = trial_report.estimands(definition).set_index("Family")
    assert list(frame.index) == list(definition.family_order)
    assert frame.loc[definition.biomarker_family, "Population-level summary"].startswith(
        "ratio of geometric means")
    others = frame.drop(index=definition.biomarker_family)["Population-level summary"]
    assert others.str.startswith("difference in means").all()


def test_the_register_names_every_analysis_of_the_plan_and_the_two_added():
    planned = [f.name for f in fields(analysis.Results) if f.name != "long"]
    assert sorted(k for k, v in trial_report.ANALYSES.items() if v[2] == "plan") == sorted(planned)
    assert [k for k, v in trial_report.ANALYSES.items() if v[2] == "added"] == [
        "specifications", "design"]
    assert set(trial_report.WHERE) == set(trial_report.ANALYSES)


def test_the_plan_has_the_six_sections_of_gamble_et_al():
    sections = list(dict.fromkeys(trial_report.analysis_plan()["Section"]))
    assert sections == ["Administrative information", "Introduction", "Study methods",
                        "Statistical principles", "Trial population", "Analysis"]
    assert set(trial_report.analysis_plan()["Source"]) <= set(study.FACT_SOURCES.values())
