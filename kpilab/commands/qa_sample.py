"""``kpilab qa-sample --data DIR --date D --out FILE``: a day's stratified QA sample with HT weights."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "qa-sample"
HELP = "Draw a day's stratified random QA sample (sampling weights, per-agent monthly margins)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder of canonical tables (contacts; qa_reviews, agents)")
    parser.add_argument("--date", required=True, help="day whose answered contacts are sampled (YYYY-MM-DD)")
    parser.add_argument("--rate", type=float, default=0.05, help="share of the day's answered contacts (default 0.05)")
    parser.add_argument("--strata", default="agent,channel",
                        help="comma-separated strata: agent, channel, queue, topic, team, role, site (default "
                             "agent,channel; 'none' for a simple random sample)")
    parser.add_argument("--min-per-agent", type=int, default=2, help="reviews per agent at least (default 2)")
    parser.add_argument("--allocation", choices=["proportional", "neyman"], default="proportional",
                        help="proportional (default) or neyman (by past QA score SD)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    parser.add_argument("--out", required=True, help="sample CSV; the plan and the agents' margins are written "
                                                     "beside it (.plan.csv, .margins.csv)")


def run(args: argparse.Namespace) -> int:
    from kpilab.operations.qa_sampling import qa_sample
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="file", inputs=[args.data], companions=[".plan.csv", ".margins.csv"],
                   protect=[args.data])
    strata = [] if args.strata.strip().lower() == "none" else [s.strip() for s in args.strata.split(",") if s.strip()]
    res = qa_sample(args.data, args.date, rate=args.rate, strata=strata, min_per_agent=args.min_per_agent,
                    allocation=args.allocation, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plan, margins = out.with_suffix(".plan.csv"), out.with_suffix(".margins.csv")
    res.sample.to_csv(out, index=False)
    res.plan.to_csv(plan, index=False)
    res.margins().to_csv(margins, index=False)
    print(f"kpilab qa-sample: {res.summary()}")
    for p in (out, plan, margins):
        print(f"wrote {p}")
    return 0
