"""Data-chapter tables and the CONSORT diagram built from hand-made counts."""

from __future__ import annotations

import re

import pandas as pd

from mbpm import cohort, io

COUNTS = pd.DataFrame(
    [("assessed", "", "", 40), ("excluded", "", "too young", 6), ("excluded", "", "declined", 4),
     ("enrolled", "patients", "", 30), ("allocated", "MBPM", "", 16),
     ("lost", "MBPM", "moved away", 3), ("analysed", "MBPM", "completed week 8", 13),
     ("allocated", "WL", "", 14), ("analysed", "WL", "completed week 8", 14),
     ("enrolled", "HC", "healthy controls", 9)],
    columns=["stage", "group", "reason", "count"])


def test_compact_codebook_keeps_every_column():
    full, compact = io.codebook(), cohort.codebook_compact()
    assert len(compact) < len(full)
    runs = compact["column"].str.extract(r"\((\d+) columns\)$")[0]
    assert pd.to_numeric(runs).fillna(1).sum() == len(full)
    merged = compact.loc[runs.notna(), "column"]
    assert any(re.match(r"ffmq_1 … ffmq_39 \(39 columns\)", m) for m in merged)
