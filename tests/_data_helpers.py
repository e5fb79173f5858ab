"""Helpers shared by the data tests (not a conftest, so other branches' conftests do not clash)."""

from __future__ import annotations

import csv
import hashlib
import importlib
from pathlib import Path

from mbpm import io, simulate


def write_small(out: Path, seed: int = 7) -> Path:
    """A valid small data folder: 4 MBPM, 4 WL, 3 HC."""
    return simulate.write_folder(simulate.simulate_tables(seed=seed, n_mbpm=4, n_wl=4, n_hc=3), out)


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def pipeline_available() -> bool:
    """True once the scoring and assay modules (other branches) are merged."""
    assays = importlib.import_module("mbpm.assays")
    instruments = importlib.import_module("mbpm.instruments")
    return all(hasattr(assays, n) for n in ("quantify", "tidy_wells")) and hasattr(instruments, "score_all")


def load(folder: Path) -> object:
    """Full load when the pipeline is merged, else read + validate only."""
    if pipeline_available():
        return io.load_study(folder)
    return io.validate_tables(io.read_tables(folder))


def read_rows(path: Path) -> list[list[str]]:
    """A CSV file's rows as lists of text (header included)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """Write rows as a CSV file with LF line ends (as the data contract's files)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def scramble_first_plate(folder: Path) -> str:
    """Relabel the first plate's standard levels out of order, so its signal is not monotone
    (no usable curve); returns the plate's id."""
    rows = read_rows(folder / "plate_layout.csv")
    plate = rows[1][0]
    std = [r for r in rows[1:] if r[0] == plate and r[3] == "standard"]
    levels = sorted({r[4] for r in std}, key=float)
    order = [levels[i] for i in (3, 0, 5, 1, 4, 2, *range(6, len(levels)))]
    relabel = dict(zip(levels, order))
    for r in std:
        r[4] = relabel[r[4]]
    write_rows(folder / "plate_layout.csv", rows)
    return plate
