"""Find, read and validate a study data folder (the data-contract layout, shown in the data chapter) and build the ``Study``.

``MBPM_DATA`` names the folder; without it the simulated cohort shipped in ``data/`` is used.
File sizes are checked first (:data:`MAX_BYTES`) and the small files before the plates; every
file is validated before anything is computed; the first problem of each file is recorded and
the load stops with a :class:`~mbpm.errors.DataError` naming file, row or well, column and what
was expected (values cut to :data:`MESSAGE_CHARS` characters, control characters escaped).
A plate whose standard curve cannot be used is not a contract breach: its samples are left out
and reported per plate, unless ``on_plate_failure="stop"`` (:data:`PLATE_FAILURE_POLICIES`).
Raw files are only read, never written. Rows are numbered from 1 = the first row under the
header.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mbpm import importing, study
from mbpm.assays import ANALYTES, COMPETITIVE, factorize, key_codes
from mbpm.errors import DataError
from mbpm.folders import SHIPPED_DATA, data_dir  # noqa: F401 - part of this module's interface
from mbpm.instruments.items import ITEM_SETS
from mbpm.literal import visible
from mbpm.study import ImportProfile, StudyDefinitionError, import_for_folder

#: Marker written by mbpm.simulate into every simulated folder (seed, generator version, sizes).
SIMULATION_MARKER = "SIMULATED"

#: Arms and visits of the study definition in use (:func:`mbpm.study.active`): every id, the
#: reference group (measured at fewer visits, no patient columns; None if the study has none) and
#: the pre and post visits.
_DEFINITION = study.active()
GROUPS = _DEFINITION.arm_ids
VISITS = _DEFINITION.visit_ids
_REF = _DEFINITION.reference
REFERENCE = _REF.id if _REF else None
PRE, POST = _DEFINITION.pre.id, _DEFINITION.post.id


def _either(ids: tuple[str, ...]) -> str:
    """``"A, B or C"``."""
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} or {ids[-1]}"


def _ref_rule(patient: str, reference: str = "empty") -> str:
    """A patient-only column's rule: ``"patients: <patient>; empty for HC"``."""
    return f"patients: {patient}" + (f"; {reference} for {REFERENCE}" if REFERENCE else "")
ROWS = tuple("ABCDEFGH")
PLATE_COLUMNS = tuple(str(c) for c in range(1, 13))


# ----------------------------------------------------------------------------------------------
# The schema: the one place that says what each file may contain (the codebook is made from it)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of a raw file and its cell-level rule.

    ``cells``: ``required`` (never empty), ``optional``, or ``conditional`` (required or
    forbidden depending on another column, as ``rule`` says; checked across rows).
    """

    name: str
    kind: str  # text | integer | number
    rule: str
    cells: str = "required"
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    present: bool = True  # False: the column itself may be absent


#: The participant ID rule (a regular expression a whole ID must match): the study definition's
#: ``participants.id_pattern`` (``P`` + 3 digits in the package's study.yml) unless a load says
#: otherwise (``participant_id=`` of :func:`load_study` and :func:`validate_tables`, or the
#: ``participant_id`` key of a folder's SIMULATED marker, which ``mbpm.simulate`` writes for
#: cohorts above 999). The rule that applies during a validation is :func:`participant_id_rule`.
PARTICIPANT_ID = _DEFINITION.participant_id
_ID_RULE: ContextVar[str] = ContextVar("participant_id_rule", default=PARTICIPANT_ID)


def participant_id_digits(digits: int) -> str:
    """The rule ``P`` + ``digits`` digits: ``participant_id_digits(3) == PARTICIPANT_ID``."""
    return rf"P\d{{{digits}}}"


def participant_id_rule() -> str:
    """The participant ID rule of the validation in progress (:data:`PARTICIPANT_ID` outside one)."""
    return _ID_RULE.get()


@contextmanager
def _id_rule(participant_id: str | None, marker: dict[str, Any] | None) -> Iterator[str]:
    """Make the rule of a load the one :func:`participant_id_rule` gives, inside the block:
    ``participant_id`` if given, else the SIMULATED marker's ``participant_id``, else
    :data:`PARTICIPANT_ID` (the study definition's)."""
    rule = participant_id or (marker or {}).get("participant_id") or PARTICIPANT_ID
    token = _ID_RULE.set(rule)
    try:
        yield rule
    finally:
        _ID_RULE.reset(token)


def _id_expected(rule: str) -> str:
    """How an error message names the rule: ``P followed by 3 digits`` for ``P\\d{3}``."""
    digits = re.fullmatch(r"P\\d\{(\d+)\}", rule)
    return f"P followed by {digits.group(1)} digits" if digits else f"an ID matching {rule}"


PLATE_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
WELL = r"[A-H](?:[1-9]|1[0-2])"

#: Plausibility limit of a sample's dilution factor: salivary ELISA kits dilute 1:1 to about
#: 1:100, so 1:10,000 is generous; a larger factor is a typing error, and an absurd one (1e200,
#: 1e308) overflows the concentrations to infinity.
MAX_DILUTION = 10_000
#: Plausibility limit of a standard's concentration (pg/mL; DHEA-S ng/mL): far above the top
#: standard of any kit of the study (oxytocin about 1,000 pg/mL, DHEA-S about 10,000 ng/mL).
MAX_STANDARD = 1e6

#: Plausibility limit of a screening count (a trial screening a million people is not this design).
MAX_SCREENED = 1_000_000

SCHEMA: dict[str, tuple[Column, ...]] = {
    "participants.csv": (
        Column("participant_id", "text",
               _id_expected(PARTICIPANT_ID).replace(" followed by ", " + ") + ", unique",
               pattern=PARTICIPANT_ID),
        Column("group", "text", _either(GROUPS), allowed=GROUPS),
        Column("age", "integer", "whole years, 18 to 60", minimum=18, maximum=60, integer=True),
        Column("sex", "text", "F or M", allowed=("F", "M")),
        Column("pain_condition", "text", _ref_rule("a category"), cells="conditional"),
        Column("pain_years", "number", _ref_rule("at least 0.25 (three months)"),
               cells="conditional", minimum=0.25),
        Column("completed_week8", "text", _ref_rule("yes or no"), cells="conditional",
               allowed=("yes", "no")),
        Column("withdrawal_reason", "text", "optional; only for patients with completed_week8 = no",
               cells="conditional"),
    ),
    "questionnaires.csv": (
        Column("participant_id", "text", "a participant_id of participants.csv", pattern=PARTICIPANT_ID),
        Column("visit", "text", f"{_either(VISITS)} ("
               + (f"{REFERENCE}: {_either(_REF.visits)} only; " if _REF else "")
               + f"one row per participant and visit; {POST} only for completed_week8 = yes)",
               allowed=VISITS),
        *(Column(c, "integer" if s.integer else "number",
                 f"{s.instrument}: {s.minimum:g} to {s.maximum:g}"
                 + (" (whole numbers)" if s.integer else "") + "; empty = unanswered",
                 cells="optional", minimum=s.minimum, maximum=s.maximum, integer=s.integer,
                 present=not s.optional)
          for s in ITEM_SETS for c in s.columns),
    ),
    "screening.csv": (
        Column("stage", "text", "assessed (one row) or excluded (one row per reason)",
               allowed=("assessed", "excluded")),
        Column("reason", "text", "empty for assessed; a unique reason for each excluded row",
               cells="conditional"),
        Column("count", "integer", f"0 to {MAX_SCREENED:,}; assessed - excluded = patients in "
               "participants.csv", minimum=0, maximum=MAX_SCREENED, integer=True),
    ),
    "plate_layout.csv": (
        Column("plate_id", "text", "names plates/<plate_id>.csv; one analyte per plate", pattern=PLATE_ID),
        Column("analyte", "text", ", ".join(ANALYTES), allowed=ANALYTES),
        Column("well", "text", "A1 to H12, unique within a plate", pattern=WELL),
        Column("role", "text", "standard, blank or sample", allowed=("standard", "blank", "sample")),
        Column("concentration", "number", "standards only: > 0 in the analyte's unit "
               f"(pg/mL; DHEA-S ng/mL), at most {MAX_STANDARD:g}; at least 4 distinct per plate",
               cells="conditional", minimum=0, maximum=MAX_STANDARD),
        Column("participant_id", "text", "samples only: a participant_id of participants.csv",
               cells="conditional", pattern=PARTICIPANT_ID),
        Column("visit", "text", "samples only: a visit that participant has", cells="conditional",
               allowed=VISITS),
        Column("dilution", "number", f"samples only, optional: 1 to {MAX_DILUTION:g} (empty = 1)",
               cells="conditional", minimum=1, maximum=MAX_DILUTION),
    ),
}
PLATE_FILE = "plates/<plate_id>.csv"
PLATE_RULE = ("plate reader grid: header ',1,...,12', then rows A to H, each with 12 optical "
              "densities (numbers >= 0)")
REQUIRED_FILES = tuple(SCHEMA)


def codebook() -> pd.DataFrame:
    """The codebook of a data folder, generated from :data:`SCHEMA`: one row per column."""
    rows = [{"file": f, "column": c.name, "type": c.kind, "rule": c.rule,
             "required": "yes" if c.cells == "required" and c.present else
             ("column optional" if not c.present else ("depends" if c.cells == "conditional" else "no"))}
            for f, cols in SCHEMA.items() for c in cols]
    rows.append({"file": PLATE_FILE, "column": "A1..H12", "type": "number", "rule": PLATE_RULE,
                 "required": "yes"})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# The report and the Study
# ----------------------------------------------------------------------------------------------

@dataclass
class ValidationReport:
    """Errors (each stops the load) and warnings (file, message, count) of one data folder."""

    errors: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str, int]] = field(default_factory=list)

    def warn(self, file: str, message: str, count: int) -> None:
        if count:
            self.warnings.append((file, message, int(count)))

    @property
    def usable(self) -> bool:
        return not self.errors

    def as_frame(self) -> pd.DataFrame:
        """One row per error, then per warning: severity, file, message, count."""
        rows = [("error", m.split(",")[0].split(":")[0], m, 1) for m in self.errors]
        rows += [("warning", f, m, n) for f, m, n in self.warnings]
        return pd.DataFrame(rows, columns=["severity", "file", "message", "count"])

    def text(self) -> str:
        lines = [f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines += [f"ERROR   {m}" for m in self.errors]
        lines += [f"warning {f}: {m} ({n})" for f, m, n in self.warnings]
        return "\n".join(lines)


@dataclass
class Study:
    """A validated study as plain tidy tables (see the data contract in the data chapter)."""

    participants: pd.DataFrame
    questionnaires: pd.DataFrame
    screening: pd.DataFrame
    layout: pd.DataFrame
    wells: pd.DataFrame
    scores: pd.DataFrame
    biomarkers: pd.DataFrame
    assay: Any
    report: ValidationReport
    simulation: dict[str, Any] | None
    source: str
    #: Samples measured on more than one plate and what became of them (assays.combine_runs).
    reassayed: pd.DataFrame = field(default_factory=pd.DataFrame)


# ----------------------------------------------------------------------------------------------
# Cell-level validation
# ----------------------------------------------------------------------------------------------

#: Longest value a message echoes (longer ones end in "…"; control characters are escaped).
MESSAGE_CHARS = 60


def _shown(value: Any) -> str:
    """A value of the folder as a message shows it: :func:`mbpm.literal.visible`, cut."""
    return visible(value, MESSAGE_CHARS)


def _got(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == "":
        return "an empty cell"
    return _shown(repr(value.item() if hasattr(value, "item") else value))


def _where(file: str, frame: pd.DataFrame, i: int) -> str:
    """``file, row N (P007)`` or ``file, row N (plate X, well Y)``."""
    label = ""
    if "well" in frame.columns and "plate_id" in frame.columns:
        label = f" (plate {_shown(frame['plate_id'].iloc[i])}, well {_shown(frame['well'].iloc[i])})"
    elif "participant_id" in frame.columns:
        pid = frame["participant_id"].iloc[i]
        label = f" ({_shown(pid)})" if isinstance(pid, str) and pid else ""
    return f"{file}, row {i + 1}{label}"


def _fail(file: str, frame: pd.DataFrame, i: int, column: str, expected: str, got: Any) -> DataError:
    return DataError(f"{_where(file, frame, i)}, column {column}: expected {expected}, got {_got(got)}")


def _text(series: pd.Series) -> pd.Series:
    """Text cells as str, with empty cells as NA (no stripping: ' MBPM' is not MBPM)."""
    s = series if series.dtype == "str" else series.astype("str")
    return s.mask(s == "")


def _text_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray, bool]:
    """:func:`_text` of a column as codes and distinct cells: ``_text(series).to_numpy()`` is
    ``distinct[codes]`` (object, NaN for an empty cell), from one factorization (a column holds
    few distinct values, and every rule is tested on them); and whether ``series`` is already
    that text (a ``str`` column without an empty-string cell)."""
    s = series if series.dtype == "str" else series.astype("str")
    codes, distinct = factorize(s, use_na_sentinel=False)
    empty = np.array([not isinstance(v, str) or v == "" for v in distinct], dtype=bool)
    same = series.dtype == "str" and not any(v == "" for v in distinct[empty])
    distinct[empty] = np.nan
    return codes, distinct, same


def _to_numbers(cells: Any) -> np.ndarray:
    """Cells as floats: ``pd.to_numeric(_text(cells), errors="coerce")`` (empty and unparseable
    cells NaN), parsing each distinct cell once (a column holds few distinct values)."""
    return _parse_numbers(cells)[0]


def _parse_numbers(cells: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_to_numbers` of the cells, and which cells are text that is not a number
    (``isna(number) & notna(_text(cells))``), both from the distinct cells."""
    codes, distinct = factorize(cells, use_na_sentinel=False)
    text = _text(pd.Series(np.asarray(distinct, dtype=object), dtype=object))
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    return values[codes], (np.isnan(values) & text.notna().to_numpy())[codes]


def _fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Which text cells match ``pattern`` in full (NA: False), testing each distinct cell once."""
    codes, distinct = factorize(values, use_na_sentinel=False)
    hits = pd.Series(distinct).str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    return hits[codes]


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _expected(c: Column) -> str:
    if c.allowed:
        return "one of " + ", ".join(c.allowed)
    if c.pattern:
        return {PARTICIPANT_ID: _id_expected(participant_id_rule()), WELL: "a well A1 to H12",
                PLATE_ID: "letters, digits, _ . - (a file name)"}[c.pattern]
    kind = "an integer" if c.integer else "a number"
    if c.name == "concentration":
        return "a number > 0" + ("" if c.maximum is None else f" and at most {c.maximum:g}")
    if c.minimum is not None and c.maximum is not None:
        return f"{kind} from {c.minimum:g} to {c.maximum:g}"
    if c.minimum is not None:
        return f"{kind} of at least {c.minimum:g}" if c.name != "concentration" else "a number > 0"
    return kind


def _numbers(file: str, frame: pd.DataFrame, cols: list[Column]) -> pd.DataFrame:
    """Parse numeric columns at once; the first unparseable, non-whole or out-of-range cell fails."""
    raw = frame[[c.name for c in cols]]
    parsed = {}
    for c, dtype in zip(cols, raw.dtypes):
        if pd.api.types.is_numeric_dtype(dtype):
            continue
        series = raw[c.name]
        numbers, unparsed = _parse_numbers(series)
        values = pd.Series(numbers, index=series.index)
        i = _first(unparsed)
        if i is not None:
            raise DataError(str(_fail(file, frame, i, c.name, _expected(c), series.iloc[i]))
                            + importing.number_hint(series.iloc[i]))
        parsed[c.name] = values
    values = raw.assign(**parsed) if parsed else raw
    v = values.to_numpy(dtype=float)
    low = np.array([-np.inf if c.minimum is None else c.minimum for c in cols])
    high = np.array([np.inf if c.maximum is None else c.maximum for c in cols])
    whole = np.array([c.integer for c in cols])
    positive = np.array([c.name == "concentration" for c in cols])
    with np.errstate(invalid="ignore"):
        bad = (np.isinf(v) | (v < low) | (v > high) | (whole & (v != np.round(v)) & np.isfinite(v))
               | (positive & (v == 0)))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise _fail(file, frame, int(i), cols[j].name, _expected(cols[j]), raw.iloc[i, j])
    return pd.DataFrame(v, columns=raw.columns)


def _check_columns(file: str, frame: pd.DataFrame) -> None:
    schema = SCHEMA[file]
    names = [c.name for c in schema]
    missing = [c.name for c in schema if c.present and c.name not in frame.columns]
    columns = [str(c) for c in frame.columns]
    if missing:
        raise DataError(f"{file}: missing column {missing[0]} (expected columns: {', '.join(names)})"
                        + importing.header_hint(columns, names, missing=missing[0]))
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise DataError(f"{file}: unknown column {_shown(repr(str(unknown[0])))} (expected columns: {', '.join(names)})"
                        + importing.header_hint(columns, names, unknown[0]))
    dupes = pd.Index(frame.columns)[pd.Index(frame.columns).duplicated()]
    if len(dupes):
        raise DataError(f"{file}: column {_shown(dupes[0])} appears twice")


def _typed(file: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check the columns and every cell's type, allowed values and range; return typed columns."""
    _check_columns(file, frame)
    if frame.empty:
        raise DataError(f"{file}: expected data rows under the header, got the header only")
    present = [c for c in SCHEMA[file] if c.name in frame.columns]
    numeric = [c for c in present if c.kind != "text"]
    numbers = _numbers(file, frame, numeric) if numeric else pd.DataFrame(index=range(len(frame)))
    text = {}
    for c in present:
        if c.kind != "text":
            continue
        raw = frame[c.name]
        codes, values, same = _text_codes(raw)
        filled = np.array([isinstance(v, str) for v in values], dtype=bool)
        bad = np.zeros(len(values), dtype=bool)
        if c.allowed:
            bad = filled & ~np.array([v in c.allowed for v in values], dtype=bool)
        if c.pattern:
            pattern = re.compile(participant_id_rule() if c.pattern == PARTICIPANT_ID else c.pattern)
            bad |= filled & ~np.array([bool(f and pattern.fullmatch(v)) for f, v in zip(filled, values)],
                                      dtype=bool)
        if c.cells == "required":
            bad |= ~filled
        i = _first(bad[codes])
        if i is not None:
            raise DataError(str(_fail(file, frame, i, c.name, _expected(c), raw.iloc[i]))
                            + importing.value_hint(c.name, raw.iloc[i], c.allowed))
        text[c.name] = raw.array if same and filled.any() else values[codes]  # the same cells
    required = [j for j, c in enumerate(numeric) if c.cells == "required"]
    if required:
        empty = np.isnan(numbers.to_numpy()[:, required])
        if empty.any():
            i, j = np.argwhere(empty)[0]
            c = numeric[required[j]]
            raise _fail(file, frame, int(i), c.name, _expected(c), frame[c.name].iloc[i])
    typed = pd.concat([pd.DataFrame(text), numbers], axis=1)[[c.name for c in present]]
    if "age" in typed and file == "participants.csv":
        typed["age"] = typed["age"].astype("Int64")
    return typed


def _duplicates(file: str, frame: pd.DataFrame, keys: list[str], what: str) -> None:
    i = _first(pd.Series(key_codes(*(frame[k] for k in keys))).duplicated().to_numpy())
    if i is not None:
        j = _first((frame[keys] == frame[keys].iloc[i]).all(axis=1).to_numpy())
        raise _fail(file, frame, i, keys[-1], f"a unique {what} (already in row {j + 1})",
                    "/".join(str(frame[k].iloc[i]) for k in keys))


# ----------------------------------------------------------------------------------------------
# File-level and cross-file rules
# ----------------------------------------------------------------------------------------------

def _participants(frame: pd.DataFrame) -> pd.DataFrame:
    file = "participants.csv"
    p = _typed(file, frame)
    _duplicates(file, p, ["participant_id"], "participant_id")
    hc = (p["group"] == REFERENCE).to_numpy()
    for column in ("pain_condition", "pain_years", "completed_week8"):
        i = _first(~hc & p[column].isna().to_numpy())
        if i is not None:
            raise _fail(file, p, i, column, f"a value for a patient ({_rule(file, column)})", None)
        i = _first(hc & p[column].notna().to_numpy())
        if i is not None:
            raise _fail(file, p, i, column, f"an empty cell for the reference group ({REFERENCE})",
                        p[column].iloc[i])
    i = _first((p["completed_week8"] != "no").to_numpy() & p["withdrawal_reason"].notna().to_numpy())
    if i is not None:
        raise _fail(file, p, i, "withdrawal_reason", "an empty cell unless completed_week8 is no",
                    p["withdrawal_reason"].iloc[i])
    return p


def _not_measured(group: np.ndarray, visit: np.ndarray) -> np.ndarray:
    """Rows at a visit their arm is not measured at (the definition's ``arms[].visits``); each
    distinct visit and group is looked up once."""
    visits, visit_names = factorize(visit, use_na_sentinel=False)
    groups, group_names = factorize(group, use_na_sentinel=False)
    bad = np.zeros(len(group), dtype=bool)
    for arm in _DEFINITION.arms:
        in_arm = np.array([g == arm.id for g in group_names], dtype=bool)[groups]
        bad |= in_arm & ~np.isin(np.asarray(visit_names, dtype=object), arm.visits)[visits]
    return bad


def _measured_at(group: str, participant: str | None = None) -> str:
    """What a row of an arm measured at fewer visits expects: ``"baseline (healthy controls are
    measured once)"``; with ``participant``: ``"baseline (P007 is in HC, Healthy controls)"``."""
    arm = next(a for a in _DEFINITION.arms if a.id == group)
    if participant is not None:
        return f"{_either(arm.visits)} ({participant} is in {arm.id}, {arm.label})"
    once = "once" if len(arm.visits) == 1 else f"at {_either(arm.visits)} only"
    return f"{_either(arm.visits)} ({arm.label.lower()} are measured {once})"


def _rule(file: str, column: str) -> str:
    return next(c.rule for c in SCHEMA[file] if c.name == column)


def _questionnaires(frame: pd.DataFrame, p: pd.DataFrame, report: ValidationReport) -> pd.DataFrame:
    file = "questionnaires.csv"
    q = _typed(file, frame)
    _duplicates(file, q, ["participant_id", "visit"], "participant and visit")
    info = p.set_index("participant_id")
    known = q["participant_id"].isin(info.index).to_numpy()
    i = _first(~known)
    if i is not None:
        raise _fail(file, q, i, "participant_id", "a participant_id listed in participants.csv",
                    q["participant_id"].iloc[i])
    group = info["group"].reindex(q["participant_id"]).to_numpy()
    completed = info["completed_week8"].reindex(q["participant_id"]).to_numpy()
    week8 = (q["visit"] == POST).to_numpy()
    i = _first(_not_measured(group, q["visit"].to_numpy()))
    if i is not None:
        raise _fail(file, q, i, "visit", _measured_at(group[i]), q["visit"].iloc[i])
    i = _first(week8 & (completed == "no"))
    if i is not None:
        raise _fail(file, q, i, "visit", f"{PRE} (participants.csv says completed_week8 = no)", POST)
    ids = q["participant_id"].to_numpy(object)
    base = set(ids[~week8].tolist())
    report.warn(file, "participants without a baseline row", int((~p["participant_id"].isin(base)).sum()))
    done = set(ids[week8].tolist())
    report.warn(file, f"completers (completed_week8 = yes) without a {POST} row",
                int(((p["completed_week8"] == "yes") & ~p["participant_id"].isin(done)).sum()))
    for instrument in dict.fromkeys(s.instrument for s in ITEM_SETS):
        cols = [c for s in ITEM_SETS if s.instrument == instrument and not s.optional for c in s.columns]
        report.warn(file, f"unanswered items, {instrument}", int(q[cols].isna().to_numpy().sum()))
    return q


def _screening(frame: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    file = "screening.csv"
    s = _typed(file, frame)
    assessed = (s["stage"] == "assessed").to_numpy()
    if assessed.sum() != 1:
        raise DataError(f"{file}, column stage: expected exactly one row 'assessed', got {int(assessed.sum())}")
    i = _first(assessed & s["reason"].notna().to_numpy())
    if i is not None:
        raise _fail(file, s, i, "reason", "an empty cell for the assessed row", s["reason"].iloc[i])
    i = _first(~assessed & s["reason"].isna().to_numpy())
    if i is not None:
        raise _fail(file, s, i, "reason", "a reason for each excluded row", None)
    _duplicates(file, s, ["stage", "reason"], "exclusion reason")
    n_patients = int((p["group"] != REFERENCE).sum())
    total, excluded = int(s.loc[assessed, "count"].sum()), int(s.loc[~assessed, "count"].sum())
    if total - excluded != n_patients:
        i = int(np.flatnonzero(assessed)[0])
        raise _fail(file, s, i, "count", f"assessed - excluded ({excluded}) = the {n_patients} patients "
                    f"({' + '.join(g for g in GROUPS if g != REFERENCE)}) in participants.csv, "
                    f"i.e. {n_patients + excluded}", total)
    return s


def _layout(frame: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    file = "plate_layout.csv"
    lay = _typed(file, frame)
    _duplicates(file, lay, ["plate_id", "well"], "well on this plate")
    plates = key_codes(lay["plate_id"])  # numbered by first appearance; plate_id is never empty
    first = np.unique(plates, return_index=True)[1]  # each plate's first row
    analyte = factorize(lay["analyte"])[0]
    i = _first(analyte != analyte[first][plates])
    if i is not None:
        raise _fail(file, lay, i, "analyte", f"{lay['analyte'].iloc[first[plates[i]]]} (one analyte "
                    "per plate)", lay["analyte"].iloc[i])
    role = lay["role"].to_numpy()
    pid, pid_names = factorize(lay["participant_id"])  # -1: an empty cell
    rules = {"concentration": "standard", "participant_id": "sample", "visit": "sample", "dilution": "sample"}
    for column, owner in rules.items():
        filled = pid >= 0 if column == "participant_id" else lay[column].notna().to_numpy()
        i = _first(filled & (role != owner))
        if i is not None:
            raise _fail(file, lay, i, column, f"an empty cell for a {role[i]} well ({owner}s only)",
                        lay[column].iloc[i])
        if column != "dilution":
            i = _first(~filled & (role == owner))
            if i is not None:
                raise _fail(file, lay, i, column, f"a value for a {owner} well ({_rule(file, column)})", None)
    samples = role == "sample"
    info = p.set_index("participant_id")
    at = np.append(info.index.get_indexer(pid_names), -1)[pid]  # each row's participant, or -1
    i = _first(samples & (at < 0))
    if i is not None:
        raise _fail(file, lay, i, "participant_id", "a participant_id listed in participants.csv",
                    lay["participant_id"].iloc[i])
    group, completed = (np.append(info[c].to_numpy(object), np.nan)[at]
                        for c in ("group", "completed_week8"))  # NaN: not listed
    visit = lay["visit"].to_numpy()
    i = _first(samples & _not_measured(group, visit))
    if i is not None:
        raise _fail(file, lay, i, "visit", _measured_at(group[i], lay["participant_id"].iloc[i]),
                    visit[i])
    i = _first(samples & (visit == POST) & (completed == "no"))
    if i is not None:
        raise _fail(file, lay, i, "visit", f"{PRE} ({lay['participant_id'].iloc[i]} is "
                    "completed_week8 = no)", POST)
    levels = lay[role == "standard"].groupby("plate_id")["concentration"].nunique()
    levels = levels.reindex(lay["plate_id"].unique(), fill_value=0)
    if (levels < 4).any():
        plate = levels.index[levels < 4][0]
        raise DataError(f"{file}, plate {plate}, column concentration: expected standards with at least "
                        f"4 distinct concentrations (a usable 4PL standard curve), got {int(levels[plate])}")
    _standard_series(file, lay)
    return lay


#: How far one step of a plate's standard series may be from the series' usual step (the median
#: ratio of consecutive levels): a serial dilution repeats one factor (1:2 here), so a step 1.5
#: times larger or smaller than the others is a typed level (10000 for 1000), not a dilution.
MAX_STEP_DEVIATION = 1.5


def _standard_series(file: str, lay: pd.DataFrame) -> None:
    """Each plate's standard levels are a dilution series consistent with the other plates of its
    analyte: the same levels as most plates (when at least 2 plates agree), and every step
    between consecutive non-zero levels within :data:`MAX_STEP_DEVIATION` of the usual step.

    All plates are screened at once (:func:`_standard_series_suspect`); only a layout the screen
    flags is walked plate by plate (:func:`_standard_series_walk`) for the first error."""
    if _standard_series_suspect(lay):
        _standard_series_walk(file, lay)


def _standard_series_suspect(lay: pd.DataFrame) -> bool:
    """Whether :func:`_standard_series_walk` may raise for ``lay``, for all plates at once: some
    plate has a level outside its analyte's majority set of levels (held by at least 2 plates and
    more than half of them), or a step between consecutive levels (of a plate with 3 or more)
    beyond :data:`MAX_STEP_DEVIATION` of the median step of the plate, with a margin of 1e-9 so
    that rounding never hides one (a flagged layout that is fine only costs the walk). False means
    the walk would not raise (tested on random layouts with planted faults)."""
    std = lay[lay["role"] == "standard"]
    codes, plates = factorize(std["plate_id"])
    level = std["concentration"].to_numpy(float)
    pairs = pd.DataFrame({"plate": codes, "level": level})[level > 0].drop_duplicates()
    pairs = pairs.sort_values(["plate", "level"], kind="stable")
    pc, lv = pairs["plate"].to_numpy(), pairs["level"].to_numpy()
    ends = np.flatnonzero(np.diff(pc)) + 1
    sets: list[tuple[float, ...]] = [()] * len(plates)
    for plate, levels in zip(pc[np.r_[0, ends]] if len(pc) else [], np.split(lv, ends) if len(pc) else []):
        sets[plate] = tuple(levels.tolist())
    first = np.unique(codes, return_index=True)[1]
    analyte_of = std["analyte"].to_numpy()[first]
    for name in pd.unique(analyte_of):
        mine = [sets[k] for k in np.flatnonzero(analyte_of == name)]
        counts = pd.Series(mine, dtype=object).value_counts()
        common, agree = set(counts.index[0]), int(counts.iloc[0])
        if agree >= 2 and agree > len(mine) / 2 and any(not common.issuperset(s) for s in mine):
            return True
    sizes = np.bincount(pc, minlength=len(plates))
    inner = (pc[1:] == pc[:-1]) & (sizes[pc[1:]] >= 3)
    step, of = (lv[1:] / lv[:-1])[inner], pc[1:][inner]
    usual = pd.Series(step).groupby(of).median().reindex(of).to_numpy()
    margin = 1 + 1e-9
    return bool(np.any((step * margin > usual * MAX_STEP_DEVIATION) | (step < usual / MAX_STEP_DEVIATION * margin)))


def _standard_series_walk(file: str, lay: pd.DataFrame) -> None:
    """:func:`_standard_series`, plate by plate: raises the first error (DataError)."""
    sets, analyte = _standard_levels(lay[lay["role"] == "standard"])
    for name in dict.fromkeys(analyte):
        plates = sets[analyte == name]
        common, agree = plates.value_counts().index[0], int(plates.value_counts().iloc[0])
        seen: dict[tuple, tuple[list, np.ndarray, np.ndarray, float]] = {}  # per distinct series
        for plate, levels in plates.items():
            if levels not in seen:
                x = np.array(levels)
                step = x[1:] / x[:-1] if x.size >= 3 else np.array([])
                usual = float(np.median(step)) if step.size else np.nan
                seen[levels] = ([v for v in levels if v not in common], x, step, usual)
            odd, x, step, usual = seen[levels]
            if agree >= 2 and agree > len(plates) / 2 and odd:
                i = int(np.flatnonzero(((lay["plate_id"] == plate) & (lay["concentration"] == odd[0])).to_numpy())[0])
                raise _fail(file, lay, i, "concentration", "one of the standard levels of the other "
                            f"{name} plates ({', '.join(f'{x:g}' for x in common)})", f"{odd[0]:g}")
            if x.size < 3:
                continue
            off = np.flatnonzero((step > usual * MAX_STEP_DEVIATION) | (step < usual / MAX_STEP_DEVIATION))
            if off.size:
                k = int(off[0])
                i = int(np.flatnonzero(((lay["plate_id"] == plate) & (lay["concentration"] == x[k + 1])).to_numpy())[0])
                raise _fail(file, lay, i, "concentration", f"a dilution series (each standard level about "
                            f"{usual:.3g} times the one below, as the plate's other steps; a step of "
                            f"{step[k]:.3g} from {x[k]:g} to {x[k + 1]:g} is not)", f"{x[k + 1]:g}")


def _standard_levels(std: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per plate (in order of first appearance): its distinct non-zero standard levels as an
    ascending tuple, and its analyte (the first standard row's)."""
    codes, plates = pd.factorize(std["plate_id"].to_numpy(object))
    first = np.unique(codes, return_index=True)[1]
    x = std["concentration"].to_numpy(float)
    keep = x > 0
    pairs = np.unique(np.column_stack([codes[keep], x[keep]]), axis=0)  # sorted by plate, level
    bounds = np.searchsorted(pairs[:, 0], np.arange(len(plates) + 1))
    levels = pairs[:, 1].tolist()
    sets = [tuple(levels[bounds[k]:bounds[k + 1]]) for k in range(len(plates))]
    index = pd.Index(plates, name="plate_id")
    return (pd.Series(sets, index=index, dtype=object),
            pd.Series(std["analyte"].to_numpy(object)[first], index=index))


def _layout_warnings(lay: pd.DataFrame, report: ValidationReport) -> None:
    """Count the samples not in duplicate (wells per plate, participant and visit, among sample
    rows with all three) and the plates without a blank well, from integer codes."""
    role = lay["role"].to_numpy(object)
    codes = [factorize(lay[k])[0] for k in ("plate_id", "participant_id", "visit")]  # -1: empty
    sample = (role == "sample") & (codes[0] >= 0) & (codes[1] >= 0) & (codes[2] >= 0)
    wells = np.bincount(pd.factorize(key_codes(*(c[sample] for c in codes)))[0])  # wells per sample
    report.warn("plate_layout.csv", "samples not in duplicate on their plate", int((wells != 2).sum()))
    plate = codes[0] if codes[0].min(initial=0) >= 0 else factorize(lay["plate_id"], use_na_sentinel=False)[0]
    blank = np.zeros(int(plate.max(initial=-1)) + 1, dtype=bool)  # per plate (an empty id is one)
    blank[plate[role == "blank"]] = True
    report.warn("plate_layout.csv", "plates without blank wells", int((~blank).sum()))


@dataclass(frozen=True)
class GridText:
    """A plate file's cells as ``pd.read_csv(header=None, dtype=str)`` gives them: the header row
    ``['', '1', ..., '12']`` and one row per plate row, label first (text; NaN in padded cells)."""

    rows: list[list[Any]]

    def frame(self) -> pd.DataFrame:
        """The grid as a DataFrame: index = row labels, columns = header cells, text values."""
        return pd.DataFrame([r[1:] for r in self.rows[1:]], index=[r[0] for r in self.rows[1:]],
                            columns=self.rows[0][1:], dtype="str")


def _grid_parts(grid: pd.DataFrame | GridText) -> tuple[list[str], list[str], Any]:
    """Row labels and column names (stripped) and the cells of a grid (DataFrame or file text)."""
    if isinstance(grid, GridText):
        body = grid.rows[1:]
        return ([str(r[0]).strip() for r in body], [str(c).strip() for c in grid.rows[0][1:]],
                [r[1:] for r in body])
    return ([str(r).strip() for r in grid.index], [str(c).strip() for c in grid.columns],
            grid.to_numpy())


def _plain_labels(grid: Any) -> bool:
    """Whether a grid's row labels and column names are tuples equal to :data:`ROWS` and
    :data:`PLATE_COLUMNS` (``mbpm.simulate.PlateGrid``): :func:`_grid_parts` would return them
    unchanged and :func:`_grid_shape_error` would find nothing, so both can be skipped."""
    return (not isinstance(grid, GridText) and isinstance(grid.index, tuple)
            and isinstance(grid.columns, tuple) and grid.index == ROWS
            and grid.columns == PLATE_COLUMNS)


def _grid_shape_error(file: str, rows: list[str], columns: list[str]) -> str | None:
    if columns != list(PLATE_COLUMNS):
        return (f"{file}, header row: expected columns 1 to 12 after the row label, got "
                f"{_shown(', '.join(columns)) or 'none'}" + importing.plate_hint(rows, columns))
    if rows != list(ROWS):
        return (f"{file}, first column: expected row labels A to H in order, got {_shown(', '.join(rows))}"
                + importing.plate_hint(rows, columns))
    return None


#: How plate readers print a well whose signal is beyond their range: above it (``OVER``, a run
#: of ``*``, ``>3.500``) or below it (``<0.000``). Such a well has no optical density; the well is
#: marked ``saturated`` = ``high`` or ``low`` and :func:`mbpm.assays.quantify` reports its sample
#: beyond the quantifiable range on the side the assay's format gives. A well the layout does not
#: list is ignored, saturated or not (data contract).
SATURATED_HIGH = r"(?i:over|\*+|>\s*\d*\.?\d*)"
SATURATED_LOW = r"<\s*\d*\.?\d*"


def _saturation(raw: np.ndarray) -> np.ndarray:
    """``high``, ``low`` or ``""`` for each text cell (:data:`SATURATED_HIGH`, :data:`SATURATED_LOW`),
    each distinct cell tested once."""
    codes, distinct = pd.factorize(raw.ravel(), use_na_sentinel=False)
    cells = pd.Series(np.asarray(distinct, dtype=object), dtype=object).astype("str").str.strip()
    side = np.select([_fullmatch(cells, SATURATED_HIGH), _fullmatch(cells, SATURATED_LOW)],
                     ["high", "low"], "").astype(object)
    return side[codes].reshape(raw.shape)


def plates_wells(grids: Mapping[str, pd.DataFrame | GridText]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Validate plate-reader grids (rows A..H, columns 1..12, optical densities >= 0) at once.

    ``grids`` maps plate_id to a grid: a DataFrame (index = row labels, columns "1".."12"; text or
    numbers) or a :class:`GridText` as read from a file. Returns the tidy wells of the valid
    plates, in ``grids`` order (``plate_id``, ``well`` A1..H12 row-major, ``row``, ``column``
    (int), ``od``, ``saturated``: ``high``/``low`` for a saturated well, whose ``od`` is NaN), and
    the error message of each invalid plate (its first problem). All text cells are parsed in one
    call.
    """
    errors: dict[str, str] = {}
    good, numeric, text = [], [], []
    for plate_id, grid in grids.items():
        if _plain_labels(grid):  # labels exactly A..H and "1".."12": nothing to strip or check
            cells = grid.to_numpy()
        else:
            rows, columns, cells = _grid_parts(grid)
            error = _grid_shape_error(f"plates/{plate_id}.csv", rows, columns)
            if error:
                errors[plate_id] = error
                continue
        cells = np.asarray(cells) if isinstance(cells, np.ndarray) else np.array(cells, dtype=object)
        good.append((plate_id, cells))
        (numeric if cells.dtype.kind in "biufc" else text).append(len(good) - 1)  # is_numeric_dtype
    od = np.empty((len(good), 8, 12))
    saturated = np.full((len(good), 8, 12), "", dtype=object)
    if numeric:
        od[numeric] = np.stack([good[i][1] for i in numeric]).astype(float)
    if text:
        raw = np.stack([good[i][1].astype(object) for i in text])
        od[text] = _to_numbers(raw.ravel()).reshape(raw.shape)
        saturated[text] = _saturation(raw)
    bad = (~np.isfinite(od) | (od < 0)) & (saturated == "")
    for k in np.flatnonzero(bad.any(axis=(1, 2))):
        plate_id, cells = good[k]
        r, c = np.argwhere(bad[k])[0]
        errors[plate_id] = (f"plates/{plate_id}.csv, well {ROWS[r]}{c + 1}: expected an optical "
                            f"density (a number >= 0), got {_got(cells[r, c])}"
                            + importing.number_hint(cells[r, c]))
    errors = {plate_id: errors[plate_id] for plate_id in grids if plate_id in errors}  # file order
    keep = [k for k, (plate_id, _) in enumerate(good) if plate_id not in errors]
    wells = pd.DataFrame({
        "plate_id": np.repeat(np.array([good[k][0] for k in keep], dtype=object), 96),
        "well": np.tile(np.array(_WELLS, dtype=object), len(keep)),
        "row": np.tile(np.repeat(np.array(ROWS, dtype=object), 12), len(keep)),
        "column": np.tile(np.arange(1, 13), 8 * len(keep)),
        "od": od[keep].ravel(),
        "saturated": saturated[keep].ravel(),
    })
    return wells, errors


_WELLS = tuple(f"{r}{c}" for r in ROWS for c in PLATE_COLUMNS)


def grid_wells(grid: pd.DataFrame | GridText, plate_id: str) -> pd.DataFrame:
    """Validate one plate-reader grid (rows A..H, columns 1..12) and return tidy wells
    (:func:`plates_wells` for one plate; raises DataError with its message).

    Columns: ``well`` (A1..H12, row-major), ``row``, ``column`` (int), ``od``.
    """
    wells, errors = plates_wells({plate_id: grid})
    if errors:
        raise DataError(errors[plate_id])
    return wells.drop(columns="plate_id")


# ----------------------------------------------------------------------------------------------
# Reading files
# ----------------------------------------------------------------------------------------------

def _read_csv(folder: Path, name: str, profile: ImportProfile = ImportProfile(),
              notes: list[importing.Note] | None = None, **kwargs: Any) -> pd.DataFrame:
    """A file as text cells, read and mapped to the contract's names as the folder's import
    profile says (:mod:`mbpm.importing`; its changes are added to ``notes`` as warnings)."""
    path = folder / name
    if not path.is_file():
        raise DataError(f"{name}: file missing from {folder} (expected by the data contract; see the data chapter's codebook)")
    importing.check_inside(folder, path, name)
    frame = importing.read_csv(path, name, profile, **kwargs)
    if name not in SCHEMA:
        return frame
    numeric = {c.name for c in SCHEMA[name] if c.kind != "text"}
    return importing.apply(name, frame, profile, numeric, notes if notes is not None else [])


def _split_grid(text: str) -> list[list[str]] | None:
    """The cells of a plain grid file: 9 lines of 13 comma-separated fields, nothing that
    ``pd.read_csv`` would treat specially (quotes, carriage returns, NUL, a byte-order mark,
    blank lines); None for anything else (then read by pandas)."""
    if any(mark in text for mark in ('"', "\r", "\x00", "\ufeff")):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    rows = [line.split(",") for line in lines]
    return rows if len(rows) == 9 and all(len(r) == 13 for r in rows) else None


def _plates_inside(folder: Path) -> bool:
    """Whether ``plates/`` resolves inside the folder (then a plate file that is not a symbolic
    link is inside too: a plate id has no path separator)."""
    return (folder / "plates").resolve().is_relative_to(folder.resolve())


def _read_grid(folder: Path, plate_id: str, profile: ImportProfile = ImportProfile(),
               plates_inside: bool = False) -> GridText:
    """A plate file's cells (:class:`GridText`); a plain grid is split directly, anything else
    goes through :func:`_read_csv` (its errors and its reading of odd files), then through the
    profile's plate format (:func:`mbpm.importing.plate_rows`). ``plates_inside``: the caller
    checked :func:`_plates_inside`, so only a file that is a link is resolved
    (:func:`mbpm.importing.check_inside`, two path resolutions per file otherwise)."""
    name = f"plates/{plate_id}.csv"
    path = folder / name
    if not path.is_file():
        raise DataError(f"{name}: file missing (plate {plate_id} is named in plate_layout.csv)")
    if not plates_inside or path.is_symlink():
        importing.check_inside(folder, path, name)
    if not profile.is_default:
        return GridText(importing.read_plate(path, name, profile))
    try:
        rows = _split_grid(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        rows = None
    if rows is not None:
        return GridText(rows)
    try:
        raw = _read_csv(folder, name, header=None)
    except DataError as err:
        raise DataError(f"{err}; a metadata block around the grid? set import.plate_format: block") from None
    if raw.shape[1] < 2 or raw.shape[0] < 1:
        raise DataError(f"{name}: expected a header row ',1,...,12' and rows A to H, "
                        f"got {raw.shape[0]} row(s) of {raw.shape[1]} cell(s)")
    return GridText(raw.to_numpy(dtype=object).tolist())


#: Largest file of each kind read, in bytes: far above a study of this design (65
#: participants; 100,000 participants fit participants.csv), so a larger file is most likely
#: the wrong file, and it is refused before it is read (a 200 MB file would take minutes and
#: gigabytes). A plate grid is about 700 bytes.
MAX_BYTES = {"participants.csv": 10_000_000, "screening.csv": 1_000_000,
             "questionnaires.csv": 100_000_000, "plate_layout.csv": 100_000_000,
             PLATE_FILE: 100_000}
#: Most plate files read from plates/.
MAX_PLATES = 20_000


def check_sizes(folder: Path) -> None:
    """Refuse files larger than :data:`MAX_BYTES` and more than :data:`MAX_PLATES` plates (DataError)."""
    def size(path: Path) -> int:
        return path.stat().st_size if path.is_file() else 0

    for name in REQUIRED_FILES:
        if size(folder / name) > MAX_BYTES[name]:
            raise DataError(f"{name}: expected at most {MAX_BYTES[name]:,} bytes, got "
                            f"{size(folder / name):,} (is it the right file?)")
    plates = list((folder / "plates").glob("*.csv")) if (folder / "plates").is_dir() else []
    if len(plates) > MAX_PLATES:
        raise DataError(f"plates/: expected at most {MAX_PLATES:,} plate files, got {len(plates):,}")
    big = min((p for p in plates if size(p) > MAX_BYTES[PLATE_FILE]), default=None)  # first by name
    if big is not None:
        raise DataError(f"plates/{_shown(big.name)}: expected a plate grid of at most "
                        f"{MAX_BYTES[PLATE_FILE]:,} bytes, got {size(big):,}")


def check_definition(folder: Path) -> None:
    """Refuse a folder whose study definition (its study.yml, else the package's) is not the one
    in use (:func:`mbpm.study.active`, read by the modules at import): DataError saying how to
    use it; a broken study.yml is a DataError naming the key."""
    try:
        own = study.for_folder(folder)
    except study.StudyDefinitionError as err:
        raise DataError(str(err)) from None
    if own != study.active():
        raise DataError(f"{study.FILE_NAME}: the folder's study definition ({own.title!r}) differs "
                        f"from the one in use ({study.active().title!r} or another version of it); "
                        "the package reads one definition per process: set MBPM_DATA to the "
                        "folder before importing mbpm, or run python -m mbpm validate FOLDER")


#: Key of :func:`read_tables`' output under which the checked layout of its pre-check is kept
#: (with the frames and rule it was checked from), so that :func:`validate_tables` need not check
#: the same frames again (a frame replaced, or another rule, is checked anew).
_CHECKED_LAYOUT = "_checked_layout"


def _plates_needed(tables: dict[str, Any]) -> list[str] | None:
    """The plate ids to read, or None when participants.csv or plate_layout.csv already fails
    (then no plate is read: their errors are reported without reading thousands of grids).
    The checked layout is kept in ``tables`` (:data:`_CHECKED_LAYOUT`)."""
    try:
        lay = _layout(tables["plate_layout"], _participants(tables["participants"]))
    except DataError:
        return None
    tables[_CHECKED_LAYOUT] = (tables["participants"], tables["plate_layout"], participant_id_rule(), lay)
    return list(pd.unique(tables["plate_layout"]["plate_id"]))


def _checked_layout(tables: dict[str, Any], p: pd.DataFrame) -> pd.DataFrame:
    """:func:`_layout` of ``tables``, or the pre-check's result when it checked these very frames
    under the rule in force (the tables are not meant to be changed in place between the two)."""
    kept = tables.get(_CHECKED_LAYOUT)
    if kept is not None and kept[0] is tables["participants"] and kept[1] is tables["plate_layout"] \
            and kept[2] == participant_id_rule():
        return kept[3]
    return _layout(tables["plate_layout"], p)


def read_tables(path: str | os.PathLike[str] | None = None,
                participant_id: str | None = None) -> dict[str, Any]:
    """Read a data folder's raw tables (all cells as text) without validating them.

    Sizes are checked first (:func:`check_sizes`), then the CSV files are read; the plate grids
    are read only when participants.csv and plate_layout.csv pass (``plates_skipped`` says when
    they were not; the participant ID rule is ``participant_id`` or as :func:`validate_tables`
    chooses it). ``plates`` maps each plate_id of plate_layout.csv to its :class:`GridText`. A
    file that cannot be read at all (missing, not CSV) raises DataError here. Files are read
    through the folder's import profile (:func:`mbpm.study.import_for_folder`); what it changed
    is in ``import_notes`` (warnings of the report).
    """
    folder = data_dir(path)
    if not folder.is_dir():
        raise DataError(f"{_shown(folder)}: data folder not found")
    check_sizes(folder)
    check_definition(folder)
    tables: dict[str, Any] = {"simulation": read_simulation_marker(folder), "import_notes": []}
    try:
        profile = import_for_folder(folder)
    except StudyDefinitionError as err:
        raise DataError(str(err)) from None
    for name in ("participants.csv", "screening.csv", "questionnaires.csv", "plate_layout.csv"):
        tables[name.removesuffix(".csv")] = _read_csv(folder, name, profile, tables["import_notes"])
    with _id_rule(participant_id, tables["simulation"]):
        plate_ids = _plates_needed(tables)
    tables["plates_skipped"] = plate_ids is None
    inside = bool(plate_ids) and _plates_inside(folder)
    tables["plates"] = {pid: _read_grid(folder, pid, profile, inside) for pid in plate_ids or []}
    listed = {f.stem for f in (folder / "plates").glob("*.csv")} if (folder / "plates").is_dir() else set()
    tables["unlisted_plates"] = sorted(listed - set(plate_ids or listed))
    return tables


#: The fields of a SIMULATED marker and their types (mbpm.simulate.write_folder writes them).
MARKER_FIELDS = {"seed": int, "generator_version": str,
                 **{arm.size_key: int for arm in _DEFINITION.arms}}
MARKER_REQUIRED = ("seed", "generator_version")
#: Largest SIMULATED marker read (mbpm.simulate writes about 150 bytes).
MARKER_BYTES = 10_000


def read_simulation_marker(folder: Path) -> dict[str, Any] | None:
    """The ``SIMULATED`` marker of a data folder (seed, generator version, sizes), or None.

    The marker is YAML read with ``yaml.safe_load`` (no Python tags) and must be a mapping of
    :data:`MARKER_FIELDS`: a whole-number seed and the generator version (text, or a number read
    as text) are required; the sizes, when present, are whole numbers of at least 0. Anything
    else raises one DataError.
    """
    marker = folder / SIMULATION_MARKER
    if not marker.exists():
        return None
    expected = ("expected YAML with " + ", ".join(f"{k} ({'text' if t is str else 'integer'})"
                                                  for k, t in MARKER_FIELDS.items()))
    if not marker.is_file() or marker.stat().st_size > MARKER_BYTES:
        raise DataError(f"{SIMULATION_MARKER}: {expected}, at most {MARKER_BYTES} bytes; got "
                        + ("a folder" if marker.is_dir() else f"{marker.stat().st_size} bytes"))
    try:
        meta = yaml.safe_load(marker.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{SIMULATION_MARKER}: {expected}; could not read it: {_shown(first)}") from None
    if not isinstance(meta, dict):
        raise DataError(f"{SIMULATION_MARKER}: {expected}; got {_shown(repr(meta))}")
    for key, kind in MARKER_FIELDS.items():
        if key not in MARKER_REQUIRED and key not in meta:
            continue
        value = meta.get(key)
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            meta[key] = value = str(value)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if not ok or (kind is int and key != "seed" and value < 0):
            raise DataError(f"{SIMULATION_MARKER}, field {key}: {expected}; got {_got(value)}")
    return meta


# ----------------------------------------------------------------------------------------------
# Validation, then computation
# ----------------------------------------------------------------------------------------------

@dataclass
class ValidTables:
    """Raw tables after validation, typed; nothing computed yet."""

    participants: pd.DataFrame
    questionnaires: pd.DataFrame
    screening: pd.DataFrame
    layout: pd.DataFrame
    plate_wells: pd.DataFrame  # every well of every plate: plate_id, well, row, column, od
    report: ValidationReport


def validate_tables(tables: dict[str, Any], participant_id: str | None = None) -> ValidTables:
    """Validate raw tables (as :func:`read_tables` or ``mbpm.simulate.simulate_tables`` give them).

    Each file's first error is recorded in the report; if there is any, DataError is raised with
    the first message and the full report as ``err.report``. ``participant_id`` is the ID rule
    (a regular expression); None: the ``participant_id`` of the tables' simulation marker if it
    has one, else :data:`PARTICIPANT_ID`.
    """
    with _id_rule(participant_id, tables.get("simulation")):
        return _validate_tables(tables)


def _validate_tables(tables: dict[str, Any]) -> ValidTables:
    report = ValidationReport()
    report.warnings.extend(tables.get("import_notes", []))
    results: dict[str, Any] = {}

    def attempt(key: str, fn: Any, *args: Any) -> None:
        try:
            results[key] = fn(*args)
        except DataError as err:
            report.errors.append(str(err))

    attempt("participants", _participants, tables["participants"])
    plate_wells, plate_errors = plates_wells(tables.get("plates", {}))
    report.errors.extend(plate_errors.values())
    if "participants" in results:
        p = results["participants"]
        attempt("questionnaires", _questionnaires, tables["questionnaires"], p, report)
        attempt("screening", _screening, tables["screening"], p)
        attempt("layout", _checked_layout, tables, p)
    if "layout" in results:
        _layout_warnings(results["layout"], report)
    report.warn("plates/", "plate files not named in plate_layout.csv (ignored)",
                len(tables.get("unlisted_plates", [])))
    if report.errors:
        err = DataError(report.errors[0])
        err.report = report  # type: ignore[attr-defined]
        raise err
    return ValidTables(
        participants=results["participants"], questionnaires=results["questionnaires"],
        screening=results["screening"], layout=results["layout"],
        plate_wells=plate_wells, report=report)


#: What a plate whose standard curve cannot be used does to the load: ``drop`` (default) its
#: samples are left out and reported per plate; ``stop`` the load fails (DataError). A study
#: definition file will carry this choice; for now it is a keyword of load_study.
PLATE_FAILURE_POLICIES = ("drop", "stop")


def _build(valid: ValidTables, simulation: dict[str, Any] | None, source: str,
           on_plate_failure: str = "drop", quantifier: Any = None) -> Study:
    """Score the questionnaires and quantify the plates of validated tables.

    A plate that cannot be fitted drops its samples (warned per plate) or stops the load, as
    ``on_plate_failure`` says; samples measured on several plates are combined by
    :func:`mbpm.assays.combine_runs` (warned per analyte and set of plates). The plates are
    quantified by ``quantifier``, by default :func:`mbpm.assays.quantify_many`: the study's
    :func:`mbpm.assays.quantify` (default weighting and blank correction) for all plates at
    once, exactly equal to it (tests/test_design_batch.py) and cheaper per plate.
    """
    from mbpm.assays import combine_runs, quantify_many, tidy_wells
    from mbpm.instruments import score_all

    if on_plate_failure not in PLATE_FAILURE_POLICIES:
        raise ValueError(f"on_plate_failure must be one of {PLATE_FAILURE_POLICIES}, got {on_plate_failure!r}")
    wells = tidy_wells(valid.layout, valid.plate_wells)
    _saturation_warnings(valid.plate_wells, wells, valid.report)
    assay = (quantifier or quantify_many)(wells)
    if assay.failures and on_plate_failure == "stop":
        reasons = "; ".join(str(failure) for failure in assay.failures)
        error = DataError(f"plates: no usable standard curve: {reasons}")
        valid.report.errors.append(str(error))
        error.report = valid.report  # type: ignore[attr-defined]
        raise error
    samples = valid.layout[valid.layout["role"] == "sample"]
    failed = assay.plates.loc[assay.plates["failure"] != "", "plate_id"]
    lost = samples.loc[samples["plate_id"].isin(failed), ["plate_id", "participant_id", "visit"]]
    lost = lost.drop_duplicates().groupby("plate_id").size()  # samples per failed plate, one pass
    for failure, plate in zip(assay.failures, failed):
        n = int(lost.get(plate, 0))
        valid.report.warn(f"plates/{plate}.csv", f"no usable standard curve, its samples are left out "
                          f"({failure})", max(n, 1))
    biomarkers, reassayed = combine_runs(assay.samples)
    for (analyte, plates, outcome), n in reassayed.groupby(["analyte", "plates", "outcome"],
                                                          sort=False).size().items():
        valid.report.warn("plate_layout.csv", f"{analyte} samples measured on plates {plates}: "
                          f"{outcome} (see assays.combine_runs)", int(n))
    flagged = biomarkers[biomarkers["flag"] != ""].groupby(["analyte", "flag"], sort=False).size()
    for (analyte, flag), count in flagged.items():
        valid.report.warn("plates/", f"{analyte} samples flagged {flag}", int(count))
    return Study(
        participants=valid.participants, questionnaires=valid.questionnaires,
        screening=valid.screening, layout=valid.layout, wells=wells,
        scores=score_all(valid.questionnaires), biomarkers=biomarkers, assay=assay,
        report=valid.report, simulation=simulation, source=source, reassayed=reassayed)


def _saturation_warnings(plate_wells: pd.DataFrame, wells: pd.DataFrame, report: ValidationReport) -> None:
    """Warn per plate about saturated sample wells (the side their samples are reported on, see
    :func:`mbpm.assays.saturation_side`) and count the saturated wells the layout does not use."""
    from mbpm.assays import saturation_side

    if "saturated" not in plate_wells:
        return
    hit = wells[(wells["saturated"].to_numpy(object) != "") & (wells["role"].to_numpy(object) == "sample")]
    for (plate, analyte), group in hit.groupby(["plate_id", "analyte"], sort=False):
        sides = sorted({saturation_side(analyte, side) for side in group["saturated"]})
        shown = ", ".join(f"{w} (signal {'above' if s == 'high' else 'below'} the reader's range)"
                          for w, s in group[["well", "saturated"]].head(4).to_numpy())
        report.warn(f"plates/{plate}.csv", f"saturated sample wells {shown}"
                    + (" …" if len(group) > 4 else "") + f": {analyte} is a "
                    f"{'competitive' if analyte in COMPETITIVE else 'sandwich'} assay, so the sample is "
                    f"reported {' or '.join(s.replace('_', ' ') for s in sides)}", len(group))
    unused = plate_wells[plate_wells["saturated"].to_numpy(object) != ""]
    n = 0
    if len(unused):
        on = wells[wells["plate_id"].isin(pd.unique(unused["plate_id"]))]  # only plates with saturated wells
        used = set(zip(on["plate_id"], on["well"]))
        n = sum((plate, well) not in used for plate, well in zip(unused["plate_id"], unused["well"]))
    report.warn("plates/", "saturated wells that plate_layout.csv does not use (ignored)", n)


def _simulation_meta(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if meta is None else {k: v for k, v in meta.items() if k != "params_text"}


def load_study(path: str | os.PathLike[str] | None = None, *, on_plate_failure: str = "drop",
               participant_id: str | None = None) -> Study:
    """Read, validate, then score and quantify a data folder (``path``, ``$MBPM_DATA``, ``data/``).

    ``on_plate_failure``: :data:`PLATE_FAILURE_POLICIES` (``drop`` the failed plate's samples, or
    ``stop``). ``participant_id``: the ID rule, as in :func:`validate_tables`.

    With ``MBPM_CACHE_DIR`` set (the book build), a folder whose bytes were loaded before is
    served from :mod:`mbpm.cache`.
    """
    from mbpm import cache

    folder = data_dir(path)
    if folder.is_dir():
        check_sizes(folder)  # before the cache key reads every byte

    def load() -> Study:
        tables = read_tables(folder, participant_id)
        return _build(validate_tables(tables, participant_id),
                      _simulation_meta(tables["simulation"]), str(folder), on_plate_failure)

    if not folder.is_dir() or not os.environ.get(cache.ENV):
        return load()  # the clear "missing" error; no cache, so no key (it reads every byte)
    key = f"{folder}|{on_plate_failure}|{cache.folder_digest(folder)}" + (
        f"|{participant_id}" if participant_id else "")
    return cache.cached("study", key, load)


def study_from_tables(tables: dict[str, Any], *, on_plate_failure: str = "drop",
                      participant_id: str | None = None, quantifier: Any = None) -> Study:
    """The same as :func:`load_study` for tables held in memory (``mbpm.simulate.simulate_tables``);
    ``quantifier``: as in :func:`_build`."""
    return _build(validate_tables(tables, participant_id), _simulation_meta(tables.get("simulation")),
                  "memory", on_plate_failure, quantifier)


def validate_cli(path: str | os.PathLike[str], participant_id: str | None = None,
                 problem: str | None = None) -> int:
    """``python -m mbpm validate DATA_DIR``: print the report; 0 only when the folder is usable.
    ``problem``: an error found before the load (the folder's study.yml cannot be used)."""
    try:
        if problem is not None:
            raise DataError(problem)
        report = load_study(path, participant_id=participant_id).report
    except DataError as err:
        report = getattr(err, "report", None) or ValidationReport(errors=[str(err)])
    print(f"data folder {data_dir(path)}")
    print(report.text())
    return 0 if report.usable else 1
