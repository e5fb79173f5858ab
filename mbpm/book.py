"""The book's rendering, apart from the analysis: the chart theme and renderer
(:func:`mbpm.figures.use`, charts as HTML and PDF), markdown tables (:func:`mbpm.tables.markdown`),
the data notice (:func:`mbpm.report.data_notice`), and for each chapter the set of charts and
tables it places, by glue name (``fig_...``, ``tbl_...``).

A chapter calls ``book.use()`` once, glues a display set with :func:`mbpm.findings.glue_all` and
places each item with ``{glue:figure}`` or ``{glue:md}``.
"""

from __future__ import annotations

from typing import Any

from mbpm import figures, stats, study, tables
from mbpm.analysis import Results
from mbpm.figures import use  # noqa: F401 (the theme and renderer)
from mbpm.report import data_notice  # noqa: F401
from mbpm.tables import markdown  # noqa: F401


def _analytes(definition: study.Definition | None) -> tuple[str, list[str], list[str]]:
    """The interplay marker, the other analytes, and all analytes of the definition."""
    d = definition or study.active()
    marker = d.outcome_set("interplay_marker")
    return marker, [a for a in d.analyte_ids if a != marker], list(d.analyte_ids)


def biomarker_described(results: Results, definition: study.Definition | None = None) -> Any:
    """Geometric means by arm and visit of every analyte (:func:`mbpm.stats.describe`)."""
    *_, analytes = _analytes(definition)
    long = results.long
    arms = long.loc[long["group"].isin(stats.ARMS) & long["outcome"].isin(analytes)]
    return stats.describe(arms, log_outcomes=analytes)


def biomarker_displays(results: Results, catalogue: Any, part: str,
                       definition: study.Definition | None = None) -> dict[str, Any]:
    """The biomarker chapter's chart and two tables for ``part`` ``"marker"`` (oxytocin:
    ``fig_oxytocin``, ``tbl_ox_means``, ``tbl_ox_tests``) or ``"others"``
    (``fig_biomarkers_other``, ``tbl_other_means``, ``tbl_other_tests``)."""
    marker, others, _ = _analytes(definition)
    described = biomarker_described(results, definition)
    if part == "marker":
        chosen, names = [marker], ("fig_oxytocin", "tbl_ox_means", "tbl_ox_tests")
        chart = figures.biomarker_trajectories(results.long, marker)
    elif part == "others":
        chosen, names = others, ("fig_biomarkers_other", "tbl_other_means", "tbl_other_tests")
        chart = figures.biomarker_panels(results.long, others)
    else:
        raise ValueError(f"part must be 'marker' or 'others', got {part!r}")
    means = tables.biomarker_means_table(described, results.within, chosen, catalogue)
    tests = tables.biomarker_tests_table(results.mixed_anova, results.ancova,
                                         results.mixed_model, chosen, catalogue)
    return dict(zip(names, (chart, tables.markdown(means), tables.markdown(tests))))


def family_key(family: str) -> str:
    """A family's name in glue names: ``"function and activation"`` -> ``function_and_activation``."""
    return family.replace(" ", "_")


def scale_families(definition: study.Definition | None = None) -> list[str]:
    """The definition's families of questionnaire scales (every family but the biomarkers'), in
    reporting order."""
    d = definition or study.active()
    return [f for f in d.family_order if f != d.biomarker_family]


def psychological_tables(results: Results, catalogue: Any,
                         definition: study.Definition | None = None) -> dict[str, Any]:
    """The psychological chapter's three tables per scale family: means (SD) by arm and visit
    (``tbl_psy_means_<family>``), the classic analysis (``tbl_psy_classic_<family>``) and the
    adjusted difference (``tbl_psy_adjusted_<family>``)."""
    described = stats.describe(results.long)
    out: dict[str, Any] = {}
    for family in scale_families(definition):
        key = family_key(family)
        out[f"tbl_psy_means_{key}"] = tables.markdown(
            tables.prepost_means_table(described, family, catalogue))
        out[f"tbl_psy_classic_{key}"] = tables.markdown(tables.prepost_classic_table(
            results.mixed_anova, results.within, family, catalogue), p_columns=())
        out[f"tbl_psy_adjusted_{key}"] = tables.markdown(tables.prepost_adjusted_table(
            results.ancova, results.mixed_model, family, catalogue), p_columns=())
    return out


def specification_charts(specs: Any, definition: study.Definition | None = None) -> dict[str, Any]:
    """The specification curves of the robustness chapter: the analytes (``fig_spec_markers``)
    and the questionnaire scales (``fig_spec_scales``)."""
    d = definition or study.active()
    markers = specs["outcome"].isin(d.analyte_ids)
    return {"fig_spec_markers": figures.specification_chart(specs.loc[markers]),
            "fig_spec_scales": figures.specification_chart(specs.loc[~markers])}


def agreement_table(agree: Any, alpha: float) -> dict[str, Any]:
    """``tbl_agreement``: per headline result, specifications, how many point the primary's way,
    how many have p < alpha, the primary's standardized estimate and p."""
    shown = agree.loc[:, ["label", "specs", "same_direction", "significant", "primary_std",
                          "primary_p"]]
    shown.columns = ["Outcome", "Specifications", "Same direction", f"p < {alpha:g}",
                     "Primary (SD)", "p"]
    return {"tbl_agreement": tables.markdown(shown, p_columns=("p",))}


def detectable_table(mde: Any) -> dict[str, Any]:
    """``tbl_mde``: :func:`mbpm.design.detectable_effects` for readers, the detectable effect in
    units (with the unit's name) beside the standardized one."""
    import numpy as np

    natural = [tables.format_value(v) + ("" if not u else f" ({u})") if np.isfinite(v) else ""
               for v, u in zip(mde["mde_natural"], mde["natural_name"])]
    shown = mde.assign(natural=natural)[["test", "outcome", "n", "rho", "mde_sd", "natural"]]
    shown.columns = ["Test", "Outcome", "n", "ρ", "Detectable (SD or r)", "In units"]
    return {"tbl_mde": tables.markdown(shown)}


def power_displays(power: Any, book_run: dict[int, int]) -> dict[str, Any]:
    """``fig_power`` and ``tbl_power``: the share of simulated trials reproducing each claim
    (:func:`mbpm.design.power_table`), per size, with its Monte Carlo SE."""
    claim_rows = power.loc[power["is_claim"]]
    cells = claim_rows.assign(cell=[tables.proportion_text(*r) for r in claim_rows[
        ["proportion", "mc_se", "trials"]].itertuples(index=False)])
    wide = cells.pivot(index="label", columns="n_per_arm", values="cell").reset_index()
    wide.columns = ["Claim"] + [f"{n} per arm ({book_run[n]:,} trials)" for n in sorted(book_run)]
    return {"fig_power": figures.power_chart(claim_rows), "tbl_power": tables.markdown(wide)}


#: The midpoint c of both standard curves in the methods chapter's 4PL illustration (pg/mL).
EC50_DEMO = 100.0


def four_pl_shapes(definition: study.Definition | None = None) -> dict[str, Any]:
    """The methods chapter's illustration of the two 4PL standard-curve shapes: a sandwich
    curve (signal rises with concentration) and a competitive one (it falls), both with the
    midpoint :data:`EC50_DEMO` (``ec50_demo``, ``fig_4pl_shapes``)."""
    import altair as alt
    import numpy as np
    import pandas as pd

    from mbpm.assays import four_pl
    from mbpm.findings.format import lower_first

    d = definition or study.active()
    competitive = ", ".join(lower_first(a.label) for a in d.analytes if a.competitive)
    concentration = np.geomspace(1, 10_000, 60)
    curves = pd.concat([
        pd.DataFrame({"concentration": concentration, "assay": "sandwich (cytokines)",
                      "od": four_pl(concentration, a=0.05, b=1.2, c=EC50_DEMO, d=2.8)}),
        pd.DataFrame({"concentration": concentration, "assay": f"competitive ({competitive})",
                      "od": four_pl(concentration, a=2.6, b=1.0, c=EC50_DEMO, d=0.15)}),
    ])
    chart = alt.Chart(curves, description="Four-parameter logistic standard curves").mark_line(
    ).encode(
        x=alt.X("concentration:Q", scale=alt.Scale(type="log"),
                title="Concentration (pg/mL, log scale)"),
        y=alt.Y("od:Q", title="Optical density at 450 nm"),
        color=alt.Color("assay:N", title="Assay"),
    ).properties(width=figures.COLUMN_WIDTH - 80, height=280)
    return {"ec50_demo": EC50_DEMO, "fig_4pl_shapes": chart}


def assay_tables(assay: Any) -> dict[str, Any]:
    """The data chapter's assay displays: the standard curves of every plate (``fig_plates``),
    the plate quality-control table (``tbl_qc``) and the samples outside the limits per analyte
    (``tbl_limits``)."""
    from mbpm import assays

    high_cv = f"CV > {assays.MAX_CV:.0f} %"
    qc = assays.qc_table(assay).rename(columns={
        "plate_id": "plate", "levels_used": "levels used", "recovery_min": "recovery min (%)",
        "recovery_max": "recovery max (%)", "sample_cv_median": "median CV (%)",
        "n_high_cv": high_cv, "lloq": "LLOQ", "uloq": "ULOQ", "r2": "R²"})
    qc = qc[["plate", "levels used", "recovery min (%)", "recovery max (%)", "median CV (%)",
             high_cv, "LLOQ", "ULOQ", "R²"]]
    limits = assays.limits_table(assay)
    limits = limits.assign(analyte=limits["analyte"].map(assays.ANALYTE_LABELS)).rename(
        columns={"n": "samples", "below_lloq": "below LLOQ", "above_uloq": "above ULOQ",
                 "high_cv": high_cv})
    digits = {"recovery min (%)": 0, "recovery max (%)": 0, "median CV (%)": 1, "LLOQ": 3,
              "ULOQ": 0, "R²": 3}
    return {"fig_plates": figures.plate_curves(assay),
            "tbl_qc": tables.markdown(qc, digits=digits), "tbl_limits": tables.markdown(limits)}


def sample_flow_table(sample_flow: Any) -> dict[str, Any]:
    """``tbl_sample_flow``: :func:`mbpm.cohort.sample_flow` with the analytes' labels."""
    from mbpm import assays

    return {"tbl_sample_flow": tables.markdown(sample_flow.assign(
        analyte=sample_flow["analyte"].map(assays.ANALYTE_LABELS)))}


def baseline_tables(results: Results, catalogue: Any,
                    definition: study.Definition | None = None) -> dict[str, Any]:
    """The baseline chapter's table per outcome family (``tbl_bl_<family>``)."""
    d = definition or study.active()
    return {f"tbl_bl_{family_key(family)}": tables.markdown(
        tables.baseline_family_table(results.baseline, family, catalogue))
        for family in d.family_order}


def ledger_table(ledger: Any) -> dict[str, Any]:
    """``tbl_ledger``: the claims ledger (:func:`mbpm.claims.ledger_table`) as a table."""
    from mbpm import claims

    return {"tbl_ledger": tables.markdown(claims.ledger_table(ledger), p_columns=("p", "FDR p"))}
