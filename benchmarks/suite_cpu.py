"""A pytest plugin for :mod:`bench_suite`: each test's wall seconds and CPU seconds, its own and
its child processes' (the book builds, nbval's kernels, Chromium), one JSON line per test in
``$MBPM_SUITE_CPU_LOG.<worker>``.

Child CPU is counted when a child is waited for: a build's at the end of its test, a kernel's or
the browser's when the fixture that started it is torn down (the last test of its file), so the
figures are right per file, not always per test.
"""

from __future__ import annotations

import json
import os
import resource
import time

import pytest


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    log = os.environ.get("MBPM_SUITE_CPU_LOG")
    start, (own, children) = time.perf_counter(), _cpu()
    yield
    if log:
        wall, (own_after, children_after) = time.perf_counter() - start, _cpu()
        record = {"file": item.path.name, "test": item.nodeid, "wall": wall,
                  "own_cpu": own_after - own, "child_cpu": children_after - children}
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(f"{log}.{worker}", "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
