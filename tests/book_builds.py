"""Whole-book builds from another data folder, for the tests that need one (not a conftest).

Building the book is the slowest thing the suite does (every chapter is executed), so the suite
builds from another folder only where the folder must differ from ``data/`` (the site, PDF,
browser and determinism tests read the ``make book`` output in ``_build/``):

* the privacy guard needs a folder *without* the simulation marker (tests/test_privacy.py);
* the injection tests (tests/test_injection.py) and the second-study build test
  (tests/test_second_study.py) share one marked folder: the second study's definition
  (tests/fixtures/second_study) with hostile text in every free-text field, built once as HTML
  and once as LaTeX (:func:`hostile_second_study_builds`, a session fixture in conftest.py).
  Each test keeps its meaning on that folder: the injection tests need a marked folder whose
  free text reaches the pages (any definition), the second-study test a book built on the
  second definition (free text is no part of what it checks; hostile text must not break a
  build either).

``make test`` runs the suite on several processes (``pytest -n auto --dist loadfile``), and
tests of two files need the shared build: :func:`shared_once` makes it once per test run, for
every worker (the first to ask builds, under a file lock; the others wait and read its record).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
import yaml

from _data_helpers import read_rows, write_rows

ROOT = Path(__file__).resolve().parent.parent
SECOND_STUDY = ROOT / "tests" / "fixtures" / "second_study"
SECOND_STUDY_SEED = 11
HTML_FLAGS = ["--warningiserror", "--nitpick", "--keep-going"]
LATEX_FLAGS = ["--warningiserror", "--keep-going"]
SOURCE_IGNORE = shutil.ignore_patterns("_build", ".git", ".venv", "__pycache__", ".pytest_cache",
                                       ".hypothesis", "*.egg-info")

#: Hostile free text: HTML, a closing script tag, MyST roles and directives, math, emphasis,
#: LaTeX commands, entities, substitutions and an ANSI escape.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "{download}`/etc/hostname`",
    "{download}`" + "../" * 12 + "etc/hostname`",
    "x\n:::{raw} html\n<script>alert(3)</script>\n:::\n",
    "$x$ and $$y$$",
    "**bold** and _em_",
    "\\textbf{x} \\input{/etc/passwd}",
    "\x1b[31mred\x1b[0m",
    "&lt;b&gt; &amp; {{ sub }} [link](javascript:alert(4))",
]


def shown(text: str) -> str:
    """How the reader must see ``text``: literally, control characters as their escapes."""
    return text.replace("\x1b", "\\x1b").replace("\n", "\\n")


def mbpm_cli(*args: str | Path, cwd: Path | None = None) -> None:
    """``python -m mbpm ARGS`` in a new process with this checkout's package."""
    subprocess.run([sys.executable, "-m", "mbpm", *map(str, args)], check=True, cwd=cwd,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def simulate_second_study(out: Path) -> Path:
    """The second study's folder as tests/test_second_study.py simulates it (same seed)."""
    mbpm_cli("simulate", out, "--seed", str(SECOND_STUDY_SEED), "--study",
             SECOND_STUDY / "study.yml", "--params", SECOND_STUDY / "simulation.yml")
    return out


def plant_hostile_text(folder: Path) -> dict[str, set[str]]:
    """Put a payload in every free-text field of a simulated folder: ``pain_condition`` and
    ``withdrawal_reason`` of participants.csv, the exclusion reasons of screening.csv and the
    generator version of the SIMULATED marker.

    Returns the texts each page must show: the pain conditions on baseline.html (Table 1), the
    exclusion and withdrawal reasons on methods.html (CONSORT diagram) and data.html (flow table).
    """
    rows = read_rows(folder / "participants.csv")
    head = rows[0]
    cond, done, why = (head.index(c) for c in ("pain_condition", "completed_week8", "withdrawal_reason"))
    patients = [r for r in rows[1:] if r[cond]]
    for k, r in enumerate(patients):
        r[cond] = PAYLOADS[k % len(PAYLOADS)]
    reasons = set()
    for k, r in enumerate(r for r in patients if r[done] == "no"):
        r[why] = PAYLOADS[(k + 3) % len(PAYLOADS)]
        reasons.add(r[why])
    write_rows(folder / "participants.csv", rows)
    screening = read_rows(folder / "screening.csv")
    for k, r in enumerate(r for r in screening[1:] if r[0] == "excluded"):
        r[1] = PAYLOADS[(k + 1) % len(PAYLOADS)] + ("" if k < len(PAYLOADS) else f" {k}")
        reasons.add(r[1])
    write_rows(folder / "screening.csv", screening)
    marker = yaml.safe_load((folder / "SIMULATED").read_text(encoding="utf-8"))
    marker["generator_version"] = "1.0 **v** <b>v</b> {download}`/etc/hostname`"
    (folder / "SIMULATED").write_text(yaml.safe_dump(marker), encoding="utf-8")
    flow = {shown(t) for t in reasons}
    return {"baseline.html": {shown(r[cond]) for r in patients}, "methods.html": flow,
            "data.html": flow}


#: The design analysis of the builds that test something else (privacy, hostile text): a short
#: run of the folder's own plan (its study.yml), which those pages' checks do not depend on.
SHORT_DESIGN = {25: 40, 50: 20, 100: 10}


def short_design_run(folder: Path, trials: dict[int, int] = SHORT_DESIGN) -> None:
    """Set ``plan.design_trials`` of the folder's study.yml to ``trials``."""
    import yaml

    path = folder / "study.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["plan"]["design_trials"]["value"] = dict(trials)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def copy_sources(dest: Path) -> Path:
    """A copy of the book's sources (no build output, no venv) to build elsewhere."""
    shutil.copytree(ROOT, dest, ignore=SOURCE_IGNORE)
    return dest


def build(book: Path, data: Path, builder: str) -> subprocess.CompletedProcess[str]:
    """``MBPM_DATA=data jupyter-book build .`` in ``book`` (HTML as strict as ``make book``)."""
    env = {**os.environ, "MBPM_DATA": str(data), "PYTHONPATH": str(book)}
    env.pop("MBPM_CACHE_DIR", None)
    jb = Path(sys.executable).with_name("jupyter-book")
    flags = HTML_FLAGS if builder == "html" else LATEX_FLAGS
    return subprocess.run([str(jb), "build", ".", "--builder", builder, *flags], cwd=book,
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=3600)


@dataclass(frozen=True)
class SharedBuild:
    """The book built from one folder: ``built`` is its ``_build``; per builder, the exit status
    and the whole log; ``shown`` what each page must show literally (see :func:`plant_hostile_text`)."""

    folder: Path
    built: Path
    results: dict[str, tuple[int, str]]
    shown: dict[str, set[str]]


def hostile_second_study_builds(work: Path) -> SharedBuild:
    """The second study simulated, hostile text planted, the book built as HTML, then as LaTeX
    (the LaTeX build re-uses the HTML build's execution cache: the chapters run once)."""
    folder = simulate_second_study(work / "data")
    texts = plant_hostile_text(folder)
    book = copy_sources(work / "book")
    results = {}
    for builder in ("html", "latex"):
        done = build(book, folder, builder)  # --keep-going: pages are written even on failure
        results[builder] = (done.returncode, done.stdout + done.stderr)
    return SharedBuild(folder, book / "_build", results, texts)


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str,
                make: Callable[[Path], SharedBuild]) -> SharedBuild:
    """``make(folder)`` once per test run, also when pytest-xdist runs it on several workers.

    The workers of one run share the parent of their temporary folders; the first worker to
    get the lock there builds and writes a record (JSON), the others wait for the lock and read
    it. Without xdist, the run's own temporary folder is used.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    record = root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            made = make(root / name)
            record.write_text(json.dumps(asdict(made), default=_as_json), encoding="utf-8")
    stored = json.loads(record.read_text(encoding="utf-8"))
    return SharedBuild(folder=Path(stored["folder"]), built=Path(stored["built"]),
                       results={k: (status, log) for k, (status, log) in stored["results"].items()},
                       shown={page: set(texts) for page, texts in stored["shown"].items()})


def _as_json(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON: {value!r}")
