"""An opt-in disk cache for the expensive, deterministic steps (loading a study, the full plan).

Every chapter of the book loads the same data folder and runs the same plan; computing them once
per build keeps the build fast. The cache is used only when ``MBPM_CACHE_DIR`` names a folder
(the book's Sphinx extension sets it to ``_build/.mbpm_cache``); otherwise every call computes.

A cached value is found by a SHA-256 key over everything it depends on: the source files of the
``mbpm`` package (so a code change never serves an old result) and the caller's own key (the
bytes of the data folder, or the content of the tables passed in).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import pandas as pd

ENV = "MBPM_CACHE_DIR"
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


def frames_digest(frames: Iterable[pd.DataFrame]) -> str:
    """Digest of the content (values, index, column names) of some DataFrames."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def cached(name: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or its stored result for ``key`` when ``MBPM_CACHE_DIR`` is set."""
    folder = os.environ.get(ENV)
    if not folder:
        return compute()
    full_key = hashlib.sha256(f"{name}|{key}|{code_digest()}".encode()).hexdigest()[:24]
    path = Path(folder) / f"{name}-{full_key}.pickle"
    if path.exists():
        with path.open("rb") as stored:
            return pickle.load(stored)
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as out:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(out.name, path)  # atomic: a reader never sees half a file
    return value
