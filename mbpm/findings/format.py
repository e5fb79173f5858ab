"""How the book writes numbers and phrases: decimals, p-values, test reports, confidence
intervals, lists. Every format rule lives here once; :mod:`mbpm.tables` (the book's tables) and
the chapters' findings (:mod:`mbpm.findings`) use these functions.

>>> ci_phrase(1.0612, 0.7093, 1.5811)
'1.06 (95 % CI 0.71 to 1.58)'
>>> format_p(0.0004), apa_p(0.0412)
('< 0.001', 'p = .041')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mbpm import study
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


def n_per_arm(row: Mapping[str, object], arms: tuple[str, str] | None = None) -> str:
    """The analysed n of each arm of a result row, ``"23/23"`` (``arms`` names the columns;
    default the treated and control arms' :attr:`~mbpm.study.Arm.size_key`, ``n_mbpm``/``n_wl``
    in the shipped study)."""
    if arms is None:
        d = study.active()
        arms = (d.treated.size_key, d.control.size_key)
    return "/".join(str(int(row[a])) for a in arms)


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


def _mean_sd(mean: float, sd: float) -> str:
    """``"mean (SD)"``: one decimal, two when the SD is below 1 (short scales such as PAM-13)."""
    if not np.isfinite(mean):
        return ""
    digits = 2 if np.isfinite(sd) and sd < 1 else 1
    return f"{mean:.{digits}f}\u00a0({sd:.{digits}f})"


#: No line break on either side of it (Unicode's word joiner, in the book's fonts).
WORD_JOINER = "\u2060"
NBSP = "\u00a0"


def n_range(ns: pd.Series) -> str:
    """``"n = 25"``, or ``"n = 21–23"`` when the n differ (an en dash); ``"n = 0"`` for none.
    No-break spaces, and word joiners (U+2060) around the dash, keep it on one line (a line may
    otherwise break after an en dash: "n = 23–" / "25" in a narrow header, issue 14)."""
    values = [int(v) for v in ns if pd.notna(v)]
    low, high = (min(values), max(values)) if values else (0, 0)
    return (f"n\u00a0=\u00a0{low}" if low == high
            else f"n\u00a0=\u00a0{low}{WORD_JOINER}\u2013{WORD_JOINER}{high}")


def english_list(items: list[str], empty: str = "none") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``; ``empty`` for no items."""
    items = list(items)
    if not items:
        return empty
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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
    """A p-value for prose: ``"p = 0.012"`` or ``"p < 0.001"`` (:func:`format_p`), with
    no-break spaces so that a line never ends at "p" or "=" (issue 14: "primary p / = 0.764")."""
    text = format_p(p)
    return (f"p {text}" if text.startswith("<") else f"p = {text}").replace(" ", NBSP)


def proportion_text(proportion: float, mc_se: float, trials: int) -> str:
    """A simulated proportion with its Monte Carlo standard error, in percent, the error to one
    decimal (with 1,000 trials it is 0.5 to 1.6 points): ``"38 % ± 4.9"``; at 0 or 1, where the
    standard error is 0 and says nothing, the count instead: ``"0 of 1,000 trials"``."""
    if proportion in (0.0, 1.0):
        return f"{round(proportion * trials):,} of {trials:,} trials"
    return f"{100 * proportion:.0f}\u00a0% ± {100 * mc_se:.1f}"


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


def ci_phrase(estimate: float, low: float, high: float, digits: int = 2,
              level: float | None = None) -> str:
    """An estimate with its confidence interval as prose writes it:
    ``"1.06 (95 % CI 0.71 to 1.58)"`` (:func:`apa_number`: a true minus sign for negatives; the
    level is the definition's ``confidence_level`` unless given)."""
    level = study.active().plan("confidence_level") if level is None else level
    return (f"{apa_number(estimate, digits)} ({100 * level:g} % CI {apa_number(low, digits)} "
            f"to {apa_number(high, digits)})")


def lower_first(label: str) -> str:
    """A label inside a sentence: the first letter lower-cased unless the first word is an
    acronym (``"Wait-list"`` -> ``"wait-list"``, ``"MBPM course"`` unchanged)."""
    head = label.split(" ")[0].split("-")[0]
    return label if head.isupper() else label[:1].lower() + label[1:]


def study_words(definition: study.Definition | None = None) -> dict[str, str]:
    """The arm and visit names prose uses, from the study definition (glued as ``treated``,
    ``control``, ``treated_id``, ``control_id``, ``reference``, ``pre``, ``post``): the treated arm
    by its id (``"MBPM"``), the control arm by its label in a sentence (``"wait-list"``), the
    visits by their labels in a sentence (``"baseline"``, ``"week 8"``)."""
    d = definition or study.active()
    words = {"treated": d.treated.id, "control": lower_first(d.control.label),
             "treated_id": d.treated.id, "control_id": d.control.id,
             "pre": lower_first(d.pre.label), "post": lower_first(d.post.label)}
    if d.reference is not None:
        words["reference"] = lower_first(d.reference.label)
    return words
