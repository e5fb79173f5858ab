"""Scoring keys checked against the published keys, typed here (not imported from mbpm).

Sources (see /work/shared/reference/instruments.md): PROMIS-29 4a item order (HealthMeasures
profile guide); SF-MPQ Melzack 1987 (1-11 sensory, 12-15 affective); PAM-13 Hibbard 2005; PCS
Sullivan 1995 (rumination 8-11, magnification 6, 7, 13, helplessness 1-5, 12); BDI-II Beck 1996;
MAIA v1 Mehling 2012 official form (reverse 5, 6, 7, 8, 9); FFMQ-39 Baer 2006 (19 reversed).
"""

from __future__ import annotations

import re
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from mbpm.errors import DataError
from mbpm.instruments import KEYS, SCORERS, instrument_table, scale_table, score_all
from mbpm.instruments.items import ITEM_SETS
from instruments_support import NAN, frame, middle_row


def cols(prefix: str, *numbers: int) -> frozenset[str]:
    return frozenset(f"{prefix}{i}" for i in numbers)


R = range  # brevity in the typed keys below

# instrument -> scale -> (items, items the SCORER reverses). PROMIS items reversed on the form
# are stored already reversed (the data contract, shown in the data chapter), so the scorer reverses nothing there.
PUBLISHED: dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "promis29": {
        "physical_function": (cols("promis_pf", 1, 2, 3, 4), frozenset()),
        "anxiety": (cols("promis_anx", 1, 2, 3, 4), frozenset()),
        "depression": (cols("promis_dep", 1, 2, 3, 4), frozenset()),
        "fatigue": (cols("promis_fat", 1, 2, 3, 4), frozenset()),
        "sleep_disturbance": (cols("promis_slp", 1, 2, 3, 4), frozenset()),
        "social_roles": (cols("promis_sr", 1, 2, 3, 4), frozenset()),
        "pain_interference": (cols("promis_pi", 1, 2, 3, 4), frozenset()),
        "pain_intensity": (frozenset({"promis_painint"}), frozenset()),
    },
    "sfmpq": {
        "sensory": (cols("mpq_", *R(1, 12)), frozenset()),
        "affective": (cols("mpq_", 12, 13, 14, 15), frozenset()),
        "total": (cols("mpq_", *R(1, 16)), frozenset()),
        "vas": (frozenset({"mpq_vas"}), frozenset()),
        "ppi": (frozenset({"mpq_ppi"}), frozenset()),
    },
    "pam13": {"pam_mean_item_score": (cols("pam_", *R(1, 14)), frozenset())},
    "pcs": {
        "total": (cols("pcs_", *R(1, 14)), frozenset()),
        "rumination": (cols("pcs_", 8, 9, 10, 11), frozenset()),
        "magnification": (cols("pcs_", 6, 7, 13), frozenset()),
        "helplessness": (cols("pcs_", 1, 2, 3, 4, 5, 12), frozenset()),
    },
    "bdi2": {"total": (cols("bdi_", *R(1, 22)), frozenset())},
    "maia": {
        "noticing": (cols("maia_", 1, 2, 3, 4), frozenset()),
        "not_distracting": (cols("maia_", 5, 6, 7), cols("maia_", 5, 6, 7)),
        "not_worrying": (cols("maia_", 8, 9, 10), cols("maia_", 8, 9)),
        "attention_regulation": (cols("maia_", *R(11, 18)), frozenset()),
        "emotional_awareness": (cols("maia_", *R(18, 23)), frozenset()),
        "self_regulation": (cols("maia_", 23, 24, 25, 26), frozenset()),
        "body_listening": (cols("maia_", 27, 28, 29), frozenset()),
        "trusting": (cols("maia_", 30, 31, 32), frozenset()),
    },
    "ffmq": {
        "observing": (cols("ffmq_", 1, 6, 11, 15, 20, 26, 31, 36), frozenset()),
        "describing": (cols("ffmq_", 2, 7, 12, 16, 22, 27, 32, 37), cols("ffmq_", 12, 16, 22)),
        "acting_with_awareness": (
            cols("ffmq_", 5, 8, 13, 18, 23, 28, 34, 38),
            cols("ffmq_", 5, 8, 13, 18, 23, 28, 34, 38),
        ),
        "nonjudging": (
            cols("ffmq_", 3, 10, 14, 17, 25, 30, 35, 39),
            cols("ffmq_", 3, 10, 14, 17, 25, 30, 35, 39),
        ),
        "nonreactivity": (cols("ffmq_", 4, 9, 19, 21, 24, 29, 33), frozenset()),
        "total": (
            cols("ffmq_", *R(1, 40)),
            cols("ffmq_", 3, 5, 8, 10, 12, 13, 14, 16, 17, 18, 22, 23, 25, 28, 30, 34, 35, 38, 39),
        ),
    },
}

# Published score ranges (min, max). PROMIS: first and last rows of the 4a tables (reference 1.3).
PUBLISHED_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "promis29": {
        "physical_function": (22.5, 57.0), "anxiety": (40.3, 81.6), "depression": (41.0, 79.4),
        "fatigue": (33.7, 75.8), "sleep_disturbance": (32.0, 73.3), "social_roles": (27.5, 64.2),
        "pain_interference": (41.6, 75.6), "pain_intensity": (0, 10),
    },
    "sfmpq": {"sensory": (0, 33), "affective": (0, 12), "total": (0, 45), "vas": (0, 100),
              "ppi": (0, 5)},
    "pam13": {"pam_mean_item_score": (1, 4)},
    "pcs": {"total": (0, 52), "rumination": (0, 16), "magnification": (0, 12),
            "helplessness": (0, 24)},
    "bdi2": {"total": (0, 63)},
    "maia": {s: (0, 5) for s in PUBLISHED["maia"]},
    "ffmq": {"observing": (8, 40), "describing": (8, 40), "acting_with_awareness": (8, 40),
             "nonjudging": (8, 40), "nonreactivity": (7, 35), "total": (39, 195)},
}

# Published response range of each instrument's rated items (the data contract / the forms).
ITEM_RANGE = {"promis29": (1, 5), "sfmpq": (0, 3), "pam13": (1, 4), "pcs": (0, 4),
              "bdi2": (0, 3), "maia": (0, 5), "ffmq": (1, 5)}

INSTRUMENTS = list(PUBLISHED)


def instrument_items(name: str) -> list[str]:
    return sorted({c for items, _ in PUBLISHED[name].values() for c in items})


def test_every_instrument_and_scale_has_a_published_key():
    assert set(KEYS) == set(PUBLISHED)
    for name, key in KEYS.items():
        required = {s.name for s in key.scales if not s.optional}
        assert required == set(PUBLISHED[name]), name


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_key_data_matches_published_key(name):
    """The key the methods table renders lists the published items and reversals."""
    for scale, (items, rev) in PUBLISHED[name].items():
        s = KEYS[name].scale(scale)
        assert (frozenset(s.items), frozenset(s.reversed)) == (items, rev), scale


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_each_item_moves_exactly_its_scales_in_the_keyed_direction(name):
    """Perturb one item at a time by one step from a middle pattern: the scales that move are
    exactly those whose published key contains the item, upward unless the item is reversed."""
    base_row = middle_row()
    rows = [{}]
    perturbed = instrument_items(name)
    for c in perturbed:
        step = 1.0 if base_row[c] + 1 <= _item_max(c) else -1.0
        rows.append({c: base_row[c] + step})
    scores = SCORERS[name](frame(*rows))
    for i, c in enumerate(perturbed, start=1):
        step = rows[i][c] - base_row[c]
        for scale, (items, rev) in PUBLISHED[name].items():
            change = scores[scale].iloc[i] - scores[scale].iloc[0]
            if c not in items:
                assert change == 0, (c, scale)
            else:
                expected_sign = step * (-1 if c in rev else 1)
                assert np.sign(change) == expected_sign, (c, scale, change)


def _item_max(column: str) -> float:
    return next(s.maximum for s in ITEM_SETS if column in s.columns)


def _extreme_pattern(name: str, low: bool) -> dict[str, float]:
    """Answers that minimise (low) or maximise every scale: reversed items at the other end."""
    reversed_items = {c for _, rev in PUBLISHED[name].values() for c in rev}
    single = {"promis_painint": (0, 10), "mpq_vas": (0, 100), "mpq_ppi": (0, 5)}
    pattern = {}
    for c in instrument_items(name):
        lo, hi = single.get(c, ITEM_RANGE[name])
        at_low = low != (c in reversed_items)
        pattern[c] = float(lo if at_low else hi)
    return pattern


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_min_and_max_patterns_give_published_ranges(name):
    scores = SCORERS[name](frame(_extreme_pattern(name, True), _extreme_pattern(name, False)))
    for scale, (lo, hi) in PUBLISHED_RANGES[name].items():
        assert scores[scale].tolist() == pytest.approx([lo, hi]), scale
        assert KEYS[name].scale(scale).range == pytest.approx((lo, hi)), scale


# -- out-of-range answers ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("promis_pf2", 6, "from 1 to 5"),
        ("promis_slp1", 0, "from 1 to 5"),
        ("promis_painint", 11, "from 0 to 10"),
        ("mpq_4", 4, "from 0 to 3"),
        ("mpq_vas", 100.5, "from 0 to 100"),
        ("mpq_ppi", -1, "from 0 to 5"),
        ("pam_3", 5, "from 1 to 4"),
        ("pam_3", 0, "from 1 to 4"),
        ("pcs_13", 5, "from 0 to 4"),
        ("bdi_16", 4, "from 0 to 3"),
        ("maia_7", 6, "from 0 to 5"),
        ("ffmq_39", 0, "from 1 to 5"),
        ("pcs_2", 2.5, "an integer from 0 to 4"),
        ("pam_activation", 100.5, "a number from 0 to 100"),
    ],
)
def test_out_of_range_answers_are_rejected(column, value, expected):
    name = next(s.instrument for s in ITEM_SETS if column in s.columns)
    data = frame({}, {column: value})
    with pytest.raises(DataError) as err:
        SCORERS[name](data)
    message = str(err.value)
    assert f"column {column}" in message and expected in message
    assert "row 1 (P002, baseline)" in message and f"got {value:g}" in message


def test_non_numeric_answer_is_rejected_and_text_numbers_accepted():
    data = frame({}, {})
    data["pcs_1"] = pd.array(["2", "often"], dtype="str")
    with pytest.raises(DataError, match=r"row 1 \(P002, baseline\), column pcs_1: expected a number"):
        SCORERS["pcs"](data)
    data["pcs_1"] = pd.array(["2", ""], dtype="str")  # empty cell = unanswered
    assert SCORERS["pcs"](data)["rumination"].notna().all()


def test_missing_item_column_is_rejected():
    with pytest.raises(DataError, match="missing column.*maia_12"):
        SCORERS["maia"](frame({}).drop(columns="maia_12"))


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_scores_keep_the_input_index(name):
    data = frame({}, {}, {})
    data.index = pd.Index(["b", "a", "b"], name="row")
    assert SCORERS[name](data).index.equals(data.index)


def test_decimal_vas_is_accepted():
    assert SCORERS["sfmpq"](frame({"mpq_vas": 47.5}))["vas"].iloc[0] == 47.5


# -- score_all ---------------------------------------------------------------------------------

def test_score_all_long_format_and_counts():
    # A complete row has 8 + 5 + 1 + 4 + 1 + 8 + 6 = 33 scales (no pam_activation column).
    long = score_all(frame({}, {"visit": "week8"}))
    assert list(long.columns) == ["participant_id", "visit", "instrument", "scale", "value"]
    assert len(long) == 66
    assert long.groupby(["participant_id", "visit"]).size().tolist() == [33, 33]
    assert long["value"].dtype == np.float64
    assert long[["participant_id", "visit", "instrument", "scale"]].duplicated().sum() == 0
    assert list(dict.fromkeys(long["instrument"])) == list(KEYS)


def test_score_all_leaves_missing_scales_absent():
    # Row 2: PCS rumination has 1 of 4 items answered (< 2): no rumination row for P002, while
    # the PCS total (10 of 13 answered >= 7) is still scored.
    long = score_all(frame({}, {"pcs_8": NAN, "pcs_9": NAN, "pcs_10": NAN}))
    p2 = long[long["participant_id"] == "P002"]
    assert "rumination" not in set(p2.loc[p2["instrument"] == "pcs", "scale"])
    assert len(p2) == 32
    assert not long["value"].isna().any()


def test_score_all_values_match_instrument_scorers():
    data = frame({"pcs_1": 4, "ffmq_3": 1}, {"maia_5": 0})
    long = score_all(data).set_index(["participant_id", "instrument", "scale"])["value"]
    for name, scorer in SCORERS.items():
        wide = scorer(data)
        for scale in PUBLISHED[name]:
            for i, pid in enumerate(data["participant_id"]):
                assert long[(pid, name, scale)] == wide[scale].iloc[i]


def test_score_all_passes_pam_activation_only_when_present():
    data = frame({"pam_activation": 61.3}, {"pam_activation": NAN})
    long = score_all(data)
    pam = long[long["scale"] == "pam_activation"]
    assert pam[["participant_id", "value"]].values.tolist() == [["P001", 61.3]]


def test_score_all_needs_participant_and_visit():
    with pytest.raises(DataError, match="visit"):
        score_all(frame({}).drop(columns="visit"))


# -- the book's tables and bibliography ------------------------------------------------------

def test_instrument_table_has_one_row_per_instrument_with_the_chapter_columns():
    table = instrument_table()
    assert list(table.columns) == ["instrument", "measures", "items", "scales", "range",
                                   "direction", "missing_item_rule", "reference"]
    assert len(table) == 7 and table.notna().all().all()
    promis = table.iloc[0]
    assert promis["items"] == "29 (28 × 1–5, 1 × 0–10)"
    assert "Physical function (T) 22.5–57" in promis["range"]
    assert "Physical function (T): higher = better" in promis["direction"]
    assert table.iloc[6]["direction"] == "higher = better"  # FFMQ: every facet


def test_scale_table_marks_reversed_items():
    table = scale_table().set_index(["instrument", "scale"])
    assert table.loc[("maia", "not_worrying"), "items"] == "8R, 9R, 10"
    assert table.loc[("ffmq", "describing"), "items"] == "2, 7, 12R, 16R, 22R, 27, 32, 37"
    assert table.loc[("pcs", "helplessness"), "min_answered"] == 3  # half of 6


def test_every_reference_is_in_the_bibliography():
    bib = (files("mbpm.instruments") / "references.bib").read_text(encoding="utf-8")
    entries = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    cited = {k.strip() for key in KEYS.values() for k in key.reference.split(",")}
    assert cited <= entries
    assert {"cella2010promis", "hays2018promis29", "melzack1987sfmpq", "hibbard2004pam",
            "hibbard2005pam13", "sullivan1995pcs", "beck1996bdi2", "mehling2012maia",
            "baer2006ffmq"} <= entries
