"""Errors the package raises on bad input."""

from __future__ import annotations


class DataError(ValueError):
    """A data folder breaks the contract (the data contract, shown in the data chapter).

    The message names the file, the row or well, the column, and what was expected, e.g.
    ``participants.csv, row 7 (P007), column age: expected an integer from 18 to 60, got 71``.
    """


class PlateFitError(RuntimeError):
    """A plate's standard curve cannot be fitted or fits badly; the message names the plate."""
