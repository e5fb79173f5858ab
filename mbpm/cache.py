"""An opt-in disk cache for the expensive, deterministic steps (loading a study, the full plan).

Every chapter of the book loads the same data folder and runs the same plan; computing them once
per build keeps the build fast. The cache is used only when ``MBPM_CACHE_DIR`` names a folder
(the book's Sphinx extension sets it to ``_build/.mbpm_cache``); otherwise every call computes.

A cached value is found by a SHA-256 key over everything it depends on:

* the caller's own key (the bytes of the data folder, or the content of the tables passed in);
* the source files of the ``mbpm`` package (:func:`code_digest`), so a code change never serves
  an old result;
* the Python version and the installed versions of every package ``mbpm`` depends on
  (:func:`environment_digest`), so after ``make lock`` upgrades scipy or statsmodels the results
  are computed again by the new versions.

Entries written under another code or environment digest can never be served again: the first
write after such a change deletes them, and at most :data:`MAX_ENTRIES` entries per name are kept
(the oldest go first). The book's extension empties the whole folder whenever it empties the
execution cache.

The book executes two chapters at a time, and both may need the same entry before it exists:
while one process computes an entry, another that asks for the same key waits for it (a lock
file beside the entry, ``fcntl.flock``) and then reads it, instead of computing it too.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import pandas as pd

ENV = "MBPM_CACHE_DIR"
#: Entries kept per name (``study``, ``results``): a few data folders' worth.
MAX_ENTRIES = 8
T = TypeVar("T")


def folder_digest(folder: Path) -> str:
    """SHA-256 over the relative names and bytes of every file below ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Digest of the mbpm package's own files (code, tables, parameters)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def dependency_names() -> list[str]:
    """The distributions ``mbpm`` declares as dependencies (its installed metadata), sorted."""
    try:
        requires = metadata.requires("mbpm") or []
    except metadata.PackageNotFoundError:
        return []
    names = {re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r}
    return sorted(n for n in names if n)


def installed_versions() -> dict[str, str]:
    """``{distribution: installed version}`` of :func:`dependency_names`."""
    versions = {}
    for name in dependency_names():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@lru_cache(maxsize=1)
def environment_digest() -> str:
    """Digest of the Python version and :func:`installed_versions` (what computes the numbers)."""
    described = [platform.python_version(), *(f"{k}=={v}" for k, v in installed_versions().items())]
    return hashlib.sha256("\n".join(described).encode()).hexdigest()


def frames_digest(frames: Iterable[pd.DataFrame]) -> str:
    """Digest of the content (values, index, column names) of some DataFrames."""
    import pandas as pd  # here: the book build's fingerprint (book_assets) needs no pandas

    digest = hashlib.sha256()
    for frame in frames:
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _stamp() -> str:
    """What every entry of this process depends on: mbpm's code and the environment."""
    return hashlib.sha256(f"{code_digest()}|{environment_digest()}".encode()).hexdigest()[:12]


def _prune(folder: Path, name: str, stamp: str) -> None:
    """Delete entries of other stamps (never served again) and all but the newest
    :data:`MAX_ENTRIES` of ``name``."""
    for path in [*folder.glob("*.pickle"), *folder.glob("*.lock")]:
        if path.stem.split("-")[1:2] != [stamp]:
            path.unlink(missing_ok=True)
    mine = sorted(folder.glob(f"{name}-{stamp}-*.pickle"), key=lambda p: p.stat().st_mtime,
                  reverse=True)
    for path in mine[MAX_ENTRIES:]:
        path.unlink(missing_ok=True)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if missing) while inside; where
    ``fcntl`` is missing (Windows) no lock is taken: a second process then computes too."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached(name: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or its stored result for ``key`` when ``MBPM_CACHE_DIR`` is set.

    One process computes a missing entry; others asking for it meanwhile wait and read it."""
    folder = os.environ.get(ENV)
    if not folder:
        return compute()
    stamp = _stamp()
    full_key = hashlib.sha256(f"{name}|{key}|{stamp}".encode()).hexdigest()[:24]
    path = Path(folder) / f"{name}-{stamp}-{full_key}.pickle"
    if path.exists():
        with path.open("rb") as stored:
            return pickle.load(stored)
    with _exclusive(path.with_suffix(".lock")):
        if path.exists():  # computed by another process while this one waited
            with path.open("rb") as stored:
                return pickle.load(stored)
        return _compute_and_store(path, name, stamp, compute)


def _compute_and_store(path: Path, name: str, stamp: str, compute: Callable[[], T]) -> T:
    """``compute()``, written atomically to ``path``; then :func:`_prune`."""
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as out:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(out.name, path)  # atomic: a reader never sees half a file
    _prune(path.parent, name, stamp)
    return value


def clear(folder: str | os.PathLike[str]) -> None:
    """Remove the cache folder and everything in it (a missing folder is fine)."""
    shutil.rmtree(folder, ignore_errors=True)
