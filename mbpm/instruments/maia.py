"""Multidimensional Assessment of Interoceptive Awareness, version 1 (MAIA; Mehling et al. 2012).

32 items, 0 never ... 5 always. Each scale is the mean of its items after reversing items 5, 6, 7
(Not-Distracting) and 8, 9 (Not-Worrying) as 5 - x (the official form's scoring instructions).
Scale ranges 0-5; higher = more of the (positively framed) interoceptive capacity.

Missing items: Mehling et al. define scales as item means and give no rule; the package's shared
rule applies (mean of the answered items when at least half are answered: 2 of 3, 2 of 4, 3 of 5,
4 of 7).
"""

from __future__ import annotations

import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales


def _items(*numbers: int) -> tuple[str, ...]:
    return tuple(f"maia_{i}" for i in numbers)


def _scale(name: str, label: str, numbers: range | tuple[int, ...], rev: tuple[int, ...] = ()):
    return Scale(name, label, _items(*numbers), "mean", "better", reversed=_items(*rev))


KEY = Key(
    name="maia",
    title="Multidimensional Assessment of Interoceptive Awareness (MAIA v1)",
    measures="Interoceptive body awareness",
    scales=(
        _scale("noticing", "Noticing", range(1, 5)),
        _scale("not_distracting", "Not-Distracting", (5, 6, 7), rev=(5, 6, 7)),
        _scale("not_worrying", "Not-Worrying", (8, 9, 10), rev=(8, 9)),
        _scale("attention_regulation", "Attention Regulation", range(11, 18)),
        _scale("emotional_awareness", "Emotional Awareness", range(18, 23)),
        _scale("self_regulation", "Self-Regulation", range(23, 27)),
        _scale("body_listening", "Body Listening", range(27, 30)),
        _scale("trusting", "Trusting", range(30, 33)),
    ),
    missing_rule=(
        "No published rule: mean of answered items when at least half of the scale's items are "
        "answered (package rule)."
    ),
    reference="mehling2012maia",
    notes="Items 5, 6, 7, 8, 9 reverse-scored as 5 − x.",
)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """The eight MAIA scale means (0-5)."""
    return score_scales(check_items(items, KEY.items), KEY.scales)
