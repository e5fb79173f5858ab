"""Which data folder to read, without importing the data layer (pandas): the book build's
input fingerprint (chapters/_ext/book_assets.py) needs only this. :mod:`mbpm.io` re-exports both
names."""

from __future__ import annotations

import os
from pathlib import Path

from mbpm.errors import DataError

#: The simulated cohort shipped with the book.
SHIPPED_DATA = Path(__file__).resolve().parent.parent / "data"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data folder to read: ``path``, else ``$MBPM_DATA``, else the shipped ``data/``.

    The shipped cohort lives beside the package in the book's source tree; an installed package
    (``pip install .``) has none, and then a folder must be given.

    >>> data_dir("/tmp/somewhere").as_posix()
    '/tmp/somewhere'
    """
    chosen = path or os.environ.get("MBPM_DATA")
    if not chosen and not SHIPPED_DATA.is_dir():
        raise DataError("no data folder given: pass one (e.g. python -m mbpm validate FOLDER) or "
                        "set MBPM_DATA; the simulated cohort ships with the book's source, not "
                        "with the installed package (python -m mbpm simulate OUT writes one)")
    return Path(chosen or SHIPPED_DATA).expanduser().resolve()
