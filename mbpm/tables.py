"""Publication tables: tidy DataFrames to MyST markdown that renders in HTML and in the PDF.

myst-nb renders ``text/markdown`` outputs as real tables in both builders (``text/html`` from
``DataFrame._repr_html_`` would fall back to monospaced text in LaTeX), so chapters glue
``markdown(df)`` and place it inside a ``{table}`` directive with a caption and a label.

The format rules of numbers and phrases (decimals, p, test reports, CIs) live in
:mod:`mbpm.findings.format` and are importable from here as before; the per-chapter display sets
are in :mod:`mbpm.book`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import pandas as pd
from IPython.display import Markdown

from mbpm import privacy
from mbpm.findings.format import (  # noqa: F401 (the format rules, importable from here as before)
    ESTIMATE_DIGITS, MINUS, NBSP, WORD_JOINER, _mean_sd, _num, _p, apa_number, apa_p, apa_report, biomarker_ci,
    biomarker_p_text, biomarker_sig, english_list, estimate_with_ci, families_sentence,
    favours_mbpm_sign, format_df, format_p, format_value, n_per_arm, n_range, proportion_text,
    row_report, short_label)
from mbpm.literal import Markup, myst
from mbpm.stats import names
from mbpm.study import active as _default_definition

_DEFINITION = _default_definition()
#: The treated and control arm ids, the reference group's, and the pre and post visits with
#: their labels (study definition): tables are laid out by role.
_TREATED, _CONTROL = _DEFINITION.treated.id, _DEFINITION.control.id
_ARMS = (_TREATED, _CONTROL)
_REFERENCE = _DEFINITION.reference.id if _DEFINITION.reference else "reference"
_VISITS = ((_DEFINITION.pre.id, _DEFINITION.pre.label), (_DEFINITION.post.id, _DEFINITION.post.label))






#: Spaces a line must not break at, in narrow table columns (issue 14: "< / 0.001",
#: "Estimate (95 / % CI)" and "CV / > 20 %" were split): on either side of a comparison sign
#: (MyST escapes ``<`` and ``>`` with a backslash) and before a percent sign.
_KEEP_TOGETHER = re.compile(r"(?<=[<>≤≥±=]) | (?=\\?[<>≤≥±=%])")


def _cell(value: object) -> str:
    """A header or cell of a markdown table: literal text (:func:`mbpm.literal.myst`), with
    ``"< 0.001"`` and ``"20 %"`` unbreakable (no-break spaces, ``~`` in LaTeX); package-written
    :class:`~mbpm.literal.Markup` passes unchanged.

    >>> _cell("p < 0.001, 95 % CI").replace(NBSP, "~")
    'p~\\\\<~0\\\\.001\\\\, 95~\\\\% CI'
    >>> _cell("CV > 20 %").replace(NBSP, "~")
    'CV~\\\\>~20~\\\\%'
    """
    if isinstance(value, Markup):
        return str(value)
    return _KEEP_TOGETHER.sub(NBSP, myst(value))


def column_label(column: object) -> str:
    """A column header for readers: a code name (``missing_item_rule``) is written in words.

    >>> column_label("missing_item_rule"), column_label("il1b"), column_label("p FDR")
    ('missing-item rule', 'IL-1β', 'p FDR')
    """
    from mbpm.assays import ANALYTE_LABELS

    text = str(column)
    labels = {**ANALYTE_LABELS, "missing_item_rule": "missing-item rule",
              "below_lloq": "below LLOQ", "above_uloq": "above ULOQ", "high_cv": "high CV"}
    if text in labels:
        return labels[text]
    return text.replace("_", " ") if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", text) else text


















def markdown(df: pd.DataFrame, digits: int | Mapping[str, int] = 2,
             p_columns: tuple[str, ...] = ("p", "p_fdr")) -> Markdown:
    """``df`` as a MyST/GitHub markdown table (index dropped; name it as a column if needed).

    Every header and cell is literal text (:func:`mbpm.literal.myst`: markup, roles, HTML and
    control characters in the data render as written), except cells of type
    :class:`mbpm.literal.Markup`, which the package wrote as MyST (:func:`cite`).
    """
    def digits_for(column: str) -> int:
        return digits.get(column, 2) if isinstance(digits, Mapping) else digits

    df = privacy.table(df)  # PRIVACY GUARD: real data -> no IDs, small counts, free text

    header = "| " + " | ".join(_cell(column_label(c)) for c in df.columns) + " |"
    rule = "|" + "|".join(":--" if not pd.api.types.is_numeric_dtype(df[c]) else "--:"
                          for c in df.columns) + "|"
    rows = []
    for record in df.itertuples(index=False):
        cells = [v if isinstance(v, Markup) else format_p(v) if c in p_columns
                 else format_value(v, digits_for(c)) for c, v in zip(df.columns, record)]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return Markdown("\n".join([header, rule, *rows]))


def cite(keys: str) -> Markup:
    """MyST citation role for comma-separated BibTeX keys (``"a, b"`` -> ``{cite:p}`a,b```)."""
    return Markup("{cite:p}`" + ",".join(k.strip() for k in keys.split(",")) + "`")


# --- Baseline and psychological outcomes ---
# Display tables for chapters/baseline.md and chapters/psychological.md: one result table of
# mbpm.analysis.Results in, one compact table of formatted text cells per outcome family out.

import numpy as np  # noqa: E402













def _family_rows(results: pd.DataFrame, family: str, catalogue: pd.DataFrame,
                 analysis: str) -> pd.DataFrame:
    """Rows of one analysis for the outcomes of ``family``, in catalogue order, labels attached."""
    order = [o for o in catalogue.index if catalogue.at[o, "family"] == family]
    rows = results.loc[(results["analysis"] == analysis) & results["outcome"].isin(order)]
    rows = rows.set_index("outcome").reindex([o for o in order if o in set(rows["outcome"])])
    return rows.assign(label=[short_label(catalogue.at[o, "label"]) for o in rows.index])


def _difference_header(catalogue: pd.DataFrame, outcomes: pd.Index, a: str, b: str) -> str:
    """``"a − b"`` for scales, ``"a / b"`` (ratio of geometric means) for log outcomes."""
    logged = catalogue.loc[list(outcomes), "log"]
    if len(logged) and logged.all():
        return f"{a} / {b} [95 % CI]"
    if logged.any():
        raise ValueError("a family mixes log and raw outcomes; split it before tabulating")
    return f"{a} − {b} [95 % CI]"


def baseline_family_table(baseline: pd.DataFrame, family: str,
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """Patients vs HC for one family (``Results.baseline``): outcome, n analysed (patients/HC),
    mean difference (ratio of geometric means for log outcomes) with the Welch CI, Hedges' g
    with CI, the Welch test as a complete report (:func:`row_report`) and its FDR p, and the
    Mann-Whitney test (sensitivity). Cells are formatted text."""
    welch = _family_rows(baseline, family, catalogue, names.WELCH)
    mw = _family_rows(baseline, family, catalogue, names.MANN_WHITNEY).reindex(welch.index)
    reference = _default_definition().reference
    return pd.DataFrame({
        "Outcome": welch["label"],
        f"n patients/{reference.id}": [n_per_arm(r, ("n_patients", reference.size_key))
                                       for _, r in welch.iterrows()],
        _difference_header(catalogue, welch.index, "Patients", _REFERENCE): [
            estimate_with_ci(*r) for r in welch[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "Hedges' g [95 % CI]": [
            estimate_with_ci(*r) for r in
            welch[["effect_size", "effect_size_ci_low", "effect_size_ci_high"]].to_numpy()],
        "Welch t-test": [row_report(r) for _, r in welch.iterrows()],
        "p FDR": welch["p_fdr"].map(_p),
        "Mann-Whitney": [row_report(r) for _, r in mw.iterrows()],
    }).reset_index(drop=True)




def prepost_means_table(described: pd.DataFrame, family: str,
                        catalogue: pd.DataFrame) -> pd.DataFrame:
    """Mean (SD) of each outcome of ``family`` per arm and visit, from
    :func:`mbpm.stats.describe`; columns MBPM baseline, MBPM week 8, WL baseline, WL week 8,
    each header with the n it describes (``"MBPM week 8 (n = 21–23)"`` when it varies by scale,
    :func:`n_range`)."""
    order = [o for o in catalogue.index if catalogue.at[o, "family"] == family
             and o in set(described["outcome"])]
    cells = {"Outcome": [short_label(catalogue.at[o, "label"]) for o in order]}
    indexed = described.set_index(["outcome", "group", "visit"])
    for group in _ARMS:
        for visit, label in _VISITS:
            name = label.lower()
            keys = [(o, group, visit) for o in order if (o, group, visit) in indexed.index]
            header = f"{group} {name} ({n_range(indexed.loc[keys, 'n'])})"
            cells[header] = [_mean_sd(*indexed.loc[(o, group, visit), ["mean", "sd"]])
                             if (o, group, visit) in indexed.index else "" for o in order]
    return pd.DataFrame(cells)




def prepost_classic_table(mixed_anova: pd.DataFrame, within: pd.DataFrame, family: str,
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """The classic analysis of one family on completers (text cells; ``markdown(df, p_columns=())``):
    n analysed per arm (MBPM/WL), the group x time interaction of the mixed ANOVA as a complete
    report F(df1, df2) = F, p (:func:`row_report`) and partial eta squared, and each arm's paired
    t-test as Cohen's dz with its p."""
    anova = _family_rows(mixed_anova, family, catalogue, names.MIXED_ANOVA)
    paired = within.loc[within["analysis"] == names.PAIRED]
    out = {"Outcome": anova["label"],
           f"n {_TREATED}/{_CONTROL}": [n_per_arm(r) for _, r in anova.iterrows()],
           "Interaction": [row_report(r) for _, r in anova.iterrows()],
           "ηp²": anova["effect_size"].map(lambda v: f"{v:.3f}")}
    for arm in _ARMS:
        rows = paired.loc[paired["contrast"] == names.within_contrast(arm)]
        rows = rows.set_index("outcome").reindex(anova.index)
        out[f"dz {arm} (p)"] = [
            "" if not np.isfinite(dz) else f"{dz:.2f}\u00a0({_p(p)})"
            for dz, p in rows[["effect_size", "p"]].to_numpy(dtype=float)]
    return pd.DataFrame(out).reset_index(drop=True)


def prepost_adjusted_table(ancova: pd.DataFrame, mixed_model: pd.DataFrame, family: str,
                           catalogue: pd.DataFrame) -> pd.DataFrame:
    """MBPM vs WL for one family (cells are text: render with ``markdown(df, p_columns=())``):
    n analysed (ANCOVA per arm MBPM/WL, the mixed model's total in parentheses), the ANCOVA
    adjusted difference at week 8 (primary) with CI, its t test as a complete report
    (:func:`row_report`) and FDR p, and the mixed model's difference in change (sensitivity)
    with its t CI and its t test on the Satterthwaite df."""
    anc = _family_rows(ancova, family, catalogue, names.ANCOVA)
    mm = _family_rows(mixed_model, family, catalogue, names.MIXED_MODEL).reindex(anc.index)
    return pd.DataFrame({
        "Outcome": anc["label"],
        f"n {_TREATED}/{_CONTROL} (mixed model)": [f"{n_per_arm(a)}\u00a0({int(m['n'])})"
                                    for (_, a), (_, m) in zip(anc.iterrows(), mm.iterrows())],
        "ANCOVA " + _difference_header(catalogue, anc.index, _TREATED, _CONTROL).split(" [")[0]: [
            estimate_with_ci(*r) for r in anc[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "ANCOVA test": [row_report(r) for _, r in anc.iterrows()],
        "p FDR": anc["p_fdr"].map(_p),
        "Mixed model": [
            estimate_with_ci(*r) for r in mm[["estimate", "ci_low", "ci_high"]].to_numpy(float)],
        "Mixed model test": [row_report(r) for _, r in mm.iterrows()],
    }).reset_index(drop=True)




def baseline_findings(baseline: pd.DataFrame, catalogue: pd.DataFrame,
                      alpha: float = 0.05) -> dict[str, object]:
    """Counts the baseline chapter's summary quotes, from the Welch rows of ``Results.baseline``.

    ``n_scales``/``n_scales_fdr``: questionnaire scales compared / with FDR p < alpha;
    ``n_scales_fdr_worse``: of those, how many have patients on the worse side (sign of g agrees
    with ``higher_is``); ``families_fdr``/``families_none``: the scale families with at least one /
    without any such difference, as English lists of quoted names; ``n_markers``/``n_markers_fdr`` the same for biomarkers; ``largest_*``:
    the outcome with the largest |g| (label, g, CI low, CI high, and its Welch test as a complete
    report, :func:`row_report`).
    """
    welch = baseline.loc[baseline["analysis"] == names.WELCH].copy()
    welch["higher_is"] = welch["outcome"].map(catalogue["higher_is"])
    scales = welch.loc[welch["higher_is"] != "neutral"]
    markers = welch.loc[welch["higher_is"] == "neutral"]
    sig = scales.loc[scales["p_fdr"] < alpha]
    worse = np.sign(sig["effect_size"]) == sig["higher_is"].map({"worse": 1, "better": -1})
    top = welch.loc[welch["effect_size"].abs().idxmax()]
    families = list(dict.fromkeys(catalogue.loc[list(scales["outcome"]), "family"]))
    with_diff = set(catalogue.loc[list(sig["outcome"]), "family"])
    return {"n_scales": len(scales), "n_scales_fdr": len(sig),
            "families_fdr": english_list([f"“{f}”" for f in families if f in with_diff]),
            "families_none": english_list([f"“{f}”" for f in families if f not in with_diff]),
            "n_scales_fdr_worse": int(worse.sum()),
            "n_markers": len(markers), "n_markers_fdr": int((markers["p_fdr"] < alpha).sum()),
            "largest_label": short_label(catalogue.at[top["outcome"], "label"]),
            "largest_g": float(top["effect_size"]),
            "largest_g_low": float(top["effect_size_ci_low"]),
            "largest_g_high": float(top["effect_size_ci_high"]),
            "largest_test": row_report(top)}


def adjusted_findings(ancova: pd.DataFrame, catalogue: pd.DataFrame,
                      alpha: float = 0.05) -> pd.DataFrame:
    """Per family of questionnaire scales (biomarkers excluded): how many ANCOVA effects were
    estimated, how many have FDR p < alpha, how many of those favour MBPM, and their labels.
    Columns: family, n, n_fdr, n_fdr_favour_mbpm, labels_fdr (comma-separated, "" if none)."""
    rows = []
    for family in dict.fromkeys(catalogue["family"]):
        anc = _family_rows(ancova, family, catalogue, names.ANCOVA)
        higher = catalogue.loc[anc.index, "higher_is"]
        if anc.empty or (higher == "neutral").all():
            continue
        sig = anc.loc[anc["p_fdr"] < alpha]
        favour = [np.sign(e) == favours_mbpm_sign(catalogue.at[o, "higher_is"])
                  for o, e in sig["estimate"].items()]
        rows.append({"family": family, "n": len(anc), "n_fdr": len(sig),
                     "n_fdr_favour_mbpm": int(sum(favour)),
                     "labels_fdr": ", ".join(sig["label"])})
    return pd.DataFrame(rows, columns=["family", "n", "n_fdr", "n_fdr_favour_mbpm",
                                       "labels_fdr"])


def within_findings(within: pd.DataFrame, catalogue: pd.DataFrame, families: tuple[str, ...],
                    alpha: float = 0.05) -> dict[str, tuple[int, int]]:
    """Per arm: (number of scales of ``families`` whose paired t-test has unadjusted p < alpha and
    whose mean change goes the favourable way, number of scales tested)."""
    paired = within.loc[within["analysis"] == names.PAIRED].copy()
    paired = paired.loc[paired["outcome"].map(catalogue["family"]).isin(families)]
    sign = paired["outcome"].map(lambda o: favours_mbpm_sign(catalogue.at[o, "higher_is"]))
    paired["improved"] = (paired["p"] < alpha) & (np.sign(paired["estimate"]) == sign)
    out = {}
    for arm in (_DEFINITION.treated.id, _DEFINITION.control.id):
        rows = paired.loc[paired["contrast"] == names.within_contrast(arm)]
        out[arm] = (int(rows["improved"].sum()), len(rows))
    return out


# --- Biomarkers and oxytocin-pain ---
# Display tables for chapters/biomarkers.md and chapters/oxytocin_pain.md: result tables of
# mbpm.analysis.Results in, compact tables of formatted text cells out (cells formatted with
# estimate_with_ci and _p above).








def _biomarker_rows(results: pd.DataFrame, analyses: str, analytes: list[str],
                    contrast: str | None = None) -> pd.DataFrame:
    """The rows of one analysis (and contrast) for ``analytes``, indexed by outcome, in order."""
    rows = results.loc[results["analysis"] == analyses]
    if contrast is not None:
        rows = rows.loc[rows["contrast"] == contrast]
    return rows.set_index("outcome").reindex(analytes)


def biomarker_means_table(described: pd.DataFrame, within: pd.DataFrame, analytes: list[str],
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """Per analyte and arm (MBPM, WL): geometric mean [95 % CI] at baseline and week 8 (from
    :func:`mbpm.stats.describe` with the analytes on the log scale, everyone measured at the
    visit), and the paired t-test on completers (``Results.within``): ratio week 8 / baseline
    [95 % CI], Cohen's dz and the complete t report (column "Paired t-test", :func:`row_report`)
    with its n ("n paired"). The analyte's label and unit head its first row."""
    gm = described.set_index(["outcome", "group", "visit"])
    (_, pre_label), (_, post_label) = _VISITS
    ratio = f"{post_label} / {pre_label.lower()}"
    cells: dict[str, list[str]] = {"Analyte": [], "Arm": [], "n paired": [], pre_label: [],
                                   post_label: [], ratio: [], "dz": [],
                                   "Paired t-test": []}
    for analyte in analytes:
        for arm in _ARMS:
            paired = _biomarker_rows(within, names.PAIRED, [analyte],
                                     names.within_contrast(arm)).loc[analyte]
            first = arm == _TREATED
            cells["Analyte"].append(f"{catalogue.at[analyte, 'label']} "
                                    f"({catalogue.at[analyte, 'unit']})" if first else "")
            cells["Arm"].append(arm)
            cells["n paired"].append(str(int(paired["n"])))
            for visit, column in _VISITS:
                key = (analyte, arm, visit)
                cells[column].append(biomarker_ci(*gm.loc[key, ["gmean", "gmean_ci_low",
                                                               "gmean_ci_high"]])
                                     if key in gm.index else "")
            cells[ratio].append(
                biomarker_ci(paired["estimate"], paired["ci_low"], paired["ci_high"], 2))
            cells["dz"].append("" if not math.isfinite(paired["effect_size"])
                               else f"{paired['effect_size']:.2f}")
            cells["Paired t-test"].append(row_report(paired))
    return pd.DataFrame(cells)


def biomarker_tests_table(mixed_anova: pd.DataFrame, ancova: pd.DataFrame,
                          mixed_model: pd.DataFrame, analytes: list[str],
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """MBPM vs WL per analyte, all on the log scale: n analysed (completers per arm MBPM/WL, the
    mixed model's total in parentheses); the mixed-ANOVA group x time interaction as a complete
    report F(df_num, df) = F, p (:func:`row_report`) and partial eta squared (completers); the
    ANCOVA ratio of geometric means at week 8 adjusted for baseline [95 % CI] (primary) with
    its t test and its Benjamini-Hochberg p within the biomarker family; the mixed model's
    ratio of fold changes [95 % CI] with its t test on the Satterthwaite df (everyone with
    data)."""
    anova = _biomarker_rows(mixed_anova, names.MIXED_ANOVA, analytes)
    anc = _biomarker_rows(ancova, names.ANCOVA, analytes)
    lmm = _biomarker_rows(mixed_model, names.MIXED_MODEL, analytes)
    return pd.DataFrame({
        "Analyte": [catalogue.at[a, "label"] for a in analytes],
        f"n {_TREATED}/{_CONTROL} (mixed model)": [f"{n_per_arm(r)}\u00a0({int(m['n'])})"
                                    for (_, r), (_, m) in zip(anc.iterrows(), lmm.iterrows())],
        "Interaction": [row_report(r) for _, r in anova.iterrows()],
        "ηp²": [f"{v:.3f}" for v in anova["effect_size"]],
        "ANCOVA ratio [95 % CI]": [biomarker_ci(*r, 2) for r in
                                   anc[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "ANCOVA test (FDR p)": [f"{row_report(r)} ({_p(r['p_fdr'])})"
                                for _, r in anc.iterrows()],
        "Mixed model [95 % CI]": [biomarker_ci(*r, 2) for r in
                                  lmm[["estimate", "ci_low", "ci_high"]].to_numpy(float)],
        "Mixed model test": [row_report(r) for _, r in lmm.iterrows()],
    })


def biomarker_correlation_table(correlations: pd.DataFrame,
                                catalogue: pd.DataFrame) -> pd.DataFrame:
    """``Results.correlations`` for display: outcome label, who (``MBPM`` or ``MBPM+WL
    (pooled)``), n, Spearman's rho as a complete report ρ(n − 2) = rho, 95 % CI, raw p
    (:func:`row_report`), and the Benjamini-Hochberg p (within the outcome's family and
    contrast). Rows by outcome in the order given, MBPM before pooled."""
    order = {o: i for i, o in enumerate(dict.fromkeys(correlations["outcome"]))}
    rows = correlations.assign(_o=correlations["outcome"].map(order),
                               _c=correlations["contrast"] != names.group_contrast([_TREATED]))
    rows = rows.sort_values(["_o", "_c"], kind="stable")
    return pd.DataFrame({
        "Outcome": rows["outcome"].map(catalogue["label"]).to_list(),
        "Patients": rows["contrast"].str.replace(" (pooled)", ", pooled", regex=False).to_list(),
        "n": rows["n"].astype(int).to_list(),
        "Spearman ρ(df), 95 % CI, raw p": [row_report(r) for _, r in rows.iterrows()],
        "FDR p": rows["p_fdr"].map(_p).to_list(),
    })




