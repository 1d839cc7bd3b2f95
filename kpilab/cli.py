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
    "kpilab.commands.score",
    "kpilab.commands.robustness",
    "kpilab.commands.alerts",
    "kpilab.commands.qa_sample",
    "kpilab.commands.staffing",
    "kpilab.commands.churn",
    "kpilab.commands.review",
    "kpilab.commands.training_effect",
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
    """Run the command line; returns the exit status.

    0 on success; 2 with a one-line reason on a :class:`~kpilab.errors.KpilabError`
    (or an unwritable output); a closed output pipe (``kpilab ... | head``)
    ends quietly with status 0.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        status = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return status
    except KpilabError as exc:
        print(f"kpilab {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except PermissionError as exc:
        print(f"kpilab {args.command}: error: cannot write {exc.filename or 'the output'} "
              f"(permission denied); choose a writable --out.", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor (in-process tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
