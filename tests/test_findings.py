"""The chapters' findings (mbpm.findings): every number and phrase a chapter quotes, checked on
small hand-made result tables whose expected values are worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from mbpm import analysis, study
from mbpm.findings import biomarkers, format as fmt
from mbpm.stats import RESULT_COLUMNS, names

D = study.default()
T, C = D.treated.id, D.control.id
ANALYTES = ["oxytocin", "il1b", "il6", "il8", "tnfa", "dheas"]
LABELS = {"oxytocin": "Oxytocin", "il1b": "IL-1β", "il6": "IL-6", "il8": "IL-8",
          "tnfa": "TNF-α", "dheas": "DHEA-S"}


def text(value: str) -> str:
    """No-break spaces shown as spaces, the true minus as a hyphen."""
    return value.replace("\u00a0", " ").replace("\u2212", "-")


def frame(analysis_name: str, contrast: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"analysis": analysis_name, "contrast": contrast, "family": "f",
                          "n": 46, **r} for r in rows])


def results(**frames: pd.DataFrame) -> analysis.Results:
    empty = pd.DataFrame(columns=list(RESULT_COLUMNS))
    fields = ("long", "baseline", "mixed_anova", "within", "ancova", "mixed_model",
              "nonparametric", "correlations")
    return analysis.Results(**{f: frames.get(f, empty) for f in fields})


# --- format -------------------------------------------------------------------------------------

def test_ci_phrase_and_p_formats():
    assert fmt.ci_phrase(1.0612, 0.7093, 1.5811) == "1.06 (95 % CI 0.71 to 1.58)"
    assert fmt.ci_phrase(-0.255, -0.5, 0.004) == "\u22120.26 (95 % CI \u22120.50 to 0.00)"
    assert fmt.biomarker_p_text(0.0204) == "p\u00a0=\u00a00.020"  # no-break spaces (issue 14)
    assert fmt.biomarker_p_text(0.0004) == "p\u00a0<\u00a00.001"
    assert fmt.apa_p(0.9996) == "p > .999"


def test_study_words_come_from_the_definition():
    words = fmt.study_words(D)
    assert (words["treated"], words["control"], words["pre"], words["post"]) == (
        "MBPM", "wait-list", "baseline", "week 8")
    assert fmt.lower_first("MBSR course") == "MBSR course"
    assert fmt.lower_first("Treatment as usual") == "treatment as usual"


# --- biomarkers ---------------------------------------------------------------------------------

@pytest.fixture()
def biomarker_results() -> analysis.Results:
    # ANCOVA ratios: oxytocin 1.30 (FDR p 0.0204); the others 0.95, 0.80, 0.90, 1.10, 1.02.
    ancova = frame(names.ANCOVA, names.ANCOVA_CONTRAST, [
        dict(outcome="oxytocin", estimate=1.30, ci_low=1.10, ci_high=1.54, statistic=3.10,
             df=43.0, p=0.0034, p_fdr=0.0204),
        dict(outcome="il1b", estimate=0.95, statistic=-0.7, df=43.0, p=0.50, p_fdr=0.60),
        dict(outcome="il6", estimate=0.80, statistic=-1.3, df=43.0, p=0.20, p_fdr=0.40),
        dict(outcome="il8", estimate=0.90, statistic=-1.0, df=43.0, p=0.30, p_fdr=0.45),
        dict(outcome="tnfa", estimate=1.10, statistic=2.10, df=43.0, p=0.040, p_fdr=0.12),
        dict(outcome="dheas", estimate=1.02, statistic=0.1, df=43.0, p=0.90, p_fdr=0.90)])
    within = pd.concat([
        frame(names.PAIRED, names.within_contrast(T), [
            dict(outcome="oxytocin", estimate=1.40, statistic=3.5, df=22.0, p=0.002)]),
        frame(names.PAIRED, names.within_contrast(C), [
            dict(outcome="oxytocin", estimate=1.05, statistic=0.4, df=22.0, p=0.69)]),
        frame(names.WILCOXON, names.within_contrast(T), [
            dict(outcome="oxytocin", estimate=9.99, statistic=200.0, p=0.003)])])
    # interaction p: il1b 0.03 and tnfa 0.04 are below 0.05 -> 2 of the 5 others
    anova = frame(names.MIXED_ANOVA, names.INTERACTION, [
        dict(outcome=o, p=p, df=44.0, df_num=1.0, statistic=1.0)
        for o, p in zip(ANALYTES, (0.01, 0.03, 0.2, 0.5, 0.04, 0.9))])
    return results(ancova=ancova, within=within, mixed_anova=anova)


def test_biomarker_findings_by_hand(biomarker_results):
    # 10 samples, 3 below the LLOQ (30 %), 2 of them among the 4 oxytocin samples.
    samples = pd.DataFrame({"analyte": ["oxytocin"] * 4 + ["il6"] * 6,
                            "flag": ["below_lloq", "ok", "below_lloq", "ok", "below_lloq"]
                            + ["ok"] * 5})
    catalogue = pd.DataFrame({"label": LABELS})
    got = biomarkers.findings(biomarker_results, samples, catalogue, D)
    assert got["ox_ratio"] == 1.30 and (got["ox_ratio_low"], got["ox_ratio_high"]) == (1.10, 1.54)
    assert got["ox_ratio_pct"] == pytest.approx(30.0)  # (1.30 - 1) * 100
    assert (got["ox_higher"], got["ox_reached"]) == ("higher", "reached")  # 0.0204 < 0.05
    assert text(got["ox_test"]) == "t(43) = 3.10, p = .003"
    assert got["ox_p_fdr"] == "p\u00a0=\u00a00.020"
    assert got["ox_treated_fold"] == 1.40 and got["ox_control_fold"] == 1.05
    assert text(got["ox_control_test"]) == "t(22) = 0.40, p = .690"
    assert (got["n_analytes"], got["n_others"], got["n_others_lower"], got["n_others_fdr"]) == (
        6, 5, 3, 0)  # lower: 0.95, 0.80, 0.90; no FDR p below 0.05
    assert (got["others_min"], got["others_min_label"]) == (0.80, "IL-6")
    assert (got["others_max"], got["others_max_label"]) == (1.10, "TNF-α")
    assert got["others_min_p_label"] == "TNF-α"
    assert text(got["others_min_p_test"]) == "t(43) = 2.10, p = .040"
    assert got["n_others_interaction"] == 2
    assert (got["n_samples"], got["n_below"], got["n_ox_samples"], got["n_ox_below"]) == (
        10, 3, 4, 2)
    assert got["pct_below"] == pytest.approx(30.0)
    assert got["below_rule"] == "half the LLOQ"
    assert (got["anova_df1"], got["anova_df2"], got["n_completers"]) == (1, 44, 46)
    assert (got["alpha_pct"], got["ratio_example_pct"]) == (5.0, pytest.approx(25.0))
    assert (got["treated"], got["control"]) == ("MBPM", "wait-list")


def test_biomarker_findings_say_lower_and_not_reached(biomarker_results):
    anc = biomarker_results.ancova.copy()
    anc.loc[anc["outcome"] == "oxytocin", ["estimate", "p_fdr"]] = [0.75, 0.30]
    res = results(ancova=anc, within=biomarker_results.within,
                  mixed_anova=biomarker_results.mixed_anova)
    samples = pd.DataFrame({"analyte": ["oxytocin"], "flag": ["ok"]})
    got = biomarkers.findings(res, samples, pd.DataFrame({"label": LABELS}), D)
    assert (got["ox_higher"], got["ox_reached"]) == ("lower", "did not reach")
    assert got["ox_ratio_pct"] == pytest.approx(25.0)  # |0.75 - 1| * 100


# --- psychological ------------------------------------------------------------------------------

PSY_CATALOGUE = pd.DataFrame({
    "label": ["Pain A", "Pain B", "Mood A", "Function A", "Oxytocin"],
    "family": ["pain", "pain", "mood", "function and activation", "biomarkers"],
    "higher_is": ["worse", "worse", "worse", "better", "neutral"],
    "log": [False, False, False, False, True]},
    index=["pain.a", "pain.b", "mood.a", "fn.a", "oxytocin"])


def test_psychological_findings_by_hand():
    from mbpm.findings import psychological

    def anc(outcome, est, es, lo, hi, p, p_fdr, n, stat=0.0, df=40.0):
        return dict(outcome=outcome, estimate=est, effect_size=es, effect_size_ci_low=lo,
                    effect_size_ci_high=hi, p=p, p_fdr=p_fdr, n=n, statistic=stat, df=df)

    ancova = frame(names.ANCOVA, names.ANCOVA_CONTRAST, [
        anc("pain.a", -5.0, -0.6, -1.0, -0.2, 0.002, 0.004, 44),
        anc("pain.b", 1.0, 0.1, -0.3, 0.5, 0.6, 0.6, 45),
        anc("mood.a", -2.0, -0.3, -0.7, 0.1, 0.15, 0.15, 46),
        anc("fn.a", -3.0, -0.8, -1.2, -0.4, 0.001, 0.001, 40, stat=-3.6, df=37.0),
        anc("oxytocin", 1.2, 0.4, 0.0, 0.8, 0.01, 0.02, 48)])

    def paired(arm, rows):
        return frame(names.PAIRED, names.within_contrast(arm),
                     [dict(outcome=o, estimate=e, p=p) for o, e, p in rows])

    within = pd.concat([paired(T, [("pain.a", -4.0, 0.01), ("mood.a", -1.0, 0.2),
                                   ("fn.a", 2.0, 0.01)]),
                        paired(C, [("pain.a", 1.0, 0.03), ("mood.a", -2.0, 0.06)])])
    got = psychological.findings(results(ancova=ancova, within=within), PSY_CATALOGUE, D)
    # FDR p < 0.05: Pain A (lower = better for MBPM) and Function A (lower = worse): 2 of the 4
    # scales, 1 in favour of MBPM; the biomarker is not a scale.
    assert (got["psy_n"], got["psy_n_fdr"], got["psy_n_fdr_favour"]) == (4, 2, 1)
    assert got["psy_fdr_labels"] == "Pain A; Function A"
    assert got["psy_families"] == ("“pain” and “function and activation” have at least one "
                                   "such difference; “mood” has none")
    # oriented effects: Pain A +0.6, Pain B -0.1, Mood A +0.3, Function A -0.8 (largest |x|)
    assert (got["psy_top_label"], got["psy_top_x"]) == ("Function A", -0.8)
    assert (got["psy_top_low"], got["psy_top_high"]) == (-1.2, -0.4)
    assert got["psy_top_side"] == "the wait-list"
    assert text(got["psy_top_test"]) == "t(37) = -3.60, p = .001"
    # within MBPM: Pain A improved (fell, p 0.01), Mood A not (p 0.2); Function A is not pain or
    # mood. Within WL: Pain A rose (worse), Mood A p 0.06.
    assert (got["psy_within_treated"], got["psy_within_treated_n"]) == (1, 2)
    assert (got["psy_within_control"], got["psy_within_control_n"]) == (0, 2)
    assert (got["psy_n_min"], got["psy_n_max"], got["psy_alpha"]) == (40, 48, 0.05)


# --- oxytocin and pain --------------------------------------------------------------------------

def test_oxytocin_pain_findings_by_hand():
    from mbpm.findings import oxytocin_pain

    alone, pooled = names.group_contrast([T]), names.group_contrast([T, C])
    rows = [("promis29.pain_interference", alone, -0.40, -0.70, -0.02, 23, 0.06, 0.2),
            ("promis29.pain_interference", pooled, -0.20, -0.46, 0.09, 46, 0.18, 0.3),
            ("bdi2.total", alone, 0.10, -0.32, 0.49, 22, 0.66, 0.7),
            ("bdi2.total", pooled, -0.35, -0.58, -0.07, 45, 0.018, 0.04),
            ("pcs.total", alone, 0.05, -0.37, 0.45, 21, 0.83, 0.83),
            ("pcs.total", pooled, 0.30, 0.01, 0.54, 44, 0.047, 0.1)]
    corr = pd.DataFrame([{"outcome": o, "analysis": names.correlation("oxytocin"), "contrast": c,
                          "estimate": r, "statistic": r, "ci_low": lo, "ci_high": hi, "n": n,
                          "df": n - 2.0, "p": p, "p_fdr": q}
                         for o, c, r, lo, hi, n, p, q in rows])
    samples = pd.DataFrame({"analyte": ["oxytocin"] * 4 + ["il6"],
                            "flag": ["below_lloq", "high_cv", "ok", "ok", "below_lloq"]})
    got = oxytocin_pain.findings(results(correlations=corr), samples, D, n_main=5)
    assert (got["pi_treated_rho"], got["pi_treated_low"], got["pi_treated_high"],
            got["pi_treated_n"]) == (-0.40, -0.70, -0.02, 23)
    assert text(got["pi_treated_test"]) == "ρ(21) = -0.40, 95 % CI -0.70 to -0.02, p = .060"
    assert (got["bdi_pooled_rho"], got["bdi_pooled_n"]) == (-0.35, 45)
    # 6 correlations of 3 outcomes; raw p < 0.05: 0.018 and 0.047; FDR: only 0.04; negative:
    # -0.40, -0.20, -0.35; rho from -0.40 to 0.30
    assert (got["n_corr"], got["n_corr_outcomes"], got["n_corr_raw"], got["n_corr_fdr"],
            got["n_corr_negative"]) == (6, 3, 2, 1, 3)
    assert (got["rho_min"], got["rho_max"], got["corr_verdict"]) == (-0.40, 0.30, "went")
    # treated rows: widths 0.68, 0.81, 0.82; n 23, 22, 21
    assert (got["ci_width_min"], got["ci_width_max"]) == (pytest.approx(0.68), pytest.approx(0.82))
    assert (got["n_treated_min"], got["n_treated_max"]) == (21, 23)
    # oxytocin: 1 of 4 below the LLOQ, 1 of 4 with a high CV (the IL-6 sample does not count)
    assert (got["ox_pct_below"], got["ox_pct_high_cv"]) == (25.0, 25.0)
    assert got["x_example_pct"] == pytest.approx(10.517, abs=1e-3)  # 100 (e^0.1 - 1)
    assert got["x_half"] == pytest.approx(-0.6931, abs=1e-4)  # ln 0.5
    assert (got["n_main"], got["alpha"]) == (5, 0.05)
    no_fdr = corr.assign(p_fdr=0.5)
    assert oxytocin_pain.findings(results(correlations=no_fdr), samples, D)[
        "corr_verdict"] == "did not clearly go"


# --- robustness ---------------------------------------------------------------------------------

def test_robustness_findings_by_hand():
    from types import SimpleNamespace

    from mbpm.findings import robustness as robust

    agree = pd.DataFrame({"outcome": ["oxytocin", "bdi2.total", "il6"], "specs": [16, 4, 16],
                          "same_direction": [16, 3, 12], "significant": [10, 0, 2]})
    got = robust.specification_findings(agree, D)
    assert (got["ox_specs"], got["ox_same"], got["ox_sig"]) == (16, 16, 10)
    # totals: 36 specifications, 12 significant; only oxytocin agrees in all (16 of 16)
    assert (got["n_results"], got["n_specs_total"], got["n_sig_total"], got["n_all_agree"]) == (
        3, 36, 12, 1)
    assert (got["alpha"], got["power_pct"]) == (0.05, pytest.approx(80.0))

    mde = pd.DataFrame({"test": [robust.ancova_test_name(D), f"paired t within {T}"],
                        "outcome": ["Oxytocin", "Oxytocin"], "n": ["23+22", "23"],
                        "rho": [0.6, 0.6], "mde_sd": [0.75, 0.5], "mde_natural": [1.6, 1.3]})
    params = SimpleNamespace(values={"biomarkers": {"analytes": {"oxytocin": {
        "effect": {T: 0.4, C: 0.0}}}}})
    effect = robust.simulated_marker_effect(params, D)
    got = robust.detectable_findings(mde, effect, pd.DataFrame({"label": LABELS}), D)
    assert (got["mde_ox_sd"], got["mde_ox_ratio"], got["mde_ox_rho"], got["mde_ox_n"]) == (
        0.75, 1.6, 0.6, "23+22")
    assert got["true_ox_ratio"] == pytest.approx(1.4918, abs=1e-4)  # e^0.4

    sim = pd.DataFrame({"failed": [False, True, False, False],
                        "plates_dropped": [0, 0, 2, 1]})
    power = pd.DataFrame([{"n_per_arm": n, "claim": f"claim {k}", "is_claim": True,
                           "proportion": p, "mc_se": se}
                          for n, k, p, se in [(25, 2, 0.5, 0.05), (25, 3, 0.25, 0.04),
                                              (25, 4, 0.1, 0.03), (25, 5, 0.0, 0.0),
                                              (100, 2, 0.9, 0.06)]]
                         + [{"n_per_arm": 25, "claim": "claim 2: part", "is_claim": False,
                             "proportion": 0.99, "mc_se": 0.0}])
    got = robust.power_findings(sim, power, {100: 24, 25: 120, 50: 48}, seed=7)
    assert (got["size_small"], got["size_mid"], got["size_large"]) == (25, 50, 100)
    assert (got["trials_small"], got["trials_mid"], got["trials_large"]) == (120, 48, 24)
    assert (got["pow2"], got["se2"], got["pow3"], got["pow5"]) == (50.0, 5.0, 25.0, 0.0)
    assert (got["pow2_large"], got["se2_large"]) == (90.0, 6.0)
    assert (got["n_failed"], got["n_trials_plate_dropped"], got["sim_seed"]) == (1, 2, 7)


# --- methods ------------------------------------------------------------------------------------

def test_methods_findings_by_hand():
    from types import SimpleNamespace

    from mbpm.findings import methods

    flow = pd.DataFrame([("assessed", "", "", 70), ("excluded", "", "too young", 12),
                         ("enrolled", "patients", "", 58), ("allocated", T, "", 30),
                         ("lost", T, "moved", 2), ("analysed", T, "completed week 8", 28),
                         ("allocated", C, "", 28), ("analysed", C, "completed week 8", 25),
                         ("enrolled", D.reference.id, "healthy controls", 15)],
                        columns=["stage", "group", "reason", "count"])
    participants = pd.DataFrame({"age": [19, 64, 33.0], "pain_years": [0.5, 12.0, None]})
    rules = {"age": SimpleNamespace(minimum=18, maximum=80),
             "pain_years": SimpleNamespace(minimum=0.25, maximum=None)}
    got = methods.cohort_findings(flow, participants, rules, D)
    assert (got["n_assessed"], got["n_enrolled"], got["n_treated"], got["n_control"]) == (
        70, 58, 30, 28)
    assert (got["n_done_treated"], got["n_done_control"], got["n_reference"]) == (28, 25, 15)
    assert (got["age_min"], got["age_max"], got["pain_years_min"]) == (19, 64, 0.5)
    assert (got["rule_age_min"], got["rule_age_max"], got["rule_pain_years"]) == (18, 80, 0.25)
    rules_text = methods.assay_findings(D)
    assert rules_text["below_lloq_rule"] == "half the lower limit"  # the plan's half_lloq


# --- data ---------------------------------------------------------------------------------------

def test_data_findings_by_hand():
    from mbpm.findings import data

    participants = pd.DataFrame({"group": [T, T, C, D.reference.id, D.reference.id]})
    layout = pd.DataFrame({"plate_id": ["P1", "P1", "P2"]})
    got = data.folder_findings(participants, layout, "/some/where/cohort-x", D)
    assert (got["n_participants"], got["n_patients"], got["n_reference"]) == (5, 3, 2)
    assert (got["n_plates"], got["data_folder"]) == (2, "cohort-x")
    validation = pd.DataFrame({"severity": ["error", "warning", "warning"]})
    got = data.check_findings(validation, pd.DataFrame({"percent": [0.0, 4.5, 2.0]}))
    assert (got["n_errors"], got["n_warnings"], got["missing_max"]) == (1, 3, 4.5)
    samples = pd.DataFrame({"flag": ["below_lloq", "ok", "above_uloq", "high_cv", "below_lloq",
                                     "ok", "ok", "ok"]})
    got = data.sample_findings(samples, pd.DataFrame({"failure": ["", "no fit", ""]}))
    # 8 samples: 2 below (25 %), 1 above, 1 high CV; 1 failed plate
    assert (got["n_samples"], got["n_below"], got["pct_below"], got["n_above"],
            got["n_high_cv"], got["n_failed_plates"]) == (8, 2, 25.0, 1, 1, 1)


# --- baseline, discussion, provenance -----------------------------------------------------------

def test_baseline_findings_by_hand():
    from mbpm.findings import baseline

    catalogue = pd.DataFrame({"label": ["Pain A", "Mood A", "Oxytocin"],
                              "family": ["pain", "mood", "biomarkers"],
                              "higher_is": ["worse", "worse", "neutral"]},
                             index=["pain.a", "mood.a", "oxytocin"])
    welch = frame(names.WELCH, names.BASELINE_CONTRAST, [
        dict(outcome="pain.a", effect_size=1.2, effect_size_ci_low=0.6, effect_size_ci_high=1.8,
             statistic=4.5, df=30.2, p=0.0001, p_fdr=0.0002),
        dict(outcome="mood.a", effect_size=0.3, effect_size_ci_low=-0.3, effect_size_ci_high=0.9,
             statistic=1.0, df=40.0, p=0.3, p_fdr=0.3),
        dict(outcome="oxytocin", effect_size=-0.5, effect_size_ci_low=-1.1,
             effect_size_ci_high=0.1, statistic=-1.7, df=35.0, p=0.1, p_fdr=0.1)])
    got = baseline.findings(results(baseline=welch), catalogue, D)
    # scales: Pain A (FDR p 0.0002, patients higher = worse) and Mood A (0.3); one biomarker
    assert (got["bl_n_scales"], got["bl_n_scales_fdr"], got["bl_n_scales_fdr_worse"]) == (2, 1, 1)
    assert (got["bl_families_fdr"], got["bl_families_none"]) == ("“pain”", "“mood”")
    assert (got["bl_n_markers"], got["bl_n_markers_fdr"]) == (1, 0)
    assert (got["bl_largest_label"], got["bl_largest_g"]) == ("Pain A", 1.2)
    assert text(got["bl_largest_test"]) == "t(30.2) = 4.50, p < .001"
    assert got["bl_alpha"] == 0.05


def test_discussion_and_provenance_findings_by_hand():
    from mbpm.findings import discussion, provenance

    specs = pd.DataFrame({"outcome": ["a"] * 5})
    changed = pd.DataFrame({"outcome": ["a"], "label": ["A"], "spec": ["ANCOVA · raw"], "p": [0.01],
                            "primary_p": [0.2], "estimate_std": [0.4],
                            "change": ["significant where the primary is not"]})
    got = discussion.specification_findings(specs, changed)
    assert (got["n_specs"], got["n_changed"]) == (5, 1)
    got = provenance.findings({"name": "cohort", "files": 9, "checksum": "ab12",
                               "simulated": True, "seed": 42, "generator_version": "3"})
    assert got["prov_data_kind"] == "a simulated cohort"
    assert got["prov_seed_sentence"] == "The generator's seed was 42 (generator version 3)."
    real = provenance.findings({"name": "x", "files": 1, "checksum": "c", "simulated": False})
    assert (real["prov_data_kind"], real["prov_seed_sentence"]) == (
        "a real export", "No simulation seed applies.")


# --- another study's arm names ------------------------------------------------------------------

def test_findings_read_a_study_with_other_arm_names(biomarker_results):
    """With arms MBSR/TAU (labels "MBSR course", "Treatment as usual") the role-named keys come
    from the MBSR and TAU rows and the words from the labels."""
    from dataclasses import replace

    from mbpm.study import Arm

    other = replace(D, arms=(Arm("MBSR", "MBSR course", "treated", D.visit_ids),
                             Arm("TAU", "Treatment as usual", "control", D.visit_ids)))
    within = biomarker_results.within.replace({
        names.within_contrast(T): names.within_contrast("MBSR"),
        names.within_contrast(C): names.within_contrast("TAU")})
    res = results(ancova=biomarker_results.ancova, within=within,
                  mixed_anova=biomarker_results.mixed_anova)
    samples = pd.DataFrame({"analyte": ["oxytocin"], "flag": ["ok"]})
    got = biomarkers.findings(res, samples, pd.DataFrame({"label": LABELS}), other)
    assert (got["ox_treated_fold"], got["ox_control_fold"]) == (1.40, 1.05)
    assert (got["treated"], got["control"]) == ("MBSR", "treatment as usual")
    assert "reference" not in got
