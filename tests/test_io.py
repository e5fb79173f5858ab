"""Loading: folder choice, in-memory path, codebook, data-chapter tables, validate CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from _data_helpers import pipeline_available, write_small
from mbpm import io, simulate
from mbpm.cohort import consort_counts, missingness

needs_pipeline = pytest.mark.skipif(not pipeline_available(),
                                    reason="needs mbpm.assays.quantify/tidy_wells and score_all (other branches)")


def test_data_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MBPM_DATA", raising=False)
    assert io.data_dir() == io.SHIPPED_DATA.resolve()
    monkeypatch.setenv("MBPM_DATA", str(tmp_path))
    assert io.data_dir() == tmp_path.resolve()
    assert io.data_dir(tmp_path / "x") == (tmp_path / "x").resolve()


def test_memory_and_files_validate_to_the_same_tables(tmp_path: Path) -> None:
    tables = simulate.simulate_tables(seed=21, n_mbpm=6, n_wl=5, n_hc=4)
    simulate.write_folder(tables, tmp_path)
    a, b = io.validate_tables(tables), io.validate_tables(io.read_tables(tmp_path))
    for name in ("participants", "questionnaires", "screening", "layout"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=False)
    assert a.plate_wells.keys() == b.plate_wells.keys()
    for pid in a.plate_wells:
        pd.testing.assert_frame_equal(a.plate_wells[pid], b.plate_wells[pid])


def test_grid_wells_maps_rows_and_columns() -> None:
    grid = pd.DataFrame([[r * 100 + c for c in range(1, 13)] for r in range(8)],
                        index=list("ABCDEFGH"), columns=[str(c) for c in range(1, 13)], dtype=float)
    wells = io.grid_wells(grid, "p")
    assert wells.set_index("well").loc["C7", "od"] == 207  # row C = index 2, column 7
    assert list(wells.columns) == ["well", "row", "column", "od"] and len(wells) == 96


def test_codebook_covers_every_column_of_the_shipped_files() -> None:
    book = io.codebook()
    for file in io.REQUIRED_FILES:
        with open(io.SHIPPED_DATA / file, newline="") as f:
            header = next(csv.reader(f))
        assert set(header) <= set(book.loc[book["file"] == file, "column"]), file
    assert {"file", "column", "type", "rule", "required"} == set(book.columns)
    assert "pam_activation" in set(book["column"])  # optional column documented too


def test_consort_counts_against_hand_count(tmp_path: Path) -> None:
    folder = write_small(tmp_path / "d", seed=3)
    valid = io.validate_tables(io.read_tables(folder))
    table = consort_counts(valid)
    counts = table.set_index(["stage", "group", "reason"])["count"]
    with open(folder / "participants.csv", newline="") as f:
        people = list(csv.DictReader(f))
    with open(folder / "screening.csv", newline="") as f:
        screening = list(csv.DictReader(f))
    assert counts[("assessed", "", "")] == int(screening[0]["count"])
    assert counts[("enrolled", "patients", "")] == 8
    for arm in ("MBPM", "WL"):
        assert counts[("allocated", arm, "")] == 4
        done = sum(p["group"] == arm and p["completed_week8"] == "yes" for p in people)
        assert counts[("analysed", arm, "completed week 8")] == done
        lost = sum(p["group"] == arm and p["completed_week8"] == "no" for p in people)
        assert table.loc[(table["stage"] == "lost") & (table["group"] == arm), "count"].sum() == lost


def test_missingness_against_hand_count(tmp_path: Path) -> None:
    folder = write_small(tmp_path / "d", seed=4)
    table = missingness(io.validate_tables(io.read_tables(folder)))
    with open(folder / "questionnaires.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    empty = sum(r[c] == "" for r in rows if r["visit"] == "baseline" for c in r if c.startswith("pcs_"))
    row = table[(table["instrument"] == "pcs") & (table["visit"] == "baseline")].iloc[0]
    assert row["missing"] == empty and row["items"] == 13
    assert row["percent"] == pytest.approx(100 * empty / (13 * row["rows"]))


def test_validate_cli_reports_errors_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_small(tmp_path / "d")
    (folder / "screening.csv").unlink()
    assert io.validate_cli(folder) == 1
    out = capsys.readouterr().out
    assert "ERROR   screening.csv: file missing" in out


def test_validate_collects_first_error_of_each_file(tmp_path: Path) -> None:
    folder = write_small(tmp_path / "d")
    text = (folder / "screening.csv").read_text().replace("assessed,,", "assessed,x,")
    (folder / "screening.csv").write_text(text)
    q = (folder / "questionnaires.csv").read_text().replace("P001,baseline", "P001,later", 1)
    (folder / "questionnaires.csv").write_text(q)
    with pytest.raises(io.DataError) as err:
        io.validate_tables(io.read_tables(folder))
    errors = err.value.report.errors
    assert len(errors) == 2 and errors[0].startswith("questionnaires.csv") and errors[1].startswith("screening.csv")


@needs_pipeline
def test_load_study_shipped_and_in_memory() -> None:
    study = io.load_study()
    assert study.simulation["seed"] == 20240253
    assert {"participant_id", "visit"} <= set(study.scores.columns)
    assert len(study.biomarkers) > 0 and study.report.usable
    memory = io.study_from_tables(simulate.simulate_tables(seed=20240253))
    assert memory.simulation["seed"] == 20240253
    pd.testing.assert_frame_equal(memory.scores, study.scores, check_dtype=False)


@needs_pipeline
def test_validate_cli_ok_on_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert io.validate_cli(io.SHIPPED_DATA) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_real_data_folder_has_no_simulation_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "real"
    shutil.copytree(write_small(tmp_path / "d"), folder)
    (folder / "SIMULATED").unlink()
    assert io.read_tables(folder)["simulation"] is None
