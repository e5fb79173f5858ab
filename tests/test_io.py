"""Loading: folder choice, in-memory path, codebook, data-chapter tables, validate CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert list(a.plate_wells["plate_id"].unique()) == list(tables["plates"])
    pd.testing.assert_frame_equal(a.plate_wells, b.plate_wells)


def test_grid_wells_maps_rows_and_columns() -> None:
    grid = pd.DataFrame([[r * 100 + c for c in range(1, 13)] for r in range(8)],
                        index=list("ABCDEFGH"), columns=[str(c) for c in range(1, 13)], dtype=float)
    wells = io.grid_wells(grid, "p")
    assert wells.set_index("well").loc["C7", "od"] == 207  # row C = index 2, column 7
    assert list(wells.columns) == ["well", "row", "column", "od", "saturated"] and len(wells) == 96


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


# ----------------------------------------------------------------------------------------------
# Plate grids: one parse for all plates, the same cells and messages as pandas per plate
# ----------------------------------------------------------------------------------------------

def _pandas_cells(text: str) -> list[list[object]]:
    """What the old reader saw: pandas' reading of the file (header=None, all cells text)."""
    import io as _io
    frame = pd.read_csv(_io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    return frame.to_numpy(dtype=object).tolist()


def _reference_grid_wells(grid: pd.DataFrame, plate_id: str) -> pd.DataFrame:
    """The per-plate validation before the batched one (DataFrame.apply of _text and to_numeric),
    kept as the reference its messages and values must equal."""
    file = f"plates/{plate_id}.csv"
    rows = [str(r).strip() for r in grid.index]
    columns = [str(c).strip() for c in grid.columns]
    if columns != list(io.PLATE_COLUMNS):
        raise io.DataError(f"{file}, header row: expected columns 1 to 12 after the row label, got "
                           f"{', '.join(columns) or 'none'}")
    if rows != list(io.ROWS):
        raise io.DataError(f"{file}, first column: expected row labels A to H in order, got {', '.join(rows)}")
    raw = grid.to_numpy()
    if pd.api.types.is_numeric_dtype(np.asarray(raw).dtype):
        od = raw.astype(float)
    else:
        text = pd.DataFrame(raw).apply(lambda s: io._text(s))
        od = text.apply(lambda s: pd.to_numeric(s, errors="coerce")).to_numpy(dtype=float)
    bad = ~np.isfinite(od) | (od < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise io.DataError(f"{file}, well {io.ROWS[r]}{c + 1}: expected an optical density (a number >= 0), "
                           f"got {io._got(raw[r, c])}")
    return pd.DataFrame({"well": [f"{r}{c}" for r in io.ROWS for c in io.PLATE_COLUMNS],
                         "row": np.repeat(list(io.ROWS), 12), "column": np.tile(np.arange(1, 13), 8),
                         "od": od.ravel()})


cell = st.one_of(st.sampled_from(["0.123", "1.5", "0", "", " 0.2", "-0.1", "1e3", "inf", "nan", "NA",
                                  "x", "0.1.2", "1_0", "+2", ".5", "1e400"]),
                 st.floats(0, 4, allow_nan=False).map(lambda v: f"{v:.3f}"))
label = st.sampled_from(list("ABCDEFGH") + [" A", "I", ""])


@st.composite
def grid_texts(draw: st.DrawFn) -> str:
    """A plate file: mostly the plain ',1..12' + A..H grid, sometimes odd in shape or quoting."""
    header = ["", *map(str, range(1, 13))]
    if draw(st.integers(0, 9)) == 0:
        header[draw(st.integers(1, 12))] = draw(st.sampled_from(["13", " 3", "x"]))
    rows = [[draw(label) if draw(st.integers(0, 15)) == 0 else r] + draw(st.lists(cell, min_size=12, max_size=12))
            for r in "ABCDEFGH"]
    lines = [",".join(header)] + [",".join(r) for r in rows]
    odd = draw(st.integers(0, 12))
    if odd == 0:
        lines.insert(draw(st.integers(1, 9)), "")  # a blank line (pandas skips it)
    elif odd == 1:
        lines[draw(st.integers(1, 8))] += ",0.1"  # ragged
    elif odd == 2:
        lines[draw(st.integers(1, 8))] = lines[1].replace("A", '"A"', 1)  # quoted
    elif odd == 3:
        lines = lines[:-1]  # a row missing
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None)
@given(text=grid_texts())
def test_plain_grid_split_equals_pandas(text: str) -> None:
    rows = io._split_grid(text)
    if rows is not None:  # anything not plain goes to pandas itself
        assert rows == _pandas_cells(text)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(grid_texts(), min_size=1, max_size=5))
def test_batched_plate_validation_equals_per_plate(texts: list[str]) -> None:
    grids, expected_errors, expected_wells = {}, {}, []
    for k, text in enumerate(texts):
        try:
            cells = _pandas_cells(text)
        except pd.errors.ParserError:
            continue  # ragged: the reader's error, not the grid's
        if len(cells[0]) < 2:
            continue
        frame = io.GridText(cells).frame()
        pid = f"p{k}"
        grids[pid] = io.GridText(cells)
        try:
            expected_wells.append(_reference_grid_wells(frame, pid).assign(plate_id=pid))
        except io.DataError as err:
            expected_errors[pid] = str(err)
    wells, errors = io.plates_wells(grids)
    assert {k: m.split("; ")[0] for k, m in errors.items()} == expected_errors  # less the import hint
    assert list(wells["plate_id"].unique()) == [w["plate_id"].iloc[0] for w in expected_wells]
    if expected_wells:
        expected = pd.concat(expected_wells, ignore_index=True)[list(wells.columns)]
        pd.testing.assert_frame_equal(wells, expected, check_dtype=False)


def test_numeric_grids_in_memory_validate_as_before() -> None:
    tables = simulate.simulate_tables(seed=5, n_mbpm=3, n_wl=3, n_hc=2)
    wells, errors = io.plates_wells(tables["plates"])
    assert not errors
    for pid, grid in tables["plates"].items():
        ours = wells.loc[wells["plate_id"] == pid].drop(columns="plate_id").reset_index(drop=True)
        assert (ours.pop("saturated") == "").all()  # numbers are never saturation marks
        pd.testing.assert_frame_equal(ours, _reference_grid_wells(grid, pid), check_dtype=False)
    bad = tables["plates"][next(iter(tables["plates"]))].copy()
    bad.iloc[2, 3] = -1.0
    with pytest.raises(io.DataError, match=r"well C4: expected an optical density \(a number >= 0\), got -1.0"):
        io.grid_wells(bad, "x")


# ----------------------------------------------------------------------------------------------
# The participant ID rule
# ----------------------------------------------------------------------------------------------

def test_cohorts_above_999_get_wider_ids_that_validate(tmp_path: Path) -> None:
    tables = simulate.simulate_tables(seed=3, n_mbpm=450, n_wl=450, n_hc=100)
    ids = tables["participants"]["participant_id"]
    assert ids.iloc[0] == "P0001" and ids.iloc[-1] == "P1000"
    assert tables["simulation"]["participant_id"] == r"P\d{4}"
    io.validate_tables(tables)  # in memory
    simulate.write_folder(tables, tmp_path)
    assert io.read_simulation_marker(tmp_path)["participant_id"] == r"P\d{4}"
    tables = io.read_tables(tmp_path)
    assert not tables["plates_skipped"]  # the layout check before the plates uses the marker's rule
    valid = io.validate_tables(tables)  # the marker's rule
    assert len(valid.participants) == 1000
    assert valid.plate_wells["plate_id"].nunique() == len(tables["plates"]) > 0
    with pytest.raises(io.DataError, match="expected P followed by 3 digits, got 'P0001'"):
        io.validate_tables(io.read_tables(tmp_path), participant_id=io.PARTICIPANT_ID)


def test_default_rule_and_override(tmp_path: Path) -> None:
    tables = simulate.simulate_tables(seed=3, n_mbpm=4, n_wl=4, n_hc=2)
    assert "participant_id" not in tables["simulation"]  # 3 digits: the default, not recorded
    assert tables["participants"]["participant_id"].iloc[-1] == "P010"
    assert io.participant_id_digits(3) == io.PARTICIPANT_ID
    with pytest.raises(io.DataError, match="expected an ID matching S-\\\\d\\+, got 'P001'"):
        io.validate_tables(tables, participant_id=r"S-\d+")
    renamed = {**tables, "participants": tables["participants"].assign(
        participant_id=lambda f: f["participant_id"].str.replace("P", "S-"))}
    with pytest.raises(io.DataError, match="questionnaires.csv, row 1 .*expected an ID matching"):
        io.validate_tables(renamed, participant_id=r"S-\d+")
    assert io.participant_id_rule() == io.PARTICIPANT_ID  # reset after the validation


# ----------------------------------------------------------------------------------------------
# The standard series check: a screen of all plates at once, the walk plate by plate for the error
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seven_plates_per_analyte() -> pd.DataFrame:
    tables = simulate.simulate_tables(seed=1, n_mbpm=60, n_wl=60, n_hc=30)
    return io._typed("plate_layout.csv", tables["plate_layout"])


def _walk_refuses(lay: pd.DataFrame) -> bool:
    try:
        io._standard_series_walk("plate_layout.csv", lay)
    except io.DataError:
        return True
    return False


@pytest.mark.parametrize("distinct", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_the_standard_series_screen_flags_every_layout_the_walk_refuses(seven_plates_per_analyte,
                                                                         seed, distinct):
    """Random faults planted in a simulated layout (7 plates per analyte): a level typed 10 times
    too large or off by a random factor, a plate's whole series shifted (odd levels, regular
    steps), a plate's top levels dropped, one level moved off its series. With ``distinct`` every
    plate's series is first scaled by its own factor, so no two plates agree and only the step
    rule applies. The walk is the reference: whenever it raises, the screen must have flagged the
    layout; a clean layout is not flagged (it takes the fast path)."""
    lay = seven_plates_per_analyte
    if distinct:
        factor = 1 + 0.01 * pd.Series(pd.factorize(lay["plate_id"])[0], index=lay.index)
        lay = lay.assign(concentration=lay["concentration"] * factor)
    assert not io._standard_series_suspect(lay) and not _walk_refuses(lay)
    rng = np.random.default_rng(seed)
    standards = lay.index[(lay["role"] == "standard") & (lay["concentration"] > 0)]
    plates = lay.loc[standards, "plate_id"].unique()
    refused = 0
    for _ in range(40):
        bad = lay.copy()
        kind = int(rng.integers(4))
        on = standards[lay.loc[standards, "plate_id"] == rng.choice(plates)]
        levels = np.unique(lay.loc[on, "concentration"])
        if kind <= 1:  # one level of the plate (both its wells) mistyped
            wells = on[lay.loc[on, "concentration"] == rng.choice(levels)]
            bad.loc[wells, "concentration"] *= 10.0 if kind == 0 else rng.uniform(0.3, 3.0)
        elif kind == 2:  # the whole series of the plate shifted
            bad.loc[on, "concentration"] *= rng.choice([2.0, 0.5, 1.3])
        else:  # the plate's top levels dropped
            bad.loc[on[lay.loc[on, "concentration"] >= levels[-int(rng.integers(1, 6))]], "concentration"] = 0.0
        if _walk_refuses(bad):
            refused += 1
            assert io._standard_series_suspect(bad), f"fault kind {kind} not flagged"
    assert refused >= 10  # the faults do reach the walk's errors


def test_plate_files_outside_the_folder_are_refused_by_file_or_by_folder(tmp_path: Path) -> None:
    """The plates are resolved once per folder (one check of plates/) and per file only when the
    file is a link: a linked plate file and a linked plates/ folder are both refused, naming the
    first plate file, as when every file was resolved."""
    folder = write_small(tmp_path / "one")
    first = sorted(p.name for p in (folder / "plates").glob("*.csv"))
    plate = folder / "plates" / first[0]
    outside = tmp_path / "elsewhere.csv"
    shutil.copy(plate, outside)
    plate.unlink()
    plate.symlink_to(outside)
    with pytest.raises(io.DataError, match=r"^plates/\S+\.csv: expected a file inside the data folder"):
        io.read_tables(folder)
    folder = write_small(tmp_path / "two")
    layout = pd.read_csv(folder / "plate_layout.csv", dtype=str)
    shutil.move(folder / "plates", tmp_path / "plates_elsewhere")
    (folder / "plates").symlink_to(tmp_path / "plates_elsewhere", target_is_directory=True)
    with pytest.raises(io.DataError, match=rf"^plates/{layout['plate_id'].iloc[0]}\.csv: expected a "
                                           "file inside the data folder"):
        io.read_tables(folder)
