"""The ``kpilab`` command line: a thin wrapper over the package.

Each sub-command lives in its own module under :mod:`kpilab.commands` and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Every command prints what it wrote and exits non-zero with a one-line reason
on bad input (any :class:`~kpilab.errors.KpilabError`).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
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


def _peek(mod_name: str) -> tuple[str, str] | None:
    """``(NAME, HELP)`` of a command module read from its source, without importing it.

    None when the module does not exist (a command not built yet). When the two are not plain
    string literals the module is imported to read them.
    """
    try:
        spec = importlib.util.find_spec(mod_name)
    except ModuleNotFoundError:
        return None
    if spec is None:
        return None
    found: dict[str, str] = {}
    try:
        tree = ast.parse(spec.loader.get_source(mod_name) or "")  # type: ignore[union-attr]
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id in ("NAME", "HELP"):
                value = ast.literal_eval(node.value)
                if isinstance(value, str):
                    found[node.targets[0].id] = value
    except (AttributeError, ImportError, SyntaxError, ValueError):
        found = {}
    if len(found) < 2:
        mod = importlib.import_module(mod_name)
        return mod.NAME, mod.HELP
    return found["NAME"], found["HELP"]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``kpilab`` argument parser with one sub-command per module in :data:`COMMAND_MODULES`.

    With ``command`` (a sub-command name) only that command's module is imported and given its
    arguments; the others are listed (name and help, read from their source) but not imported, so
    ``kpilab --help`` and ``kpilab panel`` do not pay for the plotting, statistics and learning
    libraries other commands use. Without it every module is imported (the complete parser).
    """
    parser = argparse.ArgumentParser(
        prog="kpilab",
        description="Design, calibrate and audit customer-service KPI systems.",
    )
    parser.add_argument("--version", action="version", version=f"kpilab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in COMMAND_MODULES:
        if command is not None:
            info = _peek(mod_name)
            if info is None:  # command not built yet
                continue
            if info[0] != command:
                sub.add_parser(info[0], help=info[1], description=info[1])
                continue
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


def _command_word(argv: Sequence[str]) -> str:
    """The sub-command named on the command line ('' when none): the first word not starting with '-'."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 on success; 2 with a one-line reason on a :class:`~kpilab.errors.KpilabError`
    (or an unwritable output); a closed output pipe (``kpilab ... | head``)
    ends quietly with status 0.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(argv))
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


def console() -> None:
    """Entry point of the ``kpilab`` script: :func:`main`, then a quick end of the process.

    Once a command has returned, its files are written and closed; what remains of a normal exit is
    the interpreter freeing every module (pandas, pyarrow, DuckDB, scipy), 0.15-0.3 s that a user waits
    for after the work is done. The script therefore runs the exit handlers itself (temporary folders,
    logging, a Spark session), flushes the standard streams and ends the process. When another
    non-daemon thread still runs, the interpreter's own exit (which waits for it) is kept. Library
    and test callers of :func:`main` are unaffected.
    """
    import atexit
    import os
    import threading

    status = main()
    if any(t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (kpilab ... | head): nothing left to show
            pass
    os._exit(status)


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
    console()
