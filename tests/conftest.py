"""Shared fixtures. Tests marked ``book`` read the built site in ``_build/`` (``make test``
builds it first; run ``make html`` before calling pytest by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbval_numbers import pytest_configure  # noqa: F401 - numbers within noise, other BLAS

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
PDF = ROOT / "_build" / "pdf" / "mbpm-oxytocin.pdf"


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("the built site is missing: run `make html` (make test does it for you)")
    return HTML


@pytest.fixture(scope="session")
def hostile_second_study(tmp_path_factory: pytest.TempPathFactory):
    """One book built (HTML and LaTeX) from the second study with hostile free text, shared by
    tests/test_injection.py and tests/test_second_study.py, and by the workers of
    ``pytest -n N`` (``make test``): see tests/book_builds.py."""
    import book_builds

    return book_builds.shared_once(tmp_path_factory, "hostile-second-study",
                                   book_builds.hostile_second_study_builds)


#: A chapter whose last execution in the build took longer than this (seconds) runs first.
LONG_CHAPTER_S = 30


def _long_chapters() -> set[str]:
    """The chapters the build took more than :data:`LONG_CHAPTER_S` to execute (its record of
    execution times, ``_build/.execution-seconds.json``; none without a build)."""
    import json

    record = ROOT / "_build" / ".execution-seconds.json"
    seconds = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
    return {Path(doc).name for doc, s in seconds.items() if s > LONG_CHAPTER_S}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files run first: the reference of a chapter that took long to execute (the
    design analysis), those with a test marked both ``book`` and ``slow`` (whole-book builds),
    then those with another ``slow`` test, each file's tests in their order. ``make test`` gives
    each worker whole files in this order (``--dist loadfile --no-loadscope-reorder``): a long
    file started last would keep one worker busy while the other has nothing left to do."""
    long_chapters = _long_chapters()

    def weight(item: pytest.Item) -> int:
        if item.path.suffix == ".ipynb":
            return 4 if item.path.stem in long_chapters else 0
        return 2 * bool(item.get_closest_marker("book")) + 1 if item.get_closest_marker("slow") else 0

    heaviest: dict[Path, int] = {}
    for item in items:
        heaviest[item.path] = max(heaviest.get(item.path, 0), weight(item))
    items.sort(key=lambda item: -heaviest[item.path])
