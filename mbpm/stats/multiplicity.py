"""The plan's multiple-comparison step: Benjamini-Hochberg within the plan's families, applied
once to the full result table (not inside each test, so an outcome's FDR p does not depend on
which other outcomes one analysis call happened to include).

The rule is the study definition's plan choice ``fdr``, e.g. ``"benjamini-hochberg within
family, analysis and contrast"``: the p-values of the rows that share those columns form one
family of m tests, and each p_(i) becomes min over j >= i of p_(j) m / j, capped at 1
(Benjamini & Hochberg 1995; NaN p-values are passed through and do not count in m).

>>> import pandas as pd
>>> t = pd.DataFrame({"family": ["a", "a", "b"], "analysis": "x", "contrast": "c",
...                   "p": [0.01, 0.04, 0.04]})
>>> adjust(t, "benjamini-hochberg within family, analysis and contrast")["p_fdr"].tolist()
[0.02, 0.04, 0.04]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mbpm import study
from mbpm.stats._core import fdr_bh

METHOD = "benjamini-hochberg"


def family_keys(rule: str) -> tuple[str, ...]:
    """The result columns that define one family under ``rule``
    (``"benjamini-hochberg within family, analysis and contrast"`` -> family, analysis,
    contrast). Raises ValueError for another method or an empty list."""
    match = re.fullmatch(rf"{METHOD} within (.+)", rule.strip().lower())
    if not match:
        raise ValueError(f"plan fdr: expected '{METHOD} within <columns>', got {rule!r}")
    keys = tuple(k.strip() for k in re.split(r",| and ", match.group(1)) if k.strip())
    if not keys:
        raise ValueError(f"plan fdr: no columns named in {rule!r}")
    return keys


def adjust(results: pd.DataFrame, rule: str | None = None) -> pd.DataFrame:
    """``results`` with ``p_fdr`` filled: Benjamini-Hochberg within each family of ``rule``
    (default: the study definition's plan choice ``fdr``). Raises ValueError when the table
    lacks a column the rule names."""
    keys = list(family_keys(rule if rule is not None else study.active().plan("fdr")))
    missing = [k for k in [*keys, "p"] if k not in results.columns]
    if missing:
        raise ValueError(f"adjust: result table has no column(s) {missing}")
    out = results.copy()
    p = out["p"].to_numpy(dtype=float)
    p_fdr = np.full(len(out), np.nan)
    for idx in out.groupby(keys, dropna=False, sort=False).indices.values():
        p_fdr[idx] = fdr_bh(p[idx])
    out["p_fdr"] = p_fdr
    return out
