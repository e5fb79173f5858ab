"""Salivary ELISA plates: optical densities to concentrations, with quality control.

The pipeline is what a lab's analyst does with each plate:

1. :func:`tidy_wells` joins the plates' optical densities (read and validated from the plate
   reader's grid exports by :func:`mbpm.io.grid_wells`) with ``plate_layout.csv``: one row per
   used well.
2. :func:`quantify` fits each plate's own four-parameter logistic (4PL) standard curve
   (:func:`fit_four_pl`) to the blank-corrected standards, back-calculates every well through the
   exact inverse, applies the dilution, averages duplicates and applies the QC rules below.
3. :func:`censor` states how an analysis treats values below the limit of quantification.

QC rules (each a module constant, so the methods chapter can quote them):

* Each well is back-calculated through :func:`inverse_four_pl`; a reading beyond the curve's
  zero-concentration asymptote counts as concentration 0, beyond the infinite-concentration
  asymptote as infinite. Wells are multiplied by their dilution (standards: 1) and the wells of one
  standard level or one sample are averaged (arithmetic mean).
* Duplicate CV = sample SD (ddof 1) / mean of those well concentrations, in %; above
  :data:`MAX_CV` a sample is flagged ``high_cv``.
* Recovery of a standard level = back-calculated / nominal x 100; levels within
  :data:`RECOVERY_RANGE` (inclusive) "meet recovery".
* LLOQ = the lowest, ULOQ = the highest nominal concentration among the non-zero standard levels
  that meet recovery (a level that fails between them is flagged but does not split the range).
* A sample whose mean concentration is below LLOQ x dilution is flagged ``below_lloq`` and
  reported as LLOQ x dilution (a censoring limit, never the extrapolated value); above
  ULOQ x dilution it is flagged ``above_uloq`` and reported as ULOQ x dilution. These limit flags
  take precedence over ``high_cv`` (the CV of a censored value is not interpreted).
* A plate fails (:class:`~mbpm.errors.PlateFitError`, naming the plate and the reason) when it has
  fewer than :data:`MIN_STANDARD_LEVELS` non-zero standard levels, when its standard signal is not
  monotone in concentration (|Spearman rho| of level mean OD vs concentration below
  :data:`MIN_MONOTONE_RHO`), when the fit does not converge, or when fewer than
  :data:`MIN_STANDARD_LEVELS` levels meet recovery. Other plates still report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mbpm import study
from mbpm.errors import DataError, PlateFitError

#: Analytes in the order the book reports them, with their labels, units and assay formats: from the
#: study definition (mbpm/study.yml).
_DEFINITION = study.active()
ANALYTES = _DEFINITION.analyte_ids
ANALYTE_LABELS = {a.id: a.label for a in _DEFINITION.analytes}
UNITS = {a.id: a.unit for a in _DEFINITION.analytes}
#: Competitive kits: signal falls as concentration rises; the cytokine kits are sandwich ELISAs.
COMPETITIVE = frozenset(a.id for a in _DEFINITION.analytes if a.competitive)

ROLES = ("standard", "blank", "sample")
PLATE_ROWS = tuple("ABCDEFGH")
PLATE_COLUMNS = tuple(range(1, 13))
LAYOUT_COLUMNS = ("plate_id", "analyte", "well", "role", "concentration", "participant_id",
                  "visit", "dilution")
#: Columns of ``biomarkers.csv`` (the export) and the first columns of ``AssayResult.samples``.
BIOMARKER_COLUMNS = ("participant_id", "visit", "analyte", "concentration", "unit", "flag",
                     "plate_id")

#: Back-calculated / nominal, in %, that a standard level must meet (inclusive bounds).
RECOVERY_RANGE = (80.0, 120.0)
#: Duplicate CV (%) above which a sample is flagged ``high_cv``.
MAX_CV = 20.0
#: Non-zero standard levels a plate needs, both to fit and meeting recovery: one more than the
#: curve's four parameters, so the quantifiable range rests on more calibrators than parameters.
#: (ICH M10 asks six for regulated bioanalysis; research kits with seven standards often lose
#: the lowest one or two to recovery, as the published elisar example does.)
MIN_STANDARD_LEVELS = 5
#: Smallest |Spearman rho| between level mean OD and concentration for a usable (monotone)
#: standard signal: one adjacent swap among seven levels gives 0.96, a hook (rise then fall) far
#: less.
MIN_MONOTONE_RHO = 0.9

Weighting = Literal["relative", "none"]
WEIGHTINGS: tuple[Weighting, ...] = ("relative", "none")
#: Default weighting: ``relative`` (1/y^2), see :func:`standard_sigma` for the reason.
DEFAULT_WEIGHTING: Weighting = "relative"

BelowLloq = Literal["half_lloq", "lloq", "missing"]
BELOW_LLOQ_OPTIONS: tuple[BelowLloq, ...] = ("half_lloq", "lloq", "missing")
#: Default treatment of values below the LLOQ in the analysis: LLOQ/2. Biomarkers are analysed on
#: the log scale, so 0 is impossible; dropping them ("missing") biases geometric means upward and
#: breaks baseline/week-8 pairs; Hornung & Reed (1990, Appl Occup Environ Hyg 5:46-51) recommend
#: L/2 for strongly skewed data. "missing" is the sensitivity analysis.
BELOW_LLOQ: BelowLloq = _DEFINITION.plan("below_lloq")


# ---------------------------------------------------------------------------------------------
# The curve


def four_pl(x: ArrayLike, a: float, b: float, c: float, d: float) -> np.ndarray:
    """Four-parameter logistic curve.

    ``y = d + (a - d) / (1 + (x / c) ** b)``: ``a`` is the response at zero concentration,
    ``d`` the response at infinite concentration, ``c`` the inflection point (EC50) and ``b``
    the slope. With ``b > 0``, a sandwich assay has ``a < d`` (signal rises with
    concentration) and a competitive assay ``a > d`` (signal falls).
    """
    x = np.asarray(x, dtype=float)
    return d + (a - d) / (1.0 + (x / c) ** b)


def inverse_four_pl(y: ArrayLike, a: float, b: float, c: float, d: float) -> np.ndarray:
    """Exact inverse of :func:`four_pl`: ``x = c * ((a - d) / (y - d) - 1) ** (1 / b)``.

    Responses outside the open interval between ``a`` and ``d`` have no finite inverse: NaN.
    """
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a - d) / (y - d) - 1.0
        x = c * np.power(ratio, 1.0 / b)
    return np.where(ratio > 0, x, np.nan)


@dataclass(frozen=True)
class CurveFit:
    """A fitted 4PL curve (parameters as in :func:`four_pl`) and its goodness of fit.

    ``r2`` is 1 - SS_res / SS_tot of the (unweighted) responses; ``rse`` the residual standard
    error of the responses, sqrt(SS_res / (n - 4)), in OD units.
    """

    a: float
    b: float
    c: float
    d: float
    r2: float
    rse: float
    n_points: int

    def response(self, x: ArrayLike) -> np.ndarray:
        """The curve's response at concentrations ``x``."""
        return four_pl(x, self.a, self.b, self.c, self.d)

    def concentration(self, y: ArrayLike) -> np.ndarray:
        """Back-calculated concentration of responses ``y`` through the exact inverse.

        A response at or beyond the zero-concentration asymptote ``a`` gives 0, at or beyond the
        infinite-concentration asymptote ``d`` gives ``inf``; a missing response gives NaN.
        """
        return back_calculate(y, self.a, self.b, self.c, self.d)


def back_calculate(y: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike,
                   ) -> np.ndarray:
    """Concentrations of responses ``y`` through the exact inverse of :func:`four_pl`, with 0 at
    or beyond the zero-concentration asymptote ``a`` and ``inf`` at or beyond ``d`` (NaN for a
    missing response); the parameters may be arrays, one per response (many plates at once)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = (y - a) / (d - a)  # rises from 0 to 1 with concentration
    x = inverse_four_pl(y, a, b, c, d)
    return np.select([fraction <= 0, fraction >= 1], [0.0, np.inf], x)


def _start(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Starting values ``(a, log b, log c, d)`` from the data, for either assay direction.

    ``a`` and ``d`` start 10 % of the observed span beyond the mean responses of the lowest and
    highest levels; ``b`` and ``c`` come from the linearised curve
    ``log((a - y) / (y - d)) = b log x - b log c`` fitted by least squares to the level means.
    """
    levels, index = np.unique(x, return_inverse=True)
    means = np.bincount(index, weights=y) / np.bincount(index)
    span = means[-1] - means[0]
    a0, d0 = means[0] - 0.1 * span, means[-1] + 0.1 * span
    positive = levels > 0
    b0, c0 = 1.0, float(np.exp(np.mean(np.log(levels[positive]))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log((a0 - means) / (means - d0))
    usable = positive & np.isfinite(z)
    if usable.sum() >= 2:
        slope, intercept = np.polyfit(np.log(levels[usable]), z[usable], 1)
        if slope > 0:
            b0, c0 = slope, float(np.exp(-intercept / slope))
    return np.array([a0, np.log(b0), np.log(c0), d0])


def _starts(level_plate: np.ndarray, levels: np.ndarray, means: np.ndarray, n: int) -> np.ndarray:
    """:func:`_start` of ``n`` plates at once, from their (plate, level) pairs: ``level_plate``
    (plate codes, ascending), ``levels`` (ascending within a plate) and the level ``means``;
    (n, 4), NaN for a plate without standards.

    The same operations in the same order as :func:`_start`, on the plates that share a set of
    levels (and of usable levels) at once: the line of :func:`_polyfits` instead of one
    :func:`numpy.polyfit` each. Example: the levels 0, 1, 2, 4 with means 0.1, 0.2, 0.4, 0.8
    give ``_start`` of those four points.
    """
    out = np.full((n, 4), np.nan)
    bounds = np.searchsorted(level_plate, np.arange(n + 1))
    values, sets = levels.tolist(), {}
    for k in np.flatnonzero(np.diff(bounds)):
        sets.setdefault(tuple(values[bounds[k]:bounds[k + 1]]), []).append(k)
    for key, members in sets.items():
        plates, level = np.array(members), np.array(key)
        m = means[bounds[plates][:, None] + np.arange(level.size)]
        span = m[:, -1] - m[:, 0]
        a0, d0 = m[:, 0] - 0.1 * span, m[:, -1] + 0.1 * span
        positive = level > 0
        b0 = np.ones(len(plates))
        c0 = np.full(len(plates), float(np.exp(np.mean(np.log(level[positive])))))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log((a0[:, None] - m) / (m - d0[:, None]))
        usable = positive & np.isfinite(z)
        patterns, which = np.unique(usable, axis=0, return_inverse=True)
        for p, mask in enumerate(patterns):
            if mask.sum() < 2:
                continue
            rows = np.flatnonzero(which.ravel() == p)
            slope, intercept = _polyfits(np.log(level[mask]), z[rows][:, mask])
            up = rows[slope > 0]
            b0[up] = slope[slope > 0]
            c0[up] = np.exp(-intercept[slope > 0] / slope[slope > 0])
        out[plates] = np.column_stack([a0, np.log(b0), np.log(c0), d0])
    return out


def _polyfits(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of ``numpy.polyfit(x, z[k], 1)`` for every row ``k`` of ``z``: the
    scaled Vandermonde matrix of :func:`numpy.polyfit` and one LAPACK ``gelsd`` per row (the
    stacked form of the ufunc behind :func:`numpy.linalg.lstsq`), so each row's line is
    polyfit's to the last bit."""
    try:
        from numpy.linalg import _umath_linalg
    except ImportError:  # not a public module: fall back to polyfit row by row
        lines = np.array([np.polyfit(x, row, 1) for row in z]).reshape(-1, 2)
        return lines[:, 0], lines[:, 1]
    x = np.asarray(x, dtype=float) + 0.0
    lhs = np.vander(x, 2)
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    with np.errstate(invalid="raise", over="ignore", divide="ignore", under="ignore"):
        lines = _umath_linalg.lstsq(lhs, np.ascontiguousarray(z)[..., None], len(x) * np.finfo(float).eps,
                                    signature="ddd->ddid")[0][..., 0]
    lines = lines / scale
    return lines[:, 0], lines[:, 1]


def _weighted_model(theta: np.ndarray, x: np.ndarray, y: np.ndarray, sigma: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted residuals ``(f(x) - y) / sigma`` and their Jacobian in ``(a, log b, log c, d)``
    for many curves at once: ``theta`` (curves, 4); ``x``, ``y``, ``sigma`` (curves, points).
    Returns residuals (curves, points) and Jacobian (curves, points, 4); a point with
    ``sigma = inf`` (padding) contributes zeros."""
    positive = x > 0
    log_x = np.log(np.where(positive, x, 1.0))
    a, log_b, log_c, d = (theta[:, k, None] for k in range(4))
    b = np.exp(log_b)
    u = np.where(positive, np.exp(np.clip(b * (log_x - log_c), -700, 700)), 0.0)
    g = 1.0 / (1.0 + u)
    dy_du = -(a - d) * g * g
    jacobian = np.stack([g, dy_du * u * b * (log_x - log_c), -dy_du * u * b, 1.0 - g], axis=-1)
    return (d + (a - d) * g - y) / sigma, jacobian / sigma[..., None]


def _residuals_and_jacobian(x: np.ndarray, y: np.ndarray, sigma: np.ndarray):
    """Weighted residuals (f(x) - y) / sigma in ``(a, log b, log c, d)`` and their Jacobian, as
    functions of theta for :func:`scipy.optimize.least_squares` (one curve of :func:`_weighted_model`)."""
    x, y, sigma = x[None], y[None], sigma[None]

    def residuals(theta: np.ndarray) -> np.ndarray:
        return _weighted_model(theta[None], x, y, sigma)[0][0]

    def jacobian(theta: np.ndarray) -> np.ndarray:
        return _weighted_model(theta[None], x, y, sigma)[1][0]

    return residuals, jacobian


def _curve(x: np.ndarray, y: np.ndarray, theta: np.ndarray) -> CurveFit:
    """The :class:`CurveFit` of parameters ``(a, log b, log c, d)`` to standards x, y."""
    a, log_b, log_c, d = theta
    fitted = four_pl(x, a, np.exp(log_b), np.exp(log_c), d)
    ss_res = float(np.sum((y - fitted) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return CurveFit(a=float(a), b=float(np.exp(log_b)), c=float(np.exp(log_c)), d=float(d),
                    r2=1.0 - ss_res / ss_tot, rse=float(np.sqrt(ss_res / max(y.size - 4, 1))),
                    n_points=int(y.size))


def fit_four_pl(concentration: ArrayLike, od: ArrayLike, sigma: ArrayLike | None = None,
                ) -> CurveFit:
    """Fit :func:`four_pl` to standards by (weighted) least squares.

    Minimises ``sum(((four_pl(x_i) - y_i) / sigma_i) ** 2)`` over every standard well as its own
    observation (``sigma=None``: unweighted). The slope and EC50 are fitted on the log scale
    (``b = exp(beta)``, ``c = exp(gamma)``), so ``b > 0`` and ``c > 0`` hold without bounds and
    the assay direction is carried by ``a`` vs ``d``; Levenberg-Marquardt with the analytic
    Jacobian from the data-driven starting values of :func:`_start`
    (:func:`fit_four_pl_many`, the same solver that fits all plates of a study at once; if it
    does not converge, :func:`scipy.optimize.least_squares` ``method="lm"`` (MINPACK) decides).
    A zero-concentration standard is allowed.

    Raises :class:`~mbpm.errors.PlateFitError` (without a plate name) if the fit does not converge.
    """
    x = np.asarray(concentration, dtype=float)
    y = np.asarray(od, dtype=float)
    s = np.ones_like(y) if sigma is None else np.asarray(sigma, dtype=float)
    theta, converged = fit_four_pl_many(x[None], y[None], s[None], _start(x, y)[None])
    return _accepted(x, y, theta[0], converged[0]) or _minpack_fit(x, y, s)


def _accepted(x: np.ndarray, y: np.ndarray, theta: np.ndarray, converged: bool) -> CurveFit | None:
    """The curve of a converged :func:`fit_four_pl_many` solution, None if it is not usable."""
    if converged and np.all(np.isfinite(theta)) and theta[0] != theta[3]:
        return _curve(x, y, theta)
    return None


def least_squares(*args: Any, **kwargs: Any) -> Any:
    """:func:`scipy.optimize.least_squares`, imported at the first call (not with mbpm)."""
    from scipy.optimize import least_squares as solve

    return solve(*args, **kwargs)


def _minpack_fit(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> CurveFit:
    """:func:`fit_four_pl` by :func:`scipy.optimize.least_squares` (MINPACK lmder), the
    fallback of the batched solver; raises PlateFitError with MINPACK's reason."""
    residuals, jacobian = _residuals_and_jacobian(x, y, s)
    solution = least_squares(residuals, _start(x, y), jac=jacobian, method="lm",
                             xtol=1e-10, ftol=1e-10, max_nfev=2000)
    a, _, _, d = solution.x
    if solution.status <= 0 or not np.all(np.isfinite(solution.x)) or a == d:
        raise PlateFitError(f"the 4PL fit did not converge ({solution.message})")
    return _curve(x, y, solution.x)


#: Batched Levenberg-Marquardt (:func:`fit_four_pl_many`): a curve has converged when a step
#: at damping <= 1 is at most LM_STEP_TOLERANCE of the parameters (both in the scaled norm
#: ||D^(1/2) x||, as MINPACK's xtol) or changes the cost by at most LM_COST_TOLERANCE
#: (relative): the minimum to rounding error.
LM_STEP_TOLERANCE = 1e-10
LM_COST_TOLERANCE = 1e-14
LM_MAX_STEPS = 300


def _solve(system: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve each 4 x 4 system ``system[k] @ z = rhs[k]``; NaN for a singular one."""
    try:
        return np.linalg.solve(system, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(rhs.shape, np.nan)
        for k in range(len(rhs)):
            try:
                out[k] = np.linalg.solve(system[k], rhs[k])
            except np.linalg.LinAlgError:
                pass
        return out


def fit_four_pl_many(x: np.ndarray, y: np.ndarray, sigma: np.ndarray, start: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares problems of :func:`fit_four_pl` for many curves at once, in NumPy.

    ``x``, ``y``, ``sigma``: (curves, points), padded with ``sigma = inf``; ``start``: (curves, 4)
    starting ``(a, log b, log c, d)`` (:func:`_start`). Levenberg-Marquardt with Marquardt's
    scaling (Moré 1978, the method of MINPACK's lmder): each step solves
    ``(J'J + lambda D) delta = -J'r`` (D = the running maximum of diag(J'J)),
    accepts it if the cost does not rise (lambda / 3) or rejects it (lambda x 4), per curve,
    until a step at ``lambda <= 1`` is negligible (:data:`LM_STEP_TOLERANCE`,
    :data:`LM_COST_TOLERANCE`). It reaches the least-squares minimum to rounding error (about
    1e-8 relative in the parameters); lmder with the tolerances of :func:`_minpack_fit` stops
    earlier, up to about 1e-5 away in the worst-determined parameter.
    Returns the parameters (curves, 4) and which curves converged (the others:
    :func:`_minpack_fit`).
    """
    theta = np.array(start, dtype=float)
    n = len(theta)
    r, jac = _weighted_model(theta, x, y, sigma)
    cost = np.einsum("cp,cp->c", r, r)
    damping, scale = np.full(n, 1e-3), np.zeros((n, 4))
    converged = np.zeros(n, dtype=bool)
    active = np.flatnonzero(np.isfinite(cost))
    for _ in range(LM_MAX_STEPS):
        if not active.size:
            break
        j, res = jac[active], r[active]
        normal = np.einsum("cpi,cpj->cij", j, j)
        scale[active] = np.maximum(scale[active], np.diagonal(normal, axis1=1, axis2=2))
        lam = damping[active]
        system = normal + (lam[:, None] * np.maximum(scale[active], 1e-300))[:, :, None] * np.eye(4)
        delta = -_solve(system, np.einsum("cpi,cp->ci", j, res))
        trial = theta[active] + delta
        r_new, jac_new = _weighted_model(trial, x[active], y[active], sigma[active])
        cost_new = np.einsum("cp,cp->c", r_new, r_new)
        gain = cost[active] - cost_new
        accept = np.isfinite(cost_new) & (gain >= 0)
        taken = active[accept]
        theta[taken], r[taken], jac[taken], cost[taken] = (trial[accept], r_new[accept],
                                                          jac_new[accept], cost_new[accept])
        weight = scale[active]
        small = (np.einsum("ci,ci->c", weight, delta**2)
                 <= LM_STEP_TOLERANCE**2 * np.einsum("ci,ci->c", weight, trial**2))
        flat = np.abs(gain) <= LM_COST_TOLERANCE * cost[active]
        done = (small | flat) & (lam <= 1.0)
        converged[active[done]] = True
        damping[taken] = lam[accept] / 3
        damping[active[~accept]] = lam[~accept] * 4
        active = active[~done & (damping[active] < 1e16)]
    return theta, converged


def standard_sigma(concentration: ArrayLike, raw_od: ArrayLike, weighting: Weighting) -> np.ndarray:
    """Relative standard deviation of each standard well's OD, the weights of :func:`fit_four_pl`.

    ``relative`` (default, "1/y^2" weighting): sigma_i proportional to the mean *raw* OD of the
    well's standard level. The SD of an immunoassay response grows roughly in proportion to its
    mean (a near-constant CV; Dudley et al. 1985, Clin Chem 31:1264-1271, "Guidelines for
    immunoassay data processing"), so an unweighted fit lets the high-OD standards dominate and
    misfits the low end where the LLOQ is set; weighting by 1/y^2 is the usual remedy (Findlay &
    Dillard 2007, AAPS J 9:E260-E267). The raw OD (before blank subtraction) is used because the
    measurement error belongs to the absorbance read, and it keeps weights finite near zero after
    blank correction; the level mean rather than each well keeps one stray well from weighting
    itself. ``none``: all sigma 1 (ordinary least squares).
    """
    x = np.asarray(concentration, dtype=float)
    y = np.asarray(raw_od, dtype=float)
    if weighting == "none":
        return np.ones_like(y)
    if weighting != "relative":
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    _, index = np.unique(x, return_inverse=True)
    means = np.bincount(index, weights=y) / np.bincount(index)
    return np.maximum(means[index], np.finfo(float).tiny)


# ---------------------------------------------------------------------------------------------
# Reading plates


#: The columns of a plate's wells that :func:`tidy_wells` joins (plus ``saturated``, when given).
GRID_COLUMNS = ("well", "row", "column", "od", "plate_id")


def tidy_wells(layout: pd.DataFrame, grids: Mapping[str, pd.DataFrame] | pd.DataFrame,
               ) -> pd.DataFrame:
    """Join ``plate_layout.csv`` with the plates' optical densities: one row per used well.

    ``layout`` has the columns of :data:`LAYOUT_COLUMNS` (rows as read from the file, so row
    ``i`` of the frame is line ``i + 2`` of the file); ``grids`` maps plate_id to
    :func:`mbpm.io.grid_wells` output, or is one frame of every plate's wells with a
    ``plate_id`` column (:func:`mbpm.io.plates_wells`). Wells the layout does not list are dropped; an empty
    dilution means 1. Returns the layout columns plus ``row``, ``column``, ``od`` and
    ``saturated`` (``high``/``low`` for a well beyond the reader's range, else empty). Raises
    :class:`~mbpm.errors.DataError` for a missing column, a plate without a grid, an unknown well,
    role or analyte, a duplicated well, or a sample whose duplicates disagree on the dilution.
    """
    missing = [col for col in LAYOUT_COLUMNS if col not in layout.columns]
    if missing:
        raise DataError(f"plate_layout.csv: missing column(s) {', '.join(missing)}; expected "
                        f"{', '.join(LAYOUT_COLUMNS)}")
    def read(grid: pd.DataFrame) -> pd.DataFrame:  # a grid without saturated wells has none
        out = grid.reindex(columns=list(GRID_COLUMNS))
        return out.assign(saturated=grid["saturated"] if "saturated" in grid else "")

    if isinstance(grids, pd.DataFrame):
        ods = read(grids).astype({"plate_id": str})
    else:
        ods = pd.concat([read(grid.assign(plate_id=str(plate_id))) for plate_id, grid in grids.items()],
                        ignore_index=True) if grids else None
    if ods is None or ods.empty:
        raise DataError("plates/: no plate reader exports to join with plate_layout.csv")
    original = layout.loc[:, list(LAYOUT_COLUMNS)].reset_index(drop=True)
    table = original.assign(
        plate_id=original["plate_id"].astype(str), well=_stripped(original["well"].astype(str)),
        participant_id=original["participant_id"].astype(str),
        visit=original["visit"].astype(str),
        concentration=pd.to_numeric(original["concentration"], errors="coerce"),
        dilution=pd.to_numeric(original["dilution"], errors="coerce")
        .where(original["dilution"].notna(), 1.0))
    _check_layout(table, pd.unique(ods["plate_id"]), original)
    return _join_wells(table, ods)


def _stripped(cells: pd.Series) -> pd.Series:
    """``cells.str.strip()``, stripping each distinct cell once (a column of few distinct values)."""
    codes, distinct = factorize(cells)
    if (codes < 0).any():
        return cells.str.strip()
    return pd.Series(pd.Series(distinct).str.strip().array.take(codes), index=cells.index,
                     name=cells.name)


def factorize(values: Any, *, use_na_sentinel: bool = True, sort: bool = False,
              ) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, ...)`` as codes and the distinct values in a NumPy array; a text
    (``str`` dtype) Series is factorized through its object array, which gives the same codes and
    the same distinct values in the same order at about half the cost (pandas' ``str`` array
    first converts its cells and scans them for missing values).

    >>> codes, distinct = factorize(pd.Series(["b", "a", None, "b"]))
    >>> codes.tolist(), distinct.tolist()
    ([0, 1, -1, 0], ['b', 'a'])
    """
    if isinstance(values, pd.Series) and values.dtype == "str":
        values = values.to_numpy(object)
    if use_na_sentinel or sort or not (isinstance(values, np.ndarray) and values.dtype == object):
        codes, distinct = pd.factorize(values, use_na_sentinel=use_na_sentinel, sort=sort)
        return codes, np.asarray(distinct, dtype=object if distinct.dtype == "str" else None)
    codes, distinct = pd.factorize(values)  # without pandas' scan for missing values first
    missing = codes < 0
    if not missing.any():
        return codes, distinct
    first = int(np.argmax(missing))  # missing values become one value, numbered where first seen
    k = int(codes[:first].max()) + 1 if first else 0
    codes = np.where(missing, k, codes + (codes >= k))
    return codes, np.insert(distinct.astype(object), k, np.nan)


def key_codes(*columns: pd.Series) -> np.ndarray:
    """One integer per distinct combination of the columns' values (missing values are a value
    of their own, as ``groupby(..., dropna=False)`` groups them)."""
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        codes, distinct = factorize(column, use_na_sentinel=False)
        if size * len(distinct) >= 2**62:  # renumber the combinations so far: no overflow
            key, done = pd.factorize(key)
            size = len(done)
        key, size = key * len(distinct) + codes, size * len(distinct)
    return key


def distinct_per_group(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each row, how many distinct values its group holds: ``pd.Series(value).groupby(group)
    .transform("nunique")`` for integer codes, where -1 is a missing value (not counted) or a
    row without a group (0; the groupby's NaN).

    >>> distinct_per_group(np.array([0, 0, 1, -1]), np.array([5, 6, -1, 5])).tolist()
    [2, 2, 0, 0]
    """
    group, value = np.asarray(group, dtype=np.int64), np.asarray(value, dtype=np.int64)
    if not group.size:
        return np.zeros(0, dtype=np.int64)
    dense = np.full(group.size, -1, dtype=np.int64)  # groups numbered 0..k-1 (codes may be sparse)
    dense[group >= 0] = pd.factorize(group[group >= 0])[0]
    group, size = dense, max(int(dense.max()) + 1, 1)
    both = (group >= 0) & (value >= 0)
    width = int(value.max()) + 1
    pairs = pd.unique(group[both] * width + value[both])  # each (group, value) once
    counts = np.bincount(pairs // width, minlength=size)
    return np.where(group >= 0, counts[np.maximum(group, 0)], 0)


def _join_wells(table: pd.DataFrame, ods: pd.DataFrame) -> pd.DataFrame:
    """``table.merge(ods, on=["plate_id", "well"], how="left", validate="one_to_one")`` for
    checked wells (:func:`_check_layout`), matched by integer keys; when some well has no
    optical density or ``ods`` lists a well twice, the merge itself (its NaN, its MergeError)."""
    plates = pd.Index(pd.unique(ods["plate_id"]))
    wells = pd.Index([f"{r}{c}" for r in PLATE_ROWS for c in PLATE_COLUMNS])

    def key(frame: pd.DataFrame) -> np.ndarray:
        p_codes, p_distinct = factorize(frame["plate_id"])
        w_codes, w_distinct = factorize(frame["well"])
        p, w = plates.get_indexer(p_distinct)[p_codes], wells.get_indexer(w_distinct)[w_codes]
        return np.where((p_codes >= 0) & (w_codes >= 0) & (p >= 0) & (w >= 0), p * len(wells) + w, -1)

    right, left = key(ods), key(table)
    slot = np.full(len(plates) * len(wells), -1)
    slot[right[right >= 0]] = np.flatnonzero(right >= 0)
    found = slot[np.maximum(left, 0)]
    unique = (right >= 0).all() and not pd.Series(right).duplicated().any()
    if not unique or (left < 0).any() or (found < 0).any():
        return table.merge(ods, on=["plate_id", "well"], how="left", validate="one_to_one")
    extra = ods[[c for c in ods.columns if c not in ("plate_id", "well")]]
    return pd.concat([table, extra.iloc[found].reset_index(drop=True)], axis=1)


def _check_layout(table: pd.DataFrame, plate_ids: Any, original: pd.DataFrame) -> None:
    """The layout rules of the data contract that the assay pipeline relies on (see :func:`tidy_wells`);
    ``table`` is the parsed layout, ``original`` the values as given (quoted in the message).
    Every rule is tested on each column's distinct cells (:func:`factorize`) and the per-plate
    and per-sample rules group by integer codes (:func:`key_codes`, :func:`distinct_per_group`)."""
    valid_wells = {f"{row}{col}" for row in PLATE_ROWS for col in PLATE_COLUMNS}
    codes = {c: factorize(table[c], use_na_sentinel=False)
             for c in ("plate_id", "well", "analyte", "role", "participant_id", "visit")}

    def cells(column: str, test: Any) -> np.ndarray:  # test(cell) for every row, once per cell
        code, distinct = codes[column]
        return np.array([bool(test(v)) for v in distinct], dtype=bool)[code]

    plate, well = codes["plate_id"][0], codes["well"][0]
    role = {r: cells("role", lambda v, r=r: v == r) for r in ("standard", "sample")}
    concentration, dilution = (table[c].to_numpy(float) for c in ("concentration", "dilution"))
    analyte = np.where(cells("analyte", pd.isna), -1, codes["analyte"][0])
    plate_of = np.where(cells("plate_id", pd.isna), -1, plate)
    sample = key_codes(plate, codes["participant_id"][0], codes["visit"][0])
    with np.errstate(invalid="ignore"):
        checks = [
            (~cells("plate_id", set(plate_ids).__contains__), "plate_id",
             "a plate with a plate reader export in plates/"),
            (~cells("well", valid_wells.__contains__), "well", "a well A1..H12"),
            (pd.Series(key_codes(plate, well)).duplicated().to_numpy(), "well",
             "each well of a plate listed once"),
            (~cells("analyte", set(ANALYTES).__contains__), "analyte", f"one of {', '.join(ANALYTES)}"),
            (~cells("role", set(ROLES).__contains__), "role", f"one of {', '.join(ROLES)}"),
            (role["standard"] & ~(concentration >= 0), "concentration",
             "a concentration >= 0 for a standard"),
            (role["sample"] & cells("participant_id", pd.isna), "participant_id",
             "a participant for a sample"),
            (~(dilution > 0), "dilution", "a dilution > 0 (empty means 1)"),
            (distinct_per_group(plate_of, analyte) > 1, "analyte", "one analyte per plate"),
            ((distinct_per_group(sample, factorize(dilution)[0]) > 1) & role["sample"], "dilution",
             "the same dilution in all wells of one sample"),
        ]
    for bad, column, expected in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = table.iloc[i]
            raise DataError(f"plate_layout.csv, row {i + 2} (plate {row['plate_id']}, well "
                            f"{row['well']}), column {column}: expected {expected}, got "
                            f"{str(original[column].iloc[i])!r}")


# ---------------------------------------------------------------------------------------------
# Quantification


class _Unusable(Exception):
    """Internal: why a plate cannot be used (becomes a PlateFitError naming the plate)."""


def _group_stats(index: np.ndarray, values: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and duplicate CV (%, SD with ddof 1 / mean) of ``values`` per group ``index``.

    A group holding an infinite value has mean ``inf`` and CV NaN, as has a group whose squared
    deviations overflow (a curve's far extrapolations); a single well has CV NaN.
    """
    n = np.bincount(index)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.bincount(index, weights=values) / n
        squares = np.bincount(index, weights=(values - mean[index]) ** 2)
        cv = 100.0 * np.sqrt(squares / (n - 1)) / mean
    return n, mean, np.where(np.isfinite(cv), cv, np.nan)


@dataclass(frozen=True)
class PlateFit:
    """One plate's standard curve: blank, fitted curve, standards' QC and quantifiable range."""

    plate_id: str
    analyte: str
    blank: float
    curve: CurveFit
    lloq: float
    uloq: float
    standards: pd.DataFrame


@dataclass(frozen=True)
class _Standards:
    """One plate's standards, checked and ready to fit (:func:`_prepare`)."""

    plate_id: str
    analyte: str
    blank: float
    levels: np.ndarray  # distinct nominal concentrations, ascending
    index: np.ndarray  # the level of each standard well
    x: np.ndarray  # nominal concentration of each standard well
    y: np.ndarray  # blank-corrected OD of each standard well
    sigma: np.ndarray  # weights (standard_sigma)
    od_mean: np.ndarray  # blank-corrected mean OD per level


def _spearman(levels: np.ndarray, means: np.ndarray) -> float:
    """Spearman's rho of distinct ascending ``levels`` and their mean ODs: Pearson's r of the
    ranks (average ranks for ties), as :func:`scipy.stats.spearmanr` computes it; NaN when
    the ODs are all equal."""
    _, index, counts = np.unique(means, return_inverse=True, return_counts=True)
    r = (np.cumsum(counts) - (counts - 1) / 2)[index]  # 1-based average ranks of the means
    q = np.arange(levels.size, dtype=float)
    q, r = q - q.mean(), r - r.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(q @ r / np.sqrt((q @ q) * (r @ r)))


def _prepare(plate_id: str, analyte: str, role: np.ndarray, concentration: np.ndarray,
             od: np.ndarray, weighting: Weighting, blank_correction: bool) -> _Standards:
    """A plate's blank and standards from its wells' arrays; raises :class:`_Unusable` for no
    blank, too few levels or a non-monotone signal (module docstring)."""
    blanks = od[role == "blank"]
    if blank_correction and blanks.size == 0:
        raise _Unusable("no blank wells to subtract")
    blank = float(blanks.mean()) if blank_correction else 0.0
    is_standard = role == "standard"
    x, raw = concentration[is_standard], od[is_standard]
    levels, index = np.unique(x, return_inverse=True)
    n_levels = int((levels > 0).sum())
    if n_levels < MIN_STANDARD_LEVELS:
        raise _Unusable(f"only {n_levels} non-zero standard levels, need at least "
                        f"{MIN_STANDARD_LEVELS}")
    y = raw - blank
    _, od_mean, _ = _group_stats(index, y)
    rho = _spearman(levels, od_mean)
    if not abs(rho) >= MIN_MONOTONE_RHO:
        raise _Unusable(f"standard signal is not monotone in concentration (Spearman rho = "
                        f"{rho:.2f} over {levels.size} levels; need |rho| >= {MIN_MONOTONE_RHO})")
    return _Standards(plate_id, analyte, blank, levels, index, x, y,
                      standard_sigma(x, raw, weighting), od_mean)


def _recovery(s: _Standards, curve: CurveFit) -> tuple[dict[str, np.ndarray], float, float]:
    """The standards table (columns of :attr:`AssayResult.standards`) and (LLOQ, ULOQ) of a
    fitted plate; raises :class:`_Unusable` when too few levels meet recovery."""
    n_wells, back, cv = _group_stats(s.index, curve.concentration(s.y))
    with np.errstate(divide="ignore", invalid="ignore"):
        recovery = np.where(s.levels > 0, 100.0 * back / s.levels, np.nan)
    used = meets_recovery(s.levels, recovery)
    if used.sum() < MIN_STANDARD_LEVELS:
        raise _Unusable(f"only {used.sum()} of {int((s.levels > 0).sum())} standard levels within "
                        f"{RECOVERY_RANGE[0]:g}-{RECOVERY_RANGE[1]:g} % recovery, need at least "
                        f"{MIN_STANDARD_LEVELS}")
    flag = np.where((s.levels > 0) & ~used, "poor_recovery", "")
    k = s.levels.size
    table = {"plate_id": np.full(k, s.plate_id, dtype=object),
             "analyte": np.full(k, s.analyte, dtype=object), "nominal": s.levels,
             "n_wells": n_wells, "od_mean": s.od_mean, "back_calculated": back,
             "recovery": recovery, "cv": cv, "used": used, "flag": flag}
    return (table, *quantifiable_range(s.levels, recovery))


def _fit_plate(plate_id: str, analyte: str, role: np.ndarray, concentration: np.ndarray,
               od: np.ndarray, weighting: Weighting, blank_correction: bool) -> PlateFit:
    """Fit one plate from its wells' arrays (rules: module docstring); raises :class:`_Unusable`."""
    s = _prepare(plate_id, analyte, role, concentration, od, weighting, blank_correction)
    try:
        curve = fit_four_pl(s.x, s.y, s.sigma)
    except PlateFitError as err:
        raise _Unusable(str(err)) from err
    table, lloq, uloq = _recovery(s, curve)
    return PlateFit(plate_id, analyte, s.blank, curve, lloq, uloq, pd.DataFrame(table))


def _fit_many(plates: list[_Standards]) -> list[CurveFit | PlateFitError]:
    """The curves of many plates as :func:`fit_four_pl` fits each (its result or its error), with
    one :func:`fit_four_pl_many` over all of them."""
    if not plates:
        return []
    width = max(s.x.size for s in plates)
    x, y, sigma = np.ones((len(plates), width)), np.zeros((len(plates), width)), \
        np.full((len(plates), width), np.inf)
    for k, s in enumerate(plates):
        x[k, :s.x.size], y[k, :s.x.size], sigma[k, :s.x.size] = s.x, s.y, s.sigma
    theta, converged = fit_four_pl_many(x, y, sigma, np.array([_start(s.x, s.y) for s in plates]))
    curves: list[CurveFit | PlateFitError] = []
    for k, s in enumerate(plates):
        try:
            curves.append(_accepted(s.x, s.y, theta[k], converged[k])
                          or _minpack_fit(s.x, s.y, s.sigma))
        except PlateFitError as err:
            curves.append(err)
    return curves


def meets_recovery(nominal: ArrayLike, recovery: ArrayLike) -> np.ndarray:
    """Which standard levels meet recovery: non-zero nominal, recovery within
    :data:`RECOVERY_RANGE` (inclusive; NaN fails)."""
    nominal, recovery = np.asarray(nominal, dtype=float), np.asarray(recovery, dtype=float)
    return (nominal > 0) & (recovery >= RECOVERY_RANGE[0]) & (recovery <= RECOVERY_RANGE[1])


def quantifiable_range(nominal: ArrayLike, recovery: ArrayLike) -> tuple[float, float]:
    """(LLOQ, ULOQ): the lowest and highest nominal concentration among the standard levels that
    :func:`meets_recovery` (NaN, NaN if none does). A failing level between them stays inside."""
    used = np.asarray(nominal, dtype=float)[meets_recovery(nominal, recovery)]
    return (float(used.min()), float(used.max())) if used.size else (np.nan, np.nan)


def fit_plate(plate: pd.DataFrame, *, weighting: Weighting = DEFAULT_WEIGHTING,
              blank_correction: bool = True) -> PlateFit:
    """Fit one plate's standard curve (the wells of :func:`tidy_wells` for one plate_id).

    Blank correction subtracts the mean OD of the blank wells from every well; the 4PL is fitted
    to every standard well (:func:`fit_four_pl`, weights from :func:`standard_sigma`); the
    standards' recovery sets LLOQ and ULOQ. Because the 4PL's asymptotes are free and the weights
    use the raw OD, subtracting the blank shifts ``a`` and ``d`` by the blank and leaves every
    back-calculated concentration unchanged; it makes ``a`` of a sandwich plate read as the
    specific signal at zero concentration, and the blank OD is reported for QC. Raises :class:`~mbpm.errors.PlateFitError` naming
    the plate and the reason when the plate is unusable (module docstring).
    """
    plate_id, analyte = str(plate["plate_id"].iloc[0]), str(plate["analyte"].iloc[0])
    try:
        return _fit_plate(plate_id, analyte, plate["role"].to_numpy(object),
                          plate["concentration"].to_numpy(float), plate["od"].to_numpy(float),
                          weighting, blank_correction)
    except _Unusable as err:
        raise _plate_error(plate_id, analyte, err) from err


def _plate_error(plate_id: str, analyte: str, reason: Exception) -> PlateFitError:
    return PlateFitError(f"plate {plate_id} ({analyte}): {reason}")


@dataclass
class AssayResult:
    """Everything :func:`quantify` computed, as tidy tables.

    * ``samples``: one row per sample and plate, :data:`BIOMARKER_COLUMNS` first (concentration
      in :data:`UNITS`, dilution applied, duplicates averaged; for ``below_lloq``/``above_uloq``
      the limit x dilution, never an extrapolation), then ``dilution``, ``n_wells``, ``od_mean``
      (blank-corrected), ``cv`` (%), ``lloq`` and ``uloq`` (the plate's limits x dilution).
    * ``standards``: per plate and standard level: ``nominal``, ``n_wells``, ``od_mean``
      (blank-corrected), ``back_calculated``, ``recovery`` (%), ``cv`` (%), ``used`` (meets
      recovery), ``flag`` (``poor_recovery`` or empty; a zero standard has no recovery).
    * ``plates``: per plate: ``analyte``, ``unit``, ``a``, ``b``, ``c``, ``d``, ``r2``, ``rse``,
      ``blank``, ``lloq``, ``uloq``, ``n_levels``, ``n_used`` and ``failure`` (empty when fitted;
      the other columns NaN when not).
    * ``wells``: every standard and sample well of the fitted plates with ``nominal``
      (standards), ``od``, ``od_corrected``, its in-well ``curve_concentration`` and
      ``concentration`` (x dilution), for the charts.
    * ``failures``: one :class:`~mbpm.errors.PlateFitError` per plate that could not be used.
    """

    samples: pd.DataFrame
    standards: pd.DataFrame
    plates: pd.DataFrame
    wells: pd.DataFrame
    failures: list[PlateFitError] = field(default_factory=list)

    def biomarkers(self) -> pd.DataFrame:
        """The ``biomarkers.csv`` table: the :data:`BIOMARKER_COLUMNS` of ``samples``."""
        return self.samples.loc[:, list(BIOMARKER_COLUMNS)]

    def raise_failures(self) -> None:
        """Raise one PlateFitError listing every failed plate, if any failed."""
        if self.failures:
            raise PlateFitError("; ".join(str(err) for err in self.failures))


_PLATE_COLUMNS = ["plate_id", "analyte", "unit", "a", "b", "c", "d", "r2", "rse", "blank",
                  "lloq", "uloq", "n_levels", "n_used", "failure"]
_SAMPLE_EXTRA = ["dilution", "n_wells", "od_mean", "cv", "lloq", "uloq"]
_STANDARD_COLUMNS = ["plate_id", "analyte", "nominal", "n_wells", "od_mean", "back_calculated",
                     "recovery", "cv", "used", "flag"]


class _Fitted(NamedTuple):
    """A fitted plate inside :func:`quantify`: its standards, curve, standards table and limits."""

    standards: _Standards
    curve: CurveFit
    table: dict[str, np.ndarray]
    lloq: float
    uloq: float


def _plate_row(plate_id: str, analyte: str, n_levels: int, fit: _Fitted | None,
               failure: str = "") -> dict:
    """A row of :attr:`AssayResult.plates`; ``n_levels``: the plate's distinct non-zero
    standard concentrations (:func:`_level_counts`)."""
    row = {"plate_id": plate_id, "analyte": analyte, "unit": UNITS[analyte], "n_levels": n_levels}
    if fit is None:
        return row | {"n_used": 0, "failure": failure}
    curve = fit.curve
    return row | {"a": curve.a, "b": curve.b, "c": curve.c, "d": curve.d, "r2": curve.r2,
                  "rse": curve.rse, "blank": fit.standards.blank, "lloq": fit.lloq,
                  "uloq": fit.uloq, "n_used": int(fit.table["used"].sum()), "failure": ""}


def quantify(wells: pd.DataFrame, *, weighting: Weighting = DEFAULT_WEIGHTING,
             blank_correction: bool = True) -> AssayResult:
    """Concentrations and QC for every plate in ``wells`` (the output of :func:`tidy_wells`).

    Each plate is fitted as in :func:`fit_plate`; a plate that fails is recorded in ``failures``
    and ``plates.failure`` and contributes no samples, while the other plates still report.
    ``weighting`` and ``blank_correction`` exist to reproduce published fits (e.g. unweighted,
    no blank); the study uses the defaults. The checks per plate are on NumPy arrays, the
    curves of all plates are fitted together (:func:`_fit_many`), and the wells are
    back-calculated at once, so the cost grows linearly with the number of plates.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    codes, plate_ids = pd.factorize(wells["plate_id"], sort=True)
    role, analytes = wells["role"].to_numpy(object), wells["analyte"].to_numpy(object)
    nominal, od = wells["concentration"].to_numpy(float), wells["od"].to_numpy(float)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(plate_ids) + 1))
    rows_of = [order[bounds[k]:bounds[k + 1]] for k in range(len(plate_ids))]
    analyte_of = [str(analytes[rows[0]]) for rows in rows_of]
    outcome: dict[int, _Fitted | _Unusable] = {}
    ready: list[tuple[int, _Standards]] = []
    saturated = (wells["saturated"] if "saturated" in wells else pd.Series("", index=wells.index)).to_numpy(object)
    for code, plate_id in enumerate(plate_ids):
        rows = rows_of[code]
        try:
            _unsaturated_curve(wells, rows, role, saturated)
            ready.append((code, _prepare(str(plate_id), analyte_of[code], role[rows], nominal[rows],
                                         od[rows], weighting, blank_correction)))
        except _Unusable as err:
            outcome[code] = err
    for (code, s), curve in zip(ready, _fit_many([s for _, s in ready])):
        try:
            if isinstance(curve, PlateFitError):
                raise _Unusable(str(curve))
            outcome[code] = _Fitted(s, curve, *_recovery(s, curve))
        except _Unusable as err:
            outcome[code] = err
    return _assay_result(wells, codes, plate_ids, rows_of, analyte_of, outcome)


def _unsaturated_curve(wells: pd.DataFrame, rows: np.ndarray, role: np.ndarray,
                       saturated: np.ndarray) -> None:
    """Raise :class:`_Unusable` when a standard or blank well of a plate is saturated: the curve
    (or the blank it is corrected by) would rest on a reading the reader could not make."""
    hit = rows[(saturated[rows] != "") & (role[rows] != "sample")]
    if hit.size:
        i = hit[0]
        raise _Unusable(f"{role[i]} well {wells['well'].iloc[i]} is saturated (beyond the plate "
                        f"reader's range, {saturated[i]}), so the standard curve cannot be fitted")


def _assay_result(wells: pd.DataFrame, codes: np.ndarray, plate_ids: pd.Index,
                  rows_of: list[np.ndarray], analyte_of: list[str],
                  outcome: dict[int, _Fitted | _Unusable]) -> AssayResult:
    """Assemble :class:`AssayResult` from each plate's fit or failure (plates in ``plate_ids``
    order); every well of a fitted plate is back-calculated through its plate's curve."""
    nominal, od = wells["concentration"].to_numpy(float), wells["od"].to_numpy(float)
    per_plate = np.full((len(plate_ids), 7), np.nan)  # blank, a, b, c, d, lloq, uloq
    failures, plate_rows, tables = [], [], []
    n_levels = _level_counts(codes, nominal, len(plate_ids)).tolist()
    for code, plate_id in enumerate(plate_ids):
        result = outcome[code]
        if isinstance(result, _Unusable):
            failures.append(_plate_error(str(plate_id), analyte_of[code], result))
            plate_rows.append(_plate_row(str(plate_id), analyte_of[code], n_levels[code], None,
                                         str(result)))
            continue
        c = result.curve
        per_plate[code] = (result.standards.blank, c.a, c.b, c.c, c.d, result.lloq, result.uloq)
        tables.append(result.table)
        plate_rows.append(_plate_row(str(plate_id), analyte_of[code], n_levels[code], result))
    standards = pd.DataFrame({k: np.concatenate([t[k] for t in tables]) for k in tables[0]}) \
        if tables else pd.DataFrame(columns=_STANDARD_COLUMNS)
    return _assay_tables(wells, codes, per_plate, pd.DataFrame(plate_rows, columns=_PLATE_COLUMNS),
                         standards, failures)


def _assay_tables(wells: pd.DataFrame, codes: np.ndarray, per_plate: np.ndarray,
                  plates: pd.DataFrame, standards: pd.DataFrame,
                  failures: list[PlateFitError]) -> AssayResult:
    """:class:`AssayResult` from the plates' tables and ``per_plate`` (plates x (blank, a, b,
    c, d, lloq, uloq), NaN for a failed plate): every well of a fitted plate is back-calculated
    through its plate's curve, and the samples are averaged (:func:`_samples_table`)."""
    od = wells["od"].to_numpy(float)
    blank, a, b, c, d, lloq, uloq = per_plate[codes].T
    od_corrected = od - blank
    in_well = back_calculate(od_corrected, a, b, c, d)  # NaN for the wells of failed plates
    role = wells["role"].to_numpy(object)
    measured = wells.rename(columns={"concentration": "nominal"}).assign(
        od_corrected=od_corrected, curve_concentration=in_well,
        concentration=in_well * wells["dilution"].to_numpy(float), lloq=lloq, uloq=uloq)
    measured = measured.loc[~np.isnan(lloq) & (role != "blank")].reset_index(drop=True)
    sample = (role == "sample")[~np.isnan(lloq) & (role != "blank")]
    return AssayResult(samples=_samples_table(measured.loc[sample]),
                       standards=standards, plates=plates,
                       wells=measured.drop(columns=["lloq", "uloq"]), failures=failures)


def _level_counts(codes: np.ndarray, nominal: np.ndarray, n: int) -> np.ndarray:
    """Distinct non-zero concentrations of each of ``n`` plates (``codes``: each well's plate)."""
    positive = nominal > 0
    level, distinct = pd.factorize(nominal[positive])
    pairs = pd.unique(codes[positive].astype(np.int64) * max(len(distinct), 1) + level)
    return np.bincount(pairs // max(len(distinct), 1), minlength=n)


def _sample_groups(wells: pd.DataFrame) -> np.ndarray:
    """``wells.groupby(["plate_id", "participant_id", "visit"], sort=False).ngroup()``: the
    samples numbered in order of first appearance, from integer codes; the groupby itself
    when a key is missing (its NaN groups)."""
    codes = [factorize(wells[k])[0] for k in ("plate_id", "participant_id", "visit")]
    if any((c < 0).any() for c in codes):  # a missing key
        return wells.groupby(["plate_id", "participant_id", "visit"], sort=False).ngroup().to_numpy()
    return pd.factorize(key_codes(*codes))[0]


def _sorted_rows(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The row order of ``table.sort_values(columns)`` when the columns' values are unique
    together (then any correct sort gives it): each column's codes in sorted order, lexsorted."""
    keys = [factorize(table[c], sort=True)[0] for c in reversed(columns)]
    return np.lexsort(keys)


def _mapped(cells: pd.Series, mapping: Mapping[str, Any]) -> pd.Series:
    """``cells.map(mapping)``, mapping each distinct cell once (the pandas map when a cell is
    missing)."""
    codes, distinct = factorize(cells)
    if (codes < 0).any():
        return cells.map(mapping)
    return pd.Series(pd.Series(distinct).map(mapping).array.take(codes), index=cells.index,
                     name=cells.name)


def _samples_table(wells: pd.DataFrame) -> pd.DataFrame:
    """Average each sample's wells and apply the limits and the CV rule (module docstring)."""
    if wells.empty:
        return pd.DataFrame(columns=[*BIOMARKER_COLUMNS, *_SAMPLE_EXTRA])
    group = _sample_groups(wells)
    n_wells, mean, cv = _group_stats(group, wells["concentration"].to_numpy(float))
    _, od_mean, _ = _group_stats(group, wells["od_corrected"].to_numpy(float))
    first = np.unique(group, return_index=True)[1]  # ngroup numbers groups by first appearance
    table = wells.iloc[first].reset_index(drop=True)
    lloq = table["lloq"].to_numpy(float) * table["dilution"].to_numpy(float)
    uloq = table["uloq"].to_numpy(float) * table["dilution"].to_numpy(float)
    low_side, high_side = saturated_sides(wells, group)
    below, above = (mean < lloq) | low_side, (mean > uloq) | high_side
    table = table.assign(
        concentration=np.select([below, above], [lloq, uloq], mean),
        unit=_mapped(table["analyte"], UNITS),
        flag=np.select([below, above, cv > MAX_CV], ["below_lloq", "above_uloq", "high_cv"], ""),
        n_wells=n_wells, od_mean=od_mean, cv=cv, lloq=lloq, uloq=uloq,
        _order=_mapped(table["analyte"], {name: i for i, name in enumerate(ANALYTES)}))
    table = table.loc[~(low_side & high_side)]  # saturated on both sides: no result
    order = ["_order", "participant_id", "visit", "plate_id"]  # one row per sample and plate
    if table[order].isna().any().any():
        table = table.sort_values(order)
    else:
        table = table.iloc[_sorted_rows(table, order)]
    return table.loc[:, [*BIOMARKER_COLUMNS, *_SAMPLE_EXTRA]].reset_index(drop=True)


def saturation_side(analyte: str, saturated: str) -> str:
    """Where a sample with a saturated well lies: ``below_lloq`` or ``above_uloq``.

    A sandwich assay's signal rises with the concentration, so a signal above the reader's range
    (``high``) is a concentration above the curve; a competitive assay's signal falls, so the
    same reading is a concentration below it; ``low`` is the opposite.

    >>> saturation_side("il6", "high"), saturation_side("oxytocin", "high")
    ('above_uloq', 'below_lloq')
    """
    rises = analyte not in COMPETITIVE
    return "above_uloq" if (saturated == "high") == rises else "below_lloq"


def saturated_sides(wells: pd.DataFrame, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample group (``group`` numbers the wells' samples): does a saturated well put it
    below the LLOQ, above the ULOQ (:func:`saturation_side`)? Both: the wells contradict."""
    n = int(group.max()) + 1 if group.size else 0
    if "saturated" not in wells:
        return np.zeros(n, bool), np.zeros(n, bool)
    saturated = wells["saturated"].to_numpy(object)
    hit = np.flatnonzero(saturated != "")
    side = np.full(len(saturated), "", dtype=object)
    side[hit] = [saturation_side(a, s) for a, s in
                 zip(wells["analyte"].to_numpy(object)[hit], saturated[hit])]
    return (np.bincount(group, weights=side == "below_lloq", minlength=n) > 0,
            np.bincount(group, weights=side == "above_uloq", minlength=n) > 0)


#: The flags of a run that gives only a bound (the value is at the limit, not measured).
CENSORED = ("below_lloq", "above_uloq")


def combine_runs(samples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per sample (participant, visit, analyte) from :attr:`AssayResult.samples`.

    A sample assayed on more than one plate (a re-assay, routine in a lab) gives one result:

    1. Runs whose value was measured (flag empty or ``high_cv``) are used, censored runs
       (``below_lloq``, ``above_uloq``: only a bound) are not; a re-assay is usually made at
       another dilution to bring the sample into range, and then the measured run is the result.
    2. The used runs' concentrations are averaged (arithmetic mean, the rule for duplicate wells
       on one plate): without run dates neither run has a better claim, and the mean of two
       measurements of one sample has the smaller error. The flag is ``high_cv`` if a used run
       had it.
    3. When every run is censored on the same side, the tightest bound is kept: the smallest
       limit for ``below_lloq``, the largest for ``above_uloq``. Runs censored on opposite sides
       contradict each other and the sample is dropped.

    ``plate_id`` names the plates used, joined by ``+``; ``n_wells`` is the wells of the used runs;
    the other columns are the first used run's. Returns the combined table (same columns and
    order as ``samples``) and one row per re-assayed sample: ``analyte``, ``participant_id``,
    ``visit``, ``plates`` (all its plates, ``+``-joined), ``outcome`` (``averaged``,
    ``bound kept`` or ``dropped: runs contradict``).

    Example: runs 10 and 14 pg/mL (both measured) give 12; runs ``below_lloq`` (limit 5) and
    8 pg/mL give 8.
    """
    keys = ["analyte", "participant_id", "visit"]
    repeated = samples.duplicated(keys, keep=False).to_numpy()
    log = pd.DataFrame(columns=[*keys, "plates", "outcome"])
    if not repeated.any():
        return samples, log
    rows, notes = [], []
    for key, runs in samples.loc[repeated].groupby(keys, sort=False):
        plates = "+".join(runs["plate_id"].astype(str))
        measured = runs[~runs["flag"].isin(CENSORED)]
        if len(measured):
            row = measured.iloc[0].copy()
            row["concentration"] = float(measured["concentration"].mean())
            row["flag"] = "high_cv" if (measured["flag"] == "high_cv").any() else ""
            used, outcome = measured, "averaged"
        elif runs["flag"].nunique() == 1:
            below = runs["flag"].iloc[0] == "below_lloq"
            used = runs.loc[[runs["concentration"].idxmin() if below else runs["concentration"].idxmax()]]
            row, outcome = used.iloc[0].copy(), "bound kept"
        else:
            notes.append((*key, plates, "dropped: runs contradict"))
            continue
        row["plate_id"] = "+".join(used["plate_id"].astype(str))
        row["n_wells"] = int(used["n_wells"].sum())
        rows.append(row)
        notes.append((*key, plates, outcome))
    combined = pd.concat([samples.loc[~repeated], pd.DataFrame(rows, columns=samples.columns)])
    combined = combined.astype(samples.dtypes.to_dict())
    order = combined["analyte"].map({name: i for i, name in enumerate(ANALYTES)})
    combined = combined.assign(_order=order).sort_values(["_order", "participant_id", "visit"])
    return combined.drop(columns="_order").reset_index(drop=True), pd.DataFrame(notes, columns=log.columns)


# ---------------------------------------------------------------------------------------------
# For the analysis and the book


def censor(biomarkers: pd.DataFrame, below_lloq: BelowLloq = BELOW_LLOQ) -> pd.DataFrame:
    """The value an analysis uses for samples flagged ``below_lloq``.

    ``biomarkers`` holds the LLOQ (x dilution) as the concentration of those rows (see
    :class:`AssayResult`). ``half_lloq`` (default, :data:`BELOW_LLOQ`): LLOQ / 2; ``lloq``: the
    limit itself; ``missing``: NaN. Other rows, including ``above_uloq`` (reported at the ULOQ, a
    lower bound), are unchanged. Returns a new frame.
    """
    if below_lloq not in BELOW_LLOQ_OPTIONS:
        raise ValueError(f"below_lloq must be one of {BELOW_LLOQ_OPTIONS}, got {below_lloq!r}")
    factor = {"half_lloq": 0.5, "lloq": 1.0, "missing": np.nan}[below_lloq]
    is_below = biomarkers["flag"] == "below_lloq"
    concentration = biomarkers["concentration"].where(~is_below,
                                                      biomarkers["concentration"] * factor)
    return biomarkers.assign(concentration=concentration)


def qc_table(result: AssayResult) -> pd.DataFrame:
    """One row per plate: standards meeting recovery, their recovery range, CVs, range, failure.

    Columns: ``plate_id``, ``analyte``, ``unit``, ``levels_used`` (e.g. ``6/7``),
    ``recovery_min``/``recovery_max`` (% over the levels used), ``standard_cv_max`` (%),
    ``sample_cv_median`` (%), ``n_samples``, ``n_high_cv``, ``lloq``, ``uloq``, ``r2``,
    ``failure``.
    """
    used = result.standards.loc[result.standards["used"]]
    standards = used.groupby("plate_id").agg(recovery_min=("recovery", "min"),
                                             recovery_max=("recovery", "max"),
                                             standard_cv_max=("cv", "max"))
    samples = result.samples.groupby("plate_id").agg(
        sample_cv_median=("cv", "median"), n_samples=("flag", "size"),
        n_high_cv=("flag", lambda flags: int((flags == "high_cv").sum())))
    table = result.plates.join(standards, on="plate_id").join(samples, on="plate_id")
    table = table.assign(levels_used=table["n_used"].astype(str) + "/"
                         + table["n_levels"].astype(str),
                         n_samples=table["n_samples"].fillna(0).astype(int),
                         n_high_cv=table["n_high_cv"].fillna(0).astype(int))
    return table.loc[:, ["plate_id", "analyte", "unit", "levels_used", "recovery_min",
                         "recovery_max", "standard_cv_max", "sample_cv_median", "n_samples",
                         "n_high_cv", "lloq", "uloq", "r2", "failure"]]


def limits_table(result: AssayResult) -> pd.DataFrame:
    """Samples per analyte and visit: ``n`` and how many are ``below_lloq``, ``above_uloq``,
    ``high_cv`` (every analyte with samples, in :data:`ANALYTES` order)."""
    samples = result.samples
    counts = pd.crosstab([samples["analyte"], samples["visit"]], samples["flag"])
    counts = counts.reindex(columns=["below_lloq", "above_uloq", "high_cv"], fill_value=0)
    table = counts.assign(n=samples.groupby(["analyte", "visit"]).size()).reset_index()
    order = table["analyte"].map({name: i for i, name in enumerate(ANALYTES)})
    table = table.assign(_order=order).sort_values(["_order", "visit"]).drop(columns="_order")
    return table.loc[:, ["analyte", "visit", "n", "below_lloq", "above_uloq", "high_cv"]] \
        .reset_index(drop=True).rename_axis(columns=None)


def curve_chart_data(result: AssayResult, points: int = 80) -> pd.DataFrame:
    """Long table for the standard-curve small multiples (:func:`mbpm.figures.plate_curves`).

    Columns ``plate_id``, ``panel`` (plate, analyte and unit), ``kind`` (``standard`` wells,
    fitted ``curve``, ``sample`` wells at their in-well concentration, ``LLOQ``/``ULOQ``),
    ``concentration`` (in-well, > 0 and finite) and ``od`` (blank-corrected). Fitted plates only;
    the curve spans the plate's drawn wells and limits, a factor 2 beyond either end.
    """
    fitted = result.plates.loc[result.plates["failure"] == ""]
    panels = fitted["plate_id"] + " · " + fitted["analyte"].map(ANALYTE_LABELS) + " (" \
        + fitted["unit"] + ")"
    panel_of = dict(zip(fitted["plate_id"], panels))
    wells = result.wells
    pieces = [wells.assign(kind=wells["role"], concentration=np.where(
        wells["role"] == "standard", wells["nominal"], wells["curve_concentration"]))
        .loc[:, ["plate_id", "kind", "concentration", "od_corrected"]]
        .rename(columns={"od_corrected": "od"})]
    drawn = pieces[0].loc[(pieces[0]["concentration"] > 0)
                          & np.isfinite(pieces[0]["concentration"])]
    extent = drawn.groupby("plate_id")["concentration"].agg(["min", "max"])
    for plate in fitted.itertuples():
        low, high = extent.loc[plate.plate_id] if plate.plate_id in extent.index else (
            plate.lloq, plate.uloq)
        grid = np.geomspace(min(low, plate.lloq) / 2, max(high, plate.uloq) * 2, points)
        pieces.append(pd.DataFrame({"plate_id": plate.plate_id, "kind": "curve",
                                    "concentration": grid,
                                    "od": four_pl(grid, plate.a, plate.b, plate.c, plate.d)}))
        pieces.append(pd.DataFrame({"plate_id": plate.plate_id, "kind": ["LLOQ", "ULOQ"],
                                    "concentration": [plate.lloq, plate.uloq], "od": np.nan}))
    data = pd.concat(pieces, ignore_index=True)
    keep = (data["concentration"] > 0) & np.isfinite(data["concentration"])
    data = data.loc[keep & data["plate_id"].isin(panel_of)]
    return data.assign(panel=data["plate_id"].map(panel_of)).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Many plates at once (the design simulation's batches)


def _levels_of(codes: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (plate, level) pairs, ascending within each plate: their plate codes, their
    levels, and the pair index of each standard well."""
    pairs, index = np.unique(np.column_stack([codes, x]), axis=0, return_inverse=True)
    return pairs[:, 0].astype(int), pairs[:, 1], index.ravel()


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based; ties share the mean of their positions) along the last axis, as
    ``scipy.stats.rankdata(values, axis=-1)`` gives them (a row holding NaN is all NaN), in
    NumPy, so that quantifying plates does not import SciPy. Ranks are whole or half numbers,
    exact in floating point. Example: ``average_ranks(np.array([[3., 1., 3.]]))`` is
    ``[[2.5, 1., 2.5]]``."""
    values = np.asarray(values, dtype=float)
    width = values.shape[-1]
    order = np.argsort(values, axis=-1, kind="mergesort")
    ordered = np.take_along_axis(values, order, axis=-1)
    new = np.ones(values.shape, dtype=bool)  # a tie group starts here (each row starts one)
    new[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    starts = np.flatnonzero(new.ravel())
    counts = np.diff(starts, append=new.size)
    in_order = np.repeat(starts % max(width, 1) + 1 + (counts - 1) / 2, counts).reshape(values.shape)
    ranks = np.empty_like(in_order)
    np.put_along_axis(ranks, order, in_order, axis=-1)
    ranks[np.isnan(values).any(axis=-1)] = np.nan
    return ranks


def _padded(group: np.ndarray, values: np.ndarray, n: int, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (sorted by ``group``) as an (n groups, widest) array padded with ``fill``, and
    each value's column."""
    start = np.searchsorted(group, np.arange(n))
    column = np.arange(group.size) - start[group]
    out = np.full((n, int(column.max()) + 1 if column.size else 1), fill)
    out[group, column] = values
    return out, column


def quantify_many(wells: pd.DataFrame) -> AssayResult:
    """:func:`quantify` with the defaults (relative weights, blank correction) for many plates
    at once: the blank, standard levels, monotone check, weights, starting values, fit
    (:func:`fit_four_pl_many`, one run for all plates) and recovery of every plate in NumPy
    arrays (the starting values by :func:`_starts`, each plate's :func:`_start` to the last bit,
    so that every curve is quantify's). A plate these array steps do not accept outright (no blank, a saturated
    standard or blank, too few levels, |rho| within 1e-9 of the limit or below, no convergence,
    too few levels meeting recovery) goes through :func:`quantify`'s own per-plate steps, so
    its failure and message are exactly quantify's."""
    codes, plate_ids = factorize(wells["plate_id"], sort=True)
    n = len(plate_ids)
    if n == 0:
        return quantify(wells)
    role, analytes = wells["role"].to_numpy(object), wells["analyte"].to_numpy(object)
    nominal, od = wells["concentration"].to_numpy(float), wells["od"].to_numpy(float)
    saturated = (wells["saturated"] if "saturated" in wells else pd.Series("", index=wells.index)).to_numpy(object)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    rows_of = [order[bounds[k]:bounds[k + 1]] for k in range(n)]
    analyte_of = analytes[order[bounds[:-1]]].astype(str).tolist()
    is_std, is_blank = role == "standard", role == "blank"
    odd = np.zeros(n, bool)
    odd[codes[(saturated != "") & (role != "sample")]] = True
    n_blank = np.bincount(codes[is_blank], minlength=n)
    odd |= n_blank == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        blank = np.bincount(codes[is_blank], weights=od[is_blank], minlength=n) / n_blank
    std = np.flatnonzero(is_std)
    std = std[np.argsort(codes[std], kind="stable")]  # plate by plate, wells in file order
    plate_s, x, raw = codes[std], nominal[std], od[std]
    level_plate, levels, level = _levels_of(plate_s, x)
    odd |= np.bincount(level_plate, weights=levels > 0, minlength=n) < MIN_STANDARD_LEVELS
    y = raw - np.where(odd, 0.0, blank)[plate_s]
    count = np.bincount(level, minlength=levels.size)
    od_mean = np.bincount(level, weights=y, minlength=levels.size) / count
    sigma = np.maximum((np.bincount(level, weights=raw, minlength=levels.size) / count)[level],
                       np.finfo(float).tiny)
    means, _ = _padded(level_plate, od_mean, n, np.inf)
    ranks = average_ranks(means)  # the padding (inf) last
    lv, _ = _padded(level_plate, np.ones(levels.size), n, 0.0)
    q = np.where(lv > 0, np.cumsum(lv, axis=1) - 1, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(lv > 0, q - q.sum(1, keepdims=True) / lv.sum(1, keepdims=True), 0.0)
        r = np.where(lv > 0, ranks - (ranks * lv).sum(1, keepdims=True) / lv.sum(1, keepdims=True), 0.0)
        rho = (q * r).sum(1) / np.sqrt((q * q).sum(1) * (r * r).sum(1))
    odd |= ~(np.abs(rho) >= MIN_MONOTONE_RHO + 1e-9)
    px, column = _padded(plate_s, x, n, 1.0)
    py, _ = _padded(plate_s, y, n, 0.0)
    ps, _ = _padded(plate_s, sigma, n, np.inf)
    theta, converged = fit_four_pl_many(px, py, ps, _starts(level_plate, levels, od_mean, n))
    odd |= ~(converged & np.isfinite(theta).all(1) & (theta[:, 0] != theta[:, 3]))
    a, b, c, d = theta[:, 0], np.exp(theta[:, 1]), np.exp(theta[:, 2]), theta[:, 3]
    n_wells, back, cv = _group_stats(level, back_calculate(y, a[plate_s], b[plate_s], c[plate_s],
                                                         d[plate_s]))
    with np.errstate(divide="ignore", invalid="ignore"):
        recovery = np.where(levels > 0, 100.0 * back / levels, np.nan)
    used = meets_recovery(levels, recovery)
    odd |= np.bincount(level_plate, weights=used, minlength=n) < MIN_STANDARD_LEVELS
    fitted = four_pl(px, a[:, None], b[:, None], c[:, None], d[:, None])
    real = np.isfinite(ps)
    ss_res = np.where(real, (py - fitted) ** 2, 0.0).sum(1)
    n_std = real.sum(1)
    ss_tot = np.where(real, (py - (py * real).sum(1, keepdims=True) / n_std[:, None]) ** 2, 0.0).sum(1)
    good = ~odd
    with np.errstate(invalid="ignore", divide="ignore"):
        r2, rse = 1.0 - ss_res / ss_tot, np.sqrt(ss_res / np.maximum(n_std - 4, 1))
    lloq, uloq = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(lloq, level_plate[used], levels[used])
    np.maximum.at(uloq, level_plate[used], levels[used])
    n_used = np.bincount(level_plate[used], minlength=n)
    bulk = good[level_plate]  # the standards table of the plates fitted here, in plate order
    table = {"plate_id": plate_ids[level_plate[bulk]],
             "analyte": np.array(analyte_of, dtype=object)[level_plate[bulk]],
             "nominal": levels[bulk], "n_wells": n_wells[bulk], "od_mean": od_mean[bulk],
             "back_calculated": back[bulk], "recovery": recovery[bulk], "cv": cv[bulk],
             "used": used[bulk], "flag": np.where((levels[bulk] > 0) & ~used[bulk], "poor_recovery", "")}
    per_plate = np.column_stack([blank, a, b, c, d, lloq, uloq])
    per_plate[odd] = np.nan
    fits = np.column_stack([a, b, c, d, r2, rse, blank, lloq, uloq])
    fits[odd] = np.nan
    failure = np.full(n, "", dtype=object)
    failures, tables, owners = [], [table], [level_plate[bulk]]
    prepared: dict[int, _Standards | _Unusable] = {}
    for k in np.flatnonzero(odd):  # quantify's own steps for these plates: checks, then one fit
        rows_k = rows_of[k]
        try:
            _unsaturated_curve(wells, rows_k, role, saturated)
            prepared[k] = _prepare(str(plate_ids[k]), analyte_of[k], role[rows_k], nominal[rows_k],
                                   od[rows_k], DEFAULT_WEIGHTING, True)
        except _Unusable as err:
            prepared[k] = err
    ready = [k for k, s in prepared.items() if isinstance(s, _Standards)]
    curves = dict(zip(ready, _fit_many([prepared[k] for k in ready])))
    for k, s in prepared.items():
        try:
            if isinstance(s, _Unusable):
                raise s
            curve = curves[k]
            if isinstance(curve, PlateFitError):
                raise _Unusable(str(curve))
            table_k, lloq_k, uloq_k = _recovery(s, curve)
        except _Unusable as err:
            failures.append(_plate_error(str(plate_ids[k]), analyte_of[k], err))
            failure[k] = str(err)
            continue
        per_plate[k] = (s.blank, curve.a, curve.b, curve.c, curve.d, lloq_k, uloq_k)
        fits[k] = (curve.a, curve.b, curve.c, curve.d, curve.r2, curve.rse, s.blank, lloq_k, uloq_k)
        n_used[k] = int(table_k["used"].sum())
        tables.append(table_k)
        owners.append(np.full(len(table_k["used"]), k))
    n_used[odd & (failure != "")] = 0
    plates = pd.DataFrame({"plate_id": plate_ids, "analyte": np.array(analyte_of, dtype=object),
                           "unit": np.array([UNITS[x] for x in analyte_of], dtype=object),
                           **dict(zip(["a", "b", "c", "d", "r2", "rse", "blank", "lloq", "uloq"], fits.T)),
                           "n_levels": _level_counts(codes, nominal, n), "n_used": n_used,
                           "failure": failure}, columns=_PLATE_COLUMNS)
    order = np.argsort(np.concatenate(owners), kind="stable")  # plate by plate, as quantify
    standards = pd.DataFrame({key: np.concatenate([t[key] for t in tables])[order]
                              for key in _STANDARD_COLUMNS}) if order.size else \
        pd.DataFrame(columns=_STANDARD_COLUMNS)
    return _assay_tables(wells, codes, per_plate, plates, standards, failures)
