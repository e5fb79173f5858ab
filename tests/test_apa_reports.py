"""The complete test report formatter (mbpm.tables.apa_report, row_report) on hand-made values.

Expected strings are typed from APA style (7th ed., section 6.43-6.46): statistic with its degrees
of freedom, two decimals, p with three decimals and no leading zero, "p < .001" below that.
"""

from __future__ import annotations

import pytest

from mbpm import tables

M = "\u2212"  # minus sign


def _plain(text: str) -> str:
    """The report with its no-break spaces as spaces (checked separately)."""
    return text.replace("\u00a0", " ")


@pytest.mark.parametrize("args, kwargs, expected", [
    (("F", 0.0106, 0.918, (1, 44)), {}, "F(1, 44) = 0.01, p = .918"),
    (("F", 12.3456, 0.0004, (1.0, 44.0)), {}, "F(1, 44) = 12.35, p < .001"),
    (("t", -1.2034, 0.2357, (43.2123,)), {}, f"t(43.2) = {M}1.20, p = .236"),
    (("t", 2.0, 0.05149, (43,)), {}, "t(43) = 2.00, p = .051"),
    (("t", -0.001, 0.9996, (18.24,)), {}, "t(18.2) = 0.00, p > .999"),  # no "−0.00"
    (("U", 250, 0.4123), {"digits": 1}, "U = 250.0, p = .412"),
    (("ρ", -0.2134, 0.3102, (21,)), {"ci": (-0.553, 0.182)},
     f"ρ(21) = {M}0.21, 95 % CI {M}0.55 to 0.18, p = .310"),
])
def test_apa_report(args, kwargs, expected):
    assert _plain(tables.apa_report(*args, **kwargs)) == expected


def test_apa_report_breaks_only_between_its_parts():
    nb = "\u00a0"
    assert tables.apa_report("F", 0.0106, 0.918, (1, 44)) == f"F(1,{nb}44){nb}={nb}0.01, p{nb}={nb}.918"
    assert tables.apa_report("ρ", 0.5, 0.01, (21,), ci=(0.1, 0.8)) == (
        f"ρ(21){nb}={nb}0.50, 95{nb}% CI 0.10 to 0.80, p{nb}={nb}.010")


def test_apa_p_boundaries():
    assert tables.apa_p(0.00099) == "p < .001"
    assert tables.apa_p(0.001) == "p = .001"
    assert tables.apa_p(0.04951) == "p = .050"
    assert tables.apa_p(0.9996) == "p > .999"


def test_format_df():
    assert tables.format_df(44.0) == "44"
    assert tables.format_df(43.96) == "44.0"  # fractional df keeps its decimal
    assert tables.format_df(18.289828) == "18.3"


def test_row_report_picks_the_statistic_of_each_analysis():
    def report(**row):
        return _plain(tables.row_report(row))

    base = {"statistic": -1.2034, "df": 43.2123, "p": 0.2357}
    for analysis in ("Welch t-test", "paired t-test", "ANCOVA (completers)",
                     "linear mixed model (REML, Satterthwaite)"):
        assert report(**base, analysis=analysis) == f"t(43.2) = {M}1.20, p = .236"
    assert report(analysis="mixed ANOVA (completers)", statistic=4.1712, df_num=1.0, df=44.0,
                  p=0.0473) == "F(1, 44) = 4.17, p = .047"
    assert report(analysis="Mann-Whitney U", statistic=74.5, df=float("nan"),
                  p=3e-6) == "U = 74.5, p < .001"
    assert report(analysis="Spearman correlation of change with oxytocin change",
                  statistic=0.00996, df=20.0, p=0.9649, ci_low=-0.4134, ci_high=0.4298) == (
        f"ρ(20) = 0.01, 95 % CI {M}0.41 to 0.43, p = .965")
    with pytest.raises(ValueError, match="no test report"):
        tables.row_report({**base, "analysis": "Wilcoxon signed-rank"})


def test_n_per_arm():
    assert tables.n_per_arm({"n_mbpm": 23.0, "n_wl": 21}) == "23/21"
    assert tables.n_per_arm({"n_patients": 50, "n_hc": 15}, ("n_patients", "n_hc")) == "50/15"


def test_n_range():
    import pandas as pd

    assert _plain(tables.n_range(pd.Series([25, 25]))) == "n = 25"
    # No-break spaces, and word joiners around the dash: no line break inside (issue 14).
    assert tables.n_range(pd.Series([23, 21, 22.0])) == "n\u00a0=\u00a021\u2060\u2013\u206023"
    assert _plain(tables.n_range(pd.Series([], dtype=float))) == "n = 0"
