"""What each chapter's prose quotes, computed and formatted outside the chapter.

One module per chapter (``baseline``, ``biomarkers``, ``psychological``, ...) with one function
that takes the study's results and returns every number and phrase the chapter's text uses, as a
dict keyed by the chapter's glue names; :mod:`mbpm.findings.format` holds the format rules. A
chapter glues the dict in one call: ``glue_all(findings.biomarkers.findings(results, ...))``.
"""

from __future__ import annotations

from collections.abc import Mapping


def glue_all(found: Mapping[str, object], prefix: str = "") -> None:
    """``myst_nb.glue`` every entry of ``found`` (name -> value), without displaying it."""
    from myst_nb import glue

    for name, value in found.items():
        glue(prefix + name, value, display=False)
