"""Read a data folder's raw files as its import profile says (the ``import`` section of the study
definition, :class:`mbpm.study.ImportProfile`), and say what to set when a strict read fails.

A real export differs from the data contract in ways that are not errors of the data: a European
Excel export's ``;`` and decimal comma, REDCap's own columns, ``Baseline`` for ``baseline``, a
plate reader's metadata block around the grid. The profile names each difference; without one the
read is the contract's (strict), and the message of a failure says which key would read the file
(:func:`header_hint`, :func:`value_hint`, :func:`number_hint`, :func:`plate_hint`).

Always, whatever the profile: a file that resolves outside the folder (a symbolic link) is
refused (:func:`check_inside`); a header naming a column twice is reported as such; a byte the
encoding cannot read is reported with its row and column (:func:`decode`); whitespace around
participant IDs, plate IDs, wells and header names is stripped with a warning.

>>> hint = header_hint(["participant_id;group;age"])
>>> "set import.delimiter" in hint
True
"""

from __future__ import annotations

import csv
import io as _io
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mbpm.errors import DataError
from mbpm.literal import visible
from mbpm.study import ImportProfile

#: Columns whose cells are identifiers: surrounding whitespace is stripped (with a warning).
ID_COLUMNS = ("participant_id", "plate_id", "well")
#: Columns a REDCap or spreadsheet export adds of its own (the hint of an unknown column).
EXPORT_COLUMNS = ("redcap_*", "*_timestamp", "*_complete", "Unnamed: *")
#: Longest value a message echoes.
SHOWN = 60

#: A warning of the read: (file, message, count), as :meth:`mbpm.io.ValidationReport.warn` takes.
Note = tuple[str, str, int]


def _shown(value: Any) -> str:
    return visible(value, SHOWN)


def check_inside(folder: Path, path: Path, name: str) -> None:
    """Refuse a file of the folder that resolves outside it (a symbolic link elsewhere): the
    folder is what was validated and fingerprinted, and a link could read any file of the machine."""
    real, root = path.resolve(), folder.resolve()
    if not real.is_relative_to(root):
        raise DataError(f"{name}: expected a file inside the data folder, got a link to a file "
                        f"outside it ({_shown(real)}); copy the file into the folder")


def decode(raw: bytes, name: str, profile: ImportProfile) -> str:
    """The text of a file in the profile's encoding (a UTF-8 byte-order mark dropped).

    An undecodable byte raises DataError naming the row (1 = the first row under the header;
    counted by line ends, so a quoted line break before it shifts the count) and the column.

    >>> decode("a,b\\n1,é\\n".encode("latin-1"), "x.csv", ImportProfile())
    Traceback (most recent call last):
    mbpm.errors.DataError: x.csv, row 1, column b: expected UTF-8 text, got byte 0xe9 (a Latin-1 or Windows-1252 file? save it as UTF-8, or set import.encoding, e.g. latin-1)
    """
    encoding = "utf-8-sig" if profile.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else profile.encoding
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start)
        start = raw.rfind(b"\n", 0, err.start) + 1
        field = _fields(raw[start:err.start].decode(encoding, errors="replace"), profile.delimiter)
        header = _fields(raw[:raw.find(b"\n")].decode(encoding, errors="replace"), profile.delimiter)
        column = header[len(field) - 1] if line and len(field) <= len(header) else f"{len(field)}"
        where = f"row {line}, column {_shown(column.strip())}" if line else f"header row, column {len(field)}"
        label = "UTF-8" if encoding == "utf-8-sig" else profile.encoding
        raise DataError(f"{name}, {where}: expected {label} text, got byte 0x{raw[err.start]:02x} "
                        "(a Latin-1 or Windows-1252 file? save it as UTF-8, or set import.encoding, "
                        "e.g. latin-1)") from None


def _fields(line: str, delimiter: str) -> list[str]:
    return _split(line.rstrip("\r"), delimiter, "a line")[0] if line else [""]


def _split(text: str, delimiter: str, name: str) -> list[list[str]]:
    """Rows of CSV text (:mod:`csv`); its errors (a field above the csv module's limit) as DataError."""
    try:
        return list(csv.reader(_io.StringIO(text), delimiter=delimiter)) or [[""]]
    except csv.Error as err:
        raise DataError(f"{name}: expected a CSV file, could not read it: {_shown(err)}") from None


def read_csv(path: Path, name: str, profile: ImportProfile, **kwargs: Any) -> pd.DataFrame:
    """A CSV file as text cells (:func:`decode`, the profile's delimiter); a column named twice
    in the header raises DataError (pandas would rename the second ``age.1``)."""
    text = decode(path.read_bytes(), name, profile)
    try:
        frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                            sep=profile.delimiter, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        reason = _shown(str(err).strip().splitlines()[0]) if str(err).strip() else type(err).__name__
        header = _fields(text.split("\n", 1)[0], profile.delimiter)
        raise DataError(f"{name}: expected a CSV file with a header row, could not read it: {reason}"
                        + header_hint(header)) from None
    if kwargs.get("header", "infer") is not None:
        header = _split(text.split("\n", 1)[0], profile.delimiter, name)[0]
        names = [h.strip() for h in header]
        twice = next((h for i, h in enumerate(names) if h and h in names[:i]), None)
        if twice is not None:
            where = [i + 1 for i, h in enumerate(names) if h == twice]
            raise DataError(f"{name}, header row: column {_shown(repr(twice))} appears twice (columns "
                            f"{where[0]} and {where[1]}); expected each column once")
    return frame


def apply(name: str, frame: pd.DataFrame, profile: ImportProfile, numeric: set[str],
          notes: list[Note]) -> pd.DataFrame:
    """A raw table as the contract names it: header names stripped, ``ignore_columns`` dropped,
    ``columns`` renamed, ID cells stripped, ``values`` mapped, decimal commas of ``numeric``
    columns read as points. Every change made without the profile (stripping) is a warning."""
    stripped = [c for c in frame.columns if isinstance(c, str) and c != c.strip()]
    if stripped:
        notes.append((name, "header names with surrounding spaces, stripped: "
                      + ", ".join(_shown(repr(c)) for c in stripped[:3]), len(stripped)))
        frame = frame.rename(columns={c: c.strip() for c in stripped})
    drop = [c for c in frame.columns if any(fnmatchcase(str(c), p) for p in profile.ignore_columns)]
    if drop:
        notes.append((name, "columns ignored (import.ignore_columns): "
                      + ", ".join(_shown(c) for c in drop[:5]) + (" …" if len(drop) > 5 else ""), len(drop)))
        frame = frame.drop(columns=drop)
    if profile.columns:
        frame = frame.rename(columns=dict(profile.columns))
    frame = frame.copy()
    for column in ID_COLUMNS:
        if column in frame.columns:
            cells = frame[column].astype(str)
            n = _unstripped(cells)
            if n:
                notes.append((name, f"{column} cells with surrounding spaces, stripped", n))
                frame[column] = cells.str.strip()
    for column, mapping in profile.values:
        if column in frame.columns:
            frame[column] = frame[column].replace(dict(mapping))
    if profile.decimal == ",":
        for column in numeric & set(frame.columns):
            frame[column] = frame[column].str.replace(",", ".", regex=False)
    return frame


def _unstripped(cells: pd.Series) -> int:
    """How many cells have surrounding whitespace: ``(cells != cells.str.strip()).sum()``,
    stripping each distinct cell once (an ID column repeats its values)."""
    codes, distinct = pd.factorize(cells)
    if (codes < 0).any():  # a missing cell: the plain comparison (NaN != NaN counts)
        return int((cells != cells.str.strip()).sum())
    changed = np.array([value != value.strip() for value in distinct], dtype=bool)
    return int(changed[codes].sum()) if changed.any() else 0


# ----------------------------------------------------------------------------------------------
# Plate reader formats: each gives the contract's grid rows (header ",1..12", rows A..H)
# ----------------------------------------------------------------------------------------------

_COLUMNS = [str(c) for c in range(1, 13)]
_ROWS = list("ABCDEFGH")


def read_plate(path: Path, name: str, profile: ImportProfile) -> list[list[str]]:
    """A plate file read through the profile: :func:`decode`, split at the delimiter (rows may
    differ in length: a metadata block), :func:`plate_rows`, decimal commas read as points."""
    text = decode(path.read_bytes(), name, profile)
    cells = _split(text, profile.delimiter, name)
    rows = plate_rows([row for row in cells if any(c.strip() for c in row)], name, profile)
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    if profile.decimal == ",":
        rows = [rows[0]] + [[r[0], *(c.replace(",", ".") for c in r[1:])] for r in rows[1:]]
    return rows


def plate_rows(cells: list[list[str]], name: str, profile: ImportProfile) -> list[list[str]]:
    """A plate file's cells (rows of text) as the contract's grid rows, as ``plate_format`` says:
    ``grid`` unchanged; ``block`` the 9 rows from the header ``,1,...,12`` on, wherever it is,
    row labels upper-cased; ``long`` a header row, then ``well,value`` rows A1..H12 in any order."""
    if not cells:
        raise DataError(f"{name}: expected a plate reader export, got an empty file")
    if profile.plate_format == "grid":
        return cells
    if profile.plate_format == "long":
        return _from_long(cells, name)
    clean = [[str(c).strip() for c in row] for row in cells]
    start = next((i for i, row in enumerate(clean) if row[1:13] == _COLUMNS and not any(row[13:])), None)
    if start is None or len(clean) < start + 9:
        raise DataError(f"{name}: expected a grid header ',1,...,12' followed by rows A to H somewhere "
                        "in the file (import.plate_format: block), found none")
    grid = [cells[start][:13]] + [[str(r[0]).strip().upper(), *r[1:13]] for r in cells[start + 1:start + 9]]
    return grid


def _from_long(cells: list[list[str]], name: str) -> list[list[str]]:
    body = [[str(c).strip() for c in row[:2]] for row in cells[1:] if any(str(c).strip() for c in row)]
    values = {}
    for i, row in enumerate(body, 1):
        well = row[0].upper() if row else ""
        if not re.fullmatch(r"[A-H](?:[1-9]|1[0-2])", well) or len(row) < 2:
            raise DataError(f"{name}, row {i}: expected 'well,value' with a well A1 to H12 "
                            f"(import.plate_format: long), got {_shown(','.join(row))}")
        if well in values:
            raise DataError(f"{name}, row {i}: well {well} appears twice")
        values[well] = row[1]
    missing = [f"{r}{c}" for r in _ROWS for c in _COLUMNS if f"{r}{c}" not in values]
    if missing:
        raise DataError(f"{name}: expected a value for every well A1 to H12, missing {', '.join(missing[:5])}")
    return [["", *_COLUMNS]] + [[r, *(values[f"{r}{c}"] for c in _COLUMNS)] for r in _ROWS]


# ----------------------------------------------------------------------------------------------
# Hints of the strict default: which key of the import section would read the file
# ----------------------------------------------------------------------------------------------

def header_hint(columns: list[str], expected: list[str] | None = None, unknown: str | None = None,
                missing: str | None = None) -> str:
    """What to set when a header does not match the contract (empty: no hint).

    >>> header_hint(["pid", "redcap_event_name"], ["participant_id"], "redcap_event_name")
    '; a column of the export itself? list it in import.ignore_columns'
    """
    if len(columns) == 1:
        for delimiter, label in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
            if delimiter in str(columns[0]):
                return f"; the header has one column: is the delimiter {label}? set import.delimiter"
    if missing is not None:
        alike = next((c for c in columns if _key(c) == missing), None)
        return f"; set import.columns: {{{alike!r}: {missing}}}" if alike else ""
    if unknown is None:
        return ""
    if any(fnmatchcase(unknown, p) for p in EXPORT_COLUMNS):
        return "; a column of the export itself? list it in import.ignore_columns"
    match = next((e for e in expected or [] if e == _key(unknown)), None)
    if match:
        return f"; set import.columns: {{{unknown!r}: {match}}}"
    return ""


def _key(name: str) -> str:
    """A header name as the contract would spell it: ``Participant ID`` -> ``participant_id``."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def value_hint(column: str, value: Any, allowed: tuple[str, ...] | None) -> str:
    """What to set when a text cell is not one of the allowed values but names one.

    >>> value_hint("visit", "Week 8", ("baseline", "week8"))
    "; map it: import.values: {visit: {'Week 8': week8}}"
    """
    if not allowed or not isinstance(value, str):
        return ""
    key = re.sub(r"[\s_\-]+", "", value.lower())
    match = next((a for a in allowed if re.sub(r"[\s_\-]+", "", a.lower()) == key), None)
    if match is None:
        return ""
    return f"; map it: import.values: {{{column}: {{{value!r}: {match}}}}}"


def number_hint(value: Any) -> str:
    """What to set when a number cell has a decimal comma (``2,7``)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d*,\d+\s*", value):
        return "; is the decimal mark ','? set import.decimal"
    return ""


def plate_hint(rows: list[str], columns: list[str]) -> str:
    """What to set when a plate file is not the contract's grid."""
    if [r.upper() for r in rows] == _ROWS:
        return "; row labels in lower case: set import.plate_format: block"
    if len(columns) <= 2:
        return "; one 'well,value' row per well? set import.plate_format: long"
    return "; a metadata block around the grid? set import.plate_format: block"
