"""Command line: ``python -m mbpm simulate|validate|export|design|privacy-scan`` (``--help`` on each).

Every command error is one line ``error: ...`` on stderr and exit status 1, never a traceback:
:func:`main` turns the package's errors (:class:`~mbpm.errors.DataError`,
:class:`~mbpm.errors.PlateFitError`) and the operating system's (``OSError``: a file in the
way, no permission, a full disk) into that line, once for all commands. Anything else is a bug
of the package: one line ``error: internal error ...`` and exit status 70 (``EX_SOFTWARE``);
``MBPM_TRACEBACK=1`` shows its traceback. Bad arguments are argparse's usage message, status 2.

**Which study.** The package reads one study definition per process
(:func:`mbpm.study.active`), at import, so :func:`main` chooses it before it imports the modules
that read it: ``simulate`` uses ``--study FILE`` (default: the package's ``mbpm/study.yml``) and
writes it into the folder it makes; ``validate`` and ``export`` use the ``study.yml`` of the
folder they are given (the package's if it has none). The arm-size options of ``simulate`` are
those of the chosen definition: ``--n-<arm id>`` for each arm (``--n-mbpm --n-wl --n-hc``).
A definition that breaks the format is one ``error:`` line naming the file and the key.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mbpm import study
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


def _parser(definition: study.Definition) -> argparse.ArgumentParser:
    """The command line; the arm-size options of ``simulate`` are ``definition``'s arms."""
    parser = argparse.ArgumentParser(prog="python -m mbpm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write a simulated data folder")
    simulate.add_argument("out_dir", type=Path)
    simulate.add_argument("--seed", type=int, required=True)
    for arm in definition.arms:
        simulate.add_argument(f"--{arm.size_key.replace('_', '-')}", dest=arm.size_key,
                              type=_positive, default=None, help=f"size of the arm {arm.label}")
    simulate.add_argument("--force", action="store_true",
                          help="replace an existing simulated folder (one with a SIMULATED marker; "
                               "a folder without it is never overwritten)")
    simulate.add_argument("--params", type=Path, default=None,
                          help="simulation.yml to use (default: the shipped one)")
    simulate.add_argument("--study", type=Path, default=None,
                          help="study.yml to simulate (default: the package's, mbpm/study.yml)")

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


def _simulated_study(argv: list[str] | None) -> Path:
    """The ``--study`` of a simulate command line (the package's definition without one)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--study", type=Path, default=None)
    known, _ = pre.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.study or study.DEFAULT_FILE


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors become one line on stderr (module docstring)."""
    try:
        definition = study.load(_simulated_study(argv))
    except study.StudyDefinitionError as err:
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 1
    args = _parser(definition).parse_args(argv)
    try:
        if args.command != "validate":  # validate reports a broken definition (_run)
            study.use(_study_source(args))
        return _run(args)
    except (DataError, PlateFitError, OSError, study.StudyDefinitionError) as err:
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("MBPM_TRACEBACK"):
            raise
        print(f"error: internal error of mbpm ({type(err).__name__}: {visible(err, 200)}); "
              "please report it; MBPM_TRACEBACK=1 shows the traceback", file=sys.stderr)
        return EX_SOFTWARE


def _study_source(args: argparse.Namespace) -> Path:
    """Where the command's definition comes from (module docstring)."""
    if args.command == "simulate":
        return args.study or study.DEFAULT_FILE
    if args.command in ("validate", "export"):
        return args.data_dir if args.data_dir.is_dir() else study.DEFAULT_FILE
    return study.DEFAULT_FILE  # design: the shipped study


def _run(args: argparse.Namespace) -> int:
    if args.command == "simulate":
        from mbpm import simulate

        return simulate.cli(args)
    if args.command == "validate":
        try:
            study.use(_study_source(args))
            problem = None
        except study.StudyDefinitionError as err:
            problem = str(err)
        from mbpm import io

        return io.validate_cli(args.data_dir, problem=problem)
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
