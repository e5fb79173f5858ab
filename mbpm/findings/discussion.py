"""What the discussion (``chapters/discussion.md``) quotes: the claims ledger in numbers
(:func:`mbpm.claims.ledger_findings`), the size of the outcome set, whether the data are
simulated, and how many specifications change a conclusion.

Keys are the chapter's glue names.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mbpm import claims, outcomes, study
from mbpm.analysis import Results
from mbpm.findings.format import study_words


def findings(results: Results, ledger: pd.DataFrame, simulated: bool,
             families: dict[str, str] | None = None,
             definition: study.Definition | None = None) -> dict[str, Any]:
    """The ledger's counts and primary test, the significance level, the number of outcomes and
    of their families (``families``: outcome -> family, default
    :func:`mbpm.outcomes.families`), ``simulated_word`` and the arm and visit words."""
    d = definition or study.active()
    families = outcomes.families() if families is None else families
    measured = results.tested.to_series()
    return {**claims.ledger_findings(ledger), "alpha": d.plan("significance_level"),
            "n_outcomes": len(measured), "n_families": measured.map(families).nunique(),
            "simulated_word": "simulated" if simulated else "supplied", **study_words(d)}


def specification_findings(specs: pd.DataFrame, changed: pd.DataFrame) -> dict[str, Any]:
    """How many specifications were run and how many change the primary's conclusion
    (:func:`mbpm.robustness.changed_conclusions`), with the sentence that lists them."""
    from mbpm import robustness

    return {"n_specs": len(specs), "n_changed": len(changed),
            "changed_text": robustness.changed_conclusions_text(changed)}
