"""The fast replacements of pandas operations that the batched design simulation leans on,
each against the pandas operation it replaces (mbpm.assays.factorize, ...)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mbpm import assays

POOL = np.array(["b", "a", "c", None, np.nan, "d", "a b"], dtype=object)


def _samples(count: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        cells = POOL[rng.integers(0, len(POOL), rng.integers(1, 14))]
        yield cells
    yield np.array([np.nan, np.nan], dtype=object)  # only missing values
    yield np.array(["x"] * 3, dtype=object)  # none missing


@pytest.mark.parametrize("use_na_sentinel", [True, False])
@pytest.mark.parametrize("sort", [False, True])
def test_factorize_equals_pandas_factorize(use_na_sentinel, sort):
    """Codes and distinct values as pd.factorize gives them, for str Series, object Series and
    object arrays, with missing values of several kinds at any position (the missing value's code
    without the sentinel is where it first appears)."""
    for cells in _samples():
        for values in (pd.Series(cells), pd.Series(cells, dtype=object), cells):
            want_codes, want = pd.factorize(values, use_na_sentinel=use_na_sentinel, sort=sort)
            codes, distinct = assays.factorize(values, use_na_sentinel=use_na_sentinel, sort=sort)
            np.testing.assert_array_equal(codes, want_codes)
            assert isinstance(distinct, np.ndarray)
            assert [None if pd.isna(v) else v for v in distinct] == \
                [None if pd.isna(v) else v for v in want]
