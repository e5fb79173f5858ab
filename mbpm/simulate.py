"""The seeded generator of the simulated cohort (the data-contract layout; parameters in mbpm/simulation.yml,
copied verbatim into every folder it writes, such as the shipped data/simulation.yml).

Model, in one paragraph. Every participant has three correlated latent traits (pain, distress,
mindfulness/interoception; healthy controls shifted). Week-8 traits of patients are
``change[arm] + stability * baseline + sqrt(1 - stability^2) * noise``. Each questionnaire item is
``location + offset_item + scale * sign_item * (loadings . traits) + residual`` rounded to the
nearest response category and clipped to the item's range (ordinal thresholds half-way between
categories), then left empty at a small rate. True salivary concentrations are log-normal with a
person effect, a visit effect, the arm's week-8 effect and, for oxytocin, a term correlated with
the change in latent pain. Arms, visits, instruments and analytes are those of the study
definition in use (:func:`mbpm.study.active`); each analyte and each arm needs its entries in the
parameter file (``biomarkers.analytes``, ``assay.kits``; the arm sizes ``design.n_<arm id>``),
and the definition is written into every folder as ``study.yml``, beside ``simulation.yml``, so
the folder says what study it is. Concentrations reach the tables only as optical densities: each
analyte on its own 96-well plates, each plate with its own four-parameter logistic curve, its own
arrangement of standards, blanks and duplicate samples, and multiplicative well noise.
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from mbpm import study
from mbpm.assays import four_pl
from mbpm.instruments import reversed_items
from mbpm.instruments.items import item_columns, item_set
from mbpm.errors import DataError
from mbpm.io import REQUIRED_FILES, participant_id_digits, read_simulation_marker
from mbpm.literal import visible

#: The parameter file shipped with the package (package data, so ``pip install .`` has it too).
DEFAULT_PARAMS = Path(__file__).resolve().parent / "simulation.yml"
#: Marker file written into every simulated folder: seed, generator version, arm sizes.
MARKER = "SIMULATED"
ROWS = tuple("ABCDEFGH")
COLUMNS = tuple(str(c) for c in range(1, 13))
#: The study definition of the cohort (arms, visits, analytes; module docstring).
_DEFINITION = study.active()
VISITS = _DEFINITION.visit_ids
PRE, POST = _DEFINITION.pre.id, _DEFINITION.post.id
REFERENCE = _DEFINITION.reference.id if _DEFINITION.reference else None


@dataclass(frozen=True)
class Params:
    """A parameter file: its text (copied verbatim into every folder) and its values."""

    text: str
    values: dict[str, Any]


def _strip(node: Any) -> Any:
    """The values of a parameter tree: every ``{value, reason, source}`` leaf becomes its value."""
    if isinstance(node, dict) and "value" in node and "reason" in node:
        return node["value"]
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items()}
    return node


def read_params(path: str | Path | None = None) -> Params:
    """Read a simulation.yml (default: the shipped one); an unreadable file raises DataError."""
    source = Path(path or DEFAULT_PARAMS)
    try:
        text = source.read_text(encoding="utf-8")
        values = _strip(yaml.safe_load(text))
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise DataError(f"{source}: expected a UTF-8 YAML parameter file, could not read it: "
                        f"{visible(str(err).splitlines()[0] if str(err) else type(err).__name__, 120)}") from None
    if not isinstance(values, dict):
        raise DataError(f"{source}: expected a YAML mapping of parameters")
    return Params(text=text, values=values)


# ----------------------------------------------------------------------------------------------
# Participants, screening
# ----------------------------------------------------------------------------------------------

def _truncated_normal(rng: np.random.Generator, n: int, mean: float, sd: float,
                      low: float, high: float) -> np.ndarray:
    """Inverse-CDF draws from a normal truncated to [low, high]."""
    from scipy.special import ndtr, ndtri

    lo, hi = ndtr((low - mean) / sd), ndtr((high - mean) / sd)
    return mean + sd * ndtri(lo + (hi - lo) * rng.random(n))


def _choice(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(options), dtype=object)
    p = np.array(list(options.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _per_group(group: np.ndarray, value: Any) -> np.ndarray:
    """``np.array([value(g) for g in group])``, with ``value`` called once per distinct group.
    Example: ``_per_group(np.array(["WL", "HC", "WL"], dtype=object), len)`` -> [2, 2, 2]."""
    known = {g: value(g) for g in set(group.tolist())}
    return np.array([known[g] for g in group.tolist()])


def _participant_columns(rng: np.random.Generator, v: dict, sizes: dict[str, int],
                         ) -> dict[str, np.ndarray | list[str]]:
    """The columns of :func:`_participants` as arrays."""
    design, demo = v["design"], v["demographics"]
    n = sum(sizes.values())
    group = rng.permutation(np.array([a for a, k in sizes.items() for _ in range(k)], dtype=object))
    patient = group != REFERENCE
    low, high = demo["age_range"]
    age = np.clip(np.rint(_truncated_normal(rng, n, demo["age_mean"], demo["age_sd"], low, high)),
                  low, high).astype(int)
    sex = np.where(rng.random(n) < demo["female_prob"], "F", "M").astype(object)
    condition = np.where(patient, _choice(rng, demo["pain_conditions"], n), None)
    years = np.exp(np.log(demo["pain_years_median"]) + demo["pain_years_log_sd"] * rng.standard_normal(n))
    years = np.maximum(np.round(years, 1), demo["pain_years_min"])
    dropout_p = _per_group(group, lambda g: design["dropout_prob"].get(g, 0.0))
    dropped = patient & (rng.random(n) < dropout_p)
    reason = _choice(rng, design["withdrawal_reasons"], n)
    return {
        "participant_id": [f"P{i:0{digits}d}" for digits in [id_digits(n)] for i in range(1, n + 1)],
        "group": group,
        "age": age,
        "sex": sex,
        "pain_condition": condition,
        "pain_years": np.where(patient, years, np.nan),
        "completed_week8": np.where(patient, np.where(dropped, "no", "yes"), None),
        "withdrawal_reason": np.where(dropped, reason, None),
    }


def id_digits(n: int) -> int:
    """Digits of the participant IDs of a cohort of ``n``: 3 (P001..P999, the default rule
    :data:`mbpm.io.PARTICIPANT_ID`), more above 999 (P0001..P1000 for 1,000)."""
    return max(3, len(str(n)))


def _screening_frame(counts: np.ndarray, n_patients: int, v: dict) -> pd.DataFrame:
    """screening.csv: the assessed row, then one row per exclusion reason."""
    rates = v["design"]["screening_excluded_per_enrolled"]
    return pd.DataFrame({
        "stage": ["assessed"] + ["excluded"] * len(rates),
        "reason": [None, *rates],
        "count": [n_patients + int(counts.sum()), *counts.tolist()],
    })


def _screening_counts(rng: np.random.Generator, v: dict, n_patients: int) -> np.ndarray:
    """People excluded at screening for each reason (Poisson)."""
    rates = v["design"]["screening_excluded_per_enrolled"]
    return rng.poisson(np.array(list(rates.values())) * n_patients)


# ----------------------------------------------------------------------------------------------
# Latent traits and questionnaire items
# ----------------------------------------------------------------------------------------------

def _latent(rng: np.random.Generator, v: dict, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baseline traits (n x k) and week-8 traits (n x k; NaN for controls)."""
    lat = v["latent"]
    names = lat["factors"]
    chol = np.linalg.cholesky(np.array(lat["correlation"], dtype=float))
    n, k = len(group), len(names)
    z0 = rng.standard_normal((n, k)) @ chol.T
    z0 += np.outer(group == REFERENCE, [lat["hc_shift"].get(f, 0.0) for f in names])
    s = lat["stability"]
    change = _per_group(group, lambda g: [lat["change"].get(g, {}).get(f, 0.0) for f in names])
    z8 = change + s * z0 + np.sqrt(1 - s**2) * (rng.standard_normal((n, k)) @ chol.T)
    z8[group == REFERENCE] = np.nan
    return z0, z8


@dataclass(frozen=True)
class _ItemModel:
    columns: list[str]
    location: np.ndarray
    scale: np.ndarray
    loadings: np.ndarray  # k x items, sign of reversed items included
    residual_sd: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    integer: np.ndarray


def _item_model(v: dict) -> _ItemModel:
    """Arrays over every required item column (items.py order) from the parameter blocks."""
    names = v["latent"]["factors"]
    reversed_columns = reversed_items()
    per_column: dict[str, tuple] = {}
    for prefix, b in v["items"]["blocks"].items():
        numbers = [None] if b["items"] is None else range(b["items"][0], b["items"][1] + 1)
        for i in numbers:
            column = prefix if i is None else f"{prefix}{i}"
            sign = -1.0 if column in reversed_columns else 1.0
            load = [sign * b["loadings"].get(f, 0.0) for f in names]
            per_column[column] = (b["location"], b["scale"], load, b["residual_sd"])
    columns = item_columns(include_optional=False)
    missing = sorted(set(columns) - set(per_column))
    if missing or len(per_column) != len(columns):
        raise DataError(f"simulation.yml, items.blocks: the blocks do not cover exactly the item "
                        f"columns of the study's instruments (missing: {', '.join(missing) or 'none'})")
    rows = [per_column[c] for c in columns]
    sets = [item_set(c) for c in columns]
    return _ItemModel(
        columns=columns,
        location=np.array([r[0] for r in rows]),
        scale=np.array([r[1] for r in rows]),
        loadings=np.array([r[2] for r in rows]).T,
        residual_sd=np.array([r[3] for r in rows]),
        minimum=np.array([s.minimum for s in sets], dtype=float),
        maximum=np.array([s.maximum for s in sets], dtype=float),
        integer=np.array([s.integer for s in sets]),
    )


def _items(rng: np.random.Generator, v: dict, traits: np.ndarray,
           model: _ItemModel | None = None) -> np.ndarray:
    """Item answers (rows x items): ordinal thresholds half-way between categories
    (``model``: :func:`_item_model` of ``v``, computed when not given)."""
    m = model or _item_model(v)
    offset = v["items"]["item_offset_sd"] * rng.standard_normal(len(m.columns)) * m.scale
    x = (m.location + offset + m.scale * (traits @ m.loadings)
         + m.residual_sd * rng.standard_normal((len(traits), len(m.columns))))
    x = np.where(m.integer, np.rint(x), np.round(x))  # VAS: whole millimetres
    x = np.clip(x, m.minimum, m.maximum)
    x[rng.random(x.shape) < v["items"]["missing_prob"]] = np.nan
    return x


# ----------------------------------------------------------------------------------------------
# Biomarkers and plates
# ----------------------------------------------------------------------------------------------

def _concentrations(rng: np.random.Generator, v: dict, group: np.ndarray, visit: np.ndarray,
                    person: np.ndarray, pain_change: np.ndarray) -> dict[str, np.ndarray]:
    """True concentration of each analyte of the definition for each sample row.

    ``log c = log median + hc_shift [HC] + u_person + e_visit + effect[arm] [week 8]``; for
    the interplay marker (oxytocin; the definition's outcome set ``interplay_marker``) at week 8
    also ``beta * d`` with ``d`` the deviation of the latent pain change from
    its arm mean, ``beta`` chosen so that corr(change in log c, d) equals the parameter rho:
    ``beta = rho * w * sqrt(2) / (sd_d * sqrt(1 - rho^2))``, ``sd_d = sqrt(2 (1 - stability))``.
    """
    n_people = person.max() + 1
    week8 = visit == POST
    marker = _DEFINITION.outcome_set("interplay_marker")
    out = {}
    for analyte, p in _per_analyte(v, ("biomarkers", "analytes")).items():
        u = p["between_sd"] * rng.standard_normal(n_people)
        e = p["within_sd"] * rng.standard_normal(len(visit))
        effect = _per_group(group, lambda g: p["effect"].get(g, 0.0))
        log_c = np.log(p["median"]) + p["hc_shift"] * (group == REFERENCE) + u[person] + e + week8 * effect
        if analyte == marker:
            rho = v["biomarkers"]["oxytocin_pain_change_correlation"]
            sd_d = np.sqrt(2 * (1 - v["latent"]["stability"]))
            beta = rho * p["within_sd"] * np.sqrt(2) / (sd_d * np.sqrt(1 - rho**2))
            log_c = log_c + np.where(week8, beta * np.nan_to_num(pain_change), 0.0)
        out[analyte] = np.exp(log_c)
    return out


def _per_analyte(v: dict, keys: tuple[str, str]) -> dict[str, Any]:
    """The parameters of ``v[keys[0]][keys[1]]`` for each analyte of the definition, in its order
    (DataError naming the missing entry)."""
    given = v.get(keys[0], {}).get(keys[1], {})
    missing = [a for a in _DEFINITION.analyte_ids if a not in given]
    if missing:
        raise DataError(f"simulation.yml, {'.'.join(keys)}: no entry for analyte {missing[0]!r} of "
                        f"the study definition (entries: {', '.join(given) or 'none'})")
    return {a: given[a] for a in _DEFINITION.analyte_ids}


@functools.lru_cache(maxsize=8)
def _templates(n_levels: int, n_blank_pairs: int) -> np.ndarray:
    """Plate arrangements: (templates x 96) pair-slot index of every well (row-major A1..H12).

    Two canonical arrangements, each in four orientations (as is, flipped left-right,
    top-bottom, both): standards in columns of horizontal duplicates or in rows of vertical
    duplicates. Pair slots ``0..n_levels-1`` are standards (highest first), the next
    ``n_blank_pairs`` blanks, the rest samples.
    """
    horizontal = np.empty((8, 12), dtype=int)  # pairs (c, c+1), filled column pair by column pair
    vertical = np.empty((8, 12), dtype=int)  # pairs (r, r+1), filled row pair by row pair
    for r in range(8):
        for c in range(12):
            horizontal[r, c] = (c // 2) * 8 + r
            vertical[r, c] = (r // 2) * 12 + c
    if n_levels + n_blank_pairs >= 48:
        raise ValueError("standards and blanks leave no room for samples")
    out = np.array([g[::fr, ::fc].ravel() for g in (horizontal, vertical) for fr in (1, -1)
                    for fc in (1, -1)])
    out.flags.writeable = False  # one array per arguments (cached): read only
    return out


class _PlateDraw(NamedTuple):
    """One simulated plate (:func:`_plate_draws`): which sample row (``row``, -1 for none) and
    which concentration ``x`` (standards; NaN elsewhere) each of its 96 wells holds, its ODs."""

    plate_id: str
    analyte: str
    dilution: float
    is_std: np.ndarray
    is_blank: np.ndarray
    is_sample: np.ndarray
    row: np.ndarray
    x: np.ndarray
    od: np.ndarray


def _plate_draws(rng: np.random.Generator, v: dict, person: np.ndarray, is_post: np.ndarray,
                 conc: dict[str, np.ndarray]) -> list[_PlateDraw]:
    """Every plate of a cohort whose sample rows are ``person`` (index) at visit ``is_post``.

    Per analyte: a random order of the participants, then per plate the draws in this order:
    its arrangement (one of :func:`_templates`), the log-normal factors of its curve's a, b, c
    and d, and the well noise of its 96 wells (one call of 100 normals gives the same numbers
    as 4 + 96). The wells of all plates of an analyte are then computed at once (arrays of
    plates x 96), element for element as one plate at a time."""
    a = v["assay"]
    n_levels, n_blank_pairs = a["standard_levels"], a["blanks_per_plate"] // 2
    templates = _templates(n_levels, n_blank_pairs)
    first_sample = n_levels + n_blank_pairs
    per_plate = 48 - first_sample
    cv = a["plate_param_cv"]
    out = []
    for analyte, kit in _per_analyte(v, ("assay", "kits")).items():
        # Both visits of a participant on the same plate; participants in random order.
        order = np.argsort(rng.permutation(person.max() + 1)[person] * 2 + is_post, kind="stable")
        n_plates = -(-len(order) // per_plate)
        standards = kit["standard_top"] / a["standard_dilution_factor"] ** np.arange(n_levels)
        pick = np.empty(n_plates, dtype=np.intp)
        noise = np.empty((n_plates, 100))
        for k in range(n_plates):
            pick[k] = rng.integers(len(templates))
            noise[k] = rng.standard_normal(100)
        slot = templates[pick]
        sample_slot = slot - first_sample
        is_std = slot < n_levels
        is_blank = (slot >= n_levels) & (slot < first_sample)
        filled = np.minimum(len(order) - per_plate * np.arange(n_plates), per_plate)[:, None]
        is_sample = (sample_slot >= 0) & (sample_slot < filled)
        index = per_plate * np.arange(n_plates)[:, None] + np.clip(sample_slot, 0, filled - 1)
        row = np.where(is_sample, order[np.minimum(index, len(order) - 1)], -1)
        x = np.full((n_plates, 96), np.nan)
        x[is_std] = standards[slot[is_std]]
        x[is_sample] = conc[analyte][row[is_sample]] / kit["dilution"]
        pars = {p: kit[p] * np.exp(cv[p] * noise[:, j, None]) for j, p in enumerate("abcd")}
        od = np.where(np.isnan(x), a["blank_od"], four_pl(np.nan_to_num(x, nan=1.0), **pars))
        od = np.round(od * np.exp(a["well_cv"] * noise[:, 4:]), a["od_decimals"])
        out += [_PlateDraw(f"{analyte}_{k + 1:02d}", analyte, float(kit["dilution"]), is_std[k],
                           is_blank[k], is_sample[k], row[k], x[k], od[k]) for k in range(n_plates)]
    return out


_WELLS = np.array([f"{r}{c}" for r in ROWS for c in COLUMNS], dtype=object)


def _layout_columns(draws: list[_PlateDraw], ids: np.ndarray, visits: np.ndarray,
                    plate_ids: list[str] | None = None, row_offsets: np.ndarray | None = None,
                    ) -> dict[str, Any]:
    """The plate_layout.csv columns of ``draws`` (one row per used well, plate by plate);
    ``ids`` and ``visits`` name each sample row. ``plate_ids`` rename the draws' plates and
    ``row_offsets`` (one per draw) shift their sample rows (the cohorts of a batch). The text
    columns are str arrays taken from their distinct cells (missing: NaN)."""
    std, blank, sample, x, row = (np.stack([getattr(d, k) for d in draws])
                                  for k in ("is_std", "is_blank", "is_sample", "x", "row"))
    used = std | blank | sample
    plate, well = np.nonzero(used)  # plate by plate, wells in order (row-major)
    is_std, is_blank, x, s = std[used], blank[used], x[used], row[used]
    if row_offsets is not None:
        s = np.where(s >= 0, s + np.asarray(row_offsets)[plate], -1)
    dilution = np.array([d.dilution for d in draws])[plate]
    has = s >= 0
    sample_row = np.where(has, s, -1)

    def text(distinct: Any, codes: np.ndarray) -> Any:  # distinct[codes] as str, -1: missing
        return pd.array(np.asarray(distinct, dtype=object), dtype="str").take(codes, allow_fill=True)

    return {
        "plate_id": text(plate_ids if plate_ids is not None else [d.plate_id for d in draws], plate),
        "analyte": text([d.analyte for d in draws], plate),
        "well": text(_WELLS, well),
        "role": text(["standard", "blank", "sample"], np.select([is_std, is_blank], [0, 1], 2)),
        "concentration": np.where(is_std, x, np.nan),
        "participant_id": text(ids, sample_row),
        "visit": text(visits, sample_row),
        "dilution": np.where(has & (dilution != 1), dilution, np.nan),
    }


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------

def arm_sizes(values: dict, by_role: tuple[int | None, ...] = (),
              by_key: dict[str, int | None] | None = None) -> dict[str, int]:
    """Size of each arm of the definition (its order): given in role order (treated, control,
    reference) or by :attr:`~mbpm.study.Arm.size_key` (``n_mbpm=30``), else ``design.<size_key>``
    of the parameter file. An unknown key or a missing size raises DataError."""
    roles = [a for a in (_DEFINITION.treated, _DEFINITION.control, _DEFINITION.reference) if a]
    if len(by_role) > len(roles):
        raise DataError(f"expected at most {len(roles)} arm sizes, got {len(by_role)}")
    chosen = {arm.size_key: n for arm, n in zip(roles, by_role) if n is not None}
    keys = [a.size_key for a in _DEFINITION.arms]
    unknown = [k for k in (by_key or {}) if k not in keys]
    if unknown:
        raise DataError(f"{unknown[0]}: not an arm size of the study (expected {', '.join(keys)})")
    chosen |= {k: n for k, n in (by_key or {}).items() if n is not None}
    sizes = {}
    for arm in _DEFINITION.arms:
        n = chosen.get(arm.size_key, values.get("design", {}).get(arm.size_key))
        if n is None:
            raise DataError(f"simulation.yml, design: no size {arm.size_key} for arm {arm.id!r}")
        sizes[arm.id] = int(n)
    return sizes


def simulate_tables(params: Params | None = None, seed: int = 0, *sizes: int | None,
                    **size_keys: int | None) -> dict[str, Any]:
    """One simulated cohort of the study definition in use, in memory, as the raw tables of a
    data folder.

    Arm sizes: ``sizes`` in role order (treated, control, reference) or by size key
    (``simulate_tables(seed=3, n_mbpm=6, n_wl=5, n_hc=4)``), else the parameter file's
    (:func:`arm_sizes`). Returns ``participants``, ``questionnaires``, ``screening``,
    ``plate_layout`` (DataFrames), ``plates`` (``{plate_id: 8 x 12 OD grid}``, index A..H,
    columns "1".."12") and ``simulation`` (seed, generator version, arm sizes, parameter text,
    definition text).
    """
    params = params or read_params()
    v = params.values
    n = arm_sizes(v, sizes, size_keys)
    c = _cohort(v, seed, n)
    ids = np.array(c.participants["participant_id"], dtype=object)
    questionnaires = pd.concat([
        pd.DataFrame({"participant_id": ids[c.person], "visit": c.visit}),
        pd.DataFrame(c.items, columns=item_columns(include_optional=False)),
    ], axis=1)
    layout = pd.DataFrame(_layout_columns(c.plates, ids[c.person], c.visit))
    grids = {d.plate_id: pd.DataFrame(d.od.reshape(8, 12), index=pd.Index(ROWS), columns=COLUMNS)
             for d in c.plates}
    simulation = {"seed": int(seed), "generator_version": str(v["generator_version"]),
                  **{a.size_key: n[a.id] for a in _DEFINITION.arms}}
    digits = id_digits(len(ids))
    if digits > 3:  # wider IDs than the default rule: record the rule they follow
        simulation["participant_id"] = participant_id_digits(digits)
    return {
        "participants": pd.DataFrame(c.participants),
        "questionnaires": questionnaires.iloc[c.order].reset_index(drop=True),
        "screening": _screening_frame(c.screening, sum(k for a, k in n.items() if a != REFERENCE), v),
        "plate_layout": layout,
        "plates": grids,
        "simulation": simulation | {"params_text": params.text, "study_text": _DEFINITION.text},
    }


class _Cohort(NamedTuple):
    """The draws of one cohort (:func:`_cohort`), before they become tables: sample rows are
    ``person`` (index into participants) at ``visit``; ``order`` sorts them by visit, then
    participant (the order of questionnaires.csv)."""

    participants: dict[str, Any]  # the columns of participants.csv
    person: np.ndarray
    visit: np.ndarray
    items: np.ndarray
    plates: list[_PlateDraw]
    screening: np.ndarray
    order: np.ndarray


def _cohort(v: dict, seed: int, n: dict[str, int], model: _ItemModel | None = None) -> _Cohort:
    """Every random draw of one cohort of arm sizes ``n``, in the order that makes a seed name
    one cohort (module docstring)."""
    rng = np.random.default_rng(seed)
    participants = _participant_columns(rng, v, n)
    group = participants["group"]
    z0, z8 = _latent(rng, v, group)
    completed = participants["completed_week8"] == "yes"
    people = np.arange(len(group))
    person = np.concatenate([people, people[completed]])
    visit = np.array([PRE] * len(group) + [POST] * int(completed.sum()), dtype=object)
    traits = np.vstack([z0, z8[completed]])
    pain = v["latent"]["factors"].index("pain")
    change = {g: v["latent"]["change"].get(g, {}).get("pain", 0.0) for g in np.unique(group)}
    pain_change = np.where(visit == POST, traits[:, pain] - z0[person, pain]
                           - _per_group(group[person], change.__getitem__), np.nan)
    items = _items(rng, v, traits, model)
    conc = _concentrations(rng, v, group[person], visit, person, pain_change)
    plates = _plate_draws(rng, v, person, visit == POST, conc)
    order = np.lexsort((person, visit == POST))  # by visit, then participant
    screening = _screening_counts(rng, v, sum(k for a, k in n.items() if a != REFERENCE))
    return _Cohort(participants, person, visit, items, plates, screening, order)


def _csv(frame: pd.DataFrame, path: Path, **kwargs: Any) -> None:
    frame.to_csv(path, index=False, float_format="%g", lineterminator="\n", **kwargs)


def check_target(out: Path, force: bool = False) -> None:
    """Refuse to write a simulated folder where it could destroy data (DataError).

    ``out`` may be missing or an empty folder. A non-empty folder is replaced only with
    ``force`` *and* a valid ``SIMULATED`` marker in it (a folder mbpm.simulate wrote); a folder
    without the marker (a real export, say) is never overwritten, with or without ``force``.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise DataError(f"{out}: the folder is not empty and has no {MARKER} marker, so it may hold "
                        "real data: simulate never overwrites it (even with --force); name a new folder")
    read_simulation_marker(out)  # a malformed marker: not a folder simulate wrote
    if not force:
        raise DataError(f"{out}: the folder is not empty (a simulated folder); use --force to replace "
                        "it or name a new folder")


def _clear(out: Path) -> None:
    """Remove the files a previous simulation wrote (the rest of the folder is left alone)."""
    for name in (*REQUIRED_FILES, MARKER, "simulation.yml", study.FILE_NAME):
        (out / name).unlink(missing_ok=True)
    for plate in (out / "plates").glob("*.csv") if (out / "plates").is_dir() else ():
        plate.unlink()


def write_folder(tables: dict[str, Any], out_dir: str | Path, force: bool = False) -> Path:
    """Write simulated tables in the data-contract layout, plus simulation.yml, study.yml (the
    definition they follow) and the SIMULATED marker.

    The target is checked first (:func:`check_target`); with ``force`` the files of the previous
    simulation are removed, so no plate of it stays behind.
    """
    out = Path(out_dir)
    check_target(out, force)
    if out.is_dir():
        _clear(out)
    (out / "plates").mkdir(parents=True, exist_ok=True)
    participants = tables["participants"].copy()
    participants["age"] = participants["age"].astype("Int64")
    _csv(participants, out / "participants.csv")
    q = tables["questionnaires"].copy()
    for column in q.columns[2:]:
        if item_set(column).integer:
            q[column] = q[column].astype("Int64")
    _csv(q, out / "questionnaires.csv")
    _csv(tables["screening"], out / "screening.csv")
    _csv(tables["plate_layout"], out / "plate_layout.csv")
    for plate_id, grid in tables["plates"].items():
        grid.to_csv(out / "plates" / f"{plate_id}.csv", float_format="%.3f", lineterminator="\n")
    sim = tables.get("simulation")
    if sim is not None:
        keys = ("seed", "generator_version", *(a.size_key for a in _DEFINITION.arms),
                "participant_id")
        meta = {k: sim[k] for k in keys if k in sim}
        (out / MARKER).write_text(
            "# This folder was written by mbpm.simulate: every value in it is invented.\n"
            + yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        texts = {"simulation.yml": sim["params_text"], study.FILE_NAME: sim.get("study_text")}
        for name, text in texts.items():
            path = out / name
            if text and (not path.exists() or path.read_text(encoding="utf-8") != text):
                path.write_text(text, encoding="utf-8")
    return out


def cli(args: argparse.Namespace) -> int:
    """``python -m mbpm simulate OUT_DIR --seed N [--n-<arm> N ... --params --study --force]``
    (the definition is chosen by :func:`mbpm.__main__.main` before this module is imported)."""
    check_target(args.out_dir, args.force)  # before the work
    sizes = {a.size_key: getattr(args, a.size_key, None) for a in _DEFINITION.arms}
    tables = simulate_tables(read_params(args.params), args.seed, **sizes)
    out = write_folder(tables, args.out_dir, force=args.force)
    print(f"simulated cohort (seed {args.seed}) written to {out}")
    return 0


# ----------------------------------------------------------------------------------------------
# Many trials as one set of tables (mbpm.design's batched path)
# ----------------------------------------------------------------------------------------------

#: Digits of the trial number that :func:`stack_tables` puts in front of each participant ID.
TRIAL_DIGITS = 5


@dataclass(frozen=True)
class Batch:
    """Several simulated cohorts stacked into the tables of one data folder (:func:`stack_tables`).

    ``tables``: as :func:`simulate_tables` returns them, with participant ``P001`` of trial 7
    renamed ``P00007001`` and plate ``oxytocin_01`` renamed ``t00007_oxytocin_01``; ``screening``
    holds the sums over the trials (each trial's own counts are in ``screening_counts``: rows
    assessed, excluded per reason; columns trials). ``trial_of`` maps each new participant ID to
    its trial (0..n-1), ``participant_id`` is the ID rule of the new IDs
    (:func:`mbpm.io.participant_id_digits`), ``patients`` each trial's number of patients.
    """

    tables: dict[str, Any]
    trial_of: dict[str, int]
    participant_id: str
    screening_counts: np.ndarray
    patients: np.ndarray


def _renamed(ids: np.ndarray, prefixes: np.ndarray) -> np.ndarray:
    """``P`` + trial prefix + the digits of each ID (None stays None)."""
    out = np.full(len(ids), None, dtype=object)
    has = pd.notna(ids)
    out[has] = np.char.add(np.char.add("P", prefixes[has].astype(str)),
                           np.char.lstrip(ids[has].astype(str), "P"))
    return out


def stack_tables(trials: list[dict[str, Any]]) -> Batch:
    """Stack the tables of several cohorts (:func:`simulate_tables`) into one :class:`Batch`,
    renaming participants and plates by trial so that every ID stays unique."""
    digits = {len(str(i)) - 1 for t in trials for i in t["participants"]["participant_id"]}
    if len(digits) != 1:
        raise DataError("stack_tables: the cohorts' participant IDs differ in width")
    width = TRIAL_DIGITS + digits.pop()
    prefix = [f"{k:0{TRIAL_DIGITS}d}" for k in range(len(trials))]
    stacked: dict[str, Any] = {}
    for name in ("participants", "questionnaires", "plate_layout"):
        frames = [t[name] for t in trials]
        frame = pd.concat(frames, ignore_index=True)
        owner = np.repeat(np.array(prefix, dtype=object), [len(f) for f in frames])
        frame["participant_id"] = _renamed(frame["participant_id"].to_numpy(object), owner)
        if name == "plate_layout":
            frame["plate_id"] = "t" + owner + "_" + frame["plate_id"].astype(str)
        stacked[name] = frame
    stacked["plates"] = {f"t{p}_{plate}": grid for p, t in zip(prefix, trials)
                         for plate, grid in t["plates"].items()}
    counts = np.column_stack([t["screening"]["count"].to_numpy() for t in trials])
    stacked["screening"] = trials[0]["screening"].assign(count=counts.sum(1))
    ids = stacked["participants"]["participant_id"].to_numpy(object)
    sizes = [len(t["participants"]) for t in trials]
    trial_of = dict(zip(ids.tolist(), np.repeat(np.arange(len(trials)), sizes).tolist()))
    patients = np.array([int((t["participants"]["group"] != REFERENCE).sum()) for t in trials])
    return Batch(stacked, trial_of, participant_id_digits(width), counts, patients)


class PlateGrid(NamedTuple):
    """An 8 x 12 OD grid as :func:`mbpm.io.plates_wells` reads a DataFrame grid (``index``,
    ``columns``, ``to_numpy``), without building one DataFrame per plate."""

    values: np.ndarray
    index: tuple[str, ...] = ROWS
    columns: tuple[str, ...] = COLUMNS

    def to_numpy(self) -> np.ndarray:
        return self.values


def simulate_batch(params: Params, seeds: list[int], *sizes: int | None) -> Batch:
    """The cohorts of ``seeds`` (each drawn exactly as :func:`simulate_tables`
    ``(params, seed, *sizes)`` draws it) as one :class:`Batch`, equal to :func:`stack_tables`
    of them but built from the draws at once (grids as :class:`PlateGrid`)."""
    v = params.values
    n = arm_sizes(v, sizes)
    model = _item_model(v)
    cohorts = [_cohort(v, seed, n, model) for seed in seeds]
    size = sum(n.values())
    digits = id_digits(size)
    ids = np.array([f"P{k:0{TRIAL_DIGITS}d}{i:0{digits}d}" for k in range(len(seeds))
                    for i in range(1, size + 1)], dtype=object)
    columns = list(cohorts[0].participants)
    participants = pd.DataFrame({col: np.concatenate([np.asarray(c.participants[col]) for c in cohorts])
                                 for col in columns})
    participants["participant_id"] = ids
    start = np.arange(len(seeds)) * size
    rows = np.concatenate([s + c.person for s, c in zip(start, cohorts)])
    visits = np.concatenate([c.visit for c in cohorts])
    sorted_rows = np.concatenate([s + c.person[c.order] for s, c in zip(start, cohorts)])
    questionnaires = pd.DataFrame(np.vstack([c.items[c.order] for c in cohorts]),
                                  columns=item_columns(include_optional=False))
    questionnaires.insert(0, "participant_id", ids[sorted_rows])
    questionnaires.insert(1, "visit", np.concatenate([c.visit[c.order] for c in cohorts]))
    offsets = np.cumsum([0] + [len(c.person) for c in cohorts])
    draws = [d for c in cohorts for d in c.plates]
    plate_ids = [f"t{k:0{TRIAL_DIGITS}d}_{d.plate_id}" for k, c in enumerate(cohorts) for d in c.plates]
    shift = np.repeat(offsets[:-1], [len(c.plates) for c in cohorts])  # each draw's sample rows
    counts = np.column_stack([c.screening for c in cohorts])
    patients = sum(k for a, k in n.items() if a != REFERENCE)
    tables = {
        "participants": participants, "questionnaires": questionnaires,
        "screening": _screening_frame(counts.sum(1), patients * len(seeds), v),
        "plate_layout": pd.DataFrame(_layout_columns(draws, ids[rows], visits, plate_ids, shift)),
        "plates": {p: PlateGrid(d.od.reshape(8, 12)) for p, d in zip(plate_ids, draws)},
    }
    every = np.vstack([patients + counts.sum(0), counts])
    return Batch(tables, dict(zip(ids.tolist(), np.repeat(np.arange(len(seeds)), size).tolist())),
                 participant_id_digits(TRIAL_DIGITS + digits), every,
                 np.full(len(seeds), patients))
