"""Salivary ELISA plates: optical densities to concentrations, with quality control."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


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
