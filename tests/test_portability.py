"""The regression references hold on any machine, and still catch a real change.

A reference notebook stored on one machine is compared, by nbval, with the chapter executed on
another: another CPU, BLAS kernel or thread count changes floats in their last digits. The
comparison rounds every decimal number to six significant digits (``tests/nbval_numbers.py``)
and no output derives anything else from full-precision floats (chart ids: ``mbpm.figures``).
These tests prove it three ways:

* a reference whose every float is perturbed by up to 1e-12 (relative) still passes nbval, as if
  another machine had stored it;
* the chapter executed with another OpenBLAS kernel (``OPENBLAS_CORETYPE=Prescott``) and one
  thread passes against the stored reference;
* a reference with one reported number changed by 0.1 % fails, and nbval's report names the
  chapter and the value.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from nbval_numbers import DECIMAL, round_numbers

REFERENCE = ROOT / "tests" / "reference"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
#: The chapter used for the end-to-end proofs: regressions, glued ratios, tables and charts.
CHAPTER = "biomarkers"
#: The glued number changed in the planted-error test: the primary ANCOVA ratio for oxytocin.
PLANTED = "ox_ratio"
PERTURBATION = 1e-12


def perturb(text: str, rng: np.random.Generator, size: float = PERTURBATION) -> str:
    """Every decimal number of ``text`` times (1 + u), |u| <= ``size``, written in full."""
    return DECIMAL.sub(lambda m: repr(float(m.group(0)) * (1 + size * rng.uniform(-1, 1))), text)


def test_rounding_ignores_last_digit_noise_and_sees_real_changes():
    rng = np.random.default_rng(20240253)
    values = rng.lognormal(0, 4, 10_000) * rng.choice([-1, 1], 10_000)
    shown = [repr(float(v)) for v in values]
    noisy = [repr(float(v) * (1 + PERTURBATION * rng.uniform(-1, 1))) for v in values]
    changed = [repr(float(v) * 1.0001) for v in values]
    assert [round_numbers(s) for s in shown] == [round_numbers(s) for s in noisy]
    assert all(round_numbers(a) != round_numbers(b) for a, b in zip(shown, changed))
    # values on short decimals, computed a bit off on another machine, compare equal
    assert round_numbers("12.5 0.3 1.0") == round_numbers("12.499999999999998 0.30000000000000004 "
                                                          "1.0000000000000002")
    # counts, versions, ids and hashes are left alone
    assert round_numbers("n = 46, numpy 2.4.6, P001, ab12.3456789") == \
        "n = 46, numpy 2.4.6, P001, ab12.3456789"


def test_dataset_names_do_not_depend_on_float_digits():
    import altair as alt
    import pandas as pd

    from mbpm import figures

    def spec(x: float) -> dict:
        chart = alt.Chart(pd.DataFrame({"x": [x, 2.0]})).mark_point().encode(x="x:Q")
        return figures.stable_dataset_names(chart.to_dict())

    one, other_cpu = spec(0.3), spec(0.1 + 0.2)
    assert list(one["datasets"]) == ["data-1"] and one["data"] == {"name": "data-1"}
    assert list(other_cpu["datasets"]) == list(one["datasets"])


def test_chart_ids_do_not_depend_on_float_digits():
    from mbpm import figures

    spec = {"data": {"values": [{"x": 0.1 + 0.2, "n": 3, "label": "a"}]}, "mark": "point"}
    other_cpu = {"data": {"values": [{"x": 0.3, "n": 3, "label": "a"}]}, "mark": "point"}
    other_chart = {"data": {"values": [{"x": 0.3, "n": 3, "label": "b"}]}, "mark": "point"}
    figures._DRAWN.clear()
    first = figures.chart_id(spec)
    figures._DRAWN.clear()
    assert figures.chart_id(other_cpu) == first
    figures._DRAWN.clear()
    assert figures.chart_id(other_chart) != first
    assert figures.chart_id(other_chart) != figures.chart_id(other_chart)  # two on one page


def reference_copy(tmp_path: Path, edit) -> Path:
    """The stored reference of :data:`CHAPTER` with ``edit(output data dict, name)`` applied to
    every output, written to ``tmp_path``."""
    notebook = json.loads((REFERENCE / f"{CHAPTER}.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "data" in output:
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                edit(output["data"], name)
    path = tmp_path / f"{CHAPTER}.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def nbval(notebook: Path, **env: str) -> subprocess.CompletedProcess:
    """nbval on one notebook as the suite runs it (same sanitizers and number rounding)."""
    command = [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
               "-p", "nbval_numbers", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", str(SANITIZE), str(notebook)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), **env}
    environment.pop("MBPM_CACHE_DIR", None)
    return subprocess.run(command, cwd=notebook.parent, env=environment, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_a_reference_stored_on_another_machine_still_passes(tmp_path: Path):
    rng = np.random.default_rng(7)

    def noise(data: dict, _name: str | None) -> None:
        for mime, value in data.items():
            if mime.startswith("text/"):
                data[mime] = ([perturb(line, rng) for line in value] if isinstance(value, list)
                              else perturb(value, rng))

    run = nbval(reference_copy(tmp_path, noise))
    assert run.returncode == 0, run.stdout[-4000:]


@pytest.mark.slow
def test_another_blas_kernel_and_thread_count_pass(tmp_path: Path):
    run = nbval(reference_copy(tmp_path, lambda data, name: None),
                OPENBLAS_CORETYPE="Prescott", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    assert run.returncode == 0, run.stdout[-4000:]


@pytest.mark.slow
def test_a_changed_reported_number_fails_naming_chapter_and_value(tmp_path: Path):
    planted: list[str] = []

    def change(data: dict, name: str | None) -> None:
        if name == PLANTED:
            (mime,) = [m for m in data if m.endswith("text/plain")]  # glue's papermill prefix
            data[mime] = repr(float(data[mime]) * 1.001)
            planted.append(round_numbers(data[mime]))

    run = nbval(reference_copy(tmp_path, change))
    assert planted, f"no glued value {PLANTED!r} in the {CHAPTER} reference"
    assert run.returncode != 0, "nbval passed although a reported number was changed"
    assert f"{CHAPTER}.ipynb" in run.stdout
    assert re.search(re.escape(planted[0]), run.stdout), run.stdout[-3000:]
