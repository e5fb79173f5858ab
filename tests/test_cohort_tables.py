"""Data-chapter tables (the CONSORT diagram: tests/test_trial_report.py)."""

from __future__ import annotations

import re

import pandas as pd

from mbpm import cohort, io


def test_compact_codebook_keeps_every_column():
    full, compact = io.codebook(), cohort.codebook_compact()
    assert len(compact) < len(full)
    runs = compact["column"].str.extract(r"\((\d+) columns\)$")[0]
    assert pd.to_numeric(runs).fillna(1).sum() == len(full)
    merged = compact.loc[runs.notna(), "column"]
    assert any(re.match(r"ffmq_1 … ffmq_39 \(39 columns\)", m) for m in merged)
