"""Item columns of questionnaires.csv: the one place that lists them (the data contract, shown in the data chapter).

Each instrument's scoring key (``mbpm.instruments.<name>``) refers to these columns by name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemSet:
    """A block of item columns that share a response range."""

    instrument: str
    columns: tuple[str, ...]
    minimum: float
    maximum: float
    integer: bool = True
    optional: bool = False  # the column may be absent from the file


def _numbered(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


PROMIS_DOMAINS = ("pf", "anx", "dep", "fat", "slp", "sr", "pi")

ITEM_SETS: tuple[ItemSet, ...] = (
    ItemSet("promis29", tuple(c for d in PROMIS_DOMAINS for c in _numbered(f"promis_{d}", 4)), 1, 5),
    ItemSet("promis29", ("promis_painint",), 0, 10),
    ItemSet("sfmpq", _numbered("mpq_", 15), 0, 3),
    ItemSet("sfmpq", ("mpq_vas",), 0, 100, integer=False),
    ItemSet("sfmpq", ("mpq_ppi",), 0, 5),
    ItemSet("pam13", _numbered("pam_", 13), 1, 4),
    ItemSet("pam13", ("pam_activation",), 0, 100, integer=False, optional=True),
    ItemSet("pcs", _numbered("pcs_", 13), 0, 4),
    ItemSet("bdi2", _numbered("bdi_", 21), 0, 3),
    ItemSet("maia", _numbered("maia_", 32), 0, 5),
    ItemSet("ffmq", _numbered("ffmq_", 39), 1, 5),
)


def item_columns(include_optional: bool = True) -> list[str]:
    """Every item column of questionnaires.csv, in the contract's order."""
    return [c for s in ITEM_SETS if include_optional or not s.optional for c in s.columns]


def item_set(column: str) -> ItemSet:
    """The :class:`ItemSet` a column belongs to (``KeyError`` if none)."""
    for block in ITEM_SETS:
        if column in block.columns:
            return block
    raise KeyError(column)
