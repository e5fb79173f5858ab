"""Cost against cohort size: ``validate`` and ``export`` of 65, 650, 6,500 and 65,000 participants.

Run: ``python benchmarks/bench_scale.py [--sizes 65 650 6500 65000] [--repeats 3]
[--without-mixed-model]``. Each size is a simulated folder (seed 1; arms 5:5:3 as the
shipped 25/25/15), written once with ``python -m mbpm simulate`` and kept under
``benchmarks/results/scale/`` (git-ignored). Every measurement is a fresh child process (imports
included), so the peak memory is that child's ``ru_maxrss`` (``os.wait4``). Printed per size:

* ``validate``: ``python -m mbpm validate DIR``;
* ``export``: what ``python -m mbpm export DIR OUT`` runs (:func:`mbpm.export.export`), with the
  wall and CPU seconds of loading and of each step of ``analysis.run``;
* ``export w/o mixed model`` (with ``--without-mixed-model``): the same with
  ``stats.mixed_model`` replaced by an empty table.

Wall times are medians of ``--repeats`` runs (one run at 65,000), with the ratio to the
previous size (10x more participants: a linear cost gives ratios near 10). The machine is
shared, so each line also gives the child's CPU seconds (user + system, ``ru_utime +
ru_stime``: the work done, which other processes inflate much less than the wall time) and
the 1-minute load average (:func:`os.getloadavg`) before and after the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import times_s

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scale"
SIZES = (65, 650, 6500, 65000)
SEED = 1

#: Child for "export w/o MixedLM": times each step of analysis.run, skips the mixed model if asked.
_STEPS_CHILD = r"""
import json, sys, time
import pandas as pd
from pathlib import Path
from mbpm import export, stats
from mbpm.stats import RESULT_COLUMNS
steps, cpu = {}, {}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - start
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - start_cpu
        return out
    return wrapper
for name in ("baseline_comparison", "mixed_anova", "within_group_tests", "ancova", "mixed_model",
             "change_nonparametric", "change_correlations"):
    fn = getattr(stats, name)
    if name == "mixed_model" and sys.argv[3] == "skip":
        fn = lambda *args, **kwargs: pd.DataFrame(columns=list(RESULT_COLUMNS))
    setattr(stats, name, timed(name, fn))
from mbpm import io
io.load_study = timed("load_study", io.load_study)
start = time.perf_counter()
export.export(Path(sys.argv[1]), Path(sys.argv[2]))
steps["total"] = time.perf_counter() - start
print(json.dumps({"wall": steps, "cpu": cpu}))
"""


def arms(n: int) -> tuple[int, int, int]:
    """MBPM, WL and HC sizes of a cohort of ``n`` (5:5:3, as 25/25/15)."""
    unit = n // 13
    return 5 * unit, 5 * unit, 3 * unit


def folder(n: int) -> Path:
    """The simulated folder of ``n`` participants, written on first use.

    With thousands of plates a few fail the QC rules by chance (at 65,000 participants, seed 1:
    10 of 16,920 plates have fewer than 5 standard levels within recovery), and any failed plate
    stops the load. So that export can be timed, such plates are taken out of the benchmark
    copy (their layout rows and grid files; their samples go unmeasured), once, and listed.
    """
    path = RESULTS / f"n{n}"
    if not (path / "SIMULATED").is_file():
        mbpm, wl, hc = arms(n)
        subprocess.run([sys.executable, "-m", "mbpm", "simulate", str(path), "--seed", str(SEED),
                        "--n-mbpm", str(mbpm), "--n-wl", str(wl), "--n-hc", str(hc)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    if not (path.parent / f"n{n}.checked").is_file():
        _drop_failed_plates(path)
        (path.parent / f"n{n}.checked").write_text("validated\n", encoding="utf-8")
    return path


def _drop_failed_plates(path: Path) -> None:
    """Remove the plates whose standard curve fails QC (named in ``validate``'s error)."""
    report = subprocess.run([sys.executable, "-m", "mbpm", "validate", str(path)], cwd=ROOT,
                            capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    failed = sorted(set(re.findall(r"plate (\S+) \(\w+\): ", report)))
    if not failed:
        return
    print(f"n={n_of(path)}: removing {len(failed)} plates that fail QC: {', '.join(failed)}")
    layout = path / "plate_layout.csv"
    lines = layout.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] not in failed]
    layout.write_text("".join(keep), encoding="utf-8")
    for plate_id in failed:
        (path / "plates" / f"{plate_id}.csv").unlink()


def n_of(path: Path) -> int:
    return int(path.name.removeprefix("n"))


def child(args: list[str]) -> tuple[float, float, str]:
    """Run one child ``python args``: its peak resident memory (MB), CPU seconds and stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MBPM_CACHE_DIR", None)
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{args} exited with {process.returncode}:\n{text}")
    # ru_maxrss is in KiB on Linux
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, text


def measure(args: list[str], repeats: int) -> tuple[float, float, float, list[str]]:
    """Median wall seconds (:func:`timing.times_s`), median CPU seconds, the largest peak
    memory (MB) and the outputs of ``repeats`` children."""
    runs: list[tuple[float, float, str]] = []
    walls = times_s(lambda _: runs.append(child(args)), repeats, warmup=False)
    return (statistics.median(walls), statistics.median(r[1] for r in runs),
            max(r[0] for r in runs), [r[2] for r in runs])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3, help="runs per size below 65,000")
    parser.add_argument("--without-mixed-model", action="store_true",
                        help="also time the export with the mixed model step left out")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    previous: dict[str, float] = {}
    for n in args.sizes:
        data = folder(n)
        repeats = 1 if n >= 65000 else args.repeats
        out = Path(tempfile.mkdtemp())
        cases = {"validate": ["-m", "mbpm", "validate", str(data)],
                 "export": ["-c", _STEPS_CHILD, str(data), str(out), "keep"]}
        if args.without_mixed_model:
            cases["export w/o mixed model"] = ["-c", _STEPS_CHILD, str(data), str(out), "skip"]
        for name, command in cases.items():
            load_before = os.getloadavg()[0]
            wall, cpu, peak, texts = measure(command, repeats)
            ratio = f"{wall / previous[name]:6.1f}" if name in previous else "     -"
            previous[name] = wall
            steps = ""
            if name != "validate":
                parts = [json.loads(t.strip().splitlines()[-1]) for t in texts]
                steps = "  steps wall/cpu s: " + ", ".join(
                    f"{k} {statistics.median(p['wall'][k] for p in parts):.2f}/"
                    f"{statistics.median(p['cpu'][k] for p in parts):.2f}"
                    for k in parts[0]["wall"] if k != "total")
            print(f"{n:>6} {name:<22} {wall:8.2f} s  x{ratio}  cpu {cpu:7.2f} s  peak {peak:7.0f} MB  "
                  f"({repeats} run{'s' if repeats > 1 else ''}, load {load_before:.1f} -> "
                  f"{os.getloadavg()[0]:.1f}){steps}", flush=True)


if __name__ == "__main__":
    main()
