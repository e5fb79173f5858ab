"""No data loss and no false "usable": simulate never overwrites data, every command error is one
line, a folder that validates exports, re-assays have a rule, a failed plate drops its samples.
"""

from __future__ import annotations

import contextlib
import io as _io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from _data_helpers import digests, read_rows, scramble_first_plate, write_rows, write_small
from conftest import ROOT
from mbpm import assays, cohort, io
from mbpm.__main__ import main
from mbpm.errors import DataError


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small(tmp_path_factory.mktemp("valid") / "data")


@pytest.fixture
def folder(valid: Path, tmp_path: Path) -> Path:
    out = tmp_path / "data"
    shutil.copytree(valid, out)
    return out


def run(*argv: str) -> tuple[int, str, str]:
    """``python -m mbpm ARGV`` in process: exit status, stdout, stderr."""
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def assert_one_line_error(status: int, stderr: str, *parts: str) -> None:
    assert status == 1, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    for part in parts:
        assert part in stderr, stderr


# ----------------------------------------------------------------------------------------------
# simulate never destroys a folder
# ----------------------------------------------------------------------------------------------

def test_simulate_refuses_a_real_export_even_with_force(folder: Path) -> None:
    (folder / "SIMULATED").unlink()  # now it looks like a real export
    before = digests(folder)
    for extra in ([], ["--force"]):
        status, _, err = run("simulate", str(folder), "--seed", "1", *extra)
        assert_one_line_error(status, err, "no SIMULATED marker", "never overwrites")
    assert digests(folder) == before


def test_simulate_refuses_a_simulated_folder_without_force_and_replaces_it_with(folder: Path) -> None:
    before = digests(folder)
    status, _, err = run("simulate", str(folder), "--seed", "1")
    assert_one_line_error(status, err, "not empty", "--force")
    assert digests(folder) == before
    (folder / "notes.txt").write_text("mine")
    status, _, err = run("simulate", str(folder), "--seed", "8", "--n-mbpm", "2", "--n-wl", "2",
                         "--n-hc", "1", "--force")
    assert status == 0, err
    assert yaml.safe_load((folder / "SIMULATED").read_text())["seed"] == 8
    assert (folder / "notes.txt").read_text() == "mine"  # not a file simulate wrote: kept
    layout = pd.read_csv(folder / "plate_layout.csv")
    assert {p.stem for p in (folder / "plates").glob("*.csv")} == set(layout["plate_id"])  # no stale plate


def test_simulate_into_an_empty_or_new_folder(tmp_path: Path) -> None:
    for out in (tmp_path, tmp_path / "new"):
        status, _, err = run("simulate", str(out), "--seed", "3", "--n-mbpm", "2", "--n-wl", "2", "--n-hc", "1")
        assert status == 0, err


@pytest.mark.parametrize("size", ["0", "-3", "two"])
def test_simulate_sizes_below_one_are_a_usage_error(tmp_path: Path, size: str) -> None:
    err = _io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        main(["simulate", str(tmp_path / "x"), "--seed", "1", "--n-mbpm", size])
    assert exit_.value.code == 2 and "Traceback" not in err.getvalue()
    assert "--n-mbpm" in err.getvalue()
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------------------------
# Malformed marker, command errors
# ----------------------------------------------------------------------------------------------

MARKERS = {
    "invalid YAML": "seed: [1, 2\n",
    "plain string": "just a sentence\n",
    "python tag": "!!python/object/apply:os.system ['echo owned']\n",
    "list": "- 1\n- 2\n",
    "seed not a number": "seed: abc\ngenerator_version: '1.0'\nn_mbpm: 4\nn_wl: 4\nn_hc: 3\n",
    "missing version": "seed: 1\n",
    "negative size": "seed: 1\ngenerator_version: '1.0'\nn_mbpm: -4\n",
    "binary": "\xff\xfe\x00",
}


@pytest.mark.parametrize("name", MARKERS)
def test_malformed_marker_is_one_message(folder: Path, name: str) -> None:
    (folder / "SIMULATED").write_bytes(MARKERS[name].encode("latin-1"))
    with pytest.raises(DataError, match="^SIMULATED"):
        io.read_simulation_marker(folder)
    status, out, err = run("validate", str(folder))
    assert status == 1 and "ERROR   SIMULATED" in out and not err
    assert_one_line_error(*run("export", str(folder), str(folder.parent / "out"))[::2], "SIMULATED")


def test_command_errors_are_one_line(folder: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert_one_line_error(*run("export", str(folder), str(a_file))[::2], "not a folder")
    assert_one_line_error(*run("export", str(folder), str(a_file / "sub"))[::2], "Not a directory")
    assert_one_line_error(*run("export", str(folder), str(folder))[::2], "is the data folder")
    assert_one_line_error(*run("export", str(tmp_path / "missing"), str(tmp_path / "o"))[::2], "not found")
    status, out, _ = run("validate", str(tmp_path / "missing"))
    assert status == 1 and "data folder not found" in out
    assert_one_line_error(*run("simulate", str(a_file), "--seed", "1")[::2], "not a folder")
    assert_one_line_error(*run("simulate", str(tmp_path / "o"), "--seed", "1", "--params",
                               str(a_file))[::2], "YAML")


def test_unwritable_export_folder_is_one_line(folder: Path) -> None:
    """/proc refuses new folders even for root (chmod would not stop root)."""
    assert_one_line_error(*run("export", str(folder), "/proc/mbpm-export")[::2], "/proc/mbpm-export")


def test_no_traceback_in_a_subprocess(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mbpm", "export", str(tmp_path / "none"),
                             str(tmp_path / "o")], capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


# ----------------------------------------------------------------------------------------------
# A folder that validates must export: re-assays, absurd dilutions
# ----------------------------------------------------------------------------------------------

def _reassay_plate(folder: Path) -> tuple[str, str]:
    """Copy the first plate to a second plate of the same analyte (same wells, same ODs)."""
    layout = read_rows(folder / "plate_layout.csv")
    first = layout[1][0]
    again = first + "_rerun"
    layout += [[again, *r[1:]] for r in layout[1:] if r[0] == first]
    write_rows(folder / "plate_layout.csv", layout)
    shutil.copy(folder / "plates" / f"{first}.csv", folder / "plates" / f"{again}.csv")
    return first, again


def test_reassayed_samples_are_averaged_and_export(folder: Path, valid: Path, tmp_path: Path) -> None:
    first, again = _reassay_plate(folder)
    study = io.load_study(folder)
    clean = io.load_study(valid).biomarkers
    # the rerun has the same ODs, so the mean of the two runs is the single run's value
    got = study.biomarkers
    assert len(got) == len(clean)
    on_first = clean[clean["plate_id"] == first]
    measured = int((~on_first["flag"].isin(assays.CENSORED)).sum())  # averaged over both plates
    assert (got["plate_id"] == f"{first}+{again}").sum() == measured
    assert (got["plate_id"] == first).sum() == len(on_first) - measured  # censored: bound kept
    pd.testing.assert_frame_equal(got.drop(columns=["plate_id", "n_wells"]),
                                  clean.drop(columns=["plate_id", "n_wells"]))
    assert any(f"plates {first}+{again}" in m for _, m, _ in study.report.warnings)
    status, _, err = run("export", str(folder), str(tmp_path / "out"))
    assert status == 0, err
    flow = cohort.sample_flow(study).set_index("analyte")
    assert (flow["in layout"] - flow["failed plates"] - flow["runs contradict"] == flow["reported"]).all()
    assert flow["re-assayed"].sum() == (clean["plate_id"] == first).sum()


def _runs(*rows: tuple[str, str, float, str]) -> pd.DataFrame:
    """Sample rows (participant P001, baseline, oxytocin) of the given plates."""
    return pd.DataFrame([{"participant_id": "P001", "visit": "baseline", "analyte": "oxytocin",
                          "concentration": c, "unit": "pg/mL", "flag": f, "plate_id": plate,
                          "dilution": 1.0, "n_wells": 2, "od_mean": 0.5, "cv": 5.0, "lloq": 5.0,
                          "uloq": 900.0} for plate, f, c, *_ in rows])


@pytest.mark.parametrize("runs,expected", [
    ([("a", "", 10.0), ("b", "", 14.0)], (12.0, "", "a+b", "averaged")),  # (10 + 14) / 2
    ([("a", "below_lloq", 5.0), ("b", "", 8.0)], (8.0, "", "b", "averaged")),  # the measured run
    ([("a", "high_cv", 10.0), ("b", "", 20.0)], (15.0, "high_cv", "a+b", "averaged")),
    ([("a", "below_lloq", 5.0), ("b", "below_lloq", 3.0)], (3.0, "below_lloq", "b", "bound kept")),
    ([("a", "above_uloq", 900.0), ("b", "above_uloq", 1800.0)], (1800.0, "above_uloq", "b", "bound kept")),
    ([("a", "below_lloq", 5.0), ("b", "above_uloq", 900.0)], (None, None, None, "dropped: runs contradict")),
])
def test_combine_runs_rule(runs: list[tuple[str, str, float]], expected: tuple) -> None:
    combined, notes = assays.combine_runs(_runs(*runs))
    concentration, flag, plates, outcome = expected
    assert notes["outcome"].tolist() == [outcome] and notes["plates"].tolist() == ["a+b"]
    if concentration is None:
        assert combined.empty
        return
    assert combined[["concentration", "flag", "plate_id"]].values.tolist() == [[concentration, flag, plates]]


@pytest.mark.parametrize("value", ["1e308", "1e200", "10001"])
def test_absurd_dilution_fails_validate(folder: Path, value: str) -> None:
    rows = read_rows(folder / "plate_layout.csv")
    j = rows[0].index("dilution")
    i = next(i for i, r in enumerate(rows) if r[3] == "sample")
    rows[i][j] = value
    write_rows(folder / "plate_layout.csv", rows)
    status, out, _ = run("validate", str(folder))
    assert status == 1
    assert f"plate_layout.csv, row {i}" in out and "column dilution: expected a number from 1 to 10000" in out


# ----------------------------------------------------------------------------------------------
# A failed plate drops its samples unless told to stop
# ----------------------------------------------------------------------------------------------

def test_failed_plate_drops_its_samples_or_stops(folder: Path, valid: Path) -> None:
    plate = scramble_first_plate(folder)
    study = io.load_study(folder)
    assert study.report.usable
    warned = [(f, m, n) for f, m, n in study.report.warnings if f == f"plates/{plate}.csv"]
    assert len(warned) == 1 and "no usable standard curve" in warned[0][1]
    clean = io.load_study(valid).biomarkers
    lost = clean[clean["plate_id"] == plate]
    assert warned[0][2] == len(lost)
    assert plate not in set(study.biomarkers["plate_id"])
    assert len(study.biomarkers) == len(clean) - len(lost)
    flow = cohort.sample_flow(study).set_index("analyte")
    assert flow["failed plates"].sum() == len(lost)
    assert (flow["in layout"] - flow["failed plates"] - flow["runs contradict"] == flow["reported"]).all()
    with pytest.raises(DataError, match=f"no usable standard curve: plate {plate}"):
        io.load_study(folder, on_plate_failure="stop")


# ----------------------------------------------------------------------------------------------
# Size and messages
# ----------------------------------------------------------------------------------------------

def test_huge_file_is_refused_before_it_is_read(folder: Path) -> None:
    with open(folder / "questionnaires.csv", "r+b") as f:
        f.truncate(io.MAX_BYTES["questionnaires.csv"] + 1)  # sparse: no 100 MB written
    start = time.perf_counter()
    status, out, _ = run("validate", str(folder))
    assert status == 1 and "questionnaires.csv: expected at most 100,000,000 bytes" in out
    assert time.perf_counter() - start < 5


def test_plates_are_not_read_when_participants_fail(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = read_rows(folder / "participants.csv")
    rows[1][2] = "forty"
    write_rows(folder / "participants.csv", rows)
    read: list[str] = []
    original = io._read_grid
    monkeypatch.setattr(io, "_read_grid", lambda f, pid: read.append(pid) or original(f, pid))
    with pytest.raises(DataError, match="participants.csv, row 1"):
        io.load_study(folder)
    assert read == []


def test_messages_escape_control_characters_and_cut_long_values(folder: Path) -> None:
    rows = read_rows(folder / "participants.csv")
    rows[1][0] = "P0\x1b[31m01\nX"
    write_rows(folder / "participants.csv", rows)
    with pytest.raises(DataError) as err:
        io.load_study(folder)
    message = str(err.value)
    assert "column participant_id" in message
    assert "\x1b" not in message and "\n" not in message and "\\x1b[31m" in message
    rows[1][0] = "P001"
    rows[2][2] = "y" * 5000
    write_rows(folder / "participants.csv", rows)
    with pytest.raises(DataError) as err:
        io.load_study(folder)
    message = str(err.value)
    assert "column age" in message and len(message) < 200 and message.endswith("…")
