"""Timings of mbpm.stats for the design analysis (1000 simulated trials x 40 outcomes, 50 patients).

Run: .venv/bin/python benchmarks/bench_stats.py [--repeats 5]
Prints the median wall time of several runs per path and the extrapolation to 1000 trials.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import mbpm.stats as S
from timing import median_ms

N_TRIALS, N_OUTCOMES, N_ARM = 1000, 40, 25


def one_trial_long(seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """One simulated trial in the long shape: 40 outcomes, 25 MBPM + 25 WL, ~8 % dropout."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:03d}" for i in range(2 * N_ARM)])
    group = np.repeat(["MBPM", "WL"], N_ARM)
    frames = []
    for k in range(N_OUTCOMES):
        base = rng.normal(50, 10, 2 * N_ARM)
        week8 = 0.6 * base + rng.normal(20, 6, 2 * N_ARM) - 4 * (group == "MBPM")
        frames.append(pd.DataFrame({"participant_id": ids, "group": group, "visit": "baseline",
                                    "outcome": f"o{k}", "value": base}))
        keep = rng.random(2 * N_ARM) > 0.08
        frames.append(pd.DataFrame({"participant_id": ids[keep], "group": group[keep],
                                    "visit": "week8", "outcome": f"o{k}", "value": week8[keep]}))
    return pd.concat(frames, ignore_index=True), {f"o{k}": "pain" for k in range(N_OUTCOMES)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    repeats = ap.parse_args().repeats
    long, families = one_trial_long(seed=1)
    rng = np.random.default_rng(2)
    shape = (N_TRIALS, N_OUTCOMES, 2 * N_ARM)
    mbpm = np.arange(2 * N_ARM) < N_ARM
    base = rng.normal(50, 10, shape)
    week8 = 0.6 * base + rng.normal(20, 6, shape) - 4 * mbpm
    week8[rng.random(shape) < 0.08] = np.nan

    rows = []
    for name, fn in (("ancova (statsmodels OLS)", lambda: S.ancova(long, families)),
                     ("mixed_anova (closed form)", lambda: S.mixed_anova(long, families)),
                     ("mixed_model (closed-form REML)", lambda: S.mixed_model(long, families))):
        t = median_ms(lambda _: fn(), repeats, warmup=False) / 1000
        rows.append((name, "1 trial x 40 outcomes", t, t * N_TRIALS))
    for name, fn in (("ancova_fast (numpy closed form)", lambda: S.ancova_fast(base, week8, mbpm)),
                     ("interaction_fast (numpy closed form)",
                      lambda: S.interaction_fast(base, week8, mbpm))):
        t = median_ms(lambda _: fn(), repeats, warmup=False) / 1000
        rows.append((name, "1000 trials x 40 outcomes", t, t))
    table = pd.DataFrame(rows, columns=["path", "workload", "median s", "1000 trials s"])
    print(f"median of {repeats} runs, 50 patients per trial, 1 process")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
