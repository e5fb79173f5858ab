"""Five Facet Mindfulness Questionnaire, 39 items (FFMQ-39; Baer et al. 2006).

Items 1 never or very rarely true ... 5 very often or always true. 19 items are reverse-scored as
6 - x: 3, 5, 8, 10, 12, 13, 14, 16, 17, 18, 22, 23, 25, 28, 30, 34, 35, 38, 39. Facets are sums
(as in Baer 2006): observing, describing, acting with awareness, non-judging (8 items, 8-40) and
non-reactivity (7 items, 7-35); total = sum of all 39 items, 39-195. Higher = more mindful.

Missing items: Baer et al. give no rule; the package's shared rule applies (facet with at least
half its items answered, prorated sum: 4 of 8, 4 of 7; total 20 of 39).
"""

from __future__ import annotations

import pandas as pd

from mbpm.instruments.base import Key, Scale, check_items, score_scales

REVERSED_NUMBERS = (3, 5, 8, 10, 12, 13, 14, 16, 17, 18, 22, 23, 25, 28, 30, 34, 35, 38, 39)

_FACETS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("observing", "Observing", (1, 6, 11, 15, 20, 26, 31, 36)),
    ("describing", "Describing", (2, 7, 12, 16, 22, 27, 32, 37)),
    ("acting_with_awareness", "Acting with awareness", (5, 8, 13, 18, 23, 28, 34, 38)),
    ("nonjudging", "Non-judging", (3, 10, 14, 17, 25, 30, 35, 39)),
    ("nonreactivity", "Non-reactivity", (4, 9, 19, 21, 24, 29, 33)),
)


def _scale(name: str, label: str, numbers: tuple[int, ...]) -> Scale:
    items = tuple(f"ffmq_{i}" for i in numbers)
    rev = tuple(f"ffmq_{i}" for i in numbers if i in REVERSED_NUMBERS)
    return Scale(name, label, items, "sum", "better", reversed=rev)


KEY = Key(
    name="ffmq",
    title="Five Facet Mindfulness Questionnaire (FFMQ-39)",
    measures="Trait mindfulness, five facets",
    scales=(*(_scale(*f) for f in _FACETS), _scale("total", "Total", tuple(range(1, 40)))),
    missing_rule=(
        "No published rule: each facet (and the total) with at least half its items answered, "
        "prorated sum (package rule)."
    ),
    reference="baer2006ffmq",
    notes="19 items reverse-scored as 6 − x.",
)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """The five FFMQ facet sums and the total."""
    return score_scales(check_items(items, KEY.items), KEY.scales)
