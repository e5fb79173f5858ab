"""Command line: ``python -m mbpm simulate|validate|export|design|privacy-scan`` (``--help`` on each).

Every command error is one line ``error: ...`` on stderr and exit status 1, never a traceback:
:func:`main` turns the package's errors (:class:`~mbpm.errors.DataError`,
:class:`~mbpm.errors.PlateFitError`) and the operating system's (``OSError``: a file in the
way, no permission, a full disk) into that line, once for all commands. Anything else is a bug
of the package: one line ``error: internal error ...`` and exit status 70 (``EX_SOFTWARE``);
``MBPM_TRACEBACK=1`` shows its traceback. Bad arguments are argparse's usage message, status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mbpm.errors import DataError, PlateFitError
from mbpm.literal import visible

#: Exit status of an unexpected exception (a bug): ``EX_SOFTWARE`` of BSD sysexits.h.
EX_SOFTWARE = 70


def _positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {visible(text, 60)!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def error_line(err: BaseException) -> str:
    """The one line a command prints for ``err`` (without the ``error: `` prefix)."""
    if isinstance(err, OSError) and err.strerror:
        where = f"{err.filename}: " if err.filename else ""
        return visible(f"{where}{err.strerror}")
    return visible(str(err) or type(err).__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mbpm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write a simulated data folder")
    simulate.add_argument("out_dir", type=Path)
    simulate.add_argument("--seed", type=int, required=True)
    simulate.add_argument("--n-mbpm", type=_positive, default=None, help="patients in the MBPM arm")
    simulate.add_argument("--n-wl", type=_positive, default=None, help="patients on the wait-list")
    simulate.add_argument("--n-hc", type=_positive, default=None, help="healthy controls")
    simulate.add_argument("--force", action="store_true",
                          help="replace an existing simulated folder (one with a SIMULATED marker; "
                               "a folder without it is never overwritten)")
    simulate.add_argument("--params", type=Path, default=None,
                          help="simulation.yml to use (default: the shipped one)")

    validate = commands.add_parser("validate", help="check a data folder against the contract")
    validate.add_argument("data_dir", type=Path)

    export = commands.add_parser("export", help="write scores.csv, biomarkers.csv, results.csv")
    export.add_argument("data_dir", type=Path)
    export.add_argument("out_dir", type=Path)

    scan = commands.add_parser("privacy-scan", help="search a built site for a folder's participant IDs "
                               "and free text (mbpm.privacy.scan); 0 only when none")
    scan.add_argument("site", type=Path, help="the built site, e.g. _build/html")
    scan.add_argument("data_dir", type=Path)

    design = commands.add_parser("design", help="power simulation of the claims (whole pipeline)")
    design.add_argument("--trials", type=_positive, default=1000, help="trials per size")
    design.add_argument("--sizes", type=_positive, nargs="+", default=[25, 50, 100],
                        help="patients per arm")
    design.add_argument("--seed", type=int, default=None, help="root seed")
    design.add_argument("--workers", type=_positive, default=None, help="processes (default: CPUs)")
    design.add_argument("--out", type=Path, default=None, help="write the per-trial CSV here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become one line on stderr (module docstring)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (DataError, PlateFitError, OSError) as err:
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("MBPM_TRACEBACK"):
            raise
        print(f"error: internal error of mbpm ({type(err).__name__}: {visible(err, 200)}); "
              "please report it; MBPM_TRACEBACK=1 shows the traceback", file=sys.stderr)
        return EX_SOFTWARE


def _run(args: argparse.Namespace) -> int:
    if args.command == "simulate":
        from mbpm import simulate

        return simulate.cli(args)
    if args.command == "validate":
        from mbpm import io

        return io.validate_cli(args.data_dir)
    if args.command == "privacy-scan":
        from mbpm import privacy

        return privacy.scan_cli(args.site, args.data_dir)
    if args.command == "design":
        from mbpm import design

        return design.cli(args)
    from mbpm import export

    return export.cli(args.data_dir, args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
