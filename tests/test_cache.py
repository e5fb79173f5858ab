"""The opt-in disk cache: off without MBPM_CACHE_DIR, keyed by content, same results."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mbpm import analysis, cache, io


def test_without_the_variable_every_call_computes(monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    calls = []
    for _ in range(2):
        cache.cached("x", "k", lambda: calls.append(1) or len(calls))
    assert len(calls) == 2


def test_stored_value_is_served_for_the_same_key_only(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    assert cache.cached("x", "k1", compute) == {"n": 1}
    assert cache.cached("x", "k1", compute) == {"n": 1}  # served from disk
    assert cache.cached("x", "k2", compute) == {"n": 2}  # another key computes
    assert len(calls) == 2 and len(list(tmp_path.glob("x-*.pickle"))) == 2


def test_a_changed_package_version_misses_and_removes_the_old_entries(monkeypatch, tmp_path):
    """After ``make lock`` upgrades a numeric package, nothing computed by the old one is served."""
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    real = cache.installed_versions()
    assert {"numpy", "scipy", "statsmodels", "pandas"} <= set(real), real
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    cache.environment_digest.cache_clear()
    assert cache.cached("x", "k", compute) == 1
    upgraded = {**real, "scipy": real["scipy"] + ".post999"}
    monkeypatch.setattr(cache, "installed_versions", lambda: upgraded)
    cache.environment_digest.cache_clear()
    try:
        assert cache.cached("x", "k", compute) == 2  # same key, other scipy: computed again
        assert len(list(tmp_path.glob("*.pickle"))) == 1  # the old scipy's entry is gone
    finally:
        cache.environment_digest.cache_clear()


def test_at_most_max_entries_per_name_are_kept(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for i in range(5):
        cache.cached("x", f"k{i}", lambda: i)
    cache.cached("y", "k", lambda: 0)
    assert len(list(tmp_path.glob("x-*.pickle"))) == 3
    assert len(list(tmp_path.glob("y-*.pickle"))) == 1


def test_folder_digest_follows_bytes_and_names(tmp_path):
    (tmp_path / "a.csv").write_text("1\n")
    first = cache.folder_digest(tmp_path)
    (tmp_path / "a.csv").write_text("2\n")
    second = cache.folder_digest(tmp_path)
    (tmp_path / "a.csv").rename(tmp_path / "b.csv")
    assert len({first, second, cache.folder_digest(tmp_path)}) == 3


def test_frames_digest_sees_a_changed_value():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    changed = frame.assign(a=[1.0, 2.5])
    assert cache.frames_digest([frame]) == cache.frames_digest([frame.copy()])
    assert cache.frames_digest([frame]) != cache.frames_digest([changed])


@pytest.mark.slow
def test_cached_study_and_results_equal_fresh_ones(monkeypatch, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(io.SHIPPED_DATA, data)
    monkeypatch.delenv(cache.ENV, raising=False)
    fresh = analysis.run(io.load_study(data)).table()
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    analysis.run(io.load_study(data))  # fills the cache
    again = analysis.run(io.load_study(data)).table()  # served from it
    pd.testing.assert_frame_equal(fresh, again)
    # a changed data file is a new key: the study is loaded again
    participants = data / "participants.csv"
    participants.write_text(participants.read_text().replace(",45,", ",46,", 1))
    assert len(list((tmp_path / "cache").glob("study-*.pickle"))) == 1
    io.load_study(data)
    assert len(list((tmp_path / "cache").glob("study-*.pickle"))) == 2


def test_two_processes_wanting_a_missing_entry_compute_it_once(tmp_path):
    """The book runs two chapters at a time: the second waits for the first's entry."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(cache.__file__).resolve().parents[1]
    log = tmp_path / "computed.txt"
    code = ("import time\nfrom mbpm import cache\n"
            "def compute():\n"
            f"    with open({str(log)!r}, 'a') as out: out.write('x\\n')\n"
            "    time.sleep(1.5)\n"
            "    return 42\n"
            "print(cache.cached('x', 'k', compute))\n")
    env = {**os.environ, cache.ENV: str(tmp_path / "c"),
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert outputs == ["42", "42"]
    assert log.read_text() == "x\n"
