"""What the methods chapter (``chapters/methods.md``) quotes: the participant flow (CONSORT
counts by arm role), the age and pain-duration range against the data contract's limits, and the
assay acceptance rules.

Keys are the chapter's glue names; arm counts are named by role (``n_treated``,
``n_done_control``, ``n_reference``), so a study with other arm names reads the same.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mbpm import assays, study
from mbpm.findings.format import english_list, lower_first, study_words

#: How the text names each rule for values below the LLOQ.
BELOW_LLOQ_WORDS = {"half_lloq": "half the lower limit", "lloq": "the lower limit",
                    "missing": "missing"}


def cohort_findings(flow: pd.DataFrame, participants: pd.DataFrame,
                    rules: dict[str, Any] | None = None,
                    definition: study.Definition | None = None) -> dict[str, Any]:
    """From :func:`mbpm.cohort.consort_counts` (``flow``: stage, group, count): assessed,
    enrolled patients, allocated and analysed per arm, the reference group enrolled; from the
    participants the age range and shortest pain duration; from ``rules`` (column -> the data
    contract's column rule with ``minimum``/``maximum``, default :data:`mbpm.io.SCHEMA`'s
    participants.csv) the limits the data contract sets."""
    d = definition or study.active()
    if rules is None:
        from mbpm import io

        rules = {c.name: c for c in io.SCHEMA["participants.csv"]}
    counts = flow.groupby(["stage", "group"])["count"].sum()
    out: dict[str, Any] = {"n_assessed": int(counts["assessed", ""]),
                           "n_enrolled": int(counts["enrolled", "patients"])}
    for role, arm in (("treated", d.treated), ("control", d.control)):
        out[f"n_{role}"] = int(counts["allocated", arm.id])
        out[f"n_done_{role}"] = int(counts["analysed", arm.id])
    if d.reference is not None:
        out["n_reference"] = int(counts["enrolled", d.reference.id])
    ages = participants["age"]
    return {**out, "age_min": int(ages.min()), "age_max": int(ages.max()),
            "pain_years_min": participants["pain_years"].min(),
            "rule_age_min": int(rules["age"].minimum), "rule_age_max": int(rules["age"].maximum),
            "rule_pain_years": rules["pain_years"].minimum, **analyte_words(d), **study_words(d)}


def analyte_words(d: study.Definition) -> dict[str, str]:
    """The analytes as the methods list them: all (``analyte_labels``) and by assay format
    (``sandwich_labels``, ``competitive_labels``), e.g. "IL-1β, IL-6 and TNF-α"."""
    labels = {fmt: english_list([lower_first(a.label) for a in d.analytes if a.format == fmt])
              for fmt in ("sandwich", "competitive")}
    return {"analyte_labels": english_list([lower_first(a.label) for a in d.analytes]),
            "sandwich_labels": labels["sandwich"], "competitive_labels": labels["competitive"]}


def assay_findings(definition: study.Definition | None = None) -> dict[str, Any]:
    """The assay acceptance rules (:mod:`mbpm.assays`) and the definition's LLOQ rule."""
    d = definition or study.active()
    low, high = assays.RECOVERY_RANGE
    return {"recovery_low": low, "recovery_high": high, "max_cv": assays.MAX_CV,
            "min_levels": assays.MIN_STANDARD_LEVELS,
            "below_lloq_rule": BELOW_LLOQ_WORDS[d.plan("below_lloq")]}
