"""What the robustness chapter (``chapters/robustness.md``) quotes: how many specifications of
each headline result agree with the primary one; the smallest effects the primary tests detect;
how often simulated trials reproduce the abstract's claims at each size.

Three functions, one per part of the chapter; keys are the chapter's glue names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mbpm import study
from mbpm.findings.format import study_words

#: The claims whose power the text quotes at the paper's size (``pow<k>``, ``se<k>``) and the one
#: it quotes at the largest size (``pow<k>_large``).
POWER_CLAIMS = (2, 3, 4, 5)
LARGE_CLAIM = 2


def specification_findings(agreement: pd.DataFrame,
                           definition: study.Definition | None = None) -> dict[str, Any]:
    """From :func:`mbpm.robustness.agreement`: the interplay marker's specifications, how many
    point the primary's way and how many have p < alpha; totals over every headline result."""
    d = definition or study.active()
    agree = agreement.set_index("outcome")
    ox = agree.loc[d.outcome_set("interplay_marker")]
    return {"alpha": d.plan("significance_level"), "power_pct": 100 * d.plan("target_power"),
            "ox_specs": int(ox["specs"]), "ox_same": int(ox["same_direction"]),
            "ox_sig": int(ox["significant"]), "n_results": len(agree),
            "n_specs_total": int(agree["specs"].sum()),
            "n_all_agree": int((agree["same_direction"] == agree["specs"]).sum()),
            "n_sig_total": int(agree["significant"].sum()), **study_words(d)}


def ancova_test_name(definition: study.Definition | None = None) -> str:
    """How :func:`mbpm.design.detectable_effects` names the ANCOVA row: "ANCOVA, MBPM vs WL"."""
    d = definition or study.active()
    return f"ANCOVA, {d.treated.id} vs {d.control.id}"


def detectable_findings(mde: pd.DataFrame, simulated_effect: float, catalogue: pd.DataFrame,
                        definition: study.Definition | None = None) -> dict[str, Any]:
    """The ANCOVA row of the interplay marker in :func:`mbpm.design.detectable_effects` (its
    detectable effect in SDs and as a ratio, rho, n) and the simulation's true ratio
    exp(``simulated_effect``), the log effect of the treated arm on the marker."""
    d = definition or study.active()
    label = catalogue.at[d.outcome_set("interplay_marker"), "label"]
    row = mde.set_index(["test", "outcome"]).loc[(ancova_test_name(d), label)]
    return {"mde_ox_sd": float(row["mde_sd"]), "mde_ox_ratio": float(row["mde_natural"]),
            "mde_ox_rho": float(row["rho"]), "mde_ox_n": row["n"],
            "true_ox_ratio": float(np.exp(simulated_effect))}


def power_findings(sim: pd.DataFrame, power: pd.DataFrame, book_run: Mapping[int, int],
                   seed: int) -> dict[str, Any]:
    """From :func:`mbpm.design.power_simulation` (``sim``) and :func:`mbpm.design.power_table`
    (``power``): the sizes run (smallest = the paper's, middle, largest) and their trials, the
    root seed, all trials run (``n_trials_total``), failed trials and trials with a plate
    dropped, the percentage of trials reproducing each claim of :data:`POWER_CLAIMS` at the
    smallest size with its Monte Carlo SE (``pow<k>``, ``se<k>``), claim :data:`LARGE_CLAIM` at
    the largest, and the largest Monte Carlo SE of any claim at any size (``se_max``, points)."""
    small, mid, large = sorted(book_run)
    claims = power.loc[power["is_claim"]]
    at = {n: claims.loc[claims["n_per_arm"] == n].set_index("claim") for n in (small, large)}
    out: dict[str, Any] = {
        "trials_small": book_run[small], "trials_mid": book_run[mid],
        "trials_large": book_run[large], "size_small": small, "size_mid": mid,
        "size_large": large, "sim_seed": seed, "n_failed": int(sim["failed"].sum()),
        "n_trials_plate_dropped": int((sim["plates_dropped"] > 0).sum()),
        "n_trials_total": len(sim), "se_max": float(100 * claims["mc_se"].max())}
    for k in POWER_CLAIMS:
        out[f"pow{k}"] = float(100 * at[small].at[f"claim {k}", "proportion"])
        out[f"se{k}"] = float(100 * at[small].at[f"claim {k}", "mc_se"])
    out[f"pow{LARGE_CLAIM}_large"] = float(100 * at[large].at[f"claim {LARGE_CLAIM}", "proportion"])
    out[f"se{LARGE_CLAIM}_large"] = float(100 * at[large].at[f"claim {LARGE_CLAIM}", "mc_se"])
    return out


def simulated_marker_effect(params: Any, definition: study.Definition | None = None) -> float:
    """The simulation's log effect of the treated arm on the interplay marker
    (``biomarkers.analytes.<marker>.effect.<treated arm>`` of :func:`mbpm.simulate.read_params`)."""
    d = definition or study.active()
    marker = d.outcome_set("interplay_marker")
    return float(params.values["biomarkers"]["analytes"][marker]["effect"][d.treated.id])
