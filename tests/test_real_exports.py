"""Real exports as they arrive (issue 16): the cases of the issue's lists, each as a test.

Each case transforms a copy of the shipped data/ folder the way a real export differs from the
contract. A case that is a difference of form, not of data, is read through an import profile (the
``import`` section of the folder's study.yml) with results identical to the clean folder, and
without the profile it is rejected with a message that says which key to set. A case that is
wrong data is rejected with a message naming file, row or well, column and what was expected.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from _data_helpers import digests, read_rows, write_rows
from mbpm import export, io, study

CSV_FILES = ("participants.csv", "questionnaires.csv", "screening.csv", "plate_layout.csv")


def _rewrite(folder: Path, name: str, op: Callable[[list[list[str]]], list[list[str]]],
             delimiter: str = ",", encoding: str = "utf-8") -> None:
    rows = op(read_rows(folder / name))
    with open(folder / name, "w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\n").writerows(rows)


def _plates(folder: Path) -> list[str]:
    return [f"plates/{p.name}" for p in sorted((folder / "plates").glob("*.csv"))]


def _every_file(op: Callable[[list[list[str]]], list[list[str]]] = lambda r: r, delimiter: str = ",",
                plates: bool = True) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for name in [*CSV_FILES, *(_plates(folder) if plates else [])]:
            _rewrite(folder, name, op, delimiter)
    return edit


def _numeric_cells(name: str) -> set[str]:
    return {c.name for c in io.SCHEMA.get(name, ()) if c.kind != "text"}


def _decimal_comma(folder: Path) -> None:
    for name in [*CSV_FILES, *_plates(folder)]:
        def op(rows: list[list[str]], name: str = name) -> list[list[str]]:
            cols = [j for j, h in enumerate(rows[0]) if h in _numeric_cells(name)] if name in CSV_FILES \
                else range(1, 13)
            return [rows[0]] + [[c.replace(".", ",") if j in cols else c for j, c in enumerate(r)]
                                for r in rows[1:]]
        _rewrite(folder, name, op, ";")


def _column(name: str, op: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], None]:
    return lambda folder: _rewrite(folder, name, op)


def _redcap(rows: list[list[str]]) -> list[list[str]]:
    extra = ["redcap_event_name", "promis_timestamp", "promis_complete"]
    return [rows[0][:2] + extra + rows[0][2:]] + [r[:2] + [f"{r[1]}_arm_1", "2024-01-05 10:00", "2"] + r[2:]
                                                  for r in rows[1:]]


def _spaces(folder: Path) -> None:
    _rewrite(folder, "participants.csv", lambda rows: [[" participant_id ", *rows[0][1:]]]
             + [[f" {r[0]} ", *r[1:]] for r in rows[1:]])
    _rewrite(folder, "questionnaires.csv", lambda rows: [rows[0]] + [[f"{r[0]} ", *r[1:]] for r in rows[1:]])


def _labels(folder: Path) -> None:
    groups, visits = {"MBPM": "mbpm"}, {"baseline": "Baseline", "week8": "Week 8"}
    _rewrite(folder, "participants.csv", lambda rows: [rows[0]] + [[r[0], groups.get(r[1], r[1]), *r[2:]]
                                                                   for r in rows[1:]])
    _rewrite(folder, "questionnaires.csv", lambda rows: [rows[0]] + [[r[0], visits[r[1]], *r[2:]]
                                                                     for r in rows[1:]])


def _plate_files(op: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], None]:
    return lambda folder: [_rewrite(folder, name, op) for name in _plates(folder)]


def _metadata_block(rows: list[list[str]]) -> list[list[str]]:
    return ([["Plate reader: Example 200"], ["Wavelength: 450 nm"], ["Read at", "2024-01-05 10:00"], []]
            + rows + [[], ["Temperature", "22.1 C"]])


def _lowercase(rows: list[list[str]]) -> list[list[str]]:
    return [rows[0]] + [[r[0].lower(), *r[1:]] for r in rows[1:]]


def _long(rows: list[list[str]]) -> list[list[str]]:
    return [["Well", "OD450"]] + [[f"{r[0]}{j}", r[j]] for r in rows[1:] for j in range(1, 13)]


REASON = "moved to Montréal"


def _with_accent(folder: Path) -> None:
    """The clean side of the Latin-1 case: a withdrawal reason with a non-ASCII letter (UTF-8)."""
    def op(rows: list[list[str]]) -> list[list[str]]:
        k = rows[0].index("withdrawal_reason")
        i = next(i for i, r in enumerate(rows) if i and r[k])
        rows[i][k] = REASON
        return rows
    _rewrite(folder, "participants.csv", op)


def _latin1(folder: Path) -> None:
    _rewrite(folder, "participants.csv", lambda rows: rows, encoding="latin-1")


def _accent_row(folder: Path) -> int:
    rows = read_rows(folder / "participants.csv")
    return next(i for i, r in enumerate(rows) if REASON in r)


# name: (transform, profile, message of the strict default, extra transform of both sides)
PROFILE_CASES: dict[str, tuple[Callable[[Path], None], dict, str, Callable[[Path], None] | None]] = {
    "semicolon delimiter": (_every_file(delimiter=";"), {"delimiter": ";"},
                            "the header has one column: is the delimiter ';'? set import.delimiter", None),
    "tab delimiter": (_every_file(delimiter="\t"), {"delimiter": "\t"},
                      "the header has one column: is the delimiter a tab? set import.delimiter", None),
    "decimal comma": (_decimal_comma, {"delimiter": ";", "decimal": ","},
                      "the header has one column: is the delimiter ';'", None),
    "trailing empty column": (_column("participants.csv", lambda rows: [r + [""] for r in rows]),
                              {"ignore_columns": ["Unnamed: *"]},
                              "unknown column 'Unnamed: 8'", None),
    "REDCap columns": (_column("questionnaires.csv", _redcap),
                       {"ignore_columns": ["redcap_event_name", "*_timestamp", "*_complete"]},
                       "unknown column 'redcap_event_name'", None),
    "header in other case": (_column("questionnaires.csv", lambda rows: [["Participant_ID", *rows[0][1:]]] + rows[1:]),
                             {"columns": {"Participant_ID": "participant_id"}},
                             "set import.columns: {'Participant_ID': participant_id}", None),
    "value labels": (_labels, {"values": {"group": {"mbpm": "MBPM"},
                                          "visit": {"Baseline": "baseline", "Week 8": "week8"}}},
                     "map it: import.values: {group: {'mbpm': MBPM}}", None),
    "plate metadata block": (_plate_files(_metadata_block), {"plate_format": "block"},
                             "a metadata block around the grid? set import.plate_format: block", None),
    "plate row labels in lower case": (_plate_files(_lowercase), {"plate_format": "block"},
                                       "row labels in lower case: set import.plate_format: block", None),
    "plate long well,value layout": (_plate_files(_long), {"plate_format": "long"},
                                     "set import.plate_format: long", None),
    "Latin-1 file": (_latin1, {"encoding": "latin-1"},
                     "expected UTF-8 text, got byte 0xe9 (a Latin-1 or Windows-1252 file? save it as "
                     "UTF-8, or set import.encoding", _with_accent),
}


def _with_profile(folder: Path, profile: dict) -> None:
    doc = yaml.safe_load(study.DEFAULT_FILE.read_text(encoding="utf-8"))
    doc["import"] = {**(doc.get("import") or {}), **profile}
    (folder / study.FILE_NAME).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(io.SHIPPED_DATA, tmp_path / name))


def _same(a: io.Study, b: io.Study) -> None:
    for table in ("participants", "questionnaires", "screening", "layout", "scores", "biomarkers"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), obj=table)


@pytest.fixture(scope="module")
def clean() -> io.Study:
    return io.load_study(io.SHIPPED_DATA)


@pytest.mark.parametrize("name", list(PROFILE_CASES))
def test_strict_default_says_what_to_set(tmp_path: Path, name: str) -> None:
    transform, _, message, both = PROFILE_CASES[name]
    folder = _copy(tmp_path, "data")
    if both:
        both(folder)
    transform(folder)
    before = digests(folder)
    with pytest.raises(io.DataError) as err:
        io.load_study(folder)
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)
    assert digests(folder) == before


@pytest.mark.parametrize("name", list(PROFILE_CASES))
def test_profile_reads_the_export_as_the_clean_folder(tmp_path: Path, name: str, clean: io.Study) -> None:
    transform, profile, _, both = PROFILE_CASES[name]
    folder = _copy(tmp_path, "data")
    reference = clean
    if both:
        both(folder)
        reference = io.load_study(folder)
    transform(folder)
    _with_profile(folder, profile)
    _same(io.load_study(folder), reference)


def test_latin1_error_names_the_row_and_column(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "data")
    _with_accent(folder)
    row = _accent_row(folder)
    _latin1(folder)
    with pytest.raises(io.DataError, match=rf"^participants.csv, row {row}, column withdrawal_reason: "
                                           "expected UTF-8 text, got byte 0xe9"):
        io.load_study(folder)


def test_spaces_around_ids_and_headers_are_stripped_with_a_warning(tmp_path: Path, clean: io.Study) -> None:
    folder = _copy(tmp_path, "data")
    _spaces(folder)
    loaded = io.load_study(folder)
    _same(loaded, clean)
    warned = {(f, m) for f, m, _ in loaded.report.warnings}
    assert ("participants.csv", "participant_id cells with surrounding spaces, stripped") in warned
    assert ("questionnaires.csv", "participant_id cells with surrounding spaces, stripped") in warned
    assert any(f == "participants.csv" and m.startswith("header names with surrounding spaces") for f, m in warned)


def test_decimal_comma_without_its_key_says_so(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "data")
    _decimal_comma(folder)
    _with_profile(folder, {"delimiter": ";"})
    with pytest.raises(io.DataError, match=r"is the decimal mark ','\? set import.decimal"):
        io.load_study(folder)


def test_every_difference_at_once_exports_the_same_results(tmp_path: Path) -> None:
    """The whole messy export through one profile gives byte-identical exported CSV files."""
    folder = _copy(tmp_path, "messy")
    _spaces(folder)
    _labels(folder)
    _column("questionnaires.csv", _redcap)(folder)
    _column("participants.csv", lambda rows: [r + [""] for r in rows])(folder)
    _plate_files(_metadata_block)(folder)
    _decimal_comma(folder)
    _with_profile(folder, {"delimiter": ";", "decimal": ",", "plate_format": "block",
                           "ignore_columns": ["redcap_event_name", "*_timestamp", "*_complete", "Unnamed: *"],
                           "values": {"group": {"mbpm": "MBPM"},
                                      "visit": {"Baseline": "baseline", "Week 8": "week8"}}})
    ours = export.export(folder, tmp_path / "ours")
    theirs = export.export(io.SHIPPED_DATA, tmp_path / "theirs")
    for name in export.FILES:
        assert ours[name].read_bytes() == theirs[name].read_bytes(), name


# ----------------------------------------------------------------------------------------------
# Accepted although something is wrong: now each is rejected, naming where and what was expected
# ----------------------------------------------------------------------------------------------

def _standard_typo(folder: Path) -> None:
    def op(rows: list[list[str]]) -> list[list[str]]:
        i = next(i for i, r in enumerate(rows) if r[3] == "standard" and r[4] == "1000")
        rows[i][4] = "10000"
        return rows
    _rewrite(folder, "plate_layout.csv", op)


def _dilution(folder: Path) -> None:
    def op(rows: list[list[str]]) -> list[list[str]]:
        for r in rows[1:]:
            if r[3] == "sample":
                r[7] = "1e200"
                break
        return rows
    _rewrite(folder, "plate_layout.csv", op)


def _symlink(folder: Path) -> None:
    plate = folder / _plates(folder)[0]
    outside = folder.parent / "elsewhere.csv"
    shutil.copy(plate, outside)
    plate.unlink()
    plate.symlink_to(outside)


def _duplicated_header(folder: Path) -> None:
    _rewrite(folder, "participants.csv", lambda rows: [r + [r[2]] for r in rows])


WRONG_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "header-only questionnaires.csv": (_column("questionnaires.csv", lambda rows: rows[:1]),
                                       r"^questionnaires.csv: expected data rows under the header, got the header only$"),
    "standard concentration typo": (_standard_typo,
                                    r"^plate_layout.csv, row 1 \(plate oxytocin_01, well A1\), column concentration: "
                                    r"expected one of the standard levels of the other oxytocin plates "
                                    r"\(7.8125, .*, 500, 1000\), got '10000'$"),
    "dilution 1e200": (_dilution, r"^plate_layout.csv, row 10 \(plate oxytocin_01, well A10\), column dilution: "
                                  r"expected a number from 1 to 10000, got '1e200'"),
    "plate symlinked outside the folder": (_symlink, r"^plates/\w+.csv: expected a file inside the data folder, "
                                                     r"got a link to a file outside it"),
    "duplicated header": (_duplicated_header, r"^participants.csv, header row: column 'age' appears twice "
                                              r"\(columns 3 and 9\); expected each column once$"),
}


@pytest.mark.parametrize("name", list(WRONG_CASES))
def test_wrong_data_is_rejected_naming_where(tmp_path: Path, name: str) -> None:
    transform, pattern = WRONG_CASES[name]
    folder = _copy(tmp_path, "data")
    transform(folder)
    with pytest.raises(io.DataError, match=pattern):
        io.load_study(folder)
    assert io.validate_cli(folder) == 1


def test_standard_level_unlike_the_other_plates_is_named(tmp_path: Path) -> None:
    """Three plates of one analyte, two agreeing: the third's odd level is named with the others'."""
    folder = _copy(tmp_path, "data")
    rows = read_rows(folder / "plate_layout.csv")
    plates = sorted({r[0] for r in rows[1:] if r[1] == "il1b"})
    assert len(plates) >= 3, plates
    i = next(i for i, r in enumerate(rows) if r[0] == plates[0] and r[3] == "standard" and r[4] == "125")
    rows[i][4] = "120"  # a step of 1.92 and 2.08: inside the series rule, but not the other plates' level
    write_rows(folder / "plate_layout.csv", rows)
    with pytest.raises(io.DataError, match=rf"row {i} \(plate {plates[0]}, well .*\), column concentration: expected one of the standard "
                                           r"levels of the other il1b plates \(7.8125, .*\), got '120'$"):
        io.load_study(folder)


def test_standard_typo_on_a_lone_plate_breaks_its_series(tmp_path: Path) -> None:
    """One plate of an analyte (nothing to compare with): the typed level breaks the 1:2 series."""
    from _data_helpers import write_small

    folder = write_small(tmp_path / "small")
    rows = read_rows(folder / "plate_layout.csv")
    plate = rows[1][0]
    assert sum(1 for p in {r[0] for r in rows[1:] if r[1] == rows[1][1]}) == 1
    top = max((r for r in rows[1:] if r[0] == plate and r[3] == "standard"), key=lambda r: float(r[4]))
    i = rows.index(top)
    typed, level = f"{float(top[4]) * 10:g}", top[4]
    second = sorted({float(r[4]) for r in rows[1:] if r[0] == plate and r[3] == "standard"})[-2]
    for r in rows[1:]:
        if r[0] == plate and r[3] == "standard" and r[4] == level:
            r[4] = typed  # the typo is in the standards sheet, so both duplicate wells carry it
    write_rows(folder / "plate_layout.csv", rows)
    with pytest.raises(io.DataError, match=rf"^plate_layout.csv, row {i} \(plate {plate}, well {top[2]}\), column "
                                           rf"concentration: expected a dilution series \(each standard level about 2 "
                                           rf"times the one below, as the plate's other steps; a step of 20 from "
                                           rf"{second:g} to {typed} is not\), got '{typed}'$"):
        io.load_study(folder)
