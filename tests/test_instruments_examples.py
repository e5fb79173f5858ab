"""Worked answer patterns and the PROMIS-29 lookup tables, with expectations typed by hand.

Every expected value below is computed in the comment next to it from the published key
(instruments.md) or the PROMIS 4a table typed in this file, never from mbpm's output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mbpm.instruments import KEYS, SCORERS
from instruments_support import NAN, frame, numbered

# PROMIS-29 v2.0 4a raw sum 4..20 -> T-score, typed from instruments.md 1.3 (Physical Function:
# Table A; Pain Interference raw 20 = 75.6).
PROMIS_T = {
    "physical_function": [22.5, 26.6, 28.9, 30.5, 31.9, 33.2, 34.4, 35.6, 36.7, 37.9, 39.2, 40.5,
                          41.9, 43.5, 45.5, 48.3, 57.0],
    "anxiety": [40.3, 48.0, 51.2, 53.7, 55.8, 57.7, 59.5, 61.4, 63.4, 65.3, 67.3, 69.3, 71.2, 73.3,
                75.4, 77.9, 81.6],
    "depression": [41.0, 49.0, 51.8, 53.9, 55.7, 57.3, 58.9, 60.5, 62.2, 63.9, 65.7, 67.5, 69.4,
                   71.2, 73.3, 75.7, 79.4],
    "fatigue": [33.7, 39.7, 43.1, 46.0, 48.6, 51.0, 53.1, 55.1, 57.0, 58.8, 60.7, 62.7, 64.6, 66.7,
                69.0, 71.6, 75.8],
    "sleep_disturbance": [32.0, 37.5, 41.1, 43.8, 46.2, 48.4, 50.5, 52.4, 54.3, 56.1, 57.9, 59.8,
                          61.7, 63.8, 66.0, 68.8, 73.3],
    "social_roles": [27.5, 31.8, 34.0, 35.7, 37.3, 38.8, 40.5, 42.3, 44.2, 46.2, 48.1, 50.0, 51.9,
                     53.7, 55.8, 58.3, 64.2],
    "pain_interference": [41.6, 49.6, 52.0, 53.9, 55.6, 57.1, 58.5, 59.9, 61.2, 62.5, 63.8, 65.2,
                          66.6, 68.0, 69.7, 71.6, 75.6],
}
PREFIX = {"physical_function": "pf", "anxiety": "anx", "depression": "dep", "fatigue": "fat",
          "sleep_disturbance": "slp", "social_roles": "sr", "pain_interference": "pi"}


def answers_summing_to(raw: int) -> list[int]:
    """Four 1-5 answers with the given sum: fill items up to 5 in turn (13 -> 5, 5, 2, 1)."""
    answers, extra = [1, 1, 1, 1], raw - 4
    for i in range(4):
        add = min(4, extra)
        answers[i] += add
        extra -= add
    return answers


@pytest.mark.parametrize("domain", list(PROMIS_T))
def test_promis_every_raw_sum_maps_to_its_table_row(domain):
    rows = [numbered(f"promis_{PREFIX[domain]}", answers_summing_to(raw)) for raw in range(4, 21)]
    scores = SCORERS["promis29"](frame(*rows))
    assert scores[f"{domain}_raw"].tolist() == list(range(4, 21))
    assert scores[domain].tolist() == PROMIS_T[domain]


def test_promis_standard_errors_spot_checks():
    # SEs from instruments.md 1.3: PF raw 4 -> 4.0, raw 20 -> 6.6; PI raw 10 -> 1.8;
    # Sleep raw 12 -> 3.4.
    rows = [
        {**numbered("promis_pf", [1, 1, 1, 1]), **numbered("promis_pi", [3, 3, 2, 2]),
         **numbered("promis_slp", [3, 3, 3, 3])},
        numbered("promis_pf", [5, 5, 5, 5]),
    ]
    s = SCORERS["promis29"](frame(*rows))
    assert s["physical_function_se"].tolist() == [4.0, 6.6]
    assert s.loc[0, "pain_interference_se"] == 1.8
    assert s.loc[0, "sleep_disturbance_se"] == 3.4


def test_promis_worked_example_complete():
    row = {
        **numbered("promis_pf", [5, 4, 4, 3]),   # 16 -> 41.9
        **numbered("promis_anx", [1, 1, 1, 1]),  # 4 -> 40.3
        **numbered("promis_dep", [2, 2, 1, 1]),  # 6 -> 51.8
        **numbered("promis_fat", [3, 3, 3, 3]),  # 12 -> 57.0
        # sleep quality "Poor" is printed as 4 on the form and stored as 4 (no second reversal):
        **numbered("promis_slp", [4, 4, 3, 3]),  # 14 -> 57.9
        **numbered("promis_sr", [5, 5, 5, 5]),   # 20 -> 64.2 (printed 5 = "Never" has trouble)
        **numbered("promis_pi", [2, 3, 2, 3]),   # 10 -> 58.5
        "promis_painint": 6.0,                   # reported raw
    }
    s = SCORERS["promis29"](frame(row)).iloc[0]
    expected = {"physical_function": 41.9, "anxiety": 40.3, "depression": 51.8, "fatigue": 57.0,
                "sleep_disturbance": 57.9, "social_roles": 64.2, "pain_interference": 58.5,
                "pain_intensity": 6.0}
    assert s[list(expected)].to_dict() == expected


def test_promis_worked_example_proration():
    row = {
        **numbered("promis_pf", [4, 4, 5, NAN]),      # 13 * 4 / 3 = 17.33 -> up to 18 -> 45.5
        **numbered("promis_anx", [2, NAN, NAN, 3]),   # 5 * 4 / 2 = 10 -> 59.5
        **numbered("promis_dep", [1, NAN, NAN, NAN]), # 1 of 4 answered (< 2) -> missing
        **numbered("promis_fat", [5, 5, 5, 5]),       # 20 -> 75.8
        **numbered("promis_slp", [1, 1, 1, 2]),       # 5 -> 37.5
        **numbered("promis_sr", [3, 2, NAN, 2]),      # 7 * 4 / 3 = 9.33 -> 10 -> 40.5
        **numbered("promis_pi", [NAN] * 4),           # none answered -> missing
        "promis_painint": NAN,                        # unanswered -> missing
    }
    s = SCORERS["promis29"](frame(row)).iloc[0]
    assert s["physical_function_raw"] == 18 and s["physical_function"] == 45.5
    assert s["anxiety"] == 59.5 and s["fatigue"] == 75.8 and s["sleep_disturbance"] == 37.5
    assert s["social_roles_raw"] == 10 and s["social_roles"] == 40.5
    assert np.isnan([s["depression"], s["pain_interference"], s["pain_intensity"]]).all()


def test_sfmpq_worked_examples():
    complete = {
        **numbered("mpq_", [2, 1, 0, 3, 1, 0, 0, 2, 1, 1, 0]),  # sensory 2+1+3+1+2+1+1 = 11
        **numbered("mpq_", [1, 0, 2, 0], start=12),             # affective 1+2 = 3
        "mpq_vas": 47.5, "mpq_ppi": 2,                          # total 11 + 3 = 14
    }
    partial = {
        # sensory: 6 of 11 answered (= half rounded up), 6 * 3 = 18, prorated 18 * 11 / 6 = 33
        **numbered("mpq_", [3, 3, 3, 3, 3, NAN, NAN, NAN, NAN, NAN, 3]),
        # affective: 1 of 4 answered (< 2) -> missing
        **numbered("mpq_", [NAN, NAN, NAN, 1], start=12),
        # total: 7 of 15 answered (< 8) -> missing; VAS unanswered -> missing; PPI 0
        "mpq_vas": NAN, "mpq_ppi": 0,
    }
    s = SCORERS["sfmpq"](frame(complete, partial))
    assert s.iloc[0].tolist() == [11, 3, 14, 47.5, 2]
    assert s.loc[1, "sensory"] == 33 and s.loc[1, "ppi"] == 0
    assert s.loc[1, ["affective", "total", "vas"]].isna().all()


def test_pam13_worked_examples():
    a = numbered("pam_", [3, 3, 3, 3, 2, 2, 3, 4, 4, 3, 3, 2, 3])  # 38 / 13 = 2.923077
    b = numbered("pam_", [4, 4, 4, 3, 3, 3, 2] + [NAN] * 6)         # 7 answered: 23 / 7 = 3.285714
    c = numbered("pam_", [4, 4, 4, 3, 3, 3] + [NAN] * 7)            # 6 answered (< 7) -> missing
    s = SCORERS["pam13"](frame(a, b, c))
    assert list(s.columns) == ["pam_mean_item_score"]  # no activation column in the data
    assert s["pam_mean_item_score"].iloc[:2].tolist() == pytest.approx([38 / 13, 23 / 7])
    assert np.isnan(s["pam_mean_item_score"].iloc[2])


def test_pam13_activation_levels_current_insignia_cut_points():
    # Levels: 1 <= 47.0 < 2 <= 55.1 < 3 <= 72.4 < 4 (SRAlab / Insignia). Scores pass through.
    scores = [0.0, 47.0, 47.1, 55.1, 55.2, 72.4, 72.5, 100.0, NAN]
    s = SCORERS["pam13"](frame(*({"pam_activation": x} for x in scores)))
    assert s["pam_activation"].iloc[:8].tolist() == scores[:8]
    assert s["pam_activation_level"].iloc[:8].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert pd.isna(s["pam_activation_level"].iloc[8])
    assert KEYS["pam13"].derived_value("pam_activation_level").apply(pd.Series([67.1])).iloc[0] == 3  # not the older 67.1 split


def test_pcs_worked_examples():
    a = numbered("pcs_", [2, 3, 1, 2, 2, 1, 0, 3, 3, 2, 2, 2, 1])
    # rumination 8-11: 3+3+2+2 = 10; magnification 6,7,13: 1+0+1 = 2;
    # helplessness 1-5,12: 2+3+1+2+2+2 = 12; total 10+2+12 = 24 -> not clinical
    b = numbered("pcs_", [3, 3, 3, 3] + [2] * 9)
    # all 2 = 26, items 1-4 at 3 add 4 -> total 30 (clinical: >= 30); rumination 8;
    # magnification 6; helplessness 3*4 + 2 + 2 = 16
    c = numbered("pcs_", [3, 3, 3, 2] + [2] * 9)  # total 29 -> not clinical
    d = numbered("pcs_", [NAN] * 7 + [4, 4, NAN, NAN, NAN, NAN])
    # rumination: 2 of 4 answered, 8 * 4 / 2 = 16; total: 2 of 13 (< 7) -> missing, flag NA
    s = SCORERS["pcs"](frame(a, b, c, d))
    cols = ["total", "rumination", "magnification", "helplessness"]
    assert s.loc[0, cols].tolist() == [24, 10, 2, 12]
    assert s.loc[1, cols].tolist() == [30, 8, 6, 16]
    assert s.loc[2, "total"] == 29
    assert s["clinical_catastrophizing"].iloc[:3].tolist() == [False, True, False]
    assert s.loc[3, "rumination"] == 16 and np.isnan(s.loc[3, "total"])
    assert pd.isna(s.loc[3, "clinical_catastrophizing"])


def test_bdi2_worked_examples():
    a = numbered("bdi_", [1, 0, 1, 2, 1, 0, 1, 1, 0, 1, 2, 1, 1, 1, 2, 1, 1, 0, 1, 2, 0])
    # 1+0+1+2+1+0+1+1+0+1 = 8; +2+1+1+1+2 = 15; +1+1+0+1+2+0 = 20 -> moderate; item 9 = 0
    b = {**numbered("bdi_", [0] * 21), "bdi_1": 3, "bdi_2": 3, "bdi_4": 3, "bdi_7": 3, "bdi_9": 1}
    # 3+3+3+3+1 = 13 -> minimal; item 9 = 1 -> flagged
    c = {**numbered("bdi_", [1] * 21), "bdi_9": NAN}
    # 20 answered, sum 20, prorated 20 * 21 / 20 = 21 -> moderate; item 9 unanswered -> flag NA
    s = SCORERS["bdi2"](frame(a, b, c))
    assert s["total"].tolist() == [20, 13, 21]
    assert s["severity"].astype(str).tolist() == ["moderate", "minimal", "moderate"]
    assert s["item9_flag"].iloc[:2].tolist() == [False, True] and pd.isna(s["item9_flag"].iloc[2])


def test_bdi2_severity_band_edges():
    # Manual: 0-13 minimal, 14-19 mild, 20-28 moderate, 29-63 severe.
    totals = pd.Series([0, 13, 14, 19, 20, 28, 29, 63, NAN])
    bands = KEYS["bdi2"].derived_value("severity").apply(totals)
    assert bands.iloc[:8].astype(str).tolist() == ["minimal", "minimal", "mild", "mild",
                                                   "moderate", "moderate", "severe", "severe"]
    assert pd.isna(bands.iloc[8])


def test_maia_worked_examples():
    a = numbered("maia_", [3, 4, 2, 3,            # noticing (3+4+2+3)/4 = 3.0
                           4, 5, 3,               # not-distracting 5-x: 1, 0, 2 -> 1.0
                           1, 2, 4,               # not-worrying 5-1, 5-2, 4 -> 11/3
                           2, 3, 3, 2, 4, 3, 4,   # attention regulation 21/7 = 3.0
                           5, 4, 4, 5, 2,         # emotional awareness 20/5 = 4.0
                           1, 2, 3, 2,            # self-regulation 8/4 = 2.0
                           0, 1, 2,               # body listening 3/3 = 1.0
                           5, 5, 4])              # trusting 14/3
    b = {**numbered("maia_", [2] * 32),
         "maia_5": 5, "maia_6": NAN, "maia_7": NAN,    # not-distracting: 1 of 3 (< 2) -> missing
         "maia_8": NAN, "maia_9": 0, "maia_10": 5}     # not-worrying: 5-0, 5 -> 5.0
    s = SCORERS["maia"](frame(a, b))
    assert s.iloc[0].tolist() == pytest.approx([3.0, 1.0, 11 / 3, 3.0, 4.0, 2.0, 1.0, 14 / 3])
    assert np.isnan(s.loc[1, "not_distracting"]) and s.loc[1, "not_worrying"] == 5.0
    assert s.loc[1, "noticing"] == 2.0 and s.loc[1, "trusting"] == 2.0


def test_ffmq_worked_examples():
    a = numbered("ffmq_", [4] * 39)
    # non-reversed 4, reversed 6-4 = 2. observing 8*4 = 32; describing 5*4 + 3*2 = 26;
    # acting (all reversed) 16; non-judging (all reversed) 16; non-reactivity 7*4 = 28;
    # total 20*4 + 19*2 = 118 (= 32+26+16+16+28)
    b = numbered("ffmq_", [5 if i % 2 else 1 for i in range(1, 40)])  # odd items 5, even 1
    # observing 1,11,15,31 -> 5 each (20); 6,20,26,36 -> 1 each (4): 24
    # describing 2:1, 7:5, 12R:6-1=5, 16R:5, 22R:5, 27:5, 32:1, 37:5 = 32
    # acting 5R:1, 8R:5, 13R:1, 18R:5, 23R:1, 28R:5, 34R:5, 38R:5 = 28
    # non-judging 3R:1, 10R:5, 14R:5, 17R:1, 25R:1, 30R:5, 35R:1, 39R:1 = 20
    # non-reactivity 4:1, 9:5, 19:5, 21:5, 24:1, 29:5, 33:5 = 27; total 24+32+28+20+27 = 131
    c = {**numbered("ffmq_", [3] * 39), "ffmq_4": NAN, "ffmq_9": NAN, "ffmq_19": NAN}
    # non-reactivity: 4 of 7 answered, 4*3 = 12, prorated 12 * 7 / 4 = 21
    s = SCORERS["ffmq"](frame(a, b, c))
    facets = ["observing", "describing", "acting_with_awareness", "nonjudging", "nonreactivity",
              "total"]
    assert s.loc[0, facets].tolist() == [32, 26, 16, 16, 28, 118]
    assert s.loc[1, facets].tolist() == [24, 32, 28, 20, 27, 131]
    assert s.loc[2, "nonreactivity"] == 21
