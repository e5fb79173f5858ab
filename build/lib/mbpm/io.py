"""Find and read a study data folder (the layout of DATA.md).

``MBPM_DATA`` names the folder; without it the simulated cohort shipped in ``data/`` is used.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The simulated cohort shipped with the book.
SHIPPED_DATA = Path(__file__).resolve().parent.parent / "data"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data folder to read: ``path``, else ``$MBPM_DATA``, else the shipped ``data/``."""
    chosen = path or os.environ.get("MBPM_DATA") or SHIPPED_DATA
    return Path(chosen).expanduser().resolve()
