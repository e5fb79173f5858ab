"""Publication tables: tidy DataFrames to MyST markdown that renders in HTML and in the PDF.

myst-nb renders ``text/markdown`` outputs as real tables in both builders (``text/html`` from
``DataFrame._repr_html_`` would fall back to monospaced text in LaTeX), so chapters glue
``markdown(df)`` and place it inside a ``{table}`` directive with a caption and a label.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping

import pandas as pd
from IPython.display import Markdown

from mbpm.literal import Markup, myst
from mbpm.stats import names


def format_value(value: object, digits: int = 2) -> str:
    """A cell as text: floats with ``digits`` decimals (p-values see :func:`format_p`), NaN empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{value:.{digits}f}"
    return str(value)


def format_p(p: float) -> str:
    """A p-value as journals print it: three decimals, ``< 0.001`` below that."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


#: Spaces a line must not break at, in narrow table columns (issue 14: "< / 0.001" and
#: "Estimate (95 / % CI)" were split): after a comparison sign and before a percent sign.
_KEEP_TOGETHER = re.compile(r"(?<=[<>≤≥±=]) | (?=\\?%)")
NBSP = "\u00a0"


def _cell(value: object) -> str:
    """A header or cell of a markdown table: literal text (:func:`mbpm.literal.myst`), with
    ``"< 0.001"`` and ``"20 %"`` unbreakable (no-break spaces, ``~`` in LaTeX); package-written
    :class:`~mbpm.literal.Markup` passes unchanged.

    >>> _cell("p < 0.001, 95 % CI").replace(NBSP, "~")
    'p \\\\<~0\\\\.001\\\\, 95~\\\\% CI'
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


MINUS = "\u2212"  # the minus sign of typeset text (APA), not the hyphen-minus


def apa_number(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals and a true minus sign (U+2212); a value that rounds to
    zero has no sign: ``apa_number(-1.2034)`` -> ``"−1.20"``, ``apa_number(-0.001)`` -> ``"0.00"``."""
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        text = text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def apa_p(p: float) -> str:
    """p as APA style prints it: ``"p = .918"`` (three decimals, no leading zero), ``"p < .001"``
    below .001 and ``"p > .999"`` when it rounds to 1."""
    if p < 0.001:
        return "p < .001"
    text = f"{p:.3f}"
    return "p > .999" if text == "1.000" else "p = " + text.removeprefix("0")


def format_df(df: float) -> str:
    """Degrees of freedom: a whole number as an integer (``44``), a fractional one (Welch,
    Satterthwaite) with one decimal (``43.2``)."""
    return str(int(round(df))) if abs(df - round(df)) < 1e-9 else f"{df:.1f}"


def apa_report(statistic: str, value: float, p: float, df: tuple[float, ...] = (),
                ci: tuple[float, float] | None = None, digits: int = 2) -> str:
    """A complete test report in APA style: the statistic with its degrees of freedom, the CI
    when given, and p (:func:`apa_p`), so a reader can recompute p from what is printed
    (statcheck's check, Nuijten et al. 2016). A rank statistic without df is printed bare.
    No-break spaces (shown as spaces below) keep each part on one line: a narrow table cell
    breaks only after the commas between the parts.

    >>> def show(text): print(text.replace("\u00a0", " "))
    >>> show(apa_report("F", 0.0106, 0.918, (1, 44)))
    F(1, 44) = 0.01, p = .918
    >>> show(apa_report("t", -1.2034, 0.2357, (43.2123,)))
    t(43.2) = −1.20, p = .236
    >>> show(apa_report("U", 250, 0.4123, digits=1))
    U = 250.0, p = .412
    >>> show(apa_report("ρ", -0.2134, 0.3102, (21,), ci=(-0.553, 0.182)))
    ρ(21) = −0.21, 95 % CI −0.55 to 0.18, p = .310
    """
    nb = "\u00a0"  # a line breaks only after a comma between the parts, never inside one
    head = statistic + (f"({(',' + nb).join(format_df(d) for d in df)})" if df else "")
    parts = [f"{head}{nb}={nb}{apa_number(value, digits)}"]
    if ci is not None:
        parts.append(f"95{nb}% CI {apa_number(ci[0], digits)} to {apa_number(ci[1], digits)}")
    return ", ".join([*parts, apa_p(p).replace(" ", nb)])


#: Analyses of mbpm.analysis.Results whose statistic is a t on the row's ``df``.
_T_ANALYSES = names.T_TESTS


def row_report(row: Mapping[str, object]) -> str:
    """:func:`apa_report` of one result row (``statistic``, ``df``, ``p``; ``df_num`` for F,
    ``ci_low``/``ci_high`` for Spearman): t(df) for the Welch, paired, ANCOVA and mixed-model
    tests, F(df_num, df) for the mixed ANOVA, ρ(n − 2) with its CI for Spearman (scipy's p is
    the t test of ρ on n − 2 df), U for Mann-Whitney (a rank test has no df).
    Raises ValueError for another analysis."""
    analysis = str(row["analysis"])
    value, p = float(row["statistic"]), float(row["p"])
    if analysis in _T_ANALYSES:
        return apa_report("t", value, p, (float(row["df"]),))
    if analysis == names.MIXED_ANOVA:
        return apa_report("F", value, p, (float(row["df_num"]), float(row["df"])))
    if names.is_correlation(analysis):
        return apa_report("ρ", value, p, (float(row["df"]),),
                           ci=(float(row["ci_low"]), float(row["ci_high"])))
    if analysis == names.MANN_WHITNEY:
        return apa_report("U", value, p, digits=1)
    raise ValueError(f"no test report for analysis {analysis!r}")


def n_per_arm(row: Mapping[str, object], arms: tuple[str, str] = ("n_mbpm", "n_wl")) -> str:
    """The analysed n of each arm of a result row, ``"23/23"`` (``arms`` names the columns)."""
    return "/".join(str(int(row[a])) for a in arms)


def markdown(df: pd.DataFrame, digits: int | Mapping[str, int] = 2,
             p_columns: tuple[str, ...] = ("p", "p_fdr")) -> Markdown:
    """``df`` as a MyST/GitHub markdown table (index dropped; name it as a column if needed).

    Every header and cell is literal text (:func:`mbpm.literal.myst`: markup, roles, HTML and
    control characters in the data render as written), except cells of type
    :class:`mbpm.literal.Markup`, which the package wrote as MyST (:func:`cite`).
    """
    def digits_for(column: str) -> int:
        return digits.get(column, 2) if isinstance(digits, Mapping) else digits

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

ESTIMATE_DIGITS = 2


def short_label(label: str) -> str:
    """A catalogue label shortened for a narrow table: a parenthetical remark is cut at its first
    comma (``"PAM-13: Mean item score (1–4, not the ...)"`` -> ``"PAM-13: Mean item score (1–4)"``);
    short parentheticals (units, ranges) stay."""
    head, sep, rest = label.partition(" (")
    if not sep or "," not in rest:
        return label
    return f"{head} ({rest.split(',')[0]})"


def _num(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals as :func:`apa_number` prints it (a true minus sign, none
    on a rounded zero), so estimates and test reports in one table print negatives alike."""
    return apa_number(value, digits)


def estimate_with_ci(estimate: float, low: float, high: float,
                     digits: int = ESTIMATE_DIGITS) -> str:
    """``"estimate [low, high]"`` with ``digits`` decimals (a no-break space after the comma
    keeps the interval on one line); the estimate alone without a CI; empty
    when the estimate is missing."""
    if estimate is None or not np.isfinite(estimate):
        return ""
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return _num(estimate, digits)
    return f"{_num(estimate, digits)} [{_num(low, digits)},\u00a0{_num(high, digits)}]"


def favours_mbpm_sign(higher_is: str) -> int:
    """+1 when a higher score is better, -1 when it is worse: multiplying an MBPM - WL difference
    by it makes positive mean "favours MBPM". Raises ValueError for a direction-free outcome."""
    signs = {"better": 1, "worse": -1}
    if higher_is not in signs:
        raise ValueError(f"higher_is must be 'better' or 'worse', got {higher_is!r}")
    return signs[higher_is]


def _p(p: float) -> str:
    """:func:`format_p` with a no-break space, so ``< 0.001`` stays on one line in a table."""
    return format_p(p).replace(" ", "\u00a0")


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
    return pd.DataFrame({
        "Outcome": welch["label"],
        "n patients/HC": [n_per_arm(r, ("n_patients", "n_hc")) for _, r in welch.iterrows()],
        _difference_header(catalogue, welch.index, "Patients", "HC"): [
            estimate_with_ci(*r) for r in welch[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "Hedges' g [95 % CI]": [
            estimate_with_ci(*r) for r in
            welch[["effect_size", "effect_size_ci_low", "effect_size_ci_high"]].to_numpy()],
        "Welch t-test": [row_report(r) for _, r in welch.iterrows()],
        "p FDR": welch["p_fdr"].map(_p),
        "Mann-Whitney": [row_report(r) for _, r in mw.iterrows()],
    }).reset_index(drop=True)


def _mean_sd(mean: float, sd: float) -> str:
    """``"mean (SD)"``: one decimal, two when the SD is below 1 (short scales such as PAM-13)."""
    if not np.isfinite(mean):
        return ""
    digits = 2 if np.isfinite(sd) and sd < 1 else 1
    return f"{mean:.{digits}f}\u00a0({sd:.{digits}f})"


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
    for group in ("MBPM", "WL"):
        for visit, name in (("baseline", "baseline"), ("week8", "week 8")):
            keys = [(o, group, visit) for o in order if (o, group, visit) in indexed.index]
            header = f"{group} {name} ({n_range(indexed.loc[keys, 'n'])})"
            cells[header] = [_mean_sd(*indexed.loc[(o, group, visit), ["mean", "sd"]])
                             if (o, group, visit) in indexed.index else "" for o in order]
    return pd.DataFrame(cells)


def n_range(ns: pd.Series) -> str:
    """``"n = 25"``, or ``"n = 21–23"`` when the n differ (an en dash); ``"n = 0"`` for none.
    No-break spaces keep it on one line."""
    values = [int(v) for v in ns if pd.notna(v)]
    low, high = (min(values), max(values)) if values else (0, 0)
    return f"n\u00a0=\u00a0{low}" if low == high else f"n\u00a0=\u00a0{low}\u2013{high}"


def prepost_classic_table(mixed_anova: pd.DataFrame, within: pd.DataFrame, family: str,
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """The classic analysis of one family on completers (text cells; ``markdown(df, p_columns=())``):
    n analysed per arm (MBPM/WL), the group x time interaction of the mixed ANOVA as a complete
    report F(df1, df2) = F, p (:func:`row_report`) and partial eta squared, and each arm's paired
    t-test as Cohen's dz with its p."""
    anova = _family_rows(mixed_anova, family, catalogue, names.MIXED_ANOVA)
    paired = within.loc[within["analysis"] == names.PAIRED]
    out = {"Outcome": anova["label"],
           "n MBPM/WL": [n_per_arm(r) for _, r in anova.iterrows()],
           "Interaction": [row_report(r) for _, r in anova.iterrows()],
           "ηp²": anova["effect_size"].map(lambda v: f"{v:.3f}")}
    for arm in ("MBPM", "WL"):
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
        "n MBPM/WL (mixed model)": [f"{n_per_arm(a)}\u00a0({int(m['n'])})"
                                    for (_, a), (_, m) in zip(anc.iterrows(), mm.iterrows())],
        "ANCOVA " + _difference_header(catalogue, anc.index, "MBPM", "WL").split(" [")[0]: [
            estimate_with_ci(*r) for r in anc[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "ANCOVA test": [row_report(r) for _, r in anc.iterrows()],
        "p FDR": anc["p_fdr"].map(_p),
        "Mixed model": [
            estimate_with_ci(*r) for r in mm[["estimate", "ci_low", "ci_high"]].to_numpy(float)],
        "Mixed model test": [row_report(r) for _, r in mm.iterrows()],
    }).reset_index(drop=True)


def english_list(items: list[str], empty: str = "none") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``; ``empty`` for no items."""
    items = list(items)
    if not items:
        return empty
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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
    for arm in ("MBPM", "WL"):
        rows = paired.loc[paired["contrast"] == names.within_contrast(arm)]
        out[arm] = (int(rows["improved"].sum()), len(rows))
    return out


# --- Biomarkers and oxytocin-pain ---
# Display tables for chapters/biomarkers.md and chapters/oxytocin_pain.md: result tables of
# mbpm.analysis.Results in, compact tables of formatted text cells out (cells formatted with
# estimate_with_ci and _p above).


def biomarker_sig(value: float, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant digits in fixed notation (no exponent):
    45.678 -> "45.7", 1234.4 -> "1234" (digits left of the point are never cut), 0.012345 ->
    "0.0123"."""
    if value is None or not math.isfinite(value):
        return ""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def biomarker_ci(estimate: float, low: float, high: float, digits: int | None = None) -> str:
    """:func:`estimate_with_ci` with ``digits`` decimals, or with ``digits`` = None the decimals
    that give the estimate three significant digits (:func:`biomarker_sig`), for geometric means
    that range from below 1 to thousands."""
    if digits is None:
        if estimate is None or not math.isfinite(estimate):
            return ""
        digits = len(biomarker_sig(estimate).partition(".")[2])
    return estimate_with_ci(estimate, low, high, digits)


def biomarker_p_text(p: float) -> str:
    """A p-value for prose: ``"p = 0.012"`` or ``"p < 0.001"`` (:func:`format_p`)."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


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
    cells: dict[str, list[str]] = {"Analyte": [], "Arm": [], "n paired": [], "Baseline": [],
                                   "Week 8": [], "Week 8 / baseline": [], "dz": [],
                                   "Paired t-test": []}
    for analyte in analytes:
        for arm in ("MBPM", "WL"):
            paired = _biomarker_rows(within, names.PAIRED, [analyte],
                                     names.within_contrast(arm)).loc[analyte]
            first = arm == "MBPM"
            cells["Analyte"].append(f"{catalogue.at[analyte, 'label']} "
                                    f"({catalogue.at[analyte, 'unit']})" if first else "")
            cells["Arm"].append(arm)
            cells["n paired"].append(str(int(paired["n"])))
            for visit, column in (("baseline", "Baseline"), ("week8", "Week 8")):
                key = (analyte, arm, visit)
                cells[column].append(biomarker_ci(*gm.loc[key, ["gmean", "gmean_ci_low",
                                                               "gmean_ci_high"]])
                                     if key in gm.index else "")
            cells["Week 8 / baseline"].append(
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
        "n MBPM/WL (mixed model)": [f"{n_per_arm(r)}\u00a0({int(m['n'])})"
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
                               _c=correlations["contrast"] != "MBPM")
    rows = rows.sort_values(["_o", "_c"], kind="stable")
    return pd.DataFrame({
        "Outcome": rows["outcome"].map(catalogue["label"]).to_list(),
        "Patients": rows["contrast"].str.replace(" (pooled)", ", pooled", regex=False).to_list(),
        "n": rows["n"].astype(int).to_list(),
        "Spearman ρ(df), 95 % CI, raw p": [row_report(r) for _, r in rows.iterrows()],
        "FDR p": rows["p_fdr"].map(_p).to_list(),
    })


def proportion_text(proportion: float, mc_se: float, trials: int) -> str:
    """A simulated proportion with its Monte Carlo standard error, in percent: ``"37 % ± 5"``;
    at 0 or 1, where the standard error is 0 and says nothing, the count instead:
    ``"0 of 24 trials"``."""
    if proportion in (0.0, 1.0):
        return f"{round(proportion * trials)} of {trials} trials"
    return f"{100 * proportion:.0f}\u00a0% ± {100 * mc_se:.0f}"


def families_sentence(with_result: list[str], without: list[str], what: str) -> str:
    """Which families have at least one ``what``, as a sentence: ``"“pain” and “mood” have at least
    one such difference; “function and activation” has none"``; ``"no family has one"`` or
    ``"every family has at least one"`` when one list is empty."""
    def names(families: list[str]) -> str:
        return english_list([f"“{f}”" for f in families])

    if not with_result:
        return f"no family has {what}"
    if not without:
        return f"every family has {what}"
    verb = "has" if len(with_result) == 1 else "have"
    none_verb = "has" if len(without) == 1 else "have"
    return f"{names(with_result)} {verb} {what}; {names(without)} {none_verb} none"
