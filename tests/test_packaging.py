"""``mbpm`` is a normal package: ``pip install .`` (not editable) works from any directory.

The wheel is built from this checkout and installed, without its dependencies, into a throwaway
virtual environment; a ``.pth`` line lends that environment the dependencies of the running one
(only its directory is added, so the running environment's editable ``mbpm`` is not seen). Then
``python -m mbpm simulate``, ``validate`` and ``export`` run from an empty directory: everything
they read (simulation parameters, PROMIS lookup tables, instrument keys) must be inside the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MBPM_DATA",
                                                             "MBPM_CACHE_DIR")}
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, ROOT,
        cwd=out)
    (found,) = out.glob("mbpm-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    """A throwaway venv with the wheel installed; returns its python."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv, cwd=venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=venv)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=venv).stdout.strip())
    (site / "lent_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_wheel_carries_its_data_and_not_the_book(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "mbpm/simulation.yml" in names and "mbpm/instruments/keys/maia2.yml" in names
    assert "mbpm/instruments/keys/promis_tables/physical_function.csv" in names
    assert not [n for n in names if n.startswith(("data/", "chapters/", "tests/"))]


def test_installed_package_simulates_validates_and_exports(installed: Path, tmp_path: Path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run(installed, "-c", "import mbpm; print(mbpm.__file__)", cwd=work).stdout
    assert str(installed.parent.parent) in where, f"mbpm imported from {where}"
    run(installed, "-m", "mbpm", "simulate", "cohort", "--seed", "5", "--n-mbpm", "6",
        "--n-wl", "6", "--n-hc", "4", cwd=work)
    report = run(installed, "-m", "mbpm", "validate", "cohort", cwd=work)
    assert "0 error(s)" in report.stdout
    run(installed, "-m", "mbpm", "export", "cohort", "out", cwd=work)
    for name in ("scores.csv", "biomarkers.csv", "results.csv"):
        assert (work / "out" / name).stat().st_size > 100
    # the installed parameters are the source tree's: the same seed gives the same files
    run(sys.executable, "-m", "mbpm", "simulate", tmp_path / "from-source", "--seed", "5",
        "--n-mbpm", "6", "--n-wl", "6", "--n-hc", "4", cwd=ROOT)
    for path in (tmp_path / "from-source").rglob("*.csv"):
        twin = work / "cohort" / path.relative_to(tmp_path / "from-source")
        assert twin.read_bytes() == path.read_bytes(), path.name


def test_installed_package_without_a_folder_says_what_to_do(installed: Path, tmp_path: Path):
    result = run(installed, "-c", "from mbpm import io; io.load_study()", cwd=tmp_path,
                 check=False)
    assert result.returncode != 0 and "no data folder given" in result.stderr
