"""Synthetic ELISA plates in the data-contract layout, for the assay tests and benchmark.

A plate is described by its true 4PL parameters; wells are placed in a seeded random order (the
pipeline may not assume a fixed arrangement) and the grid export has every well of the plate,
unused ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mbpm.assays import PLATE_COLUMNS, PLATE_ROWS, four_pl

ALL_WELLS = [f"{row}{col}" for row in PLATE_ROWS for col in PLATE_COLUMNS]
#: A sandwich (signal rises) and a competitive (signal falls) curve; blank-corrected OD.
SANDWICH = (0.02, 1.2, 150.0, 2.6)
COMPETITIVE = (2.4, 1.0, 60.0, 0.08)
STANDARDS_SANDWICH = (1000.0, 500.0, 250.0, 125.0, 62.5, 31.25, 15.625)
STANDARDS_COMPETITIVE = (1000.0, 400.0, 160.0, 64.0, 25.6, 10.24, 4.096)


@dataclass
class Sample:
    participant_id: str
    visit: str
    concentration: float  # true concentration in the neat sample
    dilution: float = 1.0
    spread: tuple[float, ...] = (1.0, 1.0)  # each duplicate well holds concentration x spread


@dataclass
class Plate:
    plate_id: str
    analyte: str = "il6"
    params: tuple[float, float, float, float] = SANDWICH
    standards: tuple[float, ...] = STANDARDS_SANDWICH
    samples: list[Sample] = field(default_factory=list)
    blank_od: float = 0.05
    n_blanks: int = 2
    noise_cv: float = 0.0  # multiplicative noise on every raw OD
    standard_factors: dict[float, float] = field(default_factory=dict)  # distort a level's OD
    seed: int = 1


def build(plate: Plate) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(layout rows, grid as mbpm.io.grid_wells returns it) for one plate."""
    rng = np.random.default_rng(plate.seed)
    rows, ods = [], []
    for conc in plate.standards:
        for _ in range(2):
            od = float(four_pl(conc, *plate.params)) * plate.standard_factors.get(conc, 1.0)
            rows.append(dict(role="standard", concentration=conc))
            ods.append(od)
    for _ in range(plate.n_blanks):
        rows.append(dict(role="blank"))
        ods.append(0.0)
    for s in plate.samples:
        for factor in s.spread:
            rows.append(dict(role="sample", participant_id=s.participant_id, visit=s.visit,
                             dilution=s.dilution))
            ods.append(float(four_pl(s.concentration * factor / s.dilution, *plate.params)))
    wells = rng.permutation(ALL_WELLS)[: len(rows)]
    raw = (np.array(ods) + plate.blank_od) * (1 + plate.noise_cv * rng.standard_normal(len(ods)))
    layout = pd.DataFrame(rows).assign(plate_id=plate.plate_id, analyte=plate.analyte, well=wells)
    layout = layout.reindex(columns=["plate_id", "analyte", "well", "role", "concentration",
                                     "participant_id", "visit", "dilution"])
    od_of = dict(zip(wells, raw))
    unused = rng.uniform(0.04, 0.06, len(ALL_WELLS))
    grid = pd.DataFrame({"well": ALL_WELLS, "row": [w[0] for w in ALL_WELLS],
                         "column": [int(w[1:]) for w in ALL_WELLS],
                         "od": [od_of.get(w, u) for w, u in zip(ALL_WELLS, unused)]})
    return layout, grid


def build_many(plates: list[Plate]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(plate_layout.csv as a frame, {plate_id: grid}) for several plates."""
    built = [build(p) for p in plates]
    layout = pd.concat([b[0] for b in built], ignore_index=True)
    return layout, {p.plate_id: b[1] for p, b in zip(plates, built)}


def write_grid(grid: pd.DataFrame, path: Path) -> Path:
    """Write a grid in the plate reader's export format: ``,1,...,12`` then rows A..H."""
    wide = grid.pivot(index="row", columns="column", values="od")
    lines = [",".join([""] + [str(c) for c in PLATE_COLUMNS])]
    lines += [",".join([r] + [f"{wide.loc[r, c]:.4f}" for c in PLATE_COLUMNS]) for r in PLATE_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cohort(n_participants: int = 40, plates_per_analyte: int = 3, seed: int = 7) -> list[Plate]:
    """A cohort-sized run: six analytes, full plates of duplicate samples, 4 % OD noise."""
    rng = np.random.default_rng(seed)
    analytes = {"oxytocin": COMPETITIVE, "il1b": SANDWICH, "il6": SANDWICH, "il8": SANDWICH,
                "tnfa": SANDWICH, "dheas": COMPETITIVE}
    plates = []
    for analyte, params in analytes.items():
        standards = STANDARDS_COMPETITIVE if params == COMPETITIVE else STANDARDS_SANDWICH
        ids = [f"P{i:03d}" for i in range(1, n_participants + 1)]
        visits = [(pid, visit) for pid in ids for visit in ("baseline", "week8")]
        per_plate = int(np.ceil(len(visits) / plates_per_analyte))
        for k in range(plates_per_analyte):
            chunk = visits[k * per_plate:(k + 1) * per_plate]
            samples = [Sample(pid, visit, float(np.exp(rng.normal(np.log(params[2]), 0.8))))
                       for pid, visit in chunk]
            plates.append(Plate(f"{analyte}_{k + 1}", analyte, params, standards, samples,
                                noise_cv=0.04, seed=int(rng.integers(1 << 30))))
    return plates
