"""The study definition (``study.yml``): arms, visits, instruments, analytes, families, the named
outcome sets and the plan's choices, read once into frozen dataclasses and checked.

The package ships the definition of the trial of Aygün et al. (``mbpm/study.yml``); a data folder
may bring its own ``study.yml``. :func:`load` reads one file; :func:`default` the package's, once
per process. Every problem raises :class:`StudyDefinitionError` naming the file and the key, e.g.
``study.yml, arms[1].role: expected one of treated, control, reference, got 'placebo'``.

**The definition in use** is :func:`active`: the one of the data folder the process works on, read
once per process. It is the ``study.yml`` of ``$MBPM_DATA`` when that folder has one, else the
package's (the shipped ``data/`` has no other: ``python -m mbpm simulate`` writes the definition it
used into every folder, so ``data/study.yml`` is a byte copy of ``mbpm/study.yml``, checked by
``tests/test_simulate.py`` as ``data/simulation.yml`` is). Modules read it at import time (the arm
and visit ids of :mod:`mbpm.stats`, the analytes of :mod:`mbpm.assays`, the item columns of the
loader's schema), so the definition is fixed for the process: a command that is given a folder
(``python -m mbpm validate FOLDER``) calls :func:`use` before it imports those modules, and asking
for another definition once one is in use raises :class:`StudyDefinitionError` (run a new process).

>>> d = default()
>>> d.treated.id, d.control.id, d.pre.id, d.post.id
('MBPM', 'WL', 'baseline', 'week8')
>>> d.plan("significance_level")
0.05
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import pandas as pd

#: The definition shipped with the package (the trial of Aygün et al. 2024).
DEFAULT_FILE = Path(__file__).resolve().parent / "study.yml"
FILE_NAME = "study.yml"
#: The environment variable naming the data folder in use (see :func:`mbpm.io.data_dir`).
DATA_ENV = "MBPM_DATA"
ARM_ROLES = ("treated", "control", "reference")
VISIT_ROLES = ("pre", "post")
FORMATS = ("competitive", "sandwich")
PLAN_KEYS = ("significance_level", "confidence_level", "target_power", "below_lloq", "primary",
             "fdr", "design_trials")
ANALYTES_TOKEN = "analytes"
#: Where a statement about the real trial comes from (``trial_facts`` in study.yml).
FACT_SOURCES = {
    "abstract": "the article's abstract",
    "title": "the article's title",
    "affiliations": "the authors' affiliations",
    "headings": "the article's section headings",
    "none": "not reported in the available sources",
    "book": "a choice of this book, not of the trial",
}


class StudyDefinitionError(ValueError):
    """A study.yml breaks the format; the message names the file and the key."""


@dataclass(frozen=True)
class Arm:
    id: str
    label: str
    role: str
    visits: tuple[str, ...]

    @property
    def size_key(self) -> str:
        """The name of the arm's size in simulation.yml, the SIMULATED marker and the simulate
        command (``--n-mbpm``): ``n_`` + the id in lower case, e.g. ``n_mbpm``."""
        return f"n_{self.id.lower()}"


@dataclass(frozen=True)
class Visit:
    id: str
    label: str
    week: float
    role: str


@dataclass(frozen=True)
class Analyte:
    id: str
    label: str
    unit: str
    format: str

    @property
    def competitive(self) -> bool:
        """Signal falls as concentration rises (oxytocin and DHEA-S kits)."""
        return self.format == "competitive"


@dataclass(frozen=True)
class Definition:
    """One study's definition (see the module docstring)."""

    source: str
    title: str
    citation: str
    arms: tuple[Arm, ...]
    visits: tuple[Visit, ...]
    instruments: tuple[str, ...]
    analytes: tuple[Analyte, ...]
    families: tuple[tuple[str, tuple[str, ...]], ...]  # (family, its entries), in order
    outcome_sets: tuple[tuple[str, Any], ...]
    choices: tuple[tuple[str, Any], ...]
    trial_facts: tuple[tuple[str, str, str], ...] = ()  # (topic, statement, source key)
    #: The participant ID rule (``participants.id_pattern``): a regular expression every
    #: participant_id must match whole (:func:`re.fullmatch`); the package's is ``P\d{3}``.
    participant_id: str = ""
    #: The file's text, as read (simulate copies it into every folder it writes).
    text: str = field(default="", repr=False, compare=False)

    def _role(self, role: str) -> Arm:
        return next(a for a in self.arms if a.role == role)

    @property
    def treated(self) -> Arm:
        return self._role("treated")

    @property
    def control(self) -> Arm:
        return self._role("control")

    @property
    def reference(self) -> Arm | None:
        found = [a for a in self.arms if a.role == "reference"]
        return found[0] if found else None

    @property
    def pre(self) -> Visit:
        return next(v for v in self.visits if v.role == "pre")

    @property
    def post(self) -> Visit:
        return next(v for v in self.visits if v.role == "post")

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.arms)

    @property
    def visit_ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.visits)

    @property
    def analyte_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.analytes)

    def analyte(self, analyte_id: str) -> Analyte:
        for a in self.analytes:
            if a.id == analyte_id:
                return a
        raise StudyDefinitionError(f"{self.source}: no analyte {analyte_id!r}; the analytes are "
                                   f"{', '.join(self.analyte_ids)}")

    @property
    def family_order(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.families)

    def outcome_set(self, name: str) -> Any:
        """A named outcome set (a list of outcome ids, or one id)."""
        sets = dict(self.outcome_sets)
        if name not in sets:
            raise StudyDefinitionError(f"{self.source}, outcome_sets: no set {name!r} (known: "
                                       f"{', '.join(sets)})")
        return sets[name]

    def design_trials(self) -> dict[int, int]:
        """Simulated trials per patients-per-arm size of the design analysis
        (``plan.design_trials``), e.g. ``{25: 1000, 50: 1000, 100: 1000}``."""
        return {int(n): int(k) for n, k in self.plan("design_trials").items()}

    def plan(self, name: str) -> Any:
        """The value of one of the plan's choices (:data:`PLAN_KEYS`)."""
        choices = dict(self.choices)
        if name not in choices:
            raise StudyDefinitionError(f"{self.source}, plan: no choice {name!r}")
        return choices[name]

    def family_of(self, instrument: str, scale: str) -> str | None:
        """The family of a questionnaire scale (``instrument.scale`` entry first, then the
        instrument's), or None."""
        for family, entries in self.families:
            if f"{instrument}.{scale}" in entries:
                return family
        for family, entries in self.families:
            if instrument in entries:
                return family
        return None

    @property
    def biomarker_family(self) -> str | None:
        for family, entries in self.families:
            if ANALYTES_TOKEN in entries:
                return family
        return None


def trial_facts_table(definition: Definition) -> pd.DataFrame:
    """The trial facts for the methods chapter: Topic, What the public sources say, Source."""
    import pandas as pd

    return pd.DataFrame([{"Topic": topic, "What the public sources say": statement,
                          "Source": FACT_SOURCES[source]}
                         for topic, statement, source in definition.trial_facts])


def _check_design_trials(value: Any, at: str) -> None:
    """``plan.design_trials``: a mapping of patients per arm (an integer >= 2) to a number of
    simulated trials (an integer >= 1)."""
    def whole(x: Any, least: int) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= least

    if not isinstance(value, dict) or not value or not all(
            whole(n, 2) and whole(k, 1) for n, k in value.items()):
        raise StudyDefinitionError(f"{at}: expected patients per arm (>= 2) -> number of "
                                   f"trials (>= 1), e.g. {{25: 1000, 50: 1000}}; got {value!r}")


def _value(node: Any) -> Any:
    """A ``{value, reason, source}`` leaf's value (other nodes unchanged)."""
    if isinstance(node, dict) and "value" in node and "reason" in node:
        return node["value"]
    return node


def _need(node: dict, key: str, where: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise StudyDefinitionError(f"{where}: missing key {key!r}")
    return node[key]


def _text(node: dict, key: str, where: str) -> str:
    value = _need(node, key, where)
    if not isinstance(value, str) or not value.strip():
        raise StudyDefinitionError(f"{where}.{key}: expected text, got {value!r}")
    return value


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise StudyDefinitionError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _unique(ids: list[str], where: str) -> None:
    twice = [i for i in ids if ids.count(i) > 1]
    if twice:
        raise StudyDefinitionError(f"{where}: id {twice[0]!r} appears twice")


def _visits(doc: dict, where: str) -> tuple[Visit, ...]:
    entries = _need(doc, "visits", where)
    visits = []
    for i, v in enumerate(entries if isinstance(entries, list) else []):
        at = f"{where}, visits[{i}]"
        week = _need(v, "week", at)
        if not isinstance(week, int | float):
            raise StudyDefinitionError(f"{at}.week: expected a number, got {week!r}")
        visits.append(Visit(_text(v, "id", at), _text(v, "label", at), float(week),
                            _one_of(_need(v, "role", at), VISIT_ROLES, f"{at}.role")))
    roles = [v.role for v in visits]
    if sorted(roles) != ["post", "pre"]:
        raise StudyDefinitionError(f"{where}, visits: expected one pre and one post visit, got "
                                   f"roles {roles}")
    _unique([v.id for v in visits], f"{where}, visits")
    return tuple(visits)


def _arms(doc: dict, visit_ids: tuple[str, ...], where: str) -> tuple[Arm, ...]:
    entries = _need(doc, "arms", where)
    arms = []
    for i, a in enumerate(entries if isinstance(entries, list) else []):
        at = f"{where}, arms[{i}]"
        visits = _need(a, "visits", at)
        unknown = [v for v in visits if v not in visit_ids] if isinstance(visits, list) else [visits]
        if unknown:
            raise StudyDefinitionError(f"{at}.visits: {unknown[0]!r} is not a visit id "
                                       f"({', '.join(visit_ids)})")
        arms.append(Arm(_text(a, "id", at), _text(a, "label", at),
                        _one_of(_need(a, "role", at), ARM_ROLES, f"{at}.role"), tuple(visits)))
    roles = [a.role for a in arms]
    if roles.count("treated") != 1 or roles.count("control") != 1 or roles.count("reference") > 1:
        raise StudyDefinitionError(f"{where}, arms: expected one treated and one control arm and "
                                   f"at most one reference group, got roles {roles}")
    _unique([a.id for a in arms], f"{where}, arms")
    return tuple(arms)


def _analytes(doc: dict, where: str) -> tuple[Analyte, ...]:
    entries = doc.get("analytes") or []
    analytes = []
    for i, a in enumerate(entries):
        at = f"{where}, analytes[{i}]"
        analytes.append(Analyte(_text(a, "id", at), _text(a, "label", at), _text(a, "unit", at),
                                _one_of(_need(a, "format", at), FORMATS, f"{at}.format")))
    _unique([a.id for a in analytes], f"{where}, analytes")
    return tuple(analytes)


def _families(doc: dict, instruments: tuple[str, ...], where: str) -> tuple:
    from mbpm.instruments import registry

    families = _need(doc, "families", where)
    if not isinstance(families, dict) or not families:
        raise StudyDefinitionError(f"{where}, families: expected a mapping family -> entries")
    scales = {name: [s.name for s in registry.find(name).scales] for name in instruments}
    seen: dict[str, str] = {}
    out = []
    for family, entries in families.items():
        at = f"{where}, families.{family}"
        for entry in entries:
            instrument, _, scale = str(entry).partition(".")
            if entry != ANALYTES_TOKEN and (instrument not in scales
                                            or (scale and scale not in scales[instrument])):
                raise StudyDefinitionError(f"{at}: {entry!r} is neither 'analytes', an instrument "
                                           f"of the study nor one of its scales")
            covered = [entry] if entry == ANALYTES_TOKEN or scale else \
                [f"{instrument}.{s}" for s in scales[instrument]]
            seen.update(dict.fromkeys(covered, family))  # coverage only: family_of decides
        out.append((str(family), tuple(str(e) for e in entries)))
    lost = [f"{i}.{s}" for i, names in scales.items() for s in names if f"{i}.{s}" not in seen]
    if lost:
        raise StudyDefinitionError(f"{where}, families: scale {lost[0]} is in no family (every "
                                   f"scale must be analysed in one)")
    return tuple(out)


def _id_pattern(doc: dict, where: str, fallback: str | None) -> str:
    """``participants.id_pattern``: a regular expression that compiles and does not match the
    empty ID. Without a ``participants`` section: ``fallback`` (the package's rule, for a
    folder's study.yml), or an error when None (the package's own file must state it).

    >>> _id_pattern({"participants": {"id_pattern": "S-[0-9]+"}}, "study.yml", None)
    'S-[0-9]+'
    """
    if "participants" not in doc and fallback is not None:
        return fallback
    at = f"{where}, participants.id_pattern"
    pattern = _need(_need(doc, "participants", where), "id_pattern", f"{where}, participants")
    if not isinstance(pattern, str) or not pattern:
        raise StudyDefinitionError(f"{at}: expected a regular expression (text), got {pattern!r}")
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise StudyDefinitionError(f"{at}: {pattern!r} is not a regular expression ({err})") from None
    if compiled.fullmatch(""):
        raise StudyDefinitionError(f"{at}: {pattern!r} matches an empty participant_id")
    return pattern


def load(path: str | Path = DEFAULT_FILE) -> Definition:
    """Read and check one study.yml."""
    path = Path(path)
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise StudyDefinitionError(f"{where}: cannot read the study definition: "
                                   f"{' '.join(str(err).split())}") from None
    if not isinstance(doc, dict):
        raise StudyDefinitionError(f"{where}: expected a mapping of sections")
    study = _need(doc, "study", where)
    visits = _visits(doc, where)
    instruments = _need(doc, "instruments", where)
    if not isinstance(instruments, list) or not all(isinstance(i, str) for i in instruments):
        raise StudyDefinitionError(f"{where}, instruments: expected a list of key-file names")
    from mbpm.instruments import registry

    for name in instruments:
        try:
            registry.find(name)
        except registry.KeyFileError as err:
            raise StudyDefinitionError(f"{where}, instruments: {err}") from None
    plan = _need(doc, "plan", where)
    missing = [k for k in PLAN_KEYS if k not in plan]
    if missing:
        raise StudyDefinitionError(f"{where}, plan: missing choice {missing[0]!r}")
    _check_design_trials(_value(plan["design_trials"]), f"{where}, plan.design_trials")
    sets = doc.get("outcome_sets") or {}
    fallback = None if path.resolve() == DEFAULT_FILE else default().participant_id
    facts = []
    for i, fact in enumerate(doc.get("trial_facts") or []):
        at = f"{where}, trial_facts[{i}]"
        facts.append((_text(fact, "topic", at), _text(fact, "statement", at),
                      _one_of(_need(fact, "source", at), tuple(FACT_SOURCES), f"{at}.source")))
    return Definition(
        source=where, title=_text(study, "title", f"{where}, study"),
        citation=_text(study, "citation", f"{where}, study"),
        arms=_arms(doc, tuple(v.id for v in visits), where), visits=visits,
        instruments=tuple(instruments), analytes=_analytes(doc, where),
        families=_families(doc, tuple(instruments), where),
        outcome_sets=tuple((str(k), _value(v)) for k, v in sets.items()),
        choices=tuple((k, _value(plan[k])) for k in plan), trial_facts=tuple(facts),
        participant_id=_id_pattern(doc, where, fallback), text=text)


@cache
def default() -> Definition:
    """The package's study definition, read once per process."""
    return load(DEFAULT_FILE)


def for_folder(folder: str | Path) -> Definition:
    """The definition of a data folder: its own study.yml, else the package's."""
    own = Path(folder) / FILE_NAME
    return load(own) if own.is_file() else default()


_ACTIVE: list[Definition] = []  # the definition in use, once chosen (see active)


def active() -> Definition:
    """The definition in use (module docstring): set by :func:`use`, else the study.yml of
    ``$MBPM_DATA`` when it has one, else :func:`default`; chosen once per process.

    >>> active().treated.id == default().treated.id  # the shipped data folder
    True
    """
    if not _ACTIVE:
        folder = os.environ.get(DATA_ENV)
        _ACTIVE.append(for_folder(folder) if folder else default())
    return _ACTIVE[0]


def use(source: str | Path) -> Definition:
    """Make the definition of ``source`` (a study.yml, or a data folder: :func:`for_folder`) the
    one in use, before the modules that read it are imported.

    Raises :class:`StudyDefinitionError` when the process already uses a different definition
    (modules have read it at import; start a new process for another study)."""
    source = Path(source)
    wanted = for_folder(source) if source.is_dir() else load(source)
    if _ACTIVE and _ACTIVE[0] != wanted:
        raise StudyDefinitionError(
            f"{source}: this process already uses another study definition ({_ACTIVE[0].title!r}); "
            "the package reads one definition per process: run the command in a new process")
    if not _ACTIVE:
        _ACTIVE.append(wanted)
    return wanted


# ----------------------------------------------------------------------------------------------
# The import section: how a data folder's export differs from the data contract (mbpm.importing)
# ----------------------------------------------------------------------------------------------

#: The plate-reader export formats :mod:`mbpm.importing` reads (``import.plate_format``).
PLATE_FORMATS = ("grid", "block", "long")
#: Decimal marks of ``import.decimal``.
DECIMAL_MARKS = (".", ",")


@dataclass(frozen=True)
class ImportProfile:
    """The ``import`` section of a study definition: how the folder's files are read.

    * ``delimiter``: the field separator of every CSV file (``,``; ``;`` or a tab from a European
      Excel export).
    * ``decimal``: the decimal mark of numbers (``.``; ``,`` turns ``2,7`` into 2.7).
    * ``encoding``: the text encoding of every file (``utf-8``; e.g. ``latin-1``).
    * ``columns``: raw column name -> contract name, in every file (``Participant ID: participant_id``).
    * ``values``: column -> {raw value: contract value} (``visit: {Baseline: baseline}``).
    * ``ignore_columns``: shell patterns of columns dropped before validation
      (``redcap_event_name``, ``*_timestamp``, ``*_complete``, ``Unnamed: *``).
    * ``plate_format``: ``grid`` (the contract's: header ``,1,...,12`` then rows A to H),
      ``block`` (that grid anywhere in a file with a metadata block above or below it, row labels
      in any case) or ``long`` (a header, then one ``well,value`` row per well A1..H12).

    The defaults are the data contract itself: nothing is guessed without a profile.

    >>> ImportProfile().is_default
    True
    """

    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    columns: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    ignore_columns: tuple[str, ...] = ()
    plate_format: str = "grid"

    @property
    def is_default(self) -> bool:
        return self == ImportProfile()


def import_profile(doc: Any, where: str = f"{FILE_NAME}, import") -> ImportProfile:
    """Parse and check an ``import`` section (None or missing keys: the defaults).

    >>> import_profile({"delimiter": ";", "decimal": ",", "values": {"visit": {"Baseline": "baseline"}}}).values
    (('visit', (('Baseline', 'baseline'),)),)
    """
    if doc is None:
        return ImportProfile()
    if not isinstance(doc, dict):
        raise StudyDefinitionError(f"{where}: expected a mapping, got {doc!r}")
    known = set(ImportProfile.__dataclass_fields__)
    unknown = [k for k in doc if k not in known]
    if unknown:
        raise StudyDefinitionError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    default = ImportProfile()

    def text(key: str) -> str:
        value = doc.get(key, getattr(default, key))
        if not isinstance(value, str) or not value:
            raise StudyDefinitionError(f"{where}.{key}: expected text, got {value!r}")
        return value

    def mapping(node: Any, key: str) -> tuple[tuple[str, str], ...]:
        if node is None:
            return ()
        if not isinstance(node, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in node.items()):
            raise StudyDefinitionError(f"{where}.{key}: expected a mapping of text to text, got {node!r}")
        return tuple(node.items())

    delimiter = text("delimiter")
    if len(delimiter) != 1:
        raise StudyDefinitionError(f"{where}.delimiter: expected one character, got {delimiter!r}")
    decimal = _one_of(text("decimal"), DECIMAL_MARKS, f"{where}.decimal")
    if decimal == delimiter:
        raise StudyDefinitionError(f"{where}: the decimal mark and the delimiter are both {decimal!r}")
    encoding = text("encoding")
    try:
        "".encode(encoding)
    except LookupError:
        raise StudyDefinitionError(f"{where}.encoding: unknown encoding {encoding!r}") from None
    values = doc.get("values") or {}
    if not isinstance(values, dict):
        raise StudyDefinitionError(f"{where}.values: expected column: {{raw: value}}, got {values!r}")
    ignore = doc.get("ignore_columns") or []
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise StudyDefinitionError(f"{where}.ignore_columns: expected a list of column patterns")
    return ImportProfile(
        delimiter=delimiter, decimal=decimal, encoding=encoding,
        columns=mapping(doc.get("columns"), "columns"),
        values=tuple((str(c), mapping(m, f"values.{c}")) for c, m in values.items()),
        ignore_columns=tuple(ignore),
        plate_format=_one_of(text("plate_format"), PLATE_FORMATS, f"{where}.plate_format"))


def _section(folder: str | Path | None, key: str) -> Any:
    """Section ``key`` of the folder's study.yml if it has one, else of the package's."""
    own = Path(folder) / FILE_NAME if folder is not None else None
    path = own if own is not None and own.is_file() else DEFAULT_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise StudyDefinitionError(f"{path.name}: cannot read the study definition: {err}") from None
    return doc.get(key) if isinstance(doc, dict) else None


def import_for_folder(folder: str | Path | None) -> ImportProfile:
    """The import profile of a data folder (its study.yml's ``import`` section, else the package's)."""
    return import_profile(_section(folder, "import"))
