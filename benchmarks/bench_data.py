"""Time the data layer: simulate only; simulate + write + read + validate; simulate + validate in memory.

Run: ``.venv/bin/python benchmarks/bench_data.py [REPEATS]``. Prints medians in milliseconds.
Validation is what ``load_study`` does before scoring and quantifying; the full
``study_from_tables`` / ``load_study`` are timed as well.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from timing import median_ms

from mbpm import io, simulate


def main(repeats: int = 30) -> None:
    params = simulate.read_params()
    tmp = Path(tempfile.mkdtemp())

    def files(seed: int) -> object:
        folder = simulate.write_folder(simulate.simulate_tables(params, seed), tmp / str(seed))
        return io.validate_tables(io.read_tables(folder))

    cases = {
        "simulate only (in memory)": lambda s: simulate.simulate_tables(params, s),
        "simulate + validate (in memory)": lambda s: io.validate_tables(simulate.simulate_tables(params, s)),
        "simulate + write + read + validate (files)": files,
    }
    cases["simulate + study_from_tables (full, in memory)"] = (
        lambda s: io.study_from_tables(simulate.simulate_tables(params, s)))
    cases["simulate + write + load_study (full, files)"] = (
        lambda s: io.load_study(simulate.write_folder(simulate.simulate_tables(params, s), tmp / f"f{s}")))
    print(f"median of {repeats} runs, default design (25/25/15)")
    for name, fn in cases.items():
        print(f"{name:50s} {median_ms(fn, repeats, warmup=False):8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
