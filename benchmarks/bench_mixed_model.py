"""Timing of ``mbpm.stats.mixed_model`` against cohort size, and of the statsmodels MixedLM fit it
replaced (the same REML model, ``y ~ mbpm * week8`` with a random intercept per participant).

Run: .venv/bin/python benchmarks/bench_mixed_model.py [--repeats 3] [--outcomes 1]
Prints the median wall time per size and the ratio between successive sizes (about 10 when the
cost is linear in the participants). MixedLM is timed up to 6,500 participants.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import mbpm.stats as S
from timing import median_ms

SIZES = (65, 650, 6_500, 65_000)
MIXEDLM_UP_TO = 6_500


def cohort_long(n: int, n_outcomes: int, seed: int = 1) -> pd.DataFrame:
    """n patients (half MBPM), a random intercept per person, about 8 % without week 8."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:06d}" for i in range(n)])
    group = np.where(np.arange(n) < n // 2, "MBPM", "WL")
    frames = []
    for k in range(n_outcomes):
        person = rng.normal(0, 6, n)
        base = 50 + person + rng.normal(0, 4, n)
        week8 = 50 + person + rng.normal(0, 4, n) - 3 * (group == "MBPM")
        keep = rng.random(n) > 0.08
        frames += [pd.DataFrame({"participant_id": ids, "group": group, "visit": "baseline",
                                 "outcome": f"o{k}", "value": base}),
                   pd.DataFrame({"participant_id": ids[keep], "group": group[keep],
                                 "visit": "week8", "outcome": f"o{k}", "value": week8[keep]})]
    return pd.concat(frames, ignore_index=True)


def mixedlm(long: pd.DataFrame) -> None:
    """The former implementation's fit, once per outcome."""
    for _, d in long.groupby("outcome"):
        d = d.assign(mbpm=(d["group"] == "MBPM") * 1.0, week8=(d["visit"] == "week8") * 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm("value ~ mbpm * week8", d, groups=d["participant_id"]).fit(reml=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--outcomes", type=int, default=1)
    args = ap.parse_args()
    rows = []
    for n in SIZES:
        long = cohort_long(n, args.outcomes)
        new = median_ms(lambda _: S.mixed_model(long, None), args.repeats) / 1000
        old = (median_ms(lambda _: mixedlm(long), args.repeats, warmup=False) / 1000
               if n <= MIXEDLM_UP_TO else np.nan)
        rows.append((n, new, old))
    table = pd.DataFrame(rows, columns=["participants", "mixed_model s", "MixedLM s"])
    table["mixed_model ratio"] = table["mixed_model s"] / table["mixed_model s"].shift()
    table["MixedLM ratio"] = table["MixedLM s"] / table["MixedLM s"].shift()
    print(f"median of {args.repeats} runs, {args.outcomes} outcome(s), 1 process")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
