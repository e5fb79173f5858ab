"""Two builds from the same commit and data folder give the same numbers.

* ``python -m mbpm export`` run twice, in two processes with different hash seeds, on a small
  simulated cohort: the three CSV files are byte-identical.
* Every chapter that glues values, executed again by the suite (nbval, with this machine's
  defaults, sharing one new results cache as the chapters of a build do): each glued value
  (numbers, words, tables, chart specs and data) equals the one the book build stored in
  ``_build/jupyter_execute/chapters/<chapter>.glue.json`` (tests/nbval_numbers.py,
  :func:`nbval_numbers.check_against_build`); the tests here prove that check can fail.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from nbval_numbers import BUILD_GLUE as EXECUTED
from nbval_numbers import build_differences, glued


def run(*args: str, hash_seed: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen([sys.executable, "-m", "mbpm", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> None:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()


@pytest.mark.slow
def test_export_twice_gives_identical_files(tmp_path: Path):
    data = tmp_path / "small"
    finish(run("simulate", str(data), "--seed", "11", "--n-mbpm", "8", "--n-wl", "8",
               "--n-hc", "5", hash_seed="0", cwd=tmp_path))
    # Two independent processes, at the same time, with different str-hash randomisation.
    first = run("export", str(data), str(tmp_path / "a"), hash_seed="1", cwd=tmp_path)
    second = run("export", str(data), str(tmp_path / "b"), hash_seed="2", cwd=tmp_path)
    finish(first)
    finish(second)
    for name in ("results.csv", "scores.csv", "biomarkers.csv"):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, f"{name} differs between two exports of the same data"
    assert (tmp_path / "a" / "results.csv").read_text().count("\n") > 100


def test_glue_comparison_sees_a_changed_number():
    build = {"x": {"text/plain": "1.5"}, "prov_build_date": {"text/plain": "1"}}
    now = {"x": {"text/plain": "1.5"}, "prov_build_date": {"text/plain": "2"}}
    assert build_differences(build, now, True, set()) == []
    changed = build_differences(build, {"x": {"text/plain": "1.5000000000000002"}}, False, set())
    assert len(changed) == 1 and changed[0].startswith("x: glued differently")
    assert build_differences(build, {}, True, set()) == [
        "x: glued by the build, not by this execution"]
    assert build_differences(build, {"y": {"text/plain": "1"}}, False, set())[0].startswith(
        "y: glued but not by the build")
    assert "make html" in build_differences(None, now, False, set())[0]
    assert glued([{"metadata": {"scrapbook": {"name": "x", "mime_prefix": "p/"}},
                   "data": {"p/text/plain": "1.5"}}]) == {"x": {"text/plain": "1.5"}}


def test_the_suite_reuses_only_the_builds_design_simulation(tmp_path: Path):
    from nbval_numbers import copy_from_the_build

    build = tmp_path / "build"
    build.mkdir()
    for name in ("design-abc-1.pickle", "design-abc-1.lock", "study-abc-2.pickle",
                 "results-abc-3.pickle", "specifications-abc-4.pickle"):
        (build / name).write_bytes(name.encode())
    suite = tmp_path / "suite"
    suite.mkdir()
    assert copy_from_the_build(build, suite) == ["design-abc-1.pickle"]
    assert [p.name for p in suite.iterdir()] == ["design-abc-1.pickle"]
    assert (suite / "design-abc-1.pickle").read_bytes() == b"design-abc-1.pickle"
    assert copy_from_the_build(tmp_path / "no-build", suite) == []


@pytest.mark.book
@pytest.mark.slow
def test_a_chapter_glueing_other_values_than_the_build_fails(tmp_path: Path):
    """The determinism check rides on the suite's execution of every chapter under nbval
    (tests/nbval_numbers.py: each glued value must equal the build's, bit for bit). Planted: one
    value of the build changed in its last digit; nbval fails on that cell, naming the value."""
    from test_portability import nbval

    chapter, name = "summary", "primary_low"  # four seconds to execute; a full-precision float
    build = json.loads((EXECUTED / f"{chapter}.glue.json").read_text(encoding="utf-8"))
    value = float(build[name]["data"]["text/plain"])
    build[name]["data"]["text/plain"] = repr(float(np.nextafter(value, np.inf)))  # one ulp
    planted = tmp_path / "build-glue"
    planted.mkdir()
    for path in EXECUTED.glob("*.glue.json"):
        (planted / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (planted / f"{chapter}.glue.json").write_text(json.dumps(build), encoding="utf-8")
    notebook = ROOT / "_build" / "portability" / tmp_path.name / f"{chapter}.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_bytes((ROOT / "tests" / "reference" / f"{chapter}.ipynb").read_bytes())
    run = nbval(notebook, MBPM_BUILD_GLUE=str(planted))
    assert run.returncode != 0, "nbval passed although the build glued another value"
    assert f"{name}: glued differently than the build" in run.stdout, run.stdout[-3000:]
    # one value named, however often pytest repeats it (on CI its short summary is not cut)
    differing = set(re.findall(r"(\w+): glued differently", run.stdout))
    assert differing == {name}, run.stdout[-3000:]
