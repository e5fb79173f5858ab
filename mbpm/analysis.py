"""The statistical plan run on a study: every result the chapters report, in one place.

``run(study)`` builds the tidy outcome table (questionnaire scores and biomarker
concentrations, values below the limit of quantification handled as :func:`mbpm.assays.censor`
says) and applies each analysis of the statistical plan (methods chapter) through :mod:`mbpm.stats`, then the
plan's multiplicity step (:func:`mbpm.stats.adjust`) once over all of them. ``Results.table()``
stacks them in the shape of ``results.csv``; ``Results.get`` finds one row by the names of
:mod:`mbpm.stats.names`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from types import SimpleNamespace

import numpy as np
import pandas as pd

from mbpm import assays, cache, outcomes, stats
from mbpm import study as study_definition
from mbpm.io import Study

#: Pain and mood outcomes whose change is correlated with the change in the interplay marker
#: (log oxytocin): the study definition's outcome sets.
INTERPLAY_OUTCOMES = tuple(study_definition.active().outcome_set("interplay"))
INTERPLAY_MARKER = study_definition.active().outcome_set("interplay_marker")
#: The analysis name of the change correlations (:func:`mbpm.stats.change_correlations`).
CORRELATION = stats.names.correlation(INTERPLAY_MARKER)


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

    @property
    def tested(self) -> pd.Index:
        """The outcomes the plan tests (every outcome with data, in the order of ``long``): the
        one count of outcomes that every chapter quotes (a catalogue outcome without data, such
        as a score no questionnaire of the folder yields, is not tested)."""
        return pd.Index(self.long["outcome"].unique(), name="outcome")

    def table(self) -> pd.DataFrame:
        """Every statistic, stacked: the content of ``results.csv``."""
        parts = [getattr(self, f.name) for f in fields(self) if f.name != "long"]
        return pd.concat(parts, ignore_index=True)

    def rows(self, analysis: str, outcomes: Iterable[str] | None = None,
             contrast: str | None = None) -> pd.DataFrame:
        """The rows of one analysis (and contrast), indexed by outcome, in the order of
        ``outcomes`` (default: every outcome, in the table's order). Raises KeyError naming
        what is missing when an outcome has no row, and when an outcome has rows of several
        contrasts and ``contrast`` is not given."""
        table = self.table()
        rows = table.loc[table["analysis"] == analysis]
        if contrast is not None:
            rows = rows.loc[rows["contrast"] == contrast]
        wanted = list(dict.fromkeys(rows["outcome"]) if outcomes is None else outcomes)
        lost = [o for o in wanted if o not in set(rows["outcome"])]
        if lost or (rows.empty and outcomes is None):
            raise KeyError(f"no {analysis!r} result" + (f" ({contrast})" if contrast else "")
                           + (f" for {', '.join(lost)}" if lost else ""))
        rows = rows.loc[rows["outcome"].isin(wanted)]
        several = rows["outcome"].duplicated(keep=False)
        if several.any():
            contrasts = sorted(set(rows.loc[several, "contrast"]))
            raise KeyError(f"{analysis!r} has several contrasts for "
                           f"{rows.loc[several, 'outcome'].iloc[0]}; name one of {contrasts}")
        return rows.set_index("outcome").loc[wanted]

    def get(self, analysis: str, outcome: str, contrast: str | None = None) -> pd.Series:
        """The one result row of ``analysis`` for ``outcome`` (and ``contrast``): e.g.
        ``results.get(stats.ANCOVA, "oxytocin")`` or ``results.get(stats.PAIRED, "oxytocin",
        stats.names.within_contrast("WL"))``. The row's name is the outcome. Raises KeyError as
        :meth:`rows`."""
        return self.rows(analysis, [outcome], contrast).iloc[0]


#: The names of the tables of :class:`Results` as attributes, so code names a table without
#: typing a string that may equal a study id (``TABLE.baseline == "baseline"``, a table, not
#: the visit); a misspelt name fails on import.
TABLE = SimpleNamespace(**{f.name: f.name for f in fields(Results)})


def outcome_table(study: Study, below_lloq: str = assays.BELOW_LLOQ) -> pd.DataFrame:
    """participant_id, group, visit, outcome, value for every outcome of the catalogue."""
    markers = assays.censor(study.biomarkers, below_lloq=below_lloq)
    return outcomes.analysis_table(study.participants, study.scores, markers)


def run(study: Study, below_lloq: str = assays.BELOW_LLOQ) -> Results:
    """Apply the whole plan to ``study`` (stored by :mod:`mbpm.cache` when the book builds)."""
    if not os.environ.get(cache.ENV):
        return _run(study, below_lloq)  # no cache, so no key (it hashes every cell)
    key = cache.frames_digest([study.participants, study.scores, study.biomarkers])
    return cache.cached("results", f"{key}|{below_lloq}", lambda: _run(study, below_lloq))


def _run(study: Study, below_lloq: str) -> Results:
    long = outcome_table(study, below_lloq)
    fam, logs = outcomes.families(), outcomes.log_outcomes()
    patients = long[long["group"].isin(stats.ARMS)]
    checked = stats.prepared(long, fam, logs)  # checked and logged once for every analysis
    arms = checked.rows(checked.table["group"].isin(stats.ARMS))
    parts = dict(
        baseline=stats.baseline_comparison(checked, fam, log_outcomes=logs),
        mixed_anova=stats.mixed_anova(arms, fam, log_outcomes=logs),
        within=stats.within_group_tests(arms, fam, log_outcomes=logs),
        ancova=stats.ancova(arms, fam, log_outcomes=logs),
        mixed_model=stats.mixed_model(arms, fam, log_outcomes=logs),
        nonparametric=stats.change_nonparametric(arms, fam, log_outcomes=logs),
        correlations=stats.change_correlations(
            patients, x_outcome=INTERPLAY_MARKER, y_outcomes=list(INTERPLAY_OUTCOMES), log_x=True,
            families=fam, log_outcomes=logs),
    )
    return Results(long=long, **adjusted(parts))


def adjusted(parts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The plan's multiplicity step (:func:`mbpm.stats.adjust`, the definition's rule ``fdr``)
    applied once to all result tables stacked; each table comes back with its ``p_fdr``."""
    keys = ["outcome", "family", "analysis", "contrast", "p"]
    stacked = pd.concat([part[keys] for part in parts.values()], ignore_index=True)
    p_fdr = stats.adjust(stacked)["p_fdr"].to_numpy()
    ends = np.cumsum([len(part) for part in parts.values()])
    return {name: part.assign(p_fdr=p_fdr[end - len(part):end])
            for (name, part), end in zip(parts.items(), ends)}
