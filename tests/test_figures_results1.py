"""Display tables, summaries and charts of the baseline and psychological-outcomes chapters.

Expected values come from scipy/numpy computed here on small hand-made data, from the closed forms
of a 2 x 2 design, or from hand arithmetic written next to the assertion.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import vl_convert
from scipy import stats as sps

from mbpm import figures, literal, stats, tables

def _minus(text: str) -> str:
    """Python's formatted numbers with the true minus sign the display tables print."""
    return text.replace("-", "\u2212")


def _p(p: float) -> str:
    """p as the display tables print it: three decimals or "< 0.001", with a no-break space."""
    return "<\u00a00.001" if p < 0.001 else f"{p:.3f}"


# A small catalogue in the shape of mbpm.outcomes.catalogue_frame(): one log biomarker, two pain
# scales (higher = worse), one function scale (higher = better).
CATALOGUE = pd.DataFrame(
    {"label": ["Oxytocin", "Pain: Total (0–10)", "Pain: Sensory", "Function: Score (1–4, note)"],
     "family": ["biomarkers", "pain", "pain", "function and activation"],
     "higher_is": ["neutral", "worse", "worse", "better"],
     "unit": ["pg/mL", "", "", ""], "log": [True, False, False, False]},
    index=pd.Index(["oxy", "pain.total", "pain.sensory", "func.score"], name="id"))
FAMILIES = CATALOGUE["family"].to_dict()


def _long() -> pd.DataFrame:
    """Seeded MBPM/WL (8 each, both visits, one WL dropout at week 8) and HC (6) for 4 outcomes."""
    rng = np.random.default_rng(20240253)
    rows = []
    for i in range(22):
        group = "MBPM" if i < 8 else "WL" if i < 16 else "HC"
        for outcome, centre in (("oxy", 100.0), ("pain.total", 5.0), ("pain.sensory", 12.0),
                                ("func.score", 2.5)):
            for visit in ("baseline", "week8"):
                if group == "HC" and visit == "week8" or (i == 15 and visit == "week8"):
                    continue
                base = centre * (1.3 if group != "HC" else 1.0)
                value = base * np.exp(rng.normal(0, 0.3)) if outcome == "oxy" else (
                    base + rng.normal(0, 1.0) - (0.5 if group == "MBPM" and visit == "week8"
                                                 else 0))
                rows.append((f"P{i:03d}", group, visit, outcome, float(value)))
    return pd.DataFrame(rows, columns=["participant_id", "group", "visit", "outcome", "value"])


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    return _long()


def _values(long, outcome, groups, visit="baseline"):
    sel = long[(long["outcome"] == outcome) & long["group"].isin(groups)
               & (long["visit"] == visit)]
    return sel.set_index("participant_id")["value"]


def _completers(long, outcome, group):
    base, week8 = _values(long, outcome, [group]), _values(long, outcome, [group], "week8")
    both = base.index.intersection(week8.index)
    return base[both].to_numpy(), week8[both].to_numpy()


# --- text helpers --------------------------------------------------------------------------

def test_short_label_cuts_a_parenthetical_remark_at_its_comma():
    assert tables.short_label("PAM-13: Mean item score (1–4, not the 0–100 activation score)") \
        == "PAM-13: Mean item score (1–4)"
    assert tables.short_label("PROMIS-29: Pain intensity (0–10)") == "PROMIS-29: Pain intensity (0–10)"
    assert tables.short_label("FFMQ: Total") == "FFMQ: Total"


def test_estimate_with_ci_formats_and_handles_missing_parts():
    assert tables.estimate_with_ci(1.234, -0.5, 2.9) == "1.23 [\u22120.50,\u00a02.90]"
    assert tables.estimate_with_ci(1.234, np.nan, np.nan) == "1.23"
    assert tables.estimate_with_ci(np.nan, 0.0, 1.0) == ""
    assert tables.estimate_with_ci(10.0, 9.0, 11.0, digits=0) == "10 [9,\u00a011]"
    assert tables.estimate_with_ci(-0.004, -2.1, -0.001) == "0.00 [\u22122.10,\u00a00.00]"


def test_favours_mbpm_sign_follows_the_scale_direction():
    # MBPM - WL = -2 on a scale where higher is worse: MBPM is better, so oriented +2.
    assert -2 * tables.favours_mbpm_sign("worse") == 2
    assert 3 * tables.favours_mbpm_sign("better") == 3
    with pytest.raises(ValueError, match="neutral"):
        tables.favours_mbpm_sign("neutral")


def test_english_list():
    assert tables.english_list([]) == "none"
    assert tables.english_list(["pain"]) == "pain"
    assert tables.english_list(["pain", "mood", "sleep"]) == "pain, mood and sleep"


def test_within_findings_counts_favourable_significant_changes():
    rows = pd.DataFrame({
        "outcome": ["pain.total", "pain.sensory", "func.score", "pain.total", "pain.sensory"],
        "analysis": ["paired t-test"] * 5,
        "contrast": ["MBPM: week8 vs baseline"] * 3 + ["WL: week8 vs baseline"] * 2,
        # MBPM: pain fell (p .01, improved), sensory rose (p .01, worse), function rose (.02)
        "estimate": [-1.0, 2.0, 0.5, -1.0, -1.0], "p": [0.01, 0.01, 0.02, 0.3, 0.04]})
    assert tables.within_findings(rows, CATALOGUE, ("pain",)) == {"MBPM": (1, 2), "WL": (1, 2)}
    assert tables.within_findings(rows, CATALOGUE, ("pain", "function and activation")) == {
        "MBPM": (2, 3), "WL": (1, 2)}


# --- baseline --------------------------------------------------------------------------------

def test_baseline_family_table_matches_scipy(long):
    res = stats.adjust(stats.baseline_comparison(long, FAMILIES, log_outcomes=["oxy"]))
    pain = tables.baseline_family_table(res, "pain", CATALOGUE)
    assert list(pain["Outcome"]) == ["Pain: Total (0–10)", "Pain: Sensory"]  # catalogue order
    assert list(pain.columns) == ["Outcome", "n patients/HC", "Patients − HC [95 % CI]",
                                  "Hedges' g [95 % CI]", "Welch t-test", "p FDR", "Mann-Whitney"]
    x = _values(long, "pain.total", ["MBPM", "WL"]).to_numpy()
    y = _values(long, "pain.total", ["HC"]).to_numpy()
    assert pain.iloc[0, 1] == f"{len(x)}/{len(y)}"
    welch = sps.ttest_ind(x, y, equal_var=False)
    ci = welch.confidence_interval()
    assert pain.iloc[0, 2] == _minus(f"{x.mean() - y.mean():.2f} [{ci.low:.2f},\u00a0{ci.high:.2f}]")
    assert pain.iloc[0, 4] == tables.apa_report("t", welch.statistic, welch.pvalue, (welch.df,))
    assert f"({welch.df:.1f})" in pain.iloc[0, 4]  # Welch df: fractional, one decimal
    mw = sps.mannwhitneyu(x, y)
    assert pain.iloc[0, 6] == tables.apa_report("U", mw.statistic, mw.pvalue, digits=1)
    # Hedges' g: pooled-SD d times 1 - 3/(4(nx+ny)-9)
    sp = np.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1)) / (len(x) + len(y) - 2))
    g = (x.mean() - y.mean()) / sp * (1 - 3 / (4 * (len(x) + len(y)) - 9))
    assert pain.iloc[0, 3].startswith(_minus(f"{g:.2f} ["))
    # BH over the family's two Welch p-values: the larger p keeps its value (p_(2) * 2/2).
    p_sens = sps.ttest_ind(_values(long, "pain.sensory", ["MBPM", "WL"]),
                           _values(long, "pain.sensory", ["HC"]), equal_var=False).pvalue
    assert pain.iloc[:, 5].tolist()[int(p_sens > welch.pvalue)] == _p(
        max(p_sens, welch.pvalue))


def test_baseline_family_table_reports_ratios_for_log_outcomes(long):
    res = stats.adjust(stats.baseline_comparison(long, FAMILIES, log_outcomes=["oxy"]))
    bio = tables.baseline_family_table(res, "biomarkers", CATALOGUE)
    x = np.log(_values(long, "oxy", ["MBPM", "WL"]).to_numpy())
    y = np.log(_values(long, "oxy", ["HC"]).to_numpy())
    assert bio.columns[2] == "Patients / HC [95 % CI]"
    assert bio.iloc[0, 2].startswith(_minus(f"{np.exp(x.mean() - y.mean()):.2f} ["))


def test_baseline_findings_counts_a_hand_made_table():
    rows = pd.DataFrame({
        "outcome": ["oxy", "pain.total", "pain.sensory", "func.score", "pain.total"],
        "analysis": ["Welch t-test"] * 4 + ["Mann-Whitney U"],
        "p_fdr": [0.01, 0.001, 0.2, 0.03, 0.0],
        "effect_size": [0.3, 1.5, 0.4, 2.0, 9.9],  # func.score: higher = better, g > 0: HC worse
        "effect_size_ci_low": [0.0, 1.0, -0.1, 1.2, 0.0],
        "effect_size_ci_high": [0.6, 2.0, 0.9, 2.8, 0.0],
        "statistic": [1.0, 4.0, 1.2, 3.104, 9.0], "df": [30.0, 25.0, 28.0, 20.54, np.nan],
        "p": [0.3, 0.0005, 0.2, 0.0056, 0.0]})
    found = tables.baseline_findings(rows, CATALOGUE)
    assert found == {"n_scales": 3, "n_scales_fdr": 2, "n_scales_fdr_worse": 1,
                     "families_fdr": "“pain” and “function and activation”",
                     "families_none": "none", "n_markers": 1, "n_markers_fdr": 1,
                     "largest_label": "Function: Score (1–4)", "largest_g": 2.0,
                     "largest_g_low": 1.2, "largest_g_high": 2.8,
                     "largest_test": "t(20.5)\u00a0=\u00a03.10, p\u00a0=\u00a0.006"}


# --- MBPM vs WL ------------------------------------------------------------------------------

def test_prepost_means_table_against_numpy(long):
    described = stats.describe(long[long["group"] != "HC"])
    tab = tables.prepost_means_table(described, "pain", CATALOGUE)
    wl8 = _values(long, "pain.total", ["WL"], "week8")  # 7: one WL participant dropped out
    assert len(wl8) == 7
    n = {(g, v): len(_values(long, "pain.total", [g], v)) for g in ("MBPM", "WL")
         for v in ("baseline", "week8")}
    assert [c.replace("\u00a0", " ") for c in tab.columns] == [
        "Outcome", f"MBPM baseline (n = {n['MBPM', 'baseline']})",
        f"MBPM week 8 (n = {n['MBPM', 'week8']})", f"WL baseline (n = {n['WL', 'baseline']})",
        "WL week 8 (n = 7)"]
    assert wl8.std(ddof=1) < 1  # an SD below 1 gets two decimals
    assert tab.iloc[0, 4] == f"{wl8.mean():.2f}\u00a0({wl8.std(ddof=1):.2f})"


def test_prepost_means_table_digits_follow_the_sd():
    described = pd.DataFrame({
        "outcome": ["pain.total"] * 4, "group": ["MBPM", "MBPM", "WL", "WL"],
        "visit": ["baseline", "week8"] * 2, "mean": [12.345, 2.5, 7.0, np.nan],
        "sd": [3.21, 0.456, 1.0, np.nan], "n": [8, 7, 8, 0]})
    tab = tables.prepost_means_table(described, "pain", CATALOGUE)
    assert tab.iloc[0, 1:].tolist() == ["12.3\u00a0(3.2)", "2.50\u00a0(0.46)", "7.0\u00a0(1.0)", ""]


def test_prepost_classic_table_uses_the_2x2_closed_forms(long):
    res_anova = stats.adjust(stats.mixed_anova(long[long["group"] != "HC"], FAMILIES))
    within = stats.adjust(stats.within_group_tests(long[long["group"] != "HC"], FAMILIES))
    tab = tables.prepost_classic_table(res_anova, within, "pain", CATALOGUE)
    bm, wm = _completers(long, "pain.total", "MBPM")
    bw, ww = _completers(long, "pain.total", "WL")
    # interaction F of a 2 x 2 mixed ANOVA = squared pooled t of the change scores, df (1, n-2)
    t = sps.ttest_ind(wm - bm, ww - bw, equal_var=True)
    df2 = len(bm) + len(bw) - 2
    assert tab.loc[0, "Interaction"] == tables.apa_report("F", t.statistic ** 2, t.pvalue, (1, df2))
    assert tab.loc[0, "Interaction"].replace("\u00a0", " ").startswith(
        f"F(1, {df2}) = {t.statistic ** 2:.2f}, p = ")
    assert list(tab.columns) == ["Outcome", "n MBPM/WL", "Interaction", "ηp²", "dz MBPM (p)",
                                 "dz WL (p)"]
    assert tab.loc[0, "n MBPM/WL"] == f"{len(bm)}/{len(bw)}"
    dz = (wm - bm).mean() / (wm - bm).std(ddof=1)
    assert tab.loc[0, "dz MBPM (p)"] == f"{dz:.2f}\u00a0({_p(sps.ttest_rel(wm, bm).pvalue)})"


def test_prepost_adjusted_table_against_least_squares_and_change_difference(long):
    arms = long[long["group"] != "HC"]
    anc = stats.adjust(stats.ancova(arms, FAMILIES))
    mm = stats.adjust(stats.mixed_model(arms, FAMILIES))
    tab = tables.prepost_adjusted_table(anc, mm, "function and activation", CATALOGUE)
    assert list(tab.columns) == ["Outcome", "n MBPM/WL (mixed model)", "ANCOVA MBPM − WL",
                                 "ANCOVA test", "p FDR", "Mixed model", "Mixed model test"]
    bm, wm = _completers(long, "func.score", "MBPM")
    bw, ww = _completers(long, "func.score", "WL")
    design = np.column_stack([np.ones(len(bm) + len(bw)), np.r_[bm, bw],
                              np.r_[np.ones(len(bm)), np.zeros(len(bw))]])
    y = np.r_[wm, ww]
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    assert tab.iloc[0, 2].startswith(_minus(f"{coef[2]:.2f} ["))
    # t of the arm coefficient: b / sqrt(s^2 [(X'X)^-1]_22) on n - 3 df
    dof = len(y) - 3
    s2 = np.sum((y - design @ coef) ** 2) / dof
    t = coef[2] / np.sqrt(s2 * np.linalg.inv(design.T @ design)[2, 2])
    assert tab.iloc[0, 3] == tables.apa_report("t", t, 2 * sps.t.sf(abs(t), dof), (dof,))
    assert tab.iloc[0, 1].startswith(f"{len(bm)}/{len(bw)}\u00a0(")
    # The random-intercept model's interaction equals the difference of mean changes when every
    # participant has both visits; here one WL participant has only a baseline, so compare the
    # mixed model on completers only.
    complete = arms[arms["participant_id"] != "P015"]
    mm_c = stats.adjust(stats.mixed_model(complete, FAMILIES))
    tab_c = tables.prepost_adjusted_table(anc, mm_c, "function and activation", CATALOGUE)
    change_diff = (wm - bm).mean() - (ww - bw).mean()
    assert tab_c.iloc[0, 5].startswith(_minus(f"{change_diff:.2f} ["))


def test_adjusted_findings_counts_and_orients_a_hand_made_table():
    rows = pd.DataFrame({
        "outcome": ["oxy", "pain.total", "pain.sensory", "func.score"],
        "analysis": ["ANCOVA (completers)"] * 4,
        # pain: lower in MBPM = favours MBPM; function: lower in MBPM = favours WL
        "estimate": [1.5, -2.0, -1.0, -0.3],
        "p_fdr": [0.001, 0.01, 0.04, 0.01]})
    found = tables.adjusted_findings(rows, CATALOGUE).set_index("family")
    assert list(found.index) == ["pain", "function and activation"]  # biomarkers left out
    assert found.loc["pain", "n"] == 2 and found.loc["pain", "n_fdr"] == 2
    assert found.loc["pain", "n_fdr_favour_mbpm"] == 2
    assert found.loc["pain", "labels_fdr"] == "Pain: Total (0–10), Pain: Sensory"
    assert found.loc["function and activation", ["n_fdr", "n_fdr_favour_mbpm"]].tolist() == [1, 0]
    assert found.loc["function and activation", "labels_fdr"] == "Function: Score (1–4)"


# --- charts ----------------------------------------------------------------------------------

def _svg_size(chart) -> tuple[float, float]:
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    width, height = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg).groups()
    return float(width), float(height)


def test_baseline_forest_data_and_chart(long):
    res = stats.adjust(stats.baseline_comparison(long, FAMILIES, log_outcomes=["oxy"]))
    data = figures.baseline_forest_data(res, CATALOGUE)
    welch = res[res["analysis"] == "Welch t-test"].set_index("outcome")
    assert list(data["outcome"]) == list(CATALOGUE.index)
    assert data.set_index("outcome").loc["pain.total", "x"] == welch.loc["pain.total", "effect_size"]
    assert data.set_index("outcome").loc["oxy", "higher_is"] == "no direction (biomarker)"
    chart = figures.baseline_forest(res, CATALOGUE)
    spec = chart.to_dict()
    # One block per family, titled by it, each with a rule at 0 (not a facet: issue 14).
    families = list(dict.fromkeys(data["family"]))
    assert [b["title"]["text"] for b in spec["vconcat"]] == families and spec["description"]
    zero_rule = spec["vconcat"][0]["layer"][0]
    assert zero_rule["mark"]["type"] == "rule" and zero_rule["encoding"]["x"]["datum"] == 0
    assert _svg_size(chart)[0] <= figures.COLUMN_WIDTH + 40  # the website's text column


def test_adjusted_effects_data_orients_so_positive_favours_mbpm():
    rows = pd.DataFrame({
        "outcome": ["oxy", "pain.total", "func.score"],
        "analysis": ["ANCOVA (completers)"] * 3,
        "effect_size": [0.2, -0.5, -0.3], "effect_size_ci_low": [0.0, -0.9, -0.6],
        "effect_size_ci_high": [0.4, -0.1, 0.0], "p": [0.1, 0.02, 0.05],
        "p_fdr": [0.1, 0.04, 0.05]})
    data = figures.adjusted_effects_data(rows, CATALOGUE).set_index("outcome")
    assert "oxy" not in data.index  # no favourable direction for a biomarker
    # pain (higher = worse): -0.5 [-0.9, -0.1] -> 0.5 [0.1, 0.9]; function (better) unchanged
    assert data.loc["pain.total", ["x", "low", "high"]].tolist() == pytest.approx([0.5, 0.1, 0.9])
    assert data.loc["func.score", ["x", "low", "high"]].tolist() == pytest.approx([-0.3, -0.6, 0.0])
    chart = figures.adjusted_effects(rows, CATALOGUE)
    assert "favours MBPM" in chart.to_dict()["vconcat"][-1]["layer"][2]["encoding"]["x"]["title"]


def test_group_means_data_matches_t_intervals_and_chart_fits(long):
    data = figures.group_means_data(long, ["pain.sensory", "pain.total"], CATALOGUE)
    mean = data[(data["kind"] == "mean") & (data["outcome"] == "pain.total")
                & (data["group"] == "WL") & (data["visit"] == "week8")].iloc[0]
    v = _values(long, "pain.total", ["WL"], "week8").to_numpy()
    lo, hi = sps.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=sps.sem(v))
    assert (mean["value"], mean["low"], mean["high"]) == pytest.approx((v.mean(), lo, hi))
    assert mean["x"] == pytest.approx(1.0 + figures.ARM_OFFSET["WL"])
    people = data[data["kind"] == "participant"]
    assert set(people["group"]) == {"MBPM", "WL"}  # HC are not in the pre/post chart
    assert len(people) == 2 * (8 + 8 + 8 + 7)  # two outcomes, 16 baselines + 15 week-8 values
    assert list(dict.fromkeys(data["outcome"])) == ["pain.sensory", "pain.total"]  # asked order
    chart = figures.group_means(long, CATALOGUE, ["pain.sensory", "pain.total", "func.score"])
    assert chart.to_dict()["facet"]["field"] == "label"
    assert _svg_size(chart)[0] <= figures.COLUMN_WIDTH + 40  # the website's text column


def test_display_tables_pass_through_markdown_unchanged(long):
    """The display tables hold formatted text; markdown() must not reformat any column."""
    arms = long[long["group"] != "HC"]
    for tab in (tables.prepost_classic_table(stats.adjust(stats.mixed_anova(arms, FAMILIES)),
                                             stats.adjust(stats.within_group_tests(arms, FAMILIES)), "pain",
                                             CATALOGUE),
                tables.prepost_adjusted_table(stats.adjust(stats.ancova(arms, FAMILIES)),
                                              stats.adjust(stats.mixed_model(arms, FAMILIES)), "pain", CATALOGUE),
                tables.baseline_family_table(stats.adjust(stats.baseline_comparison(long, FAMILIES)), "pain",
                                             CATALOGUE)):
        rows = str(tables.markdown(tab, p_columns=()).data).splitlines()[2:]
        # cells are escaped as literal MyST text (mbpm.literal.myst), never reformatted
        assert [r.strip("| ").split(" | ") for r in rows] == [[literal.myst(c) for c in r]
                                                              for r in tab.to_numpy().tolist()]


def test_proportion_text_gives_counts_where_the_standard_error_says_nothing():
    from mbpm import tables

    assert tables.proportion_text(0.375, 0.0494, 96) == "38\u00a0% ± 4.9"
    assert tables.proportion_text(0.025, 0.0049, 1000) == "2\u00a0% ± 0.5"  # was "± 0"
    assert tables.proportion_text(1.0, 0.0, 1000) == "1,000 of 1,000 trials"
    assert tables.proportion_text(0.0, 0.0, 24) == "0 of 24 trials"
    assert tables.proportion_text(1.0, 0.0, 24) == "24 of 24 trials"


def test_families_sentence_reads_for_none_some_and_all():
    from mbpm import tables

    assert tables.families_sentence([], ["pain", "mood"], "one") == "no family has one"
    assert tables.families_sentence(["pain"], [], "one") == "every family has one"
    assert tables.families_sentence(["pain"], ["mood", "sleep"], "one") == \
        "“pain” has one; “mood” and “sleep” have none"
