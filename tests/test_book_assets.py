"""The book's Sphinx extension: the execution cache follows mbpm/, the data and the lock."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chapters" / "_ext"))
import book_assets  # noqa: E402


@pytest.fixture
def book(tmp_path, monkeypatch):
    root = tmp_path / "book"
    (root / "mbpm").mkdir(parents=True)
    (root / "mbpm" / "stats.py").write_text("x = 1\n")
    (root / "requirements-lock.txt").write_text("pandas==3.1.1\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "participants.csv").write_text("participant_id\nP001\n")
    monkeypatch.setenv("MBPM_DATA", str(data))
    cache = root / "_build" / ".jupyter_cache"
    return SimpleNamespace(root=root, data=data, cache=cache)


def fill(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "executed.ipynb").write_text("{}")


@pytest.mark.parametrize("edit", [
    lambda b: (b.root / "mbpm" / "stats.py").write_text("x = 2\n"),
    lambda b: (b.data / "participants.csv").write_text("participant_id\nP002\n"),
    lambda b: (b.data / "extra.csv").write_text("a\n"),
    lambda b: (b.root / "requirements-lock.txt").write_text("pandas==3.1.2\n"),
])
def test_cache_is_emptied_when_an_input_changes(book, edit):
    assert book_assets.invalidate_stale_cache(book.root, book.cache)  # first build
    fill(book.cache)
    assert not book_assets.invalidate_stale_cache(book.root, book.cache)
    assert (book.cache / "executed.ipynb").exists()  # nothing changed: cache kept
    edit(book)
    assert book_assets.invalidate_stale_cache(book.root, book.cache)
    assert not book.cache.exists()


def test_every_page_is_reread_after_a_change():
    env = SimpleNamespace(found_docs={"chapters/b", "chapters/a"})
    changed = SimpleNamespace(mbpm_inputs_changed=True, env=env)
    same = SimpleNamespace(mbpm_inputs_changed=False, env=env)
    assert book_assets.reread_all_if_inputs_changed(changed, env, set(), set(), set()) == [
        "chapters/a", "chapters/b"]
    assert book_assets.reread_all_if_inputs_changed(same, env, set(), set(), set()) == []
