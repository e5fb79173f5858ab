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


def test_distinct_per_group_equals_groupby_transform_nunique():
    """Per row, the distinct non-missing values of its group, as pandas' groupby-transform
    nunique gives them (a row without a group: NaN there, 0 here)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        group = rng.integers(-1, 5, n)
        value = rng.integers(-1, 4, n)
        keys = pd.Series(np.where(group >= 0, group, np.nan))
        values = pd.Series(np.where(value >= 0, value, np.nan))
        want = values.groupby(keys).transform("nunique").fillna(0).to_numpy(int)
        np.testing.assert_array_equal(assays.distinct_per_group(group, value), want)
        sparse = np.where(group >= 0, group * 10**12 + 7, -1)  # key codes of several columns
        np.testing.assert_array_equal(assays.distinct_per_group(sparse, value), want)


def test_plate_grids_with_plain_labels_skip_only_what_cannot_fail():
    """mbpm.io._plain_labels lets plates_wells skip stripping and checking the labels only when
    the checks would find nothing; a simulated grid with a wrong label is still refused."""
    from mbpm import io, simulate

    values = np.arange(96, dtype=float).reshape(8, 12) / 100
    plain = simulate.PlateGrid(values)
    assert io._plain_labels(plain)
    rows, columns, _ = io._grid_parts(plain)
    assert io._grid_shape_error("x", rows, columns) is None
    as_frame = pd.DataFrame(values, index=list(io.ROWS), columns=list(io.PLATE_COLUMNS))
    pd.testing.assert_frame_equal(io.plates_wells({"p": plain})[0], io.plates_wells({"p": as_frame})[0])
    for wrong in (simulate.PlateGrid(values, index=tuple("ABCDEFGX")),
                  simulate.PlateGrid(values, columns=("13", *io.PLATE_COLUMNS[1:])),
                  simulate.PlateGrid(values, columns=io.PLATE_COLUMNS[:11])):
        assert not io._plain_labels(wrong)
        assert "p" in io.plates_wells({"p": wrong})[1]


def test_score_all_long_table_equals_the_repeat_and_mask_construction():
    """score_all takes each text column's cells once (a str array, then take) instead of
    converting the repeated cells: the same long table as repeating and masking object arrays,
    on questionnaires with unanswered items (rows with missing scales drop out)."""
    from mbpm import io
    from mbpm.instruments import score_all, scored_scales

    q = io.load_study().questionnaires.copy()
    items = [c for c in q.columns if c not in ("participant_id", "visit")]
    rng = np.random.default_rng(4)
    q.loc[rng.random(len(q)) < 0.3, items[: len(items) // 2]] = np.nan  # whole scales missing
    wide, instruments, scales = scored_scales(q)  # the scorers' output, the input of both
    values = wide.ravel()
    keep = ~np.isnan(values)
    assert 0 < keep.sum() < keep.size
    n = len(scales)
    want = pd.DataFrame({
        "participant_id": pd.array(np.repeat(q["participant_id"].to_numpy(object), n)[keep], dtype="str"),
        "visit": pd.array(np.repeat(q["visit"].to_numpy(object), n)[keep], dtype="str"),
        "instrument": pd.array(np.tile(np.array(instruments, dtype=object), len(q))[keep], dtype="str"),
        "scale": pd.array(np.tile(np.array(scales, dtype=object), len(q))[keep], dtype="str"),
        "value": values[keep]})
    pd.testing.assert_frame_equal(score_all(q), want, check_exact=True)


def _layout_counts_by_pandas(lay: pd.DataFrame) -> tuple[int, int]:
    """The two layout warnings' counts as the pandas operations give them."""
    keys = ["plate_id", "participant_id", "visit"]
    samples = lay.loc[(lay["role"] == "sample") & lay[keys].notna().all(axis=1), keys]
    not_duplicate = int((samples.groupby(keys).size() != 2).sum())
    with_blanks = pd.unique(lay.loc[lay["role"] == "blank", "plate_id"])
    no_blank = int((~pd.Index(pd.unique(lay["plate_id"])).isin(with_blanks)).sum())
    return not_duplicate, no_blank


def test_layout_warnings_count_as_pandas_does():
    """Samples not in duplicate and plates without blanks (mbpm.io._layout_warnings, on integer
    codes) as groupby/isin count them, on the shipped layout with wells dropped, a third well,
    blanks removed and empty keys."""
    from mbpm import io

    lay = io.load_study().layout.reset_index(drop=True)
    plates = pd.unique(lay["plate_id"])
    sample_rows = lay.index[lay["role"] == "sample"]
    changed = pd.concat([lay.drop(index=sample_rows[:3]), lay.loc[sample_rows[10:11]]], ignore_index=True)
    changed = changed.loc[~((changed["role"] == "blank") & changed["plate_id"].isin(plates[:2]))]
    changed = changed.reset_index(drop=True)
    changed.loc[changed.index[changed["role"] == "sample"][20], "visit"] = np.nan
    for frame in (lay, changed):
        report = io.ValidationReport()
        io._layout_warnings(frame, report)
        counts = {message: n for _, message, n in report.warnings}
        not_duplicate, no_blank = _layout_counts_by_pandas(frame)
        assert counts.get("samples not in duplicate on their plate", 0) == not_duplicate
        assert counts.get("plates without blank wells", 0) == no_blank
    assert _layout_counts_by_pandas(changed)[0] >= 3 and _layout_counts_by_pandas(changed)[1] == 2


def _layout_by_plate(draws, ids, visits) -> pd.DataFrame:
    """plate_layout.csv of simulated plates, plate by plate (masks and object arrays)."""
    from mbpm.simulate import _WELLS

    rows = []
    for d in draws:
        u = d.is_std | d.is_blank | d.is_sample
        s = d.row[u]
        rows.append(pd.DataFrame({
            "plate_id": d.plate_id, "analyte": d.analyte, "well": _WELLS[u],
            "role": np.select([d.is_std[u], d.is_blank[u]], ["standard", "blank"], "sample").astype(object),
            "concentration": np.where(d.is_std[u], d.x[u], np.nan),
            "participant_id": np.where(s >= 0, ids[np.maximum(s, 0)], None),
            "visit": np.where(s >= 0, visits[np.maximum(s, 0)], None),
            "dilution": np.where((s >= 0) & (d.dilution != 1), d.dilution, np.nan)}))
    return pd.concat(rows, ignore_index=True)


def test_simulated_layout_columns_equal_the_plate_by_plate_layout():
    """mbpm.simulate._layout_columns (all plates at once, str columns taken from distinct cells)
    gives the layout built plate by plate, and renames and shifts a batch's plates as
    renaming each plate and shifting its sample rows does."""
    from mbpm import design, simulate

    params = design.folder_params()
    c = simulate._cohort(params.values, 5, simulate.arm_sizes(params.values, (6, 5, 4)))
    ids = np.array([f"P{i:03d}" for i in range(1, len(c.person) + 11)], dtype=object)
    visits = np.array(["baseline", "week8"] * (len(ids) // 2 + 1), dtype=object)[: len(ids)]
    got = pd.DataFrame(simulate._layout_columns(c.plates, ids, visits))
    pd.testing.assert_frame_equal(got, _layout_by_plate(c.plates, ids, visits), check_exact=True)
    names = [f"x_{d.plate_id}" for d in c.plates]
    shift = np.arange(len(c.plates)) % 3 * 5
    moved = [d._replace(plate_id=p, row=np.where(d.row >= 0, d.row + k, -1))
             for d, p, k in zip(c.plates, names, shift)]
    pd.testing.assert_frame_equal(pd.DataFrame(simulate._layout_columns(c.plates, ids, visits, names, shift)),
                                  _layout_by_plate(moved, ids, visits), check_exact=True)
