"""A catalogue of bad data folders: each stops the load with one clear DataError, files untouched.

Every case copies a valid small folder, breaks one thing, and checks that the message names the
file, the row or well, the column and what was expected; then that no file's bytes changed.
"""

from __future__ import annotations

import csv
import io as _io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _data_helpers import digests, load, read_rows, write_rows, write_small
from mbpm.errors import DataError


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small(tmp_path_factory.mktemp("valid") / "data")


def _set(file: str, column: str, value: str, where: Callable[[dict[str, str]], bool] = lambda r: True,
         nth: int = 0) -> Callable[[Path], None]:
    """Set ``column`` of the ``nth`` data row matching ``where``."""
    def edit(folder: Path) -> None:
        rows = read_rows(folder / file)
        j = rows[0].index(column)
        hits = [i for i, r in enumerate(rows[1:], 1) if where(dict(zip(rows[0], r)))]
        rows[hits[nth]][j] = value
        write_rows(folder / file, rows)
    return edit


def _rowop(file: str, op: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        write_rows(folder / file, op(read_rows(folder / file)))
    return edit


def _first_plate(folder: Path) -> Path:
    return sorted((folder / "plates").glob("*.csv"))[0]


def _plate(op: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = _first_plate(folder)
        write_rows(path, op(read_rows(path)))
    return edit


def _unlink(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def _column(file: str, old: str, new: str | None) -> Callable[[Path], None]:
    """Rename a column (``new``) or drop it (``new=None``)."""
    def op(rows: list[list[str]]) -> list[list[str]]:
        j = rows[0].index(old)
        if new is None:
            return [r[:j] + r[j + 1:] for r in rows]
        rows[0][j] = new
        return rows
    return _rowop(file, op)


def is_hc(r: dict[str, str]) -> bool:
    return r.get("group") == "HC"


def is_patient(r: dict[str, str]) -> bool:
    return r.get("group") in ("MBPM", "WL")


def _completer(r: dict[str, str]) -> bool:
    return r.get("completed_week8") == "yes"


def _swap_visit_of_hc(folder: Path) -> None:
    hc = [r[0] for r in read_rows(folder / "participants.csv")[1:] if r[1] == "HC"][0]
    rows = read_rows(folder / "questionnaires.csv")
    rows.append([hc, "week8"] + rows[1][2:])
    write_rows(folder / "questionnaires.csv", rows)


def _week8_for_dropout(folder: Path) -> None:
    p = read_rows(folder / "participants.csv")
    j = p[0].index("completed_week8")
    patient = next(r for r in p[1:] if r[j] == "yes")
    patient[j], patient[p[0].index("withdrawal_reason")] = "no", "moved away"
    write_rows(folder / "participants.csv", p)


def _screening_total(folder: Path) -> None:
    rows = read_rows(folder / "screening.csv")
    rows[1][2] = str(int(rows[1][2]) + 1)
    write_rows(folder / "screening.csv", rows)


def _layout_where(role: str) -> Callable[[dict[str, str]], bool]:
    return lambda r: r["role"] == role


def _two_analytes(folder: Path) -> None:
    rows = read_rows(folder / "plate_layout.csv")
    rows[5][1] = "il6" if rows[5][1] != "il6" else "il8"
    write_rows(folder / "plate_layout.csv", rows)


def _few_standards(folder: Path) -> None:
    rows = read_rows(folder / "plate_layout.csv")
    plate = rows[1][0]
    std = [r for r in rows[1:] if r[0] == plate and r[3] == "standard"]
    keep = sorted({r[4] for r in std}, key=float)[-3:]  # the 3 highest levels stay
    for r in std:
        r[4] = r[4] if r[4] in keep else keep[0]
    write_rows(folder / "plate_layout.csv", rows)




def _hc_sample_week8(folder: Path) -> None:
    hc = [r[0] for r in read_rows(folder / "participants.csv")[1:] if r[1] == "HC"][0]
    rows = read_rows(folder / "plate_layout.csv")
    s = next(r for r in rows[1:] if r[5] == hc)
    s[6] = "week8"
    write_rows(folder / "plate_layout.csv", rows)


CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    ("missing participants file", _unlink("participants.csv"), ["participants.csv: file missing"]),
    ("missing questionnaires file", _unlink("questionnaires.csv"), ["questionnaires.csv: file missing"]),
    ("missing screening file", _unlink("screening.csv"), ["screening.csv: file missing"]),
    ("missing plate file", lambda f: _first_plate(f).unlink(), ["file missing", "named in plate_layout.csv"]),
    ("empty participants file", lambda f: (f / "participants.csv").write_text(""),
     ["participants.csv", "could not read it"]),
    ("missing column", _column("participants.csv", "age", None), ["participants.csv: missing column age"]),
    ("unknown column", _column("questionnaires.csv", "pcs_13", "pcs_14"),
     ["questionnaires.csv: missing column pcs_13"]),
    ("unknown extra column", _rowop("participants.csv", lambda rows: [r + ["x"] for r in rows]),
     ["participants.csv: unknown column 'x'"]),
    ("age not a number", _set("participants.csv", "age", "forty"),
     ["participants.csv, row 1 (P001), column age: expected an integer from 18 to 60, got 'forty'"]),
    ("age out of range", _set("participants.csv", "age", "71"),
     ["row 1 (P001), column age: expected an integer from 18 to 60, got '71'"]),
    ("age not whole", _set("participants.csv", "age", "30.5"), ["column age: expected an integer", "'30.5'"]),
    ("bad group", _set("participants.csv", "group", "CTRL"),
     ["participants.csv, row 1 (P001), column group: expected one of MBPM, WL, HC, got 'CTRL'"]),
    ("bad sex", _set("participants.csv", "sex", "female"), ["column sex: expected one of F, M, got 'female'"]),
    ("bad participant id", _set("participants.csv", "participant_id", "X12"),
     ["column participant_id: expected P followed by 3 digits, got 'X12'"]),
    ("duplicate participant", _set("participants.csv", "participant_id", "P001", nth=1),
     ["participants.csv, row 2 (P001), column participant_id: expected a unique participant_id (already in row 1)"]),
    ("pain shorter than three months", _set("participants.csv", "pain_years", "0.1", is_patient),
     ["column pain_years: expected a number of at least 0.25, got '0.1'"]),
    ("HC with pain condition", _set("participants.csv", "pain_condition", "fibromyalgia", is_hc),
     ["column pain_condition: expected an empty cell for the reference group (HC), got 'fibromyalgia'"]),
    ("HC with pain years", _set("participants.csv", "pain_years", "3", is_hc),
     ["column pain_years: expected an empty cell for the reference group (HC)"]),
    ("patient without completion", _set("participants.csv", "completed_week8", "", is_patient),
     ["column completed_week8: expected a value for a patient", "got an empty cell"]),
    ("withdrawal reason for a completer", _set("participants.csv", "withdrawal_reason", "bored", _completer),
     ["column withdrawal_reason: expected an empty cell unless completed_week8 is no, got 'bored'"]),
    ("item out of range", _set("questionnaires.csv", "promis_pf1", "7"),
     ["questionnaires.csv, row 1 (P001), column promis_pf1: expected an integer from 1 to 5, got '7'"]),
    ("item not a number", _set("questionnaires.csv", "bdi_16", "1a"),
     ["column bdi_16: expected an integer from 0 to 3, got '1a'"]),
    ("item not whole", _set("questionnaires.csv", "pcs_3", "2.5"), ["column pcs_3: expected an integer from 0 to 4"]),
    ("vas out of range", _set("questionnaires.csv", "mpq_vas", "140"),
     ["column mpq_vas: expected a number from 0 to 100, got '140'"]),
    ("bad visit name", _set("questionnaires.csv", "visit", "week 8"),
     ["column visit: expected one of baseline, week8, got 'week 8'"]),
    ("duplicate visit", _set("questionnaires.csv", "participant_id", "P001", nth=1),
     ["questionnaires.csv, row 2 (P001), column visit: expected a unique participant and visit"]),
    ("HC with a week8 row", _swap_visit_of_hc,
     ["questionnaires.csv", "column visit: expected baseline (healthy controls are measured once), got 'week8'"]),
    ("week8 row of a dropout", _week8_for_dropout, ["column visit: expected baseline (participants.csv says completed_week8 = no)"]),
    ("unknown participant in questionnaires", _set("questionnaires.csv", "participant_id", "P999"),
     ["questionnaires.csv, row 1 (P999), column participant_id: expected a participant_id listed in participants.csv"]),
    ("screening counts do not match enrolment", _screening_total,
     ["screening.csv, row 1, column count: expected assessed - excluded", "the 8 patients"]),
    ("two assessed rows", _set("screening.csv", "stage", "assessed", nth=1),
     ["screening.csv, column stage: expected exactly one row 'assessed', got 2"]),
    ("negative screening count", _set("screening.csv", "count", "-3", nth=1),
     ["screening.csv, row 2, column count: expected an integer from 0 to 1e+06, got '-3'"]),
    ("unknown participant in plate layout", _set("plate_layout.csv", "participant_id", "P999", _layout_where("sample")),
     ["plate_layout.csv, row", "column participant_id: expected a participant_id listed in participants.csv, got 'P999'"]),
    ("duplicate well", _set("plate_layout.csv", "well", "A1", nth=1),
     ["plate_layout.csv, row 2", "column well: expected a unique well on this plate"]),
    ("well off the plate", _set("plate_layout.csv", "well", "I13"), ["column well: expected a well A1 to H12, got 'I13'"]),
    ("standard without concentration", _set("plate_layout.csv", "concentration", "", _layout_where("standard")),
     ["column concentration: expected a value for a standard well", "got an empty cell"]),
    ("standard with zero concentration", _set("plate_layout.csv", "concentration", "0", _layout_where("standard")),
     ["column concentration: expected a number > 0 and at most 1e+06, got '0'"]),
    ("concentration on a sample", _set("plate_layout.csv", "concentration", "5", _layout_where("sample")),
     ["column concentration: expected an empty cell for a sample well (standards only)"]),
    ("sample without participant", _set("plate_layout.csv", "participant_id", "", _layout_where("sample")),
     ["column participant_id: expected a value for a sample well"]),
    ("dilution below one", _set("plate_layout.csv", "dilution", "0.5", _layout_where("sample")),
     ["column dilution: expected a number from 1 to 10000, got '0.5'"]),
    ("bad analyte", _set("plate_layout.csv", "analyte", "cortisol"), ["column analyte: expected one of oxytocin"]),
    ("two analytes on a plate", _two_analytes, ["column analyte: expected", "(one analyte per plate)"]),
    ("bad role", _set("plate_layout.csv", "role", "control"), ["column role: expected one of standard, blank, sample"]),
    ("too few standard levels", _few_standards,
     ["plate_layout.csv, plate", "expected standards with at least 4 distinct concentrations", "got 3"]),
    ("HC sample at week 8", _hc_sample_week8, ["column visit: expected baseline", "is in HC, Healthy controls", "'week8'"]),
    ("plate grid missing a row", _plate(lambda rows: rows[:-1]),
     ["plates/", "first column: expected row labels A to H in order"]),
    ("plate grid bad header", _plate(lambda rows: [["", *map(str, range(0, 12))]] + rows[1:]),
     ["plates/", "header row: expected columns 1 to 12"]),
    ("plate grid extra column", _plate(lambda rows: [r + ["13" if i == 0 else "0.1"] for i, r in enumerate(rows)]),
     ["plates/", "header row: expected columns 1 to 12"]),
    ("plate grid ragged row", _plate(lambda rows: rows[:3] + [rows[3] + ["0.1", "0.2"]] + rows[4:]),
     ["plates/", "could not read it"]),
    ("non-numeric OD", _plate(lambda rows: rows[:2] + [[rows[2][0], "high", *rows[2][2:]]] + rows[3:]),
     ["plates/", "well B1: expected an optical density (a number >= 0), got 'high'"]),
    ("negative OD", _plate(lambda rows: rows[:1] + [[rows[1][0], *rows[1][1:12], "-0.2"]] + rows[2:]),
     ["plates/", "well A12: expected an optical density (a number >= 0), got '-0.2'"]),
]


def test_catalogue_is_large_and_distinct() -> None:
    assert len(CASES) >= 25
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("name,corrupt,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(valid: Path, tmp_path: Path, name: str, corrupt: Callable[[Path], None],
                   expected: list[str]) -> None:
    folder = tmp_path / "data"
    shutil.copytree(valid, folder)
    corrupt(folder)
    before = digests(folder)
    with pytest.raises(DataError) as err:
        load(folder)
    message = str(err.value)
    for part in expected:
        assert part in message, message
    assert "\n" not in message  # one message
    assert digests(folder) == before  # raw files never modified


# ----------------------------------------------------------------------------------------------
# Property: any random corruption gives a clean load or a DataError, nothing else
# ----------------------------------------------------------------------------------------------

FILES = ["participants.csv", "questionnaires.csv", "screening.csv", "plate_layout.csv", "PLATE"]
junk = st.one_of(st.just(""), st.text(max_size=6), st.integers(-5, 200).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(str), st.sampled_from(
                     ["HC", "week8", "P001", "A1", "standard", "sample", "nan", "1e9", ",", '"', "yes"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from(FILES), row=st.integers(0, 400), col=st.integers(0, 300), value=junk,
       op=st.sampled_from(["cell", "drop_row", "dup_row", "truncate"]))
def test_random_corruption_is_clean_or_data_error(valid: Path, file: str, row: int, col: int,
                                                  value: str, op: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(valid, folder)
        path = _first_plate(folder) if file == "PLATE" else folder / file
        rows = read_rows(path)
        i = row % len(rows)
        if op == "cell":
            rows[i][col % len(rows[i])] = value
            write_rows(path, rows)
        elif op == "drop_row":
            write_rows(path, rows[:i] + rows[i + 1:])
        elif op == "dup_row":
            write_rows(path, rows[:i + 1] + rows[i:])
        else:
            buffer = _io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            text = buffer.getvalue()
            path.write_text(text[: (row * 7 + col) % max(len(text), 1)], encoding="utf-8")
        before = digests(folder)
        try:
            load(folder)
        except DataError as err:
            assert str(err)
        assert digests(folder) == before
