"""mbpm.provenance: checksums against the FIPS test vector and coreutils, lock parsing, git
states (clean, dirty, none), build dates in UTC."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from mbpm import provenance

# FIPS 180-2, appendix B.1: SHA-256("abc").
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
# SHA-256 of the empty string (FIPS 180-4 examples; also `sha256sum /dev/null`).
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "plates").mkdir()
    (tmp_path / "a.csv").write_bytes(b"abc")
    (tmp_path / "B.csv").write_bytes(b"")  # upper case sorts first in byte order
    (tmp_path / "plates" / "p_01.csv").write_bytes(b"1,2\n3,4\n")
    return tmp_path


def test_file_digests_match_the_published_vectors(folder: Path):
    table = provenance.file_checksums(folder)
    assert table["file"].tolist() == ["B.csv", "a.csv", "plates/p_01.csv"]
    assert table["bytes"].tolist() == [0, 3, 8]
    assert table["sha256"].tolist()[:2] == [SHA256_EMPTY, SHA256_ABC]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum missing")
def test_folder_checksum_is_the_sha256sum_pipeline(folder: Path):
    # The command the provenance chapter tells readers to run.
    expected = subprocess.run(
        "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs sha256sum | sha256sum",
        shell=True, cwd=folder, check=True, capture_output=True, text=True).stdout.split()[0]
    assert provenance.folder_checksum(provenance.file_checksums(folder)) == expected


def test_folder_checksum_moves_with_a_byte(folder: Path):
    before = provenance.folder_checksum(provenance.file_checksums(folder))
    (folder / "a.csv").write_bytes(b"abd")
    assert provenance.folder_checksum(provenance.file_checksums(folder)) != before


def test_checksum_table_splits_the_digest_in_two_halves(folder: Path):
    shown = provenance.checksum_table(folder)["sha256"].tolist()[1]
    assert shown == SHA256_ABC[:32] + " " + SHA256_ABC[32:]


def test_data_facts_of_a_simulated_and_of_a_real_folder(folder: Path):
    real = provenance.data_facts(folder)
    assert real["name"] == folder.name and real["files"] == 3
    assert real["simulated"] is False and real["seed"] is None
    (folder / "SIMULATED").write_text("seed: 7\ngenerator_version: '1.0'\n")
    simulated = provenance.data_facts(folder)
    assert (simulated["simulated"], simulated["seed"], simulated["generator_version"]) == (True, 7, "1.0")
    assert simulated["checksum"] != real["checksum"]


def test_lock_parsing(tmp_path: Path):
    lock = tmp_path / "lock.txt"
    lock.write_text("# comment\nFoo_Bar.baz==1.2.3\nnumpy == 2.0 ; python_version>'3'\n"
                    "mbpm @ file:///x\n-e .\n")
    assert provenance.locked_versions(lock) == {"foo-bar-baz": "1.2.3", "numpy": "2.0"}


def test_package_table_compares_installed_with_the_lock(tmp_path: Path):
    lock = tmp_path / "lock.txt"
    lock.write_text("numpy==0.0.1\n")
    table = provenance.package_table(("numpy", "surely-not-installed-mbpm-xyz"), lock).set_index("package")
    assert table.loc["numpy", "locked"] == "0.0.1" and table.loc["numpy", "matches"] == "no"
    assert table.loc["surely-not-installed-mbpm-xyz", "installed"] == provenance.NOT_INSTALLED
    assert table.loc["surely-not-installed-mbpm-xyz", "locked"] == provenance.NOT_LOCKED


def test_the_venv_matches_the_real_lock():
    # `make env` installs requirements-lock.txt: every key package must be the pinned version.
    table = provenance.package_table()
    assert (table["matches"] == "yes").all(), table[table["matches"] != "yes"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git missing")
def test_git_commit_clean_dirty_and_absent(tmp_path: Path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "x.txt").write_text("1\n")
    git(repo, "add", "x.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = git(repo, "log", "-1", "--format=%H")
    assert provenance.git_commit(repo) == head and len(head) == 40
    (repo / "x.txt").write_text("2\n")
    assert provenance.git_commit(repo) == f"{head} (dirty)"
    assert provenance.git_commit(tmp_path / "elsewhere").startswith("unknown")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no git on PATH at all
    assert provenance.git_commit(repo).startswith("unknown")


def test_build_date_is_utc(monkeypatch):
    berlin_summer = dt.datetime(2024, 7, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert provenance.build_date(berlin_summer) == "2024-07-01 12:30 UTC"
    # 1_700_000_000 s after the epoch is 2023-11-14T22:13:20Z.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert provenance.build_date() == "2023-11-14 22:13 UTC"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    now = dt.datetime.now(dt.UTC)
    assert provenance.build_date()[:10] in {now.strftime("%Y-%m-%d"),
                                            (now + dt.timedelta(minutes=1)).strftime("%Y-%m-%d")}
