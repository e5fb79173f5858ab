"""Fuzz the command line: broken files through every file of a small folder never raise.

Each example copies a small simulated folder and damages one of its files (any of them: the four
CSV files, a plate grid, the SIMULATED marker, simulation.yml) by truncation, random bytes, a huge
value in a cell, or a re-encoding as Latin-1 or UTF-16. ``python -m mbpm validate`` (in process,
through :func:`mbpm.__main__.main`) must return 0 or 1 without raising; every error is one line;
a folder that validates must also ``export`` (status 0), for a few of the examples (export runs
the whole analysis, seconds each). Bounded to about a minute.
"""

from __future__ import annotations

import contextlib
import io as _io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _data_helpers import digests, write_small
from mbpm.__main__ import main

pytestmark = pytest.mark.slow

EXPORTS = {"left": 4}  # exports to run (of folders that validate), across all examples

huge = st.sampled_from(["1e308", "-1e308", "1e309", "inf", "-inf", "nan", "9" * 400,
                        "x" * 20_000, "1e-320", "0x1F", "\x1b[31m", "=cmd|' /C calc'!A0", "\x00"])
damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("bytes"), st.floats(0, 1), st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("cell"), st.integers(0, 10_000), st.integers(0, 300), huge),
    st.tuples(st.just("encoding"), st.sampled_from(["latin-1", "utf-16"])),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small(tmp_path_factory.mktemp("fuzz") / "data", seed=5)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _damage(path: Path, how: tuple) -> None:
    data = path.read_bytes()
    kind = how[0]
    if kind == "truncate":
        path.write_bytes(data[: int(how[1] * len(data))])
    elif kind == "bytes":
        at = int(how[1] * len(data))
        path.write_bytes(data[:at] + how[2] + data[at + len(how[2]):])
    elif kind == "cell":
        lines = data.decode("utf-8").split("\n")
        i = how[1] % len(lines)
        cells = lines[i].split(",")
        cells[how[2] % len(cells)] = how[3]
        lines[i] = ",".join(cells)
        path.write_bytes("\n".join(lines).encode("utf-8"))
    else:  # the same text in another encoding, with a non-ASCII letter so Latin-1 differs too
        text = data.decode("utf-8").replace("\n", "\u00e9\n", 1)
        path.write_bytes(text.encode(how[1], errors="replace"))  # study.yml has β: "?" in Latin-1


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(which=st.integers(0, 1000), how=damage)
def test_validate_and_export_never_raise(small: Path, which: int, how: tuple) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(small, folder)
        files = _files(folder)
        _damage(folder / files[which % len(files)], how)
        before = digests(folder)
        status, out, err = _run("validate", str(folder))
        assert status in (0, 1), (status, err)
        assert not err, err
        assert digests(folder) == before
        if status == 0 and EXPORTS["left"] > 0:
            EXPORTS["left"] -= 1
            status, _, err = _run("export", str(folder), str(Path(tmp) / "out"))
            assert status == 0, f"validate accepted the folder but export failed: {err}"
        elif status == 1:
            assert "ERROR" in out and "internal error" not in out
