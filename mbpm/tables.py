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
