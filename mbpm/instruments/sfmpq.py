"""Short-form McGill Pain Questionnaire (SF-MPQ; Melzack 1987).

15 descriptors rated 0 none, 1 mild, 2 moderate, 3 severe: 1-11 sensory (throbbing, shooting,
stabbing, sharp, cramping, gnawing, hot-burning, aching, heavy, tender, splitting), 12-15 affective
(tiring-exhausting, sickening, fearful, punishing-cruel). Pain rating indices are sums of the
ranks: sensory 0-33, affective 0-12, total 0-45. VAS: 100 mm line, 0 = no pain. PPI: present pain
intensity 0 (no pain) to 5 (excruciating). No reversed items.

Missing items: Melzack (1987) gives no rule, so the package's shared rule applies (index scored
with at least half its descriptors, prorated to the full count: sensory 6 of 11, affective 2 of 4,
total 8 of 15). The total is scored from its own 15 items, so with missing descriptors it need not
equal sensory + affective. VAS and PPI are single answers: missing if unanswered.
"""

from __future__ import annotations

import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales


def _items(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"mpq_{i}" for i in range(first, last + 1))


KEY = Key(
    name="sfmpq",
    title="Short-form McGill Pain Questionnaire (SF-MPQ)",
    measures="Quality and intensity of pain",
    scales=(
        Scale("sensory", "Sensory PRI", _items(1, 11), "sum", "worse"),
        Scale("affective", "Affective PRI", _items(12, 15), "sum", "worse"),
        Scale("total", "Total PRI", _items(1, 15), "sum", "worse"),
        Scale("vas", "VAS (mm)", ("mpq_vas",), "item", "worse"),
        Scale("ppi", "PPI", ("mpq_ppi",), "item", "worse"),
    ),
    missing_rule=(
        "No published rule: index scored with at least half its descriptors, prorated sum "
        "(package rule). VAS, PPI: missing if unanswered."
    ),
    reference="melzack1987sfmpq",
)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """SF-MPQ sensory, affective and total pain rating indices, VAS (mm) and PPI."""
    return score_scales(check_items(items, KEY.items), KEY.scales)
