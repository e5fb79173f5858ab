"""Saturated wells (issue 16): a reader's OVER, **** or <0.000 marks the well, and its sample is
reported beyond the quantifiable range on the side the assay's format gives (competitive: a high
signal is a low concentration; sandwich: a high one); a well the layout does not use is ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _data_helpers import load, read_rows, write_rows, write_small
from mbpm import io


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small(tmp_path_factory.mktemp("valid") / "data")


@pytest.fixture
def folder(valid: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(valid, tmp_path / "data"))


def _layout(folder: Path) -> list[dict[str, str]]:
    rows = read_rows(folder / "plate_layout.csv")
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _put(folder: Path, plate: str, well: str, text: str) -> None:
    path = folder / "plates" / f"{plate}.csv"
    rows = read_rows(path)
    r = "ABCDEFGH".index(well[0]) + 1
    rows[r][int(well[1:])] = text
    write_rows(path, rows)


def _sample_wells(folder: Path, analyte: str) -> tuple[str, str, str, str]:
    """plate, first well, participant, visit of the first sample of an analyte."""
    row = next(r for r in _layout(folder) if r["analyte"] == analyte and r["role"] == "sample")
    return row["plate_id"], row["well"], row["participant_id"], row["visit"]


@pytest.mark.parametrize("analyte, text, flag", [
    ("oxytocin", "OVER", "below_lloq"),    # competitive: signal above range = low concentration
    ("oxytocin", "<0.000", "above_uloq"),  # competitive: no signal = high concentration
    ("il6", "OVER", "above_uloq"),         # sandwich: signal rises with concentration
    ("il6", "****", "above_uloq"),
    ("il6", "<0.000", "below_lloq"),
])
def test_saturated_sample_well_is_censored_on_the_right_side(folder: Path, analyte: str, text: str,
                                                              flag: str) -> None:
    plate, well, pid, visit = _sample_wells(folder, analyte)
    _put(folder, plate, well, text)
    study = load(folder)
    b = study.biomarkers.set_index(["analyte", "participant_id", "visit"])
    row = b.loc[(analyte, pid, visit)]
    assert row["flag"] == flag
    limits = study.assay.plates.set_index("plate_id").loc[plate]
    dilution = float(row["dilution"]) if "dilution" in row else 1.0
    expected = limits["lloq" if flag == "below_lloq" else "uloq"] * dilution
    assert row["concentration"] == pytest.approx(expected)
    reasons = [m for f, m, _ in study.report.warnings if f == f"plates/{plate}.csv"]
    assert any(well in m and "saturated" in m and flag.replace("_", " ") in m for m in reasons), reasons


def test_saturation_in_an_unused_well_is_ignored(folder: Path, valid: Path) -> None:
    used = {(r["plate_id"], r["well"]) for r in _layout(folder)}
    plate = _layout(folder)[0]["plate_id"]
    free = next(f"{r}{c}" for r in "ABCDEFGH" for c in range(1, 13) if (plate, f"{r}{c}") not in used)
    _put(folder, plate, free, "OVER")
    study, clean = load(folder), load(valid)
    assert study.biomarkers.equals(clean.biomarkers)
    assert ("plates/", "saturated wells that plate_layout.csv does not use (ignored)", 1) in study.report.warnings


def test_saturated_standard_drops_the_plate_with_the_reason(folder: Path) -> None:
    row = next(r for r in _layout(folder) if r["role"] == "standard")
    _put(folder, row["plate_id"], row["well"], "OVER")
    study = load(folder)
    assert row["plate_id"] in {p for p in study.assay.plates.loc[study.assay.plates["failure"] != "", "plate_id"]}
    messages = [m for f, m, _ in study.report.warnings if f == f"plates/{row['plate_id']}.csv"]
    assert any("saturated" in m and row["well"] in m for m in messages), messages
    with pytest.raises(io.DataError, match="saturated"):
        io.load_study(folder, on_plate_failure="stop")


def test_other_text_in_a_well_is_still_an_error(folder: Path) -> None:
    plate, well, _, _ = _sample_wells(folder, "il6")
    _put(folder, plate, well, "n/a")
    with pytest.raises(io.DataError, match=rf"plates/{plate}.csv, well {well}: expected an optical density"):
        load(folder)
