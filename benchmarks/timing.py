"""Wall-clock timing shared by the benchmark scripts (run them as ``python benchmarks/<x>.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def times_s(fn: Callable[[int], object], repeats: int, warmup: bool = True) -> list[float]:
    """Seconds taken by ``fn(i)`` for ``i`` in ``range(repeats)``, after one untimed call."""
    if warmup:
        fn(0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return times


def median_ms(fn: Callable[[int], object], repeats: int, warmup: bool = True) -> float:
    """Median of :func:`times_s`, in milliseconds."""
    return 1000 * statistics.median(times_s(fn, repeats, warmup))
