"""Item columns of questionnaires.csv: the blocks of the study's instruments' key files.

Each key file (``keys/<name>.yml``) lists its item columns and their response range; this module
collects them, in the study's instrument order, for the loader's schema and the simulator.
"""

from __future__ import annotations

from mbpm.instruments.base import ItemSet

__all__ = ["ITEM_SETS", "ItemSet", "item_columns", "item_set"]


def _item_sets() -> tuple[ItemSet, ...]:
    from mbpm.instruments import KEYS

    return tuple(block for key in KEYS.values() for block in key.blocks)


ITEM_SETS: tuple[ItemSet, ...] = _item_sets()


def item_columns(include_optional: bool = True) -> list[str]:
    """Every item column of questionnaires.csv, in the contract's order."""
    return [c for s in ITEM_SETS if include_optional or not s.optional for c in s.columns]


def item_set(column: str) -> ItemSet:
    """The :class:`ItemSet` a column belongs to (``KeyError`` if none)."""
    for block in ITEM_SETS:
        if column in block.columns:
            return block
    raise KeyError(column)
