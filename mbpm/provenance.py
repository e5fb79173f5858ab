"""What produced this copy of the book: packages, commit, data folder, seed and build date.

The provenance appendix (``chapters/provenance.md``) shows these facts so that every copy of the
website or PDF says where its numbers came from.

* **Packages**: the installed version (:mod:`importlib.metadata`) of the key packages next to
  the version pinned in ``requirements-lock.txt``.
* **Commit**: ``git rev-parse HEAD`` of the book's folder, marked *dirty* when ``git status
  --porcelain`` lists any change (tracked or untracked, ignored files excepted); a copy without
  git says so instead of failing.
* **Data**: SHA-256 of every file of the data folder, and one checksum of the folder: the
  SHA-256 of the manifest ``"<sha256>  <relative path>\\n"`` per file in byte order of the
  paths, which is exactly what ``sha256sum`` prints, so a reader can check it with::

      cd data && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs sha256sum | sha256sum

* **Build date**: UTC; ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) overrides the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from mbpm import io

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-lock.txt"
#: The packages that decide what the book computes and how it is built.
KEY_PACKAGES = (
    "numpy", "pandas", "scipy", "statsmodels", "pingouin", "altair", "vl-convert-python",
    "jupyter-book", "sphinx", "myst-nb", "sphinxcontrib-bibtex",
)
NOT_INSTALLED = "not installed"
NOT_LOCKED = "not in the lock"


def normalise(name: str) -> str:
    """PEP 503 normal form of a distribution name (``Foo_bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a pip lock file."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def installed_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``"not installed"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def package_table(packages: tuple[str, ...] = KEY_PACKAGES, lock: Path = LOCK) -> pd.DataFrame:
    """One row per package: ``package``, ``installed``, ``locked``, ``matches`` (yes/no)."""
    pins = locked_versions(lock) if lock.is_file() else {}
    rows = []
    for name in packages:
        installed = installed_version(name)
        locked = pins.get(normalise(name), NOT_LOCKED)
        rows.append({"package": name, "installed": installed, "locked": locked,
                     "matches": "yes" if installed == locked else "no"})
    return pd.DataFrame(rows)


def git_commit(root: Path = ROOT) -> str:
    """``HEAD``'s full hash, plus ``" (dirty)"`` with uncommitted changes; a note without git."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not built from a git checkout)"
    return f"{head} (dirty)" if status.strip() else head


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(folder: Path) -> pd.DataFrame:
    """Every file under ``folder``: ``file`` (relative POSIX path), ``bytes``, ``sha256``.

    Sorted by the path's bytes (the order of ``LC_ALL=C sort``).
    """
    files = sorted((p for p in folder.rglob("*") if p.is_file()),
                   key=lambda p: p.relative_to(folder).as_posix().encode())
    return pd.DataFrame(
        [{"file": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size,
          "sha256": sha256_file(p)} for p in files],
        columns=["file", "bytes", "sha256"],
    )


def folder_checksum(checksums: pd.DataFrame) -> str:
    """SHA-256 of the ``sha256sum`` manifest of :func:`file_checksums` (see module docstring)."""
    manifest = "".join(f"{row.sha256}  {row.file}\n" for row in checksums.itertuples())
    return hashlib.sha256(manifest.encode()).hexdigest()


def checksum_table(folder: Path) -> pd.DataFrame:
    """:func:`file_checksums` for display: each SHA-256 as two halves of 32 hex digits, so the
    PDF can wrap it inside a table column (a 64-digit word would run off the page)."""
    table = file_checksums(folder)
    return table.assign(sha256=[f"{h[:32]} {h[32:]}" for h in table["sha256"]])


def build_date(now: dt.datetime | None = None) -> str:
    """The build time in UTC, ``YYYY-MM-DD HH:MM UTC``; ``$SOURCE_DATE_EPOCH`` wins if set."""
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        now = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch
               else dt.datetime.now(dt.UTC))
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def data_facts(folder: Path | None = None) -> dict[str, object]:
    """The data folder's ``name``, ``files`` (count), ``checksum``, ``simulated``, ``seed``,
    ``generator_version`` (the last two None for a real export)."""
    folder = io.data_dir(folder)
    checksums = file_checksums(folder)
    marker = io.read_simulation_marker(folder) or {}
    return {
        "name": folder.name,
        "files": len(checksums),
        "checksum": folder_checksum(checksums),
        "simulated": bool(marker),
        "seed": marker.get("seed"),
        "generator_version": marker.get("generator_version"),
    }


#: Glue names of the provenance chapter that change with every build by design (the chapter's
#: cell that glues them is tagged ``nbval-ignore-output``; the determinism check skips them).
VOLATILE_GLUE = ("prov_build_date", "prov_commit")
