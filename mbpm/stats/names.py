"""The names of the plan's analyses and contrasts: the ``analysis`` and ``contrast`` columns of
a result table. Code outside :mod:`mbpm.stats` looks result rows up by these names
(:meth:`mbpm.analysis.Results.get`), never by typing the label text again.

>>> ANCOVA, within_contrast("MBPM")
('ANCOVA (completers)', 'MBPM: week8 vs baseline')
"""

from __future__ import annotations

from collections.abc import Sequence

from mbpm.stats._core import CONTROL, POST, POST_WORDS, PRE, PRE_WORDS, REFERENCE, TREATED

# --- analyses ---
WELCH = "Welch t-test"
MANN_WHITNEY = "Mann-Whitney U"
MIXED_ANOVA = "mixed ANOVA (completers)"
PAIRED = "paired t-test"
WILCOXON = "Wilcoxon signed-rank"
ANCOVA = "ANCOVA (completers)"
MIXED_MODEL = "linear mixed model (REML, Satterthwaite)"
MANN_WHITNEY_CHANGE = "Mann-Whitney U on change"
#: Analyses whose statistic is a t on the row's ``df``.
T_TESTS = (WELCH, PAIRED, ANCOVA, MIXED_MODEL)


def correlation(x_outcome: str) -> str:
    """The analysis name of the Spearman correlation of change with the change of ``x_outcome``."""
    return f"Spearman correlation of change with {x_outcome} change"


def is_correlation(analysis: str) -> bool:
    """Whether ``analysis`` names a change correlation (:func:`correlation`)."""
    return analysis.startswith("Spearman correlation of change with ")


# --- contrasts ---
#: Patients (treated and control arm) against the reference group at the pre visit.
BASELINE_CONTRAST = f"patients ({TREATED}+{CONTROL}) vs {REFERENCE}"
#: The group x time interaction (mixed ANOVA, mixed model).
INTERACTION = "group x time interaction"
#: The ANCOVA contrast, e.g. "MBPM - WL at week 8, adjusted for baseline".
ANCOVA_CONTRAST = f"{TREATED} - {CONTROL} at {POST_WORDS}, adjusted for {PRE_WORDS}"
#: Treated against control arm (rank test of change).
ARMS_CONTRAST = f"{TREATED} vs {CONTROL}"


def within_contrast(arm: str) -> str:
    """The contrast of a within-arm test: ``"MBPM: week8 vs baseline"``."""
    return f"{arm}: {POST} vs {PRE}"


def group_contrast(groups: Sequence[str]) -> str:
    """The contrast of a correlation within ``groups``: the arm, or ``"MBPM+WL (pooled)"``."""
    return groups[0] if len(groups) == 1 else "+".join(groups) + " (pooled)"
