"""``kpilab health --panel FILE --outcome CODE --out DIR``: the indicator health review."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpilab.framework import load_framework, parse_direction_overrides
from kpilab.health.matrix import MIN_UNITS

NAME = "health"
HELP = "Review which indicators earn their place: outcome correlation, pruning, redundancy, coherence."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--panel", required=True, help="long panel or wide table (.csv or .parquet)")
    parser.add_argument("--outcome", required=True, help="indicator code of the outcome, e.g. retention_rate")
    parser.add_argument("--threshold", type=float, default=0.3, help="minimum |r| with the outcome (default 0.3)")
    parser.add_argument("--method", choices=["spearman", "pearson", "kendall"], default="spearman")
    parser.add_argument("--ci", choices=["fisher", "bootstrap"], default="fisher", help="interval type")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (with --ci bootstrap)")
    parser.add_argument("--unit-of-analysis", "--level", dest="unit_of_analysis", choices=["unit", "row"],
                        default="unit",
                        help="correlate per-unit values pooled over the periods (default) or unit-period rows "
                             "(--level is the old name)")
    parser.add_argument("--unit-level", default=None,
                        help="unit level to review when the panel mixes levels (default: agent)")
    parser.add_argument("--framework", help="framework YAML (default: kpilab's contact-centre framework)")
    parser.add_argument("--direction", action="append", default=[], metavar="CODE=higher|lower",
                        help="add or override an indicator's direction (repeatable)")
    parser.add_argument("--control", action="append", default=[], metavar="CODE",
                        help="mix variable to partial out (repeatable)")
    parser.add_argument("--previous", help="folder (or decisions.csv) of an earlier review, to list changed decisions")
    parser.add_argument("--within-period", action="store_true", help="remove period effects first")
    parser.add_argument("--period-start", default="", help="first period to include, YYYY-MM-DD")
    parser.add_argument("--period-end", default="", help="last period to include, YYYY-MM-DD")
    parser.add_argument("--redundancy-threshold", type=float, default=0.9)
    parser.add_argument("--conflict-threshold", type=float, default=-0.4)
    parser.add_argument("--min-coverage", type=float, default=0.65)
    parser.add_argument("--min-units", "--min-n", dest="min_units", type=int, default=MIN_UNITS,
                        help=f"fewest units any statistic is computed from (default {MIN_UNITS}; --min-n is the old "
                             "name)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    parser.add_argument("--out", required=True, help="output folder")


def run(args: argparse.Namespace) -> int:
    from kpilab.health import health_review
    from kpilab.outputs import prepare_output

    prepare_output(args.out, kind="dir", inputs=[args.panel, args.previous, args.framework])
    fw = load_framework(args.framework)
    review = health_review(
        args.panel,
        args.outcome,
        framework=fw,
        directions=parse_direction_overrides(args.direction),
        threshold=args.threshold,
        method=args.method,
        ci=args.ci,
        n_boot=args.n_boot,
        unit_of_analysis=args.unit_of_analysis,
        within_period=args.within_period,
        controls=args.control or None,
        redundancy_threshold=args.redundancy_threshold,
        conflict_threshold=args.conflict_threshold,
        min_coverage=args.min_coverage,
        min_units=args.min_units,
        confidence=args.confidence,
        period_start=args.period_start or None,
        period_end=args.period_end or None,
        previous=args.previous,
        unit_level=args.unit_level,
        random_state=args.seed,
    )
    paths = review.save(Path(args.out), figures=not args.no_figures)
    c = review.counts()
    print(f"kpilab health: {len(review.decisions)} indicators vs {review.outcome}: keep {c['keep']}, "
          f"review {c['review']}, prune {c['prune']} ({review.n_units} units, unit_of_analysis="
          f"{review.unit_of_analysis}, at least {review.min_units} units per statistic)")
    for check, why in review.not_computed.items():
        print(f"{check}: {why}")
    for p in paths:
        print(f"wrote {p}")
    return 0
