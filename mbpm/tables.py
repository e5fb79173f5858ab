"""Publication tables: tidy DataFrames to MyST markdown that renders in HTML and in the PDF.

myst-nb renders ``text/markdown`` outputs as real tables in both builders (``text/html`` from
``DataFrame._repr_html_`` would fall back to monospaced text in LaTeX), so chapters glue
``markdown(df)`` and place it inside a ``{table}`` directive with a caption and a label.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import pandas as pd
from IPython.display import Markdown


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


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(df: pd.DataFrame, digits: int | Mapping[str, int] = 2,
             p_columns: tuple[str, ...] = ("p", "p_fdr")) -> Markdown:
    """``df`` as a MyST/GitHub markdown table (index dropped; name it as a column if needed)."""
    def digits_for(column: str) -> int:
        return digits.get(column, 2) if isinstance(digits, Mapping) else digits

    header = "| " + " | ".join(_escape(str(c)) for c in df.columns) + " |"
    rule = "|" + "|".join(":--" if not pd.api.types.is_numeric_dtype(df[c]) else "--:"
                          for c in df.columns) + "|"
    rows = []
    for record in df.itertuples(index=False):
        cells = [format_p(v) if c in p_columns else format_value(v, digits_for(c))
                 for c, v in zip(df.columns, record)]
        rows.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
    return Markdown("\n".join([header, rule, *rows]))


def cite(keys: str) -> str:
    """MyST citation role for comma-separated BibTeX keys (``"a, b"`` -> ``{cite:p}`a,b```)."""
    return "{cite:p}`" + ",".join(k.strip() for k in keys.split(",")) + "`"


# --- Biomarkers and oxytocin-pain ---
# Display tables for chapters/biomarkers.md and chapters/oxytocin_pain.md: result tables of
# mbpm.analysis.Results in, compact tables of formatted text cells out.

#: A no-break space: keeps "[low, high]" and "< 0.001" on one line in a table cell.
_NBSP = "\u00a0"


def biomarker_sig(value: float, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant digits in fixed notation (no exponent):
    45.678 -> "45.7", 1234.5 -> "1235" (integers are never cut), 0.012345 -> "0.0123"."""
    if value is None or not math.isfinite(value):
        return ""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def biomarker_ci(estimate: float, low: float, high: float, digits: int | None = None) -> str:
    """``"estimate [low, high]"``; with ``digits`` = None all three with the number of decimals
    that gives the estimate three significant digits, else ``digits`` decimals."""
    if estimate is None or not math.isfinite(estimate):
        return ""
    if digits is None:
        digits = len(biomarker_sig(estimate).partition(".")[2])

    def fixed(x: float) -> str:  # no "-0.00" for a value that rounds to zero
        text = f"{x:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text

    return f"{fixed(estimate)} [{fixed(low)},{_NBSP}{fixed(high)}]"


def biomarker_p_text(p: float) -> str:
    """A p-value for prose: ``"p = 0.012"`` or ``"p < 0.001"`` (:func:`format_p`)."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _biomarker_p(p: float) -> str:
    return format_p(p).replace(" ", _NBSP)


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
    [95 % CI], Cohen's dz and p (column "p (t)"). The analyte's label and unit head its first row."""
    gm = described.set_index(["outcome", "group", "visit"])
    cells: dict[str, list[str]] = {"Analyte": [], "Arm": [], "Baseline": [], "Week 8": [],
                                   "Week 8 / baseline": [], "dz": [], "p (t)": []}
    for analyte in analytes:
        for arm in ("MBPM", "WL"):
            paired = _biomarker_rows(within, "paired t-test", [analyte],
                                     f"{arm}: week8 vs baseline").iloc[0]
            first = arm == "MBPM"
            cells["Analyte"].append(f"{catalogue.at[analyte, 'label']} "
                                    f"({catalogue.at[analyte, 'unit']})" if first else "")
            cells["Arm"].append(arm)
            for visit, column in (("baseline", "Baseline"), ("week8", "Week 8")):
                key = (analyte, arm, visit)
                cells[column].append(biomarker_ci(*gm.loc[key, ["gmean", "gmean_ci_low",
                                                               "gmean_ci_high"]])
                                     if key in gm.index else "")
            cells["Week 8 / baseline"].append(
                biomarker_ci(paired["estimate"], paired["ci_low"], paired["ci_high"], 2))
            cells["dz"].append("" if not math.isfinite(paired["effect_size"])
                               else f"{paired['effect_size']:.2f}")
            cells["p (t)"].append(_biomarker_p(paired["p"]))
    return pd.DataFrame(cells)


def biomarker_tests_table(mixed_anova: pd.DataFrame, ancova: pd.DataFrame,
                          mixed_model: pd.DataFrame, analytes: list[str],
                          catalogue: pd.DataFrame) -> pd.DataFrame:
    """MBPM vs WL per analyte, all on the log scale: the mixed-ANOVA group x time interaction as
    F (df1, df2) with p and partial eta squared (completers); the ANCOVA ratio of geometric means
    at week 8 adjusted for baseline [95 % CI] (primary) with p and its Benjamini-Hochberg p
    within the biomarker family; the mixed model's ratio of fold changes [95 % Wald CI] with
    its Wald p (everyone with data)."""
    anova = _biomarker_rows(mixed_anova, "mixed ANOVA (completers)", analytes)
    anc = _biomarker_rows(ancova, "ANCOVA (completers)", analytes)
    lmm = _biomarker_rows(mixed_model, "linear mixed model (Wald)", analytes)
    return pd.DataFrame({
        "Analyte": [catalogue.at[a, "label"] for a in analytes],
        "F (df), p": [f"{f:.2f}{_NBSP}({d1:.0f},{_NBSP}{d2:.0f}), {_biomarker_p(p)}"
                      for f, d1, d2, p in anova[["statistic", "df_num", "df", "p"]].to_numpy()],
        "ηp²": [f"{v:.3f}" for v in anova["effect_size"]],
        "ANCOVA ratio [95 % CI]": [biomarker_ci(*r, 2) for r in
                                   anc[["estimate", "ci_low", "ci_high"]].to_numpy()],
        "p (FDR p)": [f"{_biomarker_p(p)} ({_biomarker_p(q)})"
                      for p, q in anc[["p", "p_fdr"]].to_numpy()],
        "Mixed model [95 % CI]": [biomarker_ci(*r, 2) for r in
                                  lmm[["estimate", "ci_low", "ci_high"]].to_numpy(float)],
        "p Wald": lmm["p"].map(_biomarker_p).to_list(),
    })


def biomarker_correlation_table(correlations: pd.DataFrame,
                                catalogue: pd.DataFrame) -> pd.DataFrame:
    """``Results.correlations`` for display: outcome label, who (``MBPM`` or ``MBPM+WL
    (pooled)``), n, Spearman rho [95 % CI], raw p and Benjamini-Hochberg p (within the outcome's
    family and contrast). Rows by outcome in the order given, MBPM before pooled."""
    order = {o: i for i, o in enumerate(dict.fromkeys(correlations["outcome"]))}
    rows = correlations.assign(_o=correlations["outcome"].map(order),
                               _c=correlations["contrast"] != "MBPM")
    rows = rows.sort_values(["_o", "_c"], kind="stable")
    return pd.DataFrame({
        "Outcome": rows["outcome"].map(catalogue["label"]).to_list(),
        "Patients": rows["contrast"].str.replace(" (pooled)", ", pooled", regex=False).to_list(),
        "n": rows["n"].astype(int).to_list(),
        "ρ [95 % CI]": [biomarker_ci(*r, 2) for r in
                        rows[["estimate", "ci_low", "ci_high"]].to_numpy(float)],
        "Raw p": rows["p"].map(_biomarker_p).to_list(),
        "FDR p": rows["p_fdr"].map(_biomarker_p).to_list(),
    })
