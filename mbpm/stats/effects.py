"""Effect sizes and their confidence intervals (formulas in each docstring)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from mbpm.stats._core import CONFIDENCE

ArrayLike = np.ndarray | list[float]


def _z(confidence: float = CONFIDENCE) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _t(df: float, confidence: float = CONFIDENCE) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def hedges_g(x: ArrayLike, y: ArrayLike,
             confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Hedges' g of x - y with its CI.

    d = (mean_x - mean_y) / s_pooled, s_pooled^2 = ((nx-1)s_x^2 + (ny-1)s_y^2) / (nx+ny-2);
    g = d * (1 - 3 / (4(nx+ny) - 9)) (Hedges 1981 small-sample correction).
    CI: g +/- t_{nx+ny-2} * SE, SE = sqrt((nx+ny)/(nx*ny) + g^2 / (2(nx+ny))) (Hedges & Olkin 1985,
    p. 86) - the large-sample interval of pingouin.compute_esci and R effsize::cohen.d
    (noncentral=FALSE); not the noncentral-t interval of JASP.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    nx, ny = len(x), len(y)
    sp = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    g = (x.mean() - y.mean()) / sp * (1 - 3 / (4 * (nx + ny) - 9))
    se = np.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    crit = _t(nx + ny - 2, confidence)
    return float(g), float(g - crit * se), float(g + crit * se)


HEDGES_CI_METHOD = "Hedges & Olkin (1985) large-sample SE, t critical value on nx+ny-2 df"


def cohen_dz(diff: ArrayLike, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Cohen's dz of paired differences with its CI.

    dz = mean(diff) / SD(diff); CI dz +/- t_{n-1} * sqrt(1/n + dz^2 / (2n)) (the one-sample form of
    Hedges & Olkin's SE, as pingouin.compute_esci(paired=True)).
    """
    d = np.asarray(diff, float)
    n = len(d)
    dz = d.mean() / d.std(ddof=1)
    se = np.sqrt(1 / n + dz**2 / (2 * n))
    crit = _t(n - 1, confidence)
    return float(dz), float(dz - crit * se), float(dz + crit * se)


DZ_CI_METHOD = "SE sqrt(1/n + dz^2/(2n)), t critical value on n-1 df"


def rank_biserial_two_sample(u_x: float, nx: int, ny: int) -> float:
    """Rank-biserial r = 2 U_x / (nx ny) - 1 = 2 CLES - 1 (Kerby 2014); > 0 when x tends to exceed y."""
    return 2 * u_x / (nx * ny) - 1


def rank_biserial_paired(diff: ArrayLike) -> float:
    """Matched-pairs rank-biserial r = (W+ - W-) / (W+ + W-), zero differences dropped (Kerby 2014)."""
    d = np.asarray(diff, float)
    d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    w_plus, w_minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((w_plus - w_minus) / (w_plus + w_minus))


def hodges_lehmann_shift(x: ArrayLike, y: ArrayLike) -> float:
    """Hodges-Lehmann shift of x relative to y: the median of all pairwise differences x_i - y_j."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.median(np.subtract.outer(x, y)))


def pseudo_median(d: ArrayLike) -> float:
    """Hodges-Lehmann one-sample estimate: the median of the Walsh averages (d_i + d_j)/2, i <= j."""
    d = np.asarray(d, float)
    i, j = np.triu_indices(len(d))
    return float(np.median((d[i] + d[j]) / 2))


def spearman_ci(rho: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """CI of Spearman's rho by Fisher's z with the Bonett & Wright (2000) standard error.

    z = atanh(rho), SE = sqrt((1 + rho^2 / 2) / (n - 3)), CI = tanh(z +/- z_crit * SE).
    Bonett DG, Wright TA. Psychometrika 2000;65(1):23-28. NaN when n < 4.
    """
    if n < 4 or not np.isfinite(rho):
        return float("nan"), float("nan")
    z = np.arctanh(np.clip(rho, -1 + 1e-15, 1 - 1e-15))
    se = np.sqrt((1 + rho**2 / 2) / (n - 3))
    crit = _z(confidence)
    return float(np.tanh(z - crit * se)), float(np.tanh(z + crit * se))
