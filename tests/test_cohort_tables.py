"""Data-chapter tables and the CONSORT diagram built from hand-made counts."""

from __future__ import annotations

import re

import pandas as pd

from mbpm import cohort, figures, io

COUNTS = pd.DataFrame(
    [("assessed", "", "", 40), ("excluded", "", "too young", 6), ("excluded", "", "declined", 4),
     ("enrolled", "patients", "", 30), ("allocated", "MBPM", "", 16),
     ("lost", "MBPM", "moved away", 3), ("analysed", "MBPM", "completed week 8", 13),
     ("allocated", "WL", "", 14), ("analysed", "WL", "completed week 8", 14),
     ("enrolled", "HC", "healthy controls", 9)],
    columns=["stage", "group", "reason", "count"])


def test_consort_boxes_carry_the_counts():
    boxes = figures.consort_boxes(COUNTS).set_index("box")["text"]
    assert boxes["assessed"] == "Assessed for eligibility (n = 40)"
    assert boxes["excluded"].splitlines() == ["Excluded (n = 10)", "too young (n = 6)",
                                              "declined (n = 4)"]
    assert boxes["enrolled"] == "Patients enrolled and allocated (n = 30)"
    assert boxes["lost MBPM"].splitlines() == ["Lost before week 8 (n = 3)", "moved away (n = 3)"]
    assert boxes["lost WL"] == "Lost before week 8 (n = 0)"
    assert boxes["analysed WL"] == "Completed week 8 (n = 14)"
    assert boxes["hc"].startswith("Healthy controls (n = 9)")


def test_consort_diagram_is_a_chart_with_every_box():
    spec = figures.consort_diagram(COUNTS).to_dict()
    texts = [row["text"] for rows in spec["datasets"].values() for row in rows if "text" in row]
    assert len(texts) == 10  # one dataset of boxes, drawn twice (white halo, then the text)
    assert sum(layer["mark"]["type"] == "text" for layer in spec["layer"]) == 2
    assert sum(layer["mark"]["type"] == "rule" for layer in spec["layer"]) == 1


def test_compact_codebook_keeps_every_column():
    full, compact = io.codebook(), cohort.codebook_compact()
    assert len(compact) < len(full)
    runs = compact["column"].str.extract(r"\((\d+) columns\)$")[0]
    assert pd.to_numeric(runs).fillna(1).sum() == len(full)
    merged = compact.loc[runs.notna(), "column"]
    assert any(re.match(r"ffmq_1 … ffmq_39 \(39 columns\)", m) for m in merged)
