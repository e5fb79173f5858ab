"""The open registry of questionnaires: one key file per instrument, found by name.

A key file is YAML (``keys/<name>.yml`` in the package, or ``<name>.yml`` in a folder passed to
:func:`find`): the instrument's title, version, reference and missing-item rule, its item blocks
(columns and response range), its scales (items, reversed items, ``sum``/``mean``/``item``,
direction, an optional raw-to-T lookup table) and derived values (flags, bands, levels). Adding a
questionnaire is adding a file; nothing here names an instrument.

Item columns are written with a brace range or list: ``"pcs_{1..13}"`` is ``pcs_1`` ... ``pcs_13``,
``"maia_{5,6,7}"`` is three columns, a name without braces is one column. Every problem in a key
file raises :class:`KeyFileError` naming the file and the entry, e.g.
``maia2.yml, scales[3] (attention_regulation), aggregate: expected one of sum, mean, item, got 'avg'``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mbpm.instruments.base import Derived, ItemSet, Key, Lookup, Scale

#: The key files shipped with the package.
KEY_FOLDER = Path(__file__).resolve().parent / "keys"
AGGREGATES = ("sum", "mean", "item")
DIRECTIONS = ("better", "worse")
KEY_FIELDS = {"name", "title", "short", "version", "measures", "reference", "items", "scales",
              "missing_rule", "notes", "derived"}
REQUIRED_KEY_FIELDS = KEY_FIELDS - {"notes", "derived"}
BLOCK_FIELDS = {"columns", "range", "integer", "optional"}
SCALE_FIELDS = {"name", "label", "items", "aggregate", "higher_is", "reversed", "optional", "lookup"}
DERIVED_FIELDS = {"name", "kind", "scale", "item", "at_least", "above", "lower_bounds",
                  "upper_bounds"}
_BRACES = re.compile(r"^(?P<prefix>[^{}]*)\{(?P<inside>[^{}]+)\}(?P<suffix>[^{}]*)$")


class KeyFileError(ValueError):
    """A key file breaks the format; the message names the file and the entry."""


def expand(spec: str | list[str], where: str) -> tuple[str, ...]:
    """Item columns of a spec: ``"pcs_{1..3}"`` -> ``("pcs_1", "pcs_2", "pcs_3")``;
    ``"x_{2,5}"`` -> ``("x_2", "x_5")``; ``"mpq_vas"`` -> ``("mpq_vas",)``; a list: each expanded."""
    if isinstance(spec, list):
        return tuple(c for part in spec for c in expand(part, where))
    if not isinstance(spec, str) or not spec:
        raise KeyFileError(f"{where}: expected item columns such as 'pcs_{{1..13}}', got {spec!r}")
    match = _BRACES.match(spec)
    if "{" not in spec and "}" not in spec:
        return (spec,)
    if match is None:
        raise KeyFileError(f"{where}: cannot read item columns {spec!r}")
    inside, prefix, suffix = match["inside"], match["prefix"], match["suffix"]
    if re.fullmatch(r"\d+\.\.\d+", inside):
        first, last = (int(v) for v in inside.split(".."))
        numbers = range(first, last + 1)
    elif re.fullmatch(r"\d+(,\s*\d+)*", inside):
        numbers = [int(v) for v in inside.split(",")]
    else:
        raise KeyFileError(f"{where}: expected {{first..last}} or {{a,b,c}} in {spec!r}")
    columns = tuple(f"{prefix}{n}{suffix}" for n in numbers)
    if not columns:
        raise KeyFileError(f"{where}: {spec!r} names no column")
    return columns


def _fields(entry: Any, allowed: set[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise KeyFileError(f"{where}: expected a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise KeyFileError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(entry))
    if missing:
        raise KeyFileError(f"{where}: missing field {missing[0]!r}")
    return entry


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise KeyFileError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _block(entry: Any, instrument: str, where: str) -> ItemSet:
    e = _fields(entry, BLOCK_FIELDS, {"columns", "range"}, where)
    low_high = e["range"]
    if (not isinstance(low_high, list) or len(low_high) != 2
            or not all(isinstance(v, int | float) for v in low_high) or low_high[0] >= low_high[1]):
        raise KeyFileError(f"{where}, range: expected [lowest, highest] answer, got {low_high!r}")
    return ItemSet(instrument, expand(e["columns"], f"{where}, columns"), float(low_high[0]),
                   float(low_high[1]), integer=bool(e.get("integer", True)),
                   optional=bool(e.get("optional", False)))


def _lookup(entry: Any, folder: Path, where: str) -> Lookup:
    e = _fields(entry, {"table", "raw"}, {"table"}, where)
    _one_of(e.get("raw", "ceil"), ("ceil",), f"{where}, raw")
    path = folder / e["table"]
    if not path.is_file():
        raise KeyFileError(f"{where}, table: file {e['table']} not found next to the key")
    table = pd.read_csv(path)
    if not {"raw", "t_score"} <= set(table.columns):
        raise KeyFileError(f"{where}, table {e['table']}: expected columns raw and t_score")
    raw = table["raw"].tolist()
    if raw != list(range(int(raw[0]), int(raw[0]) + len(raw))):
        raise KeyFileError(f"{where}, table {e['table']}: raw must be consecutive whole numbers")
    return Lookup(table=table.astype({"raw": int}), source=e["table"])


def _scale(entry: Any, blocks: dict[str, ItemSet], folder: Path, where: str) -> Scale:
    e = _fields(entry, SCALE_FIELDS, {"name", "label", "items", "aggregate", "higher_is"}, where)
    where = f"{where} ({e['name']})"
    items = expand(e["items"], f"{where}, items")
    unknown = [c for c in items if c not in blocks]
    if unknown:
        raise KeyFileError(f"{where}, items: {unknown[0]} is in no item block of this key")
    reversed_ = expand(e["reversed"], f"{where}, reversed") if "reversed" in e else ()
    if not set(reversed_) <= set(items):
        raise KeyFileError(f"{where}, reversed: must be among the scale's items")
    aggregate = _one_of(e["aggregate"], AGGREGATES, f"{where}, aggregate")
    if aggregate == "item" and len(items) != 1:
        raise KeyFileError(f"{where}, items: an 'item' scale has exactly one item")
    ranges = {(blocks[c].minimum, blocks[c].maximum) for c in items}
    if len(ranges) != 1:
        raise KeyFileError(f"{where}, items: items with different response ranges {sorted(ranges)}")
    lookup = _lookup(e["lookup"], folder, f"{where}, lookup") if "lookup" in e else None
    if lookup is not None and aggregate != "sum":
        raise KeyFileError(f"{where}, lookup: only a sum scale converts through a table")
    return Scale(str(e["name"]), str(e["label"]), items, aggregate,  # type: ignore[arg-type]
                 _one_of(e["higher_is"], DIRECTIONS, f"{where}, higher_is"),  # type: ignore[arg-type]
                 item_range=ranges.pop(), reversed=reversed_,
                 optional=bool(e.get("optional", False)), lookup=lookup)


def _derived(entry: Any, scales: dict[str, Scale], items: set[str], where: str) -> Derived:
    e = _fields(entry, DERIVED_FIELDS, {"name", "kind"}, where)
    kind = _one_of(e["kind"], ("flag", "bands", "levels"), f"{where}, kind")
    where = f"{where} ({e['name']})"
    if kind == "flag" and "item" in e:
        if e["item"] not in items or "above" not in e:
            raise KeyFileError(f"{where}: an item flag needs an item of this key and 'above'")
        return Derived(e["name"], "flag", e["item"], on_item=True, threshold=float(e["above"]))
    if e.get("scale") not in scales:
        raise KeyFileError(f"{where}, scale: expected a scale of this key, got {e.get('scale')!r}")
    if kind == "flag":
        if "at_least" not in e:
            raise KeyFileError(f"{where}: a scale flag needs 'at_least'")
        return Derived(e["name"], "flag", e["scale"], threshold=float(e["at_least"]))
    if kind == "bands":
        bounds = e.get("lower_bounds")
        if not isinstance(bounds, dict) or list(bounds.values()) != sorted(bounds.values()):
            raise KeyFileError(f"{where}, lower_bounds: expected {{label: lowest value}} in order")
        return Derived(e["name"], "bands", e["scale"], bounds=tuple(float(v) for v in bounds.values()),
                       labels=tuple(str(k) for k in bounds))
    bounds = e.get("upper_bounds")
    if not isinstance(bounds, list) or bounds != sorted(bounds):
        raise KeyFileError(f"{where}, upper_bounds: expected the highest value of each level, in order")
    return Derived(e["name"], "levels", e["scale"], bounds=tuple(float(v) for v in bounds))


def load_key(path: str | Path) -> Key:
    """Read and check one key file (see the module docstring)."""
    path = Path(path)
    where = path.name
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise KeyFileError(f"{where}: cannot read the key file: {err}") from None
    e = _fields(doc, KEY_FIELDS, REQUIRED_KEY_FIELDS, where)
    if e["name"] != path.stem:
        raise KeyFileError(f"{where}, name: expected {path.stem!r} (the file's name), got {e['name']!r}")
    if not isinstance(e["items"], list) or not isinstance(e["scales"], list) or not e["scales"]:
        raise KeyFileError(f"{where}: items and scales must be lists, scales not empty")
    blocks = tuple(_block(b, e["name"], f"{where}, items[{i}]") for i, b in enumerate(e["items"]))
    columns = [c for b in blocks for c in b.columns]
    if len(set(columns)) != len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        raise KeyFileError(f"{where}, items: column {twice} is in two blocks")
    block_of = {c: b for b in blocks for c in b.columns}
    scales = tuple(_scale(s, block_of, path.parent, f"{where}, scales[{i}]")
                   for i, s in enumerate(e["scales"]))
    names = [s.name for s in scales]
    if len(set(names)) != len(names):
        raise KeyFileError(f"{where}, scales: two scales named {next(n for n in names if names.count(n) > 1)!r}")
    derived = tuple(_derived(d, dict(zip(names, scales)), set(columns), f"{where}, derived[{i}]")
                    for i, d in enumerate(e.get("derived") or []))
    return Key(name=str(e["name"]), title=str(e["title"]), short=str(e["short"]),
               version=str(e["version"]), measures=str(e["measures"]), blocks=blocks,
               scales=scales, missing_rule=" ".join(str(e["missing_rule"]).split()),
               reference=str(e["reference"]), notes=" ".join(str(e.get("notes", "")).split()),
               derived=derived)


def available(folders: tuple[Path, ...] = ()) -> list[str]:
    """Names of every key file in ``folders`` and in the package, sorted."""
    return sorted({p.stem for f in (*folders, KEY_FOLDER) for p in Path(f).glob("*.yml")})


@lru_cache(maxsize=None)
def find(name: str, folders: tuple[Path, ...] = ()) -> Key:
    """The key of instrument ``name``: ``<name>.yml`` in the first of ``folders`` that has it,
    else in the package. Raises :class:`KeyFileError` for a name without a key file."""
    for folder in (*folders, KEY_FOLDER):
        path = Path(folder) / f"{name}.yml"
        if path.is_file():
            return load_key(path)
    raise KeyFileError(f"no scoring key for instrument {name!r}: expected a key file {name}.yml "
                       f"(known: {', '.join(available(folders))})")
