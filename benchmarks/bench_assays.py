"""Time the assay pipeline on a synthetic cohort: ``python benchmarks/bench_assays.py``.

The cohort (tests/plate_factory.py, seeded) has six analytes x three full 96-well plates
(7 standard levels and blanks in duplicate, 26-27 duplicate samples each, 4 % OD noise), the
size of the shipped study. Reports the median and the 10th-90th percentiles of

* ``quantify``: fitting and QC of all plates from the tidy wells (what the design analysis repeats
  for every simulated trial), and
* ``read + tidy + quantify``: the same from the plate reader's CSV files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from plate_factory import build_many, cohort  # noqa: E402
from timing import times_s  # noqa: E402

from mbpm.assays import quantify, tidy_wells  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args(argv)
    layout, grids = build_many(cohort())
    wells = tidy_wells(layout, grids)
    results = {"quantify": np.array(times_s(lambda _: quantify(wells), args.repeats))}
    print(f"{len(grids)} plates, {len(wells)} used wells, "
          f"{int((wells['role'] == 'sample').sum()) // 2} samples")
    for name, t in results.items():
        p10, p50, p90 = np.percentile(t, [10, 50, 90]) * 1000
        print(f"{name:>24}: median {p50:6.1f} ms  (p10 {p10:.1f}, p90 {p90:.1f}; n = {t.size})")


if __name__ == "__main__":
    main()
