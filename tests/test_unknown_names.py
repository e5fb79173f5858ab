"""Unknown names give a clear error, never a silent drop or a bare KeyError (issue 12).

Already guarded elsewhere: an analyte of plate_layout.csv outside the definition
(test_bad_inputs "bad analyte"), an instrument without a key file and a scale in no family
(test_study_definition, the broken-definition cases). Here: an outcome outside the catalogue in
the analysis table, and a log_outcomes name that names no outcome.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mbpm import outcomes, stats
from mbpm.errors import DataError

TREATED, CONTROL, PRE, POST = stats.TREATED, stats.CONTROL, stats.PRE, stats.POST


def _long(outcome: str = "pcs.total") -> pd.DataFrame:
    rows = [(f"P{i:03d}", arm, visit, outcome, 10.0 + i + (visit == POST) * (arm == TREATED))
            for i, arm in enumerate([TREATED] * 4 + [CONTROL] * 4) for visit in (PRE, POST)]
    return pd.DataFrame(rows, columns=["participant_id", "group", "visit", "outcome", "value"])


def test_an_outcome_outside_the_catalogue_is_an_error_not_a_drop():
    participants = pd.DataFrame({"participant_id": ["P001"], "group": [TREATED]})
    scores = pd.DataFrame({"participant_id": ["P001"], "visit": [PRE], "instrument": ["pcs"],
                           "scale": ["totl"], "value": [12.0]})
    markers = pd.DataFrame({"participant_id": ["P001"], "visit": [PRE], "analyte": ["oxytocin"],
                            "concentration": [30.0]})
    with pytest.raises(DataError, match=r"pcs\.totl.*not in the catalogue"):
        outcomes.analysis_table(participants, scores, markers)


def test_the_catalogues_outcomes_pass():
    participants = pd.DataFrame({"participant_id": ["P001"], "group": [TREATED]})
    scores = pd.DataFrame({"participant_id": ["P001"], "visit": [PRE], "instrument": ["pcs"],
                           "scale": ["total"], "value": [12.0]})
    markers = pd.DataFrame({"participant_id": ["P001"], "visit": [PRE], "analyte": ["oxytocin"],
                            "concentration": [float("nan")]})
    long = outcomes.analysis_table(participants, scores, markers)
    assert long["outcome"].tolist() == ["pcs.total"]  # a missing value is still dropped


@pytest.mark.parametrize("families", [None, {"pcs.total": "pain"}])
def test_a_mistyped_log_outcome_is_an_error(families):
    with pytest.raises(DataError, match=r"log_outcomes: 'pcs.totl' is not an outcome"):
        stats.ancova(_long(), families, log_outcomes=["pcs.totl"])


def test_a_log_outcome_absent_from_a_subset_but_in_the_catalogue_is_fine():
    result = stats.ancova(_long(), {"pcs.total": "pain"}, log_outcomes=outcomes.log_outcomes())
    assert result["outcome"].tolist() == ["pcs.total"] and not result["log_scale"].any()


def test_a_folder_with_another_definition_than_the_one_in_use_is_refused(tmp_path):
    # the modules have read the definition in use at import; a folder that brings another one
    # must say so instead of being validated against the wrong arms and analytes
    import shutil

    from mbpm import io, study

    folder = tmp_path / "data"
    shutil.copytree(io.SHIPPED_DATA, folder)
    text = study.DEFAULT_FILE.read_text(encoding="utf-8")
    (folder / "study.yml").write_text(text.replace("label: Wait-list", "label: Usual care"),
                                      encoding="utf-8")
    with pytest.raises(DataError, match="differs from the one in use.*MBPM_DATA"):
        io.read_tables(folder)
    (folder / "study.yml").write_text("arms: [", encoding="utf-8")
    with pytest.raises(DataError, match="study.yml: cannot read the study definition"):
        io.read_tables(folder)
