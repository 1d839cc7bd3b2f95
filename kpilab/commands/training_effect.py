"""``kpilab training-effect --panel FILE --indicator CODE --training FILE --out DIR``: DiD training effect."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "training-effect"
HELP = (
    "Effect of training on an indicator (difference in differences for staggered cohorts: "
    "Callaway-Sant'Anna and imputation ATTs beside the naive TWFE, event study with a pre-trend test, "
    "the three evaluation stages)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--panel", required=True, help="long panel with agent rows (.csv or .parquet), e.g. weekly"
    )
    parser.add_argument("--indicator", required=True, help="indicator code of the panel, e.g. qa_score")
    parser.add_argument(
        "--training",
        required=True,
        help="training table (agent_id, course, trained_at, rating) or agents table with trained_at",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder: att.csv, event_study.csv, group_time.csv, "
        "cohorts.csv, stages.csv, accounting.csv, event_study.png",
    )
    parser.add_argument(
        "--period",
        choices=["day", "week", "month", "quarter"],
        help="the panel's period (default: read from its labels)",
    )
    parser.add_argument(
        "--control",
        choices=["never_treated", "not_yet_treated"],
        default="never_treated",
        help="comparison agents (default never_treated; not_yet_treated when every agent was trained)",
    )
    parser.add_argument("--course", help="use only this course of the training table")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kpilab.causal import training_effect
    from kpilab.causal.plots import plot_event_study
    from kpilab.outputs import prepare_output
    from kpilab.plots import save_figure

    target = prepare_output(args.out, kind="dir", inputs=[args.panel, args.training])
    out = Path(args.out)
    res = training_effect(
        args.panel,
        args.training,
        args.indicator,
        period=args.period,
        control=args.control,
        course=args.course,
        level=args.level,
    )
    written = []
    for name, df in (
        ("att", res.att),
        ("event_study", res.event_study),
        ("group_time", res.group_time),
        ("cohorts", res.cohorts),
        ("stages", res.stages),
        ("accounting", res.accounting),
    ):
        path = out / f"{name}.csv"
        df.to_csv(path, index=False)
        written.append(path)
    fig = plot_event_study(res)
    written.append(save_figure(fig, out / "event_study.png"))
    plt.close(fig)
    if target.notice():
        print(f"kpilab training-effect: {target.notice()}")
    print(res.summary())
    for p in written:
        print(f"wrote {p}")
    return 0
