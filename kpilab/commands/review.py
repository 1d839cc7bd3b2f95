"""``kpilab review diff RUN_A RUN_B [--out DIR] [--actions FILE]``: what changed since the previous review."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpilab.errors import ParameterError

NAME = "review"
HELP = ("Quarterly review cycle: 'review diff RUN_A RUN_B' compares two review runs (decisions with their "
        "correlations, parameters, weights, grade migration, tiers, framework, agreed actions).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="review_command", metavar="ACTION")
    d = sub.add_parser("diff", help="compare a review run with the previous one and write the diff/ tables",
                       description="Compare RUN_B (the new review) with RUN_A (the previous one).")
    d.add_argument("run_a", metavar="RUN_A", help="the previous review's run folder")
    d.add_argument("run_b", metavar="RUN_B", help="the new review's run folder")
    d.add_argument("--out", help="folder for summary.json and the tables (default: RUN_B/diff)")
    d.add_argument("--actions", help="actions file agreed at the previous review (default: RUN_B's 'actions' "
                                     "parameter, if any)")


def run(args: argparse.Namespace) -> int:
    from kpilab.outputs import prepare_output
    from kpilab.quarterly import compare_runs, open_run

    if getattr(args, "review_command", None) != "diff":
        raise ParameterError("kpilab review needs an action: kpilab review diff RUN_A RUN_B [--out DIR].")
    run_b = open_run(args.run_b, role="run")  # refuse a non-run before claiming an output folder
    run_a = open_run(args.run_a, role="previous run")
    out = Path(args.out) if args.out else run_b.path / "diff"
    if out.resolve().is_relative_to(run_a.path):
        raise ParameterError(f"--out {out} is inside the previous run {args.run_a}; an earlier run is never "
                             "rewritten. Write into RUN_B or another folder.")
    target = prepare_output(out, kind="dir", inputs=[args.run_a, args.run_b])
    comp = compare_runs(args.run_a, args.run_b, actions=args.actions, out_dir=target.path)
    if target.notice():
        print(target.notice())
    print(comp.summary())
    print(f"wrote {target.path} (summary.json and {len(list(target.path.glob('*.csv')))} tables)")
    return 0
