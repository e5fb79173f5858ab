"""The simulated cohort: reproducible, valid, and with the designed structure (loosely)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import spearmanr

from _data_helpers import digests
from mbpm import io, simulate
from mbpm.__main__ import main
from mbpm.cohort import simulation_table

SHIPPED = io.SHIPPED_DATA


@pytest.fixture(scope="module")
def shipped() -> io.ValidTables:
    return io.validate_tables(io.read_tables(SHIPPED))


def test_shipped_data_regenerates_byte_identical(tmp_path: Path) -> None:
    meta = yaml.safe_load((SHIPPED / "SIMULATED").read_text())
    out = tmp_path / "again"
    assert main(["simulate", str(out), "--seed", str(meta["seed"])]) == 0
    assert digests(out) == digests(SHIPPED)  # every file, every byte (incl. simulation.yml)


def test_marker_names_seed_and_version() -> None:
    meta = yaml.safe_load((SHIPPED / "SIMULATED").read_text())
    assert meta["seed"] == 20240253
    assert meta["generator_version"] == simulate.read_params(SHIPPED / "simulation.yml").values["generator_version"]
    assert (meta["n_mbpm"], meta["n_wl"], meta["n_hc"]) == (25, 25, 15)


def test_same_seed_same_tables_other_seed_differs() -> None:
    a, b, c = (simulate.simulate_tables(seed=s) for s in (3, 3, 4))
    pd.testing.assert_frame_equal(a["questionnaires"], b["questionnaires"])
    assert not a["questionnaires"].equals(c["questionnaires"])


@pytest.mark.parametrize("seed,sizes", [(11, (25, 25, 15)), (12, (40, 38, 20)), (13, (3, 2, 1))])
def test_cli_other_seed_and_sizes_validates(tmp_path: Path, seed: int, sizes: tuple[int, int, int]) -> None:
    args = ["simulate", str(tmp_path), "--seed", str(seed), "--n-mbpm", str(sizes[0]),
            "--n-wl", str(sizes[1]), "--n-hc", str(sizes[2])]
    assert main(args) == 0
    valid = io.validate_tables(io.read_tables(tmp_path))
    counts = valid.participants["group"].value_counts()
    assert (counts.get("MBPM", 0), counts.get("WL", 0), counts.get("HC", 0)) == sizes


def test_design_rules(shipped: io.ValidTables) -> None:
    p, q = shipped.participants, shipped.questionnaires
    assert p["age"].between(18, 60).all()
    patients = p[p["group"] != "HC"]
    assert (patients["pain_years"] >= 0.25).all() and p.loc[p["group"] == "HC", "pain_years"].isna().all()
    # Dropouts: patients only, each with a reason, a baseline row and no week-8 row.
    dropped = p[p["completed_week8"] == "no"]
    assert len(dropped) > 0 and dropped["withdrawal_reason"].notna().all()
    visits = q.groupby("participant_id")["visit"].apply(set)
    assert all(visits[i] == {"baseline"} for i in dropped["participant_id"])
    assert all(visits[i] == {"baseline"} for i in p.loc[p["group"] == "HC", "participant_id"])
    completers = p.loc[p["completed_week8"] == "yes", "participant_id"]
    assert all(visits[i] == {"baseline", "week8"} for i in completers)
    # Screening: assessed - excluded = patients enrolled (read with the csv module, not pandas).
    with open(SHIPPED / "screening.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assessed = sum(int(r["count"]) for r in rows if r["stage"] == "assessed")
    excluded = sum(int(r["count"]) for r in rows if r["stage"] == "excluded")
    assert assessed - excluded == len(patients) == 50


def _sum(q: pd.DataFrame, prefix: str, n: int) -> pd.Series:
    return q[[f"{prefix}{i}" for i in range(1, n + 1)]].sum(axis=1, min_count=n)


def test_latent_structure_shows_in_items(shipped: io.ValidTables) -> None:
    """HC below patients on pain items; pain-related scales correlate (structure, not a p-value)."""
    q = shipped.questionnaires.merge(shipped.participants[["participant_id", "group"]])
    base = q[q["visit"] == "baseline"]
    hc = base["group"] == "HC"
    pi = _sum(base, "promis_pi", 4)
    assert pi[hc].mean() < pi[~hc].mean() - 3  # 4 items on 1-5; a 2-SD latent shift is several points
    patients = base[~hc]
    r = _sum(patients, "promis_pi", 4).corr(_sum(patients, "mpq_", 15))
    assert r > 0.2


def _plate_checks(layout: pd.DataFrame, grids: dict[str, pd.DataFrame]) -> tuple[int, set[frozenset]]:
    """Samples whose mean OD lies beyond the lowest standard's mean OD; standard positions."""
    below, positions = 0, set()
    for plate_id, lay in layout.groupby("plate_id"):
        od = {f"{r}{c}": grids[plate_id].loc[r, str(c)] for r in "ABCDEFGH" for c in range(1, 13)}
        lay = lay.assign(od=lay["well"].map(od))
        std = lay[lay["role"] == "standard"]
        positions.add(frozenset(std["well"]))
        by_level = std.groupby("concentration")["od"].mean()
        low, high = by_level.iloc[0], by_level.iloc[-1]  # lowest and highest concentration
        sample = lay[lay["role"] == "sample"].groupby(["participant_id", "visit"])["od"].mean()
        below += int(((sample < low) if high > low else (sample > low)).sum())
    return below, positions


def test_some_samples_below_lowest_standard_and_layouts_vary() -> None:
    tables = simulate.simulate_tables(seed=20240253)
    below, positions = _plate_checks(tables["plate_layout"], tables["plates"])
    assert below > 0
    assert len(positions) > 1  # standards are not always in the same wells


def test_competitive_and_sandwich_directions() -> None:
    """Oxytocin/DHEA-S standards: OD falls with concentration; cytokines: OD rises."""
    tables = simulate.simulate_tables(seed=5)
    lay = tables["plate_layout"]
    for analyte, falls in [("oxytocin", True), ("dheas", True), ("il6", False), ("tnfa", False)]:
        plate = lay[(lay["analyte"] == analyte) & (lay["role"] == "standard")]
        pid = plate["plate_id"].iloc[0]
        plate = plate[plate["plate_id"] == pid]
        od = [tables["plates"][pid].loc[w[0], w[1:]] for w in plate["well"]]
        rho = spearmanr(plate["concentration"], od).statistic
        assert (rho < -0.9) if falls else (rho > 0.9)


def test_every_parameter_has_a_reason_and_source() -> None:
    import yaml

    from mbpm.simulate import DEFAULT_PARAMS

    def parameters(node, prefix=""):
        if isinstance(node, dict) and "value" in node:
            yield prefix, node
        elif isinstance(node, dict):
            for key, child in node.items():
                yield from parameters(child, f"{prefix}.{key}" if prefix else key)

    found = dict(parameters(yaml.safe_load(DEFAULT_PARAMS.read_text(encoding="utf-8"))))
    assert len(found) >= 30
    for name, node in found.items():
        assert len(node.get("reason", "")) > 10, name
        assert len(node.get("source", "")) > 5, name
    shown = simulation_table()["parameter"]
    for name in found:  # each parameter is in the chapter's table (a mapping: one row per entry)
        assert (shown == name).any() or shown.str.startswith(name + ".").any(), name
