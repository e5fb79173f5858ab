"""Command line: ``python -m mbpm simulate|validate|export|design`` (``--help`` on each)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mbpm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write a simulated data folder")
    simulate.add_argument("out_dir", type=Path)
    simulate.add_argument("--seed", type=int, required=True)
    simulate.add_argument("--n-mbpm", type=int, default=None, help="patients in the MBPM arm")
    simulate.add_argument("--n-wl", type=int, default=None, help="patients on the wait-list")
    simulate.add_argument("--n-hc", type=int, default=None, help="healthy controls")
    simulate.add_argument("--params", type=Path, default=None,
                          help="simulation.yml to use (default: the shipped one)")

    validate = commands.add_parser("validate", help="check a data folder against the contract")
    validate.add_argument("data_dir", type=Path)

    export = commands.add_parser("export", help="write scores.csv, biomarkers.csv, results.csv")
    export.add_argument("data_dir", type=Path)
    export.add_argument("out_dir", type=Path)

    design = commands.add_parser("design", help="power simulation of the claims (whole pipeline)")
    design.add_argument("--trials", type=int, default=1000, help="trials per size")
    design.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100],
                        help="patients per arm")
    design.add_argument("--seed", type=int, default=None, help="root seed")
    design.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    design.add_argument("--out", type=Path, default=None, help="write the per-trial CSV here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulate":
        from mbpm import simulate

        return simulate.cli(args)
    if args.command == "validate":
        from mbpm import io

        return io.validate_cli(args.data_dir)
    if args.command == "design":
        from mbpm import design

        return design.cli(args)
    from mbpm import export

    return export.cli(args.data_dir, args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
