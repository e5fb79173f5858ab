"""A pytest plugin for the regression references: nbval compares numbers to six significant digits.

nbval compares a re-executed chapter's outputs with the stored reference as strings, after the
regular expressions of ``tests/nbval_sanitize.cfg``. A regular expression can only cut digits, and
a cut moves whenever a value sits on it: 12.5 computed as 12.499999999999998 on another CPU
would be cut to 12.4999. This plugin rounds instead: after nbval's own sanitizers, every decimal
number in an output is written with six significant digits (:func:`round_numbers`), so "12.5"
and "12.499999999999998" both read "12.5", while a change of a reported number (shown with at
most four significant digits) still fails. Integers (counts) are compared exactly.

Its ``pytest_configure`` hook is imported by ``tests/conftest.py``, so it is active whenever
pytest collects the references under ``tests/``.
"""

from __future__ import annotations

import re

#: A decimal number (with an optional exponent) that is not part of a word or a longer number.
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])")
SIGNIFICANT = 6


def round_number(text: str, digits: int = SIGNIFICANT) -> str:
    """``"0.30000000000000004"`` -> ``"0.3"``; ``"1234.56789"`` -> ``"1234.57"``."""
    value = float(text)
    return format(0.0 if value == 0 else value, f".{digits}g")


def round_numbers(text: str, digits: int = SIGNIFICANT) -> str:
    """Every decimal number of ``text`` rounded to ``digits`` significant digits."""
    return DECIMAL.sub(lambda m: round_number(m.group(0), digits), text)


def pytest_configure(config) -> None:
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell.sanitize, "rounds_numbers", False):
        return
    regex_only = IPyNbCell.sanitize

    def sanitize(self, s):
        s = regex_only(self, s)
        return round_numbers(s) if isinstance(s, str) else s

    sanitize.rounds_numbers = True
    IPyNbCell.sanitize = sanitize
