"""Text blocks the chapters show: the data notice on every results page."""

from __future__ import annotations

from pathlib import Path

from IPython.display import Markdown

from mbpm.io import Study
from mbpm.literal import code, myst


def data_notice(study: Study) -> Markdown:
    """A visible admonition saying where this page's numbers come from.

    On the simulated cohort it names the seed and says the numbers prove nothing about the
    trial; on a real export it names the folder. The seed, version and folder name come from
    the folder, so they are literal text (:func:`mbpm.literal.myst`, :func:`mbpm.literal.code`).
    """
    if study.simulation:
        sim = study.simulation
        return Markdown(
            ":::{admonition} Simulated data\n:class: warning\n\n"
            f"Every number on this page is computed from a **simulated** cohort (seed "
            f"{myst(sim.get('seed'))}, generator version {myst(sim.get('generator_version'))}, data "
            f"folder {code(Path(study.source).name)}). It demonstrates the analysis; it is not a result of the trial "
            "of Aygün et al. and says nothing about whether its findings hold.\n:::"
        )
    return Markdown(
        ":::{admonition} Data\n:class: note\n\n"
        f"The numbers on this page are computed from the data folder {code(Path(study.source).name)}.\n:::"
    )
