"""The ``kpilab`` command line: a thin wrapper over the package.

Each sub-command lives in its own module under :mod:`kpilab.commands` and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Every command prints what it wrote and exits non-zero with a one-line reason
on bad input (any :class:`~kpilab.errors.KpilabError`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kpilab import __version__
from kpilab.errors import KpilabError

# Order is the order of ``kpilab --help``.
COMMAND_MODULES = [
    "kpilab.commands.simulate",
    "kpilab.commands.framework",
    "kpilab.commands.panel",
    "kpilab.commands.health",
    "kpilab.commands.weights",
    "kpilab.commands.run",
]


def build_parser() -> argparse.ArgumentParser:
    """The ``kpilab`` argument parser with one sub-command per module in :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="kpilab",
        description="Design, calibrate and audit customer-service KPI systems.",
    )
    parser.add_argument("--version", action="version", version=f"kpilab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:  # command not built yet
                continue
            raise
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line reason on a KpilabError)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KpilabError as exc:
        print(f"kpilab {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
