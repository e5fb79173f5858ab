"""Two builds from the same commit and data folder give the same numbers.

* ``python -m mbpm export`` run twice, in two processes with different hash seeds, on a small
  simulated cohort: the three CSV files are byte-identical.
* Every chapter that glues values, executed again now: each glued value (numbers, words, tables,
  chart specs and data) equals the one the book build stored in
  ``_build/jupyter_execute/chapters/<chapter>.glue.json``. Excluded by design: the provenance
  chapter's build date and commit (:data:`mbpm.provenance.VOLATILE_GLUE`) and the PDF bytes of
  charts (vl-convert stamps a creation date into them; the chart's spec is compared instead).
  The chapters share one new results cache (``mbpm.cache``), as the chapters of a build do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT
from refresh_reference import chapter_files, execute

from mbpm.provenance import VOLATILE_GLUE

EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"
NOT_COMPARED_MIME = {"application/pdf"}


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


def glue_of(notebook) -> dict[str, dict]:
    """``{name: mime bundle}`` of every value a notebook glued (myst-nb's scrapbook outputs)."""
    glued = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if meta:
                prefix = len(meta.get("mime_prefix", ""))
                glued[meta["name"]] = {k[prefix:]: v for k, v in output["data"].items()}
    return glued


def comparable(glued: dict[str, dict]) -> dict[str, dict]:
    return {name: {mime: value for mime, value in data.items() if mime not in NOT_COMPARED_MIME}
            for name, data in glued.items() if name not in VOLATILE_GLUE}


def built_glue(chapter: Path) -> dict[str, dict]:
    path = EXECUTED / f"{chapter.stem}.glue.json"
    return {name: out["data"] for name, out in json.loads(path.read_text()).items()}


def test_glue_comparison_sees_a_changed_number():
    a = {"x": {"text/plain": "1.5", "application/pdf": "AAA"}, "prov_build_date": {"text/plain": "1"}}
    b = {"x": {"text/plain": "1.5", "application/pdf": "BBB"}, "prov_build_date": {"text/plain": "2"}}
    assert comparable(a) == comparable(b)
    b["x"]["text/plain"] = "1.6"
    assert comparable(a) != comparable(b)


@pytest.mark.book
@pytest.mark.slow
def test_every_chapter_glues_the_same_values_as_the_build(monkeypatch, tmp_path):
    # The chapters share one load of the data and one run of the plan, as in the build
    # (mbpm.cache), in a new folder: every value is computed again now, none read from the build.
    monkeypatch.setenv("MBPM_CACHE_DIR", str(tmp_path / "results-cache"))
    chapters = [c for c in chapter_files() if (EXECUTED / f"{c.stem}.glue.json").exists()]
    if not chapters:
        pytest.fail("no executed chapter with glue values: run `make html` first")
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = dict(zip(chapters, pool.map(execute, chapters)))
    differences = {}
    for chapter, notebook in again.items():
        before, now = comparable(built_glue(chapter)), comparable(glue_of(notebook))
        changed = sorted(name for name in before.keys() | now.keys()
                         if before.get(name) != now.get(name))
        if changed:
            differences[chapter.stem] = changed
    assert not differences, f"glued values that differ between two executions: {differences}"
