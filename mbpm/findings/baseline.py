"""What the baseline chapter (``chapters/baseline.md``) quotes: patients against healthy
controls on every scale and biomarker (:func:`mbpm.tables.baseline_findings`), with the plan's
significance level. Keys are the chapter's glue names (``bl_...``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mbpm import study, tables
from mbpm.analysis import Results
from mbpm.findings.format import study_words


def findings(results: Results, catalogue: pd.DataFrame,
             definition: study.Definition | None = None) -> dict[str, Any]:
    """``bl_`` + every key of :func:`mbpm.tables.baseline_findings` at the definition's
    significance level, and ``bl_alpha``."""
    d = definition or study.active()
    alpha = d.plan("significance_level")
    found = tables.baseline_findings(results.baseline, catalogue, alpha=alpha)
    return {**{f"bl_{name}": value for name, value in found.items()}, "bl_alpha": alpha,
            **study_words(d)}
