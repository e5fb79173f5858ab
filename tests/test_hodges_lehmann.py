"""Hodges-Lehmann estimates by selection equal the brute-force medians, in linear memory."""

from __future__ import annotations

import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbpm.stats import effects
from mbpm.stats.effects import hodges_lehmann_shift, pseudo_median


def brute_shift(x: list[float], y: list[float]) -> float:
    """The definition: the median of all m x n differences (O(mn) memory)."""
    return float(np.median(np.subtract.outer(np.asarray(x, float), np.asarray(y, float))))


def brute_pseudo_median(d: list[float]) -> float:
    """The definition: the median of the n(n+1)/2 Walsh averages (O(n^2) memory)."""
    d = np.asarray(d, float)
    i, j = np.triu_indices(len(d))
    return float(np.median((d[i] + d[j]) / 2))


# Continuous values, heavy ties (small integers, one decimal) and mixed magnitudes.
values = st.one_of(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=1, max_size=60),
    st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=80),
    st.lists(st.integers(-50, 50).map(lambda v: v / 10), min_size=1, max_size=80),
)


# Each property runs twice: small inputs gathered and partitioned at once (the default), and
# forced through the selection steps (gather only when one entry per row is left).
PATHS = pytest.mark.parametrize("gather", [(effects._GATHER, effects._GATHER_MIN), (1, 1)],
                                ids=["gather", "select"])


@PATHS
@settings(max_examples=300, deadline=None)
@given(x=values, y=values)
def test_shift_equals_brute_force(gather: tuple[int, int], x: list[float], y: list[float]) -> None:
    with mock.patch.multiple(effects, _GATHER=gather[0], _GATHER_MIN=gather[1]):
        assert hodges_lehmann_shift(x, y) == brute_shift(x, y)


@PATHS
@settings(max_examples=300, deadline=None)
@given(d=values)
def test_pseudo_median_equals_brute_force(gather: tuple[int, int], d: list[float]) -> None:
    with mock.patch.multiple(effects, _GATHER=gather[0], _GATHER_MIN=gather[1]):
        assert pseudo_median(d) == brute_pseudo_median(d)


def test_hand_examples_even_and_odd() -> None:
    # differences of [1, 2, 4] - [0, 1]: 1, 0, 2, 1, 4, 3 -> sorted 0 1 1 2 3 4 -> (1 + 2) / 2
    assert hodges_lehmann_shift([1, 2, 4], [0, 1]) == 1.5
    assert hodges_lehmann_shift([1, 2, 4], [0]) == 2.0  # odd count: the middle difference
    # Walsh averages of [1, 2, 6]: 1, 1.5, 3.5, 2, 4, 6 -> (2 + 3.5) / 2
    assert pseudo_median([1, 2, 6]) == 2.75
    assert pseudo_median([1, 2]) == 1.5  # averages 1, 1.5, 2


def test_nan_and_empty_as_numpy() -> None:
    assert np.isnan(hodges_lehmann_shift([1.0, np.nan], [0.0]))
    assert np.isnan(hodges_lehmann_shift([np.inf], [np.inf]))  # inf - inf
    assert hodges_lehmann_shift([np.inf, 1.0, 2.0], [0.0]) == brute_shift([np.inf, 1.0, 2.0], [0.0])
    assert np.isnan(pseudo_median([np.inf, -np.inf, 0.0]))
    assert np.isnan(pseudo_median([]))


@pytest.mark.parametrize("seed", [0, 1])
def test_large_ties_against_brute_force(seed: int) -> None:
    """Sizes where the selection runs many steps (not gathered at once), with and without ties."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=1500), rng.normal(0.3, 2.0, size=901)
    assert hodges_lehmann_shift(x, y) == brute_shift(x, y)
    assert pseudo_median(x) == brute_pseudo_median(x)
    x, y = rng.integers(0, 6, 1600).astype(float), rng.integers(0, 6, 700).astype(float)
    assert hodges_lehmann_shift(x, y) == brute_shift(x, y)
    assert pseudo_median(x) == brute_pseudo_median(x)


def test_memory_is_linear() -> None:
    """4,000 x 3,000 differences would take 96 MB (the old np.subtract.outer); the selection
    needs a few arrays of the samples' length."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=4000), rng.normal(size=3000)
    tracemalloc.start()
    try:
        hodges_lehmann_shift(x, y)
        pseudo_median(x)  # 8 million Walsh averages would be 64 MB
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8e6, peak


@pytest.mark.parametrize("seed", range(5))
def test_boundary_with_any_guess_equals_the_search(seed: int) -> None:
    """effects._boundary takes a proposed answer only where the exact test confirms it: with
    right, off-by-some and random guesses it returns what the plain binary search returns."""
    from mbpm.stats import effects

    rng = np.random.default_rng(seed)
    a = np.sort(rng.integers(0, 6, 40).astype(float))  # ties
    b = np.sort(rng.integers(0, 6, 70).astype(float))
    value = lambda i, j: a[i] + b[j]
    lo = rng.integers(0, 35, len(a))
    hi = lo + rng.integers(0, 36, len(a))
    exact = effects._threshold_guess(b, a, 1.0)
    guesses = (exact, lambda i, p, inc: exact(i, p, inc) + rng.integers(-3, 4, len(i)),
               lambda i, p, inc: rng.integers(0, len(b) + 1, len(i)))
    for pivot in (0.0, 3.0, 4.5, 7.0, 11.0):
        for inclusive in (False, True):
            want = effects._boundary(value, lo, hi, pivot, inclusive)
            for guess in guesses:
                got = effects._boundary(value, lo, hi, pivot, inclusive, guess)
                np.testing.assert_array_equal(got, want)
