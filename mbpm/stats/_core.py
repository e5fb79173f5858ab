"""Shared pieces of the analyses: input checks, the log scale, the result shape, Benjamini-Hochberg.

Every analysis returns a tidy DataFrame whose first columns are :data:`RESULT_COLUMNS`; extra
columns (``estimate_name``, ``log_scale``, ``notes``, ...) follow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from mbpm import study
from mbpm.errors import DataError

RESULT_COLUMNS: tuple[str, ...] = (
    "outcome", "family", "analysis", "contrast", "n", "estimate", "ci_low", "ci_high",
    "statistic", "df", "p", "p_fdr", "effect_size", "effect_size_name",
)
#: Arms and visits by their role in the study definition (mbpm/study.yml): the treated and the
#: control arm, the reference group (healthy controls, measured at the pre visit only), and the
#: pre and post visits. Labels of results are built from these ids.
_DEFINITION = study.active()
GROUPS: tuple[str, ...] = _DEFINITION.arm_ids
TREATED, CONTROL = _DEFINITION.treated.id, _DEFINITION.control.id
ARMS: tuple[str, ...] = (TREATED, CONTROL)
REFERENCE: str | None = _DEFINITION.reference.id if _DEFINITION.reference else None
PRE, POST = _DEFINITION.pre.id, _DEFINITION.post.id
#: Column of a result that counts an arm's participants: ``n_`` + the id in lower case
#: (``n_mbpm``, ``n_wl``, ``n_hc``; :attr:`mbpm.study.Arm.size_key`).
N_COLUMN: dict[str, str] = {a.id: a.size_key for a in _DEFINITION.arms}
VISITS: tuple[str, ...] = (PRE, POST)
#: How result labels write the visits ("baseline", "week 8").
PRE_WORDS, POST_WORDS = _DEFINITION.pre.label.lower(), _DEFINITION.post.label.lower()
FAMILIES: tuple[str, ...] = _DEFINITION.family_order
LONG_COLUMNS: tuple[str, ...] = ("participant_id", "group", "visit", "outcome", "value")
CONFIDENCE = _DEFINITION.plan("confidence_level")

LogOutcomes = bool | str | Iterable[str] | None


def check_long(long: pd.DataFrame, name: str = "long") -> pd.DataFrame:
    """Validate a long table and return a clean copy (value as float, rows with a value only).

    Raises :class:`DataError` naming the column/row when a column is missing, a group or visit is
    unknown, a participant appears in two groups, HC has a week-8 row, or a
    (participant, visit, outcome) is duplicated.
    """
    missing = [c for c in LONG_COLUMNS if c not in long.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; expected {list(LONG_COLUMNS)}")
    df = long.loc[:, list(LONG_COLUMNS)].copy()
    for col in ("participant_id", "group", "visit", "outcome"):
        df[col] = df[col].astype("str")
    df["value"] = pd.to_numeric(df["value"], errors="raise").astype(float)
    for col, allowed in (("group", GROUPS), ("visit", VISITS)):
        bad = df.loc[~df[col].isin(allowed)]
        if len(bad):
            row = bad.index[0]
            raise DataError(f"{name}: row {row}, column {col}: expected one of {list(allowed)}, "
                            f"got {bad.at[row, col]!r}")
    groups_per_id = df.groupby("participant_id")["group"].nunique()
    if (groups_per_id > 1).any():
        pid = groups_per_id.index[groups_per_id > 1][0]
        raise DataError(f"{name}: participant {pid}, column group: expected one group, got several")
    for arm in _DEFINITION.arms:
        wrong = df.loc[(df["group"] == arm.id) & ~df["visit"].isin(arm.visits)]
        if len(wrong):
            raise DataError(f"{name}: row {wrong.index[0]}, column visit: {arm.id} is measured at "
                            f"{', '.join(arm.visits)} only, got {wrong['visit'].iloc[0]}")
    dup = df.duplicated(["participant_id", "visit", "outcome"])
    if dup.any():
        row = df.index[dup][0]
        raise DataError(f"{name}: row {row}: duplicated (participant_id, visit, outcome) "
                        f"{tuple(df.loc[row, ['participant_id', 'visit', 'outcome']])}")
    return df.loc[df["value"].notna()].reset_index(drop=True)


def log_set(log_outcomes: LogOutcomes, outcomes: Iterable[str]) -> frozenset[str]:
    """Outcomes analysed on the natural log: ``True`` = all, ``False``/``None`` = none, a name or names."""
    if log_outcomes is True:
        return frozenset(outcomes)
    if log_outcomes is None or log_outcomes is False:
        return frozenset()
    if isinstance(log_outcomes, str):
        return frozenset([log_outcomes])
    return frozenset(log_outcomes)


def _known_logs(logs: frozenset[str], outcomes: list[str],
                families: Mapping[str, str] | None) -> None:
    """A log outcome must name an outcome: of the table, of ``families`` or of the study's
    catalogue (:func:`mbpm.outcomes.families`; a subset of the table may lack it). A typing error
    raises DataError instead of silently analysing the outcome on its original scale."""
    unknown = logs - set(outcomes) - set(families or ())
    if unknown:
        from mbpm import outcomes as catalogue

        unknown -= set(catalogue.families())
    if unknown:
        raise DataError(f"log_outcomes: {sorted(unknown)[0]!r} is not an outcome of the table, "
                        "of families or of the study's catalogue")


class Prepared(NamedTuple):
    """A long table already through :func:`prepare` (``table``, with column ``y``) and the log
    outcomes it was prepared with, so that several analyses of one table check and transform it
    once (:func:`prepare` returns its table as is). Make one with :func:`prepared`; ``rows``
    keeps some of its rows (still prepared: a subset of a checked table passes the checks).
    Example: ``t = prepared(long, families, logs); ancova(t.rows(t.table["group"] != "HC"), families, logs)``.
    """

    table: pd.DataFrame
    logs: frozenset[str]

    def rows(self, keep: pd.Series | np.ndarray) -> "Prepared":
        """The rows where ``keep`` is true (renumbered from 0, as :func:`prepare` numbers them)."""
        return Prepared(self.table.loc[np.asarray(keep, bool)].reset_index(drop=True), self.logs)


def prepared(long: pd.DataFrame, families: Mapping[str, str] | None,
             log_outcomes: LogOutcomes) -> Prepared:
    """:func:`prepare` once, for several analyses (:class:`Prepared`)."""
    return Prepared(*prepare(long, families, log_outcomes))


def prepare(long: pd.DataFrame | Prepared, families: Mapping[str, str] | None,
            log_outcomes: LogOutcomes) -> tuple[pd.DataFrame, frozenset[str]]:
    """Checked long table with column ``y`` on the analysis scale (ln(value) for log outcomes).

    Raises :class:`DataError` for an outcome without a family, a log outcome that names no
    outcome (:func:`_known_logs`), or a non-positive value of a log outcome (its logarithm does
    not exist). A :class:`Prepared` table is checked once already: only its families and log
    outcomes are checked, and ``y`` is recomputed only when the log outcomes differ.
    """
    df = long.table if isinstance(long, Prepared) else check_long(long)
    outcomes = df["outcome"].unique().tolist()  # in order of appearance
    if families is not None:
        lost = [o for o in outcomes if o not in families]
        if lost:
            raise DataError(f"families: no family given for outcome(s) {lost}")
    logs = log_set(log_outcomes, outcomes)
    _known_logs(logs, outcomes, families)
    if isinstance(long, Prepared) and logs == long.logs:
        return df, logs
    if isinstance(long, Prepared):
        df = df.copy()
    is_log = df["outcome"].isin(logs).to_numpy()
    bad = df.loc[is_log & (df["value"] <= 0)]
    if len(bad):
        r = bad.iloc[0]
        raise DataError(f"long: participant {r['participant_id']}, visit {r['visit']}, outcome "
                        f"{r['outcome']}: log scale needs a positive value, got {r['value']}")
    values = df["value"].to_numpy()
    df["y"] = np.where(is_log, np.log(np.where(is_log, values, 1.0)), values)
    return df, logs


def wide_arms(df: pd.DataFrame, outcome: str, complete: bool = True) -> pd.DataFrame:
    """One row per MBPM/WL participant for one outcome: group, baseline, week8 (analysis scale).

    With ``complete=True`` only participants with both visits (the completers) are kept.
    """
    sub = df.loc[(df["outcome"] == outcome) & df["group"].isin(ARMS)]
    wide = sub.pivot(index="participant_id", columns="visit", values="y")
    wide = wide.reindex(columns=list(VISITS))
    wide.columns = list(VISITS)
    wide["group"] = sub.groupby("participant_id")["group"].first()
    if complete:
        wide = wide.dropna(subset=list(VISITS))
    return wide.reset_index()


def back(est: float, lo: float, hi: float, is_log: bool) -> tuple[float, float, float]:
    """Estimate and CI on the reported scale: exponentiated (a ratio) for log outcomes."""
    if is_log:
        return float(np.exp(est)), float(np.exp(lo)), float(np.exp(hi))
    return float(est), float(lo), float(hi)


def fdr_bh(p: Collection[float]) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p: p_(i) * m / i, made monotone from the top, capped at 1.

    NaN p-values are passed through and do not count in m.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    res = np.empty(m)
    res[order] = adjusted
    out[ok] = res
    return out


def bh_within_families(results: pd.DataFrame) -> pd.DataFrame:
    """Fill ``p_fdr``: Benjamini-Hochberg within each (family, analysis, contrast)."""
    out = results.copy()
    p_fdr = np.full(len(out), np.nan)
    keys = ["family", "analysis", "contrast"]
    for _, idx in out.groupby(keys, dropna=False, sort=False).indices.items():
        p_fdr[idx] = fdr_bh(out["p"].to_numpy(dtype=float)[idx])
    out["p_fdr"] = p_fdr
    return out


def finish(rows: list[dict[str, Any]], families: Mapping[str, str] | None) -> pd.DataFrame:
    """Rows -> result DataFrame: families attached, the standard columns first. ``p_fdr`` is left
    empty: the false discovery rate is controlled once over the full result table, by the plan's
    multiplicity step (:func:`mbpm.stats.multiplicity.adjust`)."""
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    df["family"] = [None if families is None else families.get(o) for o in df["outcome"]]
    for col in RESULT_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    extra = [c for c in df.columns if c not in RESULT_COLUMNS]
    df = df[list(RESULT_COLUMNS) + extra]
    df["n"] = df["n"].astype(int)
    df["p_fdr"] = np.nan
    return df


def estimate_name(is_log: bool, difference: str, ratio: str) -> dict[str, Any]:
    """The ``estimate_name`` and ``log_scale`` extra columns."""
    return {"estimate_name": ratio if is_log else difference, "log_scale": is_log}
