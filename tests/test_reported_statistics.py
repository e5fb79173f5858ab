"""Every complete test report printed in the built pages is consistent (statcheck's check).

statcheck (Nuijten et al. 2016, Behav Res Methods 48:1205) finds APA-style reports such as
"F(1, 44) = 0.01, p = .918" or "t(43.2) = −1.20, p = .236" in a text, recomputes the two-sided p
from the printed statistic and degrees of freedom, and flags a printed p that no value of the
statistic and df consistent with their printed rounding can give. The PyPI port crashes with
current numpy on F reports, so the few regular expressions and scipy's distributions are here.
Spearman reports "ρ(df) = r, 95 % CI a to b, p = y" are checked with the t test of r on df
(scipy.stats.spearmanr's p). Rank statistics without df ("U = 74.5") cannot be recomputed and are
not checked, as in statcheck.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from book_html import article, soup

RESULTS_CHAPTERS = ("baseline", "biomarkers", "psychological", "oxytocin_pain")

_NUM = r"-?\d+(?:\.\d+)?"
_DF = r"\d+(?:\.\d+)?"
_P = r"p\s*(?P<rel>[<>=])\s*(?P<p>0?\.\d+|1(?:\.0+)?)"
PATTERNS = {
    "F": re.compile(rf"\bF\s*\(\s*(?P<df1>{_DF})\s*,\s*(?P<df2>{_DF})\s*\)\s*=\s*(?P<stat>{_NUM})"
                    rf"\s*,\s*{_P}"),
    "t": re.compile(rf"\bt\s*\(\s*(?P<df1>{_DF})\s*\)\s*=\s*(?P<stat>{_NUM})\s*,\s*{_P}"),
    "ρ": re.compile(rf"ρ\s*\(\s*(?P<df1>{_DF})\s*\)\s*=\s*(?P<stat>{_NUM})"
                    rf"(?:\s*,\s*95\s*%\s*CI\s+{_NUM}\s+to\s+{_NUM})?\s*,\s*{_P}"),
}


@dataclass(frozen=True)
class Report:
    kind: str
    text: str
    stat: str
    dfs: tuple[str, ...]
    rel: str
    p: str


def normalize(text: str) -> str:
    """No-break spaces and runs of whitespace to one space, typographic minus to hyphen-minus."""
    return re.sub(r"\s+", " ", text.replace("\u2212", "-").replace("\u00a0", " "))


def find_reports(text: str) -> list[Report]:
    """Every complete F, t and Spearman report in ``text``."""
    text = normalize(text)
    found = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            dfs = tuple(m.group(g) for g in ("df1", "df2") if g in pattern.groupindex)
            found.append(Report(kind, m.group(0), m.group("stat"), dfs, m.group("rel"),
                                m.group("p")))
    return found


def _bounds(printed: str) -> tuple[float, float]:
    """The interval of values that round to ``printed`` (an integer is exact)."""
    value = float(printed)
    if "." not in printed:
        return value, value
    half = 0.5 * 10.0 ** -len(printed.split(".")[1])
    return value - half, value + half


def _p_value(kind: str, stat: float, dfs: tuple[float, ...]) -> float:
    """Two-sided p of t and of Spearman's r (t = r sqrt(df / (1 - r^2))); upper tail of F."""
    if kind == "F":
        return float(stats.f.sf(max(stat, 0.0), dfs[0], dfs[1]))
    if kind == "ρ":
        r = min(abs(stat), 1 - 1e-12)
        stat = r * np.sqrt(dfs[0] / (1 - r * r))
    return float(2 * stats.t.sf(abs(stat), dfs[0]))


def p_range(report: Report) -> tuple[float, float]:
    """Smallest and largest p over every statistic and df that round to the printed ones."""
    lo, hi = _bounds(report.stat.lstrip("-"))
    stats_ = (max(lo, 0.0), hi)
    df_grid = [np.linspace(*_bounds(d), 5) for d in report.dfs]
    ps = [_p_value(report.kind, s, dfs) for s in stats_
          for dfs in np.array(np.meshgrid(*df_grid)).reshape(len(df_grid), -1).T]
    return min(ps), max(ps)


def inconsistency(report: Report) -> str | None:
    """Why ``report``'s p cannot come from its statistic and df, or None when it can."""
    low, high = p_range(report)
    if report.rel == "<":
        ok = low < float(report.p)
    elif report.rel == ">":
        ok = high > float(report.p)
    else:
        p_lo, p_hi = _bounds(report.p)
        ok = low <= p_hi and high >= p_lo
    return None if ok else f"{report.text!r}: recomputed p in [{low:.4f}, {high:.4f}]"


def check_text(text: str) -> tuple[list[Report], list[str]]:
    """The reports in ``text`` and the inconsistent ones (as messages)."""
    reports = find_reports(text)
    return reports, [m for m in map(inconsistency, reports) if m]


# --- the checker on hand-made text ------------------------------------------------------------

def test_checker_accepts_consistent_reports():
    # p by hand from scipy: f.sf(0.01, 1, 44) = 0.921; 2 t.sf(1.20, 43.2) = 0.237;
    # rho = -0.21 on 21 df: t = 0.984, p = 0.336.
    text = ("the interaction, F(1, 44) = 0.01, p = .918, and the Welch test, t(43.2) = \u22121.20,"
            " p = .236; \u03c1(21) = \u22120.21, 95 % CI \u22120.55 to 0.18, p = .336;"
            " t(18.3) = \u22125.23, p < .001; U = 74.5, p < .001")
    reports, bad = check_text(text)
    assert [r.kind for r in reports] == ["F", "t", "t", "ρ"]
    assert bad == []


def test_checker_fails_on_a_planted_error():
    page = "<p>ANCOVA: t(43) = 1.24, p = .022 (should be .222); F(1,\u00a044) = 4.17, p = .047</p>"
    reports, bad = check_text(page)
    assert len(reports) == 2
    assert len(bad) == 1 and "t(43) = 1.24, p = .022" in bad[0]
    assert check_text("F(1, 44) = 0.93, p < .001")[1], "p < .001 from F = 0.93 must fail"
    assert check_text("\u03c1(21) = 0.50, p = .315")[1], "rho 0.50 on 21 df has p = .015"


def test_checker_allows_the_rounding_of_the_statistic():
    # t = 1.96 printed, true t in [1.955, 1.965] on 30 df: p from .0587 to .0600 (scipy),
    # so .059 and .060 are both consistent, .058 and .062 are not.
    assert not check_text("t(30) = 1.96, p = .059")[1]
    assert not check_text("t(30) = 1.96, p = .060")[1]
    assert check_text("t(30) = 1.96, p = .058")[1]
    assert check_text("t(30) = 1.96, p = .062")[1]


# --- the built pages -------------------------------------------------------------------------

@pytest.mark.book
def test_every_reported_test_in_the_book_is_consistent(html_dir: Path):
    counts, problems = {}, []
    for page in sorted((html_dir / "chapters").glob("*.html")):
        reports, bad = check_text(article(soup(page)).get_text(" "))
        counts[page.stem] = len(reports)
        problems += [f"{page.name}: {message}" for message in bad]
    missing = [c for c in RESULTS_CHAPTERS if not counts.get(c)]
    assert not missing, f"no complete test report found in {missing} (found: {counts})"
    assert not problems, "printed p inconsistent with the printed statistic:\n" + "\n".join(problems)
