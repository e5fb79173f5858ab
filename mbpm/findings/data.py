"""What the data chapter (``chapters/data.md``) quotes: the size of the data folder (participants
by role, plates, simulation parameters, columns of the codebook), the validation findings, the
missingness and the samples outside the assay limits.

Keys are the chapter's glue names; the reference group's count is ``n_reference``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mbpm import assays, study
from mbpm.findings.format import study_words


def folder_findings(participants: pd.DataFrame, layout: pd.DataFrame, source: str,
                    definition: study.Definition | None = None) -> dict[str, Any]:
    """Participants (all, patients of the two arms, the reference group), plates, the name
    of the data folder, and the arm and visit words (:func:`~mbpm.findings.format.study_words`)."""
    d = definition or study.active()
    groups = participants["group"]
    out = {"n_participants": len(participants),
           "n_patients": int(groups.isin([d.treated.id, d.control.id]).sum()),
           "n_plates": layout["plate_id"].nunique(), "data_folder": Path(source).name}
    if d.reference is not None:
        out["n_reference"] = int((groups == d.reference.id).sum())
    return {**out, **study_words(d)}


def check_findings(validation: pd.DataFrame, missing: pd.DataFrame) -> dict[str, Any]:
    """Validation findings (errors, and all findings, ``n_warnings`` as the text has it) and the
    largest percentage of a column missing."""
    return {"n_errors": int((validation["severity"] == "error").sum()),
            "n_warnings": len(validation), "missing_max": missing["percent"].max()}


def sample_findings(biomarkers: pd.DataFrame, plates: pd.DataFrame) -> dict[str, Any]:
    """Quantified samples and how many carry each flag (below the LLOQ, above the ULOQ, high CV;
    :data:`mbpm.assays.MAX_CV`), and the plates that failed."""
    flag = biomarkers["flag"]
    n_below = int((flag == "below_lloq").sum())
    return {"n_samples": len(biomarkers), "n_below": n_below,
            "pct_below": 100 * n_below / len(biomarkers),
            "n_above": int((flag == "above_uloq").sum()),
            "n_high_cv": int((flag == "high_cv").sum()), "max_cv": assays.MAX_CV,
            "n_failed_plates": int((plates["failure"] != "").sum())}
