"""Effect sizes and their confidence intervals (formulas in each docstring)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbpm.lazy import lazy_module
from mbpm.stats._core import CONFIDENCE

stats = lazy_module("scipy.stats")  # imported at first use (mbpm.lazy)

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


#: A guess of :func:`_boundary`'s answer for some rows (``guess(rows, pivot, inclusive)``).
Guess = Callable[[np.ndarray, float, bool], np.ndarray]


def _boundary(value: Callable[[np.ndarray, np.ndarray], np.ndarray], lo: np.ndarray,
              hi: np.ndarray, pivot: float, inclusive: bool, guess: Guess | None = None,
              ) -> np.ndarray:
    """Per row i, the first j in [lo_i, hi_i) with value(i, j) > pivot (``inclusive``) or >= pivot:
    a binary search in every row at once (rows non-decreasing in j); the exact floating-point
    comparison of each entry, never an approximate threshold. O(rows log(columns)).

    ``guess`` (optional) proposes each row's answer (a ``np.searchsorted`` of the threshold, say);
    a row whose proposal passes the exact test (the entry before it is not past the pivot, the
    entry at it is) takes it, the other rows are searched."""
    lo, hi = lo.copy(), hi.copy()
    rows = np.flatnonzero(lo < hi)
    if guess is not None and rows.size:
        low, high = lo[rows], hi[rows]
        j = np.clip(guess(rows, pivot, inclusive), low, high)
        before = value(rows, np.maximum(j - 1, low))
        at = value(rows, np.minimum(j, high - 1))
        ok = (((j == low) | (before <= pivot if inclusive else before < pivot))
              & ((j == high) | (at > pivot if inclusive else at >= pivot)))
        lo[rows[ok]] = hi[rows[ok]] = j[ok]
        rows = rows[~ok]
    while rows.size:
        mid = (lo[rows] + hi[rows]) // 2
        v = value(rows, mid)
        below = v <= pivot if inclusive else v < pivot
        lo[rows[below]] = mid[below] + 1
        hi[rows[~below]] = mid[~below]
        rows = rows[lo[rows] < hi[rows]]
    return lo


def _select(value: Callable[[np.ndarray, np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray,
            k: int, guess: Guess | None = None) -> float:
    """The k-th smallest (0-based) entry value(i, j), lo_i <= j < hi_i, of a matrix whose rows are
    non-decreasing in j, without forming the matrix.

    Selection in a row-sorted matrix (Johnson & Mizoguchi 1978, SIAM J Comput 7:147-153; for
    Walsh averages Monahan 1984, ACM TOMS 10:265-270): each step takes as pivot the weighted
    median of the rows' middle entries (weights = entries left in the row), counts the entries
    below and at it per row (:func:`_boundary`) and drops the side that cannot hold the k-th; at
    least a quarter of the entries go each step, so O(log N) steps of O(rows log columns). When
    few entries are left they are gathered and selected by ``np.partition``. Memory O(rows).
    """
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    while True:
        width = hi - lo
        left = int(width.sum())
        if left <= max(_GATHER * len(lo), _GATHER_MIN):
            rows = np.repeat(np.arange(len(lo)), width)
            start = np.cumsum(width) - width
            cols = lo[rows] + np.arange(left) - start[rows]
            return float(np.partition(value(rows, cols), k)[k])
        rows = np.flatnonzero(width > 0)
        middle = value(rows, lo[rows] + (width[rows] - 1) // 2)
        order = np.argsort(middle, kind="stable")
        weight = np.cumsum(width[rows][order])
        pivot = middle[order][np.searchsorted(weight, left / 2)]
        below = _boundary(value, lo, hi, pivot, inclusive=False, guess=guess)
        n_below = int((below - lo).sum())
        if k < n_below:
            hi = below
            continue
        at_most = _boundary(value, below, hi, pivot, inclusive=True, guess=guess)
        n_at_most = int((at_most - lo).sum())
        if k < n_at_most:
            return float(pivot)
        k -= n_at_most
        lo = at_most


#: :func:`_select` gathers the entries left and partitions them once there are at most
#: ``_GATHER`` per row or ``_GATHER_MIN`` in all (small inputs: one partition, as np.median).
_GATHER, _GATHER_MIN = 4, 1 << 16


def _inf_minus_inf(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether some a_i + b_j is inf + (-inf), i.e. NaN."""
    return bool((np.isposinf(a).any() and np.isneginf(b).any())
                or (np.isneginf(a).any() and np.isposinf(b).any()))


def _median_sorted_rows(value: Callable[[np.ndarray, np.ndarray], np.ndarray], lo: np.ndarray,
                        hi: np.ndarray, guess: Guess | None = None) -> float:
    """``np.median`` of the entries of a row-sorted matrix (:func:`_select`): the middle entry, or
    for an even count the mean of the two middle entries (computed as numpy does,
    ``(low + high) / 2``)."""
    n = int((hi - lo).sum())
    if n == 0:
        return float("nan")
    high = _select(value, lo, hi, n // 2, guess)
    if n % 2:
        return high
    return float((np.float64(_select(value, lo, hi, n // 2 - 1, guess)) + np.float64(high)) / 2)


def _threshold_guess(columns: np.ndarray, rows: np.ndarray, scale: float) -> Guess:
    """A :data:`Guess` for entries (rows_i + columns_j) / scale with sorted ``columns`` (scale 1:
    the differences of :func:`hodges_lehmann_shift`, 2: the Walsh averages of
    :func:`pseudo_median`): the first column past the pivot in row i is about
    ``searchsorted(columns, scale * pivot - rows_i)``; about, in floating point, so
    :func:`_boundary` checks it."""
    def guess(i: np.ndarray, pivot: float, inclusive: bool) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            return np.searchsorted(columns, scale * pivot - rows[i],
                                   side="right" if inclusive else "left")
    return guess


def hodges_lehmann_shift(x: ArrayLike, y: ArrayLike) -> float:
    """Hodges-Lehmann shift of x relative to y: the median of all pairwise differences x_i - y_j.

    Exactly ``np.median(np.subtract.outer(x, y))`` (for an even count the mean of the two middle
    differences), found by selection in the sorted matrix x_(i) + (-y)_(j) (:func:`_select`) in
    O((m + n) log^2(m + n)) time and O(m + n) memory instead of forming the m x n differences.
    NaN if an input is NaN or empty or a difference is inf - inf. Example: x = [1, 2, 4],
    y = [0, 1] gives differences 1, 0, 2, 1, 4, 3 and a shift of 1.5.
    """
    a = np.sort(np.asarray(x, float).ravel())
    b = np.sort(-np.asarray(y, float).ravel())
    if np.isnan(a).any() or np.isnan(b).any() or _inf_minus_inf(a, b):
        return float("nan")
    if len(a) > len(b):
        a, b = b, a  # rows = the shorter sample
    return _median_sorted_rows(lambda i, j: a[i] + b[j], np.zeros(len(a), np.int64),
                               np.full(len(a), len(b), np.int64), _threshold_guess(b, a, 1.0))


def pseudo_median(d: ArrayLike) -> float:
    """Hodges-Lehmann one-sample estimate: the median of the Walsh averages (d_i + d_j)/2, i <= j.

    Exactly ``np.median`` of the n(n+1)/2 averages, found by selection in the upper triangle of
    the sorted matrix (d_(i) + d_(j)) / 2 (:func:`_select`; Monahan 1984) in O(n log^2 n) time and
    O(n) memory. NaN if an input is NaN or the inputs are empty. Example: d = [1, 2, 6] gives
    averages 1, 1.5, 3.5, 2, 4, 6 and a pseudo-median of 2.75.
    """
    s = np.sort(np.asarray(d, float).ravel())
    if np.isnan(s).any() or _inf_minus_inf(s, s):
        return float("nan")
    n = len(s)
    return _median_sorted_rows(lambda i, j: (s[i] + s[j]) / 2, np.arange(n, dtype=np.int64),
                               np.full(n, n, np.int64), _threshold_guess(s, s, 2.0))


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
