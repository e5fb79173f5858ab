"""Timings of the design simulation: one trial alone (the ordinary path) against the batched path,
per stage, and the book's whole run (design.FULL_RUN, 3 x 1,000 trials) on 2 processes.

Run: .venv/bin/python benchmarks/bench_design.py [--repeats 3] [--trials 40] [--full-repeats 3]
     .venv/bin/python benchmarks/bench_design.py --profile 50 [--trials 40]
Prints medians over ``--repeats`` runs of ``--trials`` trials at each size: ms per trial (CPU
of one process) of ``run_trial`` one by one and of ``run_batch``, the batched path's stages,
then the median wall time of ``--full-repeats`` runs of ``power_simulation(FULL_RUN,
workers=2)`` (no cache). Each line carries the load average (``os.getloadavg()``): on a shared
machine the numbers are only as good as it is quiet.

``--profile N`` instead profiles one ``run_batch`` of ``--trials`` trials at N per arm
(cProfile): the functions with the most time of their own, and mbpm's functions by their
cumulative time, in ms per trial.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from mbpm import analysis, design, io, simulate


def _load() -> str:
    return "load " + "/".join(f"{x:.1f}" for x in os.getloadavg())


def per_trial(n: int, trials: int, repeats: int) -> tuple[float, float]:
    """Median CPU ms per trial of the ordinary and of the batched path (``trials`` trials)."""
    params = design.folder_params()
    ordinary, batched = [], []
    for r in range(repeats):
        seeds = design.trial_seeds(design.DEFAULT_SEED + r, n, trials)
        t0 = time.process_time()
        for seed in seeds:
            design.run_trial(seed, n, params)
        t1 = time.process_time()
        design.run_batch(seeds, n, params)
        t2 = time.process_time()
        ordinary.append((t1 - t0) / trials)
        batched.append((t2 - t1) / trials)
    return 1000 * statistics.median(ordinary), 1000 * statistics.median(batched)


def batch_stages(n: int, trials: int, repeats: int) -> dict[str, float]:
    """Median CPU ms per trial of each stage of :func:`mbpm.design.run_batch`, their sum
    (per run), and ``run_batch`` itself on the same seeds right after (so that the sum and the
    whole are measured under the same load)."""
    params = design.folder_params()
    names = ("simulate", "validate", "score + quantify", "outcome table", "tests")
    times: dict[str, list[float]] = {k: [] for k in (*names, "sum", "run_batch")}
    for r in range(repeats):
        seeds = design.trial_seeds(design.DEFAULT_SEED + r, n, trials)
        clock = [time.process_time()]
        batch = simulate.simulate_batch(params, seeds, n, n, None)
        clock.append(time.process_time())
        valid = io.validate_tables(batch.tables, batch.participant_id)
        clock.append(time.process_time())
        study = io._build(valid, None, "memory")
        clock.append(time.process_time())
        long = analysis.outcome_table(study)
        clock.append(time.process_time())
        design.batch_results(long, batch.trial_of, len(seeds))
        clock.append(time.process_time())
        for k, a, b in zip(names, clock, clock[1:]):
            times[k].append(1000 * (b - a) / trials)
        times["sum"].append(1000 * (clock[-1] - clock[0]) / trials)
        start = time.process_time()
        design.run_batch(seeds, n, params)
        times["run_batch"].append(1000 * (time.process_time() - start) / trials)
    return {k: statistics.median(v) for k, v in times.items()}


def full_run(repeats: int) -> list[float]:
    """Wall seconds of ``power_simulation(FULL_RUN, workers=2)``, cache off."""
    os.environ.pop("MBPM_CACHE_DIR", None)
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sim = design.power_simulation(design.FULL_RUN, workers=2)
        walls.append(time.perf_counter() - t0)
        print(f"  full run: {len(sim)} trials in {walls[-1]:.1f} s wall ({_load()})", flush=True)
    return walls


def profile(n: int, trials: int, top: int = 25) -> None:
    """Print the cProfile of one :func:`mbpm.design.run_batch` of ``trials`` trials at ``n``."""
    import cProfile
    import pstats

    params = design.folder_params()
    seeds = design.trial_seeds(design.DEFAULT_SEED, n, trials)
    design.run_batch(seeds[:2], n, params)  # imports and first-call set-up out of the profile
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.runcall(design.run_batch, seeds, n, params)
    cpu = time.process_time() - start
    print(f"run_batch of {trials} trials at {n} per arm: {1000 * cpu / trials:.1f} ms CPU per "
          f"trial under the profiler ({_load()})")
    table = pstats.Stats(profiler).stats  # {(file, line, name): (calls, _, own, cumulative, _)}

    def show(title: str, rows: list) -> None:
        print(title)
        for (file, line, name), (calls, _, own, cumulative, _) in rows[:top]:
            where = f"{file.split('site-packages/')[-1].split('/work/main/')[-1]}:{line}({name})"
            print(f"  {1000 * own / trials:7.2f} own {1000 * cumulative / trials:7.2f} cumulative"
                  f" {calls:6d} calls  {where}")

    show("by own time, ms per trial:", sorted(table.items(), key=lambda kv: -kv[1][2]))
    ours = [kv for kv in table.items() if "/mbpm/" in kv[0][0]]
    show("mbpm's functions by cumulative time, ms per trial:",
         sorted(ours, key=lambda kv: -kv[1][3]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--full-repeats", type=int, default=3)
    ap.add_argument("--profile", type=int, default=None, metavar="N",
                    help="profile one batch at N per arm instead")
    args = ap.parse_args()
    if args.profile:
        profile(args.profile, args.trials)
        return
    print(f"CPU ms per trial, median of {args.repeats} runs of {args.trials} trials, 1 process")
    for n in design.FULL_RUN:
        one, many = per_trial(n, args.trials, args.repeats)
        print(f"  {n:>3} per arm: ordinary {one:6.1f}  batched {many:6.1f}  "
              f"(x{one / many:.1f}; {_load()})", flush=True)
    for n in design.FULL_RUN:
        stages = batch_stages(n, args.trials, args.repeats)
        shown = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        print(f"  batched stages at {n} per arm: {shown} ({_load()})", flush=True)
    if args.full_repeats:
        walls = full_run(args.full_repeats)
        print(f"design.FULL_RUN on 2 processes: median {statistics.median(walls):.1f} s wall "
              f"over {len(walls)} runs ({_load()})")


if __name__ == "__main__":
    main()
