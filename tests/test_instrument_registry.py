"""The open instrument registry: a questionnaire is a key file; adding one needs no code.

Expected scores are computed by hand in the comments. The MAIA-2 key is checked against the
published item ranges and reversals typed here from the project reference
(shared/reference/instruments.md, section 6.2), not read from the key file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mbpm.instruments import registry, score_key
from mbpm.instruments.registry import KeyFileError

TOY = """\
name: toy
title: A made-up wellbeing questionnaire
short: TOY
version: "1"
measures: Wellbeing
reference: none
items:
  - {columns: "toy_{1..5}", range: [1, 7]}
  - {columns: toy_rating, range: [0, 10], integer: false}
scales:
  - {name: calm, label: Calm, items: "toy_{1,2,3}", reversed: "toy_{3}", aggregate: sum, higher_is: better}
  - {name: energy, label: Energy, items: "toy_{4,5}", aggregate: mean, higher_is: better}
  - {name: rating, label: Rating, items: toy_rating, aggregate: item, higher_is: better}
derived:
  - {name: calm_high, kind: flag, scale: calm, at_least: 15}
  - {name: energy_band, kind: bands, scale: energy, lower_bounds: {low: 1, mid: 3, high: 5.5}}
missing_rule: at least half of a scale's items
"""


def write_key(folder: Path, text: str, name: str = "toy") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_made_up_questionnaire_is_scored_from_its_key_file_alone(tmp_path: Path):
    write_key(tmp_path, TOY)
    key = registry.find("toy", (tmp_path,))
    items = pd.DataFrame({
        "toy_1": [7, 2, np.nan], "toy_2": [6, 2, np.nan], "toy_3": [1, 7, 4],
        "toy_4": [5, 1, 2], "toy_5": [6, np.nan, 3], "toy_rating": [9.5, 0, np.nan]})
    scores = score_key(key, items)
    # calm = toy_1 + toy_2 + (8 - toy_3): 7 + 6 + 7 = 20; 2 + 2 + 1 = 5; row 3: 1 of 3 answered -> NaN
    assert scores["calm"].tolist()[:2] == [20, 5] and np.isnan(scores["calm"].iloc[2])
    # energy = mean(toy_4, toy_5): 5.5; row 2: 1 of 2 answered (>= 1) -> 1.0; 2.5
    assert scores["energy"].tolist() == [5.5, 1.0, 2.5]
    assert scores["rating"].tolist()[:2] == [9.5, 0.0] and np.isnan(scores["rating"].iloc[2])
    assert scores["calm_high"].tolist()[:2] == [True, False] and pd.isna(scores["calm_high"].iloc[2])
    assert scores["energy_band"].astype(str).tolist() == ["high", "low", "low"]
    assert key.scale("calm").range == (3, 21)
    assert "toy" in registry.available((tmp_path,))


def test_maia2_key_matches_the_published_form():
    key = registry.find("maia2")
    published = {  # scale: (first item, last item, reversed item numbers)
        "noticing": (1, 4, ()), "not_distracting": (5, 10, (5, 6, 7, 8, 9, 10)),
        "not_worrying": (11, 15, (11, 12, 15)), "attention_regulation": (16, 22, ()),
        "emotional_awareness": (23, 27, ()), "self_regulation": (28, 31, ()),
        "body_listening": (32, 34, ()), "trusting": (35, 37, ())}
    assert [s.name for s in key.scales] == list(published)
    for scale in key.scales:
        first, last, rev = published[scale.name]
        assert scale.items == tuple(f"maia2_{i}" for i in range(first, last + 1)), scale.name
        assert scale.reversed == tuple(f"maia2_{i}" for i in rev), scale.name
        assert scale.aggregate == "mean" and scale.item_range == (0, 5)
    assert sum(len(b.columns) for b in key.blocks) == 37


def test_maia2_worked_example():
    answers = dict(enumerate([3, 4, 2, 3,            # noticing 12/4 = 3.0
                              1, 0, 2, 1, 0, 2,      # not-distracting, all 5 - x: 4,5,3,4,5,3 -> 4.0
                              1, 2, 4, 3, 0,         # not-worrying 5-1, 5-2, 4, 3, 5-0 -> 19/5 = 3.8
                              2, 3, 3, 2, 4, 3, 4,   # attention regulation 21/7 = 3.0
                              5, 4, 4, 5, 2,         # emotional awareness 20/5 = 4.0
                              1, 2, 3, 2,            # self-regulation 8/4 = 2.0
                              0, 1, 2,               # body listening 3/3 = 1.0
                              5, 5, 4], start=1))    # trusting 14/3
    items = pd.DataFrame({f"maia2_{i}": [float(v)] for i, v in answers.items()})
    scores = score_key(registry.find("maia2"), items).iloc[0]
    expected = {"noticing": 3.0, "not_distracting": 4.0, "not_worrying": 3.8,
                "attention_regulation": 3.0, "emotional_awareness": 4.0, "self_regulation": 2.0,
                "body_listening": 1.0, "trusting": 14 / 3}
    assert scores[list(expected)].to_numpy() == pytest.approx(list(expected.values()))


@pytest.mark.parametrize(("change", "message"), [
    (("aggregate: sum", "aggregate: total", 1), "scales[0] (calm), aggregate: expected one of sum, mean, item, got 'total'"),
    (('reversed: "toy_{3}"', 'reversed: "toy_{4}"', 1), "scales[0] (calm), reversed: must be among the scale's items"),
    (('items: "toy_{4,5}"', 'items: "toy_{4,9}"', 1), "scales[1] (energy), items: toy_9 is in no item block"),
    (("higher_is: better", "higher_is: up", 1), "scales[0] (calm), higher_is: expected one of better, worse"),
    (("range: [1, 7]", "range: [7, 1]", 1), "items[0], range: expected [lowest, highest] answer"),
    (("measures: Wellbeing", "measures: Wellbeing\ncolour: blue", 1), "unknown field 'colour'"),
    (("at_least: 15", "above: 15", 1), "derived[0] (calm_high): a scale flag needs 'at_least'"),
    (("name: toy", "name: other", 1), "toy.yml, name: expected 'toy'"),
])
def test_a_broken_key_file_names_the_file_and_the_entry(tmp_path: Path, change, message):
    old, new, count = change
    assert old in TOY
    write_key(tmp_path, TOY.replace(old, new, count))
    with pytest.raises(KeyFileError) as err:
        registry.load_key(tmp_path / "toy.yml")
    assert message in str(err.value)


def test_an_unknown_instrument_is_a_clear_error():
    with pytest.raises(KeyFileError, match=r"no scoring key for instrument 'maia3'.*known: .*maia2"):
        registry.find("maia3")


def test_brace_notation():
    assert registry.expand("pcs_{1..3}", "x") == ("pcs_1", "pcs_2", "pcs_3")
    assert registry.expand("x{2,5}y", "x") == ("x2y", "x5y")
    assert registry.expand(["a", "b_{1..2}"], "x") == ("a", "b_1", "b_2")
    with pytest.raises(KeyFileError):
        registry.expand("pcs_{1-3}", "x")
