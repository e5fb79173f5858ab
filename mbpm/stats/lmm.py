"""REML fit of a linear mixed model with one random intercept per participant, as lme4 + lmerTest
report it, in closed form per participant block (cost linear in the number of observations).

Model: y = X beta + Z b + e, b_i ~ N(0, tau^2) per participant, e ~ N(0, sigma^2). For a
participant with n_i observations V_i = sigma^2 (I + gamma J) with gamma = tau^2 / sigma^2 = theta^2
(theta is lme4's relative Cholesky factor), so with c_i = gamma / (1 + n_i gamma)

    V_i^-1 = (I - c_i J) / sigma^2,    |V_i| = sigma^(2 n_i) (1 + n_i gamma).

Every quantity is then a sum over participants of the row sums s_i = X_i'1 and t_i = 1'y_i,
grouped by cluster size k: M(gamma) = X'X - sum_k c_k A_k (= sigma^2 X'V^-1 X) with
A_k = sum s_i s_i', and Q(gamma) = min_beta (y - X beta)' sigma^2 V^-1 (y - X beta). The REML
deviance (Bates et al. 2015, the REML criterion; lmerTest's ``devfun_vp``) is

    D(theta, sigma) = log|M| + sum_i log(1 + n_i gamma) + Q / sigma^2 + (N - p) log(2 pi sigma^2);

profiled over sigma^2 (sigma^2 = Q / (N - p)) it is a function of gamma alone, minimised here over
gamma >= 0 (a root of its derivative, or the boundary gamma = 0: a singular fit). Then
beta = M^-1 X'Wy (GLS) and cov(beta) = sigma^2 M^-1, lme4's ``vcov``.

Satterthwaite (1946) degrees of freedom for a contrast L, as lmerTest computes them (Kuznetsova
et al. 2017, ``contest1D``): with C = cov(beta) a function of the variance parameters
phi = (theta, sigma), A = 2 H^+ (H the Hessian of D at the estimate, H^+ its Moore-Penrose inverse
over eigenvalues > 1e-8) and g_j = L' (dC / dphi_j) L,

    df = 2 (L'CL)^2 / (g' A g).

lmerTest takes H and dC/dphi by numerical differentiation (numDeriv); here they are analytic.
In a singular fit (theta = 0) dC/dtheta = 0, the model is least squares and df = N - p.

References: Bates D, Maechler M, Bolker B, Walker S. Fitting linear mixed-effects models using
lme4. J Stat Softw 2015;67(1). Kuznetsova A, Brockhoff PB, Christensen RHB. lmerTest package:
tests in linear mixed effects models. J Stat Softw 2017;82(13). Satterthwaite FE. An approximate
distribution of estimates of variance components. Biometrics Bulletin 1946;2(6):110-114.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mbpm.lazy import lazy_module

optimize = lazy_module("scipy.optimize")  # imported at first use (mbpm.lazy)

#: lmerTest's tolerance for a positive eigenvalue of the deviance Hessian (as_lmerModLmerTest).
EIGEN_TOL = 1e-8
#: The profiled criterion is searched on gamma = 0 and this grid before the root is polished.
GAMMA_GRID = np.r_[0.0, np.logspace(-8, 8, 81)]


class FitError(ValueError):
    """The model cannot be fitted to these data (the message says why)."""


@dataclass(frozen=True)
class Blocks:
    """Sufficient statistics by cluster size k (``sizes``): counts m_k, A_k = sum s_i s_i',
    b_k = sum s_i t_i, q_k = sum t_i^2; and X'X, X'y, y'y, N, p."""

    sizes: np.ndarray
    m: np.ndarray
    A: np.ndarray
    b: np.ndarray
    q: np.ndarray
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    n_obs: int
    p: int


@dataclass(frozen=True)
class Fit:
    """A REML fit: fixed effects, their covariance (lme4 ``vcov``), the variance components,
    lme4's theta, the REML criterion (lme4 ``REMLcrit``), the deviance Hessian's inverse
    ``vcov_varpar`` (lmerTest, over (theta, sigma)), the Jacobian of cov(beta) (p x p x 2) and
    whether the fit is singular (tau^2 = 0, on the boundary)."""

    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float
    tau2: float
    theta: float
    reml_criterion: float
    vcov_varpar: np.ndarray
    jacobian: np.ndarray
    singular: bool

    def contrast(self, L: np.ndarray) -> tuple[float, float, float]:
        """Estimate L'beta, its standard error sqrt(L'CL) and its Satterthwaite df."""
        L = np.asarray(L, float)
        var = float(L @ self.cov_beta @ L)
        grad = np.einsum("i,ijk,j->k", L, self.jacobian, L)
        df = 2 * var**2 / (grad @ self.vcov_varpar @ grad)
        return float(L @ self.beta), float(np.sqrt(var)), float(df)


def blocks(y: np.ndarray, X: np.ndarray, cluster: np.ndarray) -> Blocks:
    """Sufficient statistics of (y, X) with participants ``cluster`` (integer codes 0..G-1)."""
    y, X = np.asarray(y, float), np.asarray(X, float)
    codes = np.asarray(cluster)
    G = int(codes.max()) + 1
    n = np.bincount(codes, minlength=G)
    s = np.stack([np.bincount(codes, weights=X[:, j], minlength=G) for j in range(X.shape[1])], 1)
    t = np.bincount(codes, weights=y, minlength=G)
    sizes = np.unique(n[n > 0])
    A = np.stack([s[n == k].T @ s[n == k] for k in sizes])
    b = np.stack([s[n == k].T @ t[n == k] for k in sizes])
    q = np.array([t[n == k] @ t[n == k] for k in sizes])
    m = np.array([(n == k).sum() for k in sizes], float)
    return Blocks(sizes.astype(float), m, A, b, q, X.T @ X, X.T @ y, float(y @ y), len(y),
                  X.shape[1])


def _c(bl: Blocks, gamma: float | np.ndarray, order: int) -> np.ndarray:
    """c_k = gamma / (1 + k gamma) and its first and second derivatives in gamma (shape
    gamma.shape + (K,))."""
    g = np.asarray(gamma, float)[..., None]
    k, u = bl.sizes, 1 + bl.sizes * g
    return (g / u, 1 / u**2, -2 * k / u**3)[order]


def _solve(bl: Blocks, gamma: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M(gamma), beta(gamma) and Q(gamma), for one gamma or an array of them."""
    c = _c(bl, gamma, 0)
    M = bl.xtx - np.einsum("...k,kij->...ij", c, bl.A)
    u = bl.xty - c @ bl.b
    beta = np.linalg.solve(M, u[..., None])[..., 0]
    return M, beta, bl.yty - c @ bl.q - (u * beta).sum(-1)


def profiled_criterion(bl: Blocks, gamma: float | np.ndarray) -> np.ndarray:
    """The REML criterion profiled over sigma^2: log|M| + sum m_k log(1 + k gamma)
    + (N - p) (1 + log(2 pi Q / (N - p))) - lme4's ``REMLcrit`` at theta = sqrt(gamma)."""
    M, _, Q = _solve(bl, gamma)
    dof = bl.n_obs - bl.p
    g = np.asarray(gamma, float)[..., None]
    return (np.linalg.slogdet(M)[1] + np.log1p(bl.sizes * g) @ bl.m
            + dof * (1 + np.log(2 * np.pi * Q / dof)))


def _derivatives(bl: Blocks, gamma: float) -> dict[str, float | np.ndarray]:
    """f = log|M| + sum m_k log(1 + k gamma) and Q with their first two derivatives in gamma,
    and M^-1, M'. Q' = r'W'r (envelope theorem), Q'' = r'W''r - 2 h'M^-1 h with h = X'W'r."""
    M, beta, Q = _solve(bl, gamma)
    Q = float(Q)
    Mi = np.linalg.inv(M)
    c1, c2 = _c(bl, gamma, 1), _c(bl, gamma, 2)
    M1 = -np.einsum("k,kij->ij", c1, bl.A)
    M2 = -np.einsum("k,kij->ij", c2, bl.A)
    # sum over participants of size k of (1'r_i)^2, with 1'r_i = t_i - s_i'beta
    e = bl.q - 2 * bl.b @ beta + np.einsum("i,kij,j->k", beta, bl.A, beta)
    h = -c1 @ (bl.b - bl.A @ beta)
    k, u = bl.sizes, 1 + bl.sizes * gamma
    MiM1 = Mi @ M1
    return {"M_inv": Mi, "M1": M1, "beta": beta, "Q": Q,
            "f1": float(np.trace(MiM1) + bl.m @ (k / u)),
            "f2": float(np.trace(Mi @ M2) - np.trace(MiM1 @ MiM1) - bl.m @ (k**2 / u**2)),
            "Q1": float(-c1 @ e), "Q2": float(-c2 @ e - 2 * h @ Mi @ h)}


def _profiled_slope(bl: Blocks, gamma: float) -> float:
    """d/dgamma of :func:`profiled_criterion`: f' + (N - p) Q'/Q."""
    d = _derivatives(bl, gamma)
    return d["f1"] + (bl.n_obs - bl.p) * d["Q1"] / d["Q"]


def reml_gamma(bl: Blocks) -> float:
    """The REML estimate of gamma = tau^2 / sigma^2 >= 0: the grid's best point, then the root of
    the profiled criterion's slope next to it (Brent), or 0 when the slope at 0 is >= 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        crit = profiled_criterion(bl, GAMMA_GRID)
    i = int(np.nanargmin(crit))
    if i == 0 and _profiled_slope(bl, 0.0) >= 0:
        return 0.0
    if i == len(GAMMA_GRID) - 1:
        raise FitError("the residual variance estimate tends to 0 (the within-participant "
                       "changes are fitted exactly)")
    lo, hi = GAMMA_GRID[max(i - 1, 0)], GAMMA_GRID[i + 1]
    if not _profiled_slope(bl, lo) < 0 < _profiled_slope(bl, hi):
        raise FitError(f"no single minimum of the REML criterion near gamma = {GAMMA_GRID[i]:.3g}")
    return float(optimize.brentq(lambda g: _profiled_slope(bl, g), lo, hi, xtol=1e-300,
                                 rtol=4 * np.finfo(float).eps, maxiter=500))


def _varpar_hessian(bl: Blocks, d: dict, theta: float, sigma: float) -> np.ndarray:
    """Hessian of D(theta, sigma) (lmerTest's ``devfun_vp``), gamma = theta^2, analytic."""
    Q, dof = d["Q"], bl.n_obs - bl.p
    g1 = d["f1"] + d["Q1"] / sigma**2
    g2 = d["f2"] + d["Q2"] / sigma**2
    h_tt = 2 * g1 + 4 * theta**2 * g2
    h_ts = -4 * theta * d["Q1"] / sigma**3
    h_ss = 6 * Q / sigma**4 - 2 * dof / sigma**2
    return np.array([[h_tt, h_ts], [h_ts, h_ss]])


def fit(y: np.ndarray, X: np.ndarray, cluster: np.ndarray) -> Fit:
    """REML fit of ``y ~ X + (1 | cluster)`` (module docstring); column 0 of X is the intercept.

    Raises :class:`FitError` when the model cannot be fitted (too few observations, X not of
    full rank, no cluster with two observations, non-finite values, no residual variation).
    Example (3 people, two visits, X = [1, week8]): ``fit([1, 2, 2, 4, 3, 5], X, [0, 0, 1, 1,
    2, 2])`` with ``X = np.c_[np.ones(6), [0, 1] * 3]`` gives beta = (2, 5/3) (the visit means'
    difference, everyone complete) and df of the week-8 contrast 2 = n - 1.
    """
    y, X = np.asarray(y, float), np.asarray(X, float)
    if not (np.isfinite(y).all() and np.isfinite(X).all()):
        raise FitError("non-finite values")
    n, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise FitError(f"the fixed-effects design is not of full rank ({p} columns)")
    if n <= p:
        raise FitError(f"{n} observations for {p} fixed effects")
    # Centring y leaves every variance parameter and slope unchanged when column 0 is the
    # intercept (it absorbs the mean); it keeps the sums of squares free of cancellation.
    centre = float(y.mean()) if np.all(X[:, 0] == 1) else 0.0
    bl = blocks(y - centre, X, cluster)
    if bl.sizes.max() < 2:
        raise FitError("no participant has two observations: the variances are not separable")
    if not float(_solve(bl, 0.0)[2]) > 1e-20 * max(bl.yty, np.finfo(float).tiny):
        raise FitError("the outcome has no residual variation (constant or fitted exactly)")
    gamma = reml_gamma(bl)
    d = _derivatives(bl, gamma)
    sigma2 = d["Q"] / (n - p)
    theta, sigma = float(np.sqrt(gamma)), float(np.sqrt(sigma2))
    H = _varpar_hessian(bl, d, theta, sigma)
    w, v = np.linalg.eigh(H)
    pos = w > EIGEN_TOL
    vcov_varpar = 2 * (v[:, pos] / w[pos]) @ v[:, pos].T
    Mi = d["M_inv"]
    jac = np.stack([-2 * theta * sigma2 * Mi @ d["M1"] @ Mi, 2 * sigma * Mi], axis=-1)
    beta = d["beta"].copy()
    beta[0] += centre  # column 0 is the intercept
    return Fit(beta, sigma2 * Mi, sigma2, gamma * sigma2, theta,
               float(profiled_criterion(bl, gamma)), vcov_varpar, jac, gamma == 0.0)
