"""Questionnaire scoring: one key file per instrument (``keys/<name>.yml``), one generic scorer.

``KEYS`` maps the name of each instrument the study uses to its :class:`~mbpm.instruments.base.Key`
(read by :mod:`mbpm.instruments.registry`); ``SCORERS`` maps it to ``score(items) -> DataFrame``
(:func:`~mbpm.instruments.base.score_key` with that key). :func:`score_all` scores a whole
questionnaires table into long format; :func:`instrument_table` and :func:`scale_table` render the
keys for the methods chapter. BibTeX entries for ``Key.reference`` are in ``references.bib`` next
to this file. Any other instrument with a key file (``registry.available()``, e.g. ``maia2``)
is scored the same way: ``score_key(registry.find(name), items)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

import numpy as np
import pandas as pd

from mbpm import study
from mbpm.errors import DataError
from mbpm.instruments import registry
from mbpm.instruments.base import Key, Scale, score_key

__all__ = ["KEYS", "SCORERS", "Key", "Scale", "instrument_table", "scale_table", "score_all",
           "score_key", "registry"]

# ``STUDY_INSTRUMENTS`` (the instruments of the study definition in use, in the order of the data
# contract), ``KEYS`` and ``SCORERS`` are read on first use (module ``__getattr__``), not at
# import: :mod:`mbpm.study` imports :mod:`mbpm.instruments.registry` to check a definition, which
# imports this package, and must not fix the definition in use by doing so.


@cache
def _keys() -> dict[str, Key]:
    return {name: registry.find(name) for name in study.active().instruments}


@cache
def _scorers() -> dict[str, Callable[[pd.DataFrame], pd.DataFrame]]:
    return {name: partial(score_key, key) for name, key in _keys().items()}


def __getattr__(name: str) -> Any:
    if name == "STUDY_INSTRUMENTS":
        return study.active().instruments
    if name == "KEYS":
        return _keys()
    if name == "SCORERS":
        return _scorers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

LONG_COLUMNS = ("participant_id", "visit", "instrument", "scale", "value")


def scored_scales(questionnaires: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
    """Every instrument's scored scales side by side: ``(wide, instruments, scales)``, ``wide``
    being rows x scales (float, NaN where a scale is missing), in ``KEYS`` order and each key's
    scale order; ``instruments[j]`` and ``scales[j]`` name column ``j``."""
    blocks, instruments, scales = [], [], []
    for name, scorer in _scorers().items():
        scored = scorer(questionnaires)
        names = [s.name for s in _keys()[name].scales if s.name in scored.columns]
        blocks.append(scored[names].to_numpy(dtype=float))
        instruments += [name] * len(names)
        scales += names
    return np.hstack(blocks), instruments, scales


def score_all(questionnaires: pd.DataFrame) -> pd.DataFrame:
    """Every scale of every instrument, in long format.

    ``questionnaires`` has ``participant_id``, ``visit`` and the item columns of the data contract (one row
    per participant and visit). Returns columns ``participant_id``, ``visit``, ``instrument``,
    ``scale``, ``value`` (float): one row per scored scale, ordered by input row, then instrument
    (``KEYS`` order), then scale (key order). Only the scales of the keys appear (PROMIS T-scores
    and pain intensity, SF-MPQ indices, ``pam_mean_item_score``, ...), not bands or flags (see each
    module's ``score``). **A scale that the missing-item rule leaves missing is absent** (no row),
    as is ``pam_activation`` when the data do not provide it. Raises
    :class:`~mbpm.errors.DataError` on a missing column or an out-of-range answer.
    """
    absent = [c for c in ("participant_id", "visit") if c not in questionnaires.columns]
    if absent:
        raise DataError(f"item data: missing column(s) {', '.join(absent)}")
    wide, instruments, scales = scored_scales(questionnaires)  # ravel() runs row by row
    n_rows, n_scales = wide.shape
    values = wide.ravel()
    kept = np.flatnonzero(~np.isnan(values))
    row, scale = kept // n_scales, kept % n_scales  # each kept value's row and scale

    def text(cells: Any, at: np.ndarray) -> Any:  # pd.array(cells[at], dtype="str"), cells once
        return pd.array(np.asarray(cells, dtype=object), dtype="str").take(at)

    return pd.DataFrame(
        {
            "participant_id": text(questionnaires["participant_id"].to_numpy(dtype=object), row),
            "visit": text(questionnaires["visit"].to_numpy(dtype=object), row),
            "instrument": text(instruments, scale),
            "scale": text(scales, scale),
            "value": values[kept],
        }
    )


def instrument_table() -> pd.DataFrame:
    """The methods chapter's instrument table, one row per instrument (from the keys)."""
    return pd.DataFrame([k.table_row() for k in _keys().values()])


def scale_table() -> pd.DataFrame:
    """One row per scale: items (reversed marked R), aggregation, range, direction, minimum
    number of answered items."""
    return pd.DataFrame([row for k in _keys().values() for row in k.scale_rows()])


def reversed_items() -> frozenset[str]:
    """Item columns that some scale's key reverse-scores (the printed number runs against the
    construct), e.g. MAIA 5-9 and the 19 FFMQ-39 items."""
    return frozenset(item for key in _keys().values() for scale in key.scales
                     for item in scale.reversed)
