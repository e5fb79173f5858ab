"""Chart builders and display tables of the biomarker and oxytocin-pain chapters.

Expected numbers come from closed forms (geometric means of powers of ten, log ratios of doubled
values) or from scipy applied directly to the same values, never from the functions under test.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import vl_convert
from scipy import stats

from mbpm import chart_pdf, figures, tables
from mbpm.stats import describe, within_group_tests

#: The website's text column (issue 14: charts fill it; LaTeX scales them to the PDF text width).
MAX_WIDTH = figures.COLUMN_WIDTH + 40

CATALOGUE = pd.DataFrame(
    {"label": ["Oxytocin", "IL-6", "PCS: Total", "BDI-II: Total"],
     "unit": ["pg/mL", "pg/mL", "", ""]},
    index=pd.Index(["oxytocin", "il6", "pcs.total", "bdi2.total"], name="id"))


def _long(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["participant_id", "group", "visit", "outcome", "value"])


def _markers() -> pd.DataFrame:
    """Three MBPM and three WL completers with oxytocin and IL-6, one WL without week 8, one HC."""
    ot = {"P01": ("MBPM", 1, 2), "P02": ("MBPM", 10, 10), "P03": ("MBPM", 100, 400),
          "P04": ("WL", 4, 2), "P05": ("WL", 8, 8), "P06": ("WL", 16, 64)}
    rows = []
    for pid, (group, base, week8) in ot.items():
        rows += [(pid, group, "baseline", "oxytocin", base), (pid, group, "week8", "oxytocin", week8),
                 (pid, group, "baseline", "il6", 3.0 + base / 10),
                 (pid, group, "week8", "il6", 2.0 + week8 / 7)]
    rows += [("P07", "WL", "baseline", "oxytocin", 32.0), ("P08", "HC", "baseline", "oxytocin", 1e4)]
    return _long(rows)


def _svg_width(chart) -> float:
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return float(re.search(r'<svg[^>]*width="([\d.]+)"', svg).group(1))


# ---------------------------------------------------------------------------------------------
# Trajectories


def test_trajectory_data_geometric_means_and_cis():
    data = figures.trajectory_data(_markers(), "oxytocin")
    means = data.loc[data["kind"] == "geometric mean"].set_index(["group", "visit"])
    # MBPM baseline 1, 10, 100: geometric mean 10 exactly; WL baseline 4, 8, 16, 32 (P07): 11.31
    assert means.at[("MBPM", "Baseline"), "value"] == pytest.approx(10.0)
    assert means.at[("WL", "Baseline"), "value"] == pytest.approx(stats.gmean([4, 8, 16, 32]))
    assert means.at[("WL", "Baseline"), "n"] == 4 and means.at[("WL", "Week 8"), "n"] == 3
    logs = np.log([2, 10, 400])
    half = stats.t.ppf(0.975, 2) * logs.std(ddof=1) / math.sqrt(3)
    assert means.at[("MBPM", "Week 8"), "low"] == pytest.approx(math.exp(logs.mean() - half))
    assert means.at[("MBPM", "Week 8"), "high"] == pytest.approx(math.exp(logs.mean() + half))
    people = data.loc[data["kind"] == "participant"]
    assert set(people["participant_id"]) == {f"P0{i}" for i in range(1, 8)}  # HC P08 left out
    assert set(data["visit"]) == {"Baseline", "Week 8"}


def test_biomarker_trajectories_log_axis_facets_and_width():
    chart = figures.biomarker_trajectories(_markers(), "oxytocin")
    spec = chart.to_dict()
    assert spec["facet"]["column"]["field"] == "group"
    ys = [layer["encoding"]["y"] for layer in spec["spec"]["layer"]
          if "y" in layer.get("encoding", {}) and layer["encoding"]["y"].get("field") == "value"]
    assert ys and all(y["scale"]["type"] == "log" for y in ys)
    assert ys[0]["title"] == "Oxytocin (pg/mL, log scale)"
    assert "Oxytocin" in spec["description"]
    assert _svg_width(chart) <= MAX_WIDTH


def test_biomarker_panels_fit_the_page():
    chart = figures.biomarker_panels(_markers(), ["oxytocin", "il6", "oxytocin"], columns=2)
    spec = chart.to_dict()
    assert [len(row["hconcat"]) for row in spec["vconcat"]] == [2, 1]
    assert spec["vconcat"][0]["hconcat"][1]["title"] == "IL-6 (pg/mL)"
    assert spec["description"].startswith("Oxytocin, IL-6, Oxytocin")
    assert _svg_width(chart) <= MAX_WIDTH


def test_biomarker_panels_are_the_spec_altair_writes():
    """figures.concat builds the small multiples from their blocks' specs; Altair's own
    hconcat/vconcat of the same blocks is the reference (the data of different blocks differ,
    so merged datasets and their order are checked too)."""
    import altair as alt

    long = _markers()
    analytes = ["oxytocin", "il6", "oxytocin"]
    blocks = [figures.biomarker_trajectories(long, a, panel_width=115, panel_height=140,
                                             compact=True) for a in analytes]
    by_altair = alt.vconcat(alt.hconcat(*blocks[:2], spacing=14), alt.hconcat(blocks[2], spacing=14),
                            spacing=12).properties(
        description=figures.biomarker_panels(long, analytes)["description"]).to_dict()
    ours = figures.biomarker_panels(long, analytes, columns=2).to_dict()
    assert len(ours["datasets"]) == 2
    assert (json.dumps(figures.stable_dataset_names(ours), sort_keys=True)
            == json.dumps(figures.stable_dataset_names(by_altair), sort_keys=True))
    alt.renderers.register(figures.RENDERER, figures.render)
    with alt.renderers.enable(figures.RENDERER):  # shown as the book shows a chart
        bundle = figures.biomarker_panels(long, analytes)._repr_mimebundle_()
    assert "vegaEmbed" in bundle["text/html"] and "application/pdf" not in bundle
    assert chart_pdf.to_pdf(bundle[chart_pdf.SPEC_MIME]).startswith(b"%PDF")


def test_concat_takes_only_the_two_directions():
    with pytest.raises(ValueError, match="hconcat"):
        figures.concat("layer", [])


# ---------------------------------------------------------------------------------------------
# Oxytocin change against outcome change


def _interplay_long() -> pd.DataFrame:
    rows = []
    for pid, group, ot, pcs in [("P01", "MBPM", (10, 20), (5, 3)), ("P02", "WL", (8, 4), (4, 6)),
                                ("P03", "MBPM", (6, 6), (7, 7)), ("P04", "WL", (5, None), (3, 1)),
                                ("P05", "HC", (9, None), (2, None))]:
        for visit, o, p in zip(("baseline", "week8"), ot, pcs):
            if o is not None:
                rows.append((pid, group, visit, "oxytocin", float(o)))
            if p is not None:
                rows.append((pid, group, visit, "pcs.total", float(p)))
    return _long(rows)


def test_interplay_data_changes():
    data = figures.interplay_data(_interplay_long(), CATALOGUE, ["pcs.total"]).set_index(
        "participant_id")
    # P04 lacks week-8 oxytocin and P05 is a healthy control: both left out
    assert list(data.index) == ["P01", "P02", "P03"]
    assert data.loc["P01", "x"] == pytest.approx(math.log(2))   # 10 -> 20
    assert data.loc["P02", "x"] == pytest.approx(-math.log(2))  # 8 -> 4
    assert data.loc["P03", "x"] == pytest.approx(0.0)
    assert list(data["y"]) == [-2.0, 2.0, 0.0]  # week 8 - baseline of the PCS total
    assert set(data["label"]) == {"PCS: Total"} and list(data["series"]) == ["MBPM", "WL", "MBPM"]


def test_interplay_scatter_has_mbpm_and_pooled_ols_lines_and_fits():
    long = pd.concat([_interplay_long(), _long([
        ("P01", "MBPM", "baseline", "bdi2.total", 10.0), ("P01", "MBPM", "week8", "bdi2.total", 8.0),
        ("P02", "WL", "baseline", "bdi2.total", 9.0), ("P02", "WL", "week8", "bdi2.total", 9.0),
        ("P03", "MBPM", "baseline", "bdi2.total", 12.0), ("P03", "MBPM", "week8", "bdi2.total", 5.0)])])
    chart = figures.interplay_scatter(long, CATALOGUE, ["pcs.total", "bdi2.total"])
    spec = chart.to_dict()
    text = json.dumps(spec)
    regressions = [t for layer in spec["spec"]["layer"] for t in layer.get("transform", [])
                   if "regression" in t]
    assert len(regressions) == 2 and all(t["method"] == "linear" for t in regressions)
    assert figures.POOLED in text
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert _svg_width(chart) <= MAX_WIDTH


# ---------------------------------------------------------------------------------------------
# Tables


@pytest.mark.parametrize("value, expected", [(45.678, "45.7"), (1234.5, "1234"), (0.012345, "0.0123"),
                                             (5.0, "5.00"), (0.0, "0"), (float("nan"), "")])
def test_biomarker_sig(value, expected):
    # 1234.5 rounds half to even at 0 decimals in Python's formatting: "1234"
    assert tables.biomarker_sig(value) == expected


def test_biomarker_ci_and_p_text():
    nb = "\u00a0"
    assert tables.biomarker_ci(31.234, 22.51, 43.38) == f"31.2 [22.5,{nb}43.4]"
    assert tables.biomarker_ci(-0.001, -0.41, 0.43, 2) == f"0.00 [\u22120.41,{nb}0.43]"
    assert tables.biomarker_ci(float("nan"), 1, 2) == ""
    assert tables.biomarker_p_text(0.0004) == f"p{nb}<{nb}0.001"  # no-break spaces
    assert tables.biomarker_p_text(0.04999) == f"p{nb}={nb}0.050"


def test_biomarker_means_table_against_scipy():
    long = _markers()
    arms = long.loc[long["group"] != "HC"]
    table = tables.biomarker_means_table(
        describe(arms, log_outcomes=["oxytocin", "il6"]),
        within_group_tests(arms, None, log_outcomes=["oxytocin", "il6"]),
        ["oxytocin", "il6"], CATALOGUE)
    assert list(table["Analyte"]) == ["Oxytocin (pg/mL)", "", "IL-6 (pg/mL)", ""]
    assert list(table["Arm"]) == ["MBPM", "WL", "MBPM", "WL"]
    assert table.at[0, "Baseline"].startswith("10.0 [")  # geometric mean of 1, 10, 100
    # MBPM oxytocin log changes ln 2, 0, ln 4: ratio exp(mean) = 2; CI and p from scipy
    d = np.log([2, 1, 4])
    res = stats.ttest_rel(np.log([2, 10, 400]), np.log([1, 10, 100]))
    ci = res.confidence_interval()
    assert table.at[0, "Week 8 / baseline"] == (
        f"2.00 [{math.exp(ci.low):.2f},\u00a0{math.exp(ci.high):.2f}]")
    assert table.at[0, "dz"] == f"{d.mean() / d.std(ddof=1):.2f}"
    assert table.at[0, "Paired t-test"] == tables.apa_report("t", res.statistic, res.pvalue, (2,))
    assert table.at[0, "Paired t-test"].startswith("t(2)\u00a0=\u00a0")
    assert table.at[0, "n paired"] == "3"


def test_biomarker_tests_table_formats_each_analysis():
    def rows(analysis, **cols):
        return pd.DataFrame({"outcome": ["oxytocin", "il6"], "analysis": analysis, **cols})

    anova = rows("mixed ANOVA (completers)", statistic=[4.17, 0.0106], df_num=1.0, df=[44.0, 44.0],
                 p=[0.0473, 0.918], effect_size=[0.0866, 0.00024])
    anc = rows("ANCOVA (completers)", estimate=[1.5, 0.69], ci_low=[1.1, 0.47], ci_high=[2.0, 1.01],
               statistic=[3.9, -1.96], df=43.0, p=[0.0004, 0.056], p_fdr=[0.0012, 0.056],
               n_mbpm=23, n_wl=[23, 22])
    lmm = rows("linear mixed model (REML, Satterthwaite)", estimate=[1.4, 0.71], ci_low=[1.05, 0.49],
               ci_high=[1.9, 1.02], statistic=[3.5, -1.9], df=[44.36, 45.12], p=[0.001, 0.061],
               n=[50, 49])
    table = tables.biomarker_tests_table(anova, anc, lmm, ["il6", "oxytocin"], CATALOGUE)
    nb = "\u00a0"
    assert list(table["Analyte"]) == ["IL-6", "Oxytocin"]
    assert table.at[1, "Interaction"].replace(nb, " ") == "F(1, 44) = 4.17, p = .047"
    assert table.at[0, "Interaction"].replace(nb, " ") == "F(1, 44) = 0.01, p = .918"
    assert list(table["n MBPM/WL (mixed model)"]) == [f"23/22{nb}(49)", f"23/23{nb}(50)"]
    assert table.at[0, "ηp²"] == "0.000" and table.at[1, "ηp²"] == "0.087"
    assert table.at[1, "ANCOVA ratio [95 % CI]"] == f"1.50 [1.10,{nb}2.00]"
    assert table.at[1, "ANCOVA test (FDR p)"].replace(nb, " ") == "t(43) = 3.90, p < .001 (0.001)"
    assert table.at[0, "Mixed model [95 % CI]"] == f"0.71 [0.49,{nb}1.02]"
    assert table.at[0, "Mixed model test"].replace(nb, " ") == "t(45.1) = \u22121.90, p = .061"


def test_biomarker_correlation_table_orders_mbpm_first():
    corr = pd.DataFrame({
        "outcome": ["pcs.total", "bdi2.total", "pcs.total", "bdi2.total"],
        "contrast": ["MBPM+WL (pooled)", "MBPM", "MBPM", "MBPM+WL (pooled)"],
        "n": [46, 23, 23, 46], "estimate": [-0.266, -0.2, -0.134, -0.274],
        "ci_low": [-0.52, -0.57, -0.52, -0.53], "ci_high": [0.03, 0.24, 0.30, 0.02],
        "p": [0.074, 0.36, 0.54, 0.065], "p_fdr": [0.27, 0.56, 0.96, 0.20]})
    corr = corr.assign(analysis="Spearman correlation of change with oxytocin change",
                       statistic=corr["estimate"], df=corr["n"] - 2)
    table = tables.biomarker_correlation_table(corr, CATALOGUE)
    assert list(table["Outcome"]) == ["PCS: Total"] * 2 + ["BDI-II: Total"] * 2
    assert list(table["Patients"]) == ["MBPM", "MBPM+WL, pooled", "MBPM", "MBPM+WL, pooled"]
    assert list(table["n"]) == [23, 46, 23, 46]
    m = "\u2212"
    assert table.at[1, "Spearman ρ(df), 95 % CI, raw p"].replace("\u00a0", " ") == (
        f"ρ(44) = {m}0.27, 95 % CI {m}0.52 to 0.03, p = .074")
    assert list(table["FDR p"]) == ["0.960", "0.270", "0.560", "0.200"]
    assert [c.split("p\u00a0=\u00a0")[1] for c in table["Spearman ρ(df), 95 % CI, raw p"]] == [
        ".540", ".074", ".360", ".065"]
