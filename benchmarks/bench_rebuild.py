"""The author's loop (issue 15): after an edit to one chapter's code, how long the HTML rebuild
takes and which chapters it executes again; and that an edit to ``mbpm/`` executes every chapter.

Run from the book's root: ``python benchmarks/bench_rebuild.py [--chapter biomarkers]
[--repeats 3]``. The book's tracked files are copied to a temporary folder and built once
(not timed); then, ``--repeats`` times, a comment line is added to the chapter's last code
cell (its code changes, so jupyter-cache must execute it again) and the rebuild is timed.
Last, one comment is added to ``mbpm/tables.py`` and the chapters executed by that rebuild are
counted (all of them: the book's inputs fingerprint empties the cache). Prints the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = os.environ.get("JB", str(Path(sys.executable).with_name("jupyter-book")))
EXECUTED = re.compile(r"\[book_assets\] executed (\S+) in|(\S+\.md): Executing notebook using")


def copy_book(target: Path) -> None:
    """The files git tracks (and the working tree's edits of them) into ``target``."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def cpu_seconds_of_children() -> float:
    """User + system CPU seconds of this process's finished children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(book: Path) -> tuple[float, list[str]]:
    """Seconds of one HTML build of ``book`` and the chapters it executed; prints the build's
    CPU seconds too (Sphinx and the kernels), which another job on the machine changes less
    than the wall time."""
    env = {**os.environ, "PYTHONPATH": str(book)}
    env.pop("MBPM_CACHE_DIR", None)
    start, cpu = time.perf_counter(), cpu_seconds_of_children()
    out = subprocess.run([JUPYTER_BOOK, "build", str(book), "--builder", "html", "-W", "-n",
                          "--keep-going"], cwd=book, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    print(f"  (build: {seconds:.1f} s wall, {cpu_seconds_of_children() - cpu:.1f} s CPU)", flush=True)
    if out.returncode != 0:
        raise SystemExit(f"build failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    executed = sorted({Path(a or b).stem for a, b in EXECUTED.findall(out.stdout + out.stderr)})
    return seconds, executed


def edit_last_code_cell(path: Path, note: str) -> None:
    """Add the comment ``# note`` as the last line of the last code cell of ``path``."""
    text = path.read_text(encoding="utf-8")
    start = text.rindex("```{code-cell}")
    end = text.index("\n```", start)
    path.write_text(text[:end] + f"\n# {note}" + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="biomarkers")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mbpm-rebuild-") as folder:
        book = Path(folder) / "book"
        copy_book(book)
        first, _ = build(book)
        print(f"first (cold) build: {first:.1f} s; load average {os.getloadavg()[0]:.2f}")
        times = []
        for i in range(args.repeats):
            edit_last_code_cell(book / "chapters" / f"{args.chapter}.md", f"benchmark edit {i}")
            seconds, executed = build(book)
            times.append(seconds)
            print(f"edit {i + 1} of {args.chapter}: {seconds:.1f} s, executed {executed}; "
                  f"load average {os.getloadavg()[0]:.2f}", flush=True)
        median = statistics.median(times)
        print(f"rebuild after a code edit of {args.chapter}: median {median:.1f} s")
        tables = book / "mbpm" / "tables.py"
        tables.write_text(tables.read_text() + "\n# benchmark edit\n")
        seconds, executed = build(book)
        print(f"after an edit to mbpm/tables.py: {seconds:.1f} s, executed {len(executed)} "
              f"chapters: {executed}")


if __name__ == "__main__":
    main()
