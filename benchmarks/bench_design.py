"""Timings of the design simulation: each stage of one trial, and whole runs on 1 and 2 processes.

Run: .venv/bin/python benchmarks/bench_design.py [--trials 1000] [--stage-repeats 20]
Prints the median time per stage of a trial of the paper's size (25 + 25 patients, 15 controls),
then the wall time of ``--trials`` trials through the whole pipeline on 2 processes (and an
extrapolation from 1 process), as ``python -m mbpm design`` runs them.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mbpm import analysis, design, io
from mbpm.simulate import read_params, simulate_tables


def stage_times(repeats: int) -> dict[str, float]:
    """Median seconds of each stage over ``repeats`` trials (different seeds)."""
    params = read_params()
    times: dict[str, list[float]] = {k: [] for k in (
        "simulate", "validate + score + quantify", "outcome table", "arm arrays + tests", "total")}
    for seed in range(repeats):
        t0 = time.perf_counter()
        tables = simulate_tables(params, seed)
        t1 = time.perf_counter()
        study = io.study_from_tables(tables)
        t2 = time.perf_counter()
        long = analysis.outcome_table(study)
        t3 = time.perf_counter()
        design.trial_results(long)
        t4 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
            times[k].append(v)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--stage-repeats", type=int, default=20)
    args = ap.parse_args()
    print(f"median per stage of one trial (25 + 25 + 15), {args.stage_repeats} trials, 1 process")
    for k, v in stage_times(args.stage_repeats).items():
        print(f"  {k:<30} {v * 1000:7.1f} ms")
    t0 = time.perf_counter()
    design.power_simulation({25: 50}, workers=1)
    one = (time.perf_counter() - t0) / 50
    print(f"1 process: {one * 1000:.0f} ms per trial -> {one * args.trials:.0f} s for "
          f"{args.trials} trials")
    t0 = time.perf_counter()
    design.power_simulation({25: args.trials}, workers=2)
    print(f"2 processes: {args.trials} trials of the paper's size in "
          f"{time.perf_counter() - t0:.1f} s wall")


if __name__ == "__main__":
    main()
