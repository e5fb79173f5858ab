"""The statistical plan run on a study: every result the chapters report, in one place.

``run(study)`` builds the tidy outcome table (questionnaire scores and biomarker
concentrations, values below the limit of quantification handled as :func:`mbpm.assays.censor`
says) and applies each analysis of the statistical plan (methods chapter) through :mod:`mbpm.stats`. ``Results.table()``
stacks them in the shape of ``results.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from mbpm import assays, cache, outcomes, stats
from mbpm import study as study_definition
from mbpm.io import Study

#: Pain and mood outcomes whose change is correlated with the change in the interplay marker
#: (log oxytocin): the study definition's outcome sets.
INTERPLAY_OUTCOMES = tuple(study_definition.default().outcome_set("interplay"))
INTERPLAY_MARKER = study_definition.default().outcome_set("interplay_marker")


@dataclass(frozen=True)
class Results:
    """Each analysis of the plan as a tidy table (columns :data:`mbpm.stats.RESULT_COLUMNS`)."""

    long: pd.DataFrame
    baseline: pd.DataFrame
    mixed_anova: pd.DataFrame
    within: pd.DataFrame
    ancova: pd.DataFrame
    mixed_model: pd.DataFrame
    nonparametric: pd.DataFrame
    correlations: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Every statistic, stacked: the content of ``results.csv``."""
        parts = [getattr(self, f.name) for f in fields(self) if f.name != "long"]
        return pd.concat(parts, ignore_index=True)


def outcome_table(study: Study, below_lloq: str = assays.BELOW_LLOQ) -> pd.DataFrame:
    """participant_id, group, visit, outcome, value for every outcome of the catalogue."""
    markers = assays.censor(study.biomarkers, below_lloq=below_lloq)
    return outcomes.analysis_table(study.participants, study.scores, markers)


def run(study: Study, below_lloq: str = assays.BELOW_LLOQ) -> Results:
    """Apply the whole plan to ``study`` (stored by :mod:`mbpm.cache` when the book builds)."""
    key = cache.frames_digest([study.participants, study.scores, study.biomarkers])
    return cache.cached("results", f"{key}|{below_lloq}", lambda: _run(study, below_lloq))


def _run(study: Study, below_lloq: str) -> Results:
    long = outcome_table(study, below_lloq)
    fam, logs = outcomes.families(), outcomes.log_outcomes()
    patients = long[long["group"] != "HC"]
    return Results(
        long=long,
        baseline=stats.baseline_comparison(long, fam, log_outcomes=logs),
        mixed_anova=stats.mixed_anova(patients, fam, log_outcomes=logs),
        within=stats.within_group_tests(patients, fam, log_outcomes=logs),
        ancova=stats.ancova(patients, fam, log_outcomes=logs),
        mixed_model=stats.mixed_model(patients, fam, log_outcomes=logs),
        nonparametric=stats.change_nonparametric(patients, fam, log_outcomes=logs),
        correlations=stats.change_correlations(
            patients, x_outcome=INTERPLAY_MARKER, y_outcomes=list(INTERPLAY_OUTCOMES), log_x=True,
            families=fam, log_outcomes=logs),
    )
