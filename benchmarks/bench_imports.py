"""Per chapter: a kernel's start plus the chapter's imports, as the book's build runs them.

Run: ``python benchmarks/bench_imports.py [--repeats 5] [chapters/x.md ...]`` from the book's root
(with ``PYTHONPATH`` naming it, as for a build).

For each chapter and each repeat, a fresh ``python3`` kernel is started with jupyter_client in
the ``chapters/`` folder, as myst-nb's executor (nbclient) starts one, and then executes

1. every ``import`` / ``from ... import`` statement at the top level of the chapter's code cells
   (what the chapter imports before it computes anything), and
2. ``figures.use()`` when the chapter calls it (its first cell: the book's chart theme).

Printed per chapter, as medians over the repeats (seconds): ``start`` (kernel launched until it
answers), ``imports`` (step 1), ``use`` (step 2), and ``total`` = start + imports + use, the
cost every build pays for that chapter before its own work. The goal is ``total`` <= 1.5 s
(issue 15). The load average is printed too: the machine is shared, so read times with it;
``cpu`` (the kernel process's user + system CPU seconds at the end, from ``getrusage``) does
not grow with the load and is a floor for ``total`` minus the kernel's launch on a quiet machine.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def code_cells(path: Path) -> list[str]:
    """The sources of ``path``'s code cells, without their ``:option:`` lines."""
    cells = CELL.findall(path.read_text(encoding="utf-8"))
    return ["\n".join(line for line in c.splitlines() if not line.startswith(":")) for c in cells]


USE = "figures.use()"


def import_code(cells: list[str]) -> tuple[str, str]:
    """The top-level import statements of all cells (one per line), and ``figures.use()`` if
    a cell calls it (else "")."""
    imports, use = [], ""
    for source in cells:
        for node in ast.parse(source).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.append(ast.unparse(node))
            elif isinstance(node, ast.Expr) and ast.unparse(node) == USE:
                use = USE
    return "\n".join(imports), use


def run(client: object, code: str) -> float:
    """Seconds for ``code`` to execute in the kernel; raises if it fails."""
    start = time.perf_counter()
    quiet = lambda msg: None  # noqa: E731
    reply = client.execute_interactive(code, timeout=120, output_hook=quiet)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code!r} failed: {reply['content'].get('evalue')}")
    return elapsed


CPU = ("import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); "
       "print(_u.ru_utime + _u.ru_stime)")


def cpu_seconds(client: object) -> float:
    """The kernel process's CPU seconds so far."""
    out: list[str] = []
    def keep(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"].get("text", ""))

    client.execute_interactive(CPU, timeout=60, output_hook=keep)  # type: ignore[attr-defined]
    return float("".join(out))


def measure(imports: str, use: str, cwd: Path) -> tuple[float, float, float, float]:
    """(start, imports, use, kernel CPU) seconds in one fresh kernel."""
    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(cwd), startup_timeout=120)
    started = time.perf_counter() - start
    try:
        i = run(client, imports) if imports else 0.0
        u = run(client, use) if use else 0.0
        return started, i, u, cpu_seconds(client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    chapters = args.chapters or sorted(Path("chapters").glob("*.md"))
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; "
          f"medians of {args.repeats}; python {sys.version.split()[0]}")
    print(f"{'chapter':<16}{'start':>7}{'imports':>8}{'use':>6}{'total':>7}{'cpu':>6}")
    totals = []
    for path in chapters:
        imports, use = import_code(code_cells(path))
        if not imports:
            continue
        runs = [measure(imports, use, path.parent) for _ in range(args.repeats)]
        s, i, u, cpu = (statistics.median(r[k] for r in runs) for k in range(4))
        total = statistics.median(sum(r[:3]) for r in runs)
        totals.append(total)
        print(f"{path.stem:<16}{s:>7.2f}{i:>8.2f}{u:>6.2f}{total:>7.2f}{cpu:>6.2f}", flush=True)
    print(f"{'max total':<16}{'':>21}{max(totals):>7.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
