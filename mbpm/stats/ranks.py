"""Wilcoxon rank tests with the p-value method of R's ``wilcox.test`` defaults (exact = NULL,
correct = TRUE), so that a reader who reruns the analysis in R gets the same p.

* Two-sample (Mann-Whitney U): the exact null distribution when both samples have fewer than 50
  values and there are no ties; otherwise the normal approximation with continuity correction
  and the tie-corrected variance, z = (U - nx ny / 2 - sign * 0.5) / sqrt(nx ny / 12 *
  ((n + 1) - sum(t^3 - t) / (n (n - 1)))).
* Signed-rank (paired differences): zeros dropped; exact when fewer than 50 non-zero differences
  remain and there were no ties and no zeros; otherwise z = (V - n (n + 1) / 4 - sign * 0.5) /
  sqrt(n (n + 1) (2n + 1) / 24 - sum(t^3 - t) / 48).

p = 2 min(P(<= observed), P(>= observed)), capped at 1. scipy's defaults differ
(``mannwhitneyu`` is exact only below 8 observations, ``wilcoxon`` has no continuity
correction), so the method is chosen here and passed to scipy explicitly. Reference: R Core
Team, ``?wilcox.test`` (R 4.2); Hollander & Wolfe, Nonparametric Statistical Methods (1999).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mbpm.lazy import lazy_module

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)

#: R's wilcox.test uses the exact distribution only below this many observations per sample.
EXACT_BELOW = 50
EXACT = "exact"
NORMAL = "normal approximation, continuity correction"


class RankTest(NamedTuple):
    """statistic (U of x, or V = sum of the positive ranks), two-sided p, and p's method."""

    statistic: float
    p: float
    method: str


def _has_ties(values: np.ndarray) -> bool:
    return len(np.unique(values)) < len(values)


def mann_whitney(x: np.ndarray, y: np.ndarray) -> RankTest:
    """Two-sided Mann-Whitney U of x vs y as R's ``wilcox.test(x, y)`` (module docstring).
    Example: ``mann_whitney([1, 2, 3], [4, 5, 6])`` -> U = 0, exact p = 0.1."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    exact = len(x) < EXACT_BELOW and len(y) < EXACT_BELOW and not _has_ties(np.r_[x, y])
    res = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                             method="exact" if exact else "asymptotic")
    return RankTest(float(res.statistic), float(res.pvalue), EXACT if exact else NORMAL)


def signed_rank(d: np.ndarray) -> RankTest:
    """Two-sided Wilcoxon signed-rank test of the differences ``d`` as R's ``wilcox.test(d)``
    (module docstring); statistic V = sum of the ranks of the positive differences.
    Example: ``signed_rank([1, 2, 3, 4, 5])`` -> V = 15, exact p = 0.0625."""
    d = np.asarray(d, float)
    nonzero = d[d != 0]
    if len(nonzero) == 0:
        return RankTest(0.0, float("nan"), "not computable: every difference is 0")
    exact = len(nonzero) < EXACT_BELOW and len(nonzero) == len(d) and not _has_ties(np.abs(nonzero))
    ranks = stats.rankdata(np.abs(nonzero))
    v = float(ranks[nonzero > 0].sum())
    res = stats.wilcoxon(nonzero, zero_method="wilcox", correction=True,
                         method="exact" if exact else "asymptotic")
    return RankTest(v, float(res.pvalue), EXACT if exact else NORMAL)
