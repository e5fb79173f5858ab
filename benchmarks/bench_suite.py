"""Where ``make test``'s time goes: the suite as ``make test`` runs it (after ``make book``),
with each test file's wall seconds and CPU seconds (its own process's and its children's:
builds, kernels, Chromium; benchmarks/suite_cpu.py).

Run: .venv/bin/python benchmarks/bench_suite.py [--top 15] [pytest arguments...]
Prints the run's wall time, the CPU seconds of all its files together and what that allows at
best on this machine's cores (CPU / cores: no scheduling makes it shorter), then the files with
the most CPU. Run it on a quiet machine; the load average is printed with it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The pytest command of ``make test`` (the Makefile's ``test`` target), without its durations.
MAKE_TEST = ["-n", "auto", "--dist", "loadfile", "--no-loadscope-reorder"]


def _load() -> str:
    return "load " + "/".join(f"{x:.1f}" for x in os.getloadavg())


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_suite(extra: list[str]) -> tuple[float, float, list[dict], str]:
    """Wall and CPU seconds of the whole pytest run (collection and workers included), each
    test's record, and pytest's last line."""
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "cpu"
        env = {**os.environ, "MBPM_SUITE_CPU_LOG": str(log),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "benchmarks"),
                                                           os.environ.get("PYTHONPATH")]))}
        start, cpu_start = time.perf_counter(), _children_cpu()
        done = subprocess.run([sys.executable, "-m", "pytest", *MAKE_TEST, "-p", "suite_cpu",
                               "-q", *extra], cwd=ROOT, env=env, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
        records = [json.loads(line) for path in sorted(Path(work).glob("cpu.*"))
                   for line in path.read_text(encoding="utf-8").splitlines()]
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    return wall, cpu, records, summary


def per_file(records: list[dict]) -> dict[str, collections.Counter]:
    """Per test file: its tests' wall and CPU seconds, how many tests, and whether it is a
    reference notebook (nbval)."""
    files: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        f = files[r["file"]]
        f["wall"] += r["wall"]
        f["cpu"] += r["own_cpu"] + r["child_cpu"]
        f["tests"] += 1
        f["nbval"] = r["file"].endswith(".ipynb")
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=15)
    args, extra = ap.parse_known_args()
    cores = len(os.sched_getaffinity(0))
    print(f"before: {_load()}, {cores} cores", flush=True)
    wall, total, records, summary = run_suite(extra)
    files = per_file(records)
    cpu = sum(f["cpu"] for f in files.values())
    busy = sum(f["wall"] for f in files.values())
    print(f"pytest: {summary}")
    print(f"suite: {wall:.1f} s wall and {total:.1f} s of CPU in all, so at best "
          f"{total / cores:.1f} s on {cores} cores ({_load()})")
    print(f"  the tests (without collection and start-up): {busy:.1f} s of the workers' time, "
          f"{cpu:.1f} s of CPU with their child processes")
    nb = [f for f in files.values() if f["nbval"]]
    print(f"  nbval, {len(nb)} chapters: {sum(f['wall'] for f in nb):.1f} s wall, "
          f"{sum(f['cpu'] for f in nb):.1f} s CPU")
    print(f"the {args.top} files with the most CPU (s):")
    for name, f in sorted(files.items(), key=lambda kv: -kv[1]["cpu"])[:args.top]:
        print(f"  {f['cpu']:7.1f} CPU {f['wall']:7.1f} wall {int(f['tests']):4d} tests  {name}")
    if not re.search(r"\d+ passed", summary) or re.search(r"failed|error", summary):
        sys.exit(f"the suite did not pass: {summary}")


if __name__ == "__main__":
    main()
